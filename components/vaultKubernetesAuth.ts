import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX } from "./typePrefix";

export interface VaultKubernetesAuthArgs {
    /** Vault provider (required: never the ambient VAULT_ADDR). */
    provider: vault.Provider;
    /** Mount path, without `auth/` (e.g. `aks`). */
    path: string;
    /** Mount description. */
    description?: string;
    /** API server URL Vault calls for TokenReview (from `AksCluster.apiServerUrl`). */
    kubernetesHost: pulumi.Input<string>;
    /** Cluster CA, PEM (from `AksCluster.caCertPem`). */
    kubernetesCaCert: pulumi.Input<string>;
    /**
     * Reviewer JWT (from `VaultInjector.reviewerJwt`); wrapped as a secret here. Omitted: Vault
     * uses each client's own JWT as reviewer (every bound service account then needs
     * `system:auth-delegator`).
     */
    tokenReviewerJwt?: pulumi.Input<string>;
    /** The cluster's OIDC issuer URL (from `AksCluster.oidcIssuerUrl`). */
    issuer: pulumi.Input<string>;
    /** Vault also enforces the `iss` claim against `issuer` (upstream default: off; docs/design.md). */
    validateIssuer: boolean;
}

/** Vault's Kubernetes auth method for one cluster, configured from that cluster's live facts. */
export class VaultKubernetesAuth extends pulumi.ComponentResource {
    /** Mount path without `auth/`. */
    public readonly path: pulumi.Output<string>;
    public readonly accessor: pulumi.Output<string>;

    constructor(name: string, args: VaultKubernetesAuthArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}:VaultKubernetesAuth`, name, {}, opts);
        const vaultOpts = { parent: this, provider: args.provider };

        const backend = new vault.AuthBackend(`${name}-mount`, {
            type: "kubernetes",
            path: args.path,
            description: args.description,
        }, vaultOpts);

        const config = new vault.kubernetes.AuthBackendConfig(`${name}-config`, {
            backend: backend.path,
            kubernetesHost: args.kubernetesHost,
            kubernetesCaCert: args.kubernetesCaCert,
            tokenReviewerJwt: args.tokenReviewerJwt === undefined ? undefined : pulumi.secret(args.tokenReviewerJwt),
            // `issuer` is deprecated upstream and only read when validation is on: not sent otherwise.
            issuer: args.validateIssuer ? args.issuer : undefined,
            disableIssValidation: !args.validateIssuer,
            // Vault runs outside the cluster: there is no local service-account file to fall back on.
            disableLocalCaJwt: true,
        }, vaultOpts);

        // From the config, not the mount: roles and Deployments built on this path then wait for
        // host, CA and reviewer JWT to be written, so a first pod never logs in to a bare mount.
        this.path = pulumi.all([config.backend, backend.path]).apply(([configured, mounted]) => configured ?? mounted);
        this.accessor = backend.accessor;
        this.registerOutputs({ path: this.path, accessor: this.accessor });
    }
}
