import { JWT_TYPES, StackPolicyFactory, TYPES, registeredWorkloads, withDefaults } from "./lib";
import { normalizePolicy } from "../src/config/names";

const NAME = "vault-role-allowed-policies";

interface RoleAllowedPoliciesConfig {
    /**
     * Policies a role may carry besides its workload's generated one, compared as Vault stores
     * names (trimmed, lower-case). Set by the platform team in the pack config, never derived from
     * the stack under review. `root` is refused whatever this says. Default: ["default"].
     */
    allowedPolicies: string[];
}

const DEFAULTS: RoleAllowedPoliciesConfig = { allowedPolicies: ["default"] };

/**
 * Each workload's role (Kubernetes or JWT) carries its own generated policy plus the policies the
 * platform allows, never root: another policy could grant other teams' paths. The generated
 * policy's name comes from the WorkloadBinding components; the allow-list from the pack config.
 */
export const vaultRoleAllowedPolicies: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Each workload's Vault role carries only its own generated policy and allow-listed ones, never root.",
    enforcementLevel,
    severity: "critical",
    configSchema: {
        properties: {
            allowedPolicies: {
                type: "array",
                items: { type: "string" },
                default: DEFAULTS.allowedPolicies,
                description: "Policies a role may carry besides its generated one (platform-owned; root is always refused).",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const { allowedPolicies } = withDefaults(args.getConfig<Partial<RoleAllowedPoliciesConfig>>(), DEFAULTS);
        const allowed = new Set(allowedPolicies.map(normalizePolicy).filter((p) => p !== "root"));
        const workloads = registeredWorkloads(args.resources);
        if (workloads.length === 0) return;
        const roles = args.resources.filter((r) => r.type === TYPES.authBackendRole || r.type === JWT_TYPES.authBackendRole);
        for (const r of roles) {
            const roleName = String(r.props.roleName ?? "");
            const own = workloads.find((w) => w.role === roleName)?.policy;
            const carried = Array.isArray(r.props.tokenPolicies) ? r.props.tokenPolicies.map(String) : [];
            for (const pol of carried) {
                const n = normalizePolicy(pol);
                if (n === "root") {
                    reportViolation(`Role "${roleName}" carries the root policy ("${pol}"). Remove it: no workload holds root.`, r.urn);
                } else if (n !== own && !allowed.has(n)) {
                    reportViolation(
                        `Role "${roleName}" carries policy "${pol}", which is neither its workload's generated policy ` +
                            `nor in allowedPolicies (${[...allowed].join(", ") || "none"}). ` +
                            `Remove it, or have the platform add it to allowedPolicies of ${NAME} in the pack config.`,
                        r.urn,
                    );
                }
            }
        }
    },
});
