/**
 * Acting as each workload, against the live cluster and Vault: request a service-account token
 * for the planned audience (TokenRequest, 600 s, the API's minimum), log in at the planned mount
 * and role, ask `sys/capabilities-self` about every path, revoke the login's token. Nothing here
 * reads a secret; the JWT and the Vault token live in local variables of one function and are
 * dropped after use. The diagnosis gets what this collected through `PreflightObservations`; the
 * tests implement the two small interfaces with recorded answers.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import {
    Answer, CallError, Deployed, LiveMount, LiveRole, OperatorReads, PreflightObservations, PreflightPlan, WorkloadObservation,
} from "./types";
import { expectsAuthMount, expectsRole } from "./deployed";

/** The shortest lifetime TokenRequest accepts (`expirationSeconds` must be at least 10 minutes). */
const TOKEN_SECONDS = 600;

/** The Kubernetes calls the preflight makes. */
export interface TokenIssuer {
    /** `POST /api/v1/namespaces/<ns>/serviceaccounts/<sa>/token` for `audience`; resolves with the token (secret). */
    requestToken(namespace: string, serviceAccount: string, audience: string, expirationSeconds: number): Promise<string>;
    /**
     * `GET /api/v1/namespaces/<ns>/secrets/<name>`, resolving with its `metadata.uid` only (the
     * reviewer's token Secret: is it still the one whose token Vault holds?). Optional.
     */
    secretUid?(namespace: string, name: string): Promise<string>;
}

/** The Vault calls. The operator reads are absent without an operator token. */
export interface VaultClient {
    operator?: {
        /** `GET sys/mounts/<path>` (an auth mount: `auth/<path>`). */
        readMount(path: string): Promise<LiveMount>;
        /** `GET auth/<authPath>/role/<role>`. */
        readRole(authPath: string, role: string): Promise<LiveRole>;
    };
    /** `POST auth/<authPath>/login` with `{role, jwt}`; resolves with the client token (secret) and its policies. */
    login(authPath: string, role: string, jwt: string): Promise<{ token: string; policies: string[] }>;
    /** `POST sys/capabilities-self` with `{paths}`, as `token`. */
    capabilitiesSelf(token: string, paths: string[]): Promise<Record<string, string[]>>;
    /** `POST auth/token/revoke-self`, as `token`. */
    revokeSelf(token: string): Promise<void>;
}

/** Network and TLS failures: no answer from the server at all (Node's errno codes, undici's, OpenSSL's). */
const UNREACHABLE = new Set([
    "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN",
    "CERT_HAS_EXPIRED", "ERR_TLS_CERT_ALTNAME_INVALID", "TimeoutError",
]);

function unreachableCode(err: unknown): string | undefined {
    for (let e: unknown = err, depth = 0; typeof e === "object" && e !== null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
        const code = (e as { code?: unknown }).code;
        if (typeof code === "string" && UNREACHABLE.has(code)) return code;
        const name = (e as { name?: unknown }).name;
        if (name === "TimeoutError") return "ETIMEDOUT";
    }
    return undefined;
}

/** An error as the report may show it: status, network code, the first line of the message. */
function callError(err: unknown): CallError {
    const e = (typeof err === "object" && err !== null ? err : {}) as { status?: unknown; code?: unknown; body?: unknown };
    const status = typeof e.status === "number" ? e.status : typeof e.code === "number" ? e.code : undefined;
    const code = unreachableCode(err);
    let message = err instanceof Error ? err.message : String(err);
    // client-node puts the Status object in `body`: its `message` says why (`serviceaccounts "x" not found`).
    if (typeof e.body === "string") {
        try {
            const parsed = JSON.parse(e.body) as { message?: unknown };
            if (typeof parsed.message === "string") message = parsed.message;
        } catch {
            // not JSON: keep the error's own message
        }
    }
    message = message.split("\n")[0];
    if (message.length > 300) message = `${message.slice(0, 300)} …`;
    return { ...(status === undefined ? {} : { status }), ...(code === undefined ? {} : { code }), message };
}

async function answer<T>(call: () => Promise<T>): Promise<Answer<T>> {
    try {
        return { ok: true, value: await call() };
    } catch (err) {
        return { ok: false, ...callError(err) };
    }
}

/** Every path one workload's token is asked about, once each. */
function pathsToAsk(w: PreflightPlan["workloads"][number]): string[] {
    return [...new Set([...w.renders.map((r) => r.path), ...Object.keys(w.declared), ...w.foreign.map((f) => f.path)])];
}

async function operatorReads(plan: PreflightPlan, op: NonNullable<VaultClient["operator"]>, deployed: Deployed): Promise<OperatorReads> {
    const authMount = await answer(() => op.readMount(`auth/${plan.authPath}`));
    const kvMount = await answer(() => op.readMount(plan.kvMount));
    const roles: Record<string, Answer<LiveRole>> = {};
    // Roles are read once the mount answered; without it each read would fail the same way.
    if (authMount.ok || !expectsAuthMount(deployed)) {
        for (const role of new Set(plan.workloads.map((w) => w.role))) {
            roles[role] = authMount.ok ? await answer(() => op.readRole(plan.authPath, role)) : { ok: false, status: 404,
                message: "no auth mount" };
        }
    }
    return { authMount, kvMount, roles };
}

/**
 * Reads and acts as each workload; a failed call becomes an `Answer` error, never a throw. A
 * Vault or API server that cannot be reached at all stops the gathering with one observation.
 */
export async function gather(
    plan: PreflightPlan, deployed: Deployed, k8s: TokenIssuer, vault: VaultClient,
): Promise<PreflightObservations> {
    const obs: PreflightObservations = { workloads: {} };
    const reviewer = plan.reviewerTokenSecret;
    if (reviewer !== undefined && k8s.secretUid !== undefined) {
        const read = k8s.secretUid.bind(k8s);
        obs.reviewerTokenSecret = await answer(() => read(reviewer.namespace, reviewer.name));
    }
    if (vault.operator !== undefined) {
        obs.operator = await operatorReads(plan, vault.operator, deployed);
        const down = obs.operator.authMount;
        if (!down.ok && down.code !== undefined) {
            obs.vaultUnreachable = { code: down.code, message: down.message };
            return obs;
        }
    }
    for (const w of plan.workloads) {
        // A role for every namespace or service account names no one identity to act as.
        if (w.namespace === "*" || w.serviceAccount === "*") continue;
        const seen: WorkloadObservation = { tokenRequest: { ok: true, value: true } };
        obs.workloads[w.name] = seen;
        let jwt: string;
        try {
            jwt = await k8s.requestToken(w.namespace, w.serviceAccount, w.audience, TOKEN_SECONDS);
        } catch (err) {
            seen.tokenRequest = { ok: false, ...callError(err) };
            if (seen.tokenRequest.code !== undefined) {
                obs.clusterUnreachable = { code: seen.tokenRequest.code, message: seen.tokenRequest.message };
                return obs;
            }
            continue;
        }
        // A role the state does not hold is one this `up` creates: no login to try yet.
        if (deployed.inState !== undefined && !expectsRole(deployed, w.name)) continue;
        let token: string;
        try {
            const login = await vault.login(plan.authPath, w.role, jwt);
            token = login.token;
            seen.login = { ok: true, value: { policies: login.policies } };
        } catch (err) {
            seen.login = { ok: false, ...callError(err) };
            if (seen.login.code !== undefined) {
                obs.vaultUnreachable = { code: seen.login.code, message: seen.login.message };
                return obs;
            }
            continue;
        }
        try {
            seen.capabilities = await answer(() => vault.capabilitiesSelf(token, pathsToAsk(w)));
        } finally {
            // Always: the token is the workload's, and nothing should hold it after this check.
            seen.revoked = await answer(async () => {
                await vault.revokeSelf(token);
                return true as const;
            });
        }
    }
    return obs;
}

/** A `TokenIssuer` over `@kubernetes/client-node`, from a kubeconfig the caller has vetted and loaded. */
export async function kubernetesTokenIssuer(kc: KubeConfig): Promise<TokenIssuer> {
    const k = await import("@kubernetes/client-node");
    const core = kc.makeApiClient(k.CoreV1Api);
    return {
        requestToken: async (namespace, name, audience, expirationSeconds) => {
            const res = await core.createNamespacedServiceAccountToken({
                name, namespace, body: { spec: { audiences: [audience], expirationSeconds } },
            });
            const token = res.status?.token;
            if (token === undefined || token === "") throw new Error(`TokenRequest for ${namespace}/${name}: no token in the answer`);
            return token;
        },
        // The answer carries the Secret's token too: only the uid leaves this function.
        secretUid: async (namespace, name) => (await core.readNamespacedSecret({ namespace, name })).metadata?.uid ?? "",
    };
}

export class VaultCallError extends Error {
    constructor(public readonly status: number, message: string) {
        super(message);
        this.name = "VaultCallError";
    }
}

interface VaultClientOptions {
    address: string;
    /** The preflight's own token, for the reads in docs/preflight.md (secret: only the X-Vault-Token header). Omitted: no reads. */
    operatorToken?: string;
    /** Vault Enterprise namespace. */
    namespace?: string;
    /** Injected in tests. Default: the global `fetch`. */
    fetch?: typeof fetch;
    /** Per call. Default 15000 ms. */
    timeoutMs?: number;
}

/** A `VaultClient` over Vault's HTTP API. Error messages carry Vault's `errors`, never a token. */
export function vaultClient(opts: VaultClientOptions): VaultClient {
    const doFetch = opts.fetch ?? fetch;
    const base = opts.address.replace(/\/+$/, "");
    const call = async <T>(method: "GET" | "POST", path: string, token: string | undefined, body?: unknown): Promise<T> => {
        const headers: Record<string, string> = {};
        if (token !== undefined) headers["X-Vault-Token"] = token;
        if (opts.namespace !== undefined) headers["X-Vault-Namespace"] = opts.namespace;
        if (body !== undefined) headers["Content-Type"] = "application/json";
        const res = await doFetch(`${base}/v1/${path}`, {
            method, headers, body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(opts.timeoutMs ?? 15000),
        });
        const text = await res.text();
        let parsed: { errors?: unknown } & Record<string, unknown> = {};
        try {
            parsed = text === "" ? {} : (JSON.parse(text) as typeof parsed);
        } catch {
            parsed = {};
        }
        if (!res.ok) {
            const errors = Array.isArray(parsed.errors) ? parsed.errors.filter((e): e is string => typeof e === "string") : [];
            throw new VaultCallError(res.status, `${method} /v1/${path}: ${res.status}${errors.length > 0 ? ` ${errors.join("; ")}` : ""}`);
        }
        return parsed as T;
    };
    const op = opts.operatorToken;
    return {
        ...(op === undefined ? {} : {
            operator: {
                readMount: async (path) => (await call<{ data?: LiveMount }>("GET", `sys/mounts/${path}`, op)).data ?? {},
                readRole: async (authPath, role) =>
                    (await call<{ data?: LiveRole }>("GET", `auth/${authPath}/role/${encodeURIComponent(role)}`, op)).data ?? {},
            },
        }),
        login: async (authPath, role, jwt) => {
            const r = await call<{ auth?: { client_token?: string; policies?: string[] } }>(
                "POST", `auth/${authPath}/login`, undefined, { role, jwt },
            );
            const token = r.auth?.client_token;
            if (token === undefined || token === "") throw new VaultCallError(200, `POST /v1/auth/${authPath}/login: no client token`);
            return { token, policies: r.auth?.policies ?? [] };
        },
        capabilitiesSelf: async (token, paths) => {
            const r = await call<{ data?: Record<string, unknown> } & Record<string, unknown>>(
                "POST", "sys/capabilities-self", token, { paths },
            );
            const data = r.data ?? r;
            const out: Record<string, string[]> = {};
            for (const p of paths) {
                // One path: older servers answer only under `capabilities`.
                const caps = data[p] ?? (paths.length === 1 ? data.capabilities : undefined);
                out[p] = Array.isArray(caps) ? caps.filter((c): c is string => typeof c === "string") : [];
            }
            return out;
        },
        revokeSelf: async (token) => {
            await call("POST", "auth/token/revoke-self", token, {});
        },
    };
}
