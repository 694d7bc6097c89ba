/**
 * Every guardrail, in one list, with its default enforcement level. Separate from `index.ts` (which
 * starts the policy server) so tests can check the assembled list.
 */
import type { Policies } from "@pulumi/policy";
import { aksLocalAccountsAdminCredentials } from "./aks-local-accounts-admin-credentials";
import { aksOidcIssuerEnabled } from "./aks-oidc-issuer-enabled";
import { aksRbacEnabled } from "./aks-rbac-enabled";
import { injectorRoleExists } from "./injector-role-exists";
import { injectorSecretsWorkloadPaths } from "./injector-secrets-workload-paths";
import { kubernetesExplicitProvider } from "./kubernetes-explicit-provider";
import { vaultAuthConfigCaCertificate } from "./vault-auth-config-ca-certificate";
import { vaultChartValuesKnownKeys } from "./vault-chart-values-known-keys";
import { vaultChartVersionPinned } from "./vault-chart-version-pinned";
import { vaultInjectorHighAvailability } from "./vault-injector-high-availability";
import { vaultJwtAuthIssuer } from "./vault-jwt-auth-issuer";
import { vaultKvMountWideRead } from "./vault-kv-mount-wide-read";
import { vaultPolicyLeastPrivilege } from "./vault-policy-least-privilege";
import { vaultPolicyWorkloadPaths } from "./vault-policy-workload-paths";
import { vaultReviewerTokenNamespace } from "./vault-reviewer-token-namespace";
import { vaultRoleAllowedPolicies } from "./vault-role-allowed-policies";
import { vaultRoleBoundServiceAccounts } from "./vault-role-bound-service-accounts";
import { vaultRoleTokenTtl } from "./vault-role-token-ttl";

export const PACK_NAME = "aks-vault-guardrails";

export function guardrailPolicies(): Policies {
    return [
        aksOidcIssuerEnabled(),
        aksRbacEnabled(),
        aksLocalAccountsAdminCredentials(),
        vaultChartVersionPinned(),
        vaultInjectorHighAvailability(),
        vaultChartValuesKnownKeys(),
        vaultRoleBoundServiceAccounts(),
        vaultRoleTokenTtl(),
        vaultPolicyLeastPrivilege(),
        vaultKvMountWideRead(),
        vaultPolicyWorkloadPaths(),
        vaultRoleAllowedPolicies(),
        injectorSecretsWorkloadPaths(),
        vaultAuthConfigCaCertificate(),
        vaultJwtAuthIssuer(),
        vaultReviewerTokenNamespace(),
        kubernetesExplicitProvider(),
        injectorRoleExists(),
    ];
}
