/**
 * The stack config as a whole, beyond the settings object: every key under the project's
 * namespace must be one the program reads (a misspelled `aks-vault:workload` would otherwise be
 * ignored, and the stack deployed without workloads), and keys holding credentials must be
 * secure (`pulumi config set --secret`). Runs where config is read: `loadFromConfig` (the Pulumi
 * runtime) and `readStackFile` (the offline plan and the CLI). Pure.
 */
import { DEFAULT_KUBECONFIG_KEY, Settings, VAULT_TOKEN_KEY, settingsSchema } from "./schema";
import { STAGE_KEY } from "../stages";
import type { SettingsProblem } from "./problem";
import { didYouMean } from "./wording";
import { list, record } from "./raw";

/** The Pulumi project name (Pulumi.yaml `name`): the namespace of every config key. */
export const PROJECT_NAME = "aks-vault";

/** The structured keys a stack config may hold (all in the project namespace): the schema's own. */
export const SETTINGS_KEYS = Object.keys(settingsSchema.shape) as ReadonlyArray<keyof Settings>;

/** The secret config key holding this program's Vault token. */

/** One key of the stack config in the project namespace (without `aks-vault:`), and whether its value is secure. */
export interface StackConfigKey {
    key: string;
    secret: boolean;
}

/** A secret config key some setting refers to, with where. */
interface Reference {
    key: string;
    at: string;
}


/** The secret config keys the raw settings refer to (seed values, the service principal's secret). */
function secretConfigReferences(raw: Record<string, unknown>): Reference[] {
    const refs: Reference[] = [];
    const cluster = record(raw.cluster);
    const spn = record(cluster.credentials).clientSecretConfig;
    if (typeof spn === "string") refs.push({ key: spn, at: "cluster.credentials.clientSecretConfig" });
    if (cluster.mode === "existing") {
        // The schema's default, applied here too: the raw settings have not been parsed yet.
        const kubeconfig = cluster.kubeconfigConfig ?? DEFAULT_KUBECONFIG_KEY;
        if (typeof kubeconfig === "string") refs.push({ key: kubeconfig, at: "cluster.kubeconfigConfig" });
    }
    list(raw.workloads).forEach((w, i) => {
        list(record(w).seed).forEach((s, j) => {
            for (const [k, v] of Object.entries(record(record(s).values))) {
                const key = record(v).secretConfig;
                if (typeof key === "string") refs.push({ key, at: `workloads[${i}].seed[${j}].values.${k}.secretConfig` });
            }
        });
    });
    return refs;
}

const CREDENTIAL_NAME = /token|secret|password|passwd|credential|apikey|api-key|private/i;

/**
 * Unknown keys (with a "did you mean"), credentials in plain config, references to secret keys
 * the stack does not hold, and literal seed values in a stack file.
 */
export function stackConfigProblems(keys: readonly StackConfigKey[], raw: Record<string, unknown>): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const full = (k: string) => `${PROJECT_NAME}:${k}`;
    const refs = secretConfigReferences(raw);
    const referenced = new Set(refs.map((r) => r.key));
    const known = [...SETTINGS_KEYS, VAULT_TOKEN_KEY, STAGE_KEY];
    const byName = new Map(keys.map((k) => [k.key, k]));

    for (const { key, secret } of keys) {
        if (known.includes(key) || referenced.has(key)) continue;
        const guess = didYouMean(key, known);
        const credential = !secret && CREDENTIAL_NAME.test(key);
        const hint =
            guess === undefined ? `one of ${known.join(", ")}, or a secret key a setting refers to` : `did you mean \`${full(guess)}\`?`;
        const rotate = credential ? ", and rotate the credential: it is in the stack file in clear" : "";
        problems.push({
            key: full(key),
            found: credential ? "an unknown key holding a plain value (not shown)" : "an unknown key",
            expected: `${hint} (the program ignores anything else; remove it with \`pulumi config rm ${key}\`${rotate})`,
        });
    }

    const token = byName.get(VAULT_TOKEN_KEY);
    if (token !== undefined && !token.secret) {
        problems.push({
            key: full(VAULT_TOKEN_KEY),
            found: "a plain value (not shown)",
            expected:
                `a secret: \`pulumi config set --secret ${VAULT_TOKEN_KEY} <token>\` ` +
                `(the plain value is in the stack file in clear: rotate the token)`,
        });
    }
    const reported = new Set<string>();
    for (const ref of refs) {
        const k = byName.get(ref.key);
        if (k === undefined) {
            problems.push({
                key: ref.at,
                found: JSON.stringify(ref.key),
                expected: `a key the stack config holds: \`pulumi config set --secret ${ref.key} <value>\``,
            });
        } else if (!k.secret && !reported.has(ref.key)) {
            reported.add(ref.key);
            problems.push({
                key: full(ref.key),
                found: `a plain value (not shown), used by ${ref.at}`,
                expected:
                    `a secret: \`pulumi config set --secret ${ref.key} <value>\` ` +
                    `(the plain value is in the stack file in clear: rotate it)`,
            });
        }
    }
    list(raw.workloads).forEach((w, i) => {
        list(record(w).seed).forEach((s, j) => {
            for (const [k, v] of Object.entries(record(record(s).values))) {
                if ("value" in record(v)) {
                    problems.push({
                        key: `workloads[${i}].seed[${j}].values.${k}`,
                        found: "a literal value in stack config (not shown)",
                        expected:
                            `{secretConfig: KEY} with \`pulumi config set --secret KEY <value>\`, or {random: {}}: ` +
                            `a literal in the stack file is a credential in clear ` +
                            `(literals are for portal callers passing settings in-process)`,
                    });
                }
            }
        });
    });
    return problems;
}
