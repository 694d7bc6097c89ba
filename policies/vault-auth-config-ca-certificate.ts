import { AuthBackendConfig } from "@pulumi/vault/kubernetes";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory } from "./lib";

const NAME = "vault-auth-config-ca-certificate";

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * AKS serves its API with a cluster-private CA. Without `kubernetesCaCert`, a Vault outside the
 * cluster checks the API server against its system trust store and every TokenReview (so every
 * login) fails with an x509 error.
 */
export const vaultAuthConfigCaCertificate: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "The Vault Kubernetes auth config carries the cluster's CA certificate (PEM).",
    enforcementLevel,
    severity: "high",
    validateResource: validateResourceOfType(AuthBackendConfig, (config, _args, reportViolation) => {
        const ca = config.kubernetesCaCert;
        if (ca === undefined || ca.trim() === "") {
            reportViolation(
                "The Kubernetes auth config has no `kubernetesCaCert`. Set it to the cluster's CA certificate (PEM), " +
                    "e.g. from the admin kubeconfig's certificate-authority-data.",
            );
        } else if (!PEM_CERT.test(ca)) {
            reportViolation(
                "The Kubernetes auth config's `kubernetesCaCert` is not a PEM certificate. " +
                    "Set it to the decoded PEM (-----BEGIN CERTIFICATE-----), not the base64 certificate-authority-data.",
            );
        }
    }),
});
