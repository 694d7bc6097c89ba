import { PolicyResource } from "@pulumi/policy";
import { parse } from "yaml";
import { isRecord } from "../src/config/raw";
import { StackPolicyFactory, TYPES } from "./lib";

const NAME = "aks-local-accounts-admin-credentials";

/**
 * Whether a kubeconfig authenticates with a local account: a client certificate or a static token
 * (what `listClusterAdminCredentials` returns), rather than an `exec` plugin such as kubelogin.
 */
export function usesLocalAccount(kubeconfig: string): boolean {
    let doc: unknown;
    try {
        doc = parse(kubeconfig);
    } catch {
        return false;
    }
    const users = isRecord(doc) && Array.isArray(doc.users) ? doc.users : [];
    return users.some((u: unknown) => {
        const user = isRecord(u) && isRecord(u.user) ? u.user : {};
        return user["client-certificate-data"] !== undefined || user.token !== undefined;
    });
}

/**
 * With `disableLocalAccounts`, AKS refuses admin (local) credentials: a program that builds its
 * Kubernetes provider from them works on the first run and then fails on every refresh once the
 * flag is applied. Advisory: the kubeconfig is only known once the cluster exists.
 */
export const aksLocalAccountsAdminCredentials: StackPolicyFactory = (enforcementLevel = "advisory") => ({
    name: NAME,
    description: "Warns when an AKS cluster disables local accounts while a Kubernetes provider uses admin (local-account) credentials.",
    enforcementLevel,
    severity: "medium",
    validateStack: (args, reportViolation) => {
        const locked = args.resources.filter((r) => r.type === TYPES.managedCluster && r.props.disableLocalAccounts === true);
        if (locked.length === 0) return;
        const adminProviders = args.resources.filter((r: PolicyResource) =>
            r.type === TYPES.kubernetesProvider && typeof r.props.kubeconfig === "string" && usesLocalAccount(r.props.kubeconfig));
        for (const cluster of locked) {
            for (const p of adminProviders) {
                reportViolation(
                    `AKS cluster "${cluster.name}" disables local accounts, but Kubernetes provider "${p.name}" ` +
                        "authenticates with admin credentials, which AKS will refuse. " +
                        "Either keep `disableLocalAccounts` off, or give the provider an Entra ID kubeconfig " +
                        "(`listManagedClusterUserCredentials` with kubelogin `exec`).",
                    cluster.urn,
                );
            }
        }
    },
});
