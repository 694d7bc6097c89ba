/**
 * Pure planners: which stages an operation runs, in which order, and why the others do not.
 * They see only the highest deployed stage (read from the state by the runner) and the request,
 * so the ordering and refusal rules are tested without an engine; the runner executes the steps.
 *
 * Stage k's program is the same graph cut after stage k, so an update cut below the highest
 * deployed stage would delete the later stages' resources: `planUp` refuses it.
 */
import { UnsafeStageError } from "../errors";
import { STAGES, Stage, stageIndex } from "../stages";

/** One line of the plan as the `plan` event reports it: `reason` says why a stage does not run. */
export interface PlannedStage {
    stage: Stage;
    run: boolean;
    reason?: string;
}

interface UpPlanRequest {
    operation: "preview" | "up";
    /** Up to this stage. Default: the last. */
    stage?: Stage;
    /** One update for the whole requested graph. Default false (always true for preview). */
    singleUpdate?: boolean;
}

type UpPlan =
    | { refused: UnsafeStageError }
    /** `steps`: the stages to preview (and, for `up`, apply), in order; each is a cut of the program. */
    | { refused?: undefined; stages: PlannedStage[]; steps: Stage[] };

/** `preview`/`up` given the highest deployed stage (undefined: nothing deployed). */
export function planUp(deployed: Stage | undefined, req: UpPlanRequest): UpPlan {
    const target = req.stage ?? STAGES[STAGES.length - 1];
    if (deployed !== undefined && stageIndex(deployed) > stageIndex(target)) {
        return { refused: new UnsafeStageError(target, deployed, req.operation) };
    }
    const single = req.operation === "preview" || req.singleUpdate === true;
    // Start at the highest deployed stage: its graph holds every earlier stage, so a
    // resumed run re-applies them as part of it rather than one by one.
    const start = single ? stageIndex(target) : deployed === undefined ? 0 : stageIndex(deployed);
    const stages: PlannedStage[] = STAGES.map((stage, i) => {
        if (i > stageIndex(target)) return { stage, run: false, reason: `after --stage ${target}` };
        if (i < start) {
            return { stage, run: false, reason: single ? `included in ${target}` : "already applied; part of every later stage's graph" };
        }
        return { stage, run: true };
    });
    return { stages, steps: stages.filter((p) => p.run).map((p) => p.stage) };
}

interface DestroyPlanRequest {
    /** Down to (and including) this stage. Default: the first, i.e. everything. */
    stage?: Stage;
    /** One update removing every requested stage at once. Default false. */
    singleUpdate?: boolean;
}

/**
 * One destroy step: remove `stage` and everything above it. `cut` is the program the stack is
 * updated to (the stage below); undefined means `pulumi destroy` of the whole stack.
 */
export interface DestroyStep {
    stage: Stage;
    cut?: Stage;
}

interface DestroyPlan {
    stages: PlannedStage[];
    steps: DestroyStep[];
}

/** `destroy` given the highest deployed stage: top-down, so nothing is removed before what uses it. */
export function planDestroy(deployed: Stage | undefined, req: DestroyPlanRequest): DestroyPlan {
    const lowest = req.stage ?? STAGES[0];
    const top = deployed === undefined ? -1 : stageIndex(deployed);
    // Highest first: workloads go before the auth they log in with, which goes before the cluster.
    const stages: PlannedStage[] = [...STAGES].reverse().map((stage) => {
        const i = stageIndex(stage);
        if (i > top) return { stage, run: false, reason: "nothing deployed" };
        if (i < stageIndex(lowest)) return { stage, run: false, reason: `below --stage ${lowest}; kept` };
        return { stage, run: true };
    });
    const toRun = stages.filter((p) => p.run).map((p) => p.stage);
    const batches = req.singleUpdate === true && toRun.length > 0 ? [toRun[toRun.length - 1]] : toRun;
    return {
        stages,
        // Removing stage i is an update to the program cut after stage i-1; stage 0 is a destroy.
        steps: batches.map((stage) => {
            const i = stageIndex(stage);
            return i === 0 ? { stage } : { stage, cut: STAGES[i - 1] };
        }),
    };
}
