/**
 * Runs the agent config the real injector put into a pod, with the real agent (OpenBao's `bao
 * agent`, Vault Agent's fork), on this machine: the pod's own service-account token (a
 * TokenRequest bound to the pod, for the audience of the volume the agent reads), the files it
 * would write under /vault/secrets redirected to a folder here. What it renders is what the
 * busybox container would read.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as path from "path";
import { Kube, StackEnv, sh } from "./systems";

const AGENT_INIT = "vault-agent-init";
const TOKEN_VOLUME_ANNOTATION = "vault.hashicorp.com/agent-service-account-token-volume-name";

export interface AgentRun {
    /** The files rendered, by their path in the pod (`/vault/secrets/<file>`). */
    files: Record<string, string>;
    authMethod: string;
    audience: string | undefined;
}

/** The audience of the token the agent reads: the named projected volume's, else the pod's default token (none given). */
function tokenAudience(pod: any): string | undefined {
    const volumeName = pod.metadata?.annotations?.[TOKEN_VOLUME_ANNOTATION];
    if (volumeName === undefined) return undefined;
    const volume = (pod.spec.volumes ?? []).find((v: any) => v.name === volumeName);
    const source = volume?.projected?.sources?.find((s: any) => s.serviceAccountToken !== undefined);
    if (source === undefined) throw new Error(`pod ${pod.metadata.name}: volume ${volumeName} holds no service-account token`);
    return source.serviceAccountToken.audience;
}

/** Rewrites every in-pod path the agent would touch to a folder of this run. */
function relocate(value: unknown, root: string): unknown {
    if (typeof value === "string") {
        for (const prefix of ["/vault/secrets", "/home/vault"]) {
            if (value === prefix || value.startsWith(`${prefix}/`)) return path.join(root, value);
        }
        return value;
    }
    if (Array.isArray(value)) return value.map((v) => relocate(v, root));
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relocate(v, root)]));
    }
    return value;
}

export function runInitAgent(env: StackEnv, kube: Kube, pod: any, workDir: string): AgentRun {
    const init = (pod.spec.initContainers ?? []).find((c: any) => c.name === AGENT_INIT);
    if (init === undefined) throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name} has no ${AGENT_INIT} container`);
    const encoded = (init.env ?? []).find((e: any) => e.name === "VAULT_CONFIG")?.value;
    if (typeof encoded !== "string") throw new Error(`${AGENT_INIT} has no VAULT_CONFIG`);
    const config = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));

    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const relocated = relocate(config, workDir) as any;
    const audience = tokenAudience(pod);
    const token = kube.token(pod.metadata.namespace, pod.spec.serviceAccountName, { audience, pod: pod.metadata.name });
    const tokenFile = path.join(workDir, "token");
    writeFileSync(tokenFile, token, { mode: 0o600 });
    const method = relocated.auto_auth.method;
    // kubernetes reads `token_path` (default: the pod's mounted token), jwt reads `path` (the
    // projected volume vault-k8s names): both now point at the pod's token here.
    method.config = { ...(method.config ?? {}), [method.type === "jwt" ? "path" : "token_path"]: tokenFile };
    // Nothing may be left in the background: the init agent exits once it has rendered.
    if (relocated.exit_after_auth !== true) throw new Error(`${AGENT_INIT}'s config does not exit after auth`);
    const configFile = path.join(workDir, "agent.json");
    writeFileSync(configFile, JSON.stringify(relocated, null, 2));
    // The folders the pod's volumes would provide: secrets, the sink's and the pid file's.
    for (const dir of ["vault/secrets", "home/vault"]) mkdirSync(path.join(workDir, dir), { recursive: true });

    // Only what the pod's agent has: its config (no address or token from this shell's environment).
    const agentEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(BAO|VAULT)_/.test(k)));
    try {
        sh(env.bao, ["agent", "-config", configFile], { timeoutMs: 90000, env: agentEnv });
    } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        const out = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim().split("\n").slice(-8).join("\n");
        throw new Error(`bao agent failed: ${out || e.message}`);
    }

    const files: Record<string, string> = {};
    for (const t of config.template ?? []) files[t.destination] = readFileSync(path.join(workDir, t.destination), "utf8");
    return { files, authMethod: method.type, audience };
}
