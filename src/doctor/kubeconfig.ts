/**
 * The kubeconfig the doctor connects with is checked before `@kubernetes/client-node` sees it.
 * The stack's `kubeconfig` output is whatever the state holds, and anyone who can write the state
 * could make the doctor run a program on the operator's machine (client-node runs `user.exec`,
 * and the `azure`/`gcp` auth providers' `cmd-path`), read a local file and send it as a bearer
 * token (`token-file`, read by `loadFromString` itself: client-node dist/config_types.js
 * `findToken`), or skip TLS verification. So:
 *
 * - `insecure-skip-tls-verify` is refused, and the server must be `https://`;
 * - the only exec plugin that runs is the `kubelogin get-token` the program writes
 *   (components/kubelogin.ts), talking to an AKS API server with the AKS audience;
 *   anything else needs `--allow-exec`; auth providers likewise;
 * - a kubeconfig from the stack may not name local files (`token-file`, `client-certificate`,
 *   `client-key`, `certificate-authority`) or a proxy;
 * - only the current context's cluster and user reach client-node, so entries nobody checked
 *   are never loaded.
 *
 * Errors never quote the document (it holds credentials): they name the entry and the field.
 */
import { parse, stringify } from "yaml";
import { isRecord, record } from "../config/raw";
import { AKS_SERVER_ID, KUBELOGIN_LOGINS } from "../../components/kubelogin";
import { DoctorInputError } from "./outputs";
import { sanitize } from "./redact";

export interface KubeconfigSource {
    /** `stack`: the stack's `kubeconfig` output (untrusted state); `file`: a file the user named. */
    kind: "stack" | "file";
    /** For messages: `stack output \`kubeconfig\``, `--kubeconfig /path`, `$KUBECONFIG (/path)`. */
    label: string;
}

export interface KubeconfigPolicy {
    /** Run any exec plugin or auth provider the kubeconfig names (`--allow-exec`). Default false. */
    allowExec?: boolean;
}

/** What was connected to, for the report. */
interface VettedKubeconfig {
    /** A kubeconfig holding only the checked context. Secret. */
    text: string;
    context: string;
    server: string;
    /** How the user authenticates: `token`, `client certificate`, `kubelogin --login spn`, `exec <command>`, ... */
    auth: string;
}

export class KubeconfigRefusedError extends DoctorInputError {
    constructor(message: string) {
        super(message);
        this.name = "KubeconfigRefusedError";
    }
}

/** API server host suffixes of AKS clusters (public, private/privatelink, Azure China, Azure US Government). */
const AKS_API_SUFFIXES = [".azmk8s.io", ".azk8s.cn", ".containerservice.azure.us"] as const;

/** The clouds kubelogin's `--environment` names (Azure/kubelogin pkg/token: azure.EnvironmentFromName). */
const ENVIRONMENTS = ["AzurePublicCloud", "AzureChinaCloud", "AzureUSGovernmentCloud"];

/**
 * The kubelogin flags the program writes. No other flag runs without --allow-exec: e.g.
 * `--authority-host` would send the client secret to another token endpoint, `--client-certificate`
 * and `--federated-token-file` read local files.
 */
const KUBELOGIN_FLAGS: Record<string, (v: string) => boolean> = {
    "--login": (v) => (KUBELOGIN_LOGINS as readonly string[]).includes(v),
    // Another audience would make kubelogin fetch, say, an ARM token and send it to `server`.
    "--server-id": (v) => v === AKS_SERVER_ID,
    "--environment": (v) => ENVIRONMENTS.includes(v),
    "--tenant-id": (v) => /^[A-Za-z0-9.-]{1,128}$/.test(v),
    "--client-id": (v) => /^[A-Za-z0-9-]{1,64}$/.test(v),
};
/**
 * Flags without a value the program may add: `--disable-environment-override` keeps ambient
 * AZURE_* variables out (kubelogin docs, get-token).
 */
const KUBELOGIN_SWITCHES = ["--disable-environment-override"];
/**
 * Environment variables kubelogin reads that the program may set in the exec entry (the
 * service principal's ID and secret, and the ambient variables it pins: `kubeloginEnv`). The
 * certificate variables only ever emptied; `AZURE_AUTHORITY_HOST` and federated-token paths never.
 */
const KUBELOGIN_ENV: Record<string, (v: string) => boolean> = {
    AAD_SERVICE_PRINCIPAL_CLIENT_ID: () => true,
    AAD_SERVICE_PRINCIPAL_CLIENT_SECRET: () => true,
    AZURE_CLIENT_ID: () => true,
    AZURE_CLIENT_SECRET: () => true,
    AZURE_TENANT_ID: () => true,
    AZURE_CLIENT_CERTIFICATE_PATH: (v) => v === "",
    AZURE_CLIENT_CERTIFICATE_PASSWORD: (v) => v === "",
    AAD_LOGIN_METHOD: (v) => v === "" || (KUBELOGIN_LOGINS as readonly string[]).includes(v),
};

type Named<T> = { name?: unknown; [k: string]: unknown } & Partial<Record<"cluster" | "user" | "context", T>>;
interface ExecConfig { command?: unknown; args?: unknown; env?: unknown; apiVersion?: unknown; [k: string]: unknown }

/** A name taken from the document, safe to print: no control characters, at most 64 characters. */
function shown(v: unknown): string {
    const s = sanitize(typeof v === "string" ? v : JSON.stringify(v) ?? "?");
    return s.length > 64 ? `${s.slice(0, 63)}…` : s;
}

/** Why this exec entry is not the program's kubelogin, or undefined when it is. */
function notProgramKubelogin(exec: ExecConfig, server: URL): string | undefined {
    if (exec.command !== "kubelogin") return "its command is not `kubelogin` (found a different program)";
    const args = Array.isArray(exec.args) ? exec.args : [];
    if (args[0] !== "get-token") return "kubelogin is not run as `get-token`";
    for (let i = 1; i < args.length; i++) {
        const a = args[i];
        if (typeof a !== "string") return "a kubelogin argument is not a string";
        const eq = a.indexOf("=");
        const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
        if (KUBELOGIN_SWITCHES.includes(name) && eq < 0) continue;
        const check = KUBELOGIN_FLAGS[name];
        if (check === undefined) return `kubelogin flag \`${shown(name)}\` is not one the program writes`;
        const value = eq > 0 && a.startsWith("--") ? a.slice(eq + 1) : args[++i];
        if (typeof value !== "string" || !check(value)) return `kubelogin \`${name}\` has a value the program does not write`;
    }
    const env = exec.env === null || exec.env === undefined ? [] : exec.env;
    if (!Array.isArray(env)) return "the exec env is not a list";
    for (const e of env) {
        const { name, value } = record(e);
        const check = typeof name === "string" ? KUBELOGIN_ENV[name] : undefined;
        if (check === undefined) return `exec env \`${shown(name)}\` is not a variable the program sets for kubelogin`;
        if (typeof value !== "string" || !check(value)) {
            return `exec env \`${shown(name)}\` has a value the program does not write`;
        }
    }
    // The token's audience is every AKS cluster the identity may use: only an AKS API server gets it.
    if (!AKS_API_SUFFIXES.some((s) => server.hostname.endsWith(s))) {
        return `the server ${shown(server.host)} is not an AKS API server (${AKS_API_SUFFIXES.join(", ")})`;
    }
    return undefined;
}

/**
 * Checks `text` and returns a kubeconfig with only its current context (see the module comment).
 * Throws `KubeconfigRefusedError` naming the entry, the field and the fix.
 */
export function vetKubeconfig(text: string, source: KubeconfigSource, policy: KubeconfigPolicy = {}): VettedKubeconfig {
    const refuse = (what: string, fix: string) => new KubeconfigRefusedError(`${source.label}: ${what}; ${fix}`);
    let doc: unknown;
    try {
        doc = parse(text, { prettyErrors: false });
    } catch (err) {
        // YAMLParseError's message may quote the offending line: print only where it is.
        const offset = (err as { pos?: unknown }).pos;
        const line = Array.isArray(offset) && typeof offset[0] === "number" ? text.slice(0, offset[0]).split("\n").length : undefined;
        throw refuse(
            `is not valid YAML${line === undefined ? "" : ` (line ${line})`}`,
            "check that it is a kubeconfig file (its content is not shown: it holds credentials)",
        );
    }
    if (!isRecord(doc)) throw refuse("is not a kubeconfig (not a YAML mapping)", "check that it is a kubeconfig file");
    const list = (key: string) => (Array.isArray(doc[key]) ? (doc[key] as Named<unknown>[]) : []);
    const contexts = list("contexts");
    const current = doc["current-context"];
    const ctxEntry = typeof current === "string" && current !== ""
        ? contexts.find((c) => c?.name === current)
        : contexts.length === 1 ? contexts[0] : undefined;
    if (ctxEntry === undefined) {
        throw refuse(
            typeof current === "string" && current !== ""
                ? `current-context ${shown(current)} has no entry in contexts`
                : "has no current-context",
            "set current-context to the stack's cluster",
        );
    }
    const ctx = record(ctxEntry.context);
    const ctxName = shown(ctxEntry.name);
    const clusterEntry = list("clusters").find((c) => c?.name === ctx.cluster);
    const cluster = clusterEntry?.cluster;
    if (clusterEntry === undefined || !isRecord(cluster)) {
        throw refuse(`context ${ctxName} names no cluster in clusters`, "fix the context's cluster");
    }
    // No user is valid (an anonymous cluster); a named one must exist.
    const userEntry = ctx.user === undefined ? undefined : list("users").find((u) => u?.name === ctx.user);
    if (ctx.user !== undefined && userEntry === undefined) {
        throw refuse(`context ${ctxName} names no user in users`, "fix the context's user");
    }
    const user = record(userEntry?.user);
    const clusterName = shown(clusterEntry.name);
    const userName = shown(userEntry?.name);

    if (cluster["insecure-skip-tls-verify"] === true) {
        throw refuse(
            `cluster ${clusterName} sets insecure-skip-tls-verify`,
            "the doctor never talks to an API server it cannot verify: use certificate-authority-data (the AKS kubeconfig carries it)",
        );
    }
    let server: URL;
    try {
        server = new URL(String(cluster.server));
    } catch {
        throw refuse(`cluster ${clusterName} has no valid server URL`, "set clusters[].cluster.server to https://<api server>");
    }
    if (server.protocol !== "https:") {
        throw refuse(`cluster ${clusterName} server is not https://`, "credentials go only to an https:// API server");
    }
    if (source.kind === "stack") {
        const files = [
            ...["certificate-authority", "proxy-url"].filter((k) => cluster[k] !== undefined).map((k) => `cluster ${clusterName} ${k}`),
            ...["token-file", "tokenFile", "client-certificate", "client-key"]
                .filter((k) => user[k] !== undefined)
                .map((k) => `user ${userName} ${k}`),
        ];
        if (files.length > 0) {
            throw refuse(
                `${files.join(", ")} would make the doctor read a local file or use a proxy; the program never writes these`,
                "check who changed the stack's state, or pass --kubeconfig with a file you trust",
            );
        }
    }

    let auth = user.token !== undefined
        ? "token"
        : user["client-certificate-data"] !== undefined || user["client-certificate"] !== undefined
            ? "client certificate"
            : user.username !== undefined ? "basic auth" : "none";
    if (user["auth-provider"] !== undefined) {
        const provider = shown(record(user["auth-provider"]).name);
        if (policy.allowExec !== true) {
            throw refuse(
                `user ${userName} uses auth provider ${provider}, which can run a command or read files`,
                "use an exec kubelogin kubeconfig (`kubelogin convert-kubeconfig`), or pass --allow-exec if you trust this kubeconfig",
            );
        }
        auth = `auth provider ${provider}`;
    }
    const exec = user.exec;
    if (isRecord(exec)) {
        const why = notProgramKubelogin(exec, server);
        if (why !== undefined && policy.allowExec !== true) {
            throw refuse(
                `user ${userName} runs an exec plugin that is not the kubelogin the program writes: ${why}`,
                "pass --allow-exec only if you trust this kubeconfig's command (it runs on this machine with your credentials)",
            );
        }
        const args = Array.isArray(exec.args) ? exec.args : [];
        const login = args[args.indexOf("--login") + 1];
        auth = why === undefined ? `kubelogin --login ${shown(login)}` : `exec ${shown(exec.command)} (--allow-exec)`;
    }

    const minimal = {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterEntry.name, cluster }],
        users: userEntry === undefined ? [] : [{ name: userEntry.name, user }],
        contexts: [{ name: ctxEntry.name, context: ctx }],
        "current-context": ctxEntry.name,
    };
    return { text: stringify(minimal), context: ctxName, server: server.origin, auth };
}
