/**
 * The policy pack config reaching the preview gate is the platform team's file next to the pack,
 * never derived from the stack config under review: `allowWildcard` in a workload's own config
 * no longer exempts it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { platformPackConfig } from "../../src/automation/run";
import { runOperation } from "../../src/automation/runner";
import { platformConfig } from "../../policies/platformConfig";
import { FakeEngine } from "../support/fakeEngine";
import { ROOT } from "../support/harness";

describe("policy pack config from the platform team", () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), "pack-")); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("is none when the platform wrote none (the pack's strict defaults apply)", async () => {
        assert.equal(await platformPackConfig(dir, "dev"), undefined);
        assert.deepEqual(platformConfig(dir, "dev"), {});
    });

    it("is policies/platform-config.json, or the stack's own platform file when there is one", async () => {
        writeFileSync(
            path.join(dir, "platform-config.json"),
            JSON.stringify({ "vault-role-bound-service-accounts": { wildcardRoles: [] } }),
        );
        writeFileSync(
            path.join(dir, "platform-config.prod.json"),
            JSON.stringify({ "vault-role-bound-service-accounts": { wildcardRoles: ["legacy"] } }),
        );
        const dev = await platformPackConfig(dir, "dev");
        assert.ok(dev);
        assert.equal(dev.file, path.join(dir, "platform-config.json"));
        // The CLI pairs configs with packs by position: other packs get an empty config.
        assert.deepEqual(JSON.parse(readFileSync(dev.empty, "utf8")), {});
        dev.cleanup();
        assert.equal(existsSync(dev.empty), false, "the temporary file is removed after the run");
        assert.deepEqual(platformConfig(dir, "org/prod"), { "vault-role-bound-service-accounts": { wildcardRoles: ["legacy"] } });
    });

    it("never reads the stack config: allowWildcard in Pulumi.<stack>.yaml exempts nothing", async () => {
        writeFileSync(
            path.join(dir, "Pulumi.dev.yaml"),
            "config:\n  aks-vault:workloads:\n" +
                "    - {name: legacy, namespace: '*', serviceAccount: reader, allowWildcard: true}\n",
        );
        assert.equal(await platformPackConfig(dir, "dev"), undefined);
    });

    it("the repository's platform file exempts no role and allows only the default policy", () => {
        assert.deepEqual(platformConfig(path.join(ROOT, "policies"), "dev"), {
            "vault-role-bound-service-accounts": { allowGlobs: false, wildcardRoles: [] },
            "vault-role-allowed-policies": { allowedPolicies: ["default"] },
            "vault-kv-mount-wide-read": { exemptPolicies: [] },
        });
    });

    it("is passed to every preview and update of the run", async () => {
        const engine = new FakeEngine("dev", { exists: false });
        await runOperation(engine, { operation: "up", policyPacks: ["/p"], policyPackConfigs: ["/p/config.json"] });
        const gated = engine.calls.filter((c) => c.op === "preview" || c.op === "up");
        assert.ok(gated.length >= 8, "a preview and an up per stage");
        for (const c of gated) assert.deepEqual(c.policyPackConfigs, ["/p/config.json"], `${c.op}:${c.stage}`);
    });
});
