/**
 * Prints the policy pack config the platform team set for a stack (policies/platformConfig.ts):
 * policies/platform-config.<stack>.json if it exists, else policies/platform-config.json. The
 * stack's own config file is not read: exemptions never come from the config under review.
 *
 *   npm run -s policy:config -- dev > policy-config.json
 *   pulumi preview --policy-pack policies --policy-pack-config policy-config.json
 */
import * as path from "path";
import { platformConfig } from "../policies/platformConfig";

const stack = process.argv[2];
if (stack === undefined || stack === "") {
    console.error("usage: npm run -s policy:config -- <stack>");
    process.exit(2);
}
process.stdout.write(`${JSON.stringify(platformConfig(path.resolve(__dirname, "..", "policies"), stack), null, 4)}\n`);
