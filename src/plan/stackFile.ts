/**
 * Reads a stack's settings from `Pulumi.<stack>.yaml` without the Pulumi CLI (for the offline
 * plan and for failing fast before a real run). Secret keys (`secure:` values) cannot be
 * decrypted offline; the plan only needs to know they are there.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT_NAME, SETTINGS_KEYS } from "../config/configKeys";
import { ClassifiedError, EXIT } from "../exitCodes";
import { parseSettings } from "../config/validate";
import { stackConfigProblems } from "../config/configKeys";
import { Settings } from "../config/schema";
import { STAGE_KEY, Stage, configuredStage } from "../stages";

class StackFileError extends ClassifiedError {
    /** The CLI's exit code for it: invalid settings. */
    readonly exitCode = EXIT.settings;
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

interface StackFile {
    file: string;
    settings: Settings;
    /** `stage` from the file, if set. */
    stage?: Stage;
    /** Keys holding `secure:` values (names only). */
    secretKeys: string[];
}

export function stackFilePath(projectDir: string, stack: string): string {
    return path.join(projectDir, `Pulumi.${stack}.yaml`);
}

/** Throws `StackFileError` (no such file, not YAML) or `SettingsError` (names every bad key). */
export function readStackFile(projectDir: string, stack: string): StackFile {
    const file = stackFilePath(projectDir, stack);
    if (!existsSync(file)) {
        throw new StackFileError(
            `no stack config ${path.basename(file)} in ${projectDir} (stacks are Pulumi.<stack>.yaml files; pass --stack)`,
        );
    }
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = parse(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    } catch (err) {
        throw new StackFileError(`${path.basename(file)} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    const config = doc?.config ?? {};
    const raw: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    const own: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(config)) {
        const [ns, key] = fullKey.includes(":") ? fullKey.split(":", 2) : [PROJECT_NAME, fullKey];
        if (ns !== PROJECT_NAME) continue;
        if (typeof value === "object" && value !== null && "secure" in value) {
            secretKeys.push(key);
            continue;
        }
        own[key] = value;
        if ((SETTINGS_KEYS as readonly string[]).includes(key)) raw[key] = value;
    }
    let stage: Stage | undefined;
    try {
        stage = configuredStage((key) => own[key]);
    } catch (err) {
        throw new StackFileError(`${PROJECT_NAME}:${STAGE_KEY} in ${path.basename(file)}: ${(err as Error).message}`);
    }
    const keys = [...Object.keys(own).map((key) => ({ key, secret: false })), ...secretKeys.map((key) => ({ key, secret: true }))];
    return { file, settings: parseSettings(raw, stackConfigProblems(keys, raw)), stage, secretKeys };
}
