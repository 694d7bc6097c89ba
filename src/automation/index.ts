/**
 * The library API a portal back end imports:
 *
 *     import { run } from "aks-vault-injector/automation";
 *     await run({ operation: "up", stack: "team-a", settings, onEvent, signal });
 *
 * One function runs an operation over the ordered stages (see runner.ts for the semantics). The
 * settings are the same typed object `index.ts` builds from stack config; they are validated
 * before Pulumi is touched, and secrets travel in-process (never on a command line).
 */
export { OPERATIONS, DEFAULT_RETRY, runOperation } from "./runner";
export { PROJECT_DIR } from "../projectDir";
export { resolveBackend, credentialsFile, displayUrl } from "./backend";
export type { Backend, BackendSource } from "./backend";
export type { Operation, RunEvent, RunResult, StageReport, RetryPolicy, RunRequest, Phase, StageStatus } from "./runner";
export { STAGES, parseStage } from "../stages";
export { deployedStage, stageOfUrn } from "../program/stages";
export type { Stage } from "../stages";
export * from "../errors";
export type { StackEngine, EngineCall, ChangeSummary, StackOutput } from "./engine";
export { PulumiEngine, findPulumi, pluginVersions } from "./pulumiEngine";
export { SettingsError } from "../config/validate";
// The doctor, for a portal's own verify step after `up` (see docs/doctor.md).
export { doctor, verify, VerifyError } from "../doctor";
export type { DoctorReport } from "../doctor/types";
export type { SettingsInput, Settings } from "../config/schema";
export { run, readStackOutputs, programFactory, platformPackConfig } from "./run";
export type { RunOptions } from "./run";
