import { existsSync } from "fs";
import * as path from "path";

/**
 * The folder with Pulumi.yaml, package.json and the stack files: one level up from this file in
 * the sources (src/), two from the compiled copy (dist/src/). Used by the library, the offline plan
 * and the CLI, so it sits below all three.
 */
export const PROJECT_DIR = [path.resolve(__dirname, ".."), path.resolve(__dirname, "..", "..")]
    .find((dir) => existsSync(path.join(dir, "Pulumi.yaml"))) ?? path.resolve(__dirname, "..");
