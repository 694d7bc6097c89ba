/**
 * Loads the policy pack the way `pulumi preview --policy-pack policies` does, without a Pulumi CLI:
 * runs `@pulumi/pulumi/cmd/run-policy-pack` in `policies/` (the pack's own tsconfig.json and
 * package.json, whose entry runs dist/policies when current, else the TypeScript type-checked by
 * ts-node) and waits for the analyzer to print its gRPC port. Proves the pack resolves its
 * dependencies from the project's node_modules and assembles: 1.6 CPU s from dist/, 8.4 s
 * type-checking the TypeScript. `.ci/run` runs it after the tests.
 *
 *   npm run policy:smoke
 */
import { spawn } from "child_process";
import * as path from "path";

const root = path.resolve(__dirname, "..");
const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [path.join(root, "policies")] });
// The engine address is unused until the engine calls the analyzer; 127.0.0.1:1 is never dialled.
const child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], {
    cwd: path.join(root, "policies"),
    stdio: ["ignore", "pipe", "pipe"],
});

let stdout = "";
let stderr = "";
const timer = setTimeout(() => finish(1, "timed out after 180 s waiting for the analyzer's port"), 180_000);

function finish(code: number, message: string): void {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill("SIGTERM");
    (code === 0 ? console.log : console.error)(message);
    process.exitCode = code;
}

child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    const port = /^(\d+)\s*$/m.exec(stdout)?.[1];
    if (port !== undefined) finish(0, `policy pack loaded: analyzer listening on port ${port}`);
});
child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
child.on("exit", (code) => {
    if (process.exitCode === undefined) finish(1, `policy pack exited (${String(code)}) before serving:\n${stderr}${stdout}`);
});
