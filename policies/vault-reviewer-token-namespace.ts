import { StackPolicyFactory, TYPES, at, isVaultRelease } from "./lib";

const NAME = "vault-reviewer-token-namespace";

const SA_TOKEN = "kubernetes.io/service-account-token";

/**
 * The token reviewer's long-lived JWT is a cluster-wide credential (`system:auth-delegator`). It
 * belongs next to the injector, in the namespace only platform operators can read; in a workload
 * namespace, anyone who can read that namespace's Secrets can impersonate the reviewer.
 */
export const vaultReviewerTokenNamespace: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Service-account token Secrets (the Vault token reviewer's) live in the injector's namespace.",
    enforcementLevel,
    severity: "high",
    validateStack: (args, reportViolation) => {
        const namespaces = new Set(args.resources.filter(isVaultRelease).map((r) => String(r.props.namespace)));
        if (namespaces.size === 0) return;
        const expected = [...namespaces].join(", ");
        for (const r of args.resources) {
            if (r.type !== TYPES.secret || r.props.type !== SA_TOKEN) continue;
            const ns = at(r.props, "metadata.namespace");
            if (typeof ns !== "string" || !namespaces.has(ns)) {
                reportViolation(
                    `Service-account token Secret "${r.name}" is in namespace "${String(ns ?? "default")}", ` +
                        `not the injector's (${expected}). Create it in the injector's namespace.`,
                    r.urn,
                );
            }
        }
    },
});
