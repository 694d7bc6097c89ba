/**
 * The Vault Agent Injector's vocabulary, written once: annotation names, injection modes,
 * container names and labels. Used by the components (which write them), the policy pack (which
 * checks them: policies/*.ts import this file, so it imports nothing) and the doctor (which reads
 * them back from live pods). Names foreign to this project are checked against vault-k8s's own
 * list in test/reference (test/components/injection.test.ts).
 */

/** vault-k8s's annotation namespace (agent-inject/agent/annotations.go). */
export const ANNOTATION_PREFIX = "vault.hashicorp.com/";

/** An annotation's name without the namespace, as vault-k8s's docs and messages often write it (`auth-config-path`). */
export function shortAnnotationName(key: string): string {
    return key.startsWith(ANNOTATION_PREFIX) ? key.slice(ANNOTATION_PREFIX.length) : key;
}

/** The pod annotations this project writes or reads, by their vault-k8s names. */
export const ANNOTATION = {
    inject: `${ANNOTATION_PREFIX}agent-inject`,
    /** Set by the injector once it has mutated the pod (`injected`). */
    injectStatus: `${ANNOTATION_PREFIX}agent-inject-status`,
    role: `${ANNOTATION_PREFIX}role`,
    authPath: `${ANNOTATION_PREFIX}auth-path`,
    authType: `${ANNOTATION_PREFIX}auth-type`,
    /** Prefix of the auth method's parameters (`auth-config-path`, ...). */
    authConfigPrefix: `${ANNOTATION_PREFIX}auth-config-`,
    /** Vault Enterprise namespace the agent logs in to. */
    namespace: `${ANNOTATION_PREFIX}namespace`,
    /** The init container (default true). */
    prePopulate: `${ANNOTATION_PREFIX}agent-pre-populate`,
    /** Only the init container, no sidecar: mode `init-only`. */
    prePopulateOnly: `${ANNOTATION_PREFIX}agent-pre-populate-only`,
    requestsCpu: `${ANNOTATION_PREFIX}agent-requests-cpu`,
    requestsMem: `${ANNOTATION_PREFIX}agent-requests-mem`,
    limitsCpu: `${ANNOTATION_PREFIX}agent-limits-cpu`,
    limitsMem: `${ANNOTATION_PREFIX}agent-limits-mem`,
    tokenVolumeName: `${ANNOTATION_PREFIX}agent-service-account-token-volume-name`,
    /** `<secretPrefix><file>`: the Vault path rendered into /vault/secrets/<file>. */
    secretPrefix: `${ANNOTATION_PREFIX}agent-inject-secret-`,
    /** `<templatePrefix><file>`: the Consul Template for that file. */
    templatePrefix: `${ANNOTATION_PREFIX}agent-inject-template-`,
} as const;

/**
 * How the agent runs for a workload:
 * - `init-only` (`agent-pre-populate-only`): the agent runs once as an init container, renders the
 *   files and exits. No sidecar: right for static KV secrets, which do not change under a pod.
 * - `sidecar`: the init container renders before the app starts, then a sidecar keeps the token
 *   and re-renders (rotated KV values, leased/dynamic secrets).
 */
export const INJECTION_MODES = ["init-only", "sidecar"] as const;
export type InjectionMode = (typeof INJECTION_MODES)[number];

/** The containers the injector adds to a pod. */
export const AGENT_CONTAINERS = { init: "vault-agent-init", sidecar: "vault-agent" } as const;

/** The chart this project installs, by its name in HashiCorp's repository and in any mirror of it. */
export const VAULT_CHART = "vault";

/** The injector's Helm release name when none is configured (`injector.releaseName`). */
export const DEFAULT_RELEASE_NAME = "vault";

/** The token reviewer's service account name when none is configured (applied by VaultInjector). */
export const DEFAULT_REVIEWER_SERVICE_ACCOUNT = "vault-token-reviewer";

/** The vault chart's name for the injector (its pods', Deployment's and webhook configuration's `app.kubernetes.io/name`). */
export const INJECTOR_APP_NAME = "vault-agent-injector";
export const INJECTOR_NAME_LABEL = `app.kubernetes.io/name=${INJECTOR_APP_NAME}`;
/** The webhook the vault chart registers (templates/injector-mutating-webhook.yaml). */
export const WEBHOOK_NAME = "vault.hashicorp.com";

/**
 * Our label that opts a namespace into injection. The webhook only sees pods in namespaces that
 * carry it (WorkloadBinding labels its namespaces), so with `failurePolicy: Fail` an injector
 * outage blocks pod creation only where Vault secrets are expected, never cluster-wide.
 */
export const INJECTION_LABEL = "aks-vault.io/vault-injection";
export const INJECTION_LABEL_VALUE = "enabled";

/** Kubernetes' recommended `part-of` label, and its value on the namespace this program creates for the injector. */
export const PART_OF_LABEL = "app.kubernetes.io/part-of";
export const INJECTOR_PART_OF = "vault-injector";

/** Where vault-k8s mounts a named token volume that no app container mounts (`DefaultServiceAccountMount`). */
export const INJECTOR_TOKEN_MOUNT = "/var/run/secrets/vault.hashicorp.com/serviceaccount";
