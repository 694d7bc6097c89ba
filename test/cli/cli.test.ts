/**
 * The CLI in-process: flags reach the library API, each failure kind has its exit code and one
 * clear line (no stack trace), `--json` is machine-readable, Ctrl-C cancels and exits 130.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { execFile } from "child_process";
import { tmpdir } from "os";
import * as path from "path";
import { Writable } from "stream";
import { promisify } from "util";
import { main } from "../../src/cli";
import {
    CancelledError, GateError, RunOptions, RunResult, StackLockedError, StackMissingError, StageFailedError, UnsafeStageError, run,
} from "../../src/automation";
import { PULUMI_INSTALL_URL } from "../../src/errors";
import { EXIT } from "../../src/exitCodes";
import { SettingsError } from "../../src/config/validate";
import { ROOT } from "../support/harness";

class Capture extends Writable {
    text = "";
    isTTY = false;
    _write(chunk: Buffer, _enc: string, cb: () => void) {
        this.text += chunk.toString();
        cb();
    }
}

const OK: RunResult = {
    operation: "up",
    stack: "dev",
    stages: [{ stage: "cluster", status: "done", phase: "up", changes: { create: 3 } }],
    outputs: { kubeconfig: { value: "[secret]", secret: true } },
};

async function cli(
    args: string[],
    run: (o: RunOptions) => Promise<RunResult> = async () => OK,
    extra: { onInterrupt?: (h: () => void) => () => void; env?: NodeJS.ProcessEnv } = {},
) {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(
        ["node", "aks-vault", ...args],
        {
            stdout,
            stderr,
            projectDir: ROOT,
            env: extra.env ?? { PATH: "" },
            onInterrupt: extra.onInterrupt ?? (() => () => undefined),
            interruptReachesChildren: false,
        },
        run,
    );
    return { code, stdout: stdout.text, stderr: stderr.text };
}

describe("CLI", () => {
    it("registers doctor; without pulumi it fails in one line before reading any output", async () => {
        const help = await cli(["doctor", "--help"]);
        assert.equal(help.code, EXIT.ok);
        assert.match(help.stdout, /Usage: aks-vault doctor/);
        assert.match(help.stdout, /never prints a secret value/);
        const res = await cli(["doctor", "--stack", "dev"]);
        assert.equal(res.code, EXIT.pulumiMissing);
        assert.equal(res.stderr.trim().split("\n").length, 1, res.stderr);
        assert.ok(res.stderr.includes(PULUMI_INSTALL_URL));
    });

    it("up --verify runs the doctor after a successful up (here: reading the outputs needs pulumi)", async () => {
        let ran = false;
        const res = await cli(["up", "--yes", "--verify"], async () => { ran = true; return OK; });
        assert.equal(ran, true, "the up itself ran first");
        assert.equal(res.code, EXIT.pulumiMissing, res.stderr);
        assert.ok(res.stderr.includes(PULUMI_INSTALL_URL));
    });

    it("a passing preflight gate prints its warnings (a login this up repairs) above the summary line; a clean one only the line",
        async () => {
            const warn = {
                id: "workload.login", workload: "busybox", target: "vault:auth/aks/login", status: "warn" as const,
                detail: "role busybox refused the token for busybox/busybox: POST /v1/auth/aks/login: 403 permission denied",
                cause: "The reviewer's token Secret vault/vault-token-reviewer-token is gone; this up recreates it and rewrites Vault's " +
                    "token_reviewer_jwt.",
            };
            const pass = { id: "vault.kv-mount", target: "vault:secret", status: "pass" as const, detail: "KV version 2" };
            const gate = (findings: Array<typeof warn | typeof pass>) => async (o: RunOptions) => {
                const summary = { pass: 1, fail: 0, warn: findings.length - 1, skip: 0 };
                const report = { ok: true, summary, workloads: { green: 0, total: 1 }, findings };
                o.onEvent?.({ type: "preflight", status: "passed", report });
                return OK;
            };
            const warned = await cli(["up", "--yes"], gate([pass, warn]));
            assert.equal(warned.code, EXIT.ok);
            assert.ok(warned.stderr.includes([
                `WARN  workload.login       vault:auth/aks/login: ${warn.detail}`,
                `      cause: ${warn.cause}`,
                "",
                "1 passed, 0 failed, 1 warnings, 0 skipped",
                "preflight: 0/1 workloads can read every path they render",
            ].join("\n")), warned.stderr);
            assert.ok(!warned.stderr.includes("PASS"), warned.stderr);
            const clean = await cli(["up", "--yes"], gate([pass]));
            assert.ok(clean.stderr.includes("preflight: 0/1 workloads can read every path they render\n"), clean.stderr);
            assert.ok(!clean.stderr.includes("1 passed"), clean.stderr);
        });

    it("a gate passed because this up rewrites what failed: the downgraded findings print with their cause and fix", async () => {
        // The settled report the runner emits (src/preflight/settle.ts): the role drift this up rewrites.
        const role = {
            id: "workload.role", workload: "busybox", target: "vault:auth/aks/role/busybox", status: "warn" as const,
            detail: "bound_service_account_namespaces [elsewhere] does not include busybox",
            cause: "This up rewrites the Vault role of workload busybox: judged against the deployed one it replaces. The live role " +
                "is not the one the stack file describes: changed outside Pulumi, or the stack file changed since the last `up`.",
            fix: "If the stack file changed on purpose, `up` rewrites the role; otherwise restore role busybox from the stack file: " +
                "`aks-vault refresh --stack dev --yes`, then `aks-vault up --stack dev --yes`.",
        };
        const res = await cli(["up", "--yes"], async (o: RunOptions) => {
            const report = { ok: true, summary: { pass: 2, fail: 0, warn: 1, skip: 0 }, workloads: { green: 0, total: 1 },
                findings: [role] };
            o.onEvent?.({ type: "preflight", status: "passed", report });
            return OK;
        });
        assert.equal(res.code, EXIT.ok);
        assert.ok(res.stderr.includes([
            `WARN  workload.role        vault:auth/aks/role/busybox: ${role.detail}`,
            `      cause: ${role.cause}`,
            `      fix:   ${role.fix}`,
            "",
            "2 passed, 0 failed, 1 warnings, 0 skipped",
            "preflight: 0/1 workloads can read every path they render",
        ].join("\n")), res.stderr);
    });

    it("passes stack, stage, policy packs and single-update through to the library API", async () => {
        let seen: RunOptions | undefined;
        const res = await cli(
            ["up", "--stack", "dev", "--stage", "vault-auth", "--yes", "--single-update", "--policy-pack", "policies", "--json"],
            async (o) => { seen = o; return OK; },
        );
        assert.equal(res.code, EXIT.ok, res.stderr);
        assert.equal(seen?.operation, "up");
        assert.equal(seen?.stack, "dev");
        assert.equal(seen?.stage, "vault-auth");
        assert.equal(seen?.singleUpdate, true);
        assert.deepEqual(seen?.policyPacks, [`${ROOT}/policies`]);
        const last = JSON.parse(res.stdout.trim().split("\n").pop() ?? "{}") as { type: string; outputs: unknown };
        assert.equal(last.type, "result");
        assert.deepEqual(last.outputs, OK.outputs);
    });

    it("refuses to change resources without --yes, and rejects an unknown stage (exit 2)", async () => {
        let called = false;
        const noYes = await cli(["destroy"], async () => { called = true; return OK; });
        assert.equal(noYes.code, EXIT.usage);
        assert.match(noYes.stderr, /pass --yes/);
        const badStage = await cli(["up", "--yes", "--stage", "vault"]);
        assert.equal(badStage.code, EXIT.usage);
        assert.match(badStage.stderr, /unknown stage "vault"; expected one of cluster, injector, vault-auth, workloads/);
        assert.equal(called, false);
    });

    it("maps every failure kind to its own exit code with one message and no stack trace", async () => {
        const cases: Array<[Error, number]> = [
            [new StackMissingError("dev"), EXIT.stackMissing],
            [new StackLockedError("dev", 5), EXIT.concurrentUpdate],
            [new GateError("injector", [], undefined, "error: boom"), EXIT.gate],
            [new StageFailedError("vault-auth", "up", "urn:x", "error: 403", ["cluster", "injector"]), EXIT.stageFailed],
            [new UnsafeStageError("cluster", "workloads", "up"), EXIT.unsafeStage],
            [new CancelledError("injector"), EXIT.cancelled],
            [new SettingsError([{ key: "vault.address", found: '"x"', expected: "an https:// URL" }]), EXIT.settings],
            [new Error("unexpected"), EXIT.internal],
        ];
        const codes = new Set<number>();
        for (const [err, code] of cases) {
            const res = await cli(["up", "--yes"], async () => { throw err; });
            assert.equal(res.code, code, err.name);
            // Every typed error says its exit code itself, as docs/automation.md promises a library caller.
            if (code !== EXIT.internal) assert.equal((err as Error & { exitCode?: number }).exitCode, code, `${err.name}.exitCode`);
            assert.equal(res.stderr, `error: ${err.message}\n`);
            assert.ok(!/\n\s+at /.test(res.stderr), "no stack trace");
            codes.add(code);
        }
        assert.equal(codes.size, cases.length, "exit codes tell the kinds apart");
    });

    it("prints the public kind under --json (the error's name, not its class)", async () => {
        // The library's own classes, not the Automation API's classes of those names.
        const auto = await import("@pulumi/pulumi/automation");
        assert.notEqual(StackMissingError, auto.StackNotFoundError as unknown);
        const res = await cli(["up", "--yes", "--json"], async () => { throw new StackMissingError("dev"); });
        const err = JSON.parse(res.stdout.trim().split("\n").pop() ?? "{}") as { kind: string; exitCode: number };
        assert.deepEqual([err.kind, err.exitCode], ["StackNotFoundError", EXIT.stackMissing]);
        assert.equal(new StackLockedError("dev", 5).name, "ConcurrentUpdateError");
    });

    it("bad settings in the stack file stop before Pulumi, naming the key (exit 3)", async () => {
        const res = await cli(["plan", "--stack", "does-not-exist"]);
        assert.equal(res.code, EXIT.settings);
        assert.match(res.stderr, /no stack config Pulumi\.does-not-exist\.yaml/);
    });

    it("invalid settings in the stack file name the key; a missing passphrase is named too (exit 3, before Pulumi runs)", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "cli-"));
        try {
            writeFileSync(
                path.join(dir, "Pulumi.bad.yaml"),
                "config:\n  aks-vault:vault:\n    address: not-a-url\n" +
                    "  aks-vault:cluster:\n    mode: adopt\n    name: x\n    resourceGroupName: rg\n",
            );
            const stdout = new Capture();
            const stderr = new Capture();
            const code = await main(
                ["node", "aks-vault", "preview", "--stack", "bad"],
                { stdout, stderr, projectDir: dir, env: { PATH: "" } },
                run,
            );
            assert.equal(code, EXIT.settings);
            assert.match(stderr.text, /vault\.address: found "not-a-url"/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
        // A passphrase stack (its file holds the salt) without the passphrase: named before Pulumi
        // runs. A stack made with another secrets provider needs none.
        const standin = path.join(ROOT, "test", "fixtures", "standin");
        const project = mkdtempSync(path.join(tmpdir(), "cli-"));
        try {
            writeFileSync(path.join(project, "Pulumi.pp.yaml"), "encryptionsalt: v1:c2FsdA==:v1:aGFzaA==\nconfig: {}\n");
            const stdout = new Capture();
            const stderr = new Capture();
            const code = await main(
                ["node", "aks-vault", "outputs", "--stack", "pp"],
                { stdout, stderr, projectDir: project, env: { PATH: standin }, interruptReachesChildren: false },
                run,
            );
            assert.equal(code, EXIT.settings, stderr.text);
            assert.match(stderr.text, /PULUMI_CONFIG_PASSPHRASE/);
        } finally {
            rmSync(project, { recursive: true, force: true });
        }
    });

    it("without pulumi on PATH says so in one line with the install link (exit 4)", async () => {
        const res = await cli(["preview", "--json"], run, { env: { PATH: "/nonexistent", PULUMI_CONFIG_PASSPHRASE: "x" } });
        assert.equal(res.code, EXIT.pulumiMissing);
        assert.equal(res.stderr.trim().split("\n").length, 1);
        assert.ok(res.stderr.includes(PULUMI_INSTALL_URL));
        const err = JSON.parse(res.stdout.trim().split("\n").pop() ?? "{}") as { type: string; kind: string; exitCode: number };
        assert.deepEqual([err.type, err.kind, err.exitCode], ["error", "PulumiNotInstalledError", EXIT.pulumiMissing]);
    });

    it("on a terminal, Ctrl-C leaves the stop to pulumi (which got the signal too): no second SIGINT, exit 130", async () => {
        let interrupt: (() => void) | undefined;
        let aborted = false;
        const stdout = new Capture();
        const stderr = new Capture();
        const code = await main(["node", "aks-vault", "up", "--yes"], {
            stdout, stderr, projectDir: ROOT, env: { PATH: "" }, interruptReachesChildren: true,
            onInterrupt: (h) => { interrupt = h; return () => { interrupt = undefined; }; },
        }, (o) => new Promise((_, reject) => {
            o.signal?.addEventListener("abort", () => { aborted = true; });
            // pulumi, interrupted by the terminal, stops the update and the step fails.
            setImmediate(() => {
                interrupt?.();
                setImmediate(() => reject(new StageFailedError("injector", "up", undefined, "update canceled", ["cluster"])));
            });
        }));
        assert.equal(aborted, false, "a second SIGINT would make pulumi terminate without cleanup");
        assert.equal(code, EXIT.cancelled, stderr.text);
        assert.match(stderr.text, /pulumi is stopping the update cleanly/);
        assert.match(stderr.text, /cancelled during stage injector/);
    });

    it("Ctrl-C aborts the running operation and exits 130", async () => {
        let interrupt: (() => void) | undefined;
        const res = await cli(["up", "--yes"], (o) => new Promise((_, reject) => {
            o.signal?.addEventListener("abort", () => reject(new CancelledError("cluster")));
            setImmediate(() => interrupt?.());
        }), { onInterrupt: (h) => { interrupt = h; return () => { interrupt = undefined; }; } });
        assert.equal(res.code, EXIT.cancelled);
        assert.match(res.stderr, /cancelling the running update/);
    });

    it("an unknown command says so (not 'too many arguments for plan'), exit 2; --json prints the usage error as JSON", async () => {
        const res = await cli(["frobnicate"]);
        assert.equal(res.code, EXIT.usage);
        assert.match(
            res.stderr,
            /^error: unknown command 'frobnicate' \(commands: plan, preview, up, destroy, refresh, outputs, doctor, preflight; see --help\)\n/,
        );
        assert.doesNotMatch(res.stderr, /too many arguments/);
        assert.equal(res.stdout, "");
        const json = await cli(["frobnicate", "--json"]);
        assert.equal(json.code, EXIT.usage);
        assert.deepEqual(JSON.parse(json.stdout), {
            type: "error",
            kind: "UsageError",
            exitCode: EXIT.usage,
            message: "unknown command 'frobnicate' (commands: plan, preview, up, destroy, refresh, outputs, doctor, preflight; see --help)",
        });
        // Commander's own usage errors too: an unknown option, a missing required option, a bad value.
        for (const args of [
            ["preview", "--bogus", "--json"],
            ["doctor", "--json"],
            ["doctor", "--stack", "dev", "--tail", "0", "--json"],
        ]) {
            const r = await cli(args);
            assert.equal(r.code, EXIT.usage, args.join(" "));
            const err = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { type: string; kind: string; message: string };
            assert.equal(err.type, "error", args.join(" "));
            assert.equal(err.kind, "UsageError");
            assert.doesNotMatch(err.message, /^error:/);
        }
        // Known commands and `help` still dispatch; an extra operand to plan is still plan's error.
        assert.equal((await cli(["help", "plan"])).code, EXIT.ok);
        assert.match((await cli(["plan", "extra"])).stderr, /too many arguments for 'plan'/);
    });

    it("says which backend it uses: the Pulumi CLI's login, else the local default (fake HOME)", async () => {
        const home = mkdtempSync(path.join(tmpdir(), "cli-home-"));
        try {
            const env = { PATH: path.join(ROOT, "test", "fixtures", "standin"), HOME: home };
            const local = await cli(["outputs"], async () => OK, { env });
            assert.match(local.stderr, new RegExp(
                `^backend: file://${path.join(ROOT, ".pulumi-state").replace(/[.]/g, "\\.")} ` +
                    `\\(not logged in: the project's local file backend\\)$`,
                "m",
            ));
            mkdirSync(path.join(home, ".pulumi"));
            writeFileSync(
                path.join(home, ".pulumi", "credentials.json"),
                JSON.stringify({ current: "https://api.pulumi.com", accessTokens: { "https://api.pulumi.com": "pul-x" } }),
            );
            const seen: RunOptions[] = [];
            const res = await cli(["outputs", "--json"], async (o) => { seen.push(o); return OK; }, { env });
            assert.deepEqual(JSON.parse(res.stdout.split("\n")[0]), { type: "backend", url: "https://api.pulumi.com", source: "login" });
            const text = await cli(["outputs"], async () => OK, { env });
            assert.match(text.stderr, /^backend: https:\/\/api\.pulumi\.com \(pulumi login \(.*\.pulumi\/credentials\.json\)\)$/m);
            // The library resolves the same default itself; the CLI passes no URL of its own.
            assert.equal(seen[0].backendUrl, undefined);
        } finally {
            rmSync(home, { recursive: true, force: true });
        }
    });

    it("--version prints the package version", async () => {
        const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
        for (const flag of ["--version", "-V"]) {
            const res = await cli([flag]);
            assert.equal(res.code, EXIT.ok);
            assert.equal(res.stdout, `${pkg.version}\n`);
        }
    });

    it("starts without the Pulumi SDK, the program, zod or yaml: `--help` loads commander and the CLI's own light modules", async () => {
        // A fresh process (this one has loaded everything): build the commands and print the help.
        const script = [
            "const { main } = require('./src/cli');",
            "main(['node', 'aks-vault', '--help'], { stdout: { write() { return true; } }, stderr: process.stderr }).then((code) => {",
            "  process.stdout.write(JSON.stringify({ code, loaded: Object.keys(require.cache) }));",
            "});",
        ].join("\n");
        const { stdout } = await promisify(execFile)(
            process.execPath,
            ["-r", "sucrase/register/ts", "-e", script],
            { cwd: ROOT, timeout: 60000 },
        );
        const { code, loaded } = JSON.parse(stdout) as { code: number; loaded: string[] };
        assert.equal(code, EXIT.ok);
        // Packages by their folder under any node_modules (a worktree may link it from elsewhere);
        // our modules relative to the checkout.
        const rel = loaded.map((f) => path.relative(ROOT, f).split(path.sep).join("/"));
        assert.ok(rel.some((f) => f.includes("node_modules/commander/")), "commander is what builds the help");
        // components/typePrefix.ts, one string the stage table (src/program/stages.ts) names types with, is light.
        const heavy = rel.filter((f) =>
            /(^|\/)node_modules\/(@pulumi|zod|yaml|listr2|@kubernetes)\/|^components\/(?!typePrefix\.ts$)|^src\/(plan\/plan|automation\/run|config\/(load|validate))\b/
                .test(f));
        assert.deepEqual(heavy, [], "loaded at start-up; import it inside the action that needs it");
    });
});
