/**
 * What reaches Vault and Kubernetes across trust boundaries: prefixed policy names, roles with
 * only allow-listed policies, read-only grants, check-and-set seeds, shared namespaces that
 * outlive a removed workload, and renames that keep their resources.
 */
import assert from "node:assert/strict";
import { pathRules } from "../../policies/vaultPolicyRules";
import { Run, runLab } from "../support/run";

const POLICY = "vault:index/policy:Policy";
const ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";
const SEED = "vault:kv/secretV2:SecretV2";
const NS = "kubernetes:core/v1:Namespace";

/** The lab with payments sharing payments/db with busybox (read only), busybox owning devops. */
function shared(raw: Record<string, any>): void {
    raw.workloads[0].extraCapabilities = ["update", "list"];
    raw.workloads[0].secrets.push({ file: "db", path: "payments/db", key: "password", from: "payments" });
    raw.workloads.push({
        name: "payments",
        namespace: "busybox",
        serviceAccount: "payments",
        createNamespace: false,
        policies: [" Default "],
        secrets: [{ file: "db", path: "payments/db", key: "password", sharedWith: ["busybox"] }],
        seed: [{ path: "payments/db", values: { password: { random: { length: 24 } } } }],
    });
}

describe("trust boundaries in what the program sends", () => {
    let run: Run;
    before(async () => {
        run = await runLab(shared);
    });

    const policyOf = (name: string) => {
        const p = run.cloud.one(POLICY, `${name}-policy`).inputs;
        return { name: String(p.name), rules: pathRules(String(p.policy)) ?? [] };
    };

    it("names generated policies <project>-<stack>-<workload>, so they never replace Vault's or another stack's", () => {
        assert.equal(policyOf("busybox").name, "aks-vault-dev-busybox");
        assert.equal(policyOf("payments").name, "aks-vault-dev-payments");
    });

    it("gives a role its generated policy plus allow-listed ones, as Vault stores names", () => {
        const role = run.cloud.one(ROLE, "payments-role").inputs;
        assert.deepEqual([...(role.tokenPolicies as string[])].sort(), ["aks-vault-dev-payments", "default"]);
    });

    it("grants extra capabilities on owned paths only; a shared path stays read-only for the reader", () => {
        assert.deepEqual(policyOf("busybox").rules, [
            { path: "secret/data/devops", capabilities: ["read", "update"] },
            { path: "secret/data/payments/db", capabilities: ["read"] },
            { path: "secret/metadata/devops/", capabilities: ["list"] },
        ]);
        assert.deepEqual(policyOf("payments").rules, [{ path: "secret/data/payments/db", capabilities: ["read"] }]);
    });

    it("seeds with check-and-set 0 (never over existing data), ignoring later changes of both", () => {
        for (const name of ["busybox-seed-devops", "payments-seed-payments/db"]) {
            assert.deepEqual(run.cloud.one(SEED, name).inputs.options, { cas: "0" }, name);
            assert.deepEqual(run.optionsOf(SEED, name).ignoreChanges, ["dataJson", "options"], name);
        }
    });

    it("keeps a namespace another workload uses when its creator is removed (retainOnDelete)", () => {
        assert.equal(run.optionsOf(NS, "busybox-ns").retainOnDelete, true);
    });

    it("registers who owns and reads what on the workload components, for the policy pack", () => {
        const busybox = run.cloud.one("aksvault:index:WorkloadBinding", "busybox").inputs;
        assert.equal(busybox.policy, "aks-vault-dev-busybox");
        assert.equal(busybox.role, "busybox");
        assert.deepEqual(busybox.access, { owned: ["devops"], readable: ["devops", "payments/db"], sharedWith: {} });
        const payments = run.cloud.one("aksvault:index:WorkloadBinding", "payments").inputs;
        assert.deepEqual(payments.access, {
            owned: ["payments/db"],
            readable: ["payments/db"],
            sharedWith: { "payments/db": ["busybox"] },
        });
    });
});

describe("data kept across routine edits", () => {
    it("deletes a namespace used by one workload only with that workload (no retain)", async () => {
        const run = await runLab();
        assert.equal(run.optionsOf(NS, "busybox-ns").retainOnDelete, false);
    });

    it("a seed that is the stack's own value (writeOnce: false) is rewritten, so it has no check-and-set", async () => {
        const run = await runLab((raw) => { raw.workloads[0].seed[0].writeOnce = false; });
        assert.equal(run.cloud.one(SEED).inputs.options, undefined);
        assert.deepEqual(run.optionsOf(SEED).ignoreChanges, []);
    });

    it("a rename with formerName aliases the workload, so children named after it keep their state", async () => {
        const run = await runLab((raw) => {
            raw.workloads[0].name = "toolbox";
            raw.workloads[0].formerName = "busybox";
        });
        const binding = run.optionsOf("aksvault:index:WorkloadBinding", "toolbox");
        assert.deepEqual(binding.aliases.map((a) => a.spec?.name), ["busybox"]);
        // The engine derives each child's alias from the parent's by swapping the name prefix
        // (pulumi resource.ts inheritedChildAlias): that needs children named `<workload>-...`.
        const children = run.options.filter((o) => o.parent.endsWith("::toolbox"));
        assert.ok(children.length >= 6, `children: ${children.map((c) => c.name).join(", ")}`);
        for (const c of children) assert.ok(c.name.startsWith("toolbox-"), c.name);
        // Kept: the seed's path and the namespace are the same values, so no replacement.
        assert.equal(run.cloud.one(SEED, "toolbox-seed-devops").inputs.name, "devops");
        assert.equal((run.cloud.one(NS, "toolbox-ns").inputs.metadata as { name: string }).name, "busybox");
    });

    it("no formerName, no alias", async () => {
        const run = await runLab();
        assert.deepEqual(run.optionsOf("aksvault:index:WorkloadBinding", "busybox").aliases, []);
    });
});
