/**
 * Each component on its own under the cloud mock: what it sends to Azure, Kubernetes and Vault.
 */
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as vault from "@pulumi/vault";
import { parse } from "yaml";
import { AksCluster, AksCreateArgs, oidcOffMessage } from "../../src/components/cluster/aksCluster";
import { VaultInjector, VaultInjectorArgs } from "../../src/components/injector/vaultInjector";
import { WorkloadBinding, WorkloadBindingArgs } from "../../src/components/workload/workloadBinding";
import { unknownChartKeys } from "../../src/components/injector/chartKeys";
import { CloudMock, secretAt } from "../support/cloud";
import { providerName, referenceText, settle, stateOf, useCloud } from "../support/harness";

const pool = (name: string, extra: Partial<AksCreateArgs["systemPool"]> = {}): AksCreateArgs["systemPool"] => ({
    name, vmSize: "Standard_D4s_v5", minCount: 1, maxCount: 3, maxPods: 110, priority: "Regular", taints: [], labels: {}, ...extra,
});

const createArgs = (extra: Partial<AksCreateArgs> = {}): AksCreateArgs => ({
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
                pool("spot", { priority: "Spot", evictionPolicy: "Deallocate", taints: ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"], labels: { tier: "batch" }, minCount: 0, maxCount: 10 }),
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
        const profiles = cloud.one("azure-native:containerservice:ManagedCluster").inputs.agentPoolProfiles as Array<Record<string, unknown>>;
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
        assert.equal(ra.roleDefinitionId, "/subscriptions/1111-2222/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d");
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
        const cloud = await useCloud({ existingClusters: { legacy: { resourceGroupName: "rg-old", location: "northeurope", oidcIssuerEnabled: true } } });
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
        const cloud = await useCloud({ existingClusters: { legacy: { resourceGroupName: "rg-old", location: "northeurope", oidcIssuerEnabled: false } } });
        const cluster = new AksCluster("legacy", { mode: "adopt", name: "legacy", resourceGroupName: "rg-old" });
        await assert.rejects(stateOf(cluster.oidcIssuerUrl), (e: Error) => {
            assert.equal(e.message, oidcOffMessage("rg-old", "legacy"));
            assert.match(e.message, /az aks update --resource-group rg-old --name legacy --enable-oidc-issuer/);
            return true;
        });
        await stateOf(cluster.kubeconfig).catch(() => undefined);
        await settle(cloud);
        assert.equal(cloud.calls.filter((c) => c.token.endsWith("listManagedClusterAdminCredentials")).length, 0);
    });
});

function injectorArgs(provider: k8s.Provider, extra: Partial<VaultInjectorArgs> = {}): VaultInjectorArgs {
    return {
        provider, namespace: "vault-system", releaseName: "vault", chartVersion: "0.34.1", chartRepository: "https://helm.releases.hashicorp.com",
        externalVaultAddr: "https://vault.example.com:8200", replicas: 2, authPath: "aks", logLevel: "info", logFormat: "standard",
        nodeSelector: {}, resources: {}, failurePolicy: "Fail", reviewerServiceAccount: "vault-token-reviewer", ...extra,
    };
}

describe("VaultInjector", () => {
    for (const chartVersion of ["0.34.1", "0.25.0"]) {
        describe(`chart ${chartVersion}`, () => {
            let cloud: CloudMock;
            let injector: VaultInjector;
            before(async () => {
                cloud = await useCloud();
                const cluster = new AksCluster("c", createArgs());
                injector = new VaultInjector("inj", injectorArgs(cluster.provider, { chartVersion }));
                assert.ok(injector.reviewerJwt, "the default reviewer mode has a reviewer JWT");
                await stateOf(injector.reviewerJwt);
                await settle(cloud);
            });

            it("installs the pinned chart from HashiCorp's repository with values the chart defines", () => {
                const rel = cloud.one("kubernetes:helm.sh/v3:Release").inputs as Record<string, any>;
                assert.equal(rel.chart, "vault");
                assert.equal(rel.version, chartVersion);
                assert.equal(rel.namespace, "vault-system");
                assert.equal(rel.atomic, true);
                assert.deepEqual(unknownChartKeys(rel.values, parse(referenceText(`vault-helm/${chartVersion}/values.yaml`))), []);
            });

            it("binds a dedicated reviewer service account to system:auth-delegator", () => {
                const sa = cloud.one("kubernetes:core/v1:ServiceAccount").inputs as Record<string, any>;
                assert.deepEqual(sa.metadata, { name: "vault-token-reviewer", namespace: "vault-system" });
                const crb = cloud.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs as Record<string, any>;
                assert.deepEqual(crb.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" });
                assert.deepEqual(crb.subjects, [{ kind: "ServiceAccount", name: "vault-token-reviewer", namespace: "vault-system" }]);
            });

            it("creates a long-lived service-account-token Secret and outputs its JWT as a secret", async () => {
                const secret = cloud.one("kubernetes:core/v1:Secret").inputs as Record<string, any>;
                assert.equal(secret.type, "kubernetes.io/service-account-token");
                assert.equal(secret.metadata.namespace, "vault-system");
                assert.equal(secret.metadata.annotations["kubernetes.io/service-account.name"], "vault-token-reviewer");
                assert.ok(injector.reviewerJwt);
                const jwt = await stateOf(injector.reviewerJwt);
                assert.equal(jwt.secret, true);
                assert.equal(jwt.value, cloud.minted.get("vault-system/vault-token-reviewer-token"));
            });

            it("puts all its Kubernetes resources on the given provider", () => {
                const provider = cloud.one("pulumi:providers:kubernetes").name;
                for (const r of cloud.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
                    assert.equal(providerName(r.provider, "kubernetes"), provider, `${r.type} ${r.name}`);
                }
            });
        });
    }
});

function bindingArgs(
    k8sProvider: k8s.Provider,
    vaultProvider: vault.Provider,
    extra: Partial<WorkloadBindingArgs> = {},
): WorkloadBindingArgs {
    return {
        k8sProvider,
        vaultProvider,
        namespace: "payments",
        createNamespace: true,
        serviceAccount: "payments-api",
        role: "payments",
        authPath: "aks",
        kvMount: "kv",
        tokenTtl: 900,
        policies: ["default"],
        extraCapabilities: [],
        secrets: [
            { file: "db-password", path: "payments/db", key: "password" },
            { file: "api-key", path: "payments/api", key: "api-key" },
        ],
        seed: [],
        ...extra,
    };
}

describe("WorkloadBinding", () => {
    let cloud: CloudMock;
    before(async () => {
        cloud = await useCloud();
        const cluster = new AksCluster("c", createArgs());
        const vp = new vault.Provider("vault", { address: "https://vault.example.com:8200" });
        const b = new WorkloadBinding("payments", bindingArgs(cluster.provider, vp, {
            tokenMaxTtl: 1800,
            seed: [{ path: "payments/db", values: { password: { value: "s3cr3t-from-portal" }, user: { random: { length: 24, special: false } } } }],
            deployment: { image: "ghcr.io/acme/payments:1.2.3", replicas: 2 },
        }));
        await stateOf(b.podAnnotations);
        await settle(cloud);
    });

    it("creates the namespace and the service account the role is bound to", () => {
        const ns = (cloud.one("kubernetes:core/v1:Namespace").inputs as Record<string, any>).metadata;
        assert.equal(ns.name, "payments");
        // The webhook only sees opted-in namespaces (src/components/injector/injectorValues.ts).
        assert.deepEqual(ns.labels, { "aks-vault.io/vault-injection": "enabled" });
        assert.deepEqual((cloud.one("kubernetes:core/v1:ServiceAccount").inputs as Record<string, any>).metadata, { name: "payments-api", namespace: "payments" });
    });

    it("binds the Vault role to exactly that service account and namespace, with its TTLs and policies", () => {
        const role = cloud.one("vault:kubernetes/authBackendRole:AuthBackendRole").inputs;
        assert.equal(role.backend, "aks");
        assert.equal(role.roleName, "payments");
        assert.deepEqual(role.boundServiceAccountNames, ["payments-api"]);
        assert.deepEqual(role.boundServiceAccountNamespaces, ["payments"]);
        assert.equal(role.tokenTtl, 900);
        assert.equal(role.tokenMaxTtl, 1800);
        assert.deepEqual(role.tokenPolicies, ["default", "payments"]);
    });

    it("generates a read-only policy on exactly the declared KV v2 paths", () => {
        const p = cloud.one("vault:index/policy:Policy").inputs;
        assert.equal(p.name, "payments");
        assert.equal(p.policy, 'path "kv/data/payments/api" {\n  capabilities = ["read"]\n}\n\npath "kv/data/payments/db" {\n  capabilities = ["read"]\n}\n');
    });

    it("seeds the KV v2 secret from the given and generated values, as a secret", () => {
        const s = cloud.one("vault:kv/secretV2:SecretV2");
        assert.equal(s.inputs.mount, "kv");
        assert.equal(s.inputs.name, "payments/db");
        const data = secretAt(s.rawInputs, "dataJson");
        assert.equal(data.secret, true);
        const parsed = JSON.parse(String(data.value)) as Record<string, string>;
        assert.equal(parsed.password, "s3cr3t-from-portal");
        assert.equal(parsed.user.length, 24);
        assert.equal(cloud.one("random:index/randomPassword:RandomPassword").inputs.length, 24);
    });

    it("annotates the pod template and runs it as the bound service account", () => {
        const d = cloud.one("kubernetes:apps/v1:Deployment").inputs as Record<string, any>;
        assert.equal(d.spec.replicas, 2);
        assert.equal(d.spec.template.spec.serviceAccountName, "payments-api");
        assert.equal(d.spec.template.spec.containers[0].image, "ghcr.io/acme/payments:1.2.3");
        const a = d.spec.template.metadata.annotations as Record<string, string>;
        assert.equal(a["vault.hashicorp.com/role"], "payments");
        assert.equal(a["vault.hashicorp.com/agent-inject-secret-db-password"], "kv/data/payments/db");
        assert.match(a["vault.hashicorp.com/agent-inject-template-api-key"], /\{\{ index \.Data\.data "api-key" \}\}/);
        assert.ok(!JSON.stringify(d).includes("s3cr3t-from-portal"), "the seeded value never reaches the Deployment");
    });

    it("uses the explicit providers for every Kubernetes and Vault resource", () => {
        for (const r of cloud.resources.filter((x) => x.type.startsWith("kubernetes:"))) assert.equal(providerName(r.provider, "kubernetes"), "c-k8s", `${r.type} ${r.name}`);
        for (const r of cloud.resources.filter((x) => x.type.startsWith("vault:"))) assert.equal(providerName(r.provider, "vault"), "vault", `${r.type} ${r.name}`);
    });

    it("makes no Deployment and no namespace when not asked, but opts the existing namespace into injection", async () => {
        const c2 = await useCloud();
        const cluster = new AksCluster("c", createArgs());
        const vp = new vault.Provider("vault", { address: "https://vault.example.com:8200" });
        const b = new WorkloadBinding("batch", bindingArgs(cluster.provider, vp, { createNamespace: false, namespace: "shared" }));
        await stateOf(b.roleName);
        await settle(c2);
        assert.equal(c2.of("kubernetes:apps/v1:Deployment").length, 0);
        assert.equal(c2.of("kubernetes:core/v1:Namespace").length, 0);
        const patch = c2.one("kubernetes:core/v1:NamespacePatch").inputs as Record<string, any>;
        assert.deepEqual(patch.metadata, { name: "shared", labels: { "aks-vault.io/vault-injection": "enabled" } });
        assert.deepEqual(c2.one("vault:kubernetes/authBackendRole:AuthBackendRole").inputs.boundServiceAccountNamespaces, ["shared"]);
    });
});
