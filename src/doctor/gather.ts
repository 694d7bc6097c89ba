/**
 * Reading the live objects. The diagnosis never talks to a cluster or to Vault: it gets what
 * `gather` collected through two small interfaces, which the tests implement with recorded JSON.
 */
import type { V1Deployment, V1MutatingWebhookConfiguration, V1Pod, V1Secret, V1TokenReview } from "@kubernetes/client-node";
import { INJECTOR_NAME_LABEL } from "../agent/vocabulary";
import { INIT_CONTAINER, SIDECAR_CONTAINER } from "./diagnose";
import { KubeconfigPolicy, KubeconfigSource, vetKubeconfig } from "./kubeconfig";
import {
    Expectations, Observations, Observed, PodObservation, ReviewerTokenObservation, VaultAuthConfig, VaultObservations, VaultRole,
} from "./types";

/** Where the doctor's kubeconfig comes from by default. */
export const STACK_KUBECONFIG: KubeconfigSource = { kind: "stack", label: "stack output `kubeconfig`" };

/**
 * The Kubernetes reads the doctor makes; nothing here writes (a TokenReview is a create that the
 * API server answers and never stores).
 */
export interface ClusterReader {
    listDeployments(namespace: string, labelSelector: string): Promise<V1Deployment[]>;
    listMutatingWebhookConfigurations(labelSelector: string): Promise<V1MutatingWebhookConfiguration[]>;
    listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
    /** The last `tailLines` lines of one container's log. */
    readLog(namespace: string, pod: string, container: string, tailLines: number): Promise<string>;
    readSecret(namespace: string, name: string): Promise<V1Secret>;
    /**
     * `POST /apis/authentication.k8s.io/v1/tokenreviews` with `spec.token` and no audiences, so the
     * API server checks the token against its own audiences: the same check it makes when Vault
     * calls TokenReview with that token as its bearer (the reviewer JWT). Secret: the token.
     */
    createTokenReview(token: string): Promise<V1TokenReview>;
}

/** The Vault reads (both need only `read` on the auth mount's paths). */
export interface VaultReader {
    readAuthConfig(authPath: string): Promise<VaultAuthConfig>;
    readRole(authPath: string, role: string): Promise<VaultRole>;
}

/** An error that knows its HTTP status (Kubernetes `ApiException.code`, Vault's response status). */
function statusOf(err: unknown): number | undefined {
    if (typeof err !== "object" || err === null) return undefined;
    const e = err as { code?: unknown; status?: unknown };
    if (typeof e.code === "number") return e.code;
    if (typeof e.status === "number") return e.status;
    return undefined;
}

function firstLine(err: unknown): string {
    const msg = err instanceof Error ? err.message : String(err);
    // `fetch failed` says nothing; its cause says why (ECONNREFUSED, a certificate error).
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : "";
    // client-node puts the whole response body in the message; the first line says enough, cut
    // between words (a cut mid-address reads as a different address).
    const line = `${msg.split("\n")[0]}${cause}`;
    if (line.length <= 200) return line;
    const cut = line.lastIndexOf(" ", 199);
    return `${line.slice(0, cut > 100 ? cut : 199)} …`;
}

/** Network errors that mean "no connection to the server at all" (Node's errno codes, undici's connect timeout). */
const NETWORK_ERRORS = [
    "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT",
];
/** TLS failures: the server answered with a certificate the configured CA does not vouch for (Node/OpenSSL codes). */
const TLS_ERRORS = [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT", "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN", "CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_SIGNATURE_FAILURE",
];

/** The errno code of a connection failure: on the error (node-fetch's FetchError, which client-node uses) or its cause (undici). */
function networkCode(err: unknown): string | undefined {
    for (let e: unknown = err, depth = 0; typeof e === "object" && e !== null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
        const code = (e as { code?: unknown }).code;
        if (typeof code === "string" && (NETWORK_ERRORS.includes(code) || TLS_ERRORS.includes(code))) return code;
    }
    return undefined;
}

export async function observe<T>(read: () => Promise<T>): Promise<Observed<T>> {
    try {
        return { ok: true, value: await read() };
    } catch (err) {
        const status = statusOf(err);
        const code = networkCode(err);
        return {
            ok: false, error: firstLine(err),
            ...(status === undefined ? {} : { status }),
            ...(code === undefined ? {} : { code }),
        };
    }
}

interface GatherOptions {
    /** Log lines read per agent container. Default 100. */
    tailLines?: number;
}

function splitLines(text: string): string[] {
    const lines = text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    return lines;
}

async function observePod(k8s: ClusterReader, pod: V1Pod, tailLines: number): Promise<PodObservation> {
    const ns = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const present = new Set([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name));
    const started = new Set([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]
        .filter((s) => s.state?.running !== undefined || s.state?.terminated !== undefined || s.lastState?.terminated !== undefined)
        .map((s) => s.name));
    const logs: Record<string, Observed<string[]>> = {};
    for (const c of [INIT_CONTAINER, SIDECAR_CONTAINER]) {
        // A container that never started has no log; asking would only return a 400.
        if (!present.has(c) || !started.has(c)) continue;
        logs[c] = await observe(async () => splitLines(await k8s.readLog(ns, name, c, tailLines)));
    }
    return { pod, logs };
}

/** Reads everything the diagnosis needs; a failed read becomes an `Observed` error, never a throw. */
export async function gather(
    expect: Expectations,
    k8s: ClusterReader,
    vault?: VaultReader,
    opts: GatherOptions = {},
): Promise<Observations> {
    const tailLines = opts.tailLines ?? 100;
    const [injectorDeployments, webhooks] = await Promise.all([
        observe(() => k8s.listDeployments(expect.injectorNamespace, INJECTOR_NAME_LABEL)),
        observe(() => k8s.listMutatingWebhookConfigurations(INJECTOR_NAME_LABEL)),
    ]);
    const pods: Record<string, Observed<PodObservation[]>> = {};
    // No connection at all: asking for every workload's pods would only repeat the same failure.
    const down = [injectorDeployments, webhooks].map((o) => (o.ok ? undefined : o.code));
    if (down[0] !== undefined && down[1] !== undefined) {
        const obs: Observations = { injectorDeployments, webhooks, pods, unreachable: { code: down[0] } };
        if (vault !== undefined && expect.authPath !== undefined) obs.vault = await gatherVault(expect, expect.authPath, vault);
        return obs;
    }
    for (const w of expect.workloads) {
        const listed = await observe(() => k8s.listPods(w.namespace, `app=${w.name}`));
        pods[w.name] = listed.ok ? { ok: true, value: await Promise.all(listed.value.map((p) => observePod(k8s, p, tailLines))) } : listed;
    }
    const obs: Observations = { injectorDeployments, webhooks, pods };
    if (expect.reviewerTokenSecret !== undefined) obs.reviewerToken = await observeReviewerToken(k8s, expect.reviewerTokenSecret);
    // Without the mount path (stack not deployed through vault-auth) there is nothing to read.
    if (vault !== undefined && expect.authPath !== undefined) obs.vault = await gatherVault(expect, expect.authPath, vault);
    return obs;
}

/**
 * The reviewer's token Secret and a TokenReview of its token. Vault never shows the JWT it holds
 * (`token_reviewer_jwt_set` only), so this is how a dead one is seen: the Secret gone, its token
 * refused, or a Secret other than the one the last `up` read (diagnose.ts). The token stays in
 * this function: only the Secret's uid and the review's status are kept.
 */
async function observeReviewerToken(
    k8s: ClusterReader, secret: { namespace: string; name: string },
): Promise<Observed<ReviewerTokenObservation>> {
    const read = await observe(() => k8s.readSecret(secret.namespace, secret.name));
    if (!read.ok) return read;
    const uid = read.value.metadata?.uid;
    const encoded = read.value.data?.token ?? "";
    if (encoded === "") return { ok: true, value: { ...(uid === undefined ? {} : { uid }), hasToken: false } };
    const token = Buffer.from(encoded, "base64").toString("utf8");
    const review = await observe(async () => {
        const status = (await k8s.createTokenReview(token)).status;
        return {
            authenticated: status?.authenticated === true,
            ...(status?.user?.username === undefined ? {} : { username: status.user.username }),
            ...(status?.error === undefined || status.error === "" ? {} : { error: status.error }),
        };
    });
    return { ok: true, value: { ...(uid === undefined ? {} : { uid }), hasToken: true, review } };
}

async function gatherVault(expect: Expectations, path: string, vault: VaultReader): Promise<VaultObservations> {
    const config = await observe(() => vault.readAuthConfig(path));
    const roles: Record<string, Observed<VaultRole>> = {};
    // No connection to Vault: every role read would fail the same way.
    if (!config.ok && config.code !== undefined) return { config, roles, unreachable: { code: config.code } };
    for (const role of new Set(expect.workloads.map((w) => w.role))) roles[role] = await observe(() => vault.readRole(path, role));
    return { config, roles };
}

/**
 * A `ClusterReader` over `@kubernetes/client-node` from a kubeconfig string (the stack's secret
 * output, vetted first: see kubeconfig.ts). The client is loaded here only, so the diagnosis and
 * its tests never pay for it.
 */
export async function kubernetesReader(
    kubeconfig: string,
    source: KubeconfigSource = STACK_KUBECONFIG,
    policy: KubeconfigPolicy = {},
): Promise<ClusterReader> {
    // Checked before client-node parses it: loading alone reads `token-file`.
    const vetted = vetKubeconfig(kubeconfig, source, policy);
    const k = await import("@kubernetes/client-node");
    const kc = new k.KubeConfig();
    kc.loadFromString(vetted.text);
    const apps = kc.makeApiClient(k.AppsV1Api);
    const admission = kc.makeApiClient(k.AdmissionregistrationV1Api);
    const core = kc.makeApiClient(k.CoreV1Api);
    const authn = kc.makeApiClient(k.AuthenticationV1Api);
    return {
        listDeployments: async (namespace, labelSelector) => (await apps.listNamespacedDeployment({ namespace, labelSelector })).items,
        listMutatingWebhookConfigurations: async (labelSelector) =>
            (await admission.listMutatingWebhookConfiguration({ labelSelector })).items,
        listPods: async (namespace, labelSelector) => (await core.listNamespacedPod({ namespace, labelSelector })).items,
        readLog: (namespace, name, container, tailLines) => core.readNamespacedPodLog({ namespace, name, container, tailLines }),
        readSecret: (namespace, name) => core.readNamespacedSecret({ namespace, name }),
        createTokenReview: (token) => authn.createTokenReview({
            body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
        }),
    };
}

class VaultHttpError extends Error {
    constructor(public readonly status: number, message: string) {
        super(message);
        this.name = "VaultHttpError";
    }
}

interface VaultReaderOptions {
    address: string;
    /** Secret: sent only as the `X-Vault-Token` header, never logged. */
    token: string;
    /** Vault Enterprise namespace. */
    namespace?: string;
    /** Injected in tests. Default: the global `fetch`. */
    fetch?: typeof fetch;
}

/** A `VaultReader` over Vault's HTTP API. */
export function vaultReader(opts: VaultReaderOptions): VaultReader {
    const doFetch = opts.fetch ?? fetch;
    const base = opts.address.replace(/\/+$/, "");
    const get = async <T>(path: string): Promise<T> => {
        const headers: Record<string, string> = { "X-Vault-Token": opts.token };
        if (opts.namespace !== undefined) headers["X-Vault-Namespace"] = opts.namespace;
        const res = await doFetch(`${base}/v1/${path}`, { headers });
        const body = (await res.json().catch(() => ({}))) as { data?: T; errors?: string[] };
        if (!res.ok) {
            const errors = body.errors?.length ? ` ${body.errors.join("; ")}` : "";
            throw new VaultHttpError(res.status, `GET /v1/${path}: ${res.status}${errors}`);
        }
        if (body.data === undefined) throw new VaultHttpError(res.status, `GET /v1/${path}: response has no data`);
        return body.data;
    };
    return {
        readAuthConfig: (authPath) => get<VaultAuthConfig>(`auth/${authPath}/config`),
        readRole: (authPath, role) => get<VaultRole>(`auth/${authPath}/role/${encodeURIComponent(role)}`),
    };
}
