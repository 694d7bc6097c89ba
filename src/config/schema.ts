/**
 * The stack's settings: one typed object, validated once at the edge.
 *
 * `index.ts` builds it from `pulumi.Config`; a portal back end passes the same shape to the
 * Automation API. Components never read config themselves.
 */
import { z } from "zod";
import { DEFAULT_TOKEN_EXPIRATION_SECONDS, isOneAudience } from "../agent/jwtLogin";
import { ANNOTATION, DEFAULT_RELEASE_NAME, DEFAULT_REVIEWER_SERVICE_ACCOUNT, shortAnnotationName } from "../agent/vocabulary";
import { cidrProblem, MAX_AUTHORIZED_IP_RANGES } from "./cidr";
import { injectionSchema } from "./injection";

/** DNS-1123 label: Kubernetes namespaces and service account names. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Vault mount or auth path: segments of safe characters, no leading or trailing slash. */
const VAULT_PATH = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
/** An exact chart version (no ranges: a range would let `pulumi up` pick a new chart silently). */
const EXACT_SEMVER = /^\d+\.\d+\.\d+$/;
/**
 * A file name under /vault/secrets that is also valid as the suffix of an annotation name
 * (`vault.hashicorp.com/agent-inject-secret-<file>`: the name part of a Kubernetes annotation key
 * is at most 63 characters, alphanumerics with `-`, `_`, `.` inside).
 */
const SECRET_FILE = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const ANNOTATION_NAME_MAX = 63;
// The longest annotation prefix a file name is used with (the template's), without the namespace:
// the 63-character limit is on the name part after the `/`.
const SECRET_ANNOTATION_PREFIX = shortAnnotationName(ANNOTATION.templatePrefix);

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

/** A Vault policy name prefix: what Vault keeps unchanged (it trims and lower-cases policy names). */
const POLICY_PREFIX = /^[a-z0-9][a-z0-9_.-]*$/;

/** A path segment `.` or `..`: Vault and the agents would resolve it to another path than the one reviewed. */
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

const GUID_EXPECTED = "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47";

const vaultPath = () =>
    z
        .string()
        .regex(VAULT_PATH, "a Vault path without a leading or trailing '/' (such as secret or team/kv)")
        .refine((v) => !DOT_SEGMENT.test(v), "a path without '.' or '..' segments (they name another path than the one written)");

/*
 * Every key carries its description (`.describe`): docs/configuration.md is generated from this
 * file (`npm run generate:config-docs`), and a test fails when the two drift. Say what an
 * omitted optional key means in its description; defaults come from `.default`/`.prefault`.
 */

export const poolSchema = z
    .object({
        name: z
            .string()
            .regex(/^[a-z][a-z0-9]{0,11}$/, "1-12 lower-case letters or digits, starting with a letter (AKS's rule for pool names)")
            .describe("Pool name: 1-12 lower-case letters or digits, starting with a letter."),
        vmSize: z.string().min(1).default("Standard_D2s_v3").describe("VM size of the pool's nodes."),
        minCount: z.number().int().min(0).default(1).describe("Fewest nodes the autoscaler keeps (at least 1 for the system pool)."),
        maxCount: z.number().int().min(1).max(1000).default(5).describe("Most nodes the autoscaler adds."),
        maxPods: z.number().int().min(10).max(250).default(110).describe("Pods per node (at least 30 for the system pool)."),
        priority: z
            .enum(["Regular", "Spot"])
            .default("Regular")
            .describe("Spot pools are cheaper and can be evicted; AKS refuses Spot system pools."),
        evictionPolicy: z
            .enum(["Delete", "Deallocate"])
            .optional()
            .describe("Spot pools only: what Azure does with an evicted node. Omitted: Azure's default (Delete)."),
        spotMaxPrice: z
            .number()
            .optional()
            .describe("Spot pools only: the most to pay per node hour in USD; -1 means the on-demand price."),
        taints: z
            .array(
                z.string().regex(
                    /^[^=:]+(=[^:]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/,
                    "a taint such as key=value:NoSchedule (effect NoSchedule, PreferNoSchedule or NoExecute)",
                ),
            )
            .default([])
            .describe("Node taints, each `key=value:Effect`."),
        labels: z.record(z.string(), z.string()).default({}).describe("Node labels."),
        availabilityZones: z.array(z.string()).optional().describe("Availability zones to spread the nodes over. Omitted: no zones."),
        osDiskSizeGB: z.number().int().min(30).max(2048).optional().describe("OS disk size in GB. Omitted: the VM size's default."),
    })
    .strict();

export const networkSchema = z
    .object({
        podCidr: z.string().default("10.244.0.0/16").describe("Pod address range (Azure CNI overlay); must not overlap serviceCidr."),
        serviceCidr: z.string().default("10.0.0.0/16").describe("Kubernetes service address range."),
        dnsServiceIp: z.string().default("10.0.0.10").describe("Cluster DNS service address, inside serviceCidr."),
        subnetId: z
            .string()
            .optional()
            .describe("Resource ID of an existing subnet for the nodes. Omitted: AKS makes its own virtual network."),
    })
    .strict();

const guid = () => z.string().regex(/^[0-9a-fA-F-]{36}$/, GUID_EXPECTED);

export const credentialsSchema = z
    .discriminatedUnion("mode", [
        z
            .object({
                mode: z.literal("admin").describe(
                    "The cluster's admin kubeconfig (`listClusterAdminCredential`); Azure refuses it when local accounts are disabled.",
                ),
            })
            .strict(),
        z
            .object({
                mode: z.literal("kubelogin").describe(
                    "The user kubeconfig with a non-interactive `kubelogin get-token` exec; " +
                        "`kubelogin` must be on the PATH of whoever runs `pulumi`.",
                ),
                login: z
                    .enum(["spn", "msi", "azurecli"])
                    .describe(
                        "Who kubelogin logs in as: a service principal (`spn`), a managed identity (`msi`) " +
                            "or the Azure CLI session (`azurecli`).",
                    ),
                clientId: guid()
                    .optional()
                    .describe(
                        "spn: the application (client) ID, required; " +
                            "msi: a user-assigned identity's client ID (omitted: the system-assigned one).",
                    ),
                clientSecretConfig: z
                    .string()
                    .min(1)
                    .optional()
                    .describe("spn only: the secret stack config key holding the client secret (`pulumi config set --secret KEY`)."),
                tenantId: guid()
                    .optional()
                    .describe("spn only: the Entra tenant ID. Omitted: the tenant in the kubeconfig Azure returns."),
            })
            .strict(),
    ])
    .describe("How this program gets its Kubernetes credentials, by `mode`.");

/** Azure's rules for a managed cluster name. */
const aksName = z
    .string()
    .regex(
        /^[A-Za-z0-9]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?$/,
        "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit (Azure's rule for cluster names)",
    )
    .describe("AKS cluster name.");
/** Azure's rules for a resource group name. */
const resourceGroupName = z
    .string()
    .max(90, "at most 90 characters")
    .regex(
        /^[-\p{L}\p{N}_.()]*[-\p{L}\p{N}_()]$/u,
        "letters, digits, '_', '-', '.', '(' or ')', not ending in '.' (Azure's rule for resource group names)",
    );

const createCluster = z
    .object({
        mode: z.literal("create").describe("`create`: this program creates the resource group and the cluster."),
        name: aksName,
        resourceGroupName: resourceGroupName.describe("Resource group this program creates for the cluster."),
        location: z.string().min(1).describe("Azure region, e.g. `francecentral`."),
        kubernetesVersion: z
            .string()
            .regex(/^\d+\.\d+(\.\d+)?$/, "a version as major.minor or major.minor.patch, such as 1.30")
            .optional()
            .describe("`major.minor` or `major.minor.patch`. Omitted: the AKS default."),
        dnsPrefix: z
            .string()
            .regex(
                /^[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?$/,
                "1-54 letters, digits or '-', starting and ending with a letter or digit",
            )
            .optional()
            .describe("DNS prefix of the API server. Omitted: the cluster name."),
        systemPool: poolSchema
            .prefault({ name: "system" })
            .describe(
                "The System pool, inline in the cluster: its settings apply at creation (later: `az aks nodepool update`).",
            ),
        userPools: z.array(poolSchema).default([]).describe(
            "User pools, each an `AgentPool` resource (changeable on day 2; the node count is the autoscaler's after creation).",
        ),
        network: networkSchema.prefault({}).describe("Azure CNI overlay addressing."),
        apiServerAuthorizedIpRanges: z
            .array(z.string().superRefine((v, ctx) => {
                const problem = cidrProblem(v);
                if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
            }))
            .max(MAX_AUTHORIZED_IP_RANGES, `at most ${MAX_AUTHORIZED_IP_RANGES} ranges (AKS's limit)`)
            .refine((list) => new Set(list).size === list.length, "each range once")
            .optional()
            .describe(
                "IPv4 CIDR blocks allowed to reach the API server (`apiServerAccessProfile.authorizedIPRanges`): " +
                    "with Kubernetes auth, Vault's egress IP (TokenReview), and the machines that run `pulumi` and the doctor. " +
                    "Managed here, so an `up` keeps them (a range added by hand is removed). `[]`: no restriction. " +
                    "Omitted: not set by this program (the API server open to all, unless set outside it).",
            ),
        logAnalyticsWorkspaceId: z
            .string()
            .optional()
            .describe("Log Analytics workspace for Container Insights. Omitted: no Container Insights."),
        acrId: z
            .string()
            .optional()
            .describe("Resource ID of an Azure Container Registry the kubelet identity may pull from (AcrPull). Omitted: no grant."),
        workloadIdentity: z.boolean().default(false).describe("Turn on Entra workload identity (the OIDC issuer is always on)."),
        tags: z.record(z.string(), z.string()).default({}).describe("Azure tags on the resource group and the cluster."),
        protect: z
            .boolean()
            .default(true)
            .describe("Protect the resource group and the cluster from deletion (docs/security.md: tearing down on purpose)."),
        entraId: z
            .object({
                adminGroupObjectIds: z.array(guid()).default([]).describe("Entra groups whose members are cluster admins."),
                azureRbac: z
                    .boolean()
                    .default(true)
                    .describe("Authorize with Azure RBAC role assignments instead of Kubernetes RBAC bindings."),
            })
            .strict()
            .optional()
            .describe("AKS-managed Entra ID integration. Omitted: none."),
        disableLocalAccounts: z
            .boolean()
            .default(false)
            .describe("Turn off local accounts (admin credentials): Entra ID only; needs entraId and credentials.mode kubelogin."),
        credentials: credentialsSchema.default({ mode: "admin" }),
    })
    .strict();

const adoptCluster = z
    .object({
        mode: z.literal("adopt").describe("`adopt`: the cluster exists; this program only reads it."),
        name: aksName,
        resourceGroupName: resourceGroupName.describe("Resource group of the existing cluster."),
        credentials: credentialsSchema.default({ mode: "admin" }),
    })
    .strict();

/** A Kubernetes-style name: the cluster's identity in the provider (`clusterIdentifier`). */
const existingName = z
    .string()
    .regex(
        /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
        "1-63 lower-case letters, digits or '-', starting and ending with a letter or digit",
    );

/** The secret config key holding this program's Vault token (platform-owned). */
export const VAULT_TOKEN_KEY = "vaultToken";

/** The secret config key an existing cluster's kubeconfig is read from, unless `cluster.kubeconfigConfig` names another. */
export const DEFAULT_KUBECONFIG_KEY = "kubeconfig";

const existingCluster = z
    .object({
        mode: z
            .literal("existing")
            .describe(
                "`existing`: a cluster this program neither creates nor reads from Azure, reached through a kubeconfig " +
                    "(a cluster another tool manages, or the local end-to-end stack).",
            ),
        name: existingName.describe(
            "A stable name for the cluster: the identity of the Kubernetes provider (changing it replaces every Kubernetes resource).",
        ),
        kubeconfigConfig: z
            .string()
            .min(1)
            .max(128)
            .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "a config key name: letters, digits, '_', '.' or '-'")
            .default(DEFAULT_KUBECONFIG_KEY)
            .describe(
                "The secret stack config key holding the kubeconfig (`pulumi config set --secret kubeconfig < FILE`; " +
                    "a portal passes it in `secrets.values`). Its current context is used.",
            ),
        oidcIssuerUrl: z
            .string()
            .refine((v) => /^https:\/\/[^/\s]/.test(v) && URL.canParse(v), "an https:// URL")
            .describe(
                "The cluster's service-account issuer: the `iss` of its tokens and the `issuer` of its " +
                    "`/.well-known/openid-configuration` " +
                    "(on AKS: `az aks show --query oidcIssuerProfile.issuerUrl`, trailing slash included).",
            ),
    })
    .strict();

const clusterSchema = z
    .discriminatedUnion("mode", [createCluster, adoptCluster, existingCluster])
    .describe("The cluster: an AKS cluster created by this program or adopted by name, or an existing cluster reached by kubeconfig.");

export const vaultSchema = z
    .object({
        address: z
            .string()
            .url({ protocol: /^https?$/, error: "an https:// URL such as https://vault.example.com:8200" })
            .describe("The external Vault's address, as the injector's agents and this program reach it."),
        namespace: vaultPath().optional().describe("Vault Enterprise namespace. Omitted: the root namespace."),
        skipTlsVerify: z.boolean().default(false).describe("Skip TLS verification on this program's own connection to Vault."),
        allowHttp: z
            .boolean()
            .default(false)
            .describe("Accept an `http://` address (a lab Vault without TLS): tokens then cross the network in clear."),
        caCertPem: z
            .string()
            .regex(
                /^\s*-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/,
                "one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)",
            )
            .optional()
            .describe(
                "PEM bundle of the CA that signed Vault's certificate, for a Vault behind a private CA; given to the injector " +
                    "(`AGENT_INJECT_VAULT_CACERT_BYTES`, chart 0.26.0 or later), " +
                    "which hands it to every agent (hashicorp/vault-k8s#151), " +
                    "and to this program's Vault provider as a file under the project root (`.vault-ca/`), " +
                    "named in state by a relative path that is the same on every runner. Omitted: the system roots.",
            ),
        policyPrefix: z
            .string()
            .regex(
                POLICY_PREFIX,
                "lower-case letters, digits, '-', '_' or '.', starting with a letter or digit (Vault stores policy names lower-cased)",
            )
            .max(64)
            .optional()
            .describe(
                "Prefix of every Vault policy this stack generates (`<prefix><workload>`), " +
                    "so stacks sharing one Vault and policies made outside this program never collide; " +
                    "it ends in `.` (workload names have none), unless policyNaming is legacy. " +
                    "Omitted: `<project>.<stack>.` (upper-case letters written `~` + lower case), " +
                    "or `<project>-<stack>-` with policyNaming legacy. " +
                    "Changing it renames, so replaces, every generated policy (docs/data-safety.md).",
            ),
        policyNaming: z
            .enum(["scoped", "legacy"])
            .default("scoped")
            .describe(
                "`scoped`: generated policy names cannot collide across workloads or stacks (`<project>.<stack>.<workload>`). " +
                    "`legacy`: the names stacks had before (`<project>-<stack>-<workload>`, where workload `eu-busybox` " +
                    "of stack `dev` and `busybox` of stack `dev-eu` collide): set it on an existing stack to keep its " +
                    "policies until it is migrated (docs/data-safety.md).",
            ),
        allowedPolicies: z
            .array(z.string().min(1))
            .default(["default"])
            .describe(
                "The only policies a workload's `policies` may name besides its generated one, " +
                    "compared after trimming and lower-casing (as Vault stores names); `root` is never allowed.",
            ),
    })
    .strict()
    .describe("The external Vault.");

/**
 * Chart versions whose values.yaml the guardrails embed (policies/chartKeys.generated.json; a
 * test keeps the two lists equal): the chart-key guardrail cannot check values for any other.
 */
export const SUPPORTED_CHART_VERSIONS = ["0.25.0", "0.34.1"] as const;

/** Longest Vault token TTL a workload may ask for: the guardrail vault-role-token-ttl's default limit. */
export const MAX_TOKEN_TTL_SECONDS = 86400;
const TTL_LIMIT = `at most ${MAX_TOKEN_TTL_SECONDS} seconds (24 h, the limit of the guardrail vault-role-token-ttl)`;

/** The injector pods' own requests and limits (the chart sets none). */
const INJECTOR_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } } as const;

const quantities = (what: string) =>
    z.object({ cpu: z.string().describe(`CPU ${what}.`), memory: z.string().describe(`Memory ${what}.`) }).partial().strict();

export const injectorSchema = z
    .object({
        namespace: dns1123().default("vault").describe("Namespace of the injector (created by this program)."),
        releaseName: dns1123().default(DEFAULT_RELEASE_NAME).describe("Helm release name of the vault chart."),
        chartVersion: z
            .string()
            .regex(EXACT_SEMVER, "an exact chart version such as 0.34.1 (no ranges)")
            .refine((v) => !EXACT_SEMVER.test(v) || (SUPPORTED_CHART_VERSIONS as readonly string[]).includes(v), {
                message:
                    `one of ${SUPPORTED_CHART_VERSIONS.join(", ")}: ` +
                    `the versions whose values.yaml the guardrails check chart values against ` +
                    `(add another with npm run generate:chart-keys)`,
            })
            .default("0.34.1")
            .describe(
                `Exact vault chart version, one of ${SUPPORTED_CHART_VERSIONS.join(", ")} ` +
                    `(the versions the guardrails know the values of).`,
            ),
        // https or an OCI registry: a chart fetched over plain http could be swapped on the way.
        chartRepository: z
            .string()
            .refine((v) => /^(https|oci):\/\/[^/\s]/.test(v) && URL.canParse(v), "an https:// or oci:// URL")
            .default("https://helm.releases.hashicorp.com")
            .describe(
                "Chart repository: an https:// index holding the vault chart, " +
                    "or an oci:// registry path without the chart name (the chart is then <path>/vault; run `helm registry login` first).",
            ),
        chartPath: z
            .string()
            .min(1)
            .max(4096)
            .refine((v) => !/[\0\n\r]/.test(v), "a file path without NUL or line breaks")
            .optional()
            .describe(
                "A local vault chart instead of a repository: a chart directory or a packaged `.tgz` (an air-gapped mirror, " +
                    "the end-to-end suite); relative paths are resolved from the project folder. Its Chart.yaml version must equal " +
                    "chartVersion (checked at preview). Omitted: the chart comes from chartRepository.",
            ),
        replicas: z
            .number()
            .int()
            .min(
                2,
                "at least 2: one injector is a single point of failure whatever the failure policy " +
                    "(the guardrail vault-injector-high-availability requires 2)",
            )
            .max(10)
            .default(2)
            .describe(
                "Injector replicas (leader election is always on), at least 2; " +
                    "spread over nodes and zones where it can (preferred, not required).",
            ),
        logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info").describe("Injector log level."),
        logFormat: z.enum(["standard", "json"]).default("standard").describe("Injector log format."),
        imageTag: z.string().optional().describe("vault-k8s image tag. Omitted: the chart's default for its version."),
        agentImageTag: z.string().optional().describe("Vault Agent image tag. Omitted: the chart's default for its version."),
        nodeSelector: z.record(z.string(), z.string()).default({}).describe("Node selector of the injector pods."),
        resources: z
            .object({
                requests: quantities("request").optional().describe("Requests of the injector pods."),
                limits: quantities("limit").optional().describe("Limits of the injector pods."),
            })
            .strict()
            .transform((r) => ({
                requests: { ...INJECTOR_RESOURCES.requests, ...r.requests },
                limits: { ...INJECTOR_RESOURCES.limits, ...r.limits },
            }))
            .prefault({})
            .describe(
                `Injector pod resources, field by field ` +
                    `over requests ${INJECTOR_RESOURCES.requests.cpu} CPU / ${INJECTOR_RESOURCES.requests.memory} ` +
                    `and limits ${INJECTOR_RESOURCES.limits.cpu} CPU / ${INJECTOR_RESOURCES.limits.memory} (the chart sets none).`,
            ),
        reviewerServiceAccount: dns1123()
            .optional()
            .describe(
                `kubernetesAuth.method kubernetes only: the service account Vault calls TokenReview as. ` +
                    `Omitted: \`${DEFAULT_REVIEWER_SERVICE_ACCOUNT}\`.`,
            ),
        reviewerTokenRotation: z
            .union([z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/), z.number().int().nonnegative()], {
                error: "1-64 letters, digits, '.', '_', ':' or '-' (a date, say), or a whole number (a counter)",
            })
            .optional()
            .describe(
                "Change this value (a date, a counter) to rotate the reviewer token: a new token Secret is created, " +
                    "Vault is given its JWT, then the old Secret is deleted, in one `up`. Omitted: one token, never rotated.",
            ),
        failurePolicy: z
            .enum(["Fail", "Ignore"])
            .default("Fail")
            .describe(
                "What the API server does with a pod when the injector cannot answer: `Fail` refuses the pod, " +
                    "so it is retried rather than started without its secrets; `Ignore` starts it without the agent (docs/security.md).",
            ),
    })
    .strict()
    .describe("The Vault Agent Injector (vault Helm chart, injector only).");

/** How pods log in to Vault. See docs/private-clusters.md for when to choose which. */
const AUTH_METHODS = ["kubernetes", "jwt"] as const;
type AuthMethod = (typeof AUTH_METHODS)[number];

/** The mount path when none is set. Different per method: see `kubernetesAuth.path`. */
export const DEFAULT_AUTH_PATH: Readonly<Record<AuthMethod, string>> = { kubernetes: "kubernetes", jwt: "jwt" };
const DEFAULT_AUTH_DESCRIPTION: Readonly<Record<AuthMethod, string>> = {
    kubernetes: "Kubernetes auth for AKS workloads",
    jwt: "JWT auth for AKS workloads (service-account tokens checked against the cluster's OIDC issuer)",
};

/** What method kubernetes uses for the settings left out. */
/**
 * validateIssuer off, as upstream: `disable_iss_validation` defaults to true and both it and
 * `issuer` are deprecated (vault-plugin-auth-kubernetes path_config.go); the API server's
 * TokenReview already refuses a token it did not issue (docs/design.md).
 */
const KUBERNETES_METHOD_DEFAULTS = { validateIssuer: false, reviewer: "serviceAccountToken" } as const;

/** Kubernetes' floor for a projected token's `expirationSeconds` (10 minutes). */
const MIN_PROJECTED_TOKEN_SECONDS = 600;

export const kubernetesAuthSchema = z
    .object({
        method: z
            .enum(AUTH_METHODS)
            .default("kubernetes")
            .describe(
                "`kubernetes`: Vault's Kubernetes auth, which calls the cluster's TokenReview API. " +
                    "`jwt`: Vault's JWT auth, which checks the pods' projected service-account tokens " +
                    "against the AKS OIDC issuer's published keys: no reviewer token, no path from Vault to the API server " +
                    "(docs/private-clusters.md).",
            ),
        path: vaultPath()
            .optional()
            .describe(
                `Mount path without \`auth/\`. ` +
                    `Omitted: \`${DEFAULT_AUTH_PATH.kubernetes}\` (method kubernetes) or \`${DEFAULT_AUTH_PATH.jwt}\` (method jwt): ` +
                    "switching methods creates the new mount before deleting the old one, and Vault refuses two mounts at one path " +
                    "(`path is already in use`): a switch that keeps this path is refused by the CLI and `run()` before anything " +
                    "runs; set another path or omit it (docs/data-safety.md).",
            ),
        description: z.string().optional().describe("Description of the auth mount. Omitted: one per method."),
        validateIssuer: z
            .boolean()
            .optional()
            .describe(
                "Method kubernetes only: Vault also checks tokens' `iss` claim against the cluster's OIDC issuer URL " +
                    "(upstream's deprecated `issuer`; the TokenReview already refuses tokens the cluster did not issue). " +
                    "Tokens minted before the issuer changed (OIDC issuer turned on) then fail until their pods restart, " +
                    "and clusters that mint quoted issuers always fail (Azure/AKS#2523). " +
                    `Omitted: ${KUBERNETES_METHOD_DEFAULTS.validateIssuer}, upstream's default (docs/design.md).`,
            ),
        reviewer: z
            .enum(["serviceAccountToken", "clientJwt"])
            .optional()
            .describe(
                "Method kubernetes only: who Vault calls TokenReview as. " +
                    "`serviceAccountToken`: a dedicated reviewer with a long-lived token Secret; " +
                    "`clientJwt`: each workload's own JWT " +
                    "(no long-lived token; every bound service account gets `system:auth-delegator`). " +
                    `Omitted: ${KUBERNETES_METHOD_DEFAULTS.reviewer}.`,
            ),
        audience: z
            .string()
            .min(1)
            .max(256)
            .refine((v) => isOneAudience(v) && v.trim() === v, "one audience: not '*', no commas, no surrounding spaces")
            .optional()
            .describe(
                "Method jwt only: the audience (`aud`) of the pods' projected tokens and the roles' `bound_audiences`; " +
                    "never `*`, no commas (Vault splits `bound_audiences` on them). " +
                    "Omitted: `<vault.address>/v1/[<vault.namespace>/]auth/<path>`, the login URL's prefix, " +
                    "so a token minted for this mount is accepted by no other relying party.",
            ),
        tokenExpirationSeconds: z
            .number()
            .int()
            .min(MIN_PROJECTED_TOKEN_SECONDS)
            .max(86400)
            .optional()
            .describe(
                `Method jwt only: lifetime of the pods' projected token in seconds; ` +
                    `the kubelet replaces it at 80% of that, and the agent re-reads it (sidecar mode). ` +
                    `Omitted: ${DEFAULT_TOKEN_EXPIRATION_SECONDS}.`,
            ),
    })
    .strict()
    // Typed by method: each carries only its own settings, with their defaults.
    .transform((a): KubernetesAuthMethodSettings | JwtAuthMethodSettings => {
        const common = {
            path: a.path ?? DEFAULT_AUTH_PATH[a.method],
            description: a.description ?? DEFAULT_AUTH_DESCRIPTION[a.method],
        };
        if (a.method === "jwt") {
            return {
                method: "jwt",
                ...common,
                ...(a.audience === undefined ? {} : { audience: a.audience }),
                tokenExpirationSeconds: a.tokenExpirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS,
            };
        }
        return {
            method: "kubernetes",
            ...common,
            validateIssuer: a.validateIssuer ?? KUBERNETES_METHOD_DEFAULTS.validateIssuer,
            reviewer: a.reviewer ?? KUBERNETES_METHOD_DEFAULTS.reviewer,
        };
    })
    .describe("How pods log in to Vault: its Kubernetes or JWT auth method for the cluster.");

interface KubernetesAuthMethodSettings {
    method: "kubernetes";
    path: string;
    description: string;
    validateIssuer: boolean;
    reviewer: "serviceAccountToken" | "clientJwt";
}

interface JwtAuthMethodSettings {
    method: "jwt";
    path: string;
    description: string;
    /** Unset: `defaultJwtAudience` of the Vault address, namespace and path. */
    audience?: string;
    tokenExpirationSeconds: number;
}

export const kvSchema = z
    .object({
        path: vaultPath().default("secret").describe("Mount path of the KV v2 secrets engine."),
        description: z.string().default("KV v2 secrets for AKS workloads").describe("Description of the KV v2 mount."),
        existing: z.boolean().default(false).describe("Adopt a KV v2 mount that already exists instead of creating it."),
        protect: z.boolean().default(true).describe("Protect the KV v2 mount from deletion: deleting a mount deletes every secret in it."),
        external: z
            .array(
                z
                    .object({
                        path: vaultPath().describe("Path inside the KV v2 mount, kept outside this program."),
                        readers: z.array(dns1123()).min(1, "at least one workload").describe("Workloads that may read the path."),
                    })
                    .strict(),
            )
            .default([])
            .describe(
                "KV paths that exist outside this program (written by hand or by another system), " +
                    "each named once with the workloads that may read it. " +
                    "A workload reads only its own paths, paths another workload shares with it, and these (docs/security.md).",
            ),
    })
    .strict()
    .describe("The KV v2 secrets engine the workloads read.");

const seedValue = z.union(
    [
        z
            .object({
                secretConfig: z
                    .string()
                    .min(1)
                    .describe("Read the value from this secret stack config key (`pulumi config set --secret KEY`)."),
            })
            .strict(),
        z
            .object({
                random: z
                    .object({
                        length: z.number().int().min(8).max(256).default(32).describe("Length of the generated value."),
                        special: z.boolean().default(false).describe("Include special characters."),
                    })
                    .strict()
                    .describe("Generate a random value once (`@pulumi/random`), kept in state as a secret."),
            })
            .strict(),
        z
            .object({
                value: z
                    .string()
                    .describe("A literal value: for portal callers passing a value they hold; never put one in a YAML file."),
            })
            .strict(),
    ],
    { error: "one of {secretConfig: KEY}, {random: {length, special}} or {value: STRING}" },
);

const secretFileSchema = z
    .object({
        file: z
            .string()
            .regex(SECRET_FILE, "letters, digits, '_', '.' or '-', starting and ending with a letter or digit")
            .max(
                ANNOTATION_NAME_MAX - SECRET_ANNOTATION_PREFIX.length,
                `at most ${ANNOTATION_NAME_MAX - SECRET_ANNOTATION_PREFIX.length} characters (the file name ends an annotation name)`,
            )
            .describe("File name under /vault/secrets; also the annotation suffix."),
        path: vaultPath().describe("Path of the secret inside the KV v2 mount (without the mount and without `data/`)."),
        key: z
            .string()
            .min(1)
            .optional()
            .describe(
                "Render only this key's value. Required unless template is given: a whole KV v2 secret would render as Go maps.",
            ),
        prefix: z
            .string()
            .optional()
            .describe("Text put before the key's value, e.g. `token value stored on path secret/devops is `; only with key."),
        template: z
            .string()
            .optional()
            .describe(
                "A full Consul Template body reading `.Data.data`, for experts; excludes key and prefix. " +
                    "It may read only the workload's own or granted paths with `secret`, " +
                    "and use a small set of functions (docs/security.md).",
            ),
        from: dns1123()
            .optional()
            .describe(
                "The workload that owns `path`, when it is not this one: " +
                    "the owner must list this workload in `sharedWith` on its own secret or seed for the path. " +
                    "Omitted: this workload owns the path.",
            ),
        sharedWith: z
            .array(dns1123())
            .default([])
            .describe(
                "Workloads allowed to read this path (they name it with `from: <this workload>`); only the path's owner may share it.",
            ),
    })
    .strict();

const seedSchema = z
    .object({
        path: vaultPath().describe("Path inside the KV v2 mount to write."),
        values: z
            .record(z.string().min(1), seedValue)
            .describe("The keys to write, each from a secret config key, generated, or (portal callers) a literal."),
        writeOnce: z
            .boolean()
            .default(true)
            .describe(
                "Write the values once and leave them alone afterwards (`ignoreChanges`), " +
                    "so a rotation done in Vault is not reverted by the next `up`; " +
                    "the first write is a check-and-set that never overwrites data already at the path. " +
                    "false: the stack's value is written on every change, overwriting (docs/data-safety.md).",
            ),
        sharedWith: z
            .array(dns1123())
            .default([])
            .describe("Workloads allowed to read this seeded path (they name it in `secrets` with `from: <this workload>`)."),
    })
    .strict();

const deploymentSchema = z
    .object({
        image: z.string().min(1).default("busybox:1.36").describe("Container image."),
        command: z.array(z.string()).optional().describe("Container command. Omitted: the image's own."),
        replicas: z.number().int().min(0).max(100).default(1).describe("Pod replicas."),
    })
    .strict();

export const workloadSchema = z
    .object({
        name: dns1123().describe("Workload name: names its Vault policy (`<vault.policyPrefix><name>`), and the role unless role is set."),
        formerName: dns1123()
            .optional()
            .describe(
                "The workload's previous name, after a rename: its resources are aliased to the new name, " +
                    "so the namespace, service account, seeded secrets and generated random values are kept " +
                    "(the policy, role and Deployment get new names). Remove it after one `up`. Omitted: no rename.",
            ),
        namespace: dns1123OrWildcard().describe("Namespace of the workload's service account; `*` only with allowWildcard."),
        serviceAccount: dns1123OrWildcard().describe("Service account bound to the Vault role; `*` only with allowWildcard."),
        allowWildcard: z
            .boolean()
            .default(false)
            .describe(
                "Accept `*` as namespace or service account: the role then admits any pod there (no service account, no deployment).",
            ),
        role: z
            .string()
            .regex(/^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/, "letters, digits, '_', '.' or '-' (a Vault role name has no '/')")
            .optional()
            .describe("Vault role name. Omitted: the workload name."),
        tokenTtl: z
            .number()
            .int()
            .positive()
            .max(MAX_TOKEN_TTL_SECONDS, TTL_LIMIT)
            .default(3600)
            .describe("Token TTL in seconds, at most 86400."),
        tokenMaxTtl: z
            .number()
            .int()
            .positive()
            .max(MAX_TOKEN_TTL_SECONDS, TTL_LIMIT)
            .optional()
            .describe("Token max TTL in seconds, at least tokenTtl and at most 86400. Omitted: the mount's."),
        policies: z
            .array(z.string().min(1))
            .default(["default"])
            .describe("Vault policies the role carries besides the generated one; each must be in vault.allowedPolicies."),
        createNamespace: z
            .boolean()
            .default(true)
            .describe("Create the namespace (false when another workload or someone else creates it)."),
        secrets: z
            .array(secretFileSchema)
            .default([])
            .describe("Files the agent renders under /vault/secrets: `{file, path, key, prefix}` or `{file, path, template}`."),
        seed: z.array(seedSchema).default([]).describe("Secrets this program writes into the KV v2 mount."),
        extraCapabilities: z
            .array(z.enum(["create", "update", "patch", "delete", "list"]))
            .default([])
            .describe("Policy capabilities beyond `read`, only when a workload really needs them; given only on paths the workload owns."),
        deployment: deploymentSchema
            .optional()
            .describe("A Deployment running as the service account, annotated for injection. Omitted: none."),
        // `prefault`: zod 4's `default` skips the inner defaults.
        injection: injectionSchema.prefault({}).describe("How the Vault Agent runs (docs/injection-modes.md)."),
    })
    .strict();

/**
 * The platform team's settings (issue 22): exemptions and reserved names that a team's own
 * workload entry cannot set. A portal writes this block from its own store, never from a team's
 * request; in a stack file it is `aks-vault:platform`, owned by the platform team like
 * policies/platform-config.json (docs/security.md, "Who sets what").
 */
export const platformSchema = z
    .object({
        reservedNamespaces: z
            .array(dns1123())
            .default([])
            .describe(
                "Namespaces no workload may use, besides those always reserved " +
                    "(`default`, `kube-*`, the injector's namespace): the platform's own (ingress, monitoring, ...).",
            ),
        wildcardWorkloads: z
            .array(dns1123())
            .default([])
            .describe(
                "Workloads whose role may bind `*` as namespace or service account (with their own `allowWildcard`): " +
                    "the exemption is the platform's, never the entry's. A `*` role receives no `sharedWith` grant.",
            ),
        secretConfigKeys: z
            .array(z.string().min(1))
            .default([])
            .describe(
                "Secret config keys the platform owns besides `vaultToken`, `cluster.kubeconfigConfig` and " +
                    "`cluster.credentials.clientSecretConfig`: no workload seed may read them.",
            ),
    })
    .strict()
    .describe("Set by the platform team, never by a team's workload entry: reserved namespaces, exemptions, platform secrets.");

export const settingsSchema = z
    .object({
        cluster: clusterSchema,
        vault: vaultSchema,
        injector: injectorSchema.prefault({}),
        kubernetesAuth: kubernetesAuthSchema.prefault({}),
        kv: kvSchema.prefault({}),
        platform: platformSchema.prefault({}),
        workloads: z
            .array(workloadSchema)
            .default([])
            .describe("Workloads: each gets a Vault policy and role, seeded secrets and an optional annotated Deployment."),
    })
    .strict();

export type SettingsInput = z.input<typeof settingsSchema>;
export type Settings = z.output<typeof settingsSchema>;
export type PoolSettings = z.output<typeof poolSchema>;
export type InjectorSettings = Settings["injector"];
export type KubernetesAuthSettings = Settings["kubernetesAuth"];
export type WorkloadSettings = z.output<typeof workloadSchema>;
export type SeedValue = z.output<typeof seedValue>;
