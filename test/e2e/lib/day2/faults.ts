/**
 * Faults on the real local stack, each during a real run: the run must end with a typed error
 * that names the stage and the resource, and a rerun must complete.
 *
 * How each is produced, and why that way:
 * - Vault unreachable during `vault-auth`: the dev server is sealed (`sys/seal`) as soon as the
 *   engine starts the stage's first Vault resource, then unsealed with the dev server's unseal key
 *   (printed in its log). Stopping the process would be more brutal but the dev server keeps
 *   everything in memory: a restart is a new, empty Vault, not an outage. Sealed, it answers every
 *   request with 503 "Vault is sealed", as a real Vault does during a failover or a restart.
 * - API server down during `workloads`: its PID (stack.sh's pids/kube-apiserver.pid) gets SIGKILL
 *   when the engine starts the stage's first Kubernetes resource; `stack.sh restart` relaunches
 *   it with its recorded command line (etcd keeps the data).
 * - Ctrl-C: the run's AbortSignal is aborted; the Automation API sends SIGINT to the CLI.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { CancelledError, GateError, StackLockedError, StageFailedError, UnsafeStageError } from "../../../../src/errors";
import { EXIT } from "../../../../src/exitCodes";
import { PreflightError } from "../../../../src/preflight/error";
import type { RunEvent, RunResult } from "../../../../src/automation/runner";
import { Checks, waitFor } from "../checks";
import { Day2, Settings, changes } from "./context";
import { unexpected } from "./snapshot";

type Hook = (e: RunEvent) => void;

const completed = (r: RunResult) => r.stages.some((s) => s.stage === "workloads" && s.status === "done");

/** Runs `up` with `onEvent` hooked; returns the error it rejected with (or undefined). */
async function upWith(d: Day2, settings: Settings, hook: Hook, extra: Record<string, unknown> = {}): Promise<unknown> {
    try {
        await d.up(settings, { ...extra, onEvent: hook });
        return undefined;
    } catch (err) {
        return err;
    }
}

/** The error names the stage and a resource of that stage, in its fields and its message. */
function namesStageAndResource(checks: Checks, err: unknown, stage: string, resourceType: RegExp): void {
    if (!checks.that(`fails with StageFailedError (exit 8)`, err instanceof StageFailedError, String(err))) return;
    const e = err as StageFailedError;
    checks.equal("the error names the stage", e.stage, stage);
    const resource = e.resource ?? "";
    checks.that("the error names the failing resource", resourceType.test(resource), e.resource ?? "no resource");
    checks.that("the message says both and how to resume",
        e.message.includes(`stage ${stage}`) && resource !== "" && e.message.includes(resource) && /rerun/.test(e.message), e.message);
}

function unsealKey(d: Day2): string {
    const log = readFileSync(path.join(d.env.stateDir, "logs", "bao.log"), "utf8");
    const m = /^Unseal Key: (\S+)$/m.exec(log);
    if (m === null) throw new Error("the dev server's log holds no unseal key");
    return m[1];
}

/** First up of the later stages with Vault sealed mid-`vault-auth`; the rerun completes. */
export async function vaultSealedInVaultAuth(d: Day2, checks: Checks, settings: Settings): Promise<void> {
    let sealing: Promise<unknown> | undefined;
    let sealedAt: string | undefined;
    const err = await upWith(d, settings, (e) => {
        if (sealing === undefined && e.type === "resource" && e.stage === "vault-auth" && e.phase === "up"
            && e.status === "started" && e.op !== "same" && e.resourceType.startsWith("vault:")) {
            sealedAt = e.name;
            sealing = d.vault.call("PUT", "sys/seal");
        }
    });
    const sealed = await sealing;
    const status = (sealed as { status: number } | undefined)?.status;
    checks.that("Vault was sealed while the stage ran", sealedAt !== undefined && status === 204, `sealed at ${sealedAt}: ${status}`);
    namesStageAndResource(checks, err, "vault-auth", /[:$]vault:[a-z]/);
    const unseal = await d.vault.call("PUT", "sys/unseal", { key: unsealKey(d) }, null);
    checks.equal("Vault unsealed", unseal.body.sealed, false);
    const rerun = await d.up(settings);
    checks.that("the rerun completes every stage", completed(rerun), JSON.stringify(rerun.stages));
}

/** The API server stopped mid-`workloads` (the stack holds vault-auth); restarted; the rerun completes. */
export async function apiServerDownInWorkloads(d: Day2, checks: Checks, settings: Settings): Promise<void> {
    let stoppedAt: string | undefined;
    const err = await upWith(d, settings, (e) => {
        if (stoppedAt === undefined && e.type === "resource" && e.stage === "workloads" && e.phase === "up"
            && e.status === "started" && e.op !== "same" && e.resourceType.startsWith("kubernetes:")) {
            stoppedAt = e.name;
            // SIGKILL: a crash. SIGTERM starts a graceful drain that can keep serving for a while.
            process.kill(d.pid("kube-apiserver"), "SIGKILL");
        }
    });
    checks.that("the API server was stopped while the stage ran", stoppedAt !== undefined, "no Kubernetes resource started");
    namesStageAndResource(checks, err, "workloads", /[:$]kubernetes:[a-z]/);
    d.restart("kube-apiserver");
    const rerun = await d.up(settings);
    checks.that("the rerun completes", completed(rerun), JSON.stringify(rerun.stages));
}

/** Ctrl-C during an up that adds a workload: CancelledError, then the rerun completes. */
export async function ctrlC(d: Day2, checks: Checks, settings: Settings): Promise<void> {
    const ac = new AbortController();
    let abortedAt: string | undefined;
    const err = await upWith(d, settings, (e) => {
        if (abortedAt === undefined && e.type === "resource" && e.phase === "up" && e.status === "started" && e.op !== "same") {
            abortedAt = `${e.op} ${e.name}`;
            ac.abort();
        }
    }, { signal: ac.signal });
    checks.that("aborted while a resource was changing", abortedAt !== undefined);
    checks.that("fails with CancelledError (exit 130) naming the stage",
        err instanceof CancelledError && err.stage === "workloads" && err.message.includes("stage workloads"), String(err));
    const rerun = await d.up(settings);
    checks.that("the rerun completes", rerun.stages.some((s) => s.status === "done"), JSON.stringify(rerun.stages));
    checks.equal("a third up changes nothing", changes(await d.up(settings)), {});
}

/** `--stage` below the deployed stage, against the real state: refused, nothing runs. */
export async function stageCutRefused(d: Day2, checks: Checks): Promise<void> {
    const before = await d.snapshot();
    for (const stage of ["cluster", "injector", "vault-auth"] as const) {
        for (const operation of ["up", "preview"] as const) {
            let err: unknown;
            try {
                await d.runner.run(d.settings, { operation, stage });
            } catch (e) {
                err = e;
            }
            checks.that(`${operation} --stage ${stage} refused (UnsafeStageError, exit 9)`,
                err instanceof UnsafeStageError && err.deployed === "workloads" && err.requested === stage, String(err));
        }
    }
    checks.equal("nothing changed", unexpected(before, await d.snapshot(), {}), []);
}

/**
 * Two ups of the same stack at once: the second is refused as busy; nothing corrupted. The first
 * must still hold the stack when the second asks for it: its new Deployment's rollout is kept
 * waiting by pausing kwok (SIGSTOP: pods are scheduled but never reported Ready, as when a
 * kubelet is slow), and resumed (SIGCONT) once the second has been answered.
 */
export async function concurrentUps(d: Day2, checks: Checks): Promise<void> {
    const settings = d.edit((s) => s.workloads.push({
        name: "busy", namespace: "busy", serviceAccount: "busy", secrets: [{ file: "cfg", path: "busy/cfg", key: "k" }],
        seed: [{ path: "busy/cfg", values: { k: { random: { length: 16 } } } }], deployment: { image: "busybox:1.36", replicas: 2 },
    }));
    const kwok = d.pid("kwok");
    let started!: () => void;
    const updating = new Promise<void>((r) => (started = r));
    let second: unknown;
    let first: Promise<unknown> | undefined;
    process.kill(kwok, "SIGSTOP");
    try {
        first = upWith(d, settings, (e) => {
            if (e.type === "stage" && e.status === "updating") started();
        });
        // The first must reach its update; if it ends before, there is no lock to collide with.
        await Promise.race([updating, first]);
        try {
            // No waiting on the lock: the busy stack must be reported at once.
            await d.runner.run(settings, { retry: { attempts: 1 }, preflight: false });
        } catch (e) {
            second = e;
        }
    } finally {
        process.kill(kwok, "SIGCONT");
    }
    checks.that("the second fails: the stack is busy (StackLockedError, exit 6)",
        second instanceof StackLockedError && /locked by another update/.test(second.message), String(second));
    checks.equal("the first completes", await first, undefined);
    checks.equal("a next up changes nothing (state intact)", changes(await d.up(settings)), {});
}

/** The reviewer's token Secret, found by its type and the account it is for (…reviewer). */
function reviewerSecret(d: Day2): { name: string; uid: string } | undefined {
    const ns = d.settings.injector?.namespace ?? "vault";
    const s = d.kube.list("secret", ns).find((x) => x.type === "kubernetes.io/service-account-token"
        && /reviewer/.test(x.metadata.annotations?.["kubernetes.io/service-account.name"] ?? ""));
    return s === undefined ? undefined : { name: s.metadata.name, uid: s.metadata.uid };
}

/** A real login through the kubernetes auth mount (Vault calls the TokenReview API with the reviewer's JWT). */
async function loginAs(d: Day2, workload: Settings): Promise<number> {
    const auth = d.settings.kubernetesAuth.path;
    const role = (await d.vault.read(`auth/${auth}/role/${workload.role ?? workload.name}`)).data;
    const jwt = d.kube.token(workload.namespace, workload.serviceAccount, { audience: role.audience });
    const r = await d.vault.call("POST", `auth/${auth}/login`, { role: workload.role ?? workload.name, jwt }, null);
    if (r.body.auth?.client_token) await d.vault.call("POST", "auth/token/revoke-self", {}, r.body.auth.client_token);
    return r.status;
}

/**
 * The reviewer's token Secret deleted out of band: logins stop working (Vault's TokenReview calls
 * are refused). The next `up` fails naming the stage and the Secret it reads; the documented fix
 * (docs/doctor.md `reviewer.token`: `refresh`, then `up`) recreates it and logins work again.
 */
export async function reviewerSecretDeleted(d: Day2, checks: Checks): Promise<void> {
    const ns = d.settings.injector?.namespace ?? "vault";
    const workload = d.settings.workloads[d.settings.workloads.length - 1];
    const before = reviewerSecret(d);
    checks.that("the reviewer's token Secret exists", before !== undefined);
    if (before === undefined) return;
    checks.equal("a login works before", await loginAs(d, workload), 200);
    d.kube.run(["delete", "secret", before.name, "-n", ns]);
    // The API server's legacy-token check reads the Secret through its cache: refused within seconds.
    const refused = await waitFor("logins to be refused", async () => ((await loginAs(d, workload)) === 403 ? true : undefined), 60000)
        .catch(() => false);
    checks.that("a login is refused once the Secret is gone", refused === true);
    // The gate (docs/preflight.md) sees the Secret gone while the state still holds it: refused
    // before anything runs, naming the Secret and the documented fix.
    let gated: unknown;
    try {
        await d.up(d.settings);
    } catch (e) {
        gated = e;
    }
    const finding = gated instanceof PreflightError
        ? gated.report.findings.find((f) => f.id === "reviewer.token" && f.status === "fail") : undefined;
    checks.that("the next up is refused by the gate (PreflightError, exit 10), naming the Secret",
        finding !== undefined && finding.target === `${ns}/${before.name}` && gated instanceof PreflightError
        && gated.exitCode === EXIT.checksFailed, String(gated).split("\n")[0]);
    const documented = /`aks-vault refresh --stack [^`]+`, then `aks-vault up --stack [^`]+`/;
    checks.that("with the fix: refresh, then up", documented.test(finding?.fix ?? ""), finding?.fix ?? "no finding");
    // Without the gate the preview reads the Secret (Secret.get) and stops the run: nothing changed (exit 7).
    let err: unknown;
    try {
        await d.up(d.settings, { preflight: false });
    } catch (e) {
        err = e;
    }
    checks.that("without the gate the up fails at the preview (GateError, exit 7), naming the stage and the Secret",
        err instanceof GateError && err.stage === "workloads" && /Secret::.*reviewer/.test(err.resource ?? "")
        && err.message.includes(err.resource ?? "?"), String(err).split("\n")[0]);
    // The documented fix, as worded: refresh, then up (the gate lets it through, with a warning).
    await d.up(d.settings, { operation: "refresh" });
    await d.up(d.settings);
    const gate = d.lastEvents.find((e) => e.type === "preflight" && e.status !== "running");
    const warned = gate?.type === "preflight" ? gate.report?.findings.find((f) => f.id === "reviewer.token") : undefined;
    checks.that("the gate passed, warning that this up recreates the Secret",
        gate?.type === "preflight" && gate.status === "passed" && warned?.status === "warn", JSON.stringify(warned ?? gate ?? null));
    const after = reviewerSecret(d);
    checks.that("refresh then up recreates the Secret", after !== undefined && after.uid !== before.uid, JSON.stringify(after));
    checks.equal("a login works again", await loginAs(d, workload), 200);
    checks.equal("a next up changes nothing", changes(await d.up(d.settings)), {});
}

/**
 * A Vault token without the operator policy (only `default`): the run stops naming the stage and
 * the resource, before anything is written; the rerun with the operator's token completes.
 */
export async function tokenWithoutOperatorPolicy(d: Day2, checks: Checks): Promise<void> {
    const made = await d.vault.call("POST", "auth/token/create", { policies: ["default"], ttl: "15m" });
    const weak: string = made.body.auth?.client_token;
    const before = await d.snapshot();
    // Something for the run to write: a TTL change. Without the gate, whose reads would use the same
    // token: this fault is about what the engine's own failure says.
    const settings = d.edit((s) => (s.workloads[0].tokenTtl = (s.workloads[0].tokenTtl ?? 3600) - 60));
    const secrets = { ...d.runner.options(undefined).secrets, vaultToken: weak };
    let err: unknown;
    try {
        await d.up(settings, { secrets, preflight: false });
    } catch (e) {
        err = e;
    }
    const typed = err instanceof GateError || err instanceof StageFailedError;
    checks.that("fails with a typed error (GateError exit 7, or StageFailedError exit 8)", typed, String(err));
    if (typed) {
        const e = err as GateError | StageFailedError;
        checks.equal("the error names the stage", e.stage, "workloads");
        checks.that("the error names the resource", e.resource !== undefined && /vault/.test(e.resource), e.resource ?? "no resource");
        checks.that("the message says permission denied", /permission denied|403/.test(e.message), e.message.split("\n")[0]);
    }
    checks.equal("nothing was written", unexpected(before, await d.snapshot(), {}), []);
    await d.vault.call("POST", "auth/token/revoke", { token: weak });
    const rerun = await d.up(settings);
    checks.that("the rerun with the operator's token completes (the gate warns of the role it rewrites)", completed(rerun),
        JSON.stringify(rerun.stages));
}
