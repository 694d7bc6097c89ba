/**
 * `run` and `readStackOutputs`: the library API's implementation over the Automation API
 * (`PulumiEngine`) and the stage runner (runner.ts). Imported through the barrel, index.ts.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { PROJECT_DIR } from "../projectDir";
import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { buildProgram } from "../program/program";
import { loadFromConfig, SecretInputs } from "../config/load";
import { parseSettings, SettingsError } from "../config/validate";
import { writeVaultCaCertFile } from "../../components/caCertFile";
import { readStackFile, stackFilePath } from "../plan/stackFile";
import { Settings, SettingsInput } from "../config/schema";
import { PulumiEngine } from "./pulumiEngine";
import type { StackOutput } from "./engine";
import { EngineStackMissing, StackMissingError } from "../errors";
import { RunRequest, RunResult, runOperation } from "./runner";
import { checkDeployedAuthMount } from "../program/authMount";
import { Stage } from "../stages";



/** What `run` takes: the stage runner's request (see runner.ts) plus where the stack lives. */
export interface RunOptions extends Omit<RunRequest, "sleep" | "preflight" | "checkDeployed"> {
    /** Stack name, e.g. `dev` or `team-a`. */
    stack: string;
    /**
     * The stack's settings, the shape of `Pulumi.<stack>.yaml`'s `aks-vault:*` keys (without the
     * prefix). Omitted: the program reads them from the stack's config file, as `pulumi up` would.
     */
    settings?: SettingsInput;
    /** Secret inputs, kept in this process and wrapped as Pulumi secrets. */
    secrets?: {
        /** Vault token for the program; default: VAULT_TOKEN in the environment of the run. */
        vaultToken?: string;
        /** Values for seeds declared as `{ secretConfig: KEY }`; missing keys are read from stack config. */
        values?: Record<string, string>;
    };
    /**
     * Any Pulumi backend URL. Default: the backend the Pulumi CLI uses (PULUMI_BACKEND_URL, then
     * Pulumi.yaml `backend.url`, then `pulumi login`'s credentials), else a file backend in
     * `<project>/.pulumi-state` when it is not logged in. `resolveBackend` says which.
     */
    backendUrl?: string;
    /** Default `passphrase` (PULUMI_CONFIG_PASSPHRASE[_FILE]); e.g. `azurekeyvault://<vault>.vault.azure.net/keys/<key>`. */
    secretsProvider?: string;
    /**
     * JSON files configuring the packs. Default: for this project's pack, the platform team's
     * `policies/platform-config[.<stack>].json` (policies/platformConfig.ts); exemptions never
     * come from the stack config under review.
     */
    policyPackConfigs?: string[];
    /** Extra environment for the Pulumi CLI (e.g. ARM_* or AZURE_* credentials). */
    envVars?: Record<string, string>;
    /** Default: this package's folder. */
    projectDir?: string;
    /** Environment in which `pulumi` and the passphrase are looked up. Default: process.env. */
    env?: NodeJS.ProcessEnv;
    /** Install the pinned provider plugins first (default true); false when PULUMI_HOME's cache is filled beforehand. */
    installPlugins?: boolean;
    /**
     * `up` only: run the preflight (docs/preflight.md) before applying, when the state holds the
     * vault-auth stage or later; a failing finding stops the run (`PreflightError`). Default true.
     */
    preflight?: boolean;
}

function secretInputs(secrets: RunOptions["secrets"]): SecretInputs {
    const values = secrets?.values ?? {};
    return {
        // Only when given: an explicit undefined would hide the stack's own vaultToken config.
        ...(secrets?.vaultToken === undefined ? {} : { vaultToken: secrets.vaultToken }),
        secretConfig: (key: string) => {
            const value = values[key];
            return value !== undefined ? pulumi.secret(value) : new pulumi.Config().requireSecret(key);
        },
    };
}

/** The program cut after `stage`, for the inline Automation API program. */
function programFactory(
    settings: Settings | undefined, secrets: RunOptions["secrets"], projectDir?: string,
): (stage: Stage) => PulumiFn {
    return (stage) => async () => {
        if (settings !== undefined) return buildProgram(settings, secretInputs(secrets), { stage, projectDir });
        try {
            const loaded = loadFromConfig(new pulumi.Config());
            return buildProgram(loaded.settings, secrets === undefined ? loaded.secrets : { ...loaded.secrets, ...secretInputs(secrets) }, {
                stage,
                projectDir,
            });
        } catch (err) {
            if (err instanceof SettingsError) throw new pulumi.RunError(err.message);
            throw err;
        }
    };
}

/**
 * Runs one operation. Rejects with a typed error (`SettingsError`, `PulumiNotInstalledError`,
 * `StackMissingError`, `StackLockedError`, `GateError`, `StageFailedError`,
 * `UnsafeStageError`, `AuthMountSwitchError`, `CancelledError`); each carries `exitCode`.
 */
export async function run(options: RunOptions): Promise<RunResult> {
    // Validate before touching Pulumi: a bad object fails here with every key named.
    const settings = options.settings === undefined ? undefined : parseSettings(options.settings);
    const projectDir = options.projectDir ?? PROJECT_DIR;
    const engine = engineFor(options, programFactory(settings, options.secrets, projectDir));
    // destroy and refresh configure the Vault provider from the state without running the
    // program: its CA file must exist at the relative path the state names, under the project
    // root the engine starts the provider in (same content, same path, on any runner).
    // Without settings given, the stack file's, read once (undefined when missing or invalid: the
    // program names bad settings itself).
    const known = settings ?? stackFileSettings(options);
    const caCertPem = known?.vault.caCertPem;
    if (caCertPem !== undefined) writeVaultCaCertFile(caCertPem, projectDir);
    const packs = options.policyPacks ?? [];
    const ours = path.join(options.projectDir ?? PROJECT_DIR, "policies");
    const derived = options.policyPackConfigs === undefined && packs.length > 0
        ? await platformPackConfig(ours, options.stack)
        : undefined;
    // The CLI pairs --policy-pack-config with --policy-pack by position: the platform's config
    // goes to this project's pack, an empty one to any other.
    const derivedConfigs =
        derived === undefined ? undefined : packs.map((p) => (path.resolve(p) === path.resolve(ours) ? derived.file : derived.empty));
    try {
        return await runOperation(engine, {
            operation: options.operation,
            stage: options.stage,
            singleUpdate: options.singleUpdate,
            policyPacks: options.policyPacks,
            policyPackConfigs: options.policyPackConfigs ?? derivedConfigs,
            createStack: options.createStack,
            onEvent: options.onEvent,
            signal: options.signal,
            retry: options.retry,
            preflight: options.operation === "up" && options.preflight !== false ? gateFor(options, known, engine,
                projectDir) : undefined,
            checkDeployed: options.operation === "up" || options.operation === "preview" ? checkFor(known) : undefined,
        });
    } finally {
        derived?.cleanup();
    }
}

/** The preflight gate for this run: the settings `up` applies, the stack's outputs in clear, the operator's token. */
function gateFor(options: RunOptions, settings: Settings | undefined, engine: PulumiEngine, projectDir: string): RunRequest["preflight"] {
    return async (deployed, stateUrns) => {
        const { preflightGate } = await import("./preflight");
        return preflightGate({
            stack: options.stack,
            // An invalid stack file: read again to throw its SettingsError.
            settings: settings ?? readStackFile(projectDir, options.stack).settings,
            outputs: () => engine.revealedOutputs(),
            vaultToken: options.secrets?.vaultToken ?? (options.env ?? process.env).VAULT_TOKEN,
        })(deployed, stateUrns);
    };
}

/** The runner's check of the settings against the deployed stack (src/program/authMount.ts); none without settings. */
function checkFor(settings: Settings | undefined): RunRequest["checkDeployed"] {
    return settings === undefined ? undefined : checkDeployedAuthMount(settings.kubernetesAuth);
}

/** The stack file's settings, if it exists and is valid. */
function stackFileSettings(options: RunOptions): Settings | undefined {
    const dir = options.projectDir ?? PROJECT_DIR;
    if (!existsSync(stackFilePath(dir, options.stack))) return undefined;
    try {
        return readStackFile(dir, options.stack).settings;
    } catch {
        return undefined;
    }
}

type StackLocation = Pick<RunOptions, "stack" | "backendUrl" | "secretsProvider" | "envVars" | "env" | "projectDir" | "installPlugins">;

/** The Automation API engine for the stack these options locate. */
function engineFor(options: StackLocation, programFor: (stage: Stage) => PulumiFn): PulumiEngine {
    return new PulumiEngine({
        projectDir: options.projectDir ?? PROJECT_DIR,
        stackName: options.stack,
        programFor,
        backendUrl: options.backendUrl,
        secretsProvider: options.secretsProvider,
        envVars: options.envVars,
        env: options.env,
        installPlugins: options.installPlugins,
    });
}

/**
 * The platform team's pack config for `stack` (policies/platformConfig.ts), plus an empty config
 * file for other packs; undefined when there is none (the pack's strict defaults apply).
 */
export async function platformPackConfig(
    packDir: string,
    stack: string,
): Promise<{ file: string; empty: string; config: Record<string, unknown>; cleanup(): void } | undefined> {
    // Loaded only when a pack is applied.
    const { platformConfig, platformConfigFile } = await import("../../policies/platformConfig");
    const file = platformConfigFile(packDir, stack);
    if (file === undefined) return undefined;
    const dir = mkdtempSync(path.join(tmpdir(), "aks-vault-policy-"));
    const empty = path.join(dir, "empty-policy-pack-config.json");
    writeFileSync(empty, "{}\n");
    return { file, empty, config: platformConfig(packDir, stack), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A stack's outputs with secret values in clear, for in-process consumers that need a credential
 * (`doctor` needs the kubeconfig). Unlike `run({ operation: "outputs" })`, nothing is masked:
 * never print or log what this returns.
 */
export async function readStackOutputs(options: StackLocation): Promise<Record<string, StackOutput>> {
    const engine = engineFor(options, programFactory(undefined, undefined));
    try {
        await engine.open(false);
        return await engine.revealedOutputs();
    } catch (err) {
        if (err instanceof EngineStackMissing) throw new StackMissingError(options.stack);
        throw err;
    }
}
