/**
 * Typed failures of an operation. The CLI maps each to its own exit code; a portal branches on
 * the class (`instanceof`), never on message text.
 */
import { ClassifiedError, EXIT } from "./exitCodes";
import { Stage } from "./stages";


export abstract class AutomationError extends ClassifiedError {
    constructor(message: string) {
        super(message);
        this.name = new.target.name;
    }
}

export const PULUMI_INSTALL_URL = "https://www.pulumi.com/docs/install/";

export class PulumiNotInstalledError extends AutomationError {
    readonly exitCode = EXIT.pulumiMissing;
    /** `alternative`: what else the command that needed it can do without it. */
    constructor(alternative = "run `plan` for an offline plan that needs no CLI") {
        super(`the pulumi CLI is not on PATH; install it (${PULUMI_INSTALL_URL}), or ${alternative}`);
    }
}

/** A setting of the run itself (backend, secrets provider, passphrase), not of the stack. */
export class RunConfigurationError extends AutomationError {
    readonly exitCode = EXIT.settings;
}

/**
 * The stack does not exist in the backend. Not the Automation API's `StackNotFoundError` (which
 * the engine maps to `EngineStackMissing`); `name` keeps the public name the CLI's `--json` prints.
 */
export class StackMissingError extends AutomationError {
    readonly exitCode = EXIT.stackMissing;
    override readonly name = "StackNotFoundError";
    constructor(public readonly stack: string) {
        super(`stack "${stack}" does not exist in this backend; run \`up\` to create it, or check --stack and the backend URL`);
    }
}

/**
 * Someone else's update held the stack through every retry. Not the Automation API's
 * `ConcurrentUpdateError` (mapped to `EngineConflict`); `name` keeps the public name.
 */
export class StackLockedError extends AutomationError {
    readonly exitCode = EXIT.concurrentUpdate;
    override readonly name = "ConcurrentUpdateError";
    constructor(public readonly stack: string, public readonly attempts: number) {
        super(`stack "${stack}" is locked by another update; gave up after ${attempts} attempts. ` +
            "Wait for it to finish (it was not cancelled), then rerun.");
    }
}

export interface PolicyViolation {
    policyPack: string;
    policy: string;
    message: string;
    resource?: string;
}

/** The preview of a stage failed or found mandatory policy violations; nothing was changed. */
export class GateError extends AutomationError {
    readonly exitCode = EXIT.gate;
    constructor(
        public readonly stage: Stage,
        public readonly violations: PolicyViolation[],
        public readonly resource: string | undefined,
        public readonly detail: string,
    ) {
        super(violations.length > 0
            ? `stage ${stage}: preview found ${violations.length} mandatory policy ` +
              `violation${violations.length === 1 ? "" : "s"}; nothing was changed:\n` +
              violations.map((v) => `  - ${v.policyPack}/${v.policy}${v.resource ? ` on ${v.resource}` : ""}: ${v.message}`).join("\n")
            : `stage ${stage}: preview failed${resource ? ` at ${resource}` : ""}; nothing was changed: ${detail}`);
    }
}

/** A stage failed while changing resources. Earlier stages stay applied; a rerun continues here. */
export class StageFailedError extends AutomationError {
    readonly exitCode = EXIT.stageFailed;
    constructor(
        public readonly stage: Stage,
        public readonly operation: string,
        public readonly resource: string | undefined,
        public readonly detail: string,
        public readonly appliedStages: Stage[],
    ) {
        super(`stage ${stage} failed during ${operation}${resource ? ` at ${resource}` : ""}: ${detail}\n` +
            (appliedStages.length > 0 ? `stages ${operation === "destroy" ? "removed" : "applied"}: ${appliedStages.join(", ")}; ` : "") +
            "rerun the same command to continue from this stage.");
    }
}

/** The run would delete resources of a later stage that is already deployed. */
export class UnsafeStageError extends AutomationError {
    readonly exitCode = EXIT.unsafeStage;
    constructor(public readonly requested: Stage, public readonly deployed: Stage, operation: string) {
        super(`refusing ${operation} --stage ${requested}: the stack already holds resources of stage ${deployed}, ` +
            `and the program cut after ${requested} would delete them. Use --stage ${deployed} (or omit --stage), ` +
            `or remove the later stages on purpose with \`destroy --stage <stage>\`.`);
    }
}

/**
 * The settings switch `kubernetesAuth.method` while keeping the path of the mount the stack holds:
 * the engine creates the new method's mount before it deletes the old one, and Vault refuses a
 * second mount at one path ("path is already in use"), half way through `up`. Refused before
 * anything runs; a settings error, so the exit code of one.
 */
export class AuthMountSwitchError extends AutomationError {
    readonly exitCode = EXIT.settings;
    constructor(
        public readonly path: string,
        public readonly deployedMethod: "kubernetes" | "jwt",
        public readonly method: "kubernetes" | "jwt",
        /** The new method's default path, unless it is this very path (then omitting it does not help). */
        defaultPath: string | undefined,
    ) {
        super(`kubernetesAuth.path: "${path}" is this stack's ${deployedMethod} auth mount; Vault holds one mount per path, ` +
            `so switching kubernetesAuth.method to ${method} needs a new path (set kubernetesAuth.path to another path` +
            `${defaultPath === undefined ? "" : `, or omit it for the default "${defaultPath}"`}): the new mount is created ` +
            "beside the old one, which the same up removes (docs/data-safety.md)");
    }
}

export class CancelledError extends AutomationError {
    readonly exitCode = EXIT.cancelled;
    constructor(public readonly stage: Stage | undefined) {
        super(`cancelled${stage ? ` during stage ${stage}` : ""}; the running update was asked to stop. Rerun to continue.`);
    }
}

/**
 * What an engine (the real Automation API, or a test fake) throws. The runner turns these into
 * the errors above; engines never decide about retries or stages.
 */
export class EngineConflict extends Error {
    constructor() { super("stack locked by another update"); this.name = "EngineConflict"; }
}
export class EngineStackMissing extends Error {
    constructor() { super("stack not found"); this.name = "EngineStackMissing"; }
}
export class EngineFailure extends Error {
    constructor(message: string) { super(message); this.name = "EngineFailure"; }
}
