/**
 * `StackEngine` over the Pulumi Automation API (`LocalWorkspace`, inline programs). Thin on
 * purpose: it builds the workspace, passes each call through, and turns the Automation API's
 * typed errors into the engine's. The stand-in CLI test (test/automation/standin.test.ts) proves the
 * commands and flags it makes the real CLI run.
 */
import { existsSync, mkdirSync, readFileSync } from "fs";
import * as path from "path";
import {
    CommandError, ConcurrentUpdateError, LocalWorkspace, PulumiCommand, PulumiFn, Stack, StackNotFoundError,
} from "@pulumi/pulumi/automation";
import { localBackendDir, resolveBackend } from "./backend";
import { findPulumi } from "./findPulumi";
import { ChangeSummary, EngineCall, StackEngine, StackOutput } from "./engine";
import { EngineConflict, EngineFailure, EngineStackMissing, PulumiNotInstalledError, RunConfigurationError } from "../errors";
import { STAGES, Stage } from "../stages";

/** The provider packages whose plugins the workspace installs, at the versions in package.json. */
const PROVIDER_PACKAGES = ["@pulumi/azure-native", "@pulumi/kubernetes", "@pulumi/random", "@pulumi/vault"] as const;

interface PulumiEngineOptions {
    /** Folder with Pulumi.yaml and package.json (the workspace's workDir). */
    projectDir: string;
    stackName: string;
    /** Program cut after a stage. */
    programFor: (stage: Stage) => PulumiFn;
    /**
     * Any Pulumi backend URL. Default: the one the Pulumi CLI uses (`PULUMI_BACKEND_URL`, Pulumi.yaml
     * `backend.url`, `pulumi login`), else `file://<projectDir>/.pulumi-state` (backend.ts).
     */
    backendUrl?: string;
    /** `passphrase` (default; PULUMI_CONFIG_PASSPHRASE or _FILE), `azurekeyvault://...`, any provider Pulumi accepts. */
    secretsProvider?: string;
    /** Extra environment for the CLI. */
    envVars?: Record<string, string>;
    /** Environment to look `pulumi` and the passphrase up in. Default: process.env. */
    env?: NodeJS.ProcessEnv;
    /**
     * Install the provider plugins package.json pins before the first engine run. Default true.
     * False for a runner whose plugin cache (PULUMI_HOME) is filled beforehand and that cannot
     * download (air-gapped; the end-to-end suite): the engine then loads what the cache holds and
     * never asks for a plugin the graph does not use (an `existing` cluster needs no azure-native).
     */
    installPlugins?: boolean;
}

/** `{ "azure-native": "v3.28.0", ... }` from the project's package.json. */
function pluginVersions(projectDir: string): Record<string, string> {
    const pkg = JSON.parse(readFileSync(path.join(projectDir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const out: Record<string, string> = {};
    for (const name of PROVIDER_PACKAGES) {
        const spec = pkg.dependencies?.[name];
        if (spec === undefined || !/^\d+\.\d+\.\d+$/.test(spec)) {
            throw new RunConfigurationError(
                `package.json must pin ${name} to an exact version (found ${spec ?? "nothing"}): ` +
                    "the provider plugin is installed at that version",
            );
        }
        out[name.replace("@pulumi/", "")] = `v${spec}`;
    }
    return out;
}

/** The `error:` lines of a failed command, without the wrapper the Automation API adds. */
function condense(err: CommandError): string {
    const lines = err.message.split("\n").map((l) => l.trim()).filter((l) => /^error:/i.test(l));
    return lines.length > 0 ? lines.join("\n") : err.message.split("\n").slice(0, 6).join("\n");
}

/** `opening`: a CLI failure while selecting the stack (backend login, passphrase) is the run's configuration, not an update's failure. */
function mapError(err: unknown, opening = false): unknown {
    if (err instanceof ConcurrentUpdateError) return new EngineConflict();
    if (err instanceof StackNotFoundError) return new EngineStackMissing();
    if (err instanceof CommandError) {
        return opening ? new RunConfigurationError(`opening the stack failed: ${condense(err)}`) : new EngineFailure(condense(err));
    }
    return err;
}

async function mapped<T>(fn: () => Promise<T>, opening = false): Promise<T> {
    try {
        return await fn();
    } catch (err) {
        throw mapError(err, opening);
    }
}

/** A passphrase-encrypted stack's file holds its salt (`encryptionsalt:`); a new stack has no file yet. */
function usesPassphrase(projectDir: string, stack: string): boolean {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    return existsSync(file) && /^encryptionsalt:/m.test(readFileSync(file, "utf8"));
}

function counts(summary: Record<string, number | undefined> | undefined): ChangeSummary {
    return Object.fromEntries(Object.entries(summary ?? {}).filter((e): e is [string, number] => typeof e[1] === "number"));
}

export class PulumiEngine implements StackEngine {
    readonly stackName: string;
    private stack?: Stack;
    private pluginsInstalled = false;
    /** Outputs the last `up` already fetched (the Automation API reads them after every update). */
    private freshOutputs?: Record<string, { value: unknown; secret: boolean }>;

    constructor(private readonly opts: PulumiEngineOptions) {
        this.stackName = opts.stackName;
    }

    async open(create: boolean): Promise<void> {
        const env = this.opts.env ?? process.env;
        if (findPulumi(env) === undefined) throw new PulumiNotInstalledError();
        const secretsProvider = this.opts.secretsProvider ?? "passphrase";
        // An explicitly given environment reaches the CLI too (not only these checks).
        const given =
            this.opts.env === undefined
                ? {}
                : Object.fromEntries(Object.entries(this.opts.env).filter((e): e is [string, string] => e[1] !== undefined));
        const extra = { ...given, ...(this.opts.envVars ?? {}) };
        const passphraseMissing = [
            env.PULUMI_CONFIG_PASSPHRASE,
            env.PULUMI_CONFIG_PASSPHRASE_FILE,
            extra.PULUMI_CONFIG_PASSPHRASE,
            extra.PULUMI_CONFIG_PASSPHRASE_FILE,
        ].every((v) => v === undefined);
        const passphraseError = () => new RunConfigurationError(
            "the passphrase secrets provider needs PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE in the environment " +
                "(or choose another secrets provider)",
        );
        // An existing stack keeps the secrets provider it was created with: only a passphrase
        // stack (its stack file holds an encryption salt) needs the passphrase.
        if (passphraseMissing && usesPassphrase(this.opts.projectDir, this.stackName)) throw passphraseError();
        // The backend the Pulumi CLI is logged in to, else the local default (see backend.ts).
        const backend = resolveBackend({ backendUrl: this.opts.backendUrl, env, projectDir: this.opts.projectDir });
        if (backend.source === "default") mkdirSync(localBackendDir(this.opts.projectDir), { recursive: true });
        const backendUrl = backend.url;
        // Use the pulumi found on the given PATH (the Automation API would look on this process's
        // PATH); it can only be pointed at an installation root, i.e. <root>/bin/pulumi.
        const found = findPulumi(env);
        const root = found !== undefined && path.basename(path.dirname(found)) === "bin" ? path.dirname(path.dirname(found)) : undefined;
        const pulumiCommand = root === undefined ? undefined : await mapped(() => PulumiCommand.get({ root }), true);
        const workspace = await mapped(() => LocalWorkspace.create({
            workDir: this.opts.projectDir,
            pulumiCommand,
            // destroy and refresh take no per-call program; they get the whole graph (which they
            // do not run unless asked to) so the CLI talks to this process, not to index.ts.
            program: this.opts.programFor(STAGES[STAGES.length - 1]),
            secretsProvider,
            envVars: { PULUMI_BACKEND_URL: backendUrl, PULUMI_SKIP_UPDATE_CHECK: "true", ...extra },
        }), true);
        try {
            this.stack = await Stack.select(this.stackName, workspace);
        } catch (err) {
            if (!(err instanceof StackNotFoundError) || !create) throw mapError(err, true);
            if (secretsProvider === "passphrase" && passphraseMissing) throw passphraseError();
            this.stack = await mapped(() => Stack.create(this.stackName, workspace), true);
        }
    }

    private get selected(): Stack {
        if (this.stack === undefined) throw new Error("PulumiEngine: open() first");
        return this.stack;
    }

    /** Provider plugins at exactly the versions package.json pins, before the first engine run. */
    private async ensurePlugins(): Promise<void> {
        if (this.pluginsInstalled || this.opts.installPlugins === false) return;
        for (const [name, version] of Object.entries(pluginVersions(this.opts.projectDir))) {
            await mapped(() => this.selected.workspace.installPlugin(name, version));
        }
        this.pluginsInstalled = true;
    }

    async stateUrns(): Promise<string[]> {
        const exported = await mapped(() => this.selected.exportStack());
        const resources = (exported.deployment as { resources?: Array<{ urn?: string }> } | undefined)?.resources ?? [];
        return resources.map((r) => r.urn).filter((u): u is string => typeof u === "string");
    }

    async preview(call: EngineCall): Promise<ChangeSummary> {
        await this.ensurePlugins();
        const res = await mapped(() =>
            this.selected.preview({
                program: this.opts.programFor(call.stage),
                policyPacks: call.policyPacks,
                policyPackConfigs: call.policyPackConfigs,
                onEvent: call.onEvent,
                signal: call.signal,
            }),
        );
        return counts(res.changeSummary);
    }

    async up(call: EngineCall): Promise<ChangeSummary> {
        await this.ensurePlugins();
        const res = await mapped(() =>
            this.selected.up({
                program: this.opts.programFor(call.stage),
                policyPacks: call.policyPacks,
                policyPackConfigs: call.policyPackConfigs,
                onEvent: call.onEvent,
                signal: call.signal,
            }),
        );
        this.freshOutputs = res.outputs;
        return counts(res.summary?.resourceChanges);
    }

    async destroy(call: Omit<EngineCall, "policyPacks">): Promise<ChangeSummary> {
        await this.ensurePlugins();
        const res = await mapped(() => this.selected.destroy({ onEvent: call.onEvent, signal: call.signal }));
        return counts(res.summary?.resourceChanges);
    }

    async refresh(call: Omit<EngineCall, "policyPacks">): Promise<ChangeSummary> {
        await this.ensurePlugins();
        const res = await mapped(() => this.selected.refresh({ onEvent: call.onEvent, signal: call.signal }));
        return counts(res.summary?.resourceChanges);
    }

    /**
     * The outputs with secrets in clear, for in-process tools that need a credential (the doctor
     * hands the kubeconfig to the Kubernetes client). Never print what this returns.
     */
    async revealedOutputs(): Promise<Record<string, StackOutput>> {
        const outs = await mapped(() => this.selected.outputs());
        return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, { value: v.value, secret: v.secret }]));
    }

    async outputs(): Promise<Record<string, StackOutput>> {
        const outs = this.freshOutputs ?? (await mapped(() => this.selected.outputs()));
        this.freshOutputs = undefined;
        return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, { value: v.secret ? "[secret]" : v.value, secret: v.secret }]));
    }
}
