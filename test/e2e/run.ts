/**
 * `npm run test:e2e`, the part that runs once the local stack is up (test/e2e/e2e.sh starts it and
 * sources its env): for the dev stack and the JWT stack, the program is deployed through the
 * project's own staged runner by the real Pulumi engine and providers, the seed's end state is
 * read back from the API server and Vault, the real agent renders the secret file, a second `up`
 * changes nothing, and the documented tear-down leaves nothing behind.
 */
import * as path from "path";
import { Checks, waitFor } from "./lib/checks";
import { StackRunner, localSettings, prepareLocalStack } from "./lib/deploy";
import { checkSeed, expectations } from "./lib/seed";
import { checkPreflight } from "./lib/preflight";
import { Kube, StackEnv, Vault, sh } from "./lib/systems";
import type { RunResult } from "../../src/automation/runner";

const STACKS = ["dev", "jwt"] as const;
const WEBHOOK = path.join(__dirname, "webhook.sh");

/** Resources the engine holds after an update that changed nothing: the `same` count of the stage that ran. */
function unchanged(result: RunResult): { total: number; changed: Record<string, number> } {
    const ran = result.stages.filter((s) => s.status === "done");
    const changed: Record<string, number> = {};
    let total = 0;
    for (const s of ran) {
        for (const [op, n] of Object.entries(s.changes ?? {})) {
            // `read`: the reviewer token Secret is read live at every up (not a change).
            if (op === "same" || op === "read") total += n;
            else changed[op] = (changed[op] ?? 0) + n;
        }
    }
    return { total, changed };
}

interface StackOutcome {
    stack: string;
    resources: number;
    checks: Checks;
    rendered?: string;
    error?: string;
}

async function deployAndCheck(stack: string, env: StackEnv, kube: Kube, vault: Vault, pulumiHome: string): Promise<StackOutcome> {
    const checks = new Checks(stack);
    const outcome: StackOutcome = { stack, resources: 0, checks };
    const raw = localSettings(stack, env);
    const x = expectations(raw);
    const runner = new StackRunner(stack, env, pulumiHome);
    let webhookStarted = false;
    try {
        const started = Date.now();
        await runner.run(raw, { stage: "injector" });
        // kwok's pods run no process: the injector's own code serves the chart's webhook here.
        console.log(sh("bash", [WEBHOOK, "start", env.stateDir, x.injectorNamespace, x.release], { timeoutMs: 300000 }).trim());
        webhookStarted = true;
        await runner.run(raw);
        console.log(`    [${stack}] deployed in ${Math.round((Date.now() - started) / 1000)} s`);

        const again = unchanged(await runner.run(raw));
        outcome.resources = again.total;
        checks.equal("a second up changes nothing", again.changed, {});

        const report = await checkSeed(raw, env, kube, vault, checks, path.join(env.stateDir, "agent", stack));
        outcome.rendered = report?.renderedFile;
        await checkPreflight(raw, stack, env, vault, checks);

        // The documented tear-down (docs/security.md): unprotect the KV mount on purpose, then destroy.
        // The stack file as the operator edits it: destroy runs the program cut stage by stage, so the
        // same unprotected settings go to both runs (a destroy with protect on would protect it again).
        const unprotected = localSettings(stack, env, (s) => (s.kv = { ...(s.kv ?? {}), protect: false }));
        await runner.run(unprotected);
        await runner.run(unprotected, { operation: "destroy" });
        await checkNothingLeft(x, kube, vault, checks);
    } catch (err) {
        outcome.error = (err as Error).message;
        checks.that("the run completes", false, outcome.error);
    } finally {
        if (webhookStarted) sh("bash", [WEBHOOK, "stop", env.stateDir]);
    }
    return outcome;
}

async function checkNothingLeft(x: ReturnType<typeof expectations>, kube: Kube, vault: Vault, checks: Checks): Promise<void> {
    for (const ns of [x.injectorNamespace, x.workload.namespace]) {
        const gone = () => (kube.get("namespace", ns) === undefined ? true : undefined);
        await checks.attempt(`namespace ${ns} is gone after destroy`, async () => {
            await waitFor(`namespace ${ns} to be deleted`, gone, 120000);
        });
    }
    const webhook = kube.get("mutatingwebhookconfiguration", `${x.release}-agent-injector-cfg`);
    checks.that("no webhook configuration is left", webhook === undefined);
    const crbs = kube.list("clusterrolebinding")
        .filter((b) => b.roleRef?.name === "system:auth-delegator" && b.metadata.name !== "system:auth-delegator");
    checks.equal("no auth-delegator binding is left", crbs.map((b) => b.metadata.name), []);
    const auths = Object.keys((await vault.read("sys/auth")).data);
    checks.that(`auth mount ${x.authPath}/ is gone`, !auths.includes(`${x.authPath}/`), auths.join(", "));
    const mounts = Object.keys((await vault.read("sys/mounts")).data);
    checks.that(`KV mount ${x.kvPath}/ is gone`, !mounts.includes(`${x.kvPath}/`), mounts.join(", "));
    const policies: string[] = (await vault.read("sys/policies/acl?list=true")).data.keys;
    checks.equal("only Vault's own policies are left", policies.filter((p) => p !== "default" && p !== "root"), []);
}

async function main(): Promise<number> {
    const { env, kube, vault, pulumiHome } = await prepareLocalStack();

    const wanted = (process.env.E2E_STACKS ?? STACKS.join(",")).split(",").filter((s) => s !== "");
    const outcomes: StackOutcome[] = [];
    for (const stack of wanted) {
        console.log(`e2e ${stack}: deploying`);
        outcomes.push(await deployAndCheck(stack, env, kube, vault, pulumiHome));
    }
    for (const o of outcomes) {
        const failed = o.checks.failed.length;
        console.log(failed === 0
            ? `e2e ${o.stack}: ${o.resources} resources up, ${o.checks.held} checks hold, rendered ${o.rendered ?? "nothing"}`
            : `e2e ${o.stack}: ${failed} of ${o.checks.results.length} checks failed: ${o.checks.failed.map((f) => f.name).join("; ")}`);
    }
    const bad = outcomes.filter((o) => o.checks.failed.length > 0);
    console.log(bad.length === 0 ? "e2e: all stacks hold" : `e2e: ${bad.map((o) => o.stack).join(", ")} failed`);
    return bad.length === 0 ? 0 : 1;
}

main().then(
    (code) => process.exit(code),
    (err: Error) => {
        console.error(`e2e: ${err.message}`);
        process.exit(1);
    },
);
