/**
 * The whole program (`index.ts`) under the cloud mock with the config of Pulumi.dev.yaml: what
 * reaches Azure, Kubernetes and Vault.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { CloudMock, secretAt } from "../support/cloud";
import { providerName, reference, referenceText, settle, stackConfig, stateOf, useCloud, valueOf } from "../support/harness";
import { unknownChartKeys } from "../../policies/chartKeys";

type Outputs = Record<string, pulumi.Output<unknown>>;

describe("index.ts with Pulumi.dev.yaml (the blog's lab)", () => {
    let cloud: CloudMock;
    let outputs: Outputs;

    before(async () => {
        cloud = await useCloud({ config: stackConfig() });
        // `export =` module: the interop wrapper's `default` is module.exports itself.
        outputs = ((await import("../../index")) as unknown as { default: Outputs }).default;
        await settle(cloud);
    });

    it("creates the AKS cluster the blog describes, with the OIDC issuer and RBAC on", () => {
        const mc = cloud.one("azure-native:containerservice:ManagedCluster").inputs as Record<string, any>;
        assert.equal(mc.location, "francecentral");
        assert.equal(mc.resourceName, "aks-vault-dev");
        assert.equal(mc.resourceGroupName, "rg-aks-vault-dev");
        assert.deepEqual(mc.oidcIssuerProfile, { enabled: true });
        assert.equal(mc.enableRBAC, true);
        // The system pool inline (AKS needs one at creation), user pools as AgentPool resources
        // (Azure does not update agentPoolProfiles through the cluster).
        const system = (mc.agentPoolProfiles as Array<Record<string, unknown>>);
        assert.deepEqual(system.map((p) => [p.name, p.mode]), [["system", "System"]]);
        const user = cloud.one("azure-native:containerservice:AgentPool").inputs;
        assert.deepEqual(
            [user.agentPoolName, user.mode, user.resourceName, user.resourceGroupName],
            ["user", "User", "aks-vault-dev", "rg-aks-vault-dev"],
        );
        for (const p of [system[0], user]) {
            assert.equal(p.vmSize, "Standard_D2s_v3");
            assert.equal(p.enableAutoScaling, true);
            assert.equal(p.minCount, 1);
            assert.equal(p.maxCount, 5);
            assert.equal(p.maxPods, 50);
        }
        assert.equal(mc.networkProfile.networkPlugin, "azure");
        assert.equal(mc.networkProfile.networkPluginMode, "overlay");
    });

    it("configures Vault's Kubernetes auth with exactly what the cluster, credentials and token Secret produced", () => {
        const cfg = cloud.one("vault:kubernetes/authBackendConfig:AuthBackendConfig").inputs;
        const facts = cloud.clusters.get("aks-vault-dev");
        assert.ok(facts, "the cluster exists in the mock cloud");
        assert.equal(cfg.kubernetesHost, `https://${facts.fqdn}:443`);
        assert.equal(cfg.kubernetesCaCert, facts.caCertPem);
        // Issuer validation off, upstream's default: the deprecated `issuer` is not sent.
        assert.equal(cfg.issuer, undefined);
        assert.equal(cfg.tokenReviewerJwt, cloud.minted.get("vault/vault-token-reviewer-token"));
        assert.equal(cfg.backend, "aks");
        assert.equal(cfg.disableLocalCaJwt, true);
        assert.equal(cfg.disableIssValidation, true);
    });

    it("mounts Kubernetes auth at aks and KV v2 at secret", () => {
        const auth = cloud.one("vault:index/authBackend:AuthBackend").inputs;
        assert.equal(auth.type, "kubernetes");
        assert.equal(auth.path, "aks");
        const kv = cloud.one("vault:index/mount:Mount").inputs;
        assert.equal(kv.path, "secret");
        assert.equal(kv.type, "kv");
        assert.deepEqual(kv.options, { version: "2" });
    });

    it("installs the pinned vault chart, injector only, external Vault, 3 replicas (the original lab's, spread softly) " +
        "with leader election", () => {
        const rel = cloud.one("kubernetes:helm.sh/v3:Release").inputs as Record<string, any>;
        assert.equal(rel.chart, "vault");
        assert.equal(rel.version, "0.34.1");
        assert.equal(rel.repositoryOpts.repo, "https://helm.releases.hashicorp.com");
        assert.equal(rel.namespace, "vault");
        assert.equal(rel.values.global.externalVaultAddr, "https://vault.mydomain.com:8200");
        assert.equal(rel.values.injector.replicas, 3);
        assert.equal(rel.values.injector.leaderElector.enabled, true);
        assert.equal(rel.values.injector.authPath, "auth/aks");
        assert.equal(rel.values.server.enabled, false);
        const defaults = parse(referenceText("vault-helm/0.34.1/values.yaml"));
        assert.deepEqual(unknownChartKeys(rel.values, defaults), []);
    });

    it("binds the busybox role to exactly its service account and namespace", () => {
        const role = cloud.one("vault:kubernetes/authBackendRole:AuthBackendRole").inputs;
        assert.equal(role.backend, "aks");
        assert.equal(role.roleName, "busybox");
        assert.deepEqual(role.boundServiceAccountNames, ["busybox"]);
        assert.deepEqual(role.boundServiceAccountNamespaces, ["busybox"]);
        assert.equal(role.tokenTtl, 3600);
        // The generated policy carries the stack prefix (<project>-<stack>-): never Vault's own names.
        assert.deepEqual([...(role.tokenPolicies as string[])].sort(), ["aks-vault.dev.busybox", "default"]);
    });

    it("writes a least-privilege busybox policy: read on secret/data/devops only", () => {
        const policy = cloud.one("vault:index/policy:Policy").inputs;
        assert.equal(policy.name, "aks-vault.dev.busybox");
        assert.equal(policy.policy, 'path "secret/data/devops" {\n  capabilities = ["read"]\n}\n');
    });

    it("seeds secret/devops with a generated token, as a secret", () => {
        const seed = cloud.one("vault:kv/secretV2:SecretV2");
        assert.equal(seed.inputs.mount, "secret");
        assert.equal(seed.inputs.name, "devops");
        const data = secretAt(seed.rawInputs, "dataJson");
        assert.equal(data.secret, true);
        assert.deepEqual(Object.keys(JSON.parse(String(data.value))), ["token"]);
        // Check-and-set 0, in `options` where the KV plugin reads it: Vault refuses the write if
        // the path already holds a version, so the seed never overwrites data that is there.
        assert.deepEqual(seed.inputs.options, { cas: "0" });
    });

    it("annotates the busybox pods so the injector renders devops_token from .Data.data.token", () => {
        const dep = cloud.one("kubernetes:apps/v1:Deployment").inputs as Record<string, any>;
        assert.equal(dep.metadata.namespace, "busybox");
        assert.equal(dep.spec.template.spec.serviceAccountName, "busybox");
        const a = dep.spec.template.metadata.annotations as Record<string, string>;
        assert.equal(a["vault.hashicorp.com/agent-inject"], "true");
        assert.equal(a["vault.hashicorp.com/role"], "busybox");
        assert.equal(a["vault.hashicorp.com/auth-path"], "auth/aks");
        assert.equal(a["vault.hashicorp.com/agent-inject-secret-devops_token"], "secret/data/devops");
        assert.equal(
            a["vault.hashicorp.com/agent-inject-template-devops_token"],
            '{{- with secret "secret/data/devops" -}}\ntoken value stored on path secret/devops is {{ .Data.data.token }}\n{{- end }}\n',
        );
        const known = reference<{ annotations: Array<{ name: string }> }>("vault-k8s/annotations.json").annotations.map((x) => x.name);
        for (const name of Object.keys(a)) {
            const family = name.replace(/-devops_token$/, "-<name>");
            assert.ok(known.includes(family), `${name} is not an annotation vault-k8s knows`);
        }
    });

    it("puts every Kubernetes resource, the Helm release included, on the cluster's explicit provider", () => {
        const provider = cloud.one("pulumi:providers:kubernetes");
        const k8s = cloud.resources.filter((r) => r.type.startsWith("kubernetes:"));
        assert.ok(k8s.length >= 8, `expected the Kubernetes resources, found ${k8s.length}`);
        for (const r of k8s) {
            assert.equal(providerName(r.provider, "kubernetes"), provider.name, `${r.type} ${r.name} uses provider ${r.provider}`);
        }
        const vaultProvider = cloud.one("pulumi:providers:vault");
        assert.equal(vaultProvider.inputs.address, "https://vault.mydomain.com:8200");
        for (const r of cloud.resources.filter((x) => x.type.startsWith("vault:"))) {
            assert.equal(providerName(r.provider, "vault"), vaultProvider.name, `${r.type} ${r.name} uses provider ${r.provider}`);
        }
    });

    it("gives the Kubernetes provider a stable cluster identifier and a secret kubeconfig", () => {
        const p = cloud.one("pulumi:providers:kubernetes");
        assert.equal(p.inputs.clusterIdentifier, "rg-aks-vault-dev/aks-vault-dev");
        assert.equal(secretAt(p.rawInputs, "kubeconfig").secret, true);
        assert.equal(p.inputs.kubeconfig, cloud.clusters.get("aks-vault-dev")?.kubeconfig);
    });

    it("sends the reviewer JWT to Vault as a secret", () => {
        const cfg = cloud.one("vault:kubernetes/authBackendConfig:AuthBackendConfig");
        assert.equal(secretAt(cfg.rawInputs, "tokenReviewerJwt").secret, true);
    });

    it("exports what an operator needs, the kubeconfig as a secret", async () => {
        const kubeconfig = await stateOf(outputs.kubeconfig);
        assert.equal(kubeconfig.secret, true);
        assert.equal(kubeconfig.value, cloud.clusters.get("aks-vault-dev")?.kubeconfig);
        const facts = cloud.clusters.get("aks-vault-dev");
        assert.equal((await stateOf(outputs.oidcIssuerUrl)).value, facts?.issuerUrl);
        assert.equal((await stateOf(outputs.vaultAuthPath)).value, "aks");
        assert.match(String((await stateOf(outputs.vaultAuthAccessor)).value), /^auth_kubernetes_/);
        for (const [name, o] of Object.entries(outputs)) {
            const s = pulumi.Output.isInstance(o) ? await stateOf(o) : { value: await valueOf(pulumi.output(o)), secret: false };
            const text = JSON.stringify(s.value) ?? "";
            if (!s.secret) {
                assert.ok(!text.includes("client-key-data"), `output ${name} carries kubeconfig credentials in clear`);
                for (const jwt of cloud.minted.values()) assert.ok(!text.includes(jwt), `output ${name} carries the reviewer JWT in clear`);
            }
        }
    });
});
