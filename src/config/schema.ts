/**
 * The stack's settings: one typed object, validated once at the edge.
 *
 * `index.ts` builds it from `pulumi.Config`; a portal back end passes the same shape to the
 * Automation API. Components never read config themselves.
 */
import { z } from "zod";
import { injectionSchema } from "./injection";

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

/**
 * Schema messages are what is expected, as a noun phrase: a problem reads
 * `<key>: found <value>; expected <message>` (src/config/wording.ts words zod's own issues).
 */
const DNS1123_EXPECTED = "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)";

const dns1123 = () => z.string().max(63, "at most 63 characters").regex(DNS1123_LABEL, DNS1123_EXPECTED);

/** A DNS-1123 label, or `*` (accepted only with `allowWildcard`, checked across fields). */
const dns1123OrWildcard = () =>
    z
        .string()
        .max(63, "at most 63 characters")
        .refine((v) => v === "*" || DNS1123_LABEL.test(v), `${DNS1123_EXPECTED}, or '*' with allowWildcard`);

const GUID_EXPECTED = "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47";

const vaultPath = () => z.string().regex(VAULT_PATH, "a Vault path without a leading or trailing '/' (such as secret or team/kv)");

export const poolSchema = z
    .object({
        /** AKS pool name: lower-case alphanumerics, starting with a letter, at most 12 characters. */
        name: z.string().regex(/^[a-z][a-z0-9]{0,11}$/, "1-12 lower-case letters or digits, starting with a letter (AKS's rule for pool names)"),
        vmSize: z.string().min(1).default("Standard_D2s_v3"),
        minCount: z.number().int().min(0).default(1),
        maxCount: z.number().int().min(1).max(1000).default(5),
        maxPods: z.number().int().min(10).max(250).default(110),
        priority: z.enum(["Regular", "Spot"]).default("Regular"),
        /** Spot pools only: what Azure does with an evicted node. */
        evictionPolicy: z.enum(["Delete", "Deallocate"]).optional(),
        /** Spot pools only: the maximum price per hour in USD; -1 means the on-demand price. */
        spotMaxPrice: z.number().optional(),
        taints: z.array(z.string().regex(/^[^=:]+(=[^:]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, "a taint such as key=value:NoSchedule (effect NoSchedule, PreferNoSchedule or NoExecute)")).default([]),
        labels: z.record(z.string(), z.string()).default({}),
        availabilityZones: z.array(z.string()).optional(),
        osDiskSizeGB: z.number().int().min(30).max(2048).optional(),
    })
    .strict();

export const networkSchema = z
    .object({
        podCidr: z.string().default("10.244.0.0/16"),
        serviceCidr: z.string().default("10.0.0.0/16"),
        dnsServiceIp: z.string().default("10.0.0.10"),
        /** Resource ID of an existing subnet for the nodes; omitted: AKS makes its own VNet. */
        subnetId: z.string().optional(),
    })
    .strict();

/**
 * How this program gets its Kubernetes credentials. `admin`: the cluster's admin kubeconfig
 * (`listClusterAdminCredential`); Azure refuses it on clusters with local accounts disabled
 * (Entra ID only). `kubelogin`: the user kubeconfig with a non-interactive `kubelogin get-token`
 * exec, logging in as a service principal (`spn`), a managed identity (`msi`) or the Azure CLI
 * session (`azurecli`); the `kubelogin` binary must be on the PATH of whoever runs `pulumi`.
 */
export const credentialsSchema = z.discriminatedUnion("mode", [
    z.object({ mode: z.literal("admin") }).strict(),
    z
        .object({
            mode: z.literal("kubelogin"),
            login: z.enum(["spn", "msi", "azurecli"]),
            /** spn: the application (client) ID; msi: a user-assigned identity's client ID (optional). */
            clientId: z.string().regex(/^[0-9a-fA-F-]{36}$/, GUID_EXPECTED).optional(),
            /** spn only: the secret config key holding the client secret (`pulumi config set --secret KEY`). */
            clientSecretConfig: z.string().min(1).optional(),
            /** Entra tenant ID; default: the tenant in the kubeconfig Azure returns. */
            tenantId: z.string().regex(/^[0-9a-fA-F-]{36}$/, GUID_EXPECTED).optional(),
        })
        .strict(),
]);

/** Azure's rules for a managed cluster name. */
const aksName = z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/, "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit (Azure's rule for cluster names)");
/** Azure's rules for a resource group name. */
const resourceGroupName = z
    .string()
    .max(90, "at most 90 characters")
    .regex(/^[-\p{L}\p{N}_.()]*[-\p{L}\p{N}_()]$/u, "letters, digits, '_', '-', '.', '(' or ')', not ending in '.' (Azure's rule for resource group names)");

const createCluster = z
    .object({
        mode: z.literal("create"),
        name: aksName,
        resourceGroupName: resourceGroupName,
        location: z.string().min(1),
        /** `major.minor` or `major.minor.patch`; omitted: the AKS default. */
        kubernetesVersion: z.string().regex(/^\d+\.\d+(\.\d+)?$/, "a version as major.minor or major.minor.patch, such as 1.30").optional(),
        dnsPrefix: z.string().regex(/^[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?$/, "1-54 letters, digits or '-', starting and ending with a letter or digit").optional(),
        systemPool: poolSchema.prefault({ name: "system" }),
        userPools: z.array(poolSchema).default([]),
        network: networkSchema.prefault({}),
        logAnalyticsWorkspaceId: z.string().optional(),
        /** Resource ID of an Azure Container Registry the kubelet identity may pull from (AcrPull). */
        acrId: z.string().optional(),
        workloadIdentity: z.boolean().default(false),
        tags: z.record(z.string(), z.string()).default({}),
        /** Protect the resource group and the cluster from deletion (`protect`). Default true. */
        protect: z.boolean().default(true),
        /** Entra ID (AKS-managed AAD) integration; omitted: none. */
        entraId: z
            .object({
                /** Entra groups whose members are cluster admins. */
                adminGroupObjectIds: z.array(z.string().regex(/^[0-9a-fA-F-]{36}$/, GUID_EXPECTED)).default([]),
                /** Authorize with Azure RBAC role assignments instead of Kubernetes RBAC bindings. */
                azureRbac: z.boolean().default(true),
            })
            .strict()
            .optional(),
        /** Turn off local accounts (admin credentials): Entra ID only; needs entraId and credentials.mode kubelogin. */
        disableLocalAccounts: z.boolean().default(false),
        credentials: credentialsSchema.default({ mode: "admin" }),
    })
    .strict();

const adoptCluster = z
    .object({
        mode: z.literal("adopt"),
        name: aksName,
        resourceGroupName: resourceGroupName,
        credentials: credentialsSchema.default({ mode: "admin" }),
    })
    .strict();

export const clusterSchema = z.discriminatedUnion("mode", [createCluster, adoptCluster]);

export const vaultSchema = z
    .object({
        /** The external Vault's address, as the injector's agents and this program reach it. */
        address: z.string().url({ protocol: /^https?$/, error: "an https:// URL such as https://vault.example.com:8200" }),
        /** Vault Enterprise namespace; omitted: the root namespace. */
        namespace: vaultPath().optional(),
        skipTlsVerify: z.boolean().default(false),
        /** Accept an `http://` address (a lab Vault without TLS): tokens then cross the network in clear. */
        allowHttp: z.boolean().default(false),
        /**
         * PEM bundle of the CA that signed Vault's certificate, for a Vault behind a private CA.
         * Given to the injector (`AGENT_INJECT_VAULT_CACERT_BYTES`), which hands it to every agent
         * (hashicorp/vault-k8s#151). Default: the system roots.
         */
        caCertPem: z
            .string()
            .regex(/^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/, "one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)")
            .optional(),
    })
    .strict();

/** The injector pods' own requests and limits (the chart sets none). */
export const INJECTOR_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } } as const;

export const injectorSchema = z
    .object({
        namespace: dns1123().default("vault"),
        releaseName: dns1123().default("vault"),
        chartVersion: z.string().regex(EXACT_SEMVER, "an exact chart version such as 0.34.1 (no ranges)").default("0.34.1"),
        // https or an OCI registry: a chart fetched over plain http could be swapped on the way.
        chartRepository: z.string().refine((v) => /^(https|oci):\/\/[^/\s]/.test(v) && URL.canParse(v), "an https:// or oci:// URL").default("https://helm.releases.hashicorp.com"),
        replicas: z.number().int().min(1).max(10).default(2),
        logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
        logFormat: z.enum(["standard", "json"]).default("standard"),
        /** vault-k8s image tag; omitted: the chart's default for its version. */
        imageTag: z.string().optional(),
        /** Vault Agent image tag; omitted: the chart's default for its version. */
        agentImageTag: z.string().optional(),
        nodeSelector: z.record(z.string(), z.string()).default({}),
        /** Injector pod resources, field by field over 50m/64Mi requests and 250m/256Mi limits. */
        resources: z
            .object({
                requests: z.object({ cpu: z.string(), memory: z.string() }).partial().strict().optional(),
                limits: z.object({ cpu: z.string(), memory: z.string() }).partial().strict().optional(),
            })
            .strict()
            .transform((r) => ({
                requests: { ...INJECTOR_RESOURCES.requests, ...r.requests },
                limits: { ...INJECTOR_RESOURCES.limits, ...r.limits },
            }))
            .prefault({}),
        /** Method kubernetes only: the token reviewer's service account. Default `vault-token-reviewer`. */
        reviewerServiceAccount: dns1123().optional(),
        /**
         * Change this value (a date, a counter) to rotate the reviewer token: a new token Secret is
         * created, Vault is given its JWT, then the old Secret is deleted, in one `up`. Default:
         * unset (one token, never rotated).
         */
        reviewerTokenRotation: z
            .union([z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), z.number().int().nonnegative()], { error: "1-64 letters, digits, '.', '_', ':' or '-' (a date, say), or a whole number (a counter)" })
            .optional(),
        /**
         * What the API server does with a pod when the injector cannot answer: `Fail` (default)
         * refuses the pod, so it is retried rather than started without its secrets; `Ignore`
         * starts it without the agent. See docs/security.md.
         */
        failurePolicy: z.enum(["Fail", "Ignore"]).default("Fail"),
    })
    .strict();

/** How pods log in to Vault. See docs/private-clusters.md for when to choose which. */
export const AUTH_METHODS = ["kubernetes", "jwt"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** The mount path when none is set. Different per method: see `kubernetesAuth.path`. */
export const DEFAULT_AUTH_PATH: Readonly<Record<AuthMethod, string>> = { kubernetes: "kubernetes", jwt: "jwt" };
const DEFAULT_AUTH_DESCRIPTION: Readonly<Record<AuthMethod, string>> = {
    kubernetes: "Kubernetes auth for AKS workloads",
    jwt: "JWT auth for AKS workloads (service-account tokens checked against the cluster's OIDC issuer)",
};

/** Kubernetes' floor for a projected token's `expirationSeconds` (10 minutes). */
export const MIN_PROJECTED_TOKEN_SECONDS = 600;

export const kubernetesAuthSchema = z
    .object({
        /**
         * `kubernetes` (default): Vault's Kubernetes auth, which calls the cluster's TokenReview API.
         * `jwt`: Vault's JWT auth, which checks the pods' projected service-account tokens against
         * the AKS OIDC issuer's published keys: no reviewer token, no path from Vault to the API server.
         */
        method: z.enum(AUTH_METHODS).default("kubernetes"),
        /**
         * Mount path without `auth/`. Default `kubernetes` (method kubernetes) or `jwt` (method
         * jwt): switching methods creates the new mount before deleting the old one, and Vault
         * refuses two mounts at one path.
         */
        path: vaultPath().optional(),
        /** Mount description; default per method. */
        description: z.string().optional(),
        /**
         * Method kubernetes only; default true. Check the `iss` claim against the cluster's OIDC issuer URL. Safe
         * on AKS with the OIDC issuer on; turn off only for clusters that still mint quoted issuers
         * (Azure/AKS#2523).
         */
        validateIssuer: z.boolean().optional(),
        /**
         * Method kubernetes only. Who Vault calls TokenReview as. `serviceAccountToken` (the default):
         * a dedicated reviewer with a long-lived token Secret. `clientJwt`: no long-lived token;
         * Vault uses each workload's own JWT, so every bound service account gets `system:auth-delegator`.
         */
        reviewer: z.enum(["serviceAccountToken", "clientJwt"]).optional(),
        /**
         * Method jwt only. The audience (`aud`) of the pods' projected tokens and the roles'
         * `bound_audiences`. Default: `<vault.address>/v1/[<vault.namespace>/]auth/<path>`, the login
         * URL's prefix, so a token minted for this mount is accepted by no other relying party.
         * Never `*`, and no commas (Vault splits `bound_audiences` on them).
         */
        audience: z
            .string()
            .min(1)
            .max(256)
            .refine((v) => v !== "*" && !v.includes(",") && v.trim() === v, "one audience: not '*', no commas, no surrounding spaces")
            .optional(),
        /**
         * Method jwt only. Lifetime of the pods' projected token, seconds (600-86400). Default 3600;
         * the kubelet replaces the token at 80% of it, and the agent re-reads it (sidecar mode).
         */
        tokenExpirationSeconds: z.number().int().min(MIN_PROJECTED_TOKEN_SECONDS).max(86400).optional(),
    })
    .strict()
    // Typed by method: each carries only its own settings, with their defaults.
    .transform((a): KubernetesAuthMethodSettings | JwtAuthMethodSettings => {
        const common = { path: a.path ?? DEFAULT_AUTH_PATH[a.method], description: a.description ?? DEFAULT_AUTH_DESCRIPTION[a.method] };
        if (a.method === "jwt") {
            return { method: "jwt", ...common, ...(a.audience === undefined ? {} : { audience: a.audience }), tokenExpirationSeconds: a.tokenExpirationSeconds ?? 3600 };
        }
        return { method: "kubernetes", ...common, validateIssuer: a.validateIssuer ?? true, reviewer: a.reviewer ?? "serviceAccountToken" };
    });

export interface KubernetesAuthMethodSettings {
    method: "kubernetes";
    path: string;
    description: string;
    validateIssuer: boolean;
    reviewer: "serviceAccountToken" | "clientJwt";
}

export interface JwtAuthMethodSettings {
    method: "jwt";
    path: string;
    description: string;
    /** Unset: `defaultJwtAudience` of the Vault address, namespace and path. */
    audience?: string;
    tokenExpirationSeconds: number;
}

export const kvSchema = z
    .object({
        path: vaultPath().default("secret"),
        description: z.string().default("KV v2 secrets for AKS workloads"),
        /** Adopt a KV v2 mount that already exists instead of creating it. */
        existing: z.boolean().default(false),
        /** Protect the KV v2 mount from deletion (`protect`): deleting a mount deletes every secret in it. Default true. */
        protect: z.boolean().default(true),
    })
    .strict();

const seedValue = z.union(
    [
        /** Read the value from this stack's secret config key (`pulumi config set --secret KEY`). */
        z.object({ secretConfig: z.string().min(1) }).strict(),
        /** Generate a random value once (`@pulumi/random`), kept in state as a secret. */
        z
            .object({
                random: z.object({ length: z.number().int().min(8).max(256).default(32), special: z.boolean().default(false) }).strict(),
            })
            .strict(),
        /** A literal value: for portal callers passing a value they hold; never put one in a YAML file. */
        z.object({ value: z.string() }).strict(),
    ],
    { error: "one of {secretConfig: KEY}, {random: {length, special}} or {value: STRING}" },
);

export const secretFileSchema = z
    .object({
        /** File name under /vault/secrets; also the annotation suffix. */
        file: z
            .string()
            .regex(SECRET_FILE, "letters, digits, '_', '.' or '-', starting and ending with a letter or digit")
            .max(ANNOTATION_NAME_MAX - SECRET_ANNOTATION_PREFIX.length, `at most ${ANNOTATION_NAME_MAX - SECRET_ANNOTATION_PREFIX.length} characters (the file name ends an annotation name)`),
        /** Path of the secret inside the KV v2 mount (without the mount and without `data/`). */
        path: vaultPath(),
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
        path: vaultPath(),
        values: z.record(z.string().min(1), seedValue),
        /**
         * Write the values once and leave them alone afterwards (`ignoreChanges`), so a rotation
         * done in Vault is not reverted by the next `up`. Default true.
         */
        writeOnce: z.boolean().default(true),
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
        name: dns1123(),
        namespace: dns1123OrWildcard(),
        serviceAccount: dns1123OrWildcard(),
        /** Accept `*` as namespace or service account (the role then admits any). Default false. */
        allowWildcard: z.boolean().default(false),
        /** Vault role name; default: the workload name. */
        role: z.string().regex(/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/, "letters, digits, '_', '.' or '-' (a Vault role name has no '/')").optional(),
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
        /** How the Vault Agent runs; default `{mode: init-only}` (`prefault`: zod 4's `default` skips inner defaults). */
        injection: injectionSchema.prefault({}),
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
export type KubernetesAuthSettings = Settings["kubernetesAuth"];
export type PoolSettings = z.output<typeof poolSchema>;
export type InjectorSettings = Settings["injector"];
export type WorkloadSettings = z.output<typeof workloadSchema>;
export type SecretFileSettings = z.output<typeof secretFileSchema>;
export type SeedSettings = z.output<typeof seedSchema>;
export type SeedValue = z.output<typeof seedValue>;
