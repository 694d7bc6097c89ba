import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { TYPE_PREFIX } from "./aksCluster";
import { decodeBase64 } from "./kubeconfig";
import { ChartValues, renderInjectorValues } from "./injectorValues";

export interface VaultInjectorArgs {
    /** Kubernetes provider of the target cluster (required: never the ambient kubeconfig). */
    provider: k8s.Provider;
    /** Namespace for the injector and the token reviewer, created here. Default `vault`. */
    namespace: string;
    /** Helm release name. Default `vault`. */
    releaseName: string;
    /** Exact vault chart version. Default `0.34.1`; the blog's `0.25.0` works too. */
    chartVersion: string;
    /** Chart repository. Default `https://helm.releases.hashicorp.com`. */
    chartRepository: string;
    /** External Vault address the agents talk to (`global.externalVaultAddr`). */
    externalVaultAddr: string;
    /** Injector replicas (leader election is on). Default 2. */
    replicas: number;
    /** Kubernetes auth mount path, without `auth/`. */
    authPath: string;
    /** Injector log level. Default `info`. */
    logLevel: string;
    /** Injector log format. Default `standard`. */
    logFormat: string;
    /** vault-k8s image tag; default: the chart's. */
    imageTag?: string;
    /** Vault Agent image tag; default: the chart's. */
    agentImageTag?: string;
    /** Node selector for the injector pods. Default none. */
    nodeSelector: Record<string, string>;
    /** Injector pod resources. */
    resources: InjectorValuesResources;
    /** Name of the token reviewer service account. Default `vault-token-reviewer`. */
    reviewerServiceAccount: string;
}

type InjectorValuesResources = Parameters<typeof renderInjectorValues>[0]["resources"];

/**
 * The Vault Agent Injector (vault chart, injector only, external Vault) and the token reviewer
 * identity that Vault uses to call the TokenReview API.
 */
export class VaultInjector extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** The chart values sent to Helm. */
    public readonly values: ChartValues;
    public readonly release: k8s.helm.v3.Release;
    public readonly reviewerServiceAccountName: pulumi.Output<string>;
    /** Long-lived reviewer JWT from the service-account-token Secret (secret). */
    public readonly reviewerJwt: pulumi.Output<string>;

    constructor(name: string, args: VaultInjectorArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}:VaultInjector`, name, {}, opts);
        const k8sOpts = { parent: this, provider: args.provider };

        const ns = new k8s.core.v1.Namespace(`${name}-ns`, {
            metadata: { name: args.namespace, labels: { "app.kubernetes.io/part-of": "vault-injector" } },
        }, k8sOpts);
        this.namespace = ns.metadata.name;

        this.values = renderInjectorValues({
            externalVaultAddr: args.externalVaultAddr,
            replicas: args.replicas,
            authPath: args.authPath,
            logLevel: args.logLevel,
            logFormat: args.logFormat,
            imageTag: args.imageTag,
            agentImageTag: args.agentImageTag,
            nodeSelector: args.nodeSelector,
            resources: args.resources,
        });

        // helm.v3.Release, not helm.v4.Chart: the injector rewrites its own webhook's caBundle at
        // run time, which a Chart-rendered MutatingWebhookConfiguration would report as drift on
        // every refresh; a Release also keeps `helm history` and rollback for operators.
        this.release = new k8s.helm.v3.Release(`${name}-chart`, {
            name: args.releaseName,
            chart: "vault",
            version: args.chartVersion,
            repositoryOpts: { repo: args.chartRepository },
            namespace: this.namespace,
            values: this.values,
            atomic: true,
            cleanupOnFail: true,
            maxHistory: 10,
            timeout: 600,
        }, k8sOpts);

        const sa = new k8s.core.v1.ServiceAccount(`${name}-reviewer`, {
            metadata: { name: args.reviewerServiceAccount, namespace: this.namespace },
            // The reviewer's token is only ever used by Vault, never mounted in a pod.
            automountServiceAccountToken: false,
        }, k8sOpts);
        this.reviewerServiceAccountName = sa.metadata.name;

        // TokenReview is cluster-scoped, so the reviewer needs a ClusterRoleBinding
        // (hashicorp/vault-helm#376, hashicorp/vault-k8s#143).
        new k8s.rbac.v1.ClusterRoleBinding(`${name}-reviewer-auth-delegator`, {
            metadata: { name: pulumi.interpolate`${this.namespace}-${sa.metadata.name}-auth-delegator` },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: this.namespace }],
        }, k8sOpts);

        // A long-lived token: a pod's projected token expires and dies with the pod
        // (hashicorp/vault#12855), which would break every login once it did.
        const tokenSecret = new k8s.core.v1.Secret(`${name}-reviewer-token`, {
            metadata: {
                name: pulumi.interpolate`${sa.metadata.name}-token`,
                namespace: this.namespace,
                annotations: { "kubernetes.io/service-account.name": sa.metadata.name },
            },
            type: "kubernetes.io/service-account-token",
        }, { ...k8sOpts, dependsOn: [sa] });

        this.reviewerJwt = pulumi.secret(tokenSecret.data.apply((data) => {
            const token = data?.token;
            if (token === undefined) throw new pulumi.RunError(`the token controller did not populate Secret ${args.namespace}/${args.reviewerServiceAccount}-token`);
            return decodeBase64(token);
        }));

        this.registerOutputs({
            namespace: this.namespace,
            reviewerServiceAccountName: this.reviewerServiceAccountName,
            reviewerJwt: this.reviewerJwt,
        });
    }
}
