import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as resources from "@pulumi/azure-native/resources";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import * as k8s from "@pulumi/kubernetes";
import { decodeBase64, parseKubeconfig } from "./kubeconfig";
import { KubeloginLogin, toKubeloginKubeconfig } from "./kubelogin";
import { TYPE_PREFIX } from "./typePrefix";

/** The built-in AcrPull role (Azure built-in role definition ID). */
const ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

export interface AksPoolArgs {
    /** Pool name, 1-12 lower-case letters/digits. */
    name: string;
    /** VM size, e.g. `Standard_D2s_v3`. */
    vmSize: string;
    /** Autoscaler minimum node count. */
    minCount: number;
    /** Autoscaler maximum node count. */
    maxCount: number;
    /** Maximum pods per node. */
    maxPods: number;
    /** `Regular` or `Spot`. */
    priority: "Regular" | "Spot";
    /** Spot only: `Delete` (default on Spot) or `Deallocate`. */
    evictionPolicy?: "Delete" | "Deallocate";
    /** Spot only: maximum hourly price, -1 for on-demand price. */
    spotMaxPrice?: number;
    /** Node taints, `key=value:Effect`. */
    taints: string[];
    /** Node labels. */
    labels: Record<string, string>;
    /** Availability zones, e.g. `["1","2","3"]`. */
    availabilityZones?: string[];
    /** OS disk size in GB; default: the VM size's default. */
    osDiskSizeGB?: number;
}

/**
 * How the program gets Kubernetes credentials. `admin` (default): the admin kubeconfig, refused by
 * Azure on clusters with local accounts disabled. `kubelogin`: the Entra ID user kubeconfig with a
 * non-interactive `kubelogin get-token` exec (`kubelogin` must be on the PATH of `pulumi`).
 */
export type AksCredentialsArgs =
    | { mode: "admin" }
    | {
          mode: "kubelogin";
          login: KubeloginLogin;
          /** spn: the application (client) ID; msi: a user-assigned identity's client ID. */
          clientId?: string;
          /** spn: the client secret; wrapped as a secret here. */
          clientSecret?: pulumi.Input<string>;
          /** Tenant ID; default: the one in the kubeconfig AKS returns. */
          tenantId?: string;
      };

export interface AksCreateArgs {
    mode: "create";
    /** AKS cluster name. */
    name: string;
    /** Resource group, created by this component. */
    resourceGroupName: string;
    /** Azure region, e.g. `francecentral`. */
    location: string;
    /** Kubernetes version; default: the AKS default. */
    kubernetesVersion?: string;
    /** DNS prefix; default: the cluster name. */
    dnsPrefix?: string;
    /** The system node pool (mode System). */
    systemPool: AksPoolArgs;
    /** User node pools (mode User). */
    userPools: AksPoolArgs[];
    /** Azure CNI overlay addressing. */
    network: { podCidr: string; serviceCidr: string; dnsServiceIp: string; subnetId?: string };
    /**
     * IPv4 CIDR blocks allowed to reach the API server (`apiServerAccessProfile.authorizedIPRanges`);
     * `[]`: no restriction. Default: not set by this component.
     */
    apiServerAuthorizedIpRanges?: string[];
    /** Log Analytics workspace resource ID for Container Insights; default: off. */
    logAnalyticsWorkspaceId?: string;
    /** ACR resource ID the kubelet identity may pull from; default: none. */
    acrId?: string;
    /** Turn on Entra workload identity (webhook). The OIDC issuer is always on. */
    workloadIdentity: boolean;
    /** Resource tags. */
    tags: Record<string, string>;
    /** Protect the resource group and the cluster (`protect`). Default true. */
    protect?: boolean;
    /** AKS-managed Entra ID integration. Default: none. */
    entraId?: { adminGroupObjectIds: string[]; azureRbac: boolean };
    /** Turn off local accounts (admin credentials refused; use kubelogin credentials). Default false. */
    disableLocalAccounts?: boolean;
    /** Credentials mode. Default `{ mode: "admin" }`. */
    credentials?: AksCredentialsArgs;
}

export interface AksAdoptArgs {
    mode: "adopt";
    /** Name of the existing AKS cluster. */
    name: string;
    /** Its resource group. */
    resourceGroupName: string;
    /** Credentials mode. Default `{ mode: "admin" }`. */
    credentials?: AksCredentialsArgs;
}

/**
 * A cluster this program neither creates nor reads from Azure: any conformant Kubernetes API
 * server reached through a kubeconfig (a cluster another tool manages, or the local end-to-end
 * stack). Nothing is registered in Azure.
 */
export interface ExistingClusterArgs {
    mode: "existing";
    /** Stable name of the cluster: the Kubernetes provider's `clusterIdentifier`. */
    name: string;
    /** The kubeconfig (its current context is used); wrapped as a secret here. */
    kubeconfig: pulumi.Input<string>;
    /** The cluster's service-account issuer: the `iss` of its tokens. */
    oidcIssuerUrl: string;
}

export type AksClusterArgs = AksCreateArgs | AksAdoptArgs | ExistingClusterArgs;

/**
 * The message for an adopted cluster whose OIDC issuer is off. Turning it on changes the issuer
 * of the cluster's service-account tokens and restarts the API server; tokens already in pods
 * keep the old issuer, and AKS says to restart pods that fail afterwards
 * (https://learn.microsoft.com/azure/aks/use-oidc-issuer, the warning at the top).
 */
export function oidcOffMessage(resourceGroupName: string, name: string): string {
    return (
        `AKS cluster "${name}" in resource group "${resourceGroupName}" has its OIDC issuer turned off; ` +
        `Vault checks service-account tokens against its issuer URL ` +
        `(kubernetesAuth.method jwt, kubernetesAuth.validateIssuer). Turn it on with ` +
        `"az aks update --resource-group ${resourceGroupName} --name ${name} --enable-oidc-issuer" ` +
        `(it cannot be turned off again). This changes the issuer of the cluster's service-account tokens and ` +
        `restarts the API server; tokens already mounted in pods keep the old issuer, so then restart every pod ` +
        `that uses a service-account token, the Vault Agent Injector's included ` +
        `("kubectl rollout restart deployment,statefulset,daemonset -n <namespace>" in each namespace; ` +
        `https://learn.microsoft.com/azure/aks/use-oidc-issuer), then run this program again.`
    );
}

/** The message for an adopted Entra ID-only cluster with admin credentials configured. */
export function localAccountsOffMessage(resourceGroupName: string, name: string): string {
    return (
        `AKS cluster "${name}" in resource group "${resourceGroupName}" has local accounts disabled, so Azure refuses ` +
        `admin credentials; set cluster.credentials to {mode: kubelogin, login: spn|msi|azurecli} (docs/security.md).`
    );
}

/** The fields a pool has whether it is inline in the cluster (system) or an AgentPool (user). */
function poolSpec(pool: AksPoolArgs, mode: "System" | "User", subnetId: string | undefined) {
    const spot = pool.priority === "Spot";
    return {
        mode,
        vmSize: pool.vmSize,
        osType: "Linux",
        type: "VirtualMachineScaleSets",
        enableAutoScaling: true,
        count: pool.minCount,
        minCount: pool.minCount,
        maxCount: pool.maxCount,
        maxPods: pool.maxPods,
        scaleSetPriority: pool.priority,
        scaleSetEvictionPolicy: spot ? (pool.evictionPolicy ?? "Delete") : undefined,
        spotMaxPrice: spot ? (pool.spotMaxPrice ?? -1) : undefined,
        nodeTaints: pool.taints.length > 0 ? pool.taints : undefined,
        nodeLabels: Object.keys(pool.labels).length > 0 ? pool.labels : undefined,
        availabilityZones: pool.availabilityZones,
        osDiskSizeGB: pool.osDiskSizeGB,
        vnetSubnetID: subnetId,
    } satisfies Omit<azureInputs.containerservice.ManagedClusterAgentPoolProfileArgs, "name">;
}

/** What the rest of the component needs from a created or adopted cluster. */
interface ClusterHandle {
    clusterName: pulumi.Output<string>;
    rgName: pulumi.Output<string>;
    issuer: pulumi.Output<string>;
    /**
     * Gate for the credentials invoke: it must wait for the cluster to exist, so in a first
     * preview (cluster id unknown) the invoke is skipped rather than failing with a 404.
     */
    ready: pulumi.Output<string>;
}

/** Creates the resource group, the cluster, its user pools and (with an ACR) the AcrPull grant. */
function createCluster(name: string, args: AksCreateArgs, parent: pulumi.Resource): ClusterHandle {
    const rg = new resources.ResourceGroup(`${name}-rg`, {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        tags: args.tags,
    }, { parent, protect: args.protect ?? true });

    const addonProfiles: Record<string, azureInputs.containerservice.ManagedClusterAddonProfileArgs> = {};
    if (args.logAnalyticsWorkspaceId !== undefined) {
        addonProfiles.omsagent = { enabled: true, config: { logAnalyticsWorkspaceResourceID: args.logAnalyticsWorkspaceId } };
    }

    const cluster = new containerservice.ManagedCluster(`${name}-aks`, {
        resourceGroupName: rg.name,
        resourceName: args.name,
        location: args.location,
        dnsPrefix: args.dnsPrefix ?? args.name,
        kubernetesVersion: args.kubernetesVersion,
        identity: { type: "SystemAssigned" },
        enableRBAC: true,
        oidcIssuerProfile: { enabled: true },
        securityProfile: args.workloadIdentity ? { workloadIdentity: { enabled: true } } : undefined,
        // Only the system pool inline: Azure does not update agentPoolProfiles through the
        // cluster, so user pools are AgentPool resources below, which can change on day 2.
        agentPoolProfiles: [{ name: args.systemPool.name, ...poolSpec(args.systemPool, "System", args.network.subnetId) }],
        networkProfile: {
            networkPlugin: "azure",
            networkPluginMode: "overlay",
            podCidr: args.network.podCidr,
            serviceCidr: args.network.serviceCidr,
            dnsServiceIP: args.network.dnsServiceIp,
            loadBalancerSku: "standard",
        },
        addonProfiles: Object.keys(addonProfiles).length > 0 ? addonProfiles : undefined,
        aadProfile: args.entraId === undefined ? undefined : {
            managed: true,
            enableAzureRBAC: args.entraId.azureRbac,
            adminGroupObjectIDs: args.entraId.adminGroupObjectIds.length > 0 ? args.entraId.adminGroupObjectIds : undefined,
        },
        disableLocalAccounts: args.disableLocalAccounts === true ? true : undefined,
        // Managed here, not by hand: Vault's egress IP must stay allowed for TokenReview, and an
        // `up` would not keep a range added outside the program.
        apiServerAccessProfile: args.apiServerAuthorizedIpRanges === undefined
            ? undefined
            : { authorizedIPRanges: args.apiServerAuthorizedIpRanges },
        tags: args.tags,
    // Protected: a destroy (or a config change that would replace the cluster) stops
    // instead of deleting it; see docs/security.md for tearing down on purpose.
    // agentPoolProfiles is ignored after creation: changing it through the cluster fails, and
    // the user pools (AgentPool resources) are not in it. The system pool's settings apply at
    // creation (scale it with `az aks nodepool update`; keep capacity in user pools).
    }, { parent, protect: args.protect ?? true, ignoreChanges: ["agentPoolProfiles"] });

    for (const pool of args.userPools) {
        new containerservice.AgentPool(`${name}-pool-${pool.name}`, {
            resourceGroupName: rg.name,
            resourceName: cluster.name,
            agentPoolName: pool.name,
            orchestratorVersion: args.kubernetesVersion,
            ...poolSpec(pool, "User", args.network.subnetId),
        // The autoscaler owns `count` once the pool exists: azure-native PUTs the whole pool from
        // its inputs, so without this every later change (maxCount, labels, version) would also
        // send the creation-time count, which AKS refuses or acts on while the autoscaler is on.
        // `count` is sent at creation only; afterwards the value in state is kept (a `refresh`
        // reads the live count into it). The same practice as terraform-provider-azurerm's
        // documented `ignore_changes = [node_count]` for autoscaled pools
        // (website/docs/r/kubernetes_cluster_node_pool.html.markdown, `node_count`).
        }, { parent, ignoreChanges: ["count"] });
    }

    if (args.acrId !== undefined) {
        const acrId = args.acrId;
        const subscription = /^\/subscriptions\/([^/]+)\//i.exec(acrId)?.[1];
        if (subscription === undefined) {
            throw new Error(`cluster.acrId must be an ACR resource ID (/subscriptions/<id>/resourceGroups/...); found "${acrId}"`);
        }
        new authorization.RoleAssignment(`${name}-acr-pull`, {
            scope: acrId,
            roleDefinitionId: `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE}`,
            principalId: cluster.identityProfile.apply((p) => {
                const id = p?.kubeletidentity?.objectId;
                if (id === undefined) {
                    throw new pulumi.RunError(`AKS cluster "${args.name}" reports no kubelet identity; cannot grant AcrPull`);
                }
                return id;
            }),
            principalType: "ServicePrincipal",
        }, { parent });
    }

    const issuer = cluster.oidcIssuerProfile.apply((p) => {
        if (p?.issuerURL === undefined) throw new pulumi.RunError(`AKS cluster "${args.name}" reports no OIDC issuer URL`);
        return p.issuerURL;
    });
    return { clusterName: cluster.name, rgName: rg.name, issuer, ready: pulumi.all([cluster.id, cluster.name]).apply(([, n]) => n) };
}

/** Reads an existing cluster; refuses one without the OIDC issuer, or admin credentials with local accounts off. */
function adoptCluster(args: AksAdoptArgs, parent: pulumi.Resource): ClusterHandle {
    const existing = containerservice.getManagedClusterOutput(
        { resourceGroupName: args.resourceGroupName, resourceName: args.name },
        { parent },
    );
    const issuer = existing.apply((c) => {
        if (c.oidcIssuerProfile?.enabled !== true || c.oidcIssuerProfile.issuerURL === undefined) {
            throw new pulumi.RunError(oidcOffMessage(args.resourceGroupName, args.name));
        }
        // Fail before any Kubernetes resource waits on credentials Azure will refuse.
        if (c.disableLocalAccounts === true && (args.credentials ?? { mode: "admin" }).mode === "admin") {
            throw new pulumi.RunError(localAccountsOffMessage(args.resourceGroupName, args.name));
        }
        return c.oidcIssuerProfile.issuerURL;
    });
    return {
        clusterName: existing.name,
        rgName: pulumi.output(args.resourceGroupName),
        issuer,
        // Adoption fails fast on an OIDC-less cluster: nothing downstream is built on it.
        ready: pulumi.all([issuer, existing.name]).apply(([, n]) => n),
    };
}

/** The kubeconfig this program uses, secret from the start: admin, or Entra ID user with kubelogin. */
function kubeconfigFor(args: AksCreateArgs | AksAdoptArgs, cluster: ClusterHandle, parent: pulumi.Resource): pulumi.Output<string> {
    const credentials = args.credentials ?? { mode: "admin" };
    if (credentials.mode === "admin") {
        const creds = containerservice.listManagedClusterAdminCredentialsOutput(
            { resourceGroupName: cluster.rgName, resourceName: cluster.ready },
            { parent },
        );
        return pulumi.secret(creds.apply((c) => {
            const value = c.kubeconfigs[0]?.value;
            if (value === undefined) throw new pulumi.RunError(`AKS returned no admin kubeconfig for cluster "${args.name}"`);
            return decodeBase64(value);
        }));
    } else {
        // Entra ID clusters with local accounts disabled refuse admin credentials; the user
        // kubeconfig with a non-interactive kubelogin works with or without local accounts.
        const creds = containerservice.listManagedClusterUserCredentialsOutput(
            { resourceGroupName: cluster.rgName, resourceName: cluster.ready, format: "exec" },
            { parent },
        );
        const { login, clientId, tenantId } = credentials;
        return pulumi.secret(pulumi.all([creds, credentials.clientSecret]).apply(([c, clientSecret]) => {
            const value = c.kubeconfigs[0]?.value;
            if (value === undefined) throw new pulumi.RunError(`AKS returned no user kubeconfig for cluster "${args.name}"`);
            try {
                return toKubeloginKubeconfig(decodeBase64(value), { login, clientId, clientSecret, tenantId });
            } catch (err) {
                // The helper's messages name settings only, never a credential.
                throw new pulumi.RunError(`cluster "${args.name}": ${(err as Error).message}`);
            }
        }));
    }
}

/**
 * An AKS cluster with the OIDC issuer on, created or adopted, or an existing cluster given by its
 * kubeconfig and issuer, and a Kubernetes provider for it.
 */
export class AksCluster extends pulumi.ComponentResource {
    /** Kubeconfig this program uses (secret): admin, or Entra ID user with a kubelogin exec. */
    public readonly kubeconfig: pulumi.Output<string>;
    /** API server URL, `https://<fqdn>:443`. */
    public readonly apiServerUrl: pulumi.Output<string>;
    /** Cluster CA certificate, PEM. */
    public readonly caCertPem: pulumi.Output<string>;
    /** OIDC issuer URL: the `iss` of the cluster's service-account tokens. */
    public readonly oidcIssuerUrl: pulumi.Output<string>;
    /**
     * The audience the API server accepts bearer tokens for (its `--api-audiences`): on AKS
     * `https://<fqdn>`, the API server URL without `:443` (the `aud` of the pods' default tokens);
     * on an `existing` cluster Kubernetes' default, the service-account issuer.
     */
    public readonly apiAudience: pulumi.Output<string>;
    public readonly clusterName: pulumi.Output<string>;
    /** The cluster's resource group; undefined for an `existing` cluster (not an Azure resource here). */
    public readonly resourceGroupName: pulumi.Output<string> | undefined;
    /** A Kubernetes provider for this cluster; replaced only if the cluster's identity changes. */
    public readonly provider: k8s.Provider;

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}:AksCluster`, name, {}, opts);

        if (args.mode === "existing") {
            this.kubeconfig = pulumi.secret(args.kubeconfig);
            this.oidcIssuerUrl = pulumi.output(args.oidcIssuerUrl);
            this.clusterName = pulumi.output(args.name);
            this.resourceGroupName = undefined;
        } else {
            const cluster = args.mode === "create" ? createCluster(name, args, this) : adoptCluster(args, this);
            this.kubeconfig = kubeconfigFor(args, cluster, this);
            this.oidcIssuerUrl = cluster.issuer;
            this.clusterName = cluster.clusterName;
            this.resourceGroupName = cluster.rgName;
        }
        // Server and CA are public facts of the cluster, so they are unwrapped from the secret.
        const facts = pulumi.unsecret(this.kubeconfig).apply(parseKubeconfig);
        this.apiServerUrl = facts.server;
        this.caCertPem = facts.caCertPem;
        // kube-apiserver: --api-audiences defaults to the --service-account-issuer value.
        this.apiAudience = args.mode === "existing"
            ? this.oidcIssuerUrl
            : this.apiServerUrl.apply((url) => url.replace(/:443\/?$/, "").replace(/\/$/, ""));

        this.provider = new k8s.Provider(`${name}-k8s`, {
            kubeconfig: this.kubeconfig,
            // Credential rotation changes the kubeconfig; only a different cluster may replace the
            // provider (and with it every Kubernetes resource).
            clusterIdentifier: args.mode === "existing" ? `existing/${args.name}` : `${args.resourceGroupName}/${args.name}`,
            enableServerSideApply: true,
        }, { parent: this });

        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            apiServerUrl: this.apiServerUrl,
            caCertPem: this.caCertPem,
            oidcIssuerUrl: this.oidcIssuerUrl,
            clusterName: this.clusterName,
            resourceGroupName: this.resourceGroupName,
        });
    }
}
