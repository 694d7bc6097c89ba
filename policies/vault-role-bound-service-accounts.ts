import { AuthBackendRole } from "@pulumi/vault/kubernetes";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory, withDefaults } from "./lib";

export const NAME = "vault-role-bound-service-accounts";

export interface BoundServiceAccountsConfig {
    /** Allow `prefix*` / `*suffix` globs in bound names and namespaces. Default false. */
    allowGlobs: boolean;
    /**
     * Roles allowed `*` and globs: the roles of workloads whose stack config says `allowWildcard:
     * true` (`npm run policy:config -- <stack>` derives this list from the stack file). Default none.
     */
    wildcardRoles: string[];
}

const DEFAULTS: BoundServiceAccountsConfig = { allowGlobs: false, wildcardRoles: [] };

/**
 * A role is the boundary between workloads: bound to `*`, any pod in the cluster can log in as it
 * and read its secrets. Vault accepts `*` and leading/trailing globs in both lists
 * (hashicorp/vault-plugin-auth-kubernetes#58).
 */
export const vaultRoleBoundServiceAccounts: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Vault Kubernetes roles are bound to explicit service account names and namespaces: no `*` or globs unless the workload's stack config allows them (`wildcardRoles`) or `allowGlobs` is set.",
    enforcementLevel,
    severity: "critical",
    configSchema: {
        properties: {
            allowGlobs: { type: "boolean", default: DEFAULTS.allowGlobs, description: "Allow prefix*/*suffix globs in bound names and namespaces (`*` alone still needs wildcardRoles)." },
            wildcardRoles: { type: "array", items: { type: "string" }, default: DEFAULTS.wildcardRoles, description: "Roles whose stack config allows `*` and globs (allowWildcard)." },
        },
    },
    validateResource: validateResourceOfType(AuthBackendRole, (role, args, reportViolation) => {
        const { allowGlobs, wildcardRoles } = withDefaults(args.getConfig<Partial<BoundServiceAccountsConfig>>(), DEFAULTS);
        const exempt = role.roleName !== undefined && wildcardRoles.includes(role.roleName);
        const check = (field: string, what: string, values: readonly string[] | undefined) => {
            if (values === undefined || values.length === 0) {
                reportViolation(`Role "${role.roleName}" has no \`${field}\`. Bind it to the workload's explicit ${what}.`);
                return;
            }
            if (exempt) return;
            for (const v of values) {
                if (v === "*") {
                    reportViolation(`Role "${role.roleName}" binds \`${field}\` to "*" (every ${what}). Bind it to the workload's explicit ${what}, or, if that is really meant, set \`allowWildcard: true\` on the workload and pass the pack config from \`npm run policy:config\`.`);
                } else if (v.includes("*") && !allowGlobs) {
                    reportViolation(`Role "${role.roleName}" binds \`${field}\` to the glob "${v}". Bind it to explicit ${what}s, or set \`allowGlobs: true\` for policy ${NAME} in the policy pack config.`);
                }
            }
        };
        check("boundServiceAccountNames", "service account name", role.boundServiceAccountNames);
        const selector = role.boundServiceAccountNamespaceSelector ?? "";
        if (selector !== "" && !exempt) {
            reportViolation(`Role "${role.roleName}" binds namespaces by the label selector \`boundServiceAccountNamespaceSelector\`. Remove it and list explicit namespaces in \`boundServiceAccountNamespaces\`.`);
        }
        // An exempt role may bind namespaces by selector alone.
        if (!(exempt && selector !== "")) check("boundServiceAccountNamespaces", "namespace", role.boundServiceAccountNamespaces);
    }),
});
