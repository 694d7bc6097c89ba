/**
 * The preflight wired to live systems: a token issuer over a kubeconfig vetted by the doctor's
 * rules (src/doctor/kubeconfig.ts) and Vault's HTTP API; and the gate `run` hands the stage runner
 * before `up` (runner.ts). The preflight itself (src/preflight) knows neither Pulumi nor how a
 * kubeconfig is vetted.
 */
import { readFileSync } from "fs";
import type { Settings } from "../config/schema";
import { KubeconfigSource, vetKubeconfig } from "../doctor/kubeconfig";
import { DoctorInputError } from "../doctor/outputs";
import { deployedFromState, kubernetesTokenIssuer, preflight, TokenIssuer, vaultClient } from "../preflight";
import type { PreflightReport } from "../preflight/types";
import type { Stage } from "../stages";

/** A TokenIssuer over the stack's `kubeconfig` output, or over `--kubeconfig <file>` when given. */
export async function liveTokenIssuer(
    outputs: Record<string, unknown>, flags: { kubeconfig?: string; allowExec?: boolean } = {},
): Promise<TokenIssuer> {
    let text: string;
    let source: KubeconfigSource;
    if (flags.kubeconfig !== undefined) {
        text = readFileSync(flags.kubeconfig, "utf8");
        source = { kind: "file", label: `--kubeconfig ${flags.kubeconfig}` };
    } else {
        const raw = outputs.kubeconfig;
        const v = typeof raw === "object" && raw !== null && "value" in raw ? (raw as { value: unknown }).value : raw;
        if (typeof v !== "string" || v === "") {
            throw new DoctorInputError("stack output `kubeconfig`: missing (run `up` through the cluster stage, or pass --kubeconfig)");
        }
        text = v;
        source = { kind: "stack", label: "stack output `kubeconfig`" };
    }
    // Refused (exec plugins, insecure TLS, local files) before client-node parses it.
    const vetted = vetKubeconfig(text, source, { allowExec: flags.allowExec });
    const k = await import("@kubernetes/client-node");
    const kc = new k.KubeConfig();
    kc.loadFromString(vetted.text);
    return kubernetesTokenIssuer(kc);
}

interface GateInputs {
    stack: string;
    settings: Settings;
    /** The stack's outputs with secrets in clear (the kubeconfig goes to the token issuer only). */
    outputs: () => Promise<Record<string, unknown>>;
    /** The preflight's own Vault token (optional: without it the mounts and roles are not read). */
    vaultToken?: string;
}

/** The runner's gate: the preflight on what the state says is deployed. */
export function preflightGate(inputs: GateInputs): (deployed: Stage, stateUrns: readonly string[]) => Promise<PreflightReport> {
    return async (deployed, stateUrns) => {
        const outputs = await inputs.outputs();
        return preflight({
            settings: inputs.settings,
            stack: inputs.stack,
            outputs,
            deployed: deployedFromState(deployed, stateUrns),
            k8s: await liveTokenIssuer(outputs),
            vault: vaultClient({
                address: inputs.settings.vault.address,
                namespace: inputs.settings.vault.namespace,
                ...(inputs.vaultToken === undefined || inputs.vaultToken === "" ? {} : { operatorToken: inputs.vaultToken }),
            }),
        });
    };
}
