import { PolicyProviderResource } from "@pulumi/policy";
import { StackPolicyFactory } from "./lib";

const NAME = "kubernetes-explicit-provider";

/** The engine names a default provider `default` or `default_<version>` (e.g. `default_4_34_2`). */
function isDefaultProvider(p: PolicyProviderResource | undefined): boolean {
    return p === undefined || /^default(_|$)/.test(p.name);
}

/**
 * A Kubernetes resource on the default provider goes to whatever cluster the machine's kubeconfig
 * points at (a CI runner's, an operator's last `kubectl` context), not the AKS cluster this stack
 * built. Stack-level so one report lists every offender.
 */
export const kubernetesExplicitProvider: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Every Kubernetes resource uses an explicit provider (the stack's AKS cluster), never the default provider.",
    enforcementLevel,
    severity: "critical",
    validateStack: (args, reportViolation) => {
        for (const r of args.resources) {
            if (!r.type.startsWith("kubernetes:")) continue;
            if (isDefaultProvider(r.provider)) {
                reportViolation(
                    `Kubernetes resource ${r.type} "${r.name}" uses the default provider (the ambient kubeconfig). ` +
                        "Pass the cluster's provider: `{ provider: cluster.provider }`.",
                    r.urn,
                );
            }
        }
    },
});
