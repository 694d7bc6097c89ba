import { StackPolicyFactory, TYPES, SECRET_ANNOTATION_PREFIX, isInjected, podAnnotations } from "./lib";
import { isGlob, pathMatches, pathRules } from "./vaultPolicyRules";

const NAME = "vault-policy-least-privilege";

/**
 * Workload policies grant what the workload reads and nothing more: `sudo` and `sys/` are Vault
 * administration, and a glob grants every secret that will ever be written under it. Advisory:
 * an operator's policy may need them; a workload's should not.
 */
export const vaultPolicyLeastPrivilege: StackPolicyFactory = (enforcementLevel = "advisory") => ({
    name: NAME,
    description: "Vault policies grant no `sudo`, no `sys/` paths, and no wildcard paths beyond the secrets the stack's workloads declare.",
    enforcementLevel,
    severity: "medium",
    validateStack: (args, reportViolation) => {
        // What the workloads declare: the API paths of their `agent-inject-secret-*` annotations.
        const declared = [
            ...new Set(
                args.resources
                    .filter((r) => r.type === TYPES.deployment && isInjected(r))
                    .flatMap((d) =>
                        Object.entries(podAnnotations(d))
                            .filter(([k]) => k.startsWith(SECRET_ANNOTATION_PREFIX))
                            .map(([, v]) => v),
                    ),
            ),
        ].sort();

        for (const p of args.resources) {
            if (p.type !== TYPES.vaultPolicy) continue;
            const name = String(p.props.name ?? p.name);
            const rules = pathRules(String(p.props.policy ?? ""));
            if (rules === undefined) {
                reportViolation(
                    `Vault policy "${name}" has no \`path\` rule this pack can read. ` +
                        `Write it as \`path "<path>" { capabilities = [...] }\` blocks.`,
                    p.urn,
                );
                continue;
            }
            for (const rule of rules) {
                if (rule.capabilities.includes("sudo")) {
                    reportViolation(
                        `Vault policy "${name}" grants \`sudo\` on "${rule.path}". ` +
                            "Remove `sudo`; workloads never need root-protected endpoints.",
                        p.urn,
                    );
                }
                if (/^\/?sys\//.test(rule.path) || rule.path === "sys" || rule.path.startsWith("+/sys/")) {
                    reportViolation(
                        `Vault policy "${name}" grants access to "${rule.path}", a \`sys/\` (administration) path. Remove the rule.`,
                        p.urn,
                    );
                }
                if (isGlob(rule.path)) {
                    const covered = declared.filter((d) => pathMatches(rule.path, d));
                    const hint = covered.length > 0
                        ? `List the declared secrets it is meant for instead: ${covered.join(", ")}.`
                        : "It covers no secret a workload declares: remove it.";
                    reportViolation(
                        `Vault policy "${name}" grants the wildcard path "${rule.path}", ` +
                            `which covers every secret ever written under it. ${hint}`,
                        p.urn,
                    );
                }
            }
        }
    },
});
