/**
 * Valid resources, one per type the policies look at, shaped as the program sends them (compare
 * `test/support/cloud.ts` recordings of the dev stack). Each test breaks one property of a fresh copy.
 */
import type { Unwrap } from "@pulumi/pulumi";
import type { ManagedClusterArgs } from "@pulumi/azure-native/containerservice";
import type { ReleaseArgs } from "@pulumi/kubernetes/helm/v3";
import type { AuthBackendConfigArgs, AuthBackendRoleArgs } from "@pulumi/vault/kubernetes";
import type { PolicyArgs } from "@pulumi/vault/policy";
import { TYPES } from "../../policies/lib";
import { Fixture, urnOf } from "./policyHarness";

export const K8S_PROVIDER = {
    type: TYPES.kubernetesProvider,
    name: "aks-vault-dev-k8s",
    urn: urnOf(TYPES.kubernetesProvider, "aks-vault-dev-k8s"),
    props: { clusterIdentifier: "rg-aks-vault-dev/aks-vault-dev" },
};

export function managedCluster(): Fixture {
    const props: Unwrap<ManagedClusterArgs> = {
        resourceGroupName: "rg-aks-vault-dev",
        resourceName: "aks-vault-dev",
        location: "francecentral",
        enableRBAC: true,
        oidcIssuerProfile: { enabled: true },
        identity: { type: "SystemAssigned" },
    };
    return { type: TYPES.managedCluster, name: "aks-vault-dev-aks", props: props as Record<string, unknown> };
}

export function vaultRelease(): Fixture {
    const props: Unwrap<ReleaseArgs> = {
        name: "vault",
        chart: "vault",
        version: "0.34.1",
        namespace: "vault",
        repositoryOpts: { repo: "https://helm.releases.hashicorp.com" },
        values: {
            global: { enabled: true, externalVaultAddr: "https://vault.mydomain.com:8200" },
            injector: {
                enabled: true, replicas: 2, leaderElector: { enabled: true }, authPath: "auth/aks", resources: { requests: { cpu: "50m" } },
            },
            server: { enabled: false, serviceAccount: { create: false }, authDelegator: { enabled: false } },
        },
    };
    return { type: TYPES.helmRelease, name: "vault-injector-chart", props: props as Record<string, unknown>, provider: K8S_PROVIDER };
}

export function role(): Fixture {
    const props: Unwrap<AuthBackendRoleArgs> = {
        backend: "aks",
        roleName: "busybox",
        boundServiceAccountNames: ["busybox"],
        boundServiceAccountNamespaces: ["busybox"],
        tokenTtl: 3600,
        tokenPolicies: ["default", "busybox"],
    };
    return { type: TYPES.authBackendRole, name: "busybox-role", props: props as Record<string, unknown> };
}

export const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUTest\n-----END CERTIFICATE-----\n";

export function authConfig(): Fixture {
    const props: Unwrap<AuthBackendConfigArgs> = {
        backend: "aks",
        kubernetesHost: "https://aks-vault-dev-28499c07.hcp.francecentral.azmk8s.io:443",
        kubernetesCaCert: CA_PEM,
        tokenReviewerJwt: "eyJhbGciOiJSUzI1NiJ9.e30.sig",
        disableLocalCaJwt: true,
    };
    return { type: TYPES.authBackendConfig, name: "vault-k8s-auth-config", props: props as Record<string, unknown> };
}

export function vaultPolicy(policy = 'path "secret/data/devops" {\n  capabilities = ["read"]\n}\n'): Fixture {
    const props: Unwrap<PolicyArgs> = { name: "busybox", policy };
    return { type: TYPES.vaultPolicy, name: "busybox-policy", props: props as Record<string, unknown> };
}

export function reviewerSecret(): Fixture {
    return {
        type: TYPES.secret,
        name: "vault-injector-reviewer-token",
        props: {
            apiVersion: "v1",
            kind: "Secret",
            type: "kubernetes.io/service-account-token",
            metadata: {
                name: "vault-token-reviewer-token",
                namespace: "vault",
                annotations: { "kubernetes.io/service-account.name": "vault-token-reviewer" },
            },
        },
        provider: K8S_PROVIDER,
    };
}

export function injectedDeployment(annotations: Record<string, string> = {}): Fixture {
    return {
        type: TYPES.deployment,
        name: "busybox-deploy",
        props: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "busybox", namespace: "busybox" },
            spec: {
                replicas: 1,
                selector: { matchLabels: { app: "busybox" } },
                template: {
                    metadata: {
                        labels: { app: "busybox" },
                        annotations: {
                            "vault.hashicorp.com/agent-inject": "true",
                            "vault.hashicorp.com/role": "busybox",
                            "vault.hashicorp.com/auth-path": "auth/aks",
                            "vault.hashicorp.com/agent-inject-secret-devops_token": "secret/data/devops",
                            ...annotations,
                        },
                    },
                    spec: { serviceAccountName: "busybox", containers: [{ name: "busybox", image: "busybox:1.36" }] },
                },
            },
        },
        provider: K8S_PROVIDER,
    };
}

/** A deep copy to break. */
export function clone<T>(x: T): T {
    return structuredClone(x);
}
