/**
 * The offline plan's first lines. They depend only on the stack and the stage, so the CLI prints
 * them as soon as the stack file validates, before loading the Pulumi SDK and evaluating the
 * program (about 0.8 s); `renderPlan` starts with the same text, so the output is unchanged.
 */
import { STAGES, Stage } from "../stages";

export function planHeader(stack: string, stage: Stage): string {
    const cut = stage === STAGES[STAGES.length - 1] ? "all stages" : `stages ${STAGES.slice(0, STAGES.indexOf(stage) + 1).join(" → ")}`;
    return [
        `OFFLINE PLAN (not a preview) for stack "${stack}", ${cut}`,
        "The program ran under Pulumi's mock runtime: no Pulumi CLI, cloud, state or credentials.",
        "⟨…⟩ is a value the cloud computes at deployment; [secret] is a secret, never printed.",
        "",
        "",
    ].join("\n");
}
