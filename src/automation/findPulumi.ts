/**
 * Where `pulumi` is, without loading the Automation API (the CLI asks before it needs the engine).
 */
import { accessSync, constants } from "fs";
import * as path from "path";

/** Finds an executable `pulumi` on PATH, as `execa` would. */
export function findPulumi(env: NodeJS.ProcessEnv = process.env): string | undefined {
    for (const dir of (env.PATH ?? "").split(path.delimiter)) {
        if (dir === "") continue;
        const candidate = path.join(dir, process.platform === "win32" ? "pulumi.exe" : "pulumi");
        try {
            accessSync(candidate, constants.X_OK);
            return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}
