/**
 * `preflight(options)`: proves, before anything is applied, that every workload can read every
 * secret it renders, by acting as it against the live cluster and Vault (docs/preflight.md). The
 * library entry for the CLI's `preflight` command and for the gate the staged runner runs before
 * `up`.
 */
import { Settings } from "../config/schema";
import { PROJECT_NAME } from "../config/configKeys";
import { Stage, stageIndex } from "../stages";
import { diagnose } from "./diagnose";
import { gather, TokenIssuer, VaultClient } from "./gather";
import { preflightPlan } from "./plan";
import { Deployed, PreflightReport } from "./types";
import { stateKey } from "./deployed";

interface PreflightOptions {
    /** The stack's settings (what `up` will bind). */
    settings: Settings;
    stack: string;
    /** Pulumi project name. Default `aks-vault`. */
    project?: string;
    /** The stack's outputs (Automation API `{value, secret}` or plain): `apiServerUrl`, and what is deployed. */
    outputs?: Record<string, unknown>;
    /** What exists already. Default: from the outputs (`vaultAuthPath`, `workloads`). */
    deployed?: Deployed;
    k8s: TokenIssuer;
    vault: VaultClient;
}

function value(outputs: Record<string, unknown>, key: string): unknown {
    const v = outputs[key];
    return typeof v === "object" && v !== null && "value" in v ? (v as { value: unknown }).value : v;
}

/** What the outputs say is deployed: the vault-auth stage exports `vaultAuthPath`, the workloads stage `workloads`. */
function deployedFromOutputs(outputs: Record<string, unknown>): Deployed {
    const workloads = value(outputs, "workloads");
    return {
        vaultAuth: typeof value(outputs, "vaultAuthPath") === "string",
        workloads: typeof workloads === "object" && workloads !== null && Object.keys(workloads).length > 0,
    };
}

/** What the state's highest deployed stage says is deployed. */
function deployedFromStage(stage: Stage | undefined): Deployed {
    const at = stage === undefined ? -1 : stageIndex(stage);
    return { vaultAuth: at >= stageIndex("vault-auth"), workloads: at >= stageIndex("workloads") };
}

/** The deployed stage, refined by the resources the state holds (the gate before `up`). */
export function deployedFromState(stage: Stage | undefined, urns: readonly string[]): Deployed {
    return { ...deployedFromStage(stage), inState: new Set(urns.map(stateKey)) };
}

export async function preflight(options: PreflightOptions): Promise<PreflightReport> {
    const outputs = options.outputs ?? {};
    const text = (key: string) => {
        const v = value(outputs, key);
        return typeof v === "string" && v !== "" ? v : undefined;
    };
    const apiServerUrl = text("apiServerUrl");
    const reviewerSecret = text("reviewerTokenSecret");
    const plan = preflightPlan(options.settings, {
        project: options.project ?? PROJECT_NAME,
        stack: options.stack,
        ...(apiServerUrl === undefined ? {} : { apiServerUrl }),
        ...(reviewerSecret === undefined ? {} : {
            reviewerTokenSecret: { namespace: text("injectorNamespace"), name: reviewerSecret, uid: text("reviewerTokenSecretUid") },
        }),
    });
    const deployed = options.deployed ?? deployedFromOutputs(outputs);
    return diagnose(plan, deployed, await gather(plan, deployed, options.k8s, options.vault));
}

// What the library's gate (src/automation/preflight.ts) and docs/preflight.md's example use.
export { kubernetesTokenIssuer, vaultClient } from "./gather";
export type { TokenIssuer } from "./gather";
export { renderText } from "./render";
