/**
 * The policy pack config a stack's settings imply reaches the preview gate: an exemption the
 * stack declares (`allowWildcard`) must not fail the gate, and nothing else is relaxed.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "fs";
import { derivedPackConfig } from "../../src/automation";
import { runOperation } from "../../src/automation/runner";
import { parseSettings } from "../../src/config/validate";
import { FakeEngine } from "../support/fakeEngine";
import { stackConfig } from "../support/harness";

const dev = () => JSON.parse(JSON.stringify(stackConfig())) as Record<string, any>;

describe("policy pack config from the settings", () => {
    it("is not needed when the stack exempts nothing (the pack's strict defaults apply)", async () => {
        assert.equal(await derivedPackConfig(parseSettings(stackConfig())), undefined);
    });

    it("turns allowWildcard workloads into wildcardRoles, in a file the CLI gets with --policy-pack-config", async () => {
        const raw = dev();
        raw.workloads.push({ name: "legacy", namespace: "*", serviceAccount: "reader", allowWildcard: true, createNamespace: false });
        const derived = await derivedPackConfig(parseSettings(raw));
        assert.ok(derived);
        assert.deepEqual(derived.config, { "vault-role-bound-service-accounts": { wildcardRoles: ["legacy"] } });
        assert.deepEqual(JSON.parse(readFileSync(derived.file, "utf8")), derived.config);
        // The CLI pairs configs with packs by position: other packs get an empty config.
        assert.deepEqual(JSON.parse(readFileSync(derived.empty, "utf8")), {});
        derived.cleanup();
        assert.equal(existsSync(derived.file), false, "the temporary file is removed after the run");
    });

    it("is passed to every preview and update of the run", async () => {
        const engine = new FakeEngine("dev", { exists: false });
        await runOperation(engine, { operation: "up", policyPacks: ["/p"], policyPackConfigs: ["/p/config.json"] });
        const gated = engine.calls.filter((c) => c.op === "preview" || c.op === "up");
        assert.ok(gated.length >= 8, "a preview and an up per stage");
        for (const c of gated) assert.deepEqual(c.policyPackConfigs, ["/p/config.json"], `${c.op}:${c.stage}`);
    });
});
