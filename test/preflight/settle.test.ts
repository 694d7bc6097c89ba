/**
 * `settle`: the gate's report judged again against what this `up` changes (the URNs its preview
 * does not leave `same`). URNs are the engine's: the component's type, then the child's, then the
 * child's Pulumi name (src/config/names.ts childNames: `<workload>-role`, `<workload>-policy`).
 */
import assert from "node:assert/strict";
import { settle, settleable } from "../../src/preflight/settle";
import type { Finding, PreflightReport } from "../../src/preflight/types";

const binding = (type: string, name: string) => `urn:pulumi:dev::aks-vault::aksvault:index:WorkloadBinding$${type}::${name}`;
const URN = {
    role: binding("vault:kubernetes/authBackendRole:AuthBackendRole", "busybox-role"),
    jwtRole: binding("vault:jwt/authBackendRole:AuthBackendRole", "busybox-role"),
    policy: binding("vault:index/policy:Policy", "busybox-policy"),
    apiRole: binding("vault:kubernetes/authBackendRole:AuthBackendRole", "api-role"),
    serviceAccount: binding("kubernetes:core/v1:ServiceAccount", "busybox-sa"),
    authMount: "urn:pulumi:dev::aks-vault::aksvault:index:VaultKubernetesAuth$vault:index/authBackend:AuthBackend::vault-k8s-auth-mount",
    jwtMount: "urn:pulumi:dev::aks-vault::aksvault:index:VaultJwtAuth$vault:jwt/authBackend:AuthBackend::vault-jwt-auth-mount",
    kvMount: "urn:pulumi:dev::aks-vault::aksvault:index:VaultKv$vault:index/mount:Mount::vault-kv-mount",
};
const DATA = "secret/data/devops";
const ROLE_CAUSE = "The live role is not the one the stack file describes: changed outside Pulumi, or the stack file changed since " +
    "the last `up`.";
const READ_CAUSE = "Policy aks-vault.dev.busybox grants no read on secret/data/devops (its rules differ from the stack file's).";

const fail = (id: string, target: string, extra: Partial<Finding> = {}): Finding =>
    ({ id, target, status: "fail", detail: `${id} failed`, ...extra });
const role = fail("workload.role", "vault:auth/aks/role/busybox", { workload: "busybox", cause: ROLE_CAUSE, fix: "refresh, then up" });
const login = fail("workload.login", "vault:auth/aks/login", { workload: "busybox", cause: "Role busybox's bindings." });
const read = fail("path.read", `busybox:${DATA}`, { workload: "busybox", path: DATA, cause: READ_CAUSE });

function report(...findings: Finding[]): PreflightReport {
    const summary = { pass: 0, fail: 0, warn: 0, skip: 0 };
    for (const f of findings) summary[f.status]++;
    return { ok: summary.fail === 0, summary, workloads: { green: 0, total: 1 }, findings };
}
const statuses = (r: PreflightReport) => r.findings.map((f) => `${f.status} ${f.id} ${f.target}`);

describe("preflight: settle (what this up changes does not stop it)", () => {
    it("the workload's role rewritten: its role, login and read findings warn, their cause saying so first; the rest is kept",
        () => {
            const before = report(role, login, read);
            const r = settle(before, [URN.role]);
            assert.equal(r.ok, true);
            assert.deepEqual(r.summary, { pass: 0, fail: 0, warn: 3, skip: 0 });
            assert.deepEqual(r.workloads, before.workloads, "what the workloads can read now is unchanged");
            const first = "This up rewrites the Vault role of workload busybox: judged against the deployed one it replaces.";
            assert.deepEqual(r.findings, [
                { ...role, status: "warn", cause: `${first} ${ROLE_CAUSE}` },
                { ...login, status: "warn", cause: `${first} Role busybox's bindings.` },
                { ...read, status: "warn", cause: `${first} ${READ_CAUSE}` },
            ]);
            assert.equal(before.findings[0].status, "fail", "the first report is not changed in place");
            // The JWT method's role is the same piece.
            assert.equal(settle(report(role), [URN.jwtRole]).ok, true);
        });

    it("the policy rewritten answers what the token reads, not the login; role and policy together are named together", () => {
        const r = settle(report(login, read), [URN.policy]);
        assert.deepEqual(statuses(r), ["fail workload.login vault:auth/aks/login", `warn path.read busybox:${DATA}`]);
        assert.equal(r.ok, false);
        assert.equal(r.findings[1].cause, "This up rewrites the Vault policy of workload busybox: judged against the deployed one it " +
            `replaces. ${READ_CAUSE}`);
        const both = settle(report(read), [URN.policy, URN.role]);
        assert.equal(both.findings[0].cause, "This up rewrites the Vault role and policy of workload busybox: judged against the " +
            `deployed ones it replaces. ${READ_CAUSE}`);
    });

    it("another workload's finding, and what no role or policy answers, still fail", () => {
        const api = fail("path.read", "api:secret/data/api/db", { workload: "api", path: "secret/data/api/db" });
        const token = fail("workload.token", "busybox/busybox", { workload: "busybox" });
        const caps = fail("workload.capabilities", "vault:sys/capabilities-self", { workload: "busybox" });
        const reviewer = fail("reviewer.token", "vault/vault-token-reviewer-token");
        const r = settle(report(role, api, token, caps, reviewer), [URN.role, URN.serviceAccount]);
        assert.deepEqual(statuses(r), [
            "warn workload.role vault:auth/aks/role/busybox", "fail path.read api:secret/data/api/db",
            "fail workload.token busybox/busybox", "fail workload.capabilities vault:sys/capabilities-self",
            "fail reviewer.token vault/vault-token-reviewer-token",
        ]);
        assert.deepEqual(r.summary, { pass: 0, fail: 4, warn: 1, skip: 0 });
        // Another workload's role is not this one's.
        assert.deepEqual(statuses(settle(report(role), [URN.apiRole])), ["fail workload.role vault:auth/aks/role/busybox"]);
    });

    it("nothing of theirs changed (a drift not refreshed): the same report", () => {
        const before = report(role, login);
        assert.equal(settle(before, []), before);
        assert.equal(settle(before, [URN.serviceAccount, URN.kvMount]), before);
    });

    it("the mounts: a KV mount this up rewrites answers its own finding and the KV v1 paths; the auth mount its own", () => {
        const kv = fail("vault.kv-mount", "vault:secret", { cause: "Every path is a KV v2 data path." });
        const v1 = fail("path.kv-v1", `busybox:${DATA}`, { workload: "busybox", path: DATA });
        const auth = fail("vault.auth-mount", "vault:auth/aks");
        const r = settle(report(kv, v1, auth), [URN.kvMount]);
        assert.deepEqual(statuses(r), ["warn vault.kv-mount vault:secret", `warn path.kv-v1 busybox:${DATA}`,
            "fail vault.auth-mount vault:auth/aks"]);
        assert.equal(r.findings[0].cause, "This up rewrites the KV mount: judged against the deployed one it replaces. Every path is a " +
            "KV v2 data path.");
        assert.equal(r.findings[1].cause, "This up rewrites the KV mount: judged against the deployed one it replaces.");
        for (const mount of [URN.authMount, URN.jwtMount]) {
            assert.deepEqual(statuses(settle(report(auth), [mount])), ["warn vault.auth-mount vault:auth/aks"]);
        }
        // A workload's role rewritten does not answer a mount.
        assert.equal(settle(report(kv), [URN.role]).ok, false);
    });

    it("settleable: only a failing finding some change could answer is worth a preview", () => {
        assert.equal(settleable(report(role)), true);
        assert.equal(settleable(report(fail("vault.reachable", "vault"), fail("reviewer.token", "vault/t"))), false);
        assert.equal(settleable(report({ ...role, status: "warn" })), false);
    });
});
