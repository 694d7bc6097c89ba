import { AuthBackendRole } from "@pulumi/vault/kubernetes";
import { AuthBackendRole as JwtAuthBackendRole } from "@pulumi/vault/jwt";
import { validateResourceOfType } from "@pulumi/policy";
import { isOneAudience } from "../src/agent/jwtLogin";
import { ResourcePolicyFactory, SERVICE_ACCOUNT_SUBJECT, withDefaults } from "./lib";

const NAME = "vault-role-bound-service-accounts";

interface BoundServiceAccountsConfig {
    /** Allow `prefix*` / `*suffix` globs in bound names and namespaces. Default false. */
    allowGlobs: boolean;
    /**
     * Roles allowed `*` and globs, listed by the platform team in policies/platform-config.json
     * (never derived from the stack config under review). Default none.
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
    description:
        "Vault Kubernetes roles are bound to explicit service account names and namespaces: no `*` or globs " +
        "unless the platform's pack config exempts the role (`wildcardRoles`) or `allowGlobs` is set. " +
        "Vault JWT roles are bound to one exact service-account subject and a real audience.",
    enforcementLevel,
    severity: "critical",
    configSchema: {
        properties: {
            allowGlobs: {
                type: "boolean",
                default: DEFAULTS.allowGlobs,
                description: "Allow prefix*/*suffix globs in bound names and namespaces (`*` alone still needs wildcardRoles).",
            },
            wildcardRoles: {
                type: "array",
                items: { type: "string" },
                default: DEFAULTS.wildcardRoles,
                description: "Roles the platform team allows `*` and globs (never derived from the stack config).",
            },
        },
    },
    validateResource: [validateResourceOfType(AuthBackendRole, (role, args, reportViolation) => {
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
                    reportViolation(
                        `Role "${role.roleName}" binds \`${field}\` to "*" (every ${what}). Bind it to the workload's explicit ${what}, ` +
                            `or, if that is really meant, ask the platform team to add role "${role.roleName}" ` +
                            "to `wildcardRoles` in policies/platform-config.json.",
                    );
                } else if (v.includes("*") && !allowGlobs) {
                    reportViolation(
                        `Role "${role.roleName}" binds \`${field}\` to the glob "${v}". Bind it to explicit ${what}s, ` +
                            `or set \`allowGlobs: true\` for policy ${NAME} in the policy pack config.`,
                    );
                }
            }
        };
        check("boundServiceAccountNames", "service account name", role.boundServiceAccountNames);
        const selector = role.boundServiceAccountNamespaceSelector ?? "";
        if (selector !== "" && !exempt) {
            reportViolation(
                `Role "${role.roleName}" binds namespaces by the label selector \`boundServiceAccountNamespaceSelector\`. ` +
                    "Remove it and list explicit namespaces in `boundServiceAccountNamespaces`.",
            );
        }
        // An exempt role may bind namespaces by selector alone.
        if (!(exempt && selector !== "")) check("boundServiceAccountNamespaces", "namespace", role.boundServiceAccountNamespaces);
    }), validateResourceOfType(JwtAuthBackendRole, (role, _args, reportViolation) => {
        // vault-plugin-auth-jwt: `bound_subject` is compared exactly (hashicorp/cap jwt.Validate);
        // `bound_claims` may hold globs (bound_claims_type glob), and a role with only an audience
        // admits every pod that can get a token for it. With no `bound_audiences` Vault refuses
        // any token that has an `aud` at all, so every Kubernetes token: a role without one is broken.
        const name = role.roleName;
        if (role.roleType !== "jwt") {
            reportViolation(
                `JWT role "${name}" has roleType "${role.roleType ?? "oidc (default)"}". ` +
                    "Set `roleType: jwt`: service-account tokens are presented directly, not through a browser OIDC flow.",
            );
        }
        const subject = role.boundSubject ?? "";
        if (subject === "") {
            reportViolation(
                `JWT role "${name}" sets no \`boundSubject\`, so any pod with a token for its audience can log in as it. ` +
                    "Bind it to the workload's service account: system:serviceaccount:<namespace>:<serviceAccount>.",
            );
        } else if (!SERVICE_ACCOUNT_SUBJECT.test(subject)) {
            reportViolation(
                `JWT role "${name}" binds \`boundSubject\` to "${subject}", which is not one service account. ` +
                    "Bind it to system:serviceaccount:<namespace>:<serviceAccount>.",
            );
        }
        if (role.boundClaimsType === "glob" && Object.keys(role.boundClaims ?? {}).length > 0) {
            reportViolation(
                `JWT role "${name}" matches \`boundClaims\` as globs. Use exact claims (boundClaimsType string) and \`boundSubject\`.`,
            );
        }
        const audiences = role.boundAudiences ?? [];
        if (audiences.length === 0) {
            reportViolation(
                `JWT role "${name}" sets no \`boundAudiences\`. ` +
                    "Bind it to the audience of the pods' projected token (kubernetesAuth.audience).",
            );
        }
        for (const a of audiences) {
            if (!isOneAudience(a)) {
                reportViolation(
                    `JWT role "${name}" binds \`boundAudiences\` to "${a}". Bind it to one audience that names this Vault mount.`,
                );
            }
        }
    })],
});
