/**
 * The pack config is the platform team's, never the stack's: exemptions (wildcard roles, extra
 * allowed policies, longer TTLs) are read from `policies/platform-config.json`, or from
 * `policies/platform-config.<stack>.json` when that file exists, both next to the pack and owned by
 * the platform team (CODEOWNERS). Nothing in `Pulumi.<stack>.yaml`, the config under review, can
 * switch a guardrail off: before this, `allowWildcard` in a workload's own config exempted that
 * very workload.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";

type PackConfig = Record<string, unknown>;

/** The platform's pack config file for `stack` (the per-stack file if present), or undefined. */
export function platformConfigFile(packDir: string, stack: string): string | undefined {
    // `org/dev` (a Pulumi Cloud stack reference) is the stack `dev`.
    const name = stack.split("/").pop() ?? stack;
    const candidates = /^[A-Za-z0-9_.-]+$/.test(name) ? [path.join(packDir, `platform-config.${name}.json`)] : [];
    candidates.push(path.join(packDir, "platform-config.json"));
    return candidates.find((f) => existsSync(f));
}

/** The platform's pack config for `stack`; `{}` (the pack's strict defaults) when there is none. */
export function platformConfig(packDir: string, stack: string): PackConfig {
    const file = platformConfigFile(packDir, stack);
    return file === undefined ? {} : (JSON.parse(readFileSync(file, "utf8")) as PackConfig);
}
