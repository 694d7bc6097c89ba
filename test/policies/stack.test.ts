/** Stack-level policies: explicit Kubernetes provider, reviewer token namespace, injector roles. */
import assert from "node:assert/strict";
import { kubernetesExplicitProvider } from "../../policies/kubernetes-explicit-provider";
import { vaultReviewerTokenNamespace } from "../../policies/vault-reviewer-token-namespace";
import { injectorRoleExists } from "../../policies/injector-role-exists";
import { TYPES } from "../../policies/lib";
import { defaultProvider, stackViolations, urnOf } from "../support/policyHarness";
import { clone, injectedDeployment, reviewerSecret, role, vaultRelease } from "../support/policyFixtures";

describe("policy kubernetes-explicit-provider", () => {
    const policy = kubernetesExplicitProvider();

    it("passes Kubernetes resources on the cluster's provider", async () => {
        assert.deepEqual(await stackViolations(policy, [vaultRelease(), reviewerSecret(), injectedDeployment(), role()]), []);
    });

    it("fails a Kubernetes resource on the default provider, and only it", async () => {
        const d = clone(injectedDeployment());
        d.provider = defaultProvider(d.type);
        assert.deepEqual(await stackViolations(policy, [vaultRelease(), d, role()]), [{
            message: 'Kubernetes resource kubernetes:apps/v1:Deployment "busybox-deploy" ' +
                "uses the default provider (the ambient kubeconfig). Pass the cluster's provider: `{ provider: cluster.provider }`.",
            urn: urnOf(TYPES.deployment, "busybox-deploy"),
        }]);
    });
});

describe("policy vault-reviewer-token-namespace", () => {
    const policy = vaultReviewerTokenNamespace();

    it("passes the reviewer token in the injector's namespace", async () => {
        assert.deepEqual(await stackViolations(policy, [vaultRelease(), reviewerSecret()]), []);
    });

    it("fails the reviewer token in a workload namespace", async () => {
        const s = clone(reviewerSecret());
        (s.props.metadata as Record<string, unknown>).namespace = "busybox";
        assert.deepEqual(await stackViolations(policy, [vaultRelease(), s]), [{
            message: 'Service-account token Secret "vault-injector-reviewer-token" is in namespace "busybox", ' +
                "not the injector's (vault). Create it in the injector's namespace.",
            urn: urnOf(TYPES.secret, "vault-injector-reviewer-token"),
        }]);
    });

    it("ignores ordinary Secrets", async () => {
        const s = clone(reviewerSecret());
        s.props.type = "Opaque";
        (s.props.metadata as Record<string, unknown>).namespace = "busybox";
        assert.deepEqual(await stackViolations(policy, [vaultRelease(), s]), []);
    });
});

describe("policy injector-role-exists", () => {
    const policy = injectorRoleExists();
    const urn = urnOf(TYPES.deployment, "busybox-deploy");

    it("passes a Deployment whose role the stack creates on its auth path", async () => {
        assert.deepEqual(await stackViolations(policy, [role(), injectedDeployment()]), []);
    });

    it("fails a role the stack does not create", async () => {
        assert.deepEqual(await stackViolations(policy, [role(), injectedDeployment({ "vault.hashicorp.com/role": "busybx" })]), [
            {
                message: 'Deployment "busybox-deploy" uses Vault role "busybx", which this stack does not create (roles: busybox). ' +
                    "Fix the `vault.hashicorp.com/role` annotation or add the role.",
                urn,
            },
        ]);
    });

    it("fails a role on another auth mount (the injector defaults to auth/kubernetes)", async () => {
        const d = clone(injectedDeployment());
        const a = ((d.props.spec as Record<string, any>).template.metadata.annotations) as Record<string, string>;
        delete a["vault.hashicorp.com/auth-path"];
        assert.deepEqual(await stackViolations(policy, [role(), d]), [
            {
                message: 'Deployment "busybox-deploy" logs in at "auth/kubernetes", but role "busybox" is on "auth/aks". ' +
                    "Fix the `vault.hashicorp.com/auth-path` annotation.",
                urn,
            },
        ]);
    });

    it("fails injection without a role annotation", async () => {
        assert.deepEqual(await stackViolations(policy, [role(), injectedDeployment({ "vault.hashicorp.com/role": "" })]), [
            {
                message: 'Deployment "busybox-deploy" asks for injection but sets no `vault.hashicorp.com/role` annotation. ' +
                    "Name the workload's Vault role.",
                urn,
            },
        ]);
    });

    it("ignores Deployments without injection", async () => {
        assert.deepEqual(await stackViolations(policy, [
            injectedDeployment({ "vault.hashicorp.com/agent-inject": "false", "vault.hashicorp.com/role": "nope" }),
        ]), []);
    });
});
