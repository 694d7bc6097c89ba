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
} from "../errors";
import { ChangeSummary, EngineCall, EngineEvent, StackEngine, StackOutput } from "./engine";
import { PlannedStage, planDestroy, planUp } from "./planner";
import { STAGES, Stage, stageIndex } from "../stages";
import { deployedStage } from "../program/stages";
import { PreflightError } from "../preflight/error";
import { settle, settleable } from "../preflight/settle";
import type { PreflightReport } from "../preflight/types";

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

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 2000, maxDelayMs: 30000 };

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
    /**
     * `up` only: the preflight (src/preflight), run before the first stage is applied when the
     * state holds the vault-auth stage or later (the auth mount exists, so logins can be tried).
     * A failing finding stops the run with `PreflightError`, nothing applied, unless this up's own
     * preview changes the role, policy or mount it is about: then it is a warning (settle,
     * src/preflight/settle.ts). Omitted: no gate.
     */
    preflight?: (deployed: Stage, stateUrns: readonly string[]) => Promise<PreflightReport>;
    /**
     * `preview` and `up`: asked once the state is read, when the stack holds resources, before
     * anything is previewed or applied (and before the preflight); an error it returns is thrown
     * and nothing runs. For settings the deployed stack cannot take in one `up` (an auth method
     * switched at an unchanged mount path: src/program/authMount.ts). `outputs` reads the stack's
     * outputs (secrets masked) only when called. Omitted: no check. Not the preflight: a run
     * without the preflight still asks it.
     */
    checkDeployed?: (deployed: Stage, outputs: () => Promise<Record<string, StackOutput>>) => Promise<Error | undefined>;
}

export type StageStatus = "skipped" | "previewing" | "updating" | "destroying" | "refreshing" | "done" | "failed";

export type RunEvent =
    | { type: "plan"; operation: Operation; stages: PlannedStage[] }
    | { type: "stage"; stage: Stage; status: StageStatus; changes?: ChangeSummary; reason?: string }
    | {
        type: "resource"; stage: Stage; phase: Phase; op: string; urn: string;
        resourceType: string; name: string; status: "started" | "done" | "failed";
    }
    | { type: "diagnostic"; stage: Stage; severity: string; message: string; urn?: string }
    /** `mandatory` stops the run; anything else (the engine says `advisory`) is a warning. */
    | { type: "policy"; stage: Stage; level: "advisory" | "mandatory" | (string & Record<never, never>); violation: PolicyViolation }
    | { type: "retry"; stage: Stage; phase: Phase; attempt: number; delayMs: number }
    /** The preflight gate before `up`: `skipped` with the reason, or its report. */
    | { type: "preflight"; status: "running" | "passed" | "failed" | "skipped"; reason?: string; report?: PreflightReport };

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
            this.emit({
                type: "resource",
                stage: this.stage,
                phase: this.phase,
                op: meta.op,
                urn: meta.urn,
                resourceType: meta.type,
                name: meta.urn.split("::").pop() ?? meta.urn,
                status,
            });
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

/**
 * Runs planned steps against the engine: each command is tracked, a locked stack is waited out,
 * a cancel stops before the next command, and engine errors become the runner's typed errors.
 */
class Executor {
    readonly emit = (e: RunEvent): void => this.req.onEvent?.(e);
    /** Stages applied so far in this run (reported by `StageFailedError`, so the caller knows where it stopped). */
    readonly applied: Stage[] = [];
    private readonly retry: RetryPolicy;
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
    private readonly policyPacks: string[];

    constructor(readonly engine: StackEngine, readonly req: RunRequest) {
        this.retry = { ...DEFAULT_RETRY, ...req.retry };
        this.sleep = req.sleep ?? sleepFor;
        this.policyPacks = req.policyPacks ?? [];
    }

    private checkCancelled(stage?: Stage): void {
        if (this.req.signal?.aborted) throw new CancelledError(stage);
    }

    /** Waits out someone else's update (never cancels it); gives up after the retry budget. */
    private async waitForLock(stage: Stage, phase: Phase, attempt: number): Promise<void> {
        if (attempt >= this.retry.attempts) throw new StackLockedError(this.engine.stackName, attempt);
        const delayMs = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        this.emit({ type: "retry", stage, phase, attempt, delayMs });
        await this.sleep(delayMs, this.req.signal);
    }

    /**
     * One engine command; errors become the runner's typed errors. A locked stack is waited out
     * and retried here, unless `onConflict` is "throw" (the caller must redo more than this step).
     */
    async step(
        stage: Stage, phase: Phase, run: (call: EngineCall) => Promise<ChangeSummary>, onConflict: "retry" | "throw" = "retry",
    ): Promise<{ changes: ChangeSummary; violations: PolicyViolation[] }> {
        for (let attempt = 1; ; attempt++) {
            this.checkCancelled(stage);
            const tracker = new Tracker(stage, phase, this.emit);
            try {
                const changes = await run({
                    stage,
                    policyPacks: this.policyPacks,
                    policyPackConfigs: this.req.policyPackConfigs,
                    onEvent: tracker.onEvent,
                    signal: this.req.signal,
                });
                // A cancel that arrives after the command finished stops the next step, not this one.
                return { changes, violations: tracker.violations };
            } catch (err) {
                this.checkCancelled(stage);
                if (err instanceof EngineConflict) {
                    if (onConflict === "throw") throw err;
                    await this.waitForLock(stage, phase, attempt);
                    continue;
                }
                if (err instanceof EngineStackMissing) throw new StackMissingError(this.engine.stackName);
                const detail = tracker.errorMessage ?? (err instanceof Error ? err.message : String(err));
                this.emit({ type: "stage", stage, status: "failed", reason: detail });
                if (phase === "preview") throw new GateError(stage, tracker.violations, tracker.failedUrn, detail);
                const failedPhase = this.req.operation === "destroy" ? "destroy" : phase;
                throw new StageFailedError(stage, failedPhase, tracker.failedUrn, detail, [...this.applied]);
            }
        }
    }

    /**
     * Preview (the gate), then apply, the program cut after `cut`; reported under `stage`. If the
     * stack is locked when applying, the other update may have changed it: wait, then start again
     * from the preview, so what is applied is always what was just previewed and checked.
     */
    async gatedUp(stage: Stage, cut: Stage, applying: "updating" | "destroying"): Promise<ChangeSummary> {
        for (let attempt = 1; ; attempt++) {
            this.emit({ type: "stage", stage, status: "previewing" });
            const gate = await this.step(stage, "preview", (call) => this.engine.preview({ ...call, stage: cut }));
            if (gate.violations.length > 0) {
                this.emit({ type: "stage", stage, status: "failed", reason: "policy" });
                throw new GateError(stage, gate.violations, undefined, "mandatory policy violations");
            }
            if (applying === "updating") {
                // Someone may have deployed a later stage since this run read the state: an update
                // of the graph cut after `cut` would delete it.
                const deployedNow = deployedStage(await this.engine.stateUrns());
                if (deployedNow !== undefined && stageIndex(deployedNow) > stageIndex(cut)) {
                    throw new UnsafeStageError(cut, deployedNow, "up");
                }
            }
            this.emit({ type: "stage", stage, status: applying });
            try {
                return (await this.step(stage, "up", (call) => this.engine.up({ ...call, stage: cut }), "throw")).changes;
            } catch (err) {
                if (!(err instanceof EngineConflict)) throw err;
                await this.waitForLock(stage, "up", attempt);
            }
        }
    }

    async open(create: boolean): Promise<void> {
        try {
            await this.engine.open(create);
        } catch (err) {
            if (err instanceof EngineStackMissing) throw new StackMissingError(this.engine.stackName);
            throw err;
        }
    }

    async deployed(): Promise<Stage | undefined> {
        return deployedStage(await this.engine.stateUrns());
    }
}

function skipped(reports: StageReport[], stages: PlannedStage[]): void {
    for (const p of stages) if (!p.run) reports.push({ stage: p.stage, status: "skipped", reason: p.reason });
}

async function runRefresh(x: Executor, result: RunResult): Promise<void> {
    await x.open(false);
    const stage = (await x.deployed()) ?? STAGES[STAGES.length - 1];
    x.emit({ type: "plan", operation: "refresh", stages: [{ stage, run: true, reason: "refresh reads every resource in the state" }] });
    x.emit({ type: "stage", stage, status: "refreshing" });
    const { changes } = await x.step(stage, "refresh", (call) => x.engine.refresh(call));
    x.emit({ type: "stage", stage, status: "done", changes });
    result.stages.push({ stage, status: "done", phase: "refresh", changes });
}

async function runUp(x: Executor, operation: "preview" | "up", result: RunResult): Promise<void> {
    const req = x.req;
    // A preview of a stack that does not exist fails (a mistyped --stack in CI must not
    // create an empty stack), unless the caller asks for it.
    await x.open(req.createStack ?? operation === "up");
    const deployed = await x.deployed();
    const plan = planUp(deployed, { operation, stage: req.stage, singleUpdate: req.singleUpdate });
    if (plan.refused) throw plan.refused;
    if (deployed !== undefined && req.checkDeployed !== undefined) {
        const refused = await req.checkDeployed(deployed, () => x.engine.outputs());
        if (refused !== undefined) throw refused;
    }
    x.emit({ type: "plan", operation, stages: plan.stages });
    if (operation === "up" && req.preflight !== undefined) {
        await preflightGate(x, deployed, req.preflight, plan.steps[plan.steps.length - 1]);
    }
    // Reports keep the plan's order: a skipped stage is reported where it stands.
    for (const p of plan.stages) {
        if (!p.run) {
            skipped(result.stages, [p]);
            continue;
        }
        if (operation === "preview") {
            x.emit({ type: "stage", stage: p.stage, status: "previewing" });
            const gate = await x.step(p.stage, "preview", (call) => x.engine.preview(call));
            if (gate.violations.length > 0) throw new GateError(p.stage, gate.violations, undefined, "mandatory policy violations");
            x.emit({ type: "stage", stage: p.stage, status: "done", changes: gate.changes });
            result.stages.push({ stage: p.stage, status: "done", phase: "preview", changes: gate.changes });
            continue;
        }
        const changes = await x.gatedUp(p.stage, p.stage, "updating");
        x.applied.push(p.stage);
        x.emit({ type: "stage", stage: p.stage, status: "done", changes });
        result.stages.push({ stage: p.stage, status: "done", phase: "up", changes });
    }
    if (operation === "up") result.outputs = await x.engine.outputs();
}

/**
 * Before anything is applied: act as each workload against what is deployed. Below vault-auth
 * there is no auth mount to log in at, so the gate has nothing to prove yet. A failing report is
 * judged again against what this up changes (`cut`: the last stage it applies), so the gate does
 * not refuse the up that applies a purposeful change or repairs a refreshed drift.
 */
async function preflightGate(
    x: Executor, deployed: Stage | undefined, run: NonNullable<RunRequest["preflight"]>, cut: Stage,
): Promise<void> {
    if (deployed === undefined || stageIndex(deployed) < stageIndex("vault-auth")) {
        x.emit({ type: "preflight", status: "skipped", reason: `no auth mount deployed yet (deployed: ${deployed ?? "nothing"})` });
        return;
    }
    x.emit({ type: "preflight", status: "running" });
    // The state's resources, not only its highest stage: a stage whose last run failed half way,
    // or a workload this up adds, is not "gone" (the rerun must be able to resume).
    const first = await run(deployed, await x.engine.stateUrns());
    let report = first;
    if (!first.ok && settleable(first)) {
        const changed = await changedBy(x, cut);
        if (x.req.signal?.aborted) throw new CancelledError(undefined);
        if (changed !== undefined) report = settle(first, changed);
    }
    x.emit({ type: "preflight", status: report.ok ? "passed" : "failed", report });
    if (!report.ok) throw new PreflightError(report);
    if (x.req.signal?.aborted) throw new CancelledError(undefined);
}

/**
 * The URNs this up changes: one preview of the graph it applies (the program cut after `cut`),
 * every resource whose step is not `same` or `read`. Its events are the gate's, not a stage's:
 * none reaches `onEvent`. Undefined when the preview fails (a lock, an error, a policy): the gate
 * then keeps its refusal.
 */
async function changedBy(x: Executor, cut: Stage): Promise<string[] | undefined> {
    const changed: string[] = [];
    try {
        await x.engine.preview({
            stage: cut,
            policyPacks: x.req.policyPacks ?? [],
            policyPackConfigs: x.req.policyPackConfigs,
            onEvent: (e) => {
                const m = e.resourcePreEvent?.metadata;
                if (m !== undefined && m.op !== "same" && m.op !== "read") changed.push(m.urn);
            },
            signal: x.req.signal,
        });
    } catch {
        return undefined;
    }
    return changed;
}

async function runDestroy(x: Executor, result: RunResult): Promise<void> {
    await x.open(false);
    const plan = planDestroy(await x.deployed(), { stage: x.req.stage, singleUpdate: x.req.singleUpdate });
    x.emit({ type: "plan", operation: "destroy", stages: plan.stages });
    skipped(result.stages, plan.stages);
    for (const { stage, cut } of plan.steps) {
        let changes: ChangeSummary;
        if (cut === undefined) {
            x.emit({ type: "stage", stage, status: "destroying" });
            changes = (await x.step(stage, "destroy", (call) => x.engine.destroy(call))).changes;
        } else {
            changes = await x.gatedUp(stage, cut, "destroying");
        }
        x.applied.push(stage);
        x.emit({ type: "stage", stage, status: "done", changes });
        result.stages.push({ stage, status: "done", phase: cut === undefined ? "destroy" : "up", changes });
    }
}

export async function runOperation(engine: StackEngine, req: RunRequest): Promise<RunResult> {
    const x = new Executor(engine, req);
    const result: RunResult = { operation: req.operation, stack: engine.stackName, stages: [] };
    switch (req.operation) {
        case "outputs":
            await x.open(false);
            result.outputs = await engine.outputs();
            return result;
        case "refresh":
            await runRefresh(x, result);
            return result;
        case "preview":
        case "up":
            await runUp(x, req.operation, result);
            return result;
        case "destroy":
            await runDestroy(x, result);
            return result;
        default: {
            const never: never = req.operation;
            throw new Error(`unknown operation ${String(never)}`);
        }
    }
}
