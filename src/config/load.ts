/**
 * The edge between `pulumi.Config` and the typed settings. Nothing else reads config.
 */
import * as pulumi from "@pulumi/pulumi";
import { Settings } from "./schema";
import { parseSettings } from "./validate";
import { SETTINGS_KEYS, StackConfigKey, stackConfigProblems } from "./configKeys";
import { VAULT_TOKEN_KEY } from "./schema";

// Re-exported: they live with the stack-config rules, which the CLI loads without the Pulumi SDK.

/** Secret inputs that never live in the settings object. */
export interface SecretInputs {
    /** Vault token; when absent the Vault provider reads `VAULT_TOKEN` from its environment. */
    vaultToken?: pulumi.Input<string>;
    /** Resolves `{ secretConfig: KEY }` seed values. */
    secretConfig: (key: string) => pulumi.Input<string>;
}

function rawSettingsFromConfig(config: pulumi.Config): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const key of SETTINGS_KEYS) {
        const value = config.getObject<unknown>(key);
        if (value !== undefined) raw[key] = value;
    }
    return raw;
}

// `isConfigSecret` is marked internal in the SDK's typings; it reads PULUMI_CONFIG_SECRET_KEYS,
// the list the engine hands the program (@pulumi/pulumi runtime/config.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config") as {
    allConfig(): Record<string, string>;
    isConfigSecret(k: string): boolean;
};

/** The stack config's keys in the project namespace, and whether each is secure. */
function stackConfigKeys(namespace: string): StackConfigKey[] {
    return Object.keys(runtimeConfig.allConfig())
        .filter((k) => k.startsWith(`${namespace}:`))
        .map((k) => ({ key: k.slice(namespace.length + 1), secret: runtimeConfig.isConfigSecret(k) }));
}

/** Reads the stack config once: typed settings plus the secret inputs. Throws `SettingsError`. */
export function loadFromConfig(config: pulumi.Config = new pulumi.Config()): { settings: Settings; secrets: SecretInputs } {
    const raw = rawSettingsFromConfig(config);
    const settings = parseSettings(raw, stackConfigProblems(stackConfigKeys(config.name), raw));
    return {
        settings,
        secrets: {
            // Probe without reading: `config.get` on a secret key would log a warning.
            vaultToken: pulumi.runtime.getConfig(`${config.name}:${VAULT_TOKEN_KEY}`) !== undefined
                ? config.requireSecret(VAULT_TOKEN_KEY)
                : undefined,
            secretConfig: (key: string) => config.requireSecret(key),
        },
    };
}
