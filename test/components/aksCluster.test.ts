/**
 * AksCluster on its own under the cloud mock: what it sends to Azure, and what it takes from Azure's answers.
 */
import assert from "node:assert/strict";
import { AksCluster, oidcOffMessage } from "../../components/aksCluster";
import { CloudMock, secretAt } from "../support/cloud";
import { createArgs, pool } from "../support/clusterArgs";
import { settle, stateOf, useCloud } from "../support/harness";

describe("AksCluster (create)", () => {
    let cloud: CloudMock;
    let cluster: AksCluster;
    const subnet = "/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks";
    const acr = "/subscriptions/1111-2222/resourceGroups/acr/providers/Microsoft.ContainerRegistry/registries/myacr";
    const law = "/subscriptions/1111-2222/resourceGroups/ops/providers/Microsoft.OperationalInsights/workspaces/logs";

    before(async () => {
        cloud = await useCloud();
        cluster = new AksCluster("prod", createArgs({
            kubernetesVersion: "1.31",
            userPools: [
                pool("spot", {
                    priority: "Spot",
                    evictionPolicy: "Deallocate",
                    taints: ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"],
                    labels: { tier: "batch" },
                    minCount: 0,
                    maxCount: 10,
                }),
            ],
            network: { podCidr: "192.168.0.0/16", serviceCidr: "172.16.0.0/16", dnsServiceIp: "172.16.0.10", subnetId: subnet },
            logAnalyticsWorkspaceId: law,
            acrId: acr,
            workloadIdentity: true,
            tags: { team: "platform" },
        }));
        await stateOf(cluster.caCertPem);
        await settle(cloud);
    });

    it("creates the resource group and a cluster with OIDC issuer, RBAC, managed identity", () => {
        assert.equal(cloud.one("azure-native:resources:ResourceGroup").inputs.resourceGroupName, "rg-prod");
        const mc = cloud.one("azure-native:containerservice:ManagedCluster").inputs as Record<string, any>;
        assert.deepEqual(mc.oidcIssuerProfile, { enabled: true });
        assert.equal(mc.enableRBAC, true);
        assert.deepEqual(mc.identity, { type: "SystemAssigned" });
        assert.equal(mc.kubernetesVersion, "1.31");
        assert.deepEqual(mc.securityProfile, { workloadIdentity: { enabled: true } });
        assert.deepEqual(mc.tags, { team: "platform" });
    });

    it("sends Spot priority with its eviction policy, taints and labels; Regular pools carry none", () => {
        const profiles = cloud.one("azure-native:containerservice:ManagedCluster").inputs
            .agentPoolProfiles as Array<Record<string, unknown>>;
        assert.equal(profiles.length, 1, "only the system pool is inline");
        const system = profiles[0];
        const spot = cloud.one("azure-native:containerservice:AgentPool").inputs;
        assert.equal(spot.agentPoolName, "spot");
        assert.equal(spot.resourceName, "prod-aks");
        assert.equal(system.mode, "System");
        assert.equal(system.scaleSetPriority, "Regular");
        assert.equal(system.scaleSetEvictionPolicy, undefined);
        assert.equal(spot.mode, "User");
        assert.equal(spot.scaleSetPriority, "Spot");
        assert.equal(spot.scaleSetEvictionPolicy, "Deallocate");
        assert.equal(spot.spotMaxPrice, -1);
        assert.deepEqual(spot.nodeTaints, ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]);
        assert.deepEqual(spot.nodeLabels, { tier: "batch" });
        assert.equal(spot.minCount, 0);
        assert.equal(spot.maxCount, 10);
        for (const p of [system, spot]) assert.equal(p.vnetSubnetID, subnet);
    });

    it("uses Azure CNI overlay with the configured CIDRs", () => {
        const net = cloud.one("azure-native:containerservice:ManagedCluster").inputs.networkProfile as Record<string, unknown>;
        assert.equal(net.networkPlugin, "azure");
        assert.equal(net.networkPluginMode, "overlay");
        assert.equal(net.podCidr, "192.168.0.0/16");
        assert.equal(net.serviceCidr, "172.16.0.0/16");
        assert.equal(net.dnsServiceIP, "172.16.0.10");
    });

    it("turns on Container Insights and grants the kubelet identity AcrPull on the registry", () => {
        const mc = cloud.one("azure-native:containerservice:ManagedCluster").inputs as Record<string, any>;
        assert.deepEqual(mc.addonProfiles.omsagent, { enabled: true, config: { logAnalyticsWorkspaceResourceID: law } });
        const ra = cloud.one("azure-native:authorization:RoleAssignment").inputs;
        assert.equal(ra.scope, acr);
        assert.equal(
            ra.roleDefinitionId,
            "/subscriptions/1111-2222/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d",
        );
        assert.equal(ra.principalType, "ServicePrincipal");
        assert.match(String(ra.principalId), /^[0-9a-f]{8}-/);
    });

    it("asks Azure for admin credentials of the created cluster only once it exists", () => {
        const creds = cloud.calls.filter((c) => c.token === "azure-native:containerservice:listManagedClusterAdminCredentials");
        assert.deepEqual(creds.map((c) => c.inputs), [{ resourceGroupName: "rg-prod", resourceName: "prod-aks" }]);
    });

    it("outputs the API server URL, PEM CA and issuer from Azure's answers; the kubeconfig as a secret", async () => {
        const facts = cloud.clusters.get("prod-aks");
        assert.ok(facts);
        assert.equal((await stateOf(cluster.apiServerUrl)).value, `https://${facts.fqdn}:443`);
        assert.equal((await stateOf(cluster.caCertPem)).value, facts.caCertPem);
        assert.equal((await stateOf(cluster.oidcIssuerUrl)).value, facts.issuerUrl);
        const kc = await stateOf(cluster.kubeconfig);
        assert.equal(kc.secret, true);
        assert.equal(kc.value, facts.kubeconfig);
    });

    it("builds the Kubernetes provider from the kubeconfig with an identifier that survives credential rotation", () => {
        const p = cloud.one("pulumi:providers:kubernetes");
        assert.equal(p.inputs.clusterIdentifier, "rg-prod/prod-aks");
        assert.equal(secretAt(p.rawInputs, "kubeconfig").secret, true);
    });
});

describe("AksCluster (adopt)", () => {
    it("adopts an existing cluster and takes its issuer, server and CA from Azure", async () => {
        const cloud = await useCloud({
            existingClusters: { legacy: { resourceGroupName: "rg-old", location: "northeurope", oidcIssuerEnabled: true } },
        });
        const cluster = new AksCluster("legacy", { mode: "adopt", name: "legacy", resourceGroupName: "rg-old" });
        const facts = cloud.clusters.get("legacy");
        assert.ok(facts);
        assert.equal((await stateOf(cluster.oidcIssuerUrl)).value, facts.issuerUrl);
        assert.equal((await stateOf(cluster.apiServerUrl)).value, `https://${facts.fqdn}:443`);
        await settle(cloud);
        assert.equal(cloud.of("azure-native:containerservice:ManagedCluster").length, 0, "nothing is created in Azure");
        assert.equal(cloud.of("azure-native:resources:ResourceGroup").length, 0);
    });

    it("refuses a cluster whose OIDC issuer is off, saying how to turn it on, and asks for no credentials", async () => {
        const cloud = await useCloud({
            existingClusters: { legacy: { resourceGroupName: "rg-old", location: "northeurope", oidcIssuerEnabled: false } },
        });
        const cluster = new AksCluster("legacy", { mode: "adopt", name: "legacy", resourceGroupName: "rg-old" });
        await assert.rejects(stateOf(cluster.oidcIssuerUrl), (e: Error) => {
            assert.equal(e.message, oidcOffMessage("rg-old", "legacy"));
            // The whole text, so a change to what it says to restart is seen here.
            assert.equal(
                e.message,
                'AKS cluster "legacy" in resource group "rg-old" has its OIDC issuer turned off; ' +
                    "Vault checks service-account tokens against its issuer URL " +
                    "(kubernetesAuth.method jwt, kubernetesAuth.validateIssuer). Turn it on with " +
                    '"az aks update --resource-group rg-old --name legacy --enable-oidc-issuer" ' +
                    "(it cannot be turned off again). This changes the issuer of the cluster's service-account tokens and " +
                    "restarts the API server; tokens already mounted in pods keep the old issuer, so then restart every pod " +
                    "that uses a service-account token, the Vault Agent Injector's included " +
                    '("kubectl rollout restart deployment,statefulset,daemonset -n <namespace>" in each namespace; ' +
                    "https://learn.microsoft.com/azure/aks/use-oidc-issuer), then run this program again.",
            );
            return true;
        });
        await stateOf(cluster.kubeconfig).catch(() => undefined);
        await settle(cloud);
        assert.equal(cloud.calls.filter((c) => c.token.endsWith("listManagedClusterAdminCredentials")).length, 0);
    });
});
