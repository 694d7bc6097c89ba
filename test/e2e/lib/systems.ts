/**
 * The real systems the end-to-end suite asserts on: the API server (through kubectl, built with
 * it) and Vault (its HTTP API). Nothing here reads Pulumi's state.
 */
import { execFileSync, spawnSync } from "child_process";

/** The environment `test/e2e/stack.sh start` writes (`<statedir>/env`), read from process.env. */
export interface StackEnv {
    stateDir: string;
    kubeconfig: string;
    kubectl: string;
    bao: string;
    caFile: string;
    apiServerUrl: string;
    issuer: string;
    vaultAddr: string;
    vaultToken: string;
}

export function stackEnv(env: NodeJS.ProcessEnv = process.env): StackEnv {
    const need = (k: string): string => {
        const v = env[k];
        if (v === undefined || v === "") throw new Error(`${k} is not set: run this through test/e2e/e2e.sh (it sources <statedir>/env)`);
        return v;
    };
    return {
        stateDir: need("STACK_STATE_DIR"),
        kubeconfig: need("KUBECONFIG"),
        kubectl: need("KUBECTL"),
        bao: need("BAO"),
        caFile: need("K8S_CA_FILE"),
        apiServerUrl: need("APISERVER_URL"),
        issuer: need("K8S_ISSUER"),
        vaultAddr: need("VAULT_ADDR"),
        vaultToken: need("VAULT_TOKEN"),
    };
}

const MAX_OUTPUT = 256 * 1024 * 1024;

export class Kube {
    constructor(private readonly env: StackEnv) {}

    /** kubectl with the stack's admin kubeconfig; throws with kubectl's own stderr. */
    run(args: string[], input?: string): string {
        // Helm keeps every release revision as a Secret of ~100 kB: a list outgrows spawnSync's 1 MB default.
        const r = spawnSync(this.env.kubectl, ["--kubeconfig", this.env.kubeconfig, ...args],
            { input, encoding: "utf8", maxBuffer: MAX_OUTPUT });
        if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
        return r.stdout;
    }

    /** The object, or undefined when the API server answers NotFound. */
    get<T = Record<string, any>>(kind: string, name: string, namespace?: string): T | undefined {
        const r = spawnSync(
            this.env.kubectl,
            ["--kubeconfig", this.env.kubeconfig, "get", kind, name, "-o", "json", ...(namespace ? ["-n", namespace] : [])],
            { encoding: "utf8", maxBuffer: MAX_OUTPUT },
        );
        if (r.status === 0) return JSON.parse(r.stdout) as T;
        if (/\(NotFound\)/.test(r.stderr)) return undefined;
        throw new Error(`kubectl get ${kind} ${name}: ${r.stderr.trim()}`);
    }

    list<T = Record<string, any>>(kind: string, namespace?: string, selector?: string): T[] {
        const args = ["get", kind, "-o", "json", ...(namespace ? ["-n", namespace] : ["-A"]), ...(selector ? ["-l", selector] : [])];
        return (JSON.parse(this.run(args)) as { items: T[] }).items;
    }

    /** A TokenRequest token for a service account, optionally bound to a pod and for an audience. */
    token(namespace: string, serviceAccount: string, opts: { audience?: string; pod?: string; seconds?: number } = {}): string {
        const args = ["create", "token", serviceAccount, "-n", namespace, "--duration", `${opts.seconds ?? 600}s`];
        if (opts.audience !== undefined) args.push("--audience", opts.audience);
        if (opts.pod !== undefined) args.push("--bound-object-kind", "Pod", "--bound-object-name", opts.pod);
        return this.run(args).trim();
    }
}

export interface VaultAnswer {
    status: number;
    body: any;
    /** Vault's `errors` list, joined; "" when there is none. */
    error: string;
}

export class Vault {
    constructor(readonly addr: string, private readonly token: string) {}

    async call(method: string, path: string, body?: unknown, token: string | null = this.token): Promise<VaultAnswer> {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (token !== null) headers["X-Vault-Token"] = token;
        const res = await fetch(`${this.addr}/v1/${path}`, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(15000),
        });
        const text = await res.text();
        const parsed = text === "" ? {} : (JSON.parse(text) as any);
        return { status: res.status, body: parsed, error: Array.isArray(parsed.errors) ? parsed.errors.join("; ") : "" };
    }

    async read(path: string): Promise<any> {
        const r = await this.call("GET", path);
        if (r.status !== 200) throw new Error(`vault read ${path}: ${r.status} ${r.error}`);
        return r.body;
    }

    /** The object at `path`, or undefined when Vault answers 404. */
    async maybe(path: string): Promise<any> {
        const r = await this.call("GET", path);
        if (r.status === 404) return undefined;
        if (r.status !== 200) throw new Error(`vault read ${path}: ${r.status} ${r.error}`);
        return r.body;
    }
}

/** Runs a command to completion; throws with its output when it fails. */
export function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): string {
    return execFileSync(cmd, args, { encoding: "utf8", env: opts.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120000, stdio: "pipe" });
}
