/**
 * WorkloadBinding on its own under the cloud mock: what it sends to Kubernetes and Vault.
 */
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as vault from "@pulumi/vault";
import { AksCluster } from "../../components/aksCluster";
import { WorkloadBinding, WorkloadBindingArgs } from "../../components/workloadBinding";
import { CloudMock, secretAt } from "../support/cloud";
import { createArgs } from "../support/clusterArgs";
import { providerName, settle, stateOf, useCloud } from "../support/harness";

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
            seed: [{
                path: "payments/db",
                values: { password: { value: "s3cr3t-from-portal" }, user: { random: { length: 24, special: false } } },
            }],
            deployment: { image: "ghcr.io/acme/payments:1.2.3", replicas: 2 },
        }));
        await stateOf(b.podAnnotations);
        await settle(cloud);
    });

    it("creates the namespace and the service account the role is bound to", () => {
        const ns = (cloud.one("kubernetes:core/v1:Namespace").inputs as Record<string, any>).metadata;
        assert.equal(ns.name, "payments");
        // The webhook only sees opted-in namespaces (components/injectorValues.ts).
        assert.deepEqual(ns.labels, { "aks-vault.io/vault-injection": "enabled" });
        assert.deepEqual(
            (cloud.one("kubernetes:core/v1:ServiceAccount").inputs as Record<string, any>).metadata,
            { name: "payments-api", namespace: "payments" },
        );
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
        assert.equal(
            p.policy,
            'path "kv/data/payments/api" {\n  capabilities = ["read"]\n}\n\n' +
                'path "kv/data/payments/db" {\n  capabilities = ["read"]\n}\n',
        );
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
        for (const r of cloud.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
            assert.equal(providerName(r.provider, "kubernetes"), "c-k8s", `${r.type} ${r.name}`);
        }
        for (const r of cloud.resources.filter((x) => x.type.startsWith("vault:"))) {
            assert.equal(providerName(r.provider, "vault"), "vault", `${r.type} ${r.name}`);
        }
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

    it("without access, registers the ownership rule applied to it alone: owns what it reads and seeds, shares none", async () => {
        const c3 = await useCloud();
        const cluster = new AksCluster("c", createArgs());
        const vp = new vault.Provider("vault", { address: "https://vault.example.com:8200" });
        const b = new WorkloadBinding("audit", bindingArgs(cluster.provider, vp, {
            seed: [{ path: "payments/audit", values: { key: { random: { length: 16, special: false } } } }],
        }));
        await stateOf(b.roleName);
        await settle(c3);
        // docs/security.md, "Who reads what": a workload owns every path it seeds and every path it reads without `from`.
        const owned = ["payments/api", "payments/audit", "payments/db"];
        assert.deepEqual(c3.one("aksvault:index:WorkloadBinding", "audit").inputs.access, { owned, readable: owned, sharedWith: {} });
    });
});
