import { existsSync } from "fs";
import * as path from "path";

/**
 * The folder with Pulumi.yaml, package.json and the stack files: two levels up from this file in
 * the sources (src/automation/), three from the compiled copy (dist/src/automation/).
 */
export const PROJECT_DIR = [path.resolve(__dirname, "..", ".."), path.resolve(__dirname, "..", "..", "..")]
    .find((dir) => existsSync(path.join(dir, "Pulumi.yaml"))) ?? path.resolve(__dirname, "..", "..");
