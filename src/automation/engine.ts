/**
 * The seam between the stage runner and Pulumi. `PulumiEngine` implements it with the Automation
 * API; tests implement it with a recorded fake. An engine knows nothing of stages beyond "build
 * the program cut after this stage", and nothing of retries: it reports a lock as `EngineConflict`,
 * a missing stack as `EngineStackMissing`, anything else as `EngineFailure`.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { Stage } from "../stages";

export type { EngineEvent };

export interface EngineCall {
    /** The program is the graph cut after this stage. */
    stage: Stage;
    /** Policy pack folders to enforce (preview and up). */
    policyPacks: string[];
    /** JSON files configuring those packs (`--policy-pack-config`). */
    policyPackConfigs?: string[];
    /** Every engine event, as it happens. */
    onEvent: (event: EngineEvent) => void;
    /** Cancels the running command (the CLI receives SIGINT and stops the update cleanly). */
    signal?: AbortSignal;
}

/** Resource counts by operation (`create`, `update`, `delete`, `same`, ...). */
export type ChangeSummary = Record<string, number>;

export interface StackOutput {
    value: unknown;
    secret: boolean;
}

export interface StackEngine {
    readonly stackName: string;
    /** Selects the stack, creating it first when `create` is set. */
    open(create: boolean): Promise<void>;
    /** URNs of the resources in the stack's state (empty for a new stack). */
    stateUrns(): Promise<string[]>;
    preview(call: EngineCall): Promise<ChangeSummary>;
    up(call: EngineCall): Promise<ChangeSummary>;
    /** Deletes every resource of the stack. */
    destroy(call: Omit<EngineCall, "policyPacks">): Promise<ChangeSummary>;
    refresh(call: Omit<EngineCall, "policyPacks">): Promise<ChangeSummary>;
    outputs(): Promise<Record<string, StackOutput>>;
}
