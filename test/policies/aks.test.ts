/** AKS policies: OIDC issuer, RBAC, local accounts with admin credentials. */
import assert from "node:assert/strict";
import { aksOidcIssuerEnabled } from "../../policies/aks-oidc-issuer-enabled";
import { aksRbacEnabled } from "../../policies/aks-rbac-enabled";
import { aksLocalAccountsAdminCredentials, usesLocalAccount } from "../../policies/aks-local-accounts-admin-credentials";
import { TYPES } from "../../policies/lib";
import { clusterFacts } from "../support/cloud";
import { resourceViolations, stackViolations, urnOf } from "../support/policyHarness";
import { clone, managedCluster } from "../support/policyFixtures";

describe("policy aks-oidc-issuer-enabled", () => {
    const policy = aksOidcIssuerEnabled();

    it("is mandatory by default and takes another level", () => {
        assert.equal(policy.enforcementLevel, "mandatory");
        assert.equal(aksOidcIssuerEnabled("advisory").enforcementLevel, "advisory");
    });

    it("passes a cluster with the issuer on", async () => {
        assert.deepEqual(await resourceViolations(policy, managedCluster()), []);
    });

    for (const [what, profile] of [["off", { enabled: false }], ["absent", undefined]] as const) {
        it(`fails a cluster whose issuer is ${what}`, async () => {
            const mc = clone(managedCluster());
            mc.props.oidcIssuerProfile = profile;
            assert.deepEqual(await resourceViolations(policy, mc), [
                "The AKS OIDC issuer is off. Set `oidcIssuerProfile: { enabled: true }` on the ManagedCluster.",
            ]);
        });
    }

    it("ignores other resource types", async () => {
        const other = { ...managedCluster(), type: "azure-native:resources:ResourceGroup" };
        other.props = { oidcIssuerProfile: { enabled: false } };
        assert.deepEqual(await resourceViolations(policy, other), []);
    });
});

describe("policy aks-rbac-enabled", () => {
    const policy = aksRbacEnabled();

    it("passes a cluster with RBAC on", async () => {
        assert.deepEqual(await resourceViolations(policy, managedCluster()), []);
    });

    it("fails a cluster with RBAC off", async () => {
        const mc = clone(managedCluster());
        mc.props.enableRBAC = false;
        assert.deepEqual(await resourceViolations(policy, mc), [
            "Kubernetes RBAC is off. Set `enableRBAC: true` on the ManagedCluster (it cannot be changed after creation).",
        ]);
    });
});

describe("policy aks-local-accounts-admin-credentials", () => {
    const policy = aksLocalAccountsAdminCredentials();
    // The admin kubeconfig AKS returns (client certificate + token), as the mock cloud builds it.
    const adminKubeconfig = clusterFacts("aks-vault-dev", "rg-aks-vault-dev", "francecentral").kubeconfig;
    const kubeloginKubeconfig = [
        "apiVersion: v1",
        "kind: Config",
        "users:",
        "  - name: clusterUser",
        "    user:",
        "      exec:",
        "        apiVersion: client.authentication.k8s.io/v1beta1",
        "        command: kubelogin",
        "        args: [get-token, --login, azurecli, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]",
    ].join("\n");
    const provider = (kubeconfig: string) => ({ type: TYPES.kubernetesProvider, name: "aks-vault-dev-k8s", props: { kubeconfig } });
    const locked = () => {
        const mc = clone(managedCluster());
        mc.props.disableLocalAccounts = true;
        return mc;
    };

    it("is advisory by default", () => {
        assert.equal(policy.enforcementLevel, "advisory");
    });

    it("tells admin kubeconfigs from kubelogin ones", () => {
        assert.equal(usesLocalAccount(adminKubeconfig), true);
        assert.equal(usesLocalAccount(kubeloginKubeconfig), false);
    });

    it("passes local accounts left on with admin credentials (the program today)", async () => {
        assert.deepEqual(await stackViolations(policy, [managedCluster(), provider(adminKubeconfig)]), []);
    });

    it("passes local accounts disabled with a kubelogin kubeconfig", async () => {
        assert.deepEqual(await stackViolations(policy, [locked(), provider(kubeloginKubeconfig)]), []);
    });

    it("warns when local accounts are disabled but the provider uses admin credentials", async () => {
        assert.deepEqual(await stackViolations(policy, [locked(), provider(adminKubeconfig)]), [{
            message: 'AKS cluster "aks-vault-dev-aks" disables local accounts, but Kubernetes provider "aks-vault-dev-k8s" ' +
                "authenticates with admin credentials, which AKS will refuse. " +
                "Either keep `disableLocalAccounts` off, or give the provider an Entra ID kubeconfig " +
                "(`listManagedClusterUserCredentials` with kubelogin `exec`).",
            urn: urnOf(TYPES.managedCluster, "aks-vault-dev-aks"),
        }]);
    });
});
