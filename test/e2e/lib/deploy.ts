/**
 * Runs the program for real through the project's own staged runner (`run` from the library),
 * against the local stack: the real Pulumi CLI and engine, the provider plugins built by
 * test/e2e/toolchain, the local API server and Vault. Only the cluster is "existing" (no AKS).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { run, RunOptions } from "../../../src/automation";
import type { RunEvent, RunResult } from "../../../src/automation/runner";
import { Kube, StackEnv, Vault, sh, stackEnv } from "./systems";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
const PROJECT = "aks-vault";

/** The vault chart as Helm reads it, from shared/thirdparty (CI lays shared/ beside the clone). */
export function chartPath(): string {
    const dir = process.env.AKS_VAULT_THIRDPARTY ?? path.resolve(ROOT, "..", "shared", "thirdparty");
    const file = path.join(dir, "vault-helm-0.34.1.tgz");
    if (!existsSync(file)) throw new Error(`the vault chart is not at ${file}: set AKS_VAULT_THIRDPARTY to the folder holding it`);
    return file;
}

/** A stack file's `aks-vault:*` settings, without the prefix: what the user wrote. */
export function stackFileSettings(stack: string): Record<string, any> {
    const doc = parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(`${PROJECT}:`, ""), v]));
}

/**
 * The stack file with only what the local stack must change: the cluster is the local API server
 * (mode existing), Vault is the local dev server (http, so allowHttp), and the chart is the
 * packaged one from shared/thirdparty. Everything else (workloads, auth, injector) as written.
 */
export function localSettings(stack: string, env: StackEnv, overrides: (s: Record<string, any>) => void = () => {}): Record<string, any> {
    const s = stackFileSettings(stack);
    s.cluster = { mode: "existing", name: "e2e-local", oidcIssuerUrl: env.issuer };
    s.vault = { ...(s.vault as object), address: env.vaultAddr, allowHttp: true };
    s.injector = { ...(s.injector as object), chartPath: chartPath() };
    overrides(s);
    return s;
}

/** A resource step at least this long is printed (test/e2e's timings, BENCHMARKS.md). */
const SLOW_SECONDS = 15;

/** What every run of one stack shares: backend, passphrase, plugin cache, secrets. */
export class StackRunner {
    readonly projectDir: string;
    readonly events: RunEvent[] = [];
    private readonly stageStarted = new Map<string, number>();
    private readonly resourceStarted = new Map<string, number>();

    constructor(readonly stack: string, private readonly env: StackEnv, private readonly pulumiHome: string) {
        // A project folder of its own: the Automation API writes Pulumi.<stack>.yaml (the
        // passphrase's salt) there, which must not land in the repository's dev/jwt stack files.
        this.projectDir = path.join(env.stateDir, "projects", stack);
        mkdirSync(this.projectDir, { recursive: true });
        // The file backend does not create its folder ("unable to open state directory").
        mkdirSync(path.join(env.stateDir, "pulumi-state"), { recursive: true });
        for (const f of ["Pulumi.yaml", "package.json"]) copyFileSync(path.join(ROOT, f), path.join(this.projectDir, f));
        // A file backend's folder must exist before the CLI logs in to it.
        mkdirSync(path.join(env.stateDir, "pulumi-state"), { recursive: true });
    }

    options(settings: Record<string, any> | undefined, extra: Partial<RunOptions> = {}): RunOptions {
        return {
            operation: "up",
            stack: this.stack,
            settings: settings as RunOptions["settings"],
            secrets: { vaultToken: this.env.vaultToken, values: { kubeconfig: readFileSync(this.env.kubeconfig, "utf8") } },
            backendUrl: `file://${path.join(this.env.stateDir, "pulumi-state")}`,
            projectDir: this.projectDir,
            installPlugins: false,
            env: {
                ...process.env,
                PULUMI_HOME: this.pulumiHome,
                PULUMI_CONFIG_PASSPHRASE: "e2e-local-passphrase",
                PULUMI_SKIP_UPDATE_CHECK: "true",
                PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            },
            onEvent: (e) => {
                this.events.push(e);
                // A stage's time: from its first phase (preview, the gate) to done, both real engine runs.
                if (e.type === "stage" && !this.stageStarted.has(e.stage)) this.stageStarted.set(e.stage, Date.now());
                if (e.type === "stage" && (e.status === "done" || e.status === "failed" || e.status === "skipped")) {
                    const changes = e.changes === undefined ? "" : ` ${JSON.stringify(e.changes)}`;
                    const took = ((Date.now() - (this.stageStarted.get(e.stage) ?? Date.now())) / 1000).toFixed(1);
                    this.stageStarted.delete(e.stage);
                    const reason = e.reason ? ` (${e.reason})` : "";
                    console.log(`    [${this.stack}] stage ${e.stage}: ${e.status}${changes} in ${took} s${reason}`);
                }
                // A resource that keeps the engine waiting (a rollout, a Helm release) is named with its time.
                if (e.type === "resource" && e.phase !== "preview") {
                    const key = `${e.phase} ${e.urn}`;
                    if (e.status === "started") this.resourceStarted.set(key, Date.now());
                    const took = (Date.now() - (this.resourceStarted.get(key) ?? Date.now())) / 1000;
                    if (e.status !== "started" && took >= SLOW_SECONDS) {
                        console.log(`    [${this.stack}] ${e.op} ${e.resourceType} ${e.name}: ${e.status} after ${took.toFixed(1)} s`);
                    }
                }
                if (e.type === "diagnostic" && e.severity === "error") {
                    console.log(`    [${this.stack}] error: ${e.message.trim().split("\n")[0]}`);
                }
            },
            ...extra,
        };
    }

    async run(settings: Record<string, any> | undefined, extra: Partial<RunOptions> = {}): Promise<RunResult> {
        return run(this.options(settings, extra));
    }
}

/** Fills a PULUMI_HOME's plugin cache with the built providers, at the versions package.json pins. */
export function installPlugins(pulumiHome: string, bins: Record<string, string>): void {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const [name, bin] of Object.entries(bins)) {
        const version = pkg.dependencies[`@pulumi/${name}`];
        // The engine asks the cache for the SDK's exact version; the binary built here may be
        // another release of the same provider (test/e2e/toolchain/README.md says which).
        sh("pulumi", ["plugin", "install", "resource", name, version, "--file", bin], {
            env: { ...process.env, PULUMI_HOME: pulumiHome, PULUMI_SKIP_UPDATE_CHECK: "true" },
        });
    }
}

function binary(variable: string): string {
    const v = process.env[variable];
    if (v === undefined || v === "") throw new Error(`${variable} is not set: run this through test/e2e/e2e.sh`);
    return v;
}

/** What run.ts and day2.ts start from: the stack's env and clients, a filled plugin cache, Vault without the dev `secret/` mount. */
export async function prepareLocalStack(): Promise<{ env: StackEnv; kube: Kube; vault: Vault; pulumiHome: string }> {
    const env = stackEnv();
    const kube = new Kube(env);
    const vault = new Vault(env.vaultAddr, env.vaultToken);
    const pulumiHome = path.join(env.stateDir, "pulumi-home");
    installPlugins(pulumiHome, {
        kubernetes: binary("PULUMI_RESOURCE_KUBERNETES"),
        vault: binary("PULUMI_RESOURCE_VAULT"),
        random: binary("PULUMI_RESOURCE_RANDOM"),
    });
    // A dev server mounts KV v2 at secret/ already; removed, so the program creates its mount.
    await vault.call("DELETE", "sys/mounts/secret");
    return { env, kube, vault, pulumiHome };
}
