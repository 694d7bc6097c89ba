/**
 * The doctor's vocabulary: what a deployment is expected to look like (from the stack outputs),
 * what was observed (recorded Kubernetes and Vault objects), and the checks that compare the two.
 *
 * Kubernetes shapes are `@kubernetes/client-node`'s own model types, imported as types only so the
 * pure diagnosis never loads the client.
 */
import type { InjectionMode } from "../agent/vocabulary";
import type { V1Deployment, V1MutatingWebhookConfiguration, V1Pod } from "@kubernetes/client-node";

export type CheckStatus = "pass" | "fail" | "warn" | "skip";

/** One line of the report. */
export interface Check {
    /** Stable identifier of the kind of check, e.g. `pod.injected`, `log.sa-not-authorized`. */
    id: string;
    /** What was checked: `vault/vault-agent-injector`, `busybox/busybox-7d9c-x2k4f`, `vault:auth/aks/role/busybox`. */
    target: string;
    status: CheckStatus;
    /** What was seen, in one sentence; never a secret value. */
    detail: string;
    /** Why it fails, when known. */
    cause?: string;
    /** What to change. */
    fix?: string;
    /** Upstream issues that document this failure (`owner/repo#n`). */
    ref?: string[];
}

/**
 * `sidecar`: the pod carries `vault-agent-init` and `vault-agent` (the injector's default);
 * `init-only`: only `vault-agent-init`, via `vault.hashicorp.com/agent-pre-populate-only: "true"`.
 */

export interface WorkloadExpectation {
    /** Workload name; also the pods' `app` label (components/workloadBinding.ts). */
    name: string;
    namespace: string;
    serviceAccount: string;
    /** Vault Kubernetes auth role the pods log in with. */
    role: string;
    /** Rendered files, e.g. `/vault/secrets/config.txt`. */
    files: string[];
    /** Omitted: read from the pod's `agent-pre-populate-only` annotation. */
    mode?: InjectionMode;
    /** `false`: the workload has no Deployment (stack output `workloads.<name>.deployment`), so no pods are expected. */
    deployment?: false;
}

export interface Expectations {
    injectorNamespace: string;
    /** Kubernetes auth mount path without `auth/` (e.g. `aks`). */
    authPath?: string;
    /** API server URL as the stack saw it; compared with the auth mount's `kubernetes_host`. */
    apiServerUrl?: string;
    /** The cluster's OIDC issuer URL; compared with the auth mount's `issuer` (jwt: `oidc_discovery_url`, `bound_issuer`). */
    oidcIssuerUrl?: string;
    /** How pods log in (stack output `vaultAuthMethod`); omitted: `kubernetes`. */
    authMethod?: "kubernetes" | "jwt";
    /** Method jwt: the audience of the pods' projected token and the roles' `bound_audiences`. */
    jwtAudience?: string;
    /**
     * The reviewer's long-lived token Secret (stack outputs `injectorNamespace`,
     * `reviewerTokenSecret`, `reviewerTokenSecretUid`); absent unless kubernetesAuth.reviewer is
     * serviceAccountToken. `uid`: the Secret whose JWT the last `up` wrote to Vault.
     */
    reviewerTokenSecret?: { namespace: string; name: string; uid?: string };
    workloads: WorkloadExpectation[];
}

/** The result of one read: the value, or why it could not be read (never thrown past the gatherer). */
export type Observed<T> = { ok: true; value: T } | { ok: false; error: string; status?: number; code?: string };

export interface PodObservation {
    pod: V1Pod;
    /** Recent log lines per agent container (`vault-agent-init`, `vault-agent`). */
    logs: Record<string, Observed<string[]>>;
}

/**
 * `GET /v1/auth/<path>/config` `data`, as Vault returns it (the reviewer JWT is only
 * `token_reviewer_jwt_set`). A JWT mount answers with `oidc_discovery_url` and `bound_issuer` instead.
 */
export interface VaultAuthConfig {
    oidc_discovery_url?: string;
    bound_issuer?: string;
    kubernetes_host?: string;
    kubernetes_ca_cert?: string;
    token_reviewer_jwt_set?: boolean;
    issuer?: string;
    disable_iss_validation?: boolean;
    disable_local_ca_jwt?: boolean;
    [key: string]: unknown;
}

/** `GET /v1/auth/<path>/role/<name>` `data` (Kubernetes or JWT role: each has its own fields). */
export interface VaultRole {
    role_type?: string;
    bound_subject?: string;
    bound_audiences?: string[];
    bound_service_account_names?: string[];
    bound_service_account_namespaces?: string[];
    bound_service_account_namespace_selector?: string;
    audience?: string;
    token_policies?: string[];
    [key: string]: unknown;
}

export interface VaultObservations {
    config: Observed<VaultAuthConfig>;
    /** Keyed by role name. */
    roles: Record<string, Observed<VaultRole>>;
    /** Set when Vault could not be reached (network or TLS error): the roles were not read. */
    unreachable?: { code: string };
}

/** What the API server's TokenReview said of the reviewer's token (`status`; never the token). */
interface TokenReviewResult {
    authenticated: boolean;
    /** `status.user.username`, e.g. `system:serviceaccount:vault:vault-token-reviewer`. */
    username?: string;
    /** `status.error`, e.g. `[invalid bearer token, Token has been invalidated]`. */
    error?: string;
}

/** The reviewer's token Secret as read (its `data` is dropped at once) and the review of its token. */
export interface ReviewerTokenObservation {
    uid?: string;
    /** False: the token controller has not filled `data.token`; no review was made. */
    hasToken: boolean;
    review?: Observed<TokenReviewResult>;
}

export interface Observations {
    /** Deployments labelled `app.kubernetes.io/name=vault-agent-injector` in the injector namespace. */
    injectorDeployments: Observed<V1Deployment[]>;
    /** MutatingWebhookConfigurations labelled `app.kubernetes.io/name=vault-agent-injector`. */
    webhooks: Observed<V1MutatingWebhookConfiguration[]>;
    /** Keyed by workload name. */
    pods: Record<string, Observed<PodObservation[]>>;
    /** Absent: the stack has no reviewer token Secret (reviewer clientJwt, method jwt, or an older stack). */
    reviewerToken?: Observed<ReviewerTokenObservation>;
    /** Absent: the Vault side was not read (no token given). */
    vault?: VaultObservations;
    /**
     * Set when the API server could not be reached at all (every first read failed with a network
     * error): the cluster checks are replaced by one check that says why and what to do.
     */
    unreachable?: { code: string };
}

export interface DoctorReport {
    /** True when no check failed. */
    ok: boolean;
    summary: Record<CheckStatus, number>;
    checks: Check[];
}
