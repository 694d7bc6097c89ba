/**
 * The preflight's vocabulary: what the program will bind for each workload (the plan, from the
 * stack's settings), what the live cluster and Vault answered when asked as that workload, and the
 * findings that compare the two. Findings have the doctor's shape (id, target, status, detail,
 * cause, fix, ref) plus the workload and the Vault path they are about.
 */

export type FindingStatus = "pass" | "fail" | "warn" | "skip";

/** Where a rendered path comes from: a `secrets[]` entry's path, or a `secret` call in its template. */
export interface RenderedPath {
    /** The API path the agent reads, e.g. `secret/data/devops`. */
    path: string;
    /** The file under /vault/secrets it renders into. */
    file: string;
}

/** What the program binds for one workload (components/workloadBinding.ts, src/program/program.ts). */
export interface PlannedWorkload {
    name: string;
    namespace: string;
    serviceAccount: string;
    /** Vault role name. */
    role: string;
    /** The generated policy the role carries (`<policyPrefix><name>`). */
    policy: string;
    /** The token audience the role is bound to (kubernetes: the role's `audience`; jwt: `bound_audiences`). */
    audience: string;
    /** Every path the workload's annotations render, once per path (first file that renders it). */
    renders: RenderedPath[];
    /** Declared capabilities per API path: `read` on readable paths, extras on owned ones (renderKvPolicy). */
    declared: Record<string, string[]>;
    /** Paths this workload must not reach: other workloads' paths it was not granted, external ones, the mount-wide probe. */
    foreign: ForeignPath[];
}

/** A path the workload must have no capability on, and whose it is. */
interface ForeignPath {
    path: string;
    /** The owning workload; `external` (kv.external, not naming this workload); `mount` (the `<kv>/data/*` probe). */
    owner: string;
}

export interface PreflightPlan {
    /** The stack, for the fixes (`aks-vault refresh --stack <stack>`). */
    stack: string;
    authMethod: "kubernetes" | "jwt";
    /** Auth mount path without `auth/`. */
    authPath: string;
    /** KV v2 mount path. */
    kvMount: string;
    /** Vault Enterprise namespace, when set. */
    vaultNamespace?: string;
    /**
     * Method kubernetes with reviewer serviceAccountToken: the reviewer's token Secret, whose token
     * Vault holds as `token_reviewer_jwt`, as the last `up` read it (outputs `injectorNamespace`,
     * `reviewerTokenSecret`, `reviewerTokenSecretUid`). Absent when the outputs do not name it.
     */
    reviewerTokenSecret?: { namespace: string; name: string; uid?: string };
    workloads: PlannedWorkload[];
}

/** A failed read or call: HTTP status and the server's message (never a credential), or a network code. */
export interface CallError {
    status?: number;
    /** Node's errno / TLS code when the server could not be reached. */
    code?: string;
    message: string;
}

export type Answer<T> = { ok: true; value: T } | ({ ok: false } & CallError);

/** `GET auth/<path>/role/<role>` data (kubernetes or jwt role fields). */
export interface LiveRole {
    bound_service_account_names?: string[];
    bound_service_account_namespaces?: string[];
    audience?: string;
    role_type?: string;
    bound_subject?: string;
    bound_audiences?: string[];
    token_policies?: string[];
    [key: string]: unknown;
}

/** `GET sys/mounts/<path>` data (auth mounts under `auth/<path>`). */
export interface LiveMount {
    type?: string;
    options?: Record<string, string> | null;
    [key: string]: unknown;
}

/** What the operator's token read (absent without one). */
export interface OperatorReads {
    authMount: Answer<LiveMount>;
    kvMount: Answer<LiveMount>;
    /** Keyed by role name. */
    roles: Record<string, Answer<LiveRole>>;
}

/** What happened when the preflight acted as one workload. */
export interface WorkloadObservation {
    /** TokenRequest for the service account with the planned audience. */
    tokenRequest: Answer<true>;
    /** Login at the planned mount and role; absent when no token could be requested. */
    login?: Answer<{ policies: string[] }>;
    /** `sys/capabilities-self` per path asked (rendered, declared and foreign); absent without a login. */
    capabilities?: Answer<Record<string, string[]>>;
    /** `auth/token/revoke-self` of the login's token; absent without a login. */
    revoked?: Answer<true>;
}

export interface PreflightObservations {
    operator?: OperatorReads;
    /** Keyed by workload name. */
    workloads: Record<string, WorkloadObservation>;
    /** The live reviewer token Secret's `metadata.uid` (the plan names the Secret and the issuer can read it). */
    reviewerTokenSecret?: Answer<string>;
    /** Set when Vault could not be reached at all (network or TLS): nothing else was asked. */
    vaultUnreachable?: CallError;
    /** Set when the API server could not be reached at all. */
    clusterUnreachable?: CallError;
}

/** Which parts of the stack exist already (from its state or outputs): what is missing before then is "not yet". */
export interface Deployed {
    /** The auth and KV mounts (stage vault-auth). */
    vaultAuth: boolean;
    /** Namespaces, service accounts, roles and policies (stage workloads). */
    workloads: boolean;
    /**
     * The resources the stack's state holds, as `<type>::<name>` (a URN's last type and its name),
     * when known (the gate before `up`: src/preflight/deployed.ts). A piece missing live is then
     * "gone" only when the state holds it; one the state does not hold is what this `up` creates:
     * a workload just added or renamed, or the rest of a stage whose last run failed half way.
     */
    inState?: ReadonlySet<string>;
}

/** One line of the report. */
export interface Finding {
    /** `preflight.login`, `path.missing`, ... (docs/preflight.md lists them). */
    id: string;
    /** The workload it is about; absent for stack-wide findings (the mounts). */
    workload?: string;
    /** What was checked: `busybox:secret/data/devops`, `vault:auth/aks/role/busybox`. */
    target: string;
    /** The Vault API path, when the finding is about one. */
    path?: string;
    status: FindingStatus;
    /** What was seen, one sentence; never a secret value or a token. */
    detail: string;
    cause?: string;
    fix?: string;
    ref?: string[];
}

export interface PreflightReport {
    /** True when no finding failed. */
    ok: boolean;
    summary: Record<FindingStatus, number>;
    /** Workloads that logged in and can read every path they render, out of all. */
    workloads: { green: number; total: number };
    findings: Finding[];
}
