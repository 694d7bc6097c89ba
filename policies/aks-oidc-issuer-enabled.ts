import { ManagedCluster } from "@pulumi/azure-native/containerservice";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory } from "./lib";

const NAME = "aks-oidc-issuer-enabled";

/**
 * Vault validates each workload's service-account JWT against the cluster's OIDC issuer; without
 * the issuer AKS has no stable `iss` to check (Azure/AKS#2523), and turning it on later rotates
 * the issuer of every token.
 */
export const aksOidcIssuerEnabled: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "AKS clusters have the OIDC issuer on, so Vault can validate the `iss` claim of service-account tokens.",
    enforcementLevel,
    severity: "high",
    validateResource: validateResourceOfType(ManagedCluster, (cluster, _args, reportViolation) => {
        if (cluster.oidcIssuerProfile?.enabled !== true) {
            reportViolation("The AKS OIDC issuer is off. Set `oidcIssuerProfile: { enabled: true }` on the ManagedCluster.");
        }
    }),
});
