import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX } from "./typePrefix";

export interface VaultJwtAuthArgs {
    /** Vault provider (required: never the ambient VAULT_ADDR). */
    provider: vault.Provider;
    /** Mount path, without `auth/`. */
    path: string;
    /** Mount description. */
    description?: string;
    /**
     * The cluster's OIDC issuer URL exactly as AKS reports it (from `AksCluster.oidcIssuerUrl`),
     * trailing slash included: used as `oidc_discovery_url` and `bound_issuer`.
     */
    issuer: pulumi.Input<string>;
}

/**
 * Vault's JWT auth method for one cluster: Vault fetches the AKS issuer's discovery document and
 * signing keys (public URLs) and checks the pods' service-account tokens itself. No reviewer
 * token, no call from Vault to the API server: works for private clusters.
 *
 * The URL is passed through untouched: Vault (hashicorp/cap jwt.NewOIDCDiscoveryKeySet) requires the
 * discovery document's `issuer` to equal `oidc_discovery_url` exactly, and AKS publishes it with
 * the trailing slash (Azure/azure-workload-identity#1700); the tokens' `iss` carries the same
 * string, which `bound_issuer` then pins.
 */
export class VaultJwtAuth extends pulumi.ComponentResource {
    /** Mount path without `auth/`. */
    public readonly path: pulumi.Output<string>;
    public readonly accessor: pulumi.Output<string>;

    constructor(name: string, args: VaultJwtAuthArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}:VaultJwtAuth`, name, {}, opts);

        // One resource mounts the method and writes its config; Vault checks the discovery URL
        // when the config is written ("error checking oidc discovery URL"), so a wrong URL fails
        // the `up` here rather than every login later.
        const backend = new vault.jwt.AuthBackend(`${name}-mount`, {
            type: "jwt",
            path: args.path,
            description: args.description,
            oidcDiscoveryUrl: args.issuer,
            boundIssuer: args.issuer,
        }, { parent: this, provider: args.provider });

        // From the resource, not the input: roles and Deployments built on this path then wait
        // for the mount and its config.
        this.path = pulumi.all([backend.path, pulumi.output(args.path)]).apply(([mounted, wanted]) => mounted ?? wanted);
        this.accessor = backend.accessor;
        this.registerOutputs({ path: this.path, accessor: this.accessor });
    }
}

/**
 * The default audience of the pods' tokens: the mount's login URL prefix
 * (`<address>/v1/[<namespace>/]auth/<path>`). Specific to this Vault, namespace and mount, so a
 * token minted for it is worth nothing to any other relying party, and never `*`.
 */
export function defaultJwtAudience(vaultAddress: string, authPath: string, vaultNamespace?: string): string {
    const base = vaultAddress.replace(/\/+$/, "");
    const ns = vaultNamespace === undefined ? "" : `${vaultNamespace}/`;
    return `${base}/v1/${ns}auth/${authPath}`;
}
