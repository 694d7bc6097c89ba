/**
 * The routine edits of docs/data-safety.md, one scenario each: a settings change and a real `up`,
 * then what the doc says is kept must be byte for byte what it was (every KV version, every object
 * by uid), and what it says is replaced must be replaced. Everything the scenario does not name
 * as changing is compared too (snapshot.ts `unexpected`).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import { Checks } from "../checks";
import { chartPath } from "../deploy";
import { helmRelease } from "../seed";
import { sh } from "../systems";
import { AuthMountSwitchError } from "../../../../src/errors";
import { EXIT } from "../../../../src/exitCodes";
import { Day2, Settings, changes } from "./context";
import { Expected, Snapshot, unexpected } from "./snapshot";

export const PROJECT = "aks-vault";

/** The generated policy's name (`vault.policyNaming: scoped`, the default). */
export const policyOf = (stack: string, workload: string) => `${PROJECT}.${stack}.${workload}`;

/** A second workload in the first one's namespace (it does not create it), with a literal write-once seed. */
export function reader(namespace: string): Settings {
    return {
        name: "reader",
        namespace,
        createNamespace: false,
        serviceAccount: "reader",
        tokenTtl: 3600,
        policies: ["default"],
        secrets: [{ file: "config", path: "reader/config", key: "api" }],
        seed: [{ path: "reader/config", values: { api: { value: "reader-v1" } } }],
        deployment: { image: "busybox:1.36", replicas: 1 },
    };
}

/**
 * Runs an up; `unexpected` differences between the snapshots around it are failures. With
 * `gateWarns`, the change rebinds what the preflight gate judges (docs/preflight.md): the gate
 * must let the up through, warning about exactly what this up rewrites (each warned finding
 * `<id> <target>` matches), and fail nothing.
 */
async function applied(
    d: Day2, checks: Checks, settings: Settings, expected: Expected, gateWarns?: RegExp,
): Promise<{ before: Snapshot; after: Snapshot; changed: Record<string, number> }> {
    const before = await d.snapshot();
    const result = await d.up(settings);
    if (gateWarns !== undefined) {
        const gate = d.lastEvents.find((e) => e.type === "preflight" && e.status !== "running");
        const findings = gate?.type === "preflight" ? gate.report?.findings ?? [] : [];
        const warned = findings.filter((f) => f.status === "warn").map((f) => `${f.id} ${f.target}`);
        checks.that("the preflight gate passes, warning about what this up rewrites (documented)",
            gate?.type === "preflight" && gate.status === "passed" && warned.length > 0 && warned.every((w) => gateWarns.test(w)),
            JSON.stringify({ status: gate?.type === "preflight" ? gate.status : "no gate", warned }));
    }
    const after = await d.snapshot();
    checks.equal("nothing else changed in the API server or Vault", unexpected(before, after, expected), []);
    return { before, after, changed: changes(result) };
}

/** The key is there, and holds the same before and after. */
function same(checks: Checks, name: string, before: Snapshot, after: Snapshot, key: string): void {
    checks.that(name, before.has(key) && after.get(key) === before.get(key), `${before.get(key)} -> ${after.get(key)}`);
}

const LAST_USED = "kubernetes.io/legacy-token-last-used";
const lastUsed = (outputs: any): unknown => outputs?.metadata?.labels?.[LAST_USED];

/**
 * Outputs as a comparison should see them: the engine's and providers' bookkeeping dropped
 * (`__inputs`, the bridge's raw state delta, resourceVersion, managedFields, the API server's
 * last-used label), and an empty list, map or string the same as an absent value (the Vault
 * provider reads back `[]` where it wrote nothing).
 */
function normalized(v: unknown): unknown {
    if (v === null || v === undefined || v === "") return undefined;
    if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(normalized);
    if (typeof v === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
            if (["__inputs", "__pulumi_raw_state_delta", "resourceVersion", "managedFields", LAST_USED].includes(k)) continue;
            const n = normalized(x);
            if (n !== undefined) out[k] = n;
        }
        return Object.keys(out).length === 0 ? undefined : out;
    }
    return v;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

export async function idempotence(d: Day2, checks: Checks): Promise<void> {
    const before = await d.snapshot();
    const again = await d.up(d.settings);
    checks.equal("a second up: the engine changes nothing", [changes(again), d.lastChanged()], [{}, []]);
    const state = d.stateOutputs();
    const refreshed = await d.up(d.settings, { operation: "refresh" });
    // The engine counts a resource as drifted when its refreshed outputs differ. The one difference
    // expected: the API server labels a legacy service-account token Secret when it is used
    // (`kubernetes.io/legacy-token-last-used`, KEP-2799), here the reviewer's token after Vault's
    // first TokenReview; a later `up` leaves that label alone (it is not the program's field).
    const drift: string[] = [];
    let lastUsedLabel = 0;
    for (const [urn, outputs] of d.stateOutputs()) {
        const was = state.get(urn) ?? {};
        if (isDeepStrictEqual(normalized(was), normalized(outputs))) {
            if (!isDeepStrictEqual(was, outputs) && lastUsed(was) !== lastUsed(outputs)) lastUsedLabel++;
            continue;
        }
        const keys = [...new Set([...Object.keys(was), ...Object.keys(outputs)])]
            .filter((k) => !isDeepStrictEqual(normalized(was[k]), normalized(outputs[k])));
        drift.push(`${urn.split("::").pop()}: ${keys.join(",")}`);
    }
    checks.equal("refresh finds no drift (but the API server's legacy-token-last-used label)",
        [changes(refreshed), drift], [lastUsedLabel === 0 ? {} : { update: lastUsedLabel }, []]);
    const after = await d.snapshot();
    checks.equal("the API server and Vault hold the same", unexpected(before, after, {}), []);
}

export async function addWorkload(d: Day2, checks: Checks, extra: Settings): Promise<void> {
    const ns = esc(extra.namespace);
    const { after } = await applied(d, checks, d.edit((s) => s.workloads.push(extra)), {
        added: [
            new RegExp(`^kv secret/${esc(extra.seed[0].path)} v1$`),
            new RegExp(`^k8s \\w+ ${ns}(/|$)`),
            new RegExp(`^vault (role \\w[\\w-]*/${esc(extra.name)}|policy ${esc(policyOf(d.stack, extra.name))})$`),
        ],
        // The namespace was recorded as absent: now it exists.
        changed: [new RegExp(`^k8s namespace ${ns}$`)],
    });
    checks.that(`namespace ${extra.namespace} created`, after.get(`k8s namespace ${extra.namespace}`)?.startsWith("uid ") === true);
    checks.that(`seed ${extra.seed[0].path} written (v1)`, after.has(`kv secret/${extra.seed[0].path} v1`));
    checks.that(`role ${extra.name} created`, after.has(`vault role ${d.settings.kubernetesAuth.path}/${extra.name}`));
}

export async function rename(d: Day2, checks: Checks, from: string, to: string): Promise<void> {
    const w = d.settings.workloads.find((x: Settings) => x.name === from);
    const ns = esc(w.namespace);
    const auth = esc(d.settings.kubernetesAuth.path);
    const { before, after } = await applied(d, checks, d.edit((s) => {
        const x = s.workloads.find((y: Settings) => y.name === from);
        x.name = to;
        x.formerName = from;
    }), {
        // The doc: policy and role replaced under the new names, the Deployment replaced (its name changes).
        gone: [
            new RegExp(`^vault (role ${auth}/${esc(from)}|policy ${esc(policyOf(d.stack, from))})$`),
            new RegExp(`^k8s deployment ${ns}/${esc(from)}$`),
        ],
        added: [
            new RegExp(`^vault (role ${auth}/${esc(to)}|policy ${esc(policyOf(d.stack, to))})$`),
            new RegExp(`^k8s deployment ${ns}/${esc(to)}$`),
        ],
    });
    same(checks, `namespace ${w.namespace} kept (same uid)`, before, after, `k8s namespace ${w.namespace}`);
    const sa = `k8s serviceaccount ${w.namespace}/${w.serviceAccount}`;
    same(checks, `service account ${w.serviceAccount} kept (same uid)`, before, after, sa);
    checks.that(`role ${to} and policy ${policyOf(d.stack, to)} exist`,
        after.has(`vault role ${d.settings.kubernetesAuth.path}/${to}`) && after.has(`vault policy ${policyOf(d.stack, to)}`));
    // The doc: remove formerName after one up; that up changes nothing.
    const settled = await d.up(d.edit((s) => delete s.workloads.find((y: Settings) => y.name === to).formerName));
    checks.equal("the up after removing formerName changes nothing", changes(settled), {});
}

/**
 * A value rotated in Vault by hand, then the stack's write-once seeds edited (a literal changed,
 * a random length changed): Vault keeps every version, the rotated one current.
 */
export async function writeOnceSeed(
    d: Day2, checks: Checks, rotatedPath: string, literal: { workload: string; key: string; value: string },
): Promise<void> {
    const mount = d.settings.kv?.path ?? "secret";
    const rotated = { token: `rotated-by-hand-${Date.now()}` };
    const w = await d.vault.call("POST", `${mount}/data/${rotatedPath}`, { data: rotated });
    checks.equal(`a rotation written to ${rotatedPath} by hand`, w.status, 200);
    const version = w.body.data?.version as number;
    await applied(d, checks, d.edit((s) => {
        for (const x of s.workloads) {
            for (const seed of x.seed ?? []) {
                for (const v of Object.values(seed.values) as Settings[]) {
                    if (v.random !== undefined) v.random.length = (v.random.length ?? 32) + 8;
                }
                if (x.name === literal.workload) seed.values[literal.key] = { value: literal.value };
            }
        }
    }), {});
    checks.equal(`${rotatedPath}: the rotated value is still current`, await d.kv(rotatedPath), rotated);
    checks.equal(`${rotatedPath}: still ${version} versions`, Object.keys((await d.kvMeta(rotatedPath)).versions).length, version);
    const seedPath = d.settings.workloads.find((x: Settings) => x.name === literal.workload).seed[0].path;
    checks.that(`${seedPath}: the edited literal was not written`, (await d.kv(seedPath))?.[literal.key] !== literal.value);
}

export async function ttlAndPolicyPath(d: Day2, checks: Checks, workload: string): Promise<void> {
    const auth = d.settings.kubernetesAuth.path;
    const newPath = `${workload}/extra`;
    const { before, after } = await applied(d, checks, d.edit((s) => {
        const x = s.workloads.find((y: Settings) => y.name === workload);
        x.tokenTtl = 1800;
        x.secrets.push({ file: "extra", path: newPath, key: "x" });
    }), {
        changed: [
            new RegExp(`^vault role ${esc(auth)}/${esc(workload)}$`),
            new RegExp(`^vault policy ${esc(policyOf(d.stack, workload))}$`),
        ],
    }, new RegExp(`^(path\\.read ${esc(workload)}:.*/${esc(newPath)}|workload\\.role .*/${esc(workload)})$`));
    const role = (await d.vault.read(`auth/${auth}/role/${workload}`)).data;
    checks.equal("role token_ttl is the new TTL", role.token_ttl, 1800);
    const policy = (await d.vault.read(`sys/policies/acl/${policyOf(d.stack, workload)}`)).data.policy as string;
    checks.that(`policy reads ${newPath}`, policy.includes(`/data/${newPath}"`), policy);
    const w = d.settings.workloads.find((y: Settings) => y.name === workload);
    const dep = `k8s deployment ${w.namespace}/${workload}`;
    checks.equal("the Deployment is kept (rolled, same uid)", after.get(dep), before.get(dep));
}

const switched = (d: Day2, to: "kubernetes" | "jwt", path: string) => d.edit((s) => {
    s.kubernetesAuth = { ...s.kubernetesAuth, method: to, path };
    if (to === "jwt") s.kubernetesAuth.tokenExpirationSeconds = 3600;
    else delete s.kubernetesAuth.tokenExpirationSeconds;
});

/**
 * kubernetes -> jwt on the same mount path, as a user would write it. Both mounts are separate
 * resources, so the engine would enable the new one before it disables the old, and Vault would
 * answer "path is already in use" half way through the up: the runner refuses it first
 * (AuthMountSwitchError, exit 3), for `up` and `preview`, with or without the gate, before any
 * engine command, and nothing changes.
 */
export async function switchMethodSamePath(d: Day2, checks: Checks, to: "kubernetes" | "jwt"): Promise<void> {
    const path = d.settings.kubernetesAuth.path;
    const from = d.settings.kubernetesAuth.method ?? "kubernetes";
    const before = await d.snapshot();
    for (const [operation, preflight] of [["up", false], ["up", true], ["preview", true]] as const) {
        let err: unknown;
        try {
            await d.up(switched(d, to, path), { operation, preflight });
        } catch (e) {
            err = e;
        }
        const refused = err instanceof AuthMountSwitchError && err.exitCode === EXIT.settings
            && [err.path, err.deployedMethod, err.method].join() === [path, from, to].join()
            && err.message.startsWith(`kubernetesAuth.path: "${path}" is this stack's ${from} auth mount;`);
        const label = `${operation}${preflight ? "" : " --no-preflight"}`;
        checks.that(`${label}: refused (AuthMountSwitchError, exit 3, naming kubernetesAuth.path and the fix)`, refused,
            String(err).split("\n")[0]);
        checks.equal(`${label}: no engine command ran`, d.lastEvents.filter((e) => e.type !== "plan").map((e) => e.type), []);
    }
    checks.equal("the API server and Vault hold what they held", unexpected(before, await d.snapshot(), {}), []);
}

/**
 * kubernetes <-> jwt with a new mount path (the new mount is enabled beside the old one, then the
 * old one disabled): the roles move to the new mount; KV, namespaces, accounts, Deployments kept.
 */
export async function switchMethod(d: Day2, checks: Checks, to: "kubernetes" | "jwt", path: string): Promise<void> {
    const auth = esc(d.settings.kubernetesAuth.path);
    const next = esc(path);
    const inj = esc(d.settings.injector?.namespace ?? "vault");
    // The chart's injector.authPath follows the mount: a Helm upgrade that rolls the injector.
    const { after } = await applied(d, checks, switched(d, to, path), {
        changed: [new RegExp(`^vault auth (${auth}|${next})/$`)],
        // The reviewer (account, token Secret, auth-delegator binding) exists for the kubernetes method only.
        gone: [new RegExp(`^k8s (serviceaccount|secret|rolebinding) ${inj}/.*reviewer`), /^k8s clusterrolebinding .*/,
            new RegExp(`^vault role ${auth}/`)],
        added: [new RegExp(`^k8s (serviceaccount|secret|rolebinding) ${inj}/.*reviewer`), /^k8s clusterrolebinding .*/,
            new RegExp(`^vault (role ${next}/|auth ${next}/$)`)],
    }, /^(vault\.auth-mount|workload\.role|workload\.login) /);
    const mount = after.get(`vault auth ${d.settings.kubernetesAuth.path}/`);
    checks.that(`auth mount ${d.settings.kubernetesAuth.path}/ is ${to}`, mount?.startsWith(`${to} `) === true, mount);
    for (const w of d.settings.workloads) {
        const role = (await d.vault.read(`auth/${d.settings.kubernetesAuth.path}/role/${w.role ?? w.name}`)).data;
        const isIt = to === "jwt" ? role.role_type === "jwt" : Array.isArray(role.bound_service_account_names);
        checks.that(`role ${w.role ?? w.name} is a ${to} role`, isIt, JSON.stringify(role));
    }
}

/**
 * The packaged chart (shared/thirdparty holds only 0.34.1) with only its version changed. The
 * program accepts the chart versions whose values it checks (0.25.0, 0.34.1), so the day-2 stack
 * starts on this copy labelled 0.25.0 and is bumped to the real 0.34.1: Helm sees a new chart
 * version and upgrades the release; the templates are the same on both sides.
 */
export function relabelledChart(version: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), "day2-chart-"));
    sh("tar", ["-xzf", chartPath(), "-C", dir]);
    const chartYaml = path.join(dir, "vault", "Chart.yaml");
    writeFileSync(chartYaml, readFileSync(chartYaml, "utf8").replace(/^version: .*$/m, `version: ${version}`));
    const out = path.join(dir, `vault-${version}.tgz`);
    sh("tar", ["-czf", out, "-C", dir, "vault"]);
    return out;
}

export async function chartBump(d: Day2, checks: Checks, version: string, file: string): Promise<void> {
    const ns = d.settings.injector?.namespace ?? "vault";
    const release = d.settings.injector?.releaseName ?? "vault";
    const revision = helmRelease(d.kube, ns, release).version as number;
    const bumped = d.edit((s) => (s.injector = { ...s.injector, chartVersion: version, chartPath: file }));
    const { before, after } = await applied(d, checks, bumped, {});
    const rel = helmRelease(d.kube, ns, release);
    checks.equal("Helm release upgraded to the new chart",
        [rel.chart.metadata.version, rel.version, rel.info.status], [version, revision + 1, "deployed"]);
    const dep = `k8s deployment ${ns}/${release}-agent-injector`;
    checks.equal("the injector Deployment is kept (same uid)", after.get(dep), before.get(dep));
}

/** Removes the workload that created a namespace another one uses. */
export async function removeShared(d: Day2, checks: Checks, removed: string): Promise<void> {
    const w = d.settings.workloads.find((x: Settings) => x.name === removed);
    const ns = esc(w.namespace);
    const auth = esc(d.settings.kubernetesAuth.path);
    const seedPaths: string[] = w.seed.map((s: Settings) => s.path);
    const metaBefore = Object.fromEntries(await Promise.all(seedPaths.map(async (p) => [p, await d.kvMeta(p)] as const)));
    const without = d.edit((s) => (s.workloads = s.workloads.filter((x: Settings) => x.name !== removed)));
    const { before, after } = await applied(d, checks, without, {
        gone: [
            new RegExp(`^vault (role ${auth}/${esc(w.role ?? removed)}|policy ${esc(policyOf(d.stack, removed))})$`),
            new RegExp(`^k8s (serviceaccount ${ns}/${esc(w.serviceAccount)}|deployment ${ns}/${esc(removed)})$`),
        ],
        // The doc: the latest version of each seed soft-deleted, earlier versions kept.
        changed: seedPaths.map((p) => new RegExp(`^kv secret/${esc(p)} v${metaBefore[p].current_version}$`)),
    });
    same(checks, `namespace ${w.namespace} kept (same uid)`, before, after, `k8s namespace ${w.namespace}`);
    for (const p of seedPaths) {
        const meta = await d.kvMeta(p);
        const latest = meta.versions[String(metaBefore[p].current_version)];
        const soft = latest.deletion_time !== "" && latest.destroyed === false;
        checks.that(`${p}: latest version soft-deleted (recoverable)`, soft, JSON.stringify(latest));
        for (let v = 1; v < metaBefore[p].current_version; v++) {
            checks.equal(`${p} v${v} kept byte for byte`, after.get(`kv secret/${p} v${v}`), before.get(`kv secret/${p} v${v}`));
        }
    }
}
