import * as path from "path";

/** The folder with Pulumi.yaml, package.json and the stack files. */
export const PROJECT_DIR = path.resolve(__dirname, "..", "..");
