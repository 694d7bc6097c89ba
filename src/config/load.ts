/**
 * The edge between `pulumi.Config` and the typed settings. Nothing else reads config.
 */
import * as pulumi from "@pulumi/pulumi";
import { Settings, settingsSchema } from "./schema";
import { parseSettings } from "./validate";

/** The Pulumi project name (Pulumi.yaml `name`): the namespace of every config key. */
export const PROJECT_NAME = "aks-vault";

/** The structured keys a stack config may hold (all in the project namespace): the schema's own. */
export const SETTINGS_KEYS = Object.keys(settingsSchema.shape) as ReadonlyArray<keyof Settings>;

/** The secret config key holding this program's Vault token. */
export const VAULT_TOKEN_KEY = "vaultToken";

/** Secret inputs that never live in the settings object. */
export interface SecretInputs {
    /** Vault token; when absent the Vault provider reads `VAULT_TOKEN` from its environment. */
    vaultToken?: pulumi.Input<string>;
    /** Resolves `{ secretConfig: KEY }` seed values. */
    secretConfig: (key: string) => pulumi.Input<string>;
}

export function rawSettingsFromConfig(config: pulumi.Config): Record<string, unknown> {
    const raw: Record<string, unknown> = {};
    for (const key of SETTINGS_KEYS) {
        const value = config.getObject<unknown>(key);
        if (value !== undefined) raw[key] = value;
    }
    return raw;
}

/** Reads the stack config once: typed settings plus the secret inputs. Throws `SettingsError`. */
export function loadFromConfig(config: pulumi.Config = new pulumi.Config()): { settings: Settings; secrets: SecretInputs } {
    const settings = parseSettings(rawSettingsFromConfig(config));
    return {
        settings,
        secrets: {
            // Probe without reading: `config.get` on a secret key would log a warning.
            vaultToken: pulumi.runtime.getConfig(`${config.name}:${VAULT_TOKEN_KEY}`) !== undefined ? config.requireSecret(VAULT_TOKEN_KEY) : undefined,
            secretConfig: (key: string) => config.requireSecret(key),
        },
    };
}
