/**
 * Prints the policy pack config implied by a stack's config file (see policies/stackPackConfig.ts):
 *
 *   npm run -s policy:config -- dev > policy-config.json
 *   pulumi preview --policy-pack policies --policy-pack-config policy-config.json
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { packConfigFromStack } from "../policies/stackPackConfig";

// `org/dev` (a Pulumi Cloud stack reference) reads Pulumi.dev.yaml.
const stack = process.argv[2]?.split("/").pop();
if (stack === undefined || !/^[A-Za-z0-9_.-]+$/.test(stack)) {
    console.error("usage: npm run -s policy:config -- <stack>");
    process.exit(2);
}
const file = path.resolve(__dirname, "..", `Pulumi.${stack}.yaml`);
// No stack file (config kept elsewhere): no exemptions, the strict default.
if (!existsSync(file)) console.error(`no ${path.basename(file)}: no exemptions`);
const doc = existsSync(file) ? (parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null) : null;
process.stdout.write(`${JSON.stringify(packConfigFromStack(doc?.config ?? {}), null, 4)}\n`);
