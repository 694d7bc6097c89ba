/**
 * Writes policies/chartKeys.generated.json from ../shared/reference/vault-helm/<version>/values.yaml.
 * The policy pack embeds the result because it runs in CI and on operator machines, where the
 * reference checkout is not available. `test/policies/chart.test.ts` fails when it is stale.
 *
 *   npm run generate:chart-keys
 */
import { existsSync, writeFileSync } from "fs";
import * as path from "path";
import { chartKeysFromReference, renderChartKeys } from "./chartKeyTree";

const root = path.resolve(__dirname, "..");
// ../shared/reference when it is checked out next to the project, else the snapshot the tests
// also fall back to (test/reference, refreshed from ../shared by hand).
const shared = path.resolve(root, "..", "shared", "reference", "vault-helm");
const reference = existsSync(shared) ? shared : path.join(root, "test", "reference", "vault-helm");
const target = path.join(root, "policies", "chartKeys.generated.json");
const file = chartKeysFromReference(reference);
writeFileSync(target, renderChartKeys(file));
console.log(
    `wrote ${path.relative(root, target)} from ${path.relative(root, reference)}: ` +
        `chart versions ${Object.keys(file.versions).join(", ")}`,
);
