/**
 * `doctor(options)`: checks a deployed stack end to end and explains what is wrong. The library
 * entry for the CLI's `doctor` command and for a `verify` step after `up`:
 *
 *     const report = await doctor({ outputs: await stack.outputs() });
 *     if (!report.ok) console.error(renderText(report));
 */
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
    if (vault !== undefined) return report;
    return summarize([...report.checks, {
        id: "vault", target: `vault:auth/${expectations.authPath ?? "kubernetes"}`, status: "skip",
        detail: `Vault side not checked: ${options.vaultSkipReason ?? "no Vault token given"}`,
    }]);
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
