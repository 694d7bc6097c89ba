/**
 * The pure planners, without an engine: which stages run, in which order, what each destroy step
 * updates the stack to, and which requests are refused before anything runs.
 */
import assert from "node:assert/strict";
import { DestroyStep, PlannedStage, planDestroy, planUp } from "../../src/automation/planner";
import { UnsafeStageError } from "../../src/errors";
import { Stage } from "../../src/stages";

const skippedReasons = (stages: PlannedStage[]) => stages.filter((p) => !p.run).map((p) => `${p.stage}: ${p.reason}`);

describe("automation planner: planUp", () => {
    const cases: Array<{
        name: string;
        deployed?: Stage;
        op: "up" | "preview";
        stage?: Stage;
        single?: boolean;
        steps: Stage[];
        skipped: string[];
    }> = [
        { name: "new stack: every stage in order", op: "up", steps: ["cluster", "injector", "vault-auth", "workloads"], skipped: [] },
        {
            name: "new stack up to --stage injector", op: "up", stage: "injector", steps: ["cluster", "injector"],
            skipped: ["vault-auth: after --stage injector", "workloads: after --stage injector"],
        },
        {
            name: "resume from the deployed stage (its graph holds the earlier ones)",
            deployed: "vault-auth",
            op: "up",
            steps: ["vault-auth", "workloads"],
            skipped: [
                "cluster: already applied; part of every later stage's graph",
                "injector: already applied; part of every later stage's graph",
            ],
        },
        { name: "deployed stage requested again", deployed: "injector", op: "up", stage: "injector", steps: ["injector"], skipped: [
            "cluster: already applied; part of every later stage's graph",
            "vault-auth: after --stage injector",
            "workloads: after --stage injector",
        ] },
        {
            name: "--single-update: one update of the target's graph", op: "up", single: true, steps: ["workloads"],
            skipped: ["cluster: included in workloads", "injector: included in workloads", "vault-auth: included in workloads"],
        },
        {
            name: "preview is always one preview of the target's graph",
            deployed: "cluster",
            op: "preview",
            stage: "vault-auth",
            steps: ["vault-auth"],
            skipped: ["cluster: included in vault-auth", "injector: included in vault-auth", "workloads: after --stage vault-auth"],
        },
    ];
    for (const c of cases) {
        it(c.name, () => {
            const plan = planUp(c.deployed, { operation: c.op, stage: c.stage, singleUpdate: c.single });
            assert.ok(!plan.refused, "not refused");
            assert.deepEqual(plan.steps, c.steps);
            assert.deepEqual(plan.stages.filter((p) => p.run).map((p) => p.stage), c.steps);
            assert.deepEqual(skippedReasons(plan.stages), c.skipped);
        });
    }

    for (const op of ["up", "preview"] as const) {
        it(`refuses ${op} cut below the deployed stage (it would delete the later stages)`, () => {
            const plan = planUp("vault-auth", { operation: op, stage: "injector" });
            assert.ok(plan.refused instanceof UnsafeStageError);
            assert.equal(plan.refused.requested, "injector");
            assert.equal(plan.refused.deployed, "vault-auth");
            assert.match(plan.refused.message, new RegExp(`^refusing ${op} --stage injector: .*stage vault-auth`));
        });
    }
});

describe("automation planner: planDestroy", () => {
    const cases: Array<{ name: string; deployed?: Stage; stage?: Stage; single?: boolean; steps: DestroyStep[]; skipped: string[] }> = [
        {
            name: "everything, top-down; each stage removed by updating to the stage below, the last by a destroy", deployed: "workloads",
            steps: [
                { stage: "workloads", cut: "vault-auth" },
                { stage: "vault-auth", cut: "injector" },
                { stage: "injector", cut: "cluster" },
                { stage: "cluster" },
            ],
            skipped: [],
        },
        {
            name: "top-down to --stage vault-auth; lower stages kept", deployed: "workloads", stage: "vault-auth",
            steps: [{ stage: "workloads", cut: "vault-auth" }, { stage: "vault-auth", cut: "injector" }],
            skipped: ["injector: below --stage vault-auth; kept", "cluster: below --stage vault-auth; kept"],
        },
        {
            name: "starts at the highest deployed stage",
            deployed: "injector",
            stage: "injector",
            steps: [{ stage: "injector", cut: "cluster" }],
            skipped: ["workloads: nothing deployed", "vault-auth: nothing deployed", "cluster: below --stage injector; kept"],
        },
        {
            name: "--single-update: one update to the stage below the lowest removed",
            deployed: "workloads",
            stage: "injector",
            single: true,
            steps: [{ stage: "injector", cut: "cluster" }],
            skipped: ["cluster: below --stage injector; kept"],
        },
        {
            name: "--single-update of everything is one destroy",
            deployed: "vault-auth",
            single: true,
            steps: [{ stage: "cluster" }],
            skipped: ["workloads: nothing deployed"],
        },
        {
            name: "nothing deployed: nothing to do", steps: [],
            skipped: [
                "workloads: nothing deployed",
                "vault-auth: nothing deployed",
                "injector: nothing deployed",
                "cluster: nothing deployed",
            ],
        },
    ];
    for (const c of cases) {
        it(c.name, () => {
            const plan = planDestroy(c.deployed, { stage: c.stage, singleUpdate: c.single });
            assert.deepEqual(plan.steps, c.steps);
            assert.deepEqual(plan.stages.map((p) => p.stage), ["workloads", "vault-auth", "injector", "cluster"]);
            assert.deepEqual(skippedReasons(plan.stages), c.skipped);
        });
    }
});
