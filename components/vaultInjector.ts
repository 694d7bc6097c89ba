import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { INJECTOR_PART_OF, PART_OF_LABEL } from "../src/agent/vocabulary";
import { TYPE_PREFIX } from "./typePrefix";
import { injectorChildNames } from "../src/config/names";
import { decodeBase64 } from "./kubeconfig";
import { DEFAULT_REVIEWER_SERVICE_ACCOUNT } from "../src/agent/vocabulary";
import { ChartValues, InjectorOptions, chartSource, renderInjectorValues } from "./injectorValues";

export interface VaultInjectorArgs extends InjectorOptions {
    /** Kubernetes provider of the target cluster (required: never the ambient kubeconfig). */
    provider: k8s.Provider;
    /** External Vault address the agents talk to (`global.externalVaultAddr`). */
    externalVaultAddr: string;
    /** Auth mount path, without `auth/`. */
    authPath: string;
    /**
     * `serviceAccountToken` (default): create the reviewer identity and its long-lived token.
     * `clientJwt`: create none; Vault reviews each workload's JWT with that JWT itself.
     * `none`: create none; Vault calls no TokenReview at all (JWT auth against the OIDC issuer).
     */
    reviewer?: "serviceAccountToken" | "clientJwt" | "none";
    /** PEM CA bundle of a Vault behind a private CA; omitted: the system roots. */
    vaultCaCertPem?: string;
}

/** How long the reviewer token Secret may take to be filled by the token controller. */
const REVIEWER_TOKEN_TIMEOUTS = { create: "5m", update: "5m" } as const;

/**
 * The Vault Agent Injector (vault chart, injector only, external Vault) and the token reviewer
 * identity that Vault uses to call the TokenReview API.
 */
export class VaultInjector extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    /** The chart values sent to Helm. */
    public readonly values: ChartValues;
    public readonly release: k8s.helm.v3.Release;
    /** The chart version deployed: `chartVersion`, checked against a local chart's own. */
    public readonly chartVersion: pulumi.Output<string>;
    /** The reviewer service account; undefined unless `reviewer: serviceAccountToken`. */
    public readonly reviewerServiceAccountName: pulumi.Output<string> | undefined;
    /** Long-lived reviewer JWT from the service-account-token Secret (secret); undefined unless `reviewer: serviceAccountToken`. */
    public readonly reviewerJwt: pulumi.Output<string> | undefined;
    /** Name of the Secret holding the current reviewer token; undefined unless `reviewer: serviceAccountToken`. */
    public readonly reviewerTokenSecretName: pulumi.Output<string> | undefined;
    /**
     * `metadata.uid` of that Secret as read at this `up`: the Secret whose JWT goes to Vault (the
     * doctor compares it with the live Secret's to see one recreated since); undefined unless
     * `reviewer: serviceAccountToken`.
     */
    public readonly reviewerTokenSecretUid: pulumi.Output<string> | undefined;

    constructor(name: string, args: VaultInjectorArgs, opts?: pulumi.ComponentResourceOptions) {
        super(`${TYPE_PREFIX}:VaultInjector`, name, {}, opts);
        const k8sOpts = { parent: this, provider: args.provider };

        const ns = new k8s.core.v1.Namespace(`${name}-ns`, {
            metadata: { name: args.namespace, labels: { [PART_OF_LABEL]: INJECTOR_PART_OF } },
        }, k8sOpts);
        this.namespace = ns.metadata.name;

        this.values = renderInjectorValues(args);

        // helm.v3.Release, not helm.v4.Chart: the injector rewrites its own webhook's caBundle at
        // run time, which a Chart-rendered MutatingWebhookConfiguration would report as drift on
        // every refresh; a Release also keeps `helm history` and rollback for operators.
        this.release = new k8s.helm.v3.Release(`${name}-chart`, {
            name: args.releaseName,
            ...chartSource(args.chartRepository, args.chartPath),
            version: args.chartVersion,
            namespace: this.namespace,
            values: this.values,
            atomic: true,
            cleanupOnFail: true,
            maxHistory: 10,
            timeout: 600,
        }, k8sOpts);

        // Helm takes a local chart's own version and ignores the one asked for (pulumi-kubernetes
        // helm_release.go Check: `new.Version = chart.Metadata.Version`), so a wrong archive would
        // deploy silently; the version the provider resolved is checked here, at preview.
        this.chartVersion = this.release.version.apply((resolved) => {
            if (args.chartPath !== undefined && resolved !== undefined && resolved !== args.chartVersion) {
                throw new pulumi.RunError(
                    `injector.chartPath: the chart at ${args.chartPath} is version ${resolved}, but injector.chartVersion is ` +
                        `${args.chartVersion}; point chartPath at the ${args.chartVersion} chart or set chartVersion to ${resolved}`,
                );
            }
            return args.chartVersion;
        });

        if ((args.reviewer ?? "serviceAccountToken") !== "serviceAccountToken") {
            // No long-lived token anywhere. clientJwt: Vault reviews each workload's JWT with that
            // JWT, and each WorkloadBinding grants its own service account system:auth-delegator.
            // none: JWT auth, Vault never calls the API server.
            this.reviewerServiceAccountName = undefined;
            this.reviewerJwt = undefined;
            this.reviewerTokenSecretName = undefined;
            this.reviewerTokenSecretUid = undefined;
        } else {
            const sa = new k8s.core.v1.ServiceAccount(`${name}-reviewer`, {
                metadata: { name: args.reviewerServiceAccount ?? DEFAULT_REVIEWER_SERVICE_ACCOUNT, namespace: this.namespace },
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

            // Rotation: the keeper's change makes a new random suffix, so a new Secret (new name, new
            // JWT) is created, Vault's config is updated from it, and only then is the old Secret
            // deleted (create-before-delete): logins never see a dead reviewer token.
            const suffix = args.reviewerTokenRotation === undefined
                ? undefined
                : new random.RandomId(
                    `${name}-reviewer-token-id`,
                    { byteLength: 4, keepers: { rotation: String(args.reviewerTokenRotation) } },
                    { parent: this },
                ).hex;
            const secretName = suffix === undefined
                ? pulumi.interpolate`${sa.metadata.name}-token`
                : pulumi.interpolate`${sa.metadata.name}-token-${suffix}`;

            // A long-lived token: a pod's projected token expires and dies with the pod
            // (hashicorp/vault#12855), which would break every login once it did.
            const tokenSecret = new k8s.core.v1.Secret(injectorChildNames.reviewerTokenSecret(name), {
                metadata: {
                    name: secretName,
                    namespace: this.namespace,
                    annotations: { "kubernetes.io/service-account.name": sa.metadata.name },
                },
                type: "kubernetes.io/service-account-token",
            // The token controller fills `data.token` after the Secret is created; the Kubernetes
            // provider's await for service-account-token Secrets waits for it
            // (pulumi/pulumi-kubernetes#2048), bounded here explicitly by customTimeouts so a slow
            // controller gets minutes, not the default, and a dead one fails clearly.
            }, { ...k8sOpts, dependsOn: [sa], deleteBeforeReplace: false, customTimeouts: REVIEWER_TOKEN_TIMEOUTS });
            this.reviewerTokenSecretName = tokenSecret.metadata.name;

            // The JWT comes from the live Secret, read on every `up` and `preview`, not from the
            // managed Secret's state: a Secret deleted and recreated out of band (the controller
            // mints a new JWT; the old one is dead) would otherwise leave Vault with the dead JWT
            // while `up` reports no changes, and every login would fail with "permission denied".
            // Read, the new JWT shows as a change to Vault's config at preview and is written at
            // `up`. A Secret deleted and not recreated fails the read, naming it: `pulumi up
            // --refresh` then recreates it (docs/troubleshooting.md).
            const live = k8s.core.v1.Secret.get(
                `${name}-reviewer-token-live`,
                pulumi.interpolate`${tokenSecret.metadata.namespace}/${tokenSecret.metadata.name}`,
                { ...k8sOpts, dependsOn: [tokenSecret] },
            );
            this.reviewerTokenSecretUid = live.metadata.uid;
            const tokenInputs = pulumi.all([live.data, tokenSecret.metadata.name, sa.metadata.name]);
            this.reviewerJwt = pulumi.secret(tokenInputs.apply(([data, secretName, saName]) => {
                const token = data?.token;
                if (token === undefined || token === "") {
                    throw new pulumi.RunError(
                        `the token controller did not fill Secret ${args.namespace}/${secretName} ` +
                            `(type kubernetes.io/service-account-token) within ${REVIEWER_TOKEN_TIMEOUTS.create}: ` +
                            `check that service account ${saName} exists and kube-controller-manager is healthy, then run again`,
                    );
                }
                return decodeBase64(token);
            }));
        }

        this.registerOutputs({
            namespace: this.namespace,
            chartVersion: this.chartVersion,
            reviewerServiceAccountName: this.reviewerServiceAccountName,
            reviewerJwt: this.reviewerJwt,
        });
    }
}
