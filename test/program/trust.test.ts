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

    it("names generated policies <project>.<stack>.<workload>, so they never replace Vault's or another stack's", () => {
        assert.equal(policyOf("busybox").name, "aks-vault.dev.busybox");
        assert.equal(policyOf("payments").name, "aks-vault.dev.payments");
    });

    it("gives a role its generated policy plus allow-listed ones, as Vault stores names", () => {
        const role = run.cloud.one(ROLE, "payments-role").inputs;
        assert.deepEqual([...(role.tokenPolicies as string[])].sort(), ["aks-vault.dev.payments", "default"]);
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
        assert.equal(busybox.policy, "aks-vault.dev.busybox");
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

describe("generated policy names across stacks, and the migration of existing stacks (issue 22)", () => {
    const policyOf = (run: Run, workload: string) => String(run.cloud.one(POLICY, `${workload}-policy`).inputs.name);

    it("cannot give two (stack, workload) pairs one name: eu-busybox of dev and busybox of dev-eu differ", async () => {
        const { defaultPolicyPrefix, legacyPolicyPrefix } = await import("../../src/config/trust");
        assert.notEqual(`${defaultPolicyPrefix("aks-vault", "dev")}eu-busybox`, `${defaultPolicyPrefix("aks-vault", "dev-eu")}busybox`);
        // Vault lower-cases policy names: stacks Dev and dev must not meet there either.
        const dev = `${defaultPolicyPrefix("aks-vault", "dev")}busybox`;
        const Dev = `${defaultPolicyPrefix("aks-vault", "Dev")}busybox`;
        assert.notEqual(Dev.toLowerCase(), dev.toLowerCase());
        assert.equal(Dev, Dev.toLowerCase());
        // The old scheme, kept behind policyNaming: legacy, is the one that collided.
        assert.equal(`${legacyPolicyPrefix("aks-vault", "dev")}eu-busybox`, `${legacyPolicyPrefix("aks-vault", "dev-eu")}busybox`);
    });

    it("an existing stack keeps its policies with policyNaming: legacy: same URN, same Vault name, same role", async () => {
        const run = await runLab((raw) => { raw.vault.policyNaming = "legacy"; });
        assert.equal(policyOf(run, "busybox"), "aks-vault-dev-busybox");
        const policies = run.cloud.one(ROLE, "busybox-role").inputs.tokenPolicies as string[];
        assert.deepEqual([...policies].sort(), ["aks-vault-dev-busybox", "default"]);
        const o = run.optionsOf(POLICY, "busybox-policy");
        assert.match(o.parent, /aksvault:index:WorkloadBinding::busybox$/);
    });

    it("migrating (policyNaming scoped) keeps the resource (same URN, no alias needed) and renames the Vault policy " +
        "create-before-delete, the role switching to the new name in the same up", async () => {
        const legacy = await runLab((raw) => { raw.vault.policyNaming = "legacy"; });
        const scoped = await runLab();
        const before = legacy.optionsOf(POLICY, "busybox-policy");
        const after = scoped.optionsOf(POLICY, "busybox-policy");
        // One resource, so `up` replaces it (the provider's name is ForceNew) instead of deleting
        // one and creating another: the preview shows the rename as a replacement.
        assert.equal(after.parent, before.parent);
        assert.deepEqual(after.aliases, []);
        assert.equal(after.deleteBeforeReplace, false);
        assert.equal(policyOf(scoped, "busybox"), "aks-vault.dev.busybox");
        const policies = scoped.cloud.one(ROLE, "busybox-role").inputs.tokenPolicies as string[];
        assert.deepEqual([...policies].sort(), ["aks-vault.dev.busybox", "default"]);
        // The role depends on the new policy's name, so it is updated after the new policy exists
        // and before the old one is deleted.
        assert.ok(scoped.optionsOf(ROLE, "busybox-role").dependencies.some((d) => d.endsWith("::busybox-policy")));
    });
});
