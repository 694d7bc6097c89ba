import { ManagedCluster } from "@pulumi/azure-native/containerservice";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory } from "./lib";

const NAME = "aks-rbac-enabled";

/**
 * The token reviewer's `system:auth-delegator` binding and every workload's least privilege rest on
 * Kubernetes RBAC; a cluster without it lets any service account do anything.
 */
export const aksRbacEnabled: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "AKS clusters have Kubernetes RBAC on.",
    enforcementLevel,
    severity: "critical",
    validateResource: validateResourceOfType(ManagedCluster, (cluster, _args, reportViolation) => {
        if (cluster.enableRBAC !== true) {
            reportViolation("Kubernetes RBAC is off. Set `enableRBAC: true` on the ManagedCluster (it cannot be changed after creation).");
        }
    }),
});
