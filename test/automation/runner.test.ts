/**
 * Stage order, the preview gate, resume and error mapping, through the StackEngine seam with a
 * recorded fake that keeps a stack state the way the Pulumi engine does.
 */
import assert from "node:assert/strict";
import { FakeEngine, STAGE_URNS } from "../support/fakeEngine";
import { RunEvent, runOperation } from "../../src/automation/runner";
import {
    AuthMountSwitchError, CancelledError, EngineConflict, GateError, StackLockedError, StackMissingError, StageFailedError,
    UnsafeStageError,
} from "../../src/errors";
import { EXIT } from "../../src/exitCodes";
import { deployedStage, stageOfUrn } from "../../src/program/stages";
import { checkDeployedAuthMount } from "../../src/program/authMount";
import { kubernetesAuthSchema } from "../../src/config/schema";
import { STAGES, Stage } from "../../src/stages";

const PACKS = ["policies"];

function stageLog(events: RunEvent[]): string[] {
    return events.filter((e): e is Extract<RunEvent, { type: "stage" }> => e.type === "stage").map((e) => `${e.stage}:${e.status}`);
}

describe("automation runner: stages over the engine seam", () => {
    it("brings a new stack up stage by stage, each previewed (with the policy packs) before it is applied", async () => {
        const engine = new FakeEngine("dev", { exists: false });
        const events: RunEvent[] = [];
        const result = await runOperation(engine, { operation: "up", policyPacks: PACKS, onEvent: (e) => events.push(e) });
        assert.deepEqual(engine.commands, [
            "preview:cluster", "up:cluster", "preview:injector", "up:injector",
            "preview:vault-auth", "up:vault-auth", "preview:workloads", "up:workloads",
        ]);
        assert.deepEqual(engine.calls[0], { op: "open", create: true });
        for (const c of engine.calls.filter((x) => x.op === "preview" || x.op === "up")) assert.deepEqual(c.policyPacks, PACKS);
        assert.deepEqual(stageLog(events).slice(0, 4), ["cluster:previewing", "cluster:updating", "cluster:done", "injector:previewing"]);
        assert.deepEqual(result.stages.map((s) => [s.stage, s.status]), [
            ["cluster", "done"],
            ["injector", "done"],
            ["vault-auth", "done"],
            ["workloads", "done"],
        ]);
        assert.equal(deployedStage(engine.state), "workloads");
        assert.equal(result.outputs?.kubeconfig.value, "[secret]");
        const resources = events.filter((e) => e.type === "resource");
        assert.ok(resources.some((e) =>
            e.type === "resource" && e.stage === "injector" && e.name === "vault-injector-chart" && e.status === "done"));
    });

    it("stops at the requested stage and says why the others did not run", async () => {
        const engine = new FakeEngine("dev", { exists: false });
        const result = await runOperation(engine, { operation: "up", stage: "injector" });
        assert.deepEqual(engine.commands, ["preview:cluster", "up:cluster", "preview:injector", "up:injector"]);
        assert.deepEqual(result.stages.filter((s) => s.status === "skipped").map((s) => [s.stage, s.reason]), [
            ["vault-auth", "after --stage injector"],
            ["workloads", "after --stage injector"],
        ]);
        assert.equal(deployedStage(engine.state), "injector");
    });

    it("keeps the whole graph available as one update", async () => {
        const engine = new FakeEngine("dev", { exists: false });
        await runOperation(engine, { operation: "up", singleUpdate: true });
        assert.deepEqual(engine.commands, ["preview:workloads", "up:workloads"]);
    });

    it("gate: a mandatory policy violation in a stage's preview stops the run before that stage changes anything", async () => {
        const engine = new FakeEngine("dev", { exists: false }).fault({ op: "preview", stage: "vault-auth", kind: "policy" });
        const err = await runOperation(engine, { operation: "up", policyPacks: PACKS }).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof GateError, String(err));
        assert.equal(err.stage, "vault-auth");
        assert.equal(err.exitCode, EXIT.gate);
        assert.deepEqual(err.violations.map((v) => `${v.policyPack}/${v.policy}`), ["aks-vault-guardrails/injector-ha"]);
        assert.match(err.message, /nothing was changed/);
        assert.deepEqual(engine.commands, ["preview:cluster", "up:cluster", "preview:injector", "up:injector", "preview:vault-auth"]);
        assert.equal(deployedStage(engine.state), "injector");
    });

    it("a failed stage names itself and the failing resource, keeps earlier stages, and a rerun continues there", async () => {
        const engine = new FakeEngine("dev", { exists: false }).fault({ op: "up", stage: "vault-auth", kind: "fail", partial: 2 });
        const err = await runOperation(engine, { operation: "up" }).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof StageFailedError, String(err));
        assert.equal(err.stage, "vault-auth");
        assert.equal(err.resource, STAGE_URNS["vault-auth"][3]);
        assert.equal(err.detail, "error: 403 permission denied");
        assert.deepEqual(err.appliedStages, ["cluster", "injector"]);
        assert.equal(err.exitCode, EXIT.stageFailed);
        assert.match(err.message, /rerun the same command to continue/);

        // Whatever made the resource fail is fixed; the same command resumes at vault-auth.
        const rerun = new FakeEngine("dev", { exists: true });
        rerun.state = new Set(engine.state);
        const result = await runOperation(rerun, { operation: "up" });
        assert.deepEqual(rerun.commands, ["preview:vault-auth", "up:vault-auth", "preview:workloads", "up:workloads"]);
        assert.deepEqual(result.stages.filter((s) => s.status === "skipped").map((s) => s.stage), ["cluster", "injector"]);
    });

    it("preview never creates a missing stack unless asked; up does", async () => {
        const missing = new FakeEngine("typo", { exists: false });
        const err = await runOperation(missing, { operation: "preview" }).then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof StackMissingError, String(err));
        assert.deepEqual(missing.calls, [{ op: "open", create: false }]);
        const asked = new FakeEngine("new", { exists: false });
        await runOperation(asked, { operation: "preview", createStack: true });
        assert.deepEqual(asked.calls[0], { op: "open", create: true });
        const up = new FakeEngine("new", { exists: false });
        await runOperation(up, { operation: "up", stage: "cluster" });
        assert.deepEqual(up.calls[0], { op: "open", create: true });
    });

    it("refuses a cut below a deployed stage instead of deleting it (up and preview), before any engine command", async () => {
        for (const operation of ["up", "preview"] as const) {
            const engine = new FakeEngine("dev", { deployed: "workloads" });
            const err = await runOperation(engine, { operation, stage: "injector" }).then(() => undefined, (e: unknown) => e);
            assert.ok(err instanceof UnsafeStageError, String(err));
            assert.equal(err.deployed, "workloads");
            assert.equal(err.exitCode, EXIT.unsafeStage);
            assert.deepEqual(engine.commands, []);
            assert.equal(deployedStage(engine.state), "workloads");
        }
    });

    describe("kubernetesAuth.method switched at the deployed mount's path (issue 20: Vault's 'path is already in use' mid-up)", () => {
        /** A stack deployed through `deployed` whose auth mount is `path`, with `method` (kubernetes stacks export no method). */
        function deployedWith(deployed: Stage, path: string, method: "kubernetes" | "jwt"): FakeEngine {
            const engine = new FakeEngine("dev", { deployed });
            engine.heldOutputs = {
                vaultAuthPath: { value: path, secret: false },
                ...(method === "jwt" ? { vaultAuthMethod: { value: "jwt", secret: false } } : {}),
            };
            return engine;
        }
        const attempt = (engine: FakeEngine, operation: "up" | "preview", kubernetesAuth: Record<string, unknown>) =>
            runOperation(engine, { operation, checkDeployed: checkDeployedAuthMount(kubernetesAuthSchema.parse(kubernetesAuth)),
                preflight: async () => { throw new Error("the refusal comes before the preflight"); } })
                .then(() => undefined, (e: unknown) => e);

        it("kubernetes -> jwt at the same explicit path: one line naming the settings and the fix, before any engine command, " +
            "up and preview alike", async () => {
            for (const operation of ["up", "preview"] as const) {
                const engine = deployedWith("workloads", "aks", "kubernetes");
                const err = await attempt(engine, operation, { method: "jwt", path: "aks" });
                assert.ok(err instanceof AuthMountSwitchError, String(err));
                assert.equal(err.message, 'kubernetesAuth.path: "aks" is this stack\'s kubernetes auth mount; Vault holds one mount per ' +
                    "path, so switching kubernetesAuth.method to jwt needs a new path (set kubernetesAuth.path to another path, or " +
                    'omit it for the default "jwt"): the new mount is created beside the old one, which the same up removes ' +
                    "(docs/data-safety.md)");
                assert.equal(err.exitCode, EXIT.settings);
                assert.deepEqual([err.path, err.deployedMethod, err.method], ["aks", "kubernetes", "jwt"]);
                assert.deepEqual(engine.commands, [], "nothing previewed or applied");
                assert.equal(deployedStage(engine.state), "workloads");
            }
        });

        it("jwt -> kubernetes at the same path is refused too; when the new default is that path, only another path helps", async () => {
            const back = await attempt(deployedWith("vault-auth", "aks-jwt", "jwt"), "up", { method: "kubernetes", path: "aks-jwt" });
            assert.ok(back instanceof AuthMountSwitchError, String(back));
            assert.equal(back.message, 'kubernetesAuth.path: "aks-jwt" is this stack\'s jwt auth mount; Vault holds one mount per path, ' +
                "so switching kubernetesAuth.method to kubernetes needs a new path (set kubernetesAuth.path to another path, or omit " +
                'it for the default "kubernetes"): the new mount is created beside the old one, which the same up removes ' +
                "(docs/data-safety.md)");
            // A kubernetes mount at `jwt`, switched to jwt with the path omitted: the default is that very path.
            const onDefault = await attempt(deployedWith("workloads", "jwt", "kubernetes"), "preview", { method: "jwt" });
            assert.ok(onDefault instanceof AuthMountSwitchError, String(onDefault));
            assert.equal(onDefault.message, 'kubernetesAuth.path: "jwt" is this stack\'s kubernetes auth mount; Vault holds one mount ' +
                "per path, so switching kubernetesAuth.method to jwt needs a new path (set kubernetesAuth.path to another path): the " +
                "new mount is created beside the old one, which the same up removes (docs/data-safety.md)");
        });

        it("a new or omitted path, the same method, or a stack without an auth mount runs as before", async () => {
            const runs = async (engine: FakeEngine, kubernetesAuth: Record<string, unknown>) => {
                const checkDeployed = checkDeployedAuthMount(kubernetesAuthSchema.parse(kubernetesAuth));
                await runOperation(engine, { operation: "up", checkDeployed });
                return engine.commands;
            };
            const allFrom = (s: Stage) => STAGES.slice(STAGES.indexOf(s)).flatMap((x) => [`preview:${x}`, `up:${x}`]);
            const k8sAtAks = () => deployedWith("workloads", "aks", "kubernetes");
            assert.deepEqual(await runs(k8sAtAks(), { method: "jwt", path: "aks-jwt" }), allFrom("workloads"));
            assert.deepEqual(await runs(k8sAtAks(), { method: "jwt" }), allFrom("workloads"));
            assert.deepEqual(await runs(deployedWith("workloads", "aks-jwt", "jwt"), { method: "kubernetes" }), allFrom("workloads"));
            assert.deepEqual(await runs(k8sAtAks(), { method: "kubernetes", path: "aks" }), allFrom("workloads"));
            assert.deepEqual(await runs(deployedWith("workloads", "aks", "jwt"), { method: "jwt", path: "aks" }), allFrom("workloads"));
            // No state at all: nothing to compare with, and the hook is not asked.
            const asked: unknown[] = [];
            const fresh = new FakeEngine("dev", { exists: false });
            await runOperation(fresh, { operation: "up", checkDeployed: async (d) => { asked.push(d); return new Error("asked"); } });
            assert.deepEqual([asked, fresh.commands], [[], allFrom("cluster")]);
            // Below vault-auth the stack holds no auth mount: its outputs are not even read.
            const early = new FakeEngine("dev", { deployed: "injector" });
            await runOperation(early, { operation: "preview", checkDeployed: checkDeployedAuthMount(kubernetesAuthSchema.parse({
                method: "jwt", path: "aks" })) });
            assert.deepEqual(early.calls.filter((c) => c.op === "outputs"), []);
        });
    });

    it("destroy --stage removes stages from the top down to it, each as a gated update, and keeps the rest", async () => {
        const engine = new FakeEngine("dev", { deployed: "workloads" });
        const events: RunEvent[] = [];
        await runOperation(engine, { operation: "destroy", stage: "vault-auth", onEvent: (e) => events.push(e) });
        // Removing stage k = applying the program cut after k-1.
        assert.deepEqual(engine.commands, ["preview:vault-auth", "up:vault-auth", "preview:injector", "up:injector"]);
        assert.equal(deployedStage(engine.state), "injector");
        assert.deepEqual(stageLog(events).filter((s) => s.endsWith(":done")), ["workloads:done", "vault-auth:done"]);

        const all = new FakeEngine("dev", { deployed: "vault-auth" });
        await runOperation(all, { operation: "destroy" });
        assert.deepEqual(all.commands, ["preview:injector", "up:injector", "preview:cluster", "up:cluster", "destroy:cluster"]);
        assert.equal(all.state.size, 0);
    });

    it("retries a locked stack with backoff, never cancelling the other update, then gives up clearly", async () => {
        const sleeps: number[] = [];
        const sleep = async (ms: number) => { sleeps.push(ms); };
        const engine = new FakeEngine("dev", { exists: false }).fault({ op: "up", stage: "cluster", kind: "conflict", times: 2 });
        await runOperation(engine, { operation: "up", stage: "cluster", sleep });
        assert.deepEqual(sleeps, [2000, 4000]);
        // After waiting out a lock, the stage is previewed again: the other update may have changed
        // the stack, and what is applied must be what was just previewed (and checked).
        assert.deepEqual(engine.commands, [
            "preview:cluster", "up:cluster", "preview:cluster", "up:cluster", "preview:cluster", "up:cluster",
        ]);

        sleeps.length = 0;
        const locked = new FakeEngine("dev", { exists: false }).fault({ op: "preview", kind: "conflict" });
        const err = await runOperation(locked, { operation: "up", sleep, retry: { attempts: 4, baseDelayMs: 1000, maxDelayMs: 3000 } })
            .then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof StackLockedError, String(err));
        assert.equal(err.attempts, 4);
        assert.equal(err.exitCode, EXIT.concurrentUpdate);
        assert.deepEqual(sleeps, [1000, 2000, 3000]);
        assert.match(err.message, /was not cancelled/);
    });

    it("never deletes a later stage that another update deployed while this run waited for the lock", async () => {
        const engine = new FakeEngine("dev", { exists: true, deployed: "cluster" });
        const plainUp = engine.up.bind(engine);
        let first = true;
        engine.up = async (call) => {
            if (first) {
                first = false;
                // Someone else's update holds the lock and deploys everything meanwhile.
                engine.calls.push({ op: "up", stage: call.stage });
                engine.state = new Set(FakeEngine.through("workloads"));
                throw new EngineConflict();
            }
            return plainUp(call);
        };
        const err = await runOperation(engine, { operation: "up", stage: "cluster", sleep: async () => undefined })
            .then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof UnsafeStageError, String(err));
        assert.equal(deployedStage([...engine.state]), "workloads", "nothing of the later stages was deleted");
        assert.deepEqual(engine.commands, ["preview:cluster", "up:cluster", "preview:cluster"], "no update after the re-check");
    });

    it("a missing stack is its own error for outputs, refresh and destroy (never created by them)", async () => {
        for (const operation of ["outputs", "refresh", "destroy"] as const) {
            const engine = new FakeEngine("prod", { exists: false });
            const err = await runOperation(engine, { operation }).then(() => undefined, (e: unknown) => e);
            assert.ok(err instanceof StackMissingError, `${operation}: ${String(err)}`);
            assert.equal(err.exitCode, EXIT.stackMissing);
            assert.match(err.message, /stack "prod" does not exist/);
            assert.deepEqual(engine.calls, [{ op: "open", create: false }]);
        }
    });

    it("aborting cancels the running update and runs no further stage", async () => {
        const controller = new AbortController();
        const engine = new FakeEngine("dev", { exists: false }).fault({ op: "up", stage: "injector", kind: "hang" });
        const events: RunEvent[] = [];
        const running = runOperation(engine, {
            operation: "up", signal: controller.signal,
            onEvent: (e) => {
                events.push(e);
                if (e.type === "stage" && e.stage === "injector" && e.status === "updating") setImmediate(() => controller.abort());
            },
        });
        const err = await running.then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof CancelledError, String(err));
        assert.equal(err.stage, "injector");
        assert.equal(err.exitCode, EXIT.cancelled);
        assert.deepEqual(engine.commands, ["preview:cluster", "up:cluster", "preview:injector", "up:injector"]);
    });

    it("attributes URNs to stages by their top-level component; unknown types count as the last stage", () => {
        assert.equal(stageOfUrn("urn:pulumi:dev::aks-vault::pulumi:pulumi:Stack::aks-vault-dev"), undefined);
        assert.equal(stageOfUrn("urn:pulumi:dev::aks-vault::pulumi:providers:azure-native::default_3_28_0"), undefined);
        assert.equal(stageOfUrn("urn:pulumi:dev::aks-vault::pulumi:providers:vault::vault"), "vault-auth");
        assert.equal(stageOfUrn("urn:pulumi:dev::aks-vault::aws:s3/bucket:Bucket::stray"), "workloads");
    });
});
