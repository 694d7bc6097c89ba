/**
 * The preflight against recorded answers: a fake TokenIssuer and VaultClient that answer as the
 * local stack's kube-apiserver 1.34 and OpenBao 2.7 did (the refusal texts are theirs, recorded
 * by test/e2e/lib/preflight.ts). Expected values come from Pulumi.dev.yaml, the file the user wrote.
 */
import assert from "node:assert/strict";
import { labRaw } from "../support/fixtures";
import { parseSettings } from "../../src/config/validate";
import { clean } from "../../src/doctor/redact";
import { deployedFromState, preflight, renderText, vaultClient } from "../../src/preflight";
import type { TokenIssuer, VaultClient } from "../../src/preflight/gather";
import { preflightPlan } from "../../src/preflight/plan";
import { renderJson, summaryLine } from "../../src/preflight/render";
import { VaultCallError } from "../../src/preflight/gather";
import type { Deployed, Finding, LiveMount, LiveRole, PreflightReport } from "../../src/preflight/types";
import { FakeEngine } from "../support/fakeEngine";
import { RunEvent, runOperation } from "../../src/automation/runner";
import { PreflightError } from "../../src/preflight/error";
import { EXIT } from "../../src/exitCodes";
import { CancelledError } from "../../src/errors";
import type { Stage } from "../../src/stages";

// From Pulumi.dev.yaml: vault.address, kubernetesAuth.path aks, kv.path secret, workload busybox.
const AUDIENCE = "https://vault.mydomain.com:8200/v1/auth/aks";
const DATA = "secret/data/devops";
const POLICY = "aks-vault.dev.busybox";
const JWT = [
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IkFCQyJ9",
    "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YnVzeWJveDpidXN5Ym94In0",
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
].join(".");
const CHILD = "hvs.CAESIJ9x7Q2mZb4kLw8pRt5sVn3yUa6cXe1dHf0gKj2lMo4p";
const ALL: Deployed = { vaultAuth: true, workloads: true };
/** The outputs naming the reviewer's token Secret, as the last `up` read it (the uid is the API server's). */
const REVIEWER = { namespace: "vault", name: "vault-token-reviewer-token", uid: "3f9a2c71-5d1e-4b8a-9c0f-6e2d4a7b1c35" };
const REVIEWER_OUTPUTS = {
    injectorNamespace: REVIEWER.namespace, reviewerTokenSecret: REVIEWER.name, reviewerTokenSecretUid: REVIEWER.uid,
};
/** What a dead reviewer JWT makes Vault answer (the TokenReview is refused: path_login.go's ErrPermissionDenied). */
const DENIED = "POST /v1/auth/aks/login: 403 permission denied";

class HttpError extends Error {
    constructor(public readonly status: number, message: string) {
        super(message);
    }
}

/** Answers as the healthy local stack did; each test breaks one answer. */
class FakeWorld implements TokenIssuer, VaultClient {
    calls: string[] = [];
    tokenError?: HttpError;
    loginError?: VaultCallError;
    capabilities: Record<string, string[]> = { [DATA]: ["read"], "secret/data/*": ["deny"] };
    capabilitiesError?: VaultCallError;
    kvMount: LiveMount = { type: "kv", options: { version: "2" } };
    role: LiveRole | undefined = {
        bound_service_account_names: ["busybox"], bound_service_account_namespaces: ["busybox"], audience: AUDIENCE,
        token_policies: ["default", POLICY],
    };
    revoked: string[] = [];
    operatorEnabled = true;
    /** The live reviewer token Secret's uid; an HttpError when it cannot be read. */
    secret: string | HttpError = REVIEWER.uid;

    async requestToken(namespace: string, sa: string, audience: string, seconds: number): Promise<string> {
        this.calls.push(`token ${namespace}/${sa} aud=${audience} ${seconds}s`);
        if (this.tokenError) throw this.tokenError;
        return JWT;
    }
    async secretUid(namespace: string, name: string): Promise<string> {
        this.calls.push(`get secret ${namespace}/${name}`);
        if (this.secret instanceof HttpError) throw this.secret;
        return this.secret;
    }
    get operator(): VaultClient["operator"] {
        if (!this.operatorEnabled) return undefined;
        return {
            readMount: async (path) => {
                this.calls.push(`read sys/mounts/${path}`);
                return path.startsWith("auth/") ? { type: "kubernetes", options: null } : this.kvMount;
            },
            readRole: async (authPath, role) => {
                this.calls.push(`read auth/${authPath}/role/${role}`);
                if (this.role === undefined) throw new VaultCallError(404, `GET /v1/auth/${authPath}/role/${role}: 404`);
                return this.role;
            },
        };
    }
    async login(authPath: string, role: string, jwt: string) {
        this.calls.push(`login ${authPath} ${role} ${jwt === JWT ? "jwt" : "other"}`);
        if (this.loginError) throw this.loginError;
        return { token: CHILD, policies: ["default", POLICY] };
    }
    async capabilitiesSelf(token: string, paths: string[]) {
        this.calls.push(`capabilities ${token === CHILD ? "child" : "other"} ${paths.join(",")}`);
        if (this.capabilitiesError) throw this.capabilitiesError;
        return Object.fromEntries(paths.map((p) => [p, this.capabilities[p] ?? ["deny"]]));
    }
    async revokeSelf(token: string) {
        this.calls.push("revoke");
        this.revoked.push(token);
    }
}

function lab(edit: (raw: Record<string, any>) => void = () => undefined) {
    const raw = labRaw();
    edit(raw);
    return parseSettings(raw);
}

async function run(world: FakeWorld, deployed: Deployed = ALL, settings = lab()): Promise<PreflightReport> {
    return preflight({ settings, stack: "dev", deployed, k8s: world, vault: world });
}

const one = (r: PreflightReport, id: string): Finding => {
    const found = r.findings.filter((f) => f.id === id);
    assert.equal(found.length, 1, `expected one ${id}: ${JSON.stringify(r.findings.map((f) => f.id))}`);
    return found[0];
};
const failing = (r: PreflightReport) => r.findings.filter((f) => f.status === "fail").map((f) => `${f.id} ${f.target}`);

describe("preflight: the plan from the stack file", () => {
    it("binds what the program binds: role, generated policy, the Vault-specific audience, the rendered KV v2 path", () => {
        const plan = preflightPlan(lab(), { project: "aks-vault", stack: "dev" });
        assert.equal(plan.authPath, "aks");
        assert.equal(plan.kvMount, "secret");
        assert.deepEqual(plan.workloads.map((w) => [w.name, w.namespace, w.serviceAccount, w.role, w.policy, w.audience]), [
            ["busybox", "busybox", "busybox", "busybox", POLICY, AUDIENCE],
        ]);
        assert.deepEqual(plan.workloads[0].renders, [{ path: DATA, file: "devops_token" }]);
        assert.deepEqual(plan.workloads[0].declared, { [DATA]: ["read"] });
        assert.deepEqual(plan.workloads[0].foreign, [{ path: "secret/data/*", owner: "mount" }]);
    });

    it("jwt: the roles' bound audience is kubernetesAuth.audience when set", () => {
        const plan = preflightPlan(lab((r) => { r.kubernetesAuth = { method: "jwt", path: "aks-jwt", audience: "vault-prod" }; }),
            { project: "aks-vault", stack: "jwt" });
        assert.equal(plan.workloads[0].audience, "vault-prod");
        assert.equal(plan.workloads[0].policy, "aks-vault.jwt.busybox");
    });

    it("a template's secret calls are what renders, and another workload's path is foreign", () => {
        const settings = lab((r) => {
            r.workloads.push({ name: "api", namespace: "api", serviceAccount: "api", secrets: [{ file: "db", path: "api/db",
                key: "password" }] });
            r.workloads[0].seed.push({ path: "extra", values: { a: { value: "x" } } });
            r.workloads[0].secrets[0] = { file: "both", path: "devops", template: '{{ with secret "secret/data/extra" }}{{ ' +
                '.Data.data.a }}{{ end }}' };
        });
        const w = preflightPlan(settings, { project: "aks-vault", stack: "dev" }).workloads[0];
        assert.deepEqual(w.renders, [{ path: "secret/data/extra", file: "both" }]);
        assert.deepEqual(w.foreign.map((f) => `${f.path} ${f.owner}`), ["secret/data/api/db api", "secret/data/* mount"]);
    });
});

describe("preflight: acting as each workload (recorded answers)", () => {
    it("is green on the healthy lab: one 600 s token for the planned audience, a login, one capabilities call, the token " +
        "revoked", async () => {
        const world = new FakeWorld();
        const r = await run(world);
        assert.deepEqual(failing(r), []);
        assert.equal(r.ok, true);
        assert.deepEqual(r.workloads, { green: 1, total: 1 });
        assert.equal(summaryLine(r), "preflight: 1/1 workloads can read every path they render");
        assert.deepEqual(world.calls, [
            "read sys/mounts/auth/aks", "read sys/mounts/secret", "read auth/aks/role/busybox",
            `token busybox/busybox aud=${AUDIENCE} 600s`,
            "login aks busybox jwt",
            `capabilities child ${DATA},secret/data/*`,
            "revoke",
        ]);
        assert.deepEqual(world.revoked, [CHILD]);
        assert.equal(one(r, "path.read").detail, "read (renders /vault/secrets/devops_token)");
        assert.equal(one(r, "workload.login").detail, `logged in as role busybox with a token for ${AUDIENCE} (policies [default, ` +
            `${POLICY}])`);
    });

    it("a role bound to another namespace: the login's refusal, its cause and fix, and the live role against the plan", async () => {
        const world = new FakeWorld();
        world.role = { ...world.role, bound_service_account_namespaces: ["elsewhere"] };
        world.loginError = new VaultCallError(403, "POST /v1/auth/aks/login: 403 namespace not authorized");
        const r = await run(world);
        assert.deepEqual(failing(r), ["workload.role vault:auth/aks/role/busybox", "workload.login vault:auth/aks/login"]);
        const login = one(r, "workload.login");
        assert.equal(login.workload, "busybox");
        assert.equal(login.detail, "role busybox refused the token for busybox/busybox: POST /v1/auth/aks/login: 403 namespace not " +
            "authorized");
        assert.equal(login.fix, "Bind namespace busybox in role busybox (bound_service_account_namespaces), or deploy the workload " +
            "into the bound namespace.");
        assert.equal(one(r, "workload.role").detail, "bound_service_account_namespaces [elsewhere] does not include busybox");
        assert.deepEqual(r.workloads, { green: 0, total: 1 });
        assert.deepEqual(world.revoked, [], "no token to revoke: the login failed");
    });

    it("a role bound to another audience: the cause names the audience the program gives the pods", async () => {
        const world = new FakeWorld();
        world.role = { ...world.role, audience: "https://other.example" };
        world.loginError = new VaultCallError(403, "POST /v1/auth/aks/login: 403 invalid audience (aud) claim: audience claim does " +
            "not match any expected audience");
        const r = await run(world);
        const login = one(r, "workload.login");
        assert.equal(login.cause, `The pods' token is minted for audience ${AUDIENCE}, and the role expects another.`);
        assert.deepEqual(login.ref, ["hashicorp/vault-plugin-auth-kubernetes#102", "hashicorp/vault-plugin-auth-jwt#206"]);
        assert.equal(one(r, "workload.role").detail, `audience is https://other.example, not ${AUDIENCE}`);
    });

    it("the policy's path removed: path.read fails with the 403 the agent would get", async () => {
        const world = new FakeWorld();
        world.capabilities = {};
        const r = await run(world);
        assert.deepEqual(failing(r), [`path.read busybox:${DATA}`]);
        const f = one(r, "path.read");
        assert.equal(f.path, DATA);
        assert.equal(f.detail, "no read: capabilities [deny]; the agent would fail rendering /vault/secrets/devops_token with 403");
        assert.equal(f.cause, `Policy ${POLICY} grants no read on ${DATA} (its rules differ from the stack file's).`);
        assert.equal(f.fix, `Restore policy ${POLICY} from the stack file: \`aks-vault refresh --stack dev --yes\`, then ` +
            `\`aks-vault up --stack dev --yes\`.`);
        assert.deepEqual(world.revoked, [CHILD]);
    });

    it("a KV v1 mount: each rendered path is named, with the in-place upgrade as the fix", async () => {
        const world = new FakeWorld();
        world.kvMount = { type: "kv", options: { version: "1" } };
        const r = await run(world);
        assert.deepEqual(failing(r), ["vault.kv-mount vault:secret", `path.kv-v1 busybox:${DATA}`]);
        const f = one(r, "path.kv-v1");
        assert.equal(f.detail, "secret/ is a KV version 1 mount: the agent reads secret/data/devops as the secret named " +
            "data/devops, which the workload's seed never wrote");
        assert.equal(f.fix, "Upgrade the mount: `vault kv enable-versioning secret/`, or point kv.path at a KV v2 mount.");
        // A v1 mount answers `options: null` when created without options: still version 1.
        world.kvMount = { type: "kv", options: null };
        const unversioned = await run(world);
        assert.equal(one(unversioned, "vault.kv-mount").detail, "KV version 1, not 2");
        assert.equal(one(unversioned, "path.kv-v1").status, "fail");
        assert.deepEqual(r.workloads, { green: 0, total: 1 });
    });

    it("extra access: more than read on a declared path warns; any capability on the whole mount fails", async () => {
        const world = new FakeWorld();
        world.capabilities = { [DATA]: ["read", "update"], "secret/data/*": ["read", "list"] };
        const r = await run(world);
        const extra = one(r, "path.extra");
        assert.equal(extra.status, "warn");
        assert.equal(extra.detail, "capabilities [update] beyond the declared [read]");
        const foreign = one(r, "path.foreign");
        assert.equal(foreign.status, "fail");
        assert.equal(foreign.target, "busybox:secret/data/*");
        assert.equal(foreign.detail, "capabilities [read, list] on every path of the mount (a policy grants a glob on it)");
        assert.deepEqual(r.workloads, { green: 1, total: 1 }, "it can read what it renders; the extra access is its own finding");
    });

    it("declared extra capabilities are not extra", async () => {
        const world = new FakeWorld();
        world.capabilities = { [DATA]: ["read", "update"] };
        const r = await run(world, ALL, lab((raw) => { raw.workloads[0].extraCapabilities = ["update"]; }));
        assert.deepEqual(r.findings.filter((f) => f.id === "path.extra"), []);
    });

    it("before the workloads stage: a missing service account and role are 'not yet', not failures", async () => {
        const world = new FakeWorld();
        world.role = undefined;
        world.tokenError = new HttpError(404, 'serviceaccounts "busybox" not found');
        const early = await run(world, { vaultAuth: true, workloads: false });
        assert.equal(early.ok, true);
        assert.equal(one(early, "workload.role").detail, "the role does not exist yet: the workloads stage creates it");
        assert.equal(one(early, "workload.token").status, "skip");
        assert.deepEqual(early.workloads, { green: 0, total: 1 });
        const late = await run(world, ALL);
        assert.deepEqual(failing(late), ["workload.role vault:auth/aks/role/busybox", "workload.token busybox/busybox"]);
        assert.equal(one(late, "workload.token").detail, 'TokenRequest refused: serviceaccounts "busybox" not found');
    });

    it("with the state's resources: what the state does not hold is 'not yet' (a workload added, a stage that failed half way)",
        async () => {
            // Found on the local stack (test/e2e/day2.ts): a vault-auth stage that failed before its
            // mounts were created, and a workload added to a deployed stack, were refused as "gone".
            const urn = (type: string, name: string) => `urn:pulumi:dev::aks-vault::aksvault:index:WorkloadBinding$${type}::${name}`;
            const held = (urns: string[]): Deployed => deployedFromState("workloads", urns);
            const world = new FakeWorld();
            world.role = undefined;
            world.tokenError = new HttpError(404, 'serviceaccounts "busybox" not found');
            const added = await run(world, held([]));
            assert.deepEqual(failing(added), []);
            assert.equal(one(added, "workload.role").detail, "the role does not exist yet: the workloads stage creates it");
            assert.equal(one(added, "workload.token").status, "skip");
            const gone = await run(world, held([
                urn("vault:kubernetes/authBackendRole:AuthBackendRole", "busybox-role"),
                urn("kubernetes:core/v1:ServiceAccount", "busybox-sa"),
            ]));
            assert.deepEqual(failing(gone), ["workload.role vault:auth/aks/role/busybox", "workload.token busybox/busybox"]);
            // A service account that exists (kept by a rename) with a role this up creates: no login is tried.
            const renamed = new FakeWorld();
            renamed.role = undefined;
            const report = await run(renamed, held([]));
            assert.deepEqual(failing(report), []);
            assert.equal(renamed.calls.filter((c) => c.startsWith("login")).length, 0);
        });

    it("revokes the token even when the capabilities call fails", async () => {
        const world = new FakeWorld();
        world.capabilitiesError = new VaultCallError(500, "POST /v1/sys/capabilities-self: 500 internal error");
        const r = await run(world);
        assert.equal(one(r, "workload.capabilities").detail, "could not ask for the token's capabilities: POST " +
            "/v1/sys/capabilities-self: 500 internal error");
        assert.deepEqual(world.revoked, [CHILD]);
    });

    it("without a preflight token: no reads, the login and capabilities still prove access", async () => {
        const world = new FakeWorld();
        world.operatorEnabled = false;
        const r = await run(world);
        assert.equal(r.ok, true);
        assert.equal(one(r, "vault.reads").status, "skip");
        assert.ok(!world.calls.some((c) => c.startsWith("read ")));
    });

    it("never prints the service-account JWT or the login's token, in text or JSON", async () => {
        const world = new FakeWorld();
        // A server that echoes what it got must not carry it into the report either.
        world.loginError = new VaultCallError(400, `POST /v1/auth/aks/login: 400 bad jwt ${JWT} token=${CHILD}`);
        const r = await run(world);
        for (const out of [renderText(r, clean), renderJson(r, clean)]) {
            for (const secret of [JWT, CHILD]) {
                for (let i = 0; i + 16 <= secret.length; i += 8) assert.ok(!out.includes(secret.slice(i, i + 16)), out);
            }
        }
    });
});

describe("preflight: the reviewer's token Secret (issue 20: the gate refused doctor's documented repair)", () => {
    // The URNs as the engine writes them: the workload's role and account, and the reviewer's token Secret.
    const URNS = {
        role: "urn:pulumi:dev::aks-vault::aksvault:index:WorkloadBinding$vault:kubernetes/authBackendRole:AuthBackendRole::busybox-role",
        sa: "urn:pulumi:dev::aks-vault::aksvault:index:WorkloadBinding$kubernetes:core/v1:ServiceAccount::busybox-sa",
        secret: "urn:pulumi:dev::aks-vault::aksvault:index:VaultInjector$kubernetes:core/v1:Secret::vault-injector-reviewer-token",
        mount: "urn:pulumi:dev::aks-vault::aksvault:index:VaultKubernetesAuth$vault:index/authBackend:AuthBackend::vault-k8s-auth-backend",
    };
    const TARGET = `${REVIEWER.namespace}/${REVIEWER.name}`;
    const withState = (world: FakeWorld, urns: string[], settings = lab()) => preflight({
        settings, stack: "dev", outputs: { ...REVIEWER_OUTPUTS, apiServerUrl: "https://aks-vault-dev.hcp.westeurope.azmk8s.io:443" },
        deployed: deployedFromState("workloads", urns), k8s: world, vault: world,
    });

    it("deleted, then `refresh` (it left the state): this up recreates it, so the refused logins are a warning naming it", async () => {
        const world = new FakeWorld();
        world.loginError = new VaultCallError(403, DENIED);
        world.secret = new HttpError(404, `secrets "${REVIEWER.name}" not found`);
        const r = await withState(world, [URNS.role, URNS.sa, URNS.mount]);
        assert.deepEqual(failing(r), []);
        assert.equal(r.ok, true);
        const login = one(r, "workload.login");
        assert.equal(login.status, "warn");
        assert.equal(login.detail, `role busybox refused the token for busybox/busybox: ${DENIED}`);
        assert.equal(login.cause, `The reviewer's token Secret ${TARGET} is gone; this up recreates it and rewrites Vault's ` +
            "token_reviewer_jwt.");
        const secret = one(r, "reviewer.token");
        assert.deepEqual([secret.status, secret.target], ["warn", TARGET]);
        assert.equal(secret.detail, "not in the stack's state (a refresh found it deleted): this up creates a new token Secret and " +
            "rewrites Vault's token_reviewer_jwt");
    });

    it("any other refusal still fails, and so does a denied login while the state holds a Secret that is there", async () => {
        const world = new FakeWorld();
        world.loginError = new VaultCallError(403, "POST /v1/auth/aks/login: 403 namespace not authorized");
        const other = await withState(world, [URNS.role, URNS.sa, URNS.mount]);
        assert.deepEqual(failing(other), ["workload.login vault:auth/aks/login"]);
        assert.equal(one(other, "workload.login").fix, "Bind namespace busybox in role busybox (bound_service_account_namespaces), " +
            "or deploy the workload into the bound namespace.");
        world.loginError = new VaultCallError(403, DENIED);
        const held = await withState(world, [URNS.role, URNS.sa, URNS.mount, URNS.secret]);
        assert.deepEqual(failing(held), ["workload.login vault:auth/aks/login"]);
        assert.equal(one(held, "reviewer.token").status, "pass");
        assert.match(one(held, "workload.login").cause ?? "", /^Vault hides the reason/);
        // Another reviewer (clientJwt) has no token Secret: nothing excuses the refusal.
        const clientJwt = await withState(world, [URNS.role, URNS.sa, URNS.mount], lab((raw) => {
            raw.kubernetesAuth = { ...raw.kubernetesAuth, reviewer: "clientJwt" };
        }));
        assert.equal(one(clientJwt, "workload.login").status, "fail");
        assert.deepEqual(clientJwt.findings.filter((f) => f.id === "reviewer.token"), []);
    });

    it("deleted, no refresh yet: the gate fails naming the Secret and the documented fix, refresh then up", async () => {
        const world = new FakeWorld();
        world.loginError = new VaultCallError(403, DENIED);
        world.secret = new HttpError(404, `secrets "${REVIEWER.name}" not found`);
        const r = await withState(world, [URNS.role, URNS.sa, URNS.mount, URNS.secret]);
        assert.deepEqual(failing(r), [`reviewer.token ${TARGET}`, "workload.login vault:auth/aks/login"]);
        const fix = `Restore the reviewer's token Secret ${TARGET} from the stack file: \`aks-vault refresh --stack dev --yes\`, ` +
            "then `aks-vault up --stack dev --yes`.";
        assert.equal(one(r, "reviewer.token").fix, fix);
        assert.equal(one(r, "workload.login").cause, `The reviewer's token Secret ${TARGET} is gone: Vault's TokenReview calls are ` +
            "refused.");
        assert.equal(one(r, "workload.login").fix, fix);
        assert.ok(world.calls.includes(`get secret ${TARGET}`));
    });

    it("recreated since the last up (another uid): this up gives Vault its token, so the refused logins are a warning", async () => {
        const world = new FakeWorld();
        world.loginError = new VaultCallError(403, DENIED);
        world.secret = "8d0e5b42-1f3c-4e6a-b7d9-2c5a9f8e4b10";
        const r = await withState(world, [URNS.role, URNS.sa, URNS.mount, URNS.secret]);
        assert.deepEqual(failing(r), []);
        assert.equal(one(r, "workload.login").status, "warn");
        assert.equal(one(r, "workload.login").cause, `The reviewer's token Secret ${TARGET} was recreated since the last up; this ` +
            "up rewrites Vault's token_reviewer_jwt with its token.");
        assert.equal(one(r, "reviewer.token").detail, `recreated since the last up (uid ${world.secret}, the up read ${REVIEWER.uid}): ` +
            "this up gives Vault its token");
    });

    it("through the gate: after the refresh the documented `up` runs, without --no-preflight", async () => {
        const engine = new FakeEngine("dev", { deployed: "workloads" });
        for (const u of [URNS.role, URNS.sa]) engine.state.add(u);
        const world = new FakeWorld();
        world.loginError = new VaultCallError(403, DENIED);
        world.secret = new HttpError(404, `secrets "${REVIEWER.name}" not found`);
        const gate = (d: Parameters<typeof deployedFromState>[0], urns: readonly string[]) => preflight({
            settings: lab(), stack: "dev", outputs: REVIEWER_OUTPUTS, deployed: deployedFromState(d, urns), k8s: world, vault: world,
        });
        await runOperation(engine, { operation: "up", preflight: gate });
        assert.deepEqual(engine.commands, ["preview:workloads", "up:workloads"]);
        // The same with the Secret still in the state (no refresh): refused, nothing applied.
        const unrefreshed = new FakeEngine("dev", { deployed: "workloads" });
        for (const u of [URNS.role, URNS.sa, URNS.secret]) unrefreshed.state.add(u);
        await assert.rejects(runOperation(unrefreshed, { operation: "up", preflight: gate }),
            (err: unknown) => err instanceof PreflightError && err.report.findings.some((f) => f.id === "reviewer.token" &&
                f.status === "fail"));
        // Nothing applied; the gate's one preview (what this up changes: nothing of the workload's) only.
        assert.deepEqual(unrefreshed.commands, ["preview:workloads"]);
    });
});

describe("preflight: Vault's HTTP API", () => {
    function recording(answers: Record<string, { status: number; body: unknown }>) {
        const seen: Array<{ url: string; method: string; headers: Record<string, string>; body?: unknown }> = [];
        const fetchFn = (async (url: string, init: RequestInit) => {
            seen.push({ url, method: init.method ?? "GET", headers: init.headers as Record<string, string>,
                body: init.body === undefined ? undefined : JSON.parse(String(init.body)) });
            const a = answers[`${init.method} ${url.replace("http://vault:8200/v1/", "")}`] ?? { status: 404, body: { errors: [] } };
            return new Response(a.status === 204 ? null : JSON.stringify(a.body), { status: a.status });
        }) as unknown as typeof fetch;
        return { seen, fetchFn };
    }

    it("logs in without a token, asks capabilities and revokes as the child, reads as the operator", async () => {
        const { seen, fetchFn } = recording({
            "POST auth/aks/login": { status: 200, body: { auth: { client_token: CHILD, policies: ["default", POLICY] } } },
            "POST sys/capabilities-self": { status: 200, body: { [DATA]: ["read"], data: { [DATA]: ["read"],
                "secret/data/*": ["deny"] } } },
            "POST auth/token/revoke-self": { status: 204, body: {} },
            "GET sys/mounts/secret": { status: 200, body: { data: { type: "kv", options: { version: "2" } } } },
        });
        const v = vaultClient({ address: "http://vault:8200/", operatorToken: "operator-token", fetch: fetchFn });
        assert.deepEqual(await v.login("aks", "busybox", JWT), { token: CHILD, policies: ["default", POLICY] });
        assert.deepEqual(await v.capabilitiesSelf(CHILD, [DATA, "secret/data/*"]), { [DATA]: ["read"], "secret/data/*": ["deny"] });
        await v.revokeSelf(CHILD);
        assert.deepEqual(await v.operator?.readMount("secret"), { type: "kv", options: { version: "2" } });
        assert.deepEqual(seen.map((s) => [s.method, s.url, s.headers["X-Vault-Token"]]), [
            ["POST", "http://vault:8200/v1/auth/aks/login", undefined],
            ["POST", "http://vault:8200/v1/sys/capabilities-self", CHILD],
            ["POST", "http://vault:8200/v1/auth/token/revoke-self", CHILD],
            ["GET", "http://vault:8200/v1/sys/mounts/secret", "operator-token"],
        ]);
        assert.deepEqual(seen[0].body, { role: "busybox", jwt: JWT });
        assert.deepEqual(seen[1].body, { paths: [DATA, "secret/data/*"] });
    });

    it("a refusal carries Vault's own errors and status", async () => {
        const { fetchFn } = recording({ "POST auth/aks/login": { status: 403, body: { errors: ["namespace not authorized"] } } });
        await assert.rejects(vaultClient({ address: "http://vault:8200", fetch: fetchFn }).login("aks", "busybox", JWT), (err: unknown) => {
            assert.ok(err instanceof VaultCallError);
            assert.equal(err.status, 403);
            assert.equal(err.message, "POST /v1/auth/aks/login: 403 namespace not authorized");
            return true;
        });
    });

    it("without an operator token there are no operator reads", () => {
        assert.equal(vaultClient({ address: "http://vault:8200" }).operator, undefined);
    });
});

describe("preflight: the gate before up", () => {
    const failed: PreflightReport = {
        ok: false, summary: { pass: 0, fail: 1, warn: 0, skip: 0 }, workloads: { green: 0, total: 1 },
        findings: [{ id: "path.read", workload: "busybox", target: `busybox:${DATA}`, status: "fail", detail: "no read" }],
    };
    const passed: PreflightReport = { ok: true, summary: { pass: 1, fail: 0, warn: 0, skip: 0 }, workloads: { green: 1, total: 1 },
        findings: [] };

    it("runs before anything is applied when vault-auth is deployed, and a failing finding stops the run", async () => {
        const engine = new FakeEngine("dev", { deployed: "workloads" });
        const asked: string[] = [];
        const events: RunEvent[] = [];
        await assert.rejects(
            runOperation(engine, { operation: "up", onEvent: (e) => events.push(e),
                preflight: async (d) => { asked.push(d); return failed; } }),
            (err: unknown) => err instanceof PreflightError && err.exitCode === EXIT.checksFailed && err.report === failed,
        );
        assert.deepEqual(asked, ["workloads"]);
        assert.deepEqual(engine.commands, ["preview:workloads"], "nothing applied: one preview asked what this up changes");
        assert.deepEqual(events.filter((e) => e.type === "preflight").map((e) => e.type === "preflight" && e.status), ["running",
            "failed"]);
    });

    it("a passing preflight lets the stages run", async () => {
        const engine = new FakeEngine("dev", { deployed: "vault-auth" });
        await runOperation(engine, { operation: "up", preflight: async () => passed });
        assert.deepEqual(engine.commands, ["preview:vault-auth", "up:vault-auth", "preview:workloads", "up:workloads"]);
    });

    it("is skipped below vault-auth (no mount to log in at), and never runs for preview", async () => {
        let ran = 0;
        const gate = async () => { ran++; return failed; };
        const events: RunEvent[] = [];
        await runOperation(new FakeEngine("dev", { deployed: "injector" }), { operation: "up", preflight: gate,
            onEvent: (e) => events.push(e) });
        await runOperation(new FakeEngine("dev", { deployed: "workloads" }), { operation: "preview", preflight: gate });
        assert.equal(ran, 0);
        const skipped = events.find((e) => e.type === "preflight");
        assert.deepEqual(skipped, { type: "preflight", status: "skipped", reason: "no auth mount deployed yet (deployed: injector)" });
    });

    describe("a failing finding this up changes is a warning (the up's own preview says what it changes)", () => {
        const binding = (type: string, name: string) => `urn:pulumi:dev::aks-vault::aksvault:index:WorkloadBinding$${type}::${name}`;
        const ROLE = binding("vault:kubernetes/authBackendRole:AuthBackendRole", "busybox-role");
        const SA = binding("kubernetes:core/v1:ServiceAccount", "busybox-sa");
        const gateEvents = (events: RunEvent[]) => events.filter((e) => e.type === "preflight");

        /** The lab's role narrowed to another namespace (docs/preflight.md's sample), judged by the preflight itself. */
        function drifted() {
            const world = new FakeWorld();
            world.role = { ...world.role, bound_service_account_namespaces: ["elsewhere"] };
            world.loginError = new VaultCallError(403, "POST /v1/auth/aks/login: 403 namespace not authorized");
            const engine = new FakeEngine("dev", { deployed: "workloads" });
            for (const u of [ROLE, SA]) engine.state.add(u);
            const gate = (d: Stage, urns: readonly string[]) => preflight({
                settings: lab(), stack: "dev", deployed: deployedFromState(d, urns), k8s: world, vault: world,
            });
            return { engine, gate };
        }

        it("its role rewritten by this up (refreshed, or changed on purpose): the up runs, the gate passes with the warnings", async () => {
            const { engine, gate } = drifted();
            engine.previewOps = { [ROLE]: "update" };
            const events: RunEvent[] = [];
            await runOperation(engine, { operation: "up", preflight: gate, policyPacks: ["policies"], onEvent: (e) => events.push(e) });
            assert.deepEqual(engine.commands, ["preview:workloads", "preview:workloads", "up:workloads"]);
            assert.deepEqual(engine.calls.filter((c) => c.op === "preview").map((c) => c.policyPacks), [["policies"], ["policies"]]);
            const [running, done] = gateEvents(events);
            assert.deepEqual(running, { type: "preflight", status: "running" });
            assert.ok(done.type === "preflight" && done.report !== undefined);
            assert.equal(done.status, "passed");
            const r = done.report;
            assert.equal(r.ok, true);
            assert.deepEqual(r.summary, { pass: 2, fail: 0, warn: 2, skip: 0 });
            const first = "This up rewrites the Vault role of workload busybox: judged against the deployed one it replaces.";
            assert.deepEqual([one(r, "workload.role").status, one(r, "workload.role").cause], ["warn", `${first} The live role is ` +
                "not the one the stack file describes: changed outside Pulumi, or the stack file changed since the last `up`."]);
            assert.deepEqual([one(r, "workload.login").status, one(r, "workload.login").cause], ["warn", `${first} Role busybox's ` +
                "bound_service_account_namespaces does not include busybox (Vault configuration; Kubernetes RBAC plays no part)."]);
            // The gate's preview reports nothing as a stage: its events reach no one.
            assert.deepEqual(events.slice(events.indexOf(running) + 1, events.indexOf(done)), []);
        });

        it("nothing of it changed (a drift not refreshed: the state still matches the plan): refused, the fix refresh then up",
            async () => {
                const { engine, gate } = drifted();
                engine.previewOps = { [ROLE]: "same", [SA]: "read" };
                const events: RunEvent[] = [];
                await assert.rejects(runOperation(engine, { operation: "up", preflight: gate, onEvent: (e) => events.push(e) }),
                    (err: unknown) => {
                        assert.ok(err instanceof PreflightError);
                        assert.deepEqual(failing(err.report), ["workload.role vault:auth/aks/role/busybox",
                            "workload.login vault:auth/aks/login"]);
                        assert.equal(one(err.report, "workload.role").fix, "If the stack file changed on purpose, `up` rewrites the " +
                            "role; otherwise restore role busybox from the stack file: `aks-vault refresh --stack dev --yes`, then " +
                            "`aks-vault up --stack dev --yes`.");
                        return true;
                    });
                assert.deepEqual(engine.commands, ["preview:workloads"], "nothing applied");
                assert.deepEqual(gateEvents(events).map((e) => e.type === "preflight" && e.status), ["running", "failed"]);
            });

        it("another workload's failing finding that this up does not change still refuses it", async () => {
            const engine = new FakeEngine("dev", { deployed: "vault-auth" });
            engine.previewOps = { [ROLE]: "update" };
            const report: PreflightReport = {
                ok: false, summary: { pass: 0, fail: 2, warn: 0, skip: 0 }, workloads: { green: 0, total: 2 },
                findings: [
                    { id: "workload.role", workload: "busybox", target: "vault:auth/aks/role/busybox", status: "fail", detail: "drift" },
                    { id: "path.read", workload: "api", target: "api:secret/data/api/db", status: "fail", detail: "no read" },
                ],
            };
            const events: RunEvent[] = [];
            await assert.rejects(runOperation(engine, { operation: "up", preflight: async () => report, onEvent: (e) => events.push(e) }),
                (err: unknown) => {
                    assert.ok(err instanceof PreflightError);
                    assert.deepEqual(err.report.findings.map((f) => `${f.status} ${f.id} ${f.target}`), [
                        "warn workload.role vault:auth/aks/role/busybox", "fail path.read api:secret/data/api/db",
                    ]);
                    assert.equal(err.message, "preflight: 2 of 2 workload(s) cannot read what they render; 1 finding(s) failed: " +
                        "path.read api:secret/data/api/db (nothing was applied; fix them, or pass --no-preflight)");
                    return true;
                });
            // The graph this up applies: the program cut after its last stage, not the deployed one.
            assert.deepEqual(engine.commands, ["preview:workloads"]);
            const done = gateEvents(events).pop();
            assert.ok(done?.type === "preflight");
            assert.equal(done.status, "failed");
            assert.equal(done.report?.summary.warn, 1, "the event carries the settled report");
        });

        it("the gate's preview fails: the first refusal stands, and none of its events reaches the caller", async () => {
            const engine = new FakeEngine("dev", { deployed: "workloads" }).fault({ op: "preview", kind: "fail" });
            engine.previewOps = { [ROLE]: "update" };
            const events: RunEvent[] = [];
            await assert.rejects(runOperation(engine, { operation: "up", preflight: async () => failed, onEvent: (e) => events.push(e) }),
                (err: unknown) => err instanceof PreflightError && err.report === failed);
            assert.deepEqual(engine.commands, ["preview:workloads"]);
            assert.deepEqual(events.map((e) => e.type), ["plan", "preflight", "preflight"]);
        });

        it("the preview runs only when the first report fails, and only when a change could answer a failing finding", async () => {
            let ran = 0;
            const ok = new FakeEngine("dev", { deployed: "workloads" });
            await runOperation(ok, { operation: "up", preflight: async () => { ran++; return passed; } });
            assert.deepEqual(ok.commands, ["preview:workloads", "up:workloads"], "one preview: the stage's own");
            const unreachable: PreflightReport = {
                ok: false, summary: { pass: 0, fail: 1, warn: 0, skip: 0 }, workloads: { green: 0, total: 1 },
                findings: [{ id: "vault.reachable", target: "vault", status: "fail", detail: "no answer from Vault (ECONNREFUSED)" }],
            };
            const down = new FakeEngine("dev", { deployed: "workloads" });
            await assert.rejects(runOperation(down, { operation: "up", preflight: async () => { ran++; return unreachable; } }),
                PreflightError);
            assert.deepEqual(down.commands, [], "no preview: no change of this up answers an unreachable Vault");
            assert.equal(ran, 2);
        });

        it("cancelled during the gate's preview: CancelledError, nothing applied", async () => {
            const engine = new FakeEngine("dev", { deployed: "workloads" }).fault({ op: "preview", kind: "hang" });
            const abort = new AbortController();
            const gate = async () => { setTimeout(() => abort.abort(), 5); return failed; };
            await assert.rejects(runOperation(engine, { operation: "up", preflight: gate, signal: abort.signal }), CancelledError);
            assert.deepEqual(engine.commands, ["preview:workloads"]);
        });
    });
});
