/**
 * The stack outputs are defined once (src/program/outputs.ts): what the program exports is what
 * the doctor's definition describes, key for key, so neither can drift from the other.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { stackOutputsSchema } from "../../src/program/outputs";
import { expectationsFromOutputs } from "../../src/doctor/outputs";
import { runLab } from "../support/run";
import { stateOf } from "../support/harness";

/** Every Output inside a value, resolved. */
async function resolve(v: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(v)) return resolve((await stateOf(v as pulumi.Output<unknown>)).value);
    if (Array.isArray(v)) return Promise.all(v.map(resolve));
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(await Promise.all(Object.entries(v).map(async ([k, x]) => [k, await resolve(x)])));
    }
    return v;
}

describe("stack outputs (one definition for the program and the doctor)", () => {
    for (const [what, mutate] of [
        ["the lab stack", () => undefined],
        ["a JWT stack", (raw: Record<string, any>) => { raw.kubernetesAuth = { method: "jwt" }; }],
    ] as const) {
        it(`${what}: every output the program exports is in the definition, with its type`, async () => {
            const { outputs } = await runLab(mutate);
            const resolved = (await resolve(outputs)) as Record<string, unknown>;
            const defined = stackOutputsSchema.strict().safeParse(resolved);
            assert.ok(defined.success, JSON.stringify(defined.error?.issues));
            assert.ok(Object.keys(resolved).length >= 10, Object.keys(resolved).join(", "));
            // And the doctor reads them as they are.
            const input = expectationsFromOutputs(resolved);
            assert.equal(input.expectations.injectorNamespace, resolved.injectorNamespace);
            assert.deepEqual(input.expectations.workloads.map((w) => w.name), Object.keys(resolved.workloads as object));
        });
    }
});
