/**
 * Runs an operation over the ordered stages through a `StackEngine`.
 *
 * Stage k's program is the same graph cut after stage k. `up` runs the stages in order; each is
 * previewed first (the gate: an error or a mandatory policy violation stops the run before anything
 * changes), then applied. Because a cut-after-k `up` deletes whatever later stages hold, the runner
 * reads the stack's state first: it refuses a cut below the highest deployed stage, and starts at
 * that stage (earlier stages are part of its graph), which is also how a failed run resumes.
 * `destroy --stage k` removes stages from the highest deployed one down to k, one stage at a time.
 */
import {
    CancelledError, StackLockedError, EngineConflict, EngineStackMissing, GateError, PolicyViolation,
    StackMissingError, StageFailedError, UnsafeStageError,
} from "./errors";
import { ChangeSummary, EngineCall, EngineEvent, StackEngine, StackOutput } from "./engine";
import { STAGES, Stage, deployedStage, stageIndex } from "../program/stages";

export const OPERATIONS = ["preview", "up", "destroy", "refresh", "outputs"] as const;
export type Operation = (typeof OPERATIONS)[number];
export type Phase = "preview" | "up" | "destroy" | "refresh";

export interface RetryPolicy {
    /** Attempts in all, the first included. Default 5. */
    attempts: number;
    /** First wait; doubles each time. Default 2000 ms. */
    baseDelayMs: number;
    /** Longest wait. Default 30000 ms. */
    maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 2000, maxDelayMs: 30000 };

export interface RunRequest {
    operation: Operation;
    /** Up to (up, preview) or down to (destroy) this stage. Default: every stage. */
    stage?: Stage;
    /** One update for the whole requested graph instead of one per stage. Default false. */
    singleUpdate?: boolean;
    /** Policy pack folders enforced by every preview (the gate) and update. Default none. */
    policyPacks?: string[];
    /** JSON files configuring the policy packs, paired with them by position. */
    policyPackConfigs?: string[];
    /** Create the stack if it does not exist. Default: true for `up`, false otherwise (as `pulumi preview`). */
    createStack?: boolean;
    /** Progress: stages, resources, diagnostics, policy results, retries. */
    onEvent?: (event: RunEvent) => void;
    /** Aborting cancels the running update cleanly (the CLI gets SIGINT) and rejects with `CancelledError`. */
    signal?: AbortSignal;
    /** Waits on a stack locked by someone else's update. Default 5 attempts, 2 s doubling, 30 s at most. */
    retry?: Partial<RetryPolicy>;
    /** Injected in tests; default: a timer that the signal interrupts. */
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type StageStatus = "skipped" | "previewing" | "updating" | "destroying" | "refreshing" | "done" | "failed";

export type RunEvent =
    | { type: "plan"; operation: Operation; stages: Array<{ stage: Stage; run: boolean; reason?: string }> }
    | { type: "stage"; stage: Stage; status: StageStatus; changes?: ChangeSummary; reason?: string }
    | { type: "resource"; stage: Stage; phase: Phase; op: string; urn: string; resourceType: string; name: string; status: "started" | "done" | "failed" }
    | { type: "diagnostic"; stage: Stage; severity: string; message: string; urn?: string }
    /** `mandatory` stops the run; anything else (the engine says `advisory`) is a warning. */
    | { type: "policy"; stage: Stage; level: "advisory" | "mandatory" | (string & Record<never, never>); violation: PolicyViolation }
    | { type: "retry"; stage: Stage; phase: Phase; attempt: number; delayMs: number };

export interface StageReport {
    stage: Stage;
    status: "skipped" | "done";
    phase?: Phase;
    changes?: ChangeSummary;
    reason?: string;
}

export interface RunResult {
    operation: Operation;
    stack: string;
    stages: StageReport[];
    outputs?: Record<string, StackOutput>;
}

function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
    });
}

/** Follows one engine command's events: resources, the first failing resource, policy violations. */
class Tracker {
    readonly violations: PolicyViolation[] = [];
    failedUrn?: string;
    errorMessage?: string;

    constructor(private readonly stage: Stage, private readonly phase: Phase, private readonly emit: (e: RunEvent) => void) {}

    readonly onEvent = (e: EngineEvent): void => {
        const resource = (meta: { op: string; urn: string; type: string }, status: "started" | "done" | "failed") =>
            this.emit({ type: "resource", stage: this.stage, phase: this.phase, op: meta.op, urn: meta.urn, resourceType: meta.type, name: meta.urn.split("::").pop() ?? meta.urn, status });
        if (e.resourcePreEvent) resource(e.resourcePreEvent.metadata, "started");
        if (e.resOutputsEvent) resource(e.resOutputsEvent.metadata, "done");
        if (e.resOpFailedEvent) {
            this.failedUrn ??= e.resOpFailedEvent.metadata.urn;
            resource(e.resOpFailedEvent.metadata, "failed");
        }
        if (e.diagnosticEvent && (e.diagnosticEvent.severity === "error" || e.diagnosticEvent.severity === "warning")) {
            const d = e.diagnosticEvent;
            const message = d.message.trim();
            if (d.severity === "error" && this.errorMessage === undefined) {
                this.errorMessage = message;
                if (d.urn) this.failedUrn ??= d.urn;
            }
            this.emit({ type: "diagnostic", stage: this.stage, severity: d.severity, message, urn: d.urn });
        }
        if (e.policyEvent) {
            const p = e.policyEvent;
            const violation: PolicyViolation = {
                policyPack: p.policyPackName,
                policy: p.policyName,
                message: p.message.trim(),
                resource: p.resourceUrn,
            };
            if (p.enforcementLevel === "mandatory") this.violations.push(violation);
            this.emit({ type: "policy", stage: this.stage, level: p.enforcementLevel, violation });
        }
    };
}

export async function runOperation(engine: StackEngine, req: RunRequest): Promise<RunResult> {
    const emit = (e: RunEvent) => req.onEvent?.(e);
    const retry: RetryPolicy = { ...DEFAULT_RETRY, ...req.retry };
    const sleep = req.sleep ?? sleepFor;
    const policyPacks = req.policyPacks ?? [];
    const applied: Stage[] = [];
    const reports: StageReport[] = [];
    const result: RunResult = { operation: req.operation, stack: engine.stackName, stages: reports };

    const checkCancelled = (stage?: Stage) => {
        if (req.signal?.aborted) throw new CancelledError(stage);
    };

    /** Waits out someone else's update (never cancels it); gives up after the retry budget. */
    async function waitForLock(stage: Stage, phase: Phase, attempt: number): Promise<void> {
        if (attempt >= retry.attempts) throw new StackLockedError(engine.stackName, attempt);
        const delayMs = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        emit({ type: "retry", stage, phase, attempt, delayMs });
        await sleep(delayMs, req.signal);
    }

    /**
     * One engine command; errors become the runner's typed errors. A locked stack is waited out
     * and retried here, unless `onConflict` is "throw" (the caller must redo more than this step).
     */
    async function step(stage: Stage, phase: Phase, run: (call: EngineCall) => Promise<ChangeSummary>, onConflict: "retry" | "throw" = "retry"): Promise<{ changes: ChangeSummary; violations: PolicyViolation[] }> {
        for (let attempt = 1; ; attempt++) {
            checkCancelled(stage);
            const tracker = new Tracker(stage, phase, emit);
            try {
                const changes = await run({
                    stage,
                    policyPacks,
                    policyPackConfigs: req.policyPackConfigs,
                    onEvent: tracker.onEvent,
                    signal: req.signal,
                });
                // A cancel that arrives after the command finished stops the next step, not this one.
                return { changes, violations: tracker.violations };
            } catch (err) {
                checkCancelled(stage);
                if (err instanceof EngineConflict) {
                    if (onConflict === "throw") throw err;
                    await waitForLock(stage, phase, attempt);
                    continue;
                }
                if (err instanceof EngineStackMissing) throw new StackMissingError(engine.stackName);
                const detail = tracker.errorMessage ?? (err instanceof Error ? err.message : String(err));
                emit({ type: "stage", stage, status: "failed", reason: detail });
                if (phase === "preview") throw new GateError(stage, tracker.violations, tracker.failedUrn, detail);
                throw new StageFailedError(stage, req.operation === "destroy" ? "destroy" : phase, tracker.failedUrn, detail, [...applied]);
            }
        }
    }

    /**
     * Preview (the gate), then apply, the program cut after `cut`; reported under `stage`. If the
     * stack is locked when applying, the other update may have changed it: wait, then start again
     * from the preview, so what is applied is always what was just previewed and checked.
     */
    async function gatedUp(stage: Stage, cut: Stage, applying: "updating" | "destroying"): Promise<ChangeSummary> {
        for (let attempt = 1; ; attempt++) {
            emit({ type: "stage", stage, status: "previewing" });
            const gate = await step(stage, "preview", (call) => engine.preview({ ...call, stage: cut }));
            if (gate.violations.length > 0) {
                emit({ type: "stage", stage, status: "failed", reason: "policy" });
                throw new GateError(stage, gate.violations, undefined, "mandatory policy violations");
            }
            if (applying === "updating") {
                // Someone may have deployed a later stage since this run read the state: an update
                // of the graph cut after `cut` would delete it.
                const deployedNow = deployedStage(await engine.stateUrns());
                if (deployedNow !== undefined && stageIndex(deployedNow) > stageIndex(cut)) throw new UnsafeStageError(cut, deployedNow, "up");
            }
            emit({ type: "stage", stage, status: applying });
            try {
                return (await step(stage, "up", (call) => engine.up({ ...call, stage: cut }), "throw")).changes;
            } catch (err) {
                if (!(err instanceof EngineConflict)) throw err;
                await waitForLock(stage, "up", attempt);
            }
        }
    }

    async function open(create: boolean) {
        try {
            await engine.open(create);
        } catch (err) {
            if (err instanceof EngineStackMissing) throw new StackMissingError(engine.stackName);
            throw err;
        }
    }

    const last = STAGES[STAGES.length - 1];
    switch (req.operation) {
        case "outputs": {
            await open(false);
            result.outputs = await engine.outputs();
            return result;
        }
        case "refresh": {
            await open(false);
            const stage = deployedStage(await engine.stateUrns()) ?? last;
            emit({ type: "plan", operation: "refresh", stages: [{ stage, run: true, reason: "refresh reads every resource in the state" }] });
            emit({ type: "stage", stage, status: "refreshing" });
            const { changes } = await step(stage, "refresh", (call) => engine.refresh(call));
            emit({ type: "stage", stage, status: "done", changes });
            reports.push({ stage, status: "done", phase: "refresh", changes });
            return result;
        }
        case "preview":
        case "up": {
            // A preview of a stack that does not exist fails (a mistyped --stack in CI must not
            // create an empty stack), unless the caller asks for it.
            await open(req.createStack ?? req.operation === "up");
            const target = req.stage ?? last;
            const deployed = deployedStage(await engine.stateUrns());
            if (deployed !== undefined && stageIndex(deployed) > stageIndex(target)) {
                throw new UnsafeStageError(target, deployed, req.operation);
            }
            const single = req.operation === "preview" || req.singleUpdate === true;
            // Start at the highest deployed stage: its graph holds every earlier stage, so a
            // resumed run re-applies them as part of it rather than one by one.
            const start = single ? stageIndex(target) : Math.max(0, deployed === undefined ? 0 : stageIndex(deployed));
            const planned = STAGES.map((stage, i) => {
                if (i > stageIndex(target)) return { stage, run: false, reason: `after --stage ${target}` };
                if (i < start) return { stage, run: false, reason: single ? `included in ${target}` : "already applied; part of every later stage's graph" };
                return { stage, run: true };
            });
            emit({ type: "plan", operation: req.operation, stages: planned });
            for (const p of planned) {
                if (!p.run) {
                    reports.push({ stage: p.stage, status: "skipped", reason: p.reason });
                    continue;
                }
                if (req.operation === "preview") {
                    emit({ type: "stage", stage: p.stage, status: "previewing" });
                    const gate = await step(p.stage, "preview", (call) => engine.preview(call));
                    if (gate.violations.length > 0) throw new GateError(p.stage, gate.violations, undefined, "mandatory policy violations");
                    emit({ type: "stage", stage: p.stage, status: "done", changes: gate.changes });
                    reports.push({ stage: p.stage, status: "done", phase: "preview", changes: gate.changes });
                    continue;
                }
                const changes = await gatedUp(p.stage, p.stage, "updating");
                applied.push(p.stage);
                emit({ type: "stage", stage: p.stage, status: "done", changes });
                reports.push({ stage: p.stage, status: "done", phase: "up", changes });
            }
            if (req.operation === "up") result.outputs = await engine.outputs();
            return result;
        }
        case "destroy": {
            await open(false);
            const lowest = req.stage ?? STAGES[0];
            const deployed = deployedStage(await engine.stateUrns());
            const top = deployed === undefined ? -1 : stageIndex(deployed);
            // Highest first: workloads go before the auth they log in with, which goes before the cluster.
            const order = [...STAGES].reverse();
            const planned = order.map((stage) => {
                const i = stageIndex(stage);
                if (i > top) return { stage, run: false, reason: "nothing deployed" };
                if (i < stageIndex(lowest)) return { stage, run: false, reason: `below --stage ${lowest}; kept` };
                return { stage, run: true };
            });
            emit({ type: "plan", operation: "destroy", stages: planned });
            const toRun = planned.filter((p) => p.run).map((p) => p.stage);
            for (const p of planned) if (!p.run) reports.push({ stage: p.stage, status: "skipped", reason: p.reason });
            const batches = req.singleUpdate === true && toRun.length > 0 ? [toRun[toRun.length - 1]] : toRun;
            for (const stage of batches) {
                const i = stageIndex(stage);
                let changes: ChangeSummary;
                if (i === 0) {
                    emit({ type: "stage", stage, status: "destroying" });
                    changes = (await step(stage, "destroy", (call) => engine.destroy(call))).changes;
                } else {
                    // Removing stage i is an update to the program cut after stage i-1.
                    changes = await gatedUp(stage, STAGES[i - 1], "destroying");
                }
                applied.push(stage);
                emit({ type: "stage", stage, status: "done", changes });
                reports.push({ stage, status: "done", phase: i === 0 ? "destroy" : "up", changes });
            }
            return result;
        }
        default: {
            const never: never = req.operation;
            throw new Error(`unknown operation ${String(never)}`);
        }
    }
}
