import { AuthBackend } from "@pulumi/vault/jwt";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory } from "./lib";

const NAME = "vault-jwt-auth-issuer";

/**
 * A JWT auth mount trusts whatever keys its discovery URL publishes. It must be an https URL (the
 * keys come over it) and `boundIssuer` must pin the same issuer: without it any token those keys
 * sign is accepted whatever its `iss`. Vault compares the discovery document's `issuer` with the
 * URL exactly (hashicorp/cap jwt.NewOIDCDiscoveryKeySet), so the two must be the same string,
 * trailing slash included (AKS issuer URLs end in one).
 */
export const vaultJwtAuthIssuer: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Vault JWT auth mounts discover their keys over https from the cluster's issuer, and pin that issuer with `boundIssuer`.",
    enforcementLevel,
    severity: "high",
    validateResource: validateResourceOfType(AuthBackend, (backend, _args, reportViolation) => {
        if ((backend.type ?? "jwt") !== "jwt") return; // an OIDC (browser login) mount is another concern
        const url = backend.oidcDiscoveryUrl ?? "";
        if (url === "") {
            reportViolation(
                "The JWT auth mount has no `oidcDiscoveryUrl`. Set it to the AKS cluster's OIDC issuer URL, exactly as AKS reports it.",
            );
            return;
        }
        if (!url.startsWith("https://")) {
            reportViolation(`The JWT auth mount discovers its keys from "${url}", not over https. Use the AKS issuer's https URL.`);
        }
        const bound = backend.boundIssuer ?? "";
        if (bound === "") {
            reportViolation(
                "The JWT auth mount sets no `boundIssuer`, so tokens of any issuer signed with those keys are accepted. " +
                    "Set it to the discovery URL.",
            );
        } else if (bound !== url) {
            reportViolation(
                `The JWT auth mount's \`boundIssuer\` "${bound}" differs from its \`oidcDiscoveryUrl\` "${url}"; ` +
                    "tokens carry the issuer URL exactly, so every login would fail. " +
                    "Set both to the issuer URL as AKS reports it (trailing slash included).",
            );
        }
    }),
});
