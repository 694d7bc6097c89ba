/**
 * `doctor(options)`: checks a deployed stack end to end and explains what is wrong. The library
 * entry for the CLI's `doctor` command and for a `verify` step after `up`:
 *
 *     const report = await doctor({ outputs: await stack.outputs() });
 *     if (!report.ok) console.error(renderText(report));
 */
import { EXIT } from "../exitCodes";
import { diagnose, summarize } from "./diagnose";
import { ClusterReader, gather, kubernetesReader, VaultReader, vaultReader } from "./gather";
import { expectationsFromOutputs, OutputMap } from "./outputs";
import { DoctorReport, InjectionMode } from "./types";

export interface DoctorVaultOptions {
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
}

function isReader(v: DoctorVaultOptions | VaultReader): v is VaultReader {
    return typeof (v as VaultReader).readAuthConfig === "function";
}

export async function doctor(options: DoctorOptions): Promise<DoctorReport> {
    const { kubeconfig, expectations } = expectationsFromOutputs(options.outputs, options.modes);
    const k8s = options.clusterReader ?? (await kubernetesReader(kubeconfig));
    const vault = options.vault === undefined ? undefined : isReader(options.vault) ? options.vault : vaultReader(options.vault);
    const observations = await gather(expectations, k8s, vault, { tailLines: options.tailLines });
    const report = diagnose(expectations, observations);
    if (observations.vault !== undefined) return report;
    const reason = vault === undefined
        ? options.vaultSkipReason ?? "no Vault token given"
        : "the stack has no vaultAuthPath output (not deployed through the vault-auth stage)";
    return summarize([...report.checks, {
        id: "vault", target: `vault:auth/${expectations.authPath ?? "?"}`, status: "skip",
        detail: `Vault side not checked: ${reason}`,
    }]);
}

export interface VerifyOptions extends Omit<DoctorOptions, "outputs"> {
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
export class VerifyError extends Error {
    /** The CLI's exit code for it: a check failed on the live deployment. */
    readonly exitCode = EXIT.checksFailed;
    constructor(public readonly report: DoctorReport) {
        super(`verify: ${report.summary.fail} check(s) failed: ${report.checks.filter((c) => c.status === "fail").map((c) => `${c.id} ${c.target}`).join(", ")}`);
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

export { diagnose, globMatch, summarize } from "./diagnose";
export { gather, kubernetesReader, vaultReader } from "./gather";
export type { ClusterReader, VaultReader } from "./gather";
export { expectationsFromOutputs, DoctorInputError } from "./outputs";
export type { OutputMap } from "./outputs";
export { LOG_RULES, matchLogRules } from "./logRules";
export { redact } from "./redact";
export { renderJson, renderText } from "./render";
export type * from "./types";
