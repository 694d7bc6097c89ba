/**
 * Exit codes of the CLI, one per failure kind. Every typed error of the project is a
 * `ClassifiedError` carrying its own as `exitCode` (src/errors.ts, `SettingsError`,
 * `StackFileError`, `DoctorInputError`, `VerifyError`); kept apart so config, plan and doctor can
 * name theirs without importing the automation layer above them, and so the CLI can map an error
 * to its code without loading the modules that throw it.
 */
/** Exit codes of the CLI, one per failure kind. */
export const EXIT = {
    ok: 0,
    /** A bug or an error nobody classified. */
    internal: 1,
    /** Bad command line. */
    usage: 2,
    /** Settings or environment do not validate (names the key). */
    settings: 3,
    /** No `pulumi` executable on PATH. */
    pulumiMissing: 4,
    /** The stack does not exist in the backend. */
    stackMissing: 5,
    /** Someone else's update held the stack through every retry. */
    concurrentUpdate: 6,
    /** The preview gate stopped the run (policy violation or preview error): nothing changed. */
    gate: 7,
    /** A stage failed while changing resources: earlier stages stay applied; rerun to continue. */
    stageFailed: 8,
    /** The request would delete resources of a later stage; refused. */
    unsafeStage: 9,
    /** `doctor` (or the verify step) found a failing check on the live deployment. */
    checksFailed: 10,
    /** Cancelled (Ctrl-C / AbortSignal). 128 + SIGINT, as shells report it. */
    cancelled: 130,
} as const;

/** An error whose kind the CLI reports with its own exit code (anything else exits `internal`). */
export abstract class ClassifiedError extends Error {
    abstract readonly exitCode: number;
}
