import { StackPolicyFactory, TYPES, ROLE_ANNOTATION, isInjected, podAnnotations } from "./lib";

export const NAME = "injector-role-exists";

const AUTH_PATH_ANNOTATION = "vault.hashicorp.com/auth-path";

/**
 * A pod whose role does not exist fails its Vault login in the agent init container and never
 * starts; nothing at deploy time says so. Checked across the stack: the role must be one this
 * stack creates, on the auth mount the pod logs in to.
 */
export const injectorRoleExists: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Every Deployment with Vault injector annotations names a Vault role that this stack creates, on the auth path it logs in to.",
    enforcementLevel,
    severity: "high",
    validateStack: (args, reportViolation) => {
        const roles = args.resources
            .filter((r) => r.type === TYPES.authBackendRole)
            .map((r) => ({ name: String(r.props.roleName), backend: String(r.props.backend) }));
        for (const d of args.resources) {
            if (d.type !== TYPES.deployment || !isInjected(d)) continue;
            const a = podAnnotations(d);
            const role = a[ROLE_ANNOTATION];
            if (role === undefined || role === "") {
                reportViolation(`Deployment "${d.name}" asks for injection but sets no \`${ROLE_ANNOTATION}\` annotation. Name the workload's Vault role.`, d.urn);
                continue;
            }
            const named = roles.filter((r) => r.name === role);
            if (named.length === 0) {
                const known = roles.map((r) => r.name).join(", ") || "none";
                reportViolation(`Deployment "${d.name}" uses Vault role "${role}", which this stack does not create (roles: ${known}). Fix the \`${ROLE_ANNOTATION}\` annotation or add the role.`, d.urn);
                continue;
            }
            const authPath = a[AUTH_PATH_ANNOTATION];
            // The injector defaults the auth path to `auth/kubernetes`.
            const backend = (authPath ?? "auth/kubernetes").replace(/^auth\//, "").replace(/\/$/, "");
            if (!named.some((r) => r.backend === backend)) {
                reportViolation(`Deployment "${d.name}" logs in at "auth/${backend}", but role "${role}" is on ${named.map((r) => `"auth/${r.backend}"`).join(", ")}. Fix the \`${AUTH_PATH_ANNOTATION}\` annotation.`, d.urn);
            }
        }
    },
});
