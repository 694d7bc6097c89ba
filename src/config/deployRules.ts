/**
 * Cross-field rules about what a real deploy needs from the versions and sizes configured: each
 * returns the problems it finds (validate.ts renders them). Pure.
 */
import { injectorSchema, poolSchema, PoolSettings, vaultSchema } from "./schema";
import { parsed, record } from "./raw";
import { SettingsProblem, problem } from "./problem";

/** `a.b.c` (leading digits of each part) compared: negative, zero or positive. */
function compareVersions(a: string, b: string): number {
    const parts = (v: string) => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v) ?? ["", "0", "0", "0"]).slice(1).map(Number);
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
}

/**
 * The chart version from which the injector hands `AGENT_INJECT_VAULT_CACERT_BYTES` to agents:
 * vault-k8s 1.3.1 added it (hashicorp/vault-k8s#507, CHANGELOG 1.3.1), and chart 0.26.0 is the
 * first to ship that injector; chart 0.25.0 ships vault-k8s 1.2.1, which ignores the variable.
 */
const CA_BYTES_CHART = "0.26.0";
const CA_BYTES_INJECTOR = "1.3.1";

function caCertChartProblems(root: Record<string, unknown>): SettingsProblem[] {
    const v = parsed(vaultSchema, root.vault);
    const inj = parsed(injectorSchema, root.injector ?? {});
    if (v?.caCertPem === undefined || inj === undefined) return [];
    if (compareVersions(inj.chartVersion, CA_BYTES_CHART) >= 0) return [];
    if (inj.imageTag !== undefined && compareVersions(inj.imageTag, CA_BYTES_INJECTOR) >= 0) return [];
    return [problem(
        "injector.chartVersion",
        inj.chartVersion,
        `${CA_BYTES_CHART} or later with vault.caCertPem: the injector of chart ${inj.chartVersion} ` +
            `ignores AGENT_INJECT_VAULT_CACERT_BYTES (vault-k8s ${CA_BYTES_INJECTOR} added it), ` +
            `so agents would not trust Vault's certificate`,
    )];
}

/** Labels AKS puts on every node of a pool besides the pool's own (learn.microsoft.com/azure/aks/use-labels). */
function nodeLabels(pool: PoolSettings, mode: "system" | "user"): Record<string, string> {
    return {
        "kubernetes.io/os": "linux",
        agentpool: pool.name,
        "kubernetes.azure.com/agentpool": pool.name,
        "kubernetes.azure.com/mode": mode,
        ...pool.labels,
    };
}

/**
 * Nodes the injector can run on, at start (`minCount`) and at most (`maxCount`): only pools
 * without NoSchedule/NoExecute taints (the injector has no tolerations) whose node labels match
 * `injector.nodeSelector` count.
 */
function injectorNodes(
    pools: ReadonlyArray<{ pool: PoolSettings; mode: "system" | "user" }>,
    nodeSelector: Record<string, string>,
): { atStart: number; atMost: number } {
    const eligible = pools
        .filter(({ pool }) => !pool.taints.some((t) => /:(NoSchedule|NoExecute)$/.test(t)))
        .filter(({ pool, mode }) => Object.entries(nodeSelector).every(([k, v]) => nodeLabels(pool, mode)[k] === v));
    return {
        atStart: eligible.reduce((n, { pool }) => n + pool.minCount, 0),
        atMost: eligible.reduce((n, { pool }) => n + pool.maxCount, 0),
    };
}

/**
 * The injector's anti-affinity is preferred, not required (components/injectorValues.ts), so
 * several replicas may share a node and more replicas than nodes never wait for the autoscaler.
 * What is refused: no pool the injector can run on at all (every pool tainted, or none matching
 * `injector.nodeSelector`), where every replica would stay Pending and Helm roll the release back.
 */
function injectorSchedulingProblems(root: Record<string, unknown>): SettingsProblem[] {
    const cluster = record(root.cluster);
    const inj = parsed(injectorSchema, root.injector ?? {});
    if (cluster.mode !== "create" || inj === undefined) return [];
    const system = parsed(poolSchema, cluster.systemPool ?? { name: "system" });
    const users = Array.isArray(cluster.userPools) ? Array.from(cluster.userPools, (p) => parsed(poolSchema, p)) : [];
    if (system === undefined || users.some((p) => p === undefined)) return [];
    const pools = [
        { pool: system, mode: "system" as const },
        ...users.map((pool) => ({ pool: pool as PoolSettings, mode: "user" as const })),
    ];
    if (injectorNodes(pools, inj.nodeSelector).atMost > 0) return [];
    return [problem(
        "injector.replicas",
        inj.replicas,
        "a pool the injector can run on: every pool is tainted NoSchedule/NoExecute or misses injector.nodeSelector's labels",
    )];
}

/**
 * The built-in role that gives an Entra identity every Kubernetes right on an AKS cluster with
 * Azure RBAC (learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers:
 * "Azure Kubernetes Service RBAC Cluster Admin").
 */
const AKS_RBAC_CLUSTER_ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";

/**
 * With Entra ID and Azure RBAC (`entraId.azureRbac`, the default), Kubernetes rights come only
 * from Azure role assignments on the cluster or from the admin groups: Owner or Contributor on
 * the subscription carry none, so a kubelogin identity without either gets 403 on every
 * Kubernetes resource and the Helm release. The program does not grant the role itself (that
 * needs roleAssignments/write, which a Contributor deploy identity lacks), so the config must say
 * how the identity is covered: an admin group, or Kubernetes RBAC instead of Azure RBAC.
 */
function entraRbacProblems(root: Record<string, unknown>): SettingsProblem[] {
    const cluster = record(root.cluster);
    if (cluster.mode !== "create" || record(cluster.credentials).mode !== "kubelogin" || cluster.entraId === undefined) return [];
    const entra = record(cluster.entraId);
    const groups = Array.isArray(entra.adminGroupObjectIds) ? entra.adminGroupObjectIds : [];
    if (entra.azureRbac === false || groups.length > 0) return [];
    return [problem(
        "cluster.entraId.adminGroupObjectIds",
        groups,
        "an Entra group the kubelogin identity belongs to: " +
            "with Azure RBAC, Owner or Contributor carry no Kubernetes rights and every Kubernetes call " +
            `would get 403 (or grant the identity "Azure Kubernetes Service RBAC Cluster Admin", ` +
            `role ${AKS_RBAC_CLUSTER_ADMIN_ROLE}, on the cluster ` +
            "and list a group holding it here)",
    )];
}

const DEPLOY_RULES: ReadonlyArray<(root: Record<string, unknown>) => SettingsProblem[]> = [
    caCertChartProblems,
    injectorSchedulingProblems,
    entraRbacProblems,
];

export function deployProblems(input: unknown): SettingsProblem[] {
    const root = record(input);
    return DEPLOY_RULES.flatMap((rule) => rule(root));
}

