/**
 * Every name the program derives for a system that holds an object, and how that system compares
 * names: two entries of the settings must never name one object (issue 22). `WorkloadBinding`
 * names its children with `childNames`, and validation checks the same names, so the two cannot
 * drift. Pure.
 *
 * How each system normalises (compared that way here):
 * - Vault Kubernetes auth roles: lower-cased on write, read and delete
 *   (vault-plugin-auth-kubernetes v0.23.1 path_role.go `"role/"+strings.ToLower(roleName)`,
 *   backend.go `role()`): `Busybox` and `busybox` are one role. JWT roles are stored as given
 *   (vault-plugin-auth-jwt v0.25.0 path_role.go `rolePrefix+roleName`); compared lower-cased
 *   too, so switching kubernetesAuth.method never merges two roles.
 * - Vault policies: trimmed and lower-cased (vault v1.21.4 vault/policy_store.go `sanitizeName`,
 *   `strings.ToLower(strings.TrimSpace(name))`).
 * - Vault mounts: `audit/`, `auth/`, `sys/`, `cubbyhole/`, `identity/` cannot be mounted over
 *   (vault/mount.go `protectedMounts`), and `auth/token` is the built-in token method.
 * - Vault KV paths: case-sensitive, compared exactly (no `.`/`..` or empty segments: schema.ts).
 * - Kubernetes namespaces and service accounts: DNS-1123 labels, lower case by the schema; the
 *   injector lower-cases secret file names (validate.ts compares them so).
 * - Pulumi: a URN is `<stack>::<project>::<parent type>$<type>::<name>`: the parent's *name* is
 *   not in it, so two bindings' children of one type must not share a name, or the whole
 *   `up` fails with a duplicate URN for every team.
 */

/** Vault Kubernetes auth's storage key for a role name (and, by choice, JWT auth's). */
export function normalizeRole(name: string): string {
    return name.toLowerCase();
}

/** Vault's storage key for a policy name: trimmed and lower-cased (vault/policy_store.go `sanitizeName`). */
export function normalizePolicy(name: string): string {
    return name.trim().toLowerCase();
}

/** The Pulumi name of each child a `WorkloadBinding` named `workload` registers. */
export const childNames = {
    namespace: (workload: string) => `${workload}-ns`,
    namespaceLabel: (workload: string) => `${workload}-ns-label`,
    serviceAccount: (workload: string) => `${workload}-sa`,
    authDelegator: (workload: string) => `${workload}-auth-delegator`,
    policy: (workload: string) => `${workload}-policy`,
    role: (workload: string) => `${workload}-role`,
    // Named by path, not list position: reordering or removing an entry must not rename (and so
    // replace, or rotate) the others.
    seed: (workload: string, path: string) => `${workload}-seed-${path}`,
    seedRandom: (workload: string, path: string, key: string) => `${workload}-seed-${path}-${key}`,
    deployment: (workload: string) => `${workload}-deploy`,
} as const;

/** The Pulumi name of the one `VaultInjector` the program registers (src/program/program.ts). */
export const INJECTOR_NAME = "vault-injector";

/** The Pulumi name of each child a `VaultInjector` named `injector` registers that another module looks up in the state. */
export const injectorChildNames = {
    /** The reviewer's long-lived token Secret (the preflight gate sees a deleted one dropped by `refresh`). */
    reviewerTokenSecret: (injector: string) => `${injector}-reviewer-token`,
} as const;

/** The Kubernetes name of the `system:auth-delegator` ClusterRoleBinding of a service account (cluster-scoped). */
export function authDelegatorBindingName(namespace: string, serviceAccount: string): string {
    return `${namespace}-${serviceAccount}-auth-delegator`;
}

/** Mount paths Vault refuses, or that hold its own engines (vault/mount.go `protectedMounts`). */
export const PROTECTED_MOUNTS = ["audit", "auth", "sys", "cubbyhole", "identity"] as const;
