/**
 * Writes docs/configuration.md from the zod schema, and brings Pulumi.yaml's `stage` declaration
 * in step (`npm run generate:config-docs`). test/config/reference.test.ts fails when they differ.
 */
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { CONFIG_DOCS_PATH, PROJECT_FILE, pulumiYamlInStep, renderConfigDocs } from "./configReference";

const root = path.join(__dirname, "..");
writeFileSync(path.join(root, CONFIG_DOCS_PATH), renderConfigDocs());
console.log(`wrote ${CONFIG_DOCS_PATH}`);
const project = path.join(root, PROJECT_FILE);
const before = readFileSync(project, "utf8");
const after = pulumiYamlInStep(before);
if (after !== before) {
    writeFileSync(project, after);
    console.log(`updated the stage declaration in ${PROJECT_FILE}`);
}
