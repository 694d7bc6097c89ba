import { AuthBackendRole } from "@pulumi/vault/kubernetes";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory, withDefaults } from "./lib";

export const NAME = "vault-role-bound-service-accounts";

export interface BoundServiceAccountsConfig {
    /** Allow `prefix*` / `*suffix` globs in bound names and namespaces. Default false. `*` alone is never allowed. */
    allowGlobs: boolean;
}

const DEFAULTS: BoundServiceAccountsConfig = { allowGlobs: false };

/**
 * A role is the boundary between workloads: bound to `*`, any pod in the cluster can log in as it
 * and read its secrets. Vault accepts `*` and leading/trailing globs in both lists
 * (hashicorp/vault-plugin-auth-kubernetes#58).
 */
export const vaultRoleBoundServiceAccounts: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Vault Kubernetes roles are bound to explicit service account names and namespaces: never `*`, globs only when `allowGlobs` is set.",
    enforcementLevel,
    severity: "critical",
    configSchema: {
        properties: {
            allowGlobs: { type: "boolean", default: DEFAULTS.allowGlobs, description: "Allow prefix*/*suffix globs in bound names and namespaces (never `*` alone)." },
        },
    },
    validateResource: validateResourceOfType(AuthBackendRole, (role, args, reportViolation) => {
        const { allowGlobs } = withDefaults(args.getConfig<Partial<BoundServiceAccountsConfig>>(), DEFAULTS);
        const check = (field: string, what: string, values: readonly string[] | undefined) => {
            if (values === undefined || values.length === 0) {
                reportViolation(`Role "${role.roleName}" has no \`${field}\`. Bind it to the workload's explicit ${what}.`);
                return;
            }
            for (const v of values) {
                if (v === "*") {
                    reportViolation(`Role "${role.roleName}" binds \`${field}\` to "*" (every ${what}). Bind it to the workload's explicit ${what}.`);
                } else if (v.includes("*") && !allowGlobs) {
                    reportViolation(`Role "${role.roleName}" binds \`${field}\` to the glob "${v}". Bind it to explicit ${what}s, or set \`allowGlobs: true\` for policy ${NAME} in the policy pack config.`);
                }
            }
        };
        check("boundServiceAccountNames", "service account name", role.boundServiceAccountNames);
        if (role.boundServiceAccountNamespaceSelector !== undefined && role.boundServiceAccountNamespaceSelector !== "") {
            reportViolation(`Role "${role.roleName}" binds namespaces by the label selector \`boundServiceAccountNamespaceSelector\`. Remove it and list explicit namespaces in \`boundServiceAccountNamespaces\`.`);
        }
        check("boundServiceAccountNamespaces", "namespace", role.boundServiceAccountNamespaces);
    }),
});
