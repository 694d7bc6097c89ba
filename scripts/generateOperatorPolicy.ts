/**
 * The operator's Vault policy (scripts/operatorPolicy.ts) for a stack file. With no argument it
 * writes deploy/vault-operator-policy.hcl for the dev stack (`npm run generate:operator-policy`;
 * test/program/operatorPolicy.test.ts fails when the shipped file differs); with a stack name it
 * prints that stack's policy (`npm run -s generate:operator-policy -- prod`).
 */
import { writeFileSync } from "fs";
import * as path from "path";
import { PROJECT_NAME } from "../src/config/configKeys";
import { readStackFile } from "../src/plan/stackFile";
import { operatorPolicyParams, renderOperatorPolicyFile } from "./operatorPolicy";

const SHIPPED = "deploy/vault-operator-policy.hcl";
const root = path.join(__dirname, "..");
const stack = process.argv[2] ?? "dev";
const text = renderOperatorPolicyFile(
    operatorPolicyParams(readStackFile(root, stack).settings, PROJECT_NAME, stack),
    `the ${stack} stack (Pulumi.${stack}.yaml)`,
);
if (process.argv[2] === undefined) {
    writeFileSync(path.join(root, SHIPPED), text);
    console.log(`wrote ${SHIPPED}`);
} else {
    process.stdout.write(text);
}
