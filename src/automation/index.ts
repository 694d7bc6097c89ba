/**
 * The library API a portal back end imports (docs/automation.md, "Library API"):
 *
 *     import { run } from "aks-vault-injector/automation";
 *     await run({ operation: "up", stack: "team-a", settings, onEvent, signal });
 *
 * One function runs an operation over the ordered stages (see runner.ts for the semantics). The
 * settings are the same typed object `index.ts` builds from stack config; they are validated
 * before Pulumi is touched, and secrets travel in-process (never on a command line). Besides
 * `run`: its typed errors, `resolveBackend`, the doctor for a verify step, and the seam
 * (`runOperation` over a `StackEngine`) for tests or another engine. Nothing else is public.
 */
export { run } from "./run";
export type { RunOptions } from "./run";
export type { Operation, RunEvent, RunResult, StageReport, RetryPolicy, RunRequest, Phase, StageStatus } from "./runner";
export type { Stage } from "../stages";
export type { SettingsInput, Settings } from "../config/schema";
// Every failure `run` rejects with; each carries `exitCode` (docs/automation.md, "Exit codes").
export { SettingsError } from "../config/validate";
export {
    AuthMountSwitchError, AutomationError, CancelledError, GateError, PulumiNotInstalledError, RunConfigurationError, StackLockedError,
    StackMissingError, StageFailedError, UnsafeStageError,
} from "../errors";
export type { PolicyViolation } from "../errors";
export { resolveBackend } from "./backend";
export type { Backend, BackendSource } from "./backend";
// The doctor, for a portal's own verify step after `up` (docs/doctor.md).
export { doctor, verify, VerifyError } from "../doctor";
export { renderText } from "../doctor/render";
export type { DoctorReport } from "../doctor/types";
// The seam: the same stage logic over any engine. An engine reports a lock, a missing stack and
// any other failure as EngineConflict, EngineStackMissing and EngineFailure.
export { runOperation } from "./runner";
export type { StackEngine, EngineCall, ChangeSummary, StackOutput } from "./engine";
export { PulumiEngine } from "./pulumiEngine";
export { EngineConflict, EngineFailure, EngineStackMissing } from "../errors";
