/**
 * The Pulumi program entry (`pulumi up`/`pulumi preview`): read the stack config once, build the
 * graph, export the outputs. All logic lives in `src/program/program.ts`.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadFromConfig } from "./src/config/load";
import { SettingsError } from "./src/config/validate";
import { buildProgram, Stage, STAGES } from "./src/program/program";

function main() {
    const config = new pulumi.Config();
    try {
        const { settings, secrets } = loadFromConfig(config);
        const stage = config.get<Stage>("stage", { allowedValues: [...STAGES] });
        return buildProgram(settings, secrets, { stage });
    } catch (err) {
        // A config problem is the user's to fix: print it without a stack trace.
        if (err instanceof SettingsError) throw new pulumi.RunError(err.message);
        throw err;
    }
}

export = main();
