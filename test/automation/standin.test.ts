/**
 * The real Automation API code (src/automation: PulumiEngine over LocalWorkspace) against a
 * stand-in `pulumi` executable first on PATH (test/fixtures/standin/pulumi). It records every
 * command, so these tests prove what a real CLI would receive for each operation and stage:
 * stack selection and creation, plugin versions, policy packs, inline program flags, the event
 * log, and that no secret ever reaches a command line.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import {
    AuthMountSwitchError, RunEvent, RunOptions, StackLockedError, StackMissingError, StageFailedError, UnsafeStageError, run,
} from "../../src/automation";
import { FakeEngine } from "../support/fakeEngine";
import { ROOT, stackConfig } from "../support/harness";

const STANDIN = path.join(ROOT, "test", "fixtures", "standin");

interface Invocation {
    args: string[];
    cwd: string;
    env: { PULUMI_BACKEND_URL?: string; PULUMI_AUTOMATION_API?: string; passphrase: boolean };
}

describe("Automation API against a stand-in pulumi CLI", function () {
    this.timeout(60000);
    let work: string;
    let projectDir: string;
    let env: NodeJS.ProcessEnv;
    const saved: Record<string, string | undefined> = {};

    const calls = (): Invocation[] => readFileSync(path.join(work, "calls.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Invocation);
    /** Each command without the per-run values (--client port, event log path) and --non-interactive (asserted apart). */
    const commands = () => calls().map((c) => c.args
        .filter((a) => !a.startsWith("--client=") && !a.includes("automation-logs") && a !== "--non-interactive")
        .join(" "));
    /** The stack's state: what the stand-in's `stack export` prints, holding these URNs. */
    const writeState = (urns: string[]) => writeFileSync(path.join(work, "state.json"), JSON.stringify({
        version: 3, deployment: { manifest: {}, resources: urns.map((urn) => ({ urn })) },
    }));
    const runWith = (o: Partial<RunOptions>) => run({
        operation: "up", stack: "dev", projectDir, env, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 }, ...o,
    });

    beforeEach(() => {
        work = mkdtempSync(path.join(tmpdir(), "standin-"));
        projectDir = path.join(work, "project");
        mkdirSync(projectDir);
        for (const f of ["Pulumi.yaml", "package.json"]) copyFileSync(path.join(ROOT, f), path.join(projectDir, f));
        // The Automation API spawns `pulumi` from process.env.PATH, so the stand-in goes there.
        for (const k of [
            "PATH", "STANDIN_DIR", "STANDIN_LOCKED", "STANDIN_FAIL_UP", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL",
            "HOME", "PULUMI_HOME", "PULUMI_CREDENTIALS_PATH",
        ]) saved[k] = process.env[k];
        // A fake HOME, logged in nowhere: the developer's own `pulumi login` must not leak in.
        process.env.HOME = path.join(work, "home");
        mkdirSync(process.env.HOME);
        delete process.env.PULUMI_HOME;
        delete process.env.PULUMI_CREDENTIALS_PATH;
        process.env.PATH = `${STANDIN}${path.delimiter}${process.env.PATH ?? ""}`;
        process.env.STANDIN_DIR = work;
        process.env.PULUMI_CONFIG_PASSPHRASE = "test-passphrase";
        delete process.env.PULUMI_BACKEND_URL;
        delete process.env.STANDIN_LOCKED;
        delete process.env.STANDIN_FAIL_UP;
        env = process.env;
    });

    afterEach(() => {
        for (const [k, v] of Object.entries(saved)) {
            if (v === undefined) delete process.env[k];
            else process.env[k] = v;
        }
        rmSync(work, { recursive: true, force: true });
    });

    it("installPlugins false: no plugin is installed (an air-gapped runner's cache is filled beforehand)", async () => {
        await runWith({ stage: "cluster", settings: stackConfig() as RunOptions["settings"], installPlugins: false });
        assert.deepEqual(commands().filter((c) => c.startsWith("plugin")), []);
        assert.ok(commands().some((c) => c.startsWith("up ")), "the stage was still deployed");
    });

    it("up --stage injector on a new stack: creates it, pins the plugins, previews then updates each stage inline " +
        "with the policy packs", async () => {
        const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
        const settings = stackConfig() as Record<string, unknown>;
        // A portal passes literal secrets; they must stay in-process.
        const workloads = settings.workloads as Array<Record<string, unknown>>;
        workloads[0] = { ...workloads[0], seed: [{ path: "devops", values: { token: { value: "literal-seed-value-42" } } }] };
        const events: RunEvent[] = [];
        const result = await runWith({
            stage: "injector", settings: settings as RunOptions["settings"], secrets: { vaultToken: "hvs.standin-token" },
            policyPacks: ["/opt/policies/aks-vault"], onEvent: (e) => events.push(e),
        });

        const packs = "--policy-pack /opt/policies/aks-vault";
        assert.deepEqual(commands(), [
            "version",
            "stack select --stack dev",
            "stack init dev --secrets-provider passphrase",
            "stack export --show-secrets --stack dev",
            `plugin install resource azure-native v${pkg.dependencies["@pulumi/azure-native"]}`,
            `plugin install resource kubernetes v${pkg.dependencies["@pulumi/kubernetes"]}`,
            `plugin install resource random v${pkg.dependencies["@pulumi/random"]}`,
            `plugin install resource vault v${pkg.dependencies["@pulumi/vault"]}`,
            // Stages cluster and injector, each: the gate, a re-read of the state (a later stage
            // deployed meanwhile must not be deleted), the update.
            ...[1, 2].flatMap(() => [
                `preview ${packs} --exec-kind auto.inline --event-log --stack dev`,
                "stack export --show-secrets --stack dev",
                `up --yes --skip-preview ${packs} --exec-kind auto.inline --event-log --stack dev`,
                "stack output --json --stack dev",
                "stack output --json --show-secrets --stack dev",
                "stack history --json --show-secrets --page-size 1 --page 1 --stack dev",
            ]),
        ]);
        const all = calls();
        // Inline program: the CLI is pointed at this process's language server.
        for (const c of all.filter((x) => x.args[0] === "preview" || x.args[0] === "up")) {
            assert.ok(c.args.some((a) => /^--client=127\.0\.0\.1:\d+$/.test(a)), c.args.join(" "));
            assert.match(c.args[c.args.indexOf("--event-log") + 1], /automation-logs-(preview|up)-/);
        }
        // `pulumi version` runs before the workspace exists; every other command runs in it.
        for (const c of all.slice(1)) {
            assert.equal(c.cwd, projectDir);
            assert.equal(c.env.PULUMI_BACKEND_URL, `file://${path.join(projectDir, ".pulumi-state")}`);
            assert.equal(c.env.PULUMI_AUTOMATION_API, "true");
            assert.equal(c.args[c.args.length - 1], "--non-interactive", "the CLI never prompts");
            assert.ok(
                !JSON.stringify(c.args).includes("literal-seed-value-42") && !JSON.stringify(c.args).includes("hvs.standin-token"),
                "no secret on a command line",
            );
        }
        // The event log the CLI wrote came back as progress events, per stage.
        const resourceEvents = events
            .filter((e) => e.type === "resource" && e.status === "done")
            .map((e) => e.type === "resource" ? `${e.stage}/${e.phase}` : "");
        assert.deepEqual(resourceEvents, ["cluster/preview", "cluster/up", "injector/preview", "injector/up"]);
        assert.deepEqual(
            result.stages.map((s) => `${s.stage}:${s.status}`),
            ["cluster:done", "injector:done", "vault-auth:skipped", "workloads:skipped"],
        );
        assert.deepEqual(result.outputs?.kubeconfig, { value: "[secret]", secret: true });
        assert.deepEqual(result.stages[0].changes, { create: 1, same: 3 });
    });

    it("after `pulumi login`, every command goes to that backend (the test above: not logged in, .pulumi-state)", async () => {
        mkdirSync(path.join(work, "stacks"), { recursive: true });
        writeFileSync(path.join(work, "stacks", "dev"), "");
        mkdirSync(path.join(process.env.HOME ?? "", ".pulumi"));
        writeFileSync(
            path.join(process.env.HOME ?? "", ".pulumi", "credentials.json"),
            JSON.stringify({ current: "azblob://team-state", accessTokens: {}, accounts: {} }),
        );
        await run({ operation: "outputs", stack: "dev", projectDir, env });
        const loggedIn = calls().slice(1);
        assert.ok(loggedIn.length > 0);
        for (const c of loggedIn) assert.equal(c.env.PULUMI_BACKEND_URL, "azblob://team-state", c.args.join(" "));
        assert.equal(existsSync(path.join(projectDir, ".pulumi-state")), false, "no local state folder made");
    });

    it("a failing update names the stage and the resource from the event log; a locked stack is retried, never cancelled", async () => {
        mkdirSync(path.join(work, "stacks"), { recursive: true });
        writeFileSync(path.join(work, "stacks", "dev"), "");
        process.env.STANDIN_FAIL_UP = "2";
        const failed = await runWith({ settings: stackConfig() as RunOptions["settings"] }).then(() => undefined, (e: unknown) => e);
        assert.ok(failed instanceof StageFailedError, String(failed));
        assert.equal(failed.stage, "injector");
        assert.equal(
            failed.resource,
            "urn:pulumi:dev::aks-vault::aksvault:index:VaultInjector$kubernetes:helm.sh/v3:Release::vault-injector-chart",
        );
        assert.match(failed.detail, /timed out waiting for the condition/);
        assert.deepEqual(failed.appliedStages, ["cluster"]);

        delete process.env.STANDIN_FAIL_UP;
        process.env.STANDIN_LOCKED = "1";
        const locked = await runWith({ settings: stackConfig() as RunOptions["settings"] }).then(() => undefined, (e: unknown) => e);
        assert.ok(locked instanceof StackLockedError, String(locked));
        assert.equal(locked.attempts, 2);
        assert.ok(!commands().some((c) => c.startsWith("cancel")), "never cancels someone else's update");
    });

    it("preview, refresh and destroy: the commands each sends on an existing stack", async () => {
        mkdirSync(path.join(work, "stacks"), { recursive: true });
        writeFileSync(path.join(work, "stacks", "dev"), "");
        writeState(FakeEngine.through("workloads"));
        const settings = stackConfig() as RunOptions["settings"];
        await runWith({ operation: "preview", settings, policyPacks: ["/p"] });
        await runWith({ operation: "refresh", settings });
        await runWith({ operation: "destroy", settings, singleUpdate: true });
        const ops = commands().filter((c) => /^(preview|up|refresh|destroy) /.test(c));
        assert.deepEqual(ops, [
            "preview --policy-pack /p --exec-kind auto.inline --event-log --stack dev",
            "refresh --skip-preview --yes --event-log --exec-kind auto.inline --stack dev",
            "destroy --yes --skip-preview --event-log --exec-kind auto.inline --stack dev",
        ]);
        // refresh and destroy never create a stack: they select it.
        assert.ok(!commands().some((c) => c.startsWith("stack init")));
    });

    it("outputs of a missing stack is StackMissingError, without creating it; a deployed later stage blocks a lower cut", async () => {
        const missing = await runWith({ operation: "outputs", stack: "prod" }).then(() => undefined, (e: unknown) => e);
        assert.ok(missing instanceof StackMissingError, String(missing));
        assert.deepEqual(commands(), ["version", "stack select --stack prod"]);

        mkdirSync(path.join(work, "stacks"), { recursive: true });
        writeFileSync(path.join(work, "stacks", "dev"), "");
        writeState(FakeEngine.through("workloads"));
        const unsafe = await runWith({ stage: "cluster", settings: stackConfig() as RunOptions["settings"] })
            .then(() => undefined, (e: unknown) => e);
        assert.ok(unsafe instanceof UnsafeStageError, String(unsafe));
        assert.ok(!commands().some((c) => c.startsWith("up") || c.startsWith("preview")), "nothing ran");
    });

    it("kubernetesAuth.method switched at the deployed mount's path: refused from the stack's outputs before any preview, " +
        "with the settings given or read from the stack file, and with the preflight off", async () => {
        mkdirSync(path.join(work, "stacks"), { recursive: true });
        writeFileSync(path.join(work, "stacks", "dev"), "");
        writeState(FakeEngine.through("workloads"));
        // A kubernetes stack: it exports the mount's path and no method.
        writeFileSync(path.join(work, "outputs.json"), JSON.stringify({ clusterName: "aks-vault-dev", vaultAuthPath: "aks" }));
        const jwt = stackConfig() as Record<string, any>;
        jwt.kubernetesAuth = { method: "jwt", path: "aks" };
        const given = await runWith({ operation: "preview", settings: jwt as RunOptions["settings"] })
            .then(() => undefined, (e: unknown) => e);
        assert.ok(given instanceof AuthMountSwitchError, String(given));
        const stackFile = readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");
        assert.ok(stackFile.includes("  aks-vault:kubernetesAuth:\n    path: aks\n"));
        writeFileSync(path.join(projectDir, "Pulumi.dev.yaml"), stackFile.replace("  aks-vault:kubernetesAuth:\n    path: aks\n",
            "  aks-vault:kubernetesAuth:\n    method: jwt\n    path: aks\n"));
        const fromFile = await runWith({ preflight: false }).then(() => undefined, (e: unknown) => e);
        assert.ok(fromFile instanceof AuthMountSwitchError, String(fromFile));
        assert.equal(fromFile.message, given.message);
        assert.ok(!commands().some((c) => c.startsWith("up") || c.startsWith("preview")), "nothing ran");
        assert.ok(commands().includes("stack output --json --stack dev"), "the deployed mount came from the outputs");
        // A new path: the same outputs let the run go on.
        jwt.kubernetesAuth = { method: "jwt", path: "aks-jwt" };
        await runWith({ operation: "preview", settings: jwt as RunOptions["settings"] });
        assert.ok(commands().some((c) => c.startsWith("preview")));
    });
});
