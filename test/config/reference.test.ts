/**
 * One source for each config fact: the zod schema. docs/configuration.md and Pulumi.yaml's `stage`
 * declaration are generated from it; these tests fail when they drift, and name the command.
 */
import assert from "node:assert/strict";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import {
    CONFIG_DOCS_COMMAND, CONFIG_DOCS_PATH, PROJECT_FILE, declaredStage, renderConfigDocs, settingsKeys,
} from "../../scripts/configReference";
import { parseSettings } from "../../src/config/validate";
import { PROJECT_NAME } from "../../src/config/configKeys";
import { STAGE_KEY, STAGES } from "../../src/stages";
import { ROOT } from "../support/harness";

const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");

describe("config reference (generated from the schema)", () => {
    it(`${CONFIG_DOCS_PATH} is what the schema says`, () => {
        const committed = read(CONFIG_DOCS_PATH);
        if (committed !== renderConfigDocs()) {
            assert.fail(`${CONFIG_DOCS_PATH} is out of date with src/config/schema.ts: ` +
                `run \`${CONFIG_DOCS_COMMAND}\` and commit the result`);
        }
    });

    it(`${PROJECT_FILE} declares the stage key as the program reads it, and points at ${CONFIG_DOCS_PATH}`, () => {
        const text = read(PROJECT_FILE);
        const project = parse(text) as { name: string; config: Record<string, unknown> };
        assert.equal(project.name, PROJECT_NAME, "the config namespace is the project name");
        assert.deepEqual(project.config[`${PROJECT_NAME}:${STAGE_KEY}`], declaredStage(), `run \`${CONFIG_DOCS_COMMAND}\``);
        assert.equal(declaredStage().default, STAGES[STAGES.length - 1]);
        assert.ok(text.includes(CONFIG_DOCS_PATH));
    });

    it("describes every key", () => {
        const keys = settingsKeys();
        assert.ok(keys.length > 80, `only ${keys.length} keys found: the walk missed part of the schema`);
        const bare = keys.filter((k) => k.description.replace(/\*[^*]*\*/g, "").trim() === "");
        assert.deepEqual(bare.map((k) => k.path), [], "keys without a description (add .describe(...) in src/config/schema.ts)");
        for (const k of [
            "cluster.mode", "cluster.location", "cluster.credentials.login", "vault.address", "injector.failurePolicy",
            "workloads[].secrets[].file", "workloads[].injection.mode",
        ]) {
            assert.ok(keys.some((x) => x.path === k), `${k} is documented`);
        }
    });

    it("documents the defaults the program applies", () => {
        // A stack with every optional section and one of each list item left to its defaults.
        const settings = parseSettings({
            cluster: {
                mode: "create", name: "c1", resourceGroupName: "rg1", location: "westeurope", userPools: [{ name: "user" }], entraId: {},
            },
            vault: { address: "https://vault.example.com:8200" },
            workloads: [{
                name: "w", namespace: "w", serviceAccount: "w", deployment: {},
                secrets: [{ file: "f", path: "p", key: "k" }],
                seed: [{ path: "p", values: { k: { random: {} } } }],
            }],
        });
        const at = (p: string): { found: boolean; value?: unknown } => {
            let cur: unknown = settings;
            for (const part of p.replace(/\[\]/g, ".0").replace(/<KEY>/g, "k").split(".")) {
                if (cur === null || typeof cur !== "object" || !(part in cur)) return { found: false };
                cur = (cur as Record<string, unknown>)[part];
            }
            return { found: true, value: cur };
        };
        let checked = 0;
        for (const key of settingsKeys()) {
            const d = key.default;
            // Object defaults are prefaults: the schema fills their fields, checked one by one here.
            if (!("default" in key) || (typeof d === "object" && d !== null && !Array.isArray(d))) continue;
            const got = at(key.path);
            if (!got.found) continue; // a key of the other variant (cluster adopt, kubelogin credentials)
            if (Array.isArray(d) && d.length === 0 && Array.isArray(got.value) && got.value.length > 0) continue; // a list this stack sets
            assert.deepEqual(got.value, d, `${key.path}: docs say ${JSON.stringify(d)}, the program applies ${JSON.stringify(got.value)}`);
            checked++;
        }
        assert.ok(checked >= 40, `only ${checked} defaults checked`);
    });
});
