/**
 * The Pulumi program entry (`pulumi up`/`pulumi preview`): read the stack config once, build the
 * graph, export the outputs. All logic lives in `src/program/program.ts`.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadFromConfig } from "./src/config/load";
import { SettingsError } from "./src/config/validate";
import { buildProgram } from "./src/program/program";
import { configuredStage, STAGE_KEY } from "./src/stages";

function main() {
    const config = new pulumi.Config();
    let loaded: ReturnType<typeof loadFromConfig>;
    let stage: ReturnType<typeof configuredStage>;
    // A config problem is the user's to fix: print it without a stack trace.
    try {
        loaded = loadFromConfig(config);
    } catch (err) {
        if (err instanceof SettingsError) throw new pulumi.RunError(err.message);
        throw err;
    }
    try {
        stage = configuredStage((key) => config.get(key));
    } catch (err) {
        throw new pulumi.RunError(`${config.name}:${STAGE_KEY}: ${(err as Error).message}`);
    }
    return buildProgram(loaded.settings, loaded.secrets, { stage });
}

export = main();
