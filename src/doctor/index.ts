/**
 * `doctor(options)`: checks a deployed stack end to end and explains what is wrong. The library
 * entry for the CLI's `doctor` command and for a `verify` step after `up`:
 *
 *     const report = await doctor({ outputs: await stack.outputs() });
 *     if (!report.ok) console.error(renderText(report));
 */
import { ClassifiedError, EXIT } from "../exitCodes";
import { diagnose, summarize } from "./diagnose";
import { ClusterReader, gather, kubernetesReader, STACK_KUBECONFIG, VaultReader, vaultReader } from "./gather";
import { KubeconfigSource, vetKubeconfig } from "./kubeconfig";
import { expectationsFromOutputs, OutputMap } from "./outputs";
import type { InjectionMode } from "../agent/vocabulary";
import { Check, DoctorReport } from "./types";

interface DoctorVaultOptions {
    address: string;
    /** Secret. */
    token: string;
    namespace?: string;
}

export interface DoctorOptions {
    /** The stack's outputs (`stack.outputs()`, or plain values). */
    outputs: OutputMap;
    /** Read the Vault side too (auth config and roles). Omitted: Kubernetes checks only. */
    vault?: DoctorVaultOptions | VaultReader;
    /** Per workload: `init-only` or `sidecar`. Default: read from each pod's annotations. */
    modes?: Record<string, InjectionMode>;
    /** Agent log lines read per container. Default 100. */
    tailLines?: number;
    /** Replaces the `@kubernetes/client-node` reader built from the kubeconfig output (tests). */
    clusterReader?: ClusterReader;
    /** Why the Vault side is not checked, reported as a skipped check (default: "no Vault token given"). */
    vaultSkipReason?: string;
    /**
     * A kubeconfig to read the cluster with instead of the stack's `kubeconfig` output (the CLI's
     * `--kubeconfig`, `$KUBECONFIG`). Secret.
     */
    kubeconfig?: { text: string; source: KubeconfigSource };
    /**
     * Run an exec plugin or auth provider other than the kubelogin the program writes (the CLI's
     * `--allow-exec`). Default false: such a kubeconfig is refused before anything runs.
     */
    allowExec?: boolean;
}

function originOf(url: string): string | undefined {
    try {
        return new URL(url).origin;
    } catch {
        return undefined;
    }
}

function isReader(v: DoctorVaultOptions | VaultReader): v is VaultReader {
    return typeof (v as VaultReader).readAuthConfig === "function";
}

export async function doctor(options: DoctorOptions): Promise<DoctorReport> {
    const { kubeconfig, expectations } = expectationsFromOutputs(options.outputs, options.modes, options.kubeconfig === undefined);
    const given = options.kubeconfig ?? { text: kubeconfig ?? "", source: STACK_KUBECONFIG };
    let k8s = options.clusterReader;
    const head: Check[] = [];
    let server: string | undefined;
    if (k8s === undefined) {
        // Refused (exec, insecure TLS, local files) before client-node sees it; the reader vets again.
        const vetted = vetKubeconfig(given.text, given.source, { allowExec: options.allowExec });
        server = vetted.server;
        head.push({
            id: "cluster.kubeconfig", target: vetted.server, status: "pass",
            detail: `${given.source.label}: context ${vetted.context}, ${vetted.auth}`,
        });
        const stackServer = expectations.apiServerUrl === undefined ? undefined : originOf(expectations.apiServerUrl);
        if (given.source.kind === "file" && stackServer !== undefined && stackServer !== vetted.server) {
            head.push({
                id: "cluster.kubeconfig", target: vetted.server, status: "warn",
                detail: `the kubeconfig's server is not the stack's API server ${stackServer}`,
                cause:
                    "The checks below read another cluster than the stack's, " +
                    "unless this is the same cluster by another name (a private cluster's private FQDN).",
                fix:
                    "Pass --kubeconfig with the stack's cluster (`az aks get-credentials`), " +
                    "or drop it to use the stack's kubeconfig output.",
            });
        }
        k8s = await kubernetesReader(given.text, given.source, { allowExec: options.allowExec });
    }
    const vault = options.vault === undefined ? undefined : isReader(options.vault) ? options.vault : vaultReader(options.vault);
    const observations = await gather(expectations, k8s, vault, { tailLines: options.tailLines });
    const diagnosed = diagnose(expectations, observations, { server });
    const report = head.length === 0 ? diagnosed : summarize([...head, ...diagnosed.checks]);
    if (observations.vault !== undefined) return report;
    const reason = vault === undefined
        ? options.vaultSkipReason ?? "no Vault token given"
        : "the stack has no vaultAuthPath output (not deployed through the vault-auth stage)";
    return summarize([...report.checks, {
        id: "vault", target: `vault:auth/${expectations.authPath ?? "?"}`, status: "skip",
        detail: `Vault side not checked: ${reason}`,
    }]);
}

interface VerifyOptions extends Omit<DoctorOptions, "outputs"> {
    /** Checks are repeated until they pass or this many attempts ran. Default 10. */
    attempts?: number;
    /** Pause between attempts. Default 6000 ms: pods still in Init right after `up` get a minute. */
    intervalMs?: number;
    /** Injected in tests. */
    sleep?: (ms: number) => Promise<void>;
    /** Called with each failing report before the next attempt (progress output). */
    onAttempt?: (attempt: number, report: DoctorReport) => void;
}

/** Thrown by `verify` when checks still fail after the last attempt; carries the report. */
export class VerifyError extends ClassifiedError {
    /** The CLI's exit code for it: a check failed on the live deployment. */
    readonly exitCode = EXIT.checksFailed;
    constructor(public readonly report: DoctorReport) {
        super(
            `verify: ${report.summary.fail} check(s) failed: ` +
                `${report.checks.filter((c) => c.status === "fail").map((c) => `${c.id} ${c.target}`).join(", ")}`,
        );
        this.name = "VerifyError";
    }
}

/**
 * The `verify` step after `up`: the doctor's checks on the stack just deployed, retried while
 * pods start (a pod still in Init right after `up` is not yet a failure). Resolves with the
 * passing report; rejects with `VerifyError` carrying the last one.
 */
export async function verify(stack: { outputs(): Promise<OutputMap> }, options: VerifyOptions = {}): Promise<DoctorReport> {
    const attempts = Math.max(1, options.attempts ?? 10);
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const outputs = await stack.outputs();
    for (let attempt = 1; ; attempt++) {
        const report = await doctor({ ...options, outputs });
        if (report.ok) return report;
        options.onAttempt?.(attempt, report);
        if (attempt >= attempts) throw new VerifyError(report);
        await sleep(options.intervalMs ?? 6000);
    }
}
