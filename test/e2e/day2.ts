/**
 * Day 2 on the real local stack (issue 20): the routine edits of docs/data-safety.md, faults
 * during real runs, the stage-cut refusals, two concurrent ups and the documented tear-down,
 * each a scenario of real `up`s through the project's staged runner, asserted from the API server
 * and Vault directly. Runs after run.ts on the same started stack (test/e2e/e2e.sh), or alone with
 * `<statedir>/env` sourced and the provider variables set:
 *
 *   node node_modules/ts-node/dist/bin.js --transpile-only test/e2e/day2.ts
 *
 * Prints `day2 <scenario>: ok` or what did not hold, then `day2: K/N scenarios hold`.
 */
import { Checks, waitFor } from "./lib/checks";
import { StackRunner, chartPath, localSettings, prepareLocalStack } from "./lib/deploy";
import { Day2, Settings } from "./lib/day2/context";
import {
    addWorkload, chartBump, idempotence, reader, relabelledChart, removeShared, rename, switchMethod, switchMethodSamePath,
    ttlAndPolicyPath, writeOnceSeed,
} from "./lib/day2/edits";
import {
    apiServerDownInWorkloads, concurrentUps, ctrlC, reviewerSecretDeleted, stageCutRefused, tokenWithoutOperatorPolicy,
    vaultSealedInVaultAuth,
} from "./lib/day2/faults";
import { destroyTopDown } from "./lib/day2/destroy";
import { doctorJwtScenario, doctorScenario } from "./lib/day2/doctor";

const STACK = "day2";

interface Outcome {
    name: string;
    checks: Checks;
    seconds: number;
}

/** A third workload in a namespace of its own. */
const EXTRA: Settings = {
    name: "extra",
    namespace: "extra",
    serviceAccount: "extra",
    tokenTtl: 3600,
    policies: ["default"],
    secrets: [{ file: "cfg", path: "extra/cfg", key: "k" }],
    seed: [{ path: "extra/cfg", values: { k: { random: { length: 24 } } } }],
    deployment: { image: "busybox:1.36", replicas: 1 },
};

/** A workload with no files, seeds or Deployment: a namespace, an account, a policy and a role. */
const bare = (name: string): Settings => ({ name, namespace: name, serviceAccount: name, tokenTtl: 3600, policies: ["default"] });

async function main(): Promise<number> {
    const started = Date.now();
    const { env, kube, vault, pulumiHome } = await prepareLocalStack();

    // The dev stack file plus a second workload sharing busybox's namespace.
    const initial = localSettings("dev", env, (s) => {
        s.workloads.push(reader(s.workloads[0].namespace));
        s.injector = { ...s.injector, chartVersion: "0.25.0", chartPath: relabelledChart("0.25.0") };
    });
    const d = new Day2(env, kube, vault, new StackRunner(STACK, env, pulumiHome), initial);
    const first = initial.workloads[0].name as string;

    const outcomes: Outcome[] = [];
    // Every scenario builds on the stack the ones before left: once the stack could not be
    // deployed, the rest are reported as not run.
    let blocked: string | undefined;
    const scenario = async (name: string, fn: (checks: Checks) => Promise<void>, required = false) => {
        const checks = new Checks(`day2 ${name}`);
        if (blocked !== undefined) {
            checks.that("run", false, `not run: ${blocked} did not hold`);
            outcomes.push({ name, checks, seconds: 0 });
            return;
        }
        const t = Date.now();
        console.log(`day2 ${name}: running`);
        await checks.attempt("the scenario completes", () => fn(checks));
        outcomes.push({ name, checks, seconds: Math.round((Date.now() - t) / 1000) });
        const o = outcomes[outcomes.length - 1];
        console.log(summary(o));
        if (required && checks.failed.length > 0) blocked = name;
    };

    let webhook = false;
    try {
        await scenario("deploy-injector", async () => {
            await d.up(initial, { stage: "injector" });
            d.startWebhook();
            webhook = true;
        }, true);
        await scenario("fault-vault-sealed-in-vault-auth", (c) => vaultSealedInVaultAuth(d, c, initial), true);
        await scenario("idempotence", (c) => idempotence(d, c));
        await scenario("edit-add-workload", (c) => addWorkload(d, c, EXTRA));
        await scenario("edit-rename-formerName", (c) => rename(d, c, "extra", "renamed"));
        await scenario("edit-write-once-seed", (c) =>
            writeOnceSeed(d, c, initial.workloads[0].seed[0].path, { workload: "reader", key: "api", value: "reader-v2" }));
        await scenario("edit-ttl-and-policy-path", (c) => ttlAndPolicyPath(d, c, "reader"));
        await scenario("edit-method-jwt-same-path", (c) => switchMethodSamePath(d, c, "jwt"));
        await scenario("edit-method-jwt", (c) => switchMethod(d, c, "jwt", "aks-jwt"));
        await scenario("doctor-jwt", (c) => doctorJwtScenario(d, c));
        await scenario("edit-method-kubernetes", (c) => switchMethod(d, c, "kubernetes", initial.kubernetesAuth.path));
        await scenario("edit-chart-bump", (c) => chartBump(d, c, "0.34.1", chartPath()));
        await scenario("fault-ctrl-c", (c) => ctrlC(d, c, d.edit((s) => s.workloads.push(bare("late")))));
        await scenario("fault-apiserver-down-in-workloads", (c) =>
            apiServerDownInWorkloads(d, c, d.edit((s) => s.workloads.push(bare("later")))));
        await scenario("stage-cut-refused", (c) => stageCutRefused(d, c));
        await scenario("concurrent-ups", (c) => concurrentUps(d, c));
        await scenario("doctor", (c) => doctorScenario(d, c));
        await scenario("fault-reviewer-secret-deleted", (c) => reviewerSecretDeleted(d, c));
        await scenario("fault-token-without-operator-policy", (c) => tokenWithoutOperatorPolicy(d, c));
        await scenario("edit-remove-shared-namespace-creator", (c) => removeShared(d, c, first));
        await scenario("destroy", (c) => destroyTopDown(d, c));
    } finally {
        if (webhook) d.stopWebhook();
    }
    void waitFor;
    const held = outcomes.filter((o) => o.checks.failed.length === 0).length;
    console.log("");
    for (const o of outcomes) console.log(summary(o));
    console.log(`day2: ${held}/${outcomes.length} scenarios hold (${Math.round((Date.now() - started) / 1000)} s)`);
    return held === outcomes.length ? 0 : 1;
}

function summary(o: Outcome): string {
    const failed = o.checks.failed;
    if (failed.length === 0) return `day2 ${o.name}: ok (${o.checks.held} checks, ${o.seconds} s)`;
    return `day2 ${o.name}: ${failed.map((f) => `${f.name}${f.detail ? `: ${f.detail.split("\n")[0].slice(0, 300)}` : ""}`).join("; ")}`;
}

// An await that can never settle would let node exit 0 with nothing printed: fail unless main returns.
process.exitCode = 1;
main().then(
    (code) => process.exit(code),
    (err: Error) => {
        console.error(`day2: ${err.message}`);
        process.exit(1);
    },
);
