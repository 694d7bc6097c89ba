/**
 * The `aks-vault` command line: `plan` (the offline default), `preview`, `up`, `destroy`,
 * `refresh`, `outputs`. A thin shell over the library API (src/automation) and the offline plan
 * (src/plan); every failure kind has its own exit code (src/exitCodes.ts `EXIT`).
 *
 * Start-up cost matters here (`--help` is what a newcomer runs first): this module imports only
 * what building the commands needs. What an action needs (the Pulumi SDK, the program, the
 * offline plan, zod, the doctor) is imported inside the action (`await import`), and errors map
 * to exit codes through `ClassifiedError`, not through the modules that throw them.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { Command, CommanderError, Option } from "commander";
import type { ListrTaskWrapper } from "listr2";
import { AutomationError, CancelledError } from "../errors";
import { OPERATIONS, Operation, RunEvent, RunResult } from "../automation/runner";
import type { RunOptions } from "../automation/run";
import type { BackendLookup } from "../automation/backend";
import { PROJECT_DIR } from "../projectDir";
import { findPulumi } from "../automation/findPulumi";
import { doctorCommand } from "../doctor/command";
import { clean, sanitize } from "../doctor/redact";
import { preflightCommand } from "../preflight/command";
import { renderText as renderPreflight, summaryLine } from "../preflight/render";
import { ClassifiedError, EXIT } from "../exitCodes";
import { STAGES, Stage, parseStage } from "../stages";
import { planHeader } from "../plan/header";

/** The library's `run`, loaded on first use (it loads the Pulumi SDK and the program). */
const runLazily = async (o: RunOptions): Promise<RunResult> => (await import("../automation/run")).run(o);

interface CliIO {
    stdout: NodeJS.WritableStream & { isTTY?: boolean };
    stderr: NodeJS.WritableStream;
    env: NodeJS.ProcessEnv;
    /** Folder with Pulumi.yaml and the stack files. */
    projectDir: string;
    /** Installs Ctrl-C handling; returns a remover. Default: process SIGINT. */
    onInterrupt?: (handler: () => void) => () => void;
    /**
     * Whether a SIGINT this process gets also reaches the `pulumi` child (Ctrl-C on a terminal
     * signals the whole foreground process group). Default: standard input is a terminal.
     */
    interruptReachesChildren?: boolean;
}

const DESCRIPTIONS: Record<Operation, string> = {
    preview: "preview the changes (one preview of the graph up to --stage; policy packs enforced)",
    up: "apply the stages in order, each previewed first (the gate); resumes where a failed run stopped",
    destroy: "remove stages from the highest deployed one down to --stage (default: everything)",
    refresh: "read the real state of every resource in the stack",
    outputs: "print the stack outputs (secrets shown as [secret])",
};

/** Operations that change resources and need --yes. */
const MUTATING: readonly Operation[] = ["up", "destroy", "refresh"];

function exitCodeOf(err: unknown): number {
    // AutomationError, SettingsError, StackFileError, DoctorInputError, VerifyError.
    if (err instanceof ClassifiedError) return err.exitCode;
    if (err instanceof CommanderError || err instanceof UsageError) return EXIT.usage;
    return EXIT.internal;
}

class UsageError extends Error {}

function stageOption(): Option {
    return new Option("--stage <stage>", `limit to a stage: ${STAGES.join(", ")}`).argParser((v: string) => {
        try {
            return parseStage(v);
        } catch (err) {
            throw new UsageError((err as Error).message);
        }
    });
}

/** The stage an AutomationError names, when it is one of STAGES. */
function stageOf(err: AutomationError): Stage | undefined {
    const stage = (err as Partial<{ stage: unknown }>).stage;
    return typeof stage === "string" && (STAGES as readonly string[]).includes(stage) ? (stage as Stage) : undefined;
}

/** `policies/` when it holds a policy pack, else none. */
function defaultPolicyPacks(projectDir: string): string[] {
    const dir = path.join(projectDir, "policies");
    return existsSync(path.join(dir, "PulumiPolicy.yaml")) ? [dir] : [];
}

interface OperationFlags {
    stack: string;
    stage?: Stage;
    yes?: boolean;
    json?: boolean;
    singleUpdate?: boolean;
    policyPack?: string[];
    policies?: boolean;
    backendUrl?: string;
    secretsProvider?: string;
    verify?: boolean;
    createStack?: boolean;
    /** `up --no-preflight` sets it false. */
    preflight?: boolean;
}

function line(stream: NodeJS.WritableStream, text: string) {
    stream.write(text.endsWith("\n") ? text : `${text}\n`);
}

function summary(changes: Record<string, number> | undefined): string {
    const parts = Object.entries(changes ?? {}).filter(([, n]) => n > 0).map(([op, n]) => `${n} ${op}`);
    return parts.length > 0 ? parts.join(", ") : "no changes";
}

/** Deferred completion of one stage, for its listr task. */
interface StageSlot {
    task?: ListrTaskWrapper<unknown, never, never>;
    /** Latest title, kept for a task that has not started rendering yet. */
    title?: string;
    settle: Promise<string | undefined>;
    resolve: (skipReason?: string) => void;
    reject: (err: Error) => void;
}

/**
 * Progress on a terminal: one listr2 task per stage, the resource being worked on underneath.
 * Not a terminal: listr2's plain-line renderer. `--json`: one JSON object per event.
 */
async function progress(io: CliIO, json: boolean): Promise<{ onEvent: (e: RunEvent) => void; finish: (err?: unknown) => Promise<void> }> {
    if (json) return { onEvent: (e) => line(io.stdout, JSON.stringify(e)), finish: async () => undefined };
    const { Listr } = await import("listr2");
    const slots = new Map<Stage, StageSlot>();
    let listr: Promise<unknown> | undefined;
    const slot = (stage: Stage): StageSlot => {
        let s = slots.get(stage);
        if (s === undefined) {
            let resolve!: StageSlot["resolve"];
            let reject!: StageSlot["reject"];
            const settle = new Promise<string | undefined>((res, rej) => { resolve = res; reject = rej; });
            settle.catch(() => undefined);
            s = { settle, resolve, reject };
            slots.set(stage, s);
        }
        return s;
    };
    const onEvent = (e: RunEvent) => {
        switch (e.type) {
            case "plan": {
                const order = e.stages.map((p) => p.stage);
                const runner = new Listr(order.map((stage) => ({
                    title: `stage ${stage}`,
                    task: async (_ctx: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
                        const s = slot(stage);
                        s.task = task;
                        if (s.title !== undefined) task.title = s.title;
                        const skip = await s.settle;
                        if (s.title !== undefined) task.title = s.title;
                        if (skip !== undefined) task.skip(`stage ${stage} (skipped: ${skip})`);
                    },
                })), {
                    concurrent: false, exitOnError: true, registerSignalListeners: false,
                    fallbackRendererCondition: !io.stdout.isTTY, renderer: "default", fallbackRenderer: "simple",
                } as never);
                for (const p of e.stages) if (!p.run) slot(p.stage).resolve(p.reason ?? "not requested");
                listr = runner.run().catch(() => undefined);
                break;
            }
            case "stage": {
                const s = slot(e.stage);
                s.title = e.status === "done" ? `stage ${e.stage}: ${summary(e.changes)}` : `stage ${e.stage}: ${e.status}`;
                if (s.task) s.task.title = s.title;
                if (e.status === "done") s.resolve();
                else if (e.status === "failed") {
                    s.reject(new Error(`stage ${e.stage} failed${e.reason ? `: ${e.reason.split("\n")[0]}` : ""}`));
                }
                break;
            }
            case "resource": {
                const task = slots.get(e.stage)?.task;
                if (task && e.op !== "same") task.output = `${e.status === "failed" ? "FAILED " : ""}${e.op} ${e.resourceType} ${e.name}`;
                break;
            }
            case "retry":
                line(
                    io.stderr,
                    `stack locked by another update; retry ${e.attempt} in ${Math.round(e.delayMs / 1000)}s (not cancelling it)`,
                );
                break;
            case "preflight":
                if (e.status === "skipped") line(io.stderr, `preflight: skipped (${e.reason ?? "nothing deployed to check"})`);
                else if (e.report !== undefined) {
                    // Passing: the summary line, after the warnings (a login this up repairs); failing: every finding that
                    // did not pass, with its fix.
                    const r = e.report;
                    io.stderr.write(!r.ok ? renderPreflight(r, clean, { showPassing: false })
                        : r.summary.warn === 0 ? `${summaryLine(r)}\n`
                            : renderPreflight({ ...r, findings: r.findings.filter((f) => f.status === "warn") }, clean));
                }
                break;
            case "policy":
                if (e.level !== "mandatory") {
                    line(io.stderr, `policy warning ${e.violation.policyPack}/${e.violation.policy}: ${e.violation.message}`);
                }
                break;
            default:
                break;
        }
    };
    return {
        onEvent,
        finish: async (err) => {
            for (const s of slots.values()) {
                if (err === undefined) s.resolve();
                else s.reject(err instanceof Error ? err : new Error(String(err)));
            }
            await listr;
        },
    };
}

function printResult(io: CliIO, result: RunResult, json: boolean) {
    if (json) {
        line(io.stdout, JSON.stringify({ type: "result", ...result }));
        return;
    }
    for (const s of result.stages) {
        if (s.status === "done") line(io.stdout, `${s.stage}: ${s.phase} ${summary(s.changes)}`);
    }
    if (result.outputs !== undefined) {
        for (const [k, v] of Object.entries(result.outputs)) {
            line(io.stdout, `${k} = ${typeof v.value === "string" ? v.value : JSON.stringify(v.value)}`);
        }
    }
}

/**
 * Says which backend the stack is read from (the Pulumi CLI's login, PULUMI_BACKEND_URL, or the
 * local default): on stderr, and under --json also as a `backend` event on stdout.
 */
async function announceBackend(io: CliIO, lookup: BackendLookup, json: boolean): Promise<void> {
    // Without the Pulumi CLI no backend is used: the run stops at that error alone.
    if (findPulumi(io.env) === undefined) return;
    const { displayUrl, resolveBackend } = await import("../automation/backend");
    const b = resolveBackend(lookup);
    if (json) line(io.stdout, JSON.stringify({ type: "backend", url: displayUrl(b.url), source: b.source }));
    else line(io.stderr, `backend: ${displayUrl(b.url)} (${b.from})`);
}

/** What a command asks the process to exit with, when it finishes without throwing (doctor). */
interface CliOutcome {
    exitCode: number;
}

function buildCli(
    io: CliIO,
    runOperationFn: (o: RunOptions) => Promise<RunResult> = runLazily,
    outcome: CliOutcome = { exitCode: EXIT.ok },
): Command {
    const program = new Command("aks-vault")
        .description("AKS + Vault Agent Injector + Vault Kubernetes auth, in ordered stages")
        .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
        .version(packageVersion(), "-V, --version", "print the version of aks-vault")
        .exitOverride()
        .showHelpAfterError();

    addPlanCommand(program, io);
    for (const operation of OPERATIONS) addOperationCommand(program, io, operation, runOperationFn, outcome);
    addDoctorCommand(program, io, outcome);
    addPreflightCommand(program, io, outcome);
    return program;
}

/** `plan`, the default command: the offline plan under Pulumi's mock runtime. */
function addPlanCommand(program: Command, io: CliIO): void {
    program
        .command("plan", { isDefault: true })
        .description("offline plan (the default): evaluate the program under Pulumi's mock runtime; no CLI, cloud or credentials")
        .option("--stack <name>", "stack config Pulumi.<name>.yaml", "dev")
        .addOption(stageOption())
        .option("--json", "machine-readable output")
        .action(async (flags: { stack: string; stage?: Stage; json?: boolean }) => {
            const { readStackFile } = await import("../plan/stackFile");
            const file = readStackFile(io.projectDir, flags.stack);
            const stage = flags.stage ?? file.stage ?? STAGES[STAGES.length - 1];
            // The header as soon as the settings validate; the rest once the program has run.
            if (!flags.json) io.stdout.write(planHeader(flags.stack, stage));
            const { evaluatePlan, planJson, renderPlanBody } = await import("../plan/plan");
            const plan = await evaluatePlan(file.settings, flags.stack, stage);
            if (flags.json) line(io.stdout, JSON.stringify(planJson(plan)));
            else io.stdout.write(renderPlanBody(plan));
        });
}

/** One Automation API operation (`preview`, `up`, `destroy`, `refresh`, `outputs`) and its flags. */
function addOperationCommand(
    program: Command, io: CliIO, operation: Operation, runOperationFn: (o: RunOptions) => Promise<RunResult>, outcome: CliOutcome,
): void {
    operationCommand(program, operation)
        .action((flags: OperationFlags) => runOperationCommand(io, operation, flags, runOperationFn, outcome));
}

/** The command of one operation, with the flags that apply to it. */
function operationCommand(program: Command, operation: Operation): Command {
    const cmd = program
        .command(operation)
        .description(DESCRIPTIONS[operation])
        .option("--stack <name>", "stack name", "dev")
        .option("--json", "one JSON object per line (events, then the result or the error)");
    // refresh reads every resource in the state; a stage would mean nothing to it.
    if (operation !== "outputs" && operation !== "refresh") cmd.addOption(stageOption());
    if (MUTATING.includes(operation)) cmd.option("--yes", "confirm: this changes resources");
    if (operation === "up" || operation === "destroy") {
        cmd.option("--single-update", "one update for the whole requested graph, not one per stage");
    }
    if (operation === "preview") {
        cmd.option("--create-stack", "create the stack if it does not exist yet (default: a missing stack is an error)");
    }
    if (operation === "up") {
        cmd.option("--verify", "after a successful up, run the doctor's checks on the live deployment (retried while pods start)")
            .option(
                "--no-preflight",
                "skip the preflight gate (by default, when the vault-auth stage is deployed, every workload's login and read access " +
                    "is proven against the live cluster and Vault before anything is applied; docs/preflight.md)",
            );
    }
    if (operation === "up" || operation === "preview" || operation === "destroy") {
        cmd.option("--policy-pack <dir...>", "policy pack folder(s) to enforce (default: policies/ if it holds a pack)")
            .option("--no-policies", "enforce no policy pack");
    }
    return cmd
        .option(
            "--backend-url <url>",
            "Pulumi backend (default: the one the Pulumi CLI uses: PULUMI_BACKEND_URL, Pulumi.yaml backend.url " +
                "or `pulumi login`; not logged in: a file backend in .pulumi-state/)",
        )
        .option("--secrets-provider <provider>", "passphrase (default) or e.g. azurekeyvault://<vault>.vault.azure.net/keys/<key>");
}

/**
 * The action of an operation command: refuses a mutating operation without --yes, runs the
 * operation with progress and Ctrl-C handling, prints the result, then (`up --verify`) verifies.
 */
async function runOperationCommand(
    io: CliIO, operation: Operation, flags: OperationFlags, runOperationFn: (o: RunOptions) => Promise<RunResult>, outcome: CliOutcome,
): Promise<void> {
    if (MUTATING.includes(operation) && !flags.yes) {
        throw new UsageError(
            `${operation} changes resources of stack "${flags.stack}"; pass --yes to confirm ` +
                "(run `preview` first to see what would change)",
        );
    }
    // Fail on bad settings before Pulumi starts; the program itself reads the same file. Its
    // `stage` key is the default --stage, as for `plan`, so both build the same graph.
    const { readStackFile } = await import("../plan/stackFile");
    const stage = operation === "up" || operation === "preview"
        ? flags.stage ?? readStackFile(io.projectDir, flags.stack).stage
        : flags.stage;
    // A pack the user names is relative to where they run the command; the default is ours.
    const policyPacks = flags.policies === false
        ? []
        : flags.policyPack?.map((p) => path.resolve(p)) ?? defaultPolicyPacks(io.projectDir);
    await announceBackend(io, { backendUrl: flags.backendUrl, env: io.env, projectDir: io.projectDir }, flags.json === true);
    const view = await progress(io, flags.json === true);
    // Installed last, right before the try whose finally removes it: nothing can throw between.
    const controller = new AbortController();
    const interrupts = handleInterrupts(io, controller);
    try {
        const result = await runOperationFn({
            operation,
            stack: flags.stack,
            stage,
            singleUpdate: flags.singleUpdate,
            createStack: flags.createStack,
            policyPacks,
            backendUrl: flags.backendUrl,
            secretsProvider: flags.secretsProvider,
            onEvent: view.onEvent,
            signal: controller.signal,
            projectDir: io.projectDir,
            env: io.env,
            ...(operation === "up" && flags.preflight === false ? { preflight: false } : {}),
        });
        await view.finish();
        printResult(io, result, flags.json === true);
        if (operation === "up" && flags.verify) await verifyAfterUp(io, flags, outcome);
    } catch (err) {
        // Cancelled through the terminal: pulumi stopped on its own signal and failed the
        // step; report the cancel, not the failure.
        const reported = interrupts.interrupted() && !(err instanceof CancelledError) && err instanceof AutomationError
            ? new CancelledError(stageOf(err))
            : err;
        await view.finish(reported);
        throw reported;
    } finally {
        interrupts.remove();
    }
}

/**
 * Installs Ctrl-C handling for one operation: it aborts the run through `controller`, except a
 * first Ctrl-C that already reached pulumi. Returns whether one came, and the handler's remover.
 */
function handleInterrupts(io: CliIO, controller: AbortController): { interrupted: () => boolean; remove: () => void } {
    let interrupted = false;
    const reachesChildren = io.interruptReachesChildren ?? process.stdin.isTTY === true;
    const remove = (io.onInterrupt ?? ((h) => { process.on("SIGINT", h); return () => process.removeListener("SIGINT", h); }))(() => {
        if (!interrupted && reachesChildren) {
            // Ctrl-C on a terminal already reached pulumi, which is stopping cleanly. A
            // second SIGINT from us would make it terminate at once, leaving pending
            // operations (and a lock) behind; only a second Ctrl-C forces it.
            interrupted = true;
            line(io.stderr, "cancelling: pulumi is stopping the update cleanly (Ctrl-C again to force; rerun to continue)...");
            return;
        }
        interrupted = true;
        line(io.stderr, "cancelling the running update (it stops cleanly; rerun to continue)...");
        controller.abort();
    });
    return { interrupted: () => interrupted, remove };
}

/**
 * `up --verify`: the doctor's checks on the live deployment, retried while pods start. Failing
 * checks are printed and set the exit code; any other error propagates.
 */
async function verifyAfterUp(io: CliIO, flags: OperationFlags, outcome: CliOutcome): Promise<void> {
    const [{ readStackOutputs }, { VerifyError, verify }, { renderJson, renderText }] = await Promise.all([
        import("../automation/run"), import("../doctor"), import("../doctor/render"),
    ]);
    try {
        const report = await verify(
            {
                outputs: () => readStackOutputs({
                    stack: flags.stack, projectDir: io.projectDir, env: io.env,
                    backendUrl: flags.backendUrl, secretsProvider: flags.secretsProvider,
                }),
            },
            { onAttempt: (n, r) => line(io.stderr, `verify: attempt ${n}: ${r.summary.fail} check(s) failing; retrying while pods start`) },
        );
        io.stdout.write(
            flags.json
                ? `${JSON.stringify({ type: "verify", ...JSON.parse(renderJson(report)) })}\n`
                : renderText(report, { showPassing: false }),
        );
    } catch (err) {
        if (!(err instanceof VerifyError)) throw err;
        io.stdout.write(
            flags.json
                ? `${JSON.stringify({ type: "verify", ...JSON.parse(renderJson(err.report)) })}\n`
                : renderText(err.report, { showPassing: false }),
        );
        outcome.exitCode = err.exitCode;
    }
}

/** `doctor`, built in src/doctor, with this CLI's output streams and stack readers. */
function addDoctorCommand(program: Command, io: CliIO, outcome: CliOutcome): void {
    // addCommand (unlike .command) inherits nothing: copy the output streams and exitOverride, or
    // `--help` would write to the real stdout and exit the process.
    const inherit = (cmd: Command) => program.addCommand(cmd.copyInheritedSettings(program));
    inherit(doctorCommand({
        // The kubeconfig is a secret output: read in clear, handed only to the Kubernetes client.
        loadOutputs: async (stack, where) => {
            await announceBackend(io, { backendUrl: where?.backendUrl, env: io.env, projectDir: io.projectDir }, false);
            const { readStackOutputs } = await import("../automation/run");
            return readStackOutputs({ stack, projectDir: io.projectDir, env: io.env, ...where });
        },
        loadPlannedOutputs: async (stack) => {
            const [{ readStackFile }, { evaluatePlan }, { plannedOutputs }] = await Promise.all([
                import("../plan/stackFile"), import("../plan/plan"), import("../doctor/outputs"),
            ]);
            const file = readStackFile(io.projectDir, stack);
            return plannedOutputs((await evaluatePlan(file.settings, stack, file.stage)).outputs);
        },
        env: io.env,
        write: (text) => io.stdout.write(text),
        setExitCode: (code) => { outcome.exitCode = code; },
    }));
}

/** `preflight`, built in src/preflight, with this CLI's output streams, stack readers and the doctor's kubeconfig vetting. */
function addPreflightCommand(program: Command, io: CliIO, outcome: CliOutcome): void {
    program.addCommand(preflightCommand({
        // The kubeconfig is a secret output: read in clear, handed only to the token issuer.
        loadOutputs: async (stack, where) => {
            await announceBackend(io, { backendUrl: where?.backendUrl, env: io.env, projectDir: io.projectDir }, false);
            const { readStackOutputs } = await import("../automation/run");
            return readStackOutputs({ stack, projectDir: io.projectDir, env: io.env, ...where });
        },
        loadSettings: async (stack) => (await import("../plan/stackFile")).readStackFile(io.projectDir, stack).settings,
        tokenIssuer: async (outputs, flags) => (await import("../automation/preflight")).liveTokenIssuer(outputs, flags),
        scrub: (text) => clean(text),
        env: io.env,
        write: (text) => io.stdout.write(text),
        setExitCode: (code) => { outcome.exitCode = code; },
    }).copyInheritedSettings(program));
}

/** This package's version (package.json next to the sources). */
function packageVersion(): string {
    try {
        return (JSON.parse(readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { version?: string }).version ?? "unknown";
    } catch {
        return "unknown";
    }
}

/**
 * `plan` is the default command, so commander hands an unknown first word to it as an argument
 * ("too many arguments for 'plan'"). The root takes no operands: a first word that is not a
 * command is an unknown command.
 */
function rejectUnknownCommand(program: Command, argv: string[]): void {
    const first = argv[2];
    if (first === undefined || first.startsWith("-")) return;
    const known = program.commands.flatMap((c) => [c.name(), ...c.aliases()]);
    if (known.includes(first) || first === "help") return;
    program.error(
        `error: unknown command '${sanitize(first)}' (commands: ${program.commands.map((c) => c.name()).join(", ")}; see --help)`,
        { code: "commander.unknownCommand", exitCode: EXIT.usage },
    );
}

/** Runs the CLI; resolves to the exit code. Errors are printed as one message, no stack trace. */
export async function main(
    argv: string[] = process.argv,
    io?: Partial<CliIO>,
    runOperationFn: (o: RunOptions) => Promise<RunResult> = runLazily,
): Promise<number> {
    const full: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env, projectDir: PROJECT_DIR, ...io };
    const json = argv.includes("--json");
    try {
        const outcome: CliOutcome = { exitCode: EXIT.ok };
        const program = buildCli(full, runOperationFn, outcome);
        rejectUnknownCommand(program, argv);
        await program.parseAsync(argv);
        return outcome.exitCode;
    } catch (err) {
        if (err instanceof CommanderError) {
            // Help and version exit 0; commander already printed its message (and the help) on stderr.
            if (err.exitCode === 0) return EXIT.ok;
            if (json) line(full.stdout, JSON.stringify({
                type: "error",
                kind: "UsageError",
                exitCode: EXIT.usage,
                message: sanitize(err.message.replace(/^error: /, "")),
            }));
            return EXIT.usage;
        }
        const code = exitCodeOf(err);
        // Messages can carry names from config, state or the cluster: no control characters.
        const message = sanitize(err instanceof Error ? err.message : String(err), true);
        if (json) {
            const e = err as Partial<{ stage: string; resource: string; name: string }>;
            line(
                full.stdout,
                JSON.stringify({ type: "error", kind: e.name ?? "Error", exitCode: code, message, stage: e.stage, resource: e.resource }),
            );
        }
        line(full.stderr, code === EXIT.internal && full.env.AKS_VAULT_DEBUG ? String((err as Error).stack) : `error: ${message}`);
        return code;
    }
}
