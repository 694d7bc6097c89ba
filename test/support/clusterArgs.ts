/** Arguments for an AksCluster in create mode, shared by the component tests that need a cluster. */
import { AksCreateArgs } from "../../components/aksCluster";

export const pool = (name: string, extra: Partial<AksCreateArgs["systemPool"]> = {}): AksCreateArgs["systemPool"] => ({
    name, vmSize: "Standard_D4s_v5", minCount: 1, maxCount: 3, maxPods: 110, priority: "Regular", taints: [], labels: {}, ...extra,
});

export const createArgs = (extra: Partial<AksCreateArgs> = {}): AksCreateArgs => ({
    mode: "create",
    name: "prod-aks",
    resourceGroupName: "rg-prod",
    location: "westeurope",
    systemPool: pool("system"),
    userPools: [],
    network: { podCidr: "10.244.0.0/16", serviceCidr: "10.0.0.0/16", dnsServiceIp: "10.0.0.10" },
    workloadIdentity: false,
    tags: {},
    ...extra,
});
