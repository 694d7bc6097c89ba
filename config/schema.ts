/**
 * The stack's settings: one typed object, validated once at the edge.
 *
 * `index.ts` builds it from `pulumi.Config`; a portal back end passes the same shape to the
 * Automation API. Components never read config themselves.
 */
import { z } from "zod";

/** DNS-1123 label: Kubernetes namespaces and service account names. */
export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Vault mount or auth path: segments of safe characters, no leading or trailing slash. */
export const VAULT_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
/** An exact chart version (no ranges: a range would let `pulumi up` pick a new chart silently). */
export const EXACT_SEMVER = /^\d+\.\d+\.\d+$/;
/**
 * A file name under /vault/secrets that is also valid as the suffix of an annotation name
 * (`vault.hashicorp.com/agent-inject-secret-<file>`: the name part of a Kubernetes annotation key
 * is at most 63 characters, alphanumerics with `-`, `_`, `.` inside).
 */
export const SECRET_FILE = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const ANNOTATION_NAME_MAX = 63;
const SECRET_ANNOTATION_PREFIX = "agent-inject-template-"; // the longest prefix a file name is used with

const dns1123 = (what: string) =>
    z
        .string()
        .max(63, `${what} must be at most 63 characters`)
        .regex(DNS1123_LABEL, `${what} must be a DNS-1123 label (lower-case letters, digits, '-')`);

const vaultPath = (what: string) =>
    z.string().regex(VAULT_PATH, `${what} must be a Vault path without leading or trailing '/'`);

export const poolSchema = z
    .object({
        /** AKS pool name: lower-case alphanumerics, starting with a letter, at most 12 characters. */
        name: z.string().regex(/^[a-z][a-z0-9]{0,11}$/, "pool name must be 1-12 lower-case letters/digits, starting with a letter"),
        vmSize: z.string().min(1).default("Standard_D2s_v3"),
        minCount: z.number().int().min(0).default(1),
        maxCount: z.number().int().min(1).max(1000).default(5),
        maxPods: z.number().int().min(10).max(250).default(110),
        priority: z.enum(["Regular", "Spot"]).default("Regular"),
        /** Spot pools only: what Azure does with an evicted node. */
        evictionPolicy: z.enum(["Delete", "Deallocate"]).optional(),
        /** Spot pools only: the maximum price per hour in USD; -1 means the on-demand price. */
        spotMaxPrice: z.number().optional(),
        taints: z.array(z.string().regex(/^[^=:]+(=[^:]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, "taint must look like key=value:Effect")).default([]),
        labels: z.record(z.string(), z.string()).default({}),
        availabilityZones: z.array(z.string()).optional(),
        osDiskSizeGB: z.number().int().min(30).max(2048).optional(),
    })
    .strict();

const networkSchema = z
    .object({
        podCidr: z.string().default("10.244.0.0/16"),
        serviceCidr: z.string().default("10.0.0.0/16"),
        dnsServiceIp: z.string().default("10.0.0.10"),
        /** Resource ID of an existing subnet for the nodes; omitted: AKS makes its own VNet. */
        subnetId: z.string().optional(),
    })
    .strict();

const createCluster = z
    .object({
        mode: z.literal("create"),
        name: z.string().min(1).max(63),
        resourceGroupName: z.string().min(1).max(90),
        location: z.string().min(1),
        /** `major.minor` or `major.minor.patch`; omitted: the AKS default. */
        kubernetesVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "kubernetesVersion must be major.minor or major.minor.patch").optional(),
        dnsPrefix: z.string().optional(),
        systemPool: poolSchema.prefault({ name: "system" }),
        userPools: z.array(poolSchema).default([]),
        network: networkSchema.prefault({}),
        logAnalyticsWorkspaceId: z.string().optional(),
        /** Resource ID of an Azure Container Registry the kubelet identity may pull from (AcrPull). */
        acrId: z.string().optional(),
        workloadIdentity: z.boolean().default(false),
        tags: z.record(z.string(), z.string()).default({}),
    })
    .strict();

const adoptCluster = z
    .object({
        mode: z.literal("adopt"),
        name: z.string().min(1),
        resourceGroupName: z.string().min(1),
    })
    .strict();

export const clusterSchema = z.discriminatedUnion("mode", [createCluster, adoptCluster]);

export const vaultSchema = z
    .object({
        /** The external Vault's address, as the injector's agents and this program reach it. */
        address: z.string().url(),
        /** Vault Enterprise namespace; omitted: the root namespace. */
        namespace: z.string().optional(),
        skipTlsVerify: z.boolean().default(false),
    })
    .strict();

export const injectorSchema = z
    .object({
        namespace: dns1123("injector.namespace").default("vault"),
        releaseName: dns1123("injector.releaseName").default("vault"),
        chartVersion: z.string().regex(EXACT_SEMVER, "injector.chartVersion must be an exact version such as 0.34.1").default("0.34.1"),
        chartRepository: z.string().url().default("https://helm.releases.hashicorp.com"),
        replicas: z.number().int().min(1).max(10).default(2),
        logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
        logFormat: z.enum(["standard", "json"]).default("standard"),
        /** vault-k8s image tag; omitted: the chart's default for its version. */
        imageTag: z.string().optional(),
        /** Vault Agent image tag; omitted: the chart's default for its version. */
        agentImageTag: z.string().optional(),
        nodeSelector: z.record(z.string(), z.string()).default({}),
        resources: z
            .object({
                requests: z.object({ cpu: z.string(), memory: z.string() }).partial().strict().optional(),
                limits: z.object({ cpu: z.string(), memory: z.string() }).partial().strict().optional(),
            })
            .strict()
            .default({ requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } }),
        reviewerServiceAccount: dns1123("injector.reviewerServiceAccount").default("vault-token-reviewer"),
    })
    .strict();

export const kubernetesAuthSchema = z
    .object({
        path: vaultPath("kubernetesAuth.path").default("kubernetes"),
        description: z.string().default("Kubernetes auth for AKS workloads"),
        /**
         * Check the `iss` claim against the cluster's OIDC issuer URL. Safe on AKS with the OIDC
         * issuer on; turn off only for clusters that still mint quoted issuers (Azure/AKS#2523).
         */
        validateIssuer: z.boolean().default(true),
    })
    .strict();

export const kvSchema = z
    .object({
        path: vaultPath("kv.path").default("secret"),
        description: z.string().default("KV v2 secrets for AKS workloads"),
        /** Adopt a KV v2 mount that already exists instead of creating it. */
        existing: z.boolean().default(false),
    })
    .strict();

const seedValue = z.union([
    /** Read the value from this stack's secret config key (`pulumi config set --secret KEY`). */
    z.object({ secretConfig: z.string().min(1) }).strict(),
    /** Generate a random value once (`@pulumi/random`), kept in state as a secret. */
    z.object({ random: z.object({ length: z.number().int().min(8).max(256).default(32), special: z.boolean().default(false) }).strict() }).strict(),
    /** A literal value: for portal callers passing a value they hold; never put one in a YAML file. */
    z.object({ value: z.string() }).strict(),
]);

export const secretFileSchema = z
    .object({
        /** File name under /vault/secrets; also the annotation suffix. */
        file: z
            .string()
            .regex(SECRET_FILE, "secret file must be letters, digits, '_', '.', '-', starting and ending with a letter or digit")
            .max(ANNOTATION_NAME_MAX - SECRET_ANNOTATION_PREFIX.length, `secret file must be at most ${ANNOTATION_NAME_MAX - SECRET_ANNOTATION_PREFIX.length} characters to fit an annotation name`),
        /** Path of the secret inside the KV v2 mount (without the mount and without `data/`). */
        path: vaultPath("secret path"),
        /** Render only this key's value; omitted (and no template): the injector's default rendering. */
        key: z.string().min(1).optional(),
        /** Text put before the key's value, e.g. `token value stored on path secret/devops is `. */
        prefix: z.string().optional(),
        /** A full Consul Template body, for experts; excludes `key` and `prefix`. */
        template: z.string().optional(),
    })
    .strict();

export const seedSchema = z
    .object({
        path: vaultPath("seed path"),
        values: z.record(z.string().min(1), seedValue),
    })
    .strict();

export const deploymentSchema = z
    .object({
        image: z.string().min(1).default("busybox:1.36"),
        command: z.array(z.string()).optional(),
        replicas: z.number().int().min(0).max(100).default(1),
    })
    .strict();

export const workloadSchema = z
    .object({
        name: dns1123("workload name"),
        namespace: dns1123("workload namespace"),
        serviceAccount: dns1123("workload serviceAccount"),
        /** Vault role name; default: the workload name. */
        role: vaultPath("workload role").optional(),
        /** Token TTL in seconds. */
        tokenTtl: z.number().int().positive().max(31 * 24 * 3600).default(3600),
        tokenMaxTtl: z.number().int().positive().max(31 * 24 * 3600).optional(),
        /** Policies attached besides the generated one (`default` is usual). */
        policies: z.array(z.string().min(1)).default(["default"]),
        createNamespace: z.boolean().default(true),
        secrets: z.array(secretFileSchema).default([]),
        seed: z.array(seedSchema).default([]),
        /** Extra policy capabilities beyond `read`, only when a workload really needs them. */
        extraCapabilities: z.array(z.enum(["create", "update", "patch", "delete", "list"])).default([]),
        deployment: deploymentSchema.optional(),
    })
    .strict();

export const settingsSchema = z
    .object({
        cluster: clusterSchema,
        vault: vaultSchema,
        injector: injectorSchema.prefault({}),
        kubernetesAuth: kubernetesAuthSchema.prefault({}),
        kv: kvSchema.prefault({}),
        workloads: z.array(workloadSchema).default([]),
    })
    .strict();

export type SettingsInput = z.input<typeof settingsSchema>;
export type Settings = z.output<typeof settingsSchema>;
export type ClusterSettings = Settings["cluster"];
export type PoolSettings = z.output<typeof poolSchema>;
export type InjectorSettings = Settings["injector"];
export type WorkloadSettings = z.output<typeof workloadSchema>;
export type SecretFileSettings = z.output<typeof secretFileSchema>;
export type SeedSettings = z.output<typeof seedSchema>;
export type SeedValue = z.output<typeof seedValue>;
