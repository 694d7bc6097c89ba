/**
 * The policy pack config a stack's own config implies. Policies cannot read stack config, so what
 * the stack explicitly allows reaches them as pack config: today, the roles of workloads with
 * `allowWildcard: true` become `wildcardRoles` of vault-role-bound-service-accounts. Reads the raw
 * stack file (not the typed settings), so it works whatever else the schema holds.
 */
import { NAME as BOUND_SERVICE_ACCOUNTS } from "./vault-role-bound-service-accounts";

export type PackConfig = Record<string, Record<string, unknown>>;

/** `config` is the `config:` map of `Pulumi.<stack>.yaml`, keys with or without the project prefix. */
export function packConfigFromStack(config: Record<string, unknown>, project = "aks-vault"): PackConfig {
    const workloads = config[`${project}:workloads`] ?? config.workloads;
    const wildcardRoles = (Array.isArray(workloads) ? workloads : [])
        .filter((w): w is Record<string, unknown> => typeof w === "object" && w !== null && w.allowWildcard === true)
        .map((w) => String(w.role ?? w.name));
    return { [BOUND_SERVICE_ACCOUNTS]: { wildcardRoles: [...new Set(wildcardRoles)].sort() } };
}
