/**
 * The vault chart's values for an injector-only install against an external Vault. Pure, so the
 * keys it emits are checked against the pinned chart's own values.yaml in the tests: the chart's
 * schema does not reject unknown keys, and Helm silently ignores a mistyped one.
 */
import type { InjectorSettings } from "../src/config/schema";
import {
    DEFAULT_RELEASE_NAME, INJECTION_LABEL, INJECTION_LABEL_VALUE, INJECTOR_APP_NAME, VAULT_CHART,
} from "../src/agent/vocabulary";

/** CPU and memory of the injector pods, as Kubernetes quantities (what the chart accepts). */
interface InjectorResources {
    requests?: { cpu?: string; memory?: string };
    limits?: { cpu?: string; memory?: string };
}

/**
 * The injector's options: the keys of the `injector` settings (src/config/schema.ts, which
 * describes and defaults each one), so a key added there reaches `VaultInjectorArgs` without
 * being written twice. Fields are redeclared only to document what the component does with them,
 * typed from the settings; `resources` is wider (the settings always carry all four quantities,
 * the chart needs none).
 */
export interface InjectorOptions extends Omit<InjectorSettings, "resources"> {
    /** Namespace of the injector and the token reviewer; kept out of the webhook with kube-system. */
    namespace: InjectorSettings["namespace"];
    /** Helm release name (the injector pods' `app.kubernetes.io/instance` label). */
    releaseName: InjectorSettings["releaseName"];
    /** Node selector of the injector pods (none when empty). */
    nodeSelector: InjectorSettings["nodeSelector"];
    /** `injector.webhook.failurePolicy` (docs/security.md). */
    failurePolicy: InjectorSettings["failurePolicy"];
    /** Requests and limits of the injector pods, as sent to the chart. */
    resources: InjectorResources;
    /** The token reviewer's service account; omitted: `DEFAULT_REVIEWER_SERVICE_ACCOUNT` (applied by VaultInjector). */
    reviewerServiceAccount?: InjectorSettings["reviewerServiceAccount"];
    /** Changing it replaces the reviewer token (new Secret before the old one is deleted); omitted: never rotated. */
    reviewerTokenRotation?: InjectorSettings["reviewerTokenRotation"];
}

/** What the chart values are rendered from: the options (namespace, release and policy may be left to the chart) plus where Vault is. */
interface InjectorValuesArgs
    extends Pick<InjectorOptions, "replicas" | "logLevel" | "logFormat" | "imageTag" | "agentImageTag" | "nodeSelector" | "resources">,
        Partial<Pick<InjectorOptions, "namespace" | "releaseName" | "failurePolicy">> {
    /** The external Vault's address (becomes `global.externalVaultAddr`). */
    externalVaultAddr: string;
    /** Auth mount path without `auth/` (e.g. `aks`). */
    authPath: string;
    /** PEM CA bundle of a Vault behind a private CA; reaches the injector and every agent. */
    vaultCaCertPem?: string;
}


/** Namespaces the webhook never sees: control plane, and the injector itself (hashicorp/vault-k8s#258). */
function excludedNamespaces(injectorNamespace: string | undefined): string[] {
    return [...new Set(["kube-system", ...(injectorNamespace === undefined ? [] : [injectorNamespace])])];
}

export type ChartValues = { [key: string]: unknown };

/**
 * How Helm is told where the chart is. An https repository is an index (`repositoryOpts.repo`)
 * with the chart named in it; an OCI registry has no index, so the chart reference itself is
 * the full `oci://<registry>/<path>/vault` and there is no repository option
 * (pulumi/pulumi-kubernetes#1892; `helm install oci://...`). Registry credentials come from
 * `helm registry login` on the machine that runs pulumi (pulumi/pulumi-kubernetes#1914).
 */
export function chartSource(repository: string, localPath?: string): { chart: string; repositoryOpts?: { repo: string } } {
    // A local chart has no repository: Helm loads the directory or archive itself (helm's
    // LocateChart; pulumi-kubernetes helm_release.go locateChart checks the path exists).
    if (localPath !== undefined) return { chart: localPath };
    if (repository.startsWith("oci://")) return { chart: `${repository.replace(/\/+$/, "")}/${VAULT_CHART}` };
    return { chart: VAULT_CHART, repositoryOpts: { repo: repository } };
}

export function renderInjectorValues(args: InjectorValuesArgs): ChartValues {
    const injector: ChartValues = {
        enabled: true,
        replicas: args.replicas,
        // The blog's `leaderElector.enable` is not a chart key; `enabled` is (and only takes
        // effect with more than one replica).
        leaderElector: { enabled: true },
        authPath: `auth/${args.authPath}`,
        logLevel: args.logLevel,
        logFormat: args.logFormat,
        resources: args.resources,
    };
    if (args.imageTag !== undefined) injector.image = { tag: args.imageTag };
    if (args.agentImageTag !== undefined) injector.agentImage = { tag: args.agentImageTag };
    if (Object.keys(args.nodeSelector).length > 0) injector.nodeSelector = args.nodeSelector;

    // Spread across nodes and zones, but softly: the chart's default `affinity` *requires* one
    // injector pod per node (required podAntiAffinity on kubernetes.io/hostname, vault-helm
    // values.yaml `injector.affinity`), so 3 replicas on a cluster that starts with 2 nodes would
    // wait for the autoscaler inside Helm's atomic wait. Preferred anti-affinity plus
    // ScheduleAnyway spread place each replica on its own node and zone when there is one, and
    // schedule it anyway when there is not. Without a release name Helm's own is unknown here;
    // assume the default one.
    const podLabels = {
        "app.kubernetes.io/name": INJECTOR_APP_NAME,
        "app.kubernetes.io/instance": args.releaseName ?? DEFAULT_RELEASE_NAME,
        component: "webhook",
    };
    const preferApart = (topologyKey: string, weight: number) => ({
        weight,
        podAffinityTerm: { labelSelector: { matchLabels: podLabels }, topologyKey },
    });
    injector.affinity = {
        podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
                preferApart("kubernetes.io/hostname", 100),
                preferApart("topology.kubernetes.io/zone", 50),
            ],
        },
    };
    injector.topologySpreadConstraints = ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: podLabels },
    }));
    // Rendered only when non-empty; maxUnavailable (not minAvailable) so a drain never blocks:
    // with 3 replicas, 2 keep serving the webhook while one node drains.
    injector.podDisruptionBudget = { maxUnavailable: 1 };
    // `webhook.*`, not the deprecated `injector.failurePolicy`/`injector.namespaceSelector`: the
    // non-empty `webhook.failurePolicy` default overrides the old key.
    const webhook: ChartValues = {
        namespaceSelector: {
            matchLabels: { [INJECTION_LABEL]: INJECTION_LABEL_VALUE },
            // Kept even with the opt-in label, in case someone labels kube-system by mistake.
            matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: excludedNamespaces(args.namespace) }],
        },
    };
    // Omitted: the chart's own (`Ignore`).
    if (args.failurePolicy !== undefined) webhook.failurePolicy = args.failurePolicy;
    injector.webhook = webhook;
    if (args.vaultCaCertPem !== undefined) {
        // The injector passes it to every agent it injects (hashicorp/vault-k8s#151).
        injector.extraEnvironmentVars = { AGENT_INJECT_VAULT_CACERT_BYTES: args.vaultCaCertPem };
    }
    return {
        // `global.externalVaultAddr` puts the chart in external mode (no Vault server); the older
        // `injector.externalVaultAddr` is deprecated.
        global: { enabled: true, externalVaultAddr: args.externalVaultAddr },
        injector,
        // The token reviewer is ours (VaultInjector), so the chart must not create its own
        // `vault` service account with a cluster-wide auth-delegator binding nobody uses.
        server: { enabled: false, serviceAccount: { create: false }, authDelegator: { enabled: false } },
        csi: { enabled: false },
        ui: { enabled: false },
    };
}
