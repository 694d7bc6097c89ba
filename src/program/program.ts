/**
 * The whole graph as one plain function: AKS -> injector + token reviewer -> Vault Kubernetes auth
 * + KV v2 -> workloads. `index.ts` calls it with settings read from stack config; the Automation
 * API calls it inline; the tests call it under Pulumi's mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { Settings, SeedValue, WorkloadSettings } from "../config/schema";
import { SecretInputs } from "../config/load";
import { INJECTOR_NAME } from "../config/names";
import { resolveChartPath } from "../config/validate";
import {
    AksCluster,
    AksCredentialsArgs,
    SeedValueArgs,
    VaultInjector,
    VaultJwtAuth,
    VaultKubernetesAuth,
    VaultKv,
    WorkloadBinding,
    WorkloadBindingArgs,
} from "../../components";
import { defaultJwtAudience } from "../../components/vaultJwtAuth";
import { writeVaultCaCertFile } from "../../components/caCertFile";
import { ProgramOutputs } from "./outputs";
import { STAGES, Stage } from "../stages";
import { policyPrefixOf } from "../config/trust";
import { KvAccess, kvAccess, workloadAccess } from "../config/access";
import { normalizePolicy } from "../config/names";

interface ProgramOptions {
    /** Build the graph only up to this stage (inclusive). Default: `workloads` (everything). */
    stage?: Stage;
    /**
     * The project root, under which `vault.caCertPem` is written for the Vault provider (the
     * directory the engine starts the provider in). Default: this package's folder.
     */
    projectDir?: string;
}


function includes(stage: Stage, wanted: Stage): boolean {
    return STAGES.indexOf(wanted) <= STAGES.indexOf(stage);
}

function seedSource(value: SeedValue, secrets: SecretInputs): SeedValueArgs {
    if ("secretConfig" in value) return { value: secrets.secretConfig(value.secretConfig) };
    if ("random" in value) return { random: value.random };
    return { value: value.value };
}

function credentialsArgs(
    c: Extract<Settings["cluster"], { credentials: unknown }>["credentials"], secrets: SecretInputs,
): AksCredentialsArgs {
    if (c.mode === "admin") return c;
    return {
        mode: "kubelogin",
        login: c.login,
        clientId: c.clientId,
        clientSecret: c.clientSecretConfig === undefined ? undefined : secrets.secretConfig(c.clientSecretConfig),
        tenantId: c.tenantId,
    };
}

/** Registers the resources for `settings` and returns the stack outputs. */
export function buildProgram(settings: Settings, secrets: SecretInputs, options: ProgramOptions = {}): ProgramOutputs {
    const stage = options.stage ?? "workloads";

    const cluster = addCluster(settings, secrets);
    const outputs: ProgramOutputs = {
        clusterName: cluster.clusterName,
        resourceGroupName: cluster.resourceGroupName,
        apiServerUrl: cluster.apiServerUrl,
        oidcIssuerUrl: cluster.oidcIssuerUrl,
        kubeconfig: cluster.kubeconfig,
    };
    if (!includes(stage, "injector")) return outputs;

    const injector = addInjector(settings, cluster);
    outputs.injectorNamespace = injector.namespace;
    outputs.injectorChartVersion = injector.chartVersion;
    outputs.reviewerServiceAccount = injector.reviewerServiceAccountName;
    // For the doctor's TokenReview of the reviewer's token (src/doctor/gather.ts).
    outputs.reviewerTokenSecret = injector.reviewerTokenSecretName;
    outputs.reviewerTokenSecretUid = injector.reviewerTokenSecretUid;
    if (!includes(stage, "vault-auth")) return outputs;

    const vaultAuth = addVaultAuth(settings, secrets, options, cluster, injector);
    outputs.vaultAuthPath = vaultAuth.auth.path;
    // Only with jwt, so existing (kubernetes) stacks see no change in their outputs.
    if (vaultAuth.workloadAuth.method === "jwt") {
        outputs.vaultAuthMethod = "jwt";
        outputs.vaultJwtAudience = vaultAuth.workloadAuth.audience;
    }
    outputs.vaultAuthAccessor = vaultAuth.auth.accessor;
    outputs.kvMountPath = vaultAuth.kv.path;
    if (!includes(stage, "workloads")) return outputs;

    outputs.workloads = addWorkloads(settings, secrets, cluster, injector, vaultAuth);
    return outputs;
}

/** Stage `cluster`: the AKS cluster (or the existing cluster's kubeconfig) and the Kubernetes provider for it. */
function addCluster(settings: Settings, secrets: SecretInputs): AksCluster {
    const c = settings.cluster;
    if (c.mode === "existing") {
        return new AksCluster(c.name, {
            mode: "existing",
            name: c.name,
            kubeconfig: secrets.secretConfig(c.kubeconfigConfig),
            oidcIssuerUrl: c.oidcIssuerUrl,
        });
    }
    return new AksCluster(c.name, { ...c, credentials: credentialsArgs(c.credentials, secrets) });
}

/** Stage `injector`: the Vault Agent Injector and, with method kubernetes, the token reviewer. */
function addInjector(settings: Settings, cluster: AksCluster): VaultInjector {
    const ka = settings.kubernetesAuth;
    return new VaultInjector(INJECTOR_NAME, {
        ...settings.injector,
        chartPath: settings.injector.chartPath === undefined ? undefined : resolveChartPath(settings.injector.chartPath),
        provider: cluster.provider,
        externalVaultAddr: settings.vault.address,
        authPath: ka.path,
        // JWT auth: Vault checks tokens against the issuer's keys; no reviewer identity at all.
        reviewer: ka.method === "kubernetes" ? ka.reviewer : "none",
        vaultCaCertPem: settings.vault.caCertPem,
    });
}

/** What stage `vault-auth` registers, and how workloads log in through it. */
interface VaultAuthStage {
    vaultProvider: vault.Provider;
    auth: VaultJwtAuth | VaultKubernetesAuth;
    /** The login every workload's binding uses: the method of `auth` (jwt: with its audience). */
    workloadAuth: NonNullable<WorkloadBindingArgs["auth"]>;
    kv: VaultKv;
}

/** Stage `vault-auth`: the Vault provider, the auth mount (kubernetes or jwt) and the KV v2 mount. */
function addVaultAuth(
    settings: Settings, secrets: SecretInputs, options: ProgramOptions, cluster: AksCluster, injector: VaultInjector,
): VaultAuthStage {
    const ka = settings.kubernetesAuth;
    const vaultProvider = addVaultProvider(settings, secrets, options);
    const auth = ka.method === "jwt"
        ? new VaultJwtAuth("vault-jwt-auth", {
            provider: vaultProvider,
            path: ka.path,
            description: ka.description,
            issuer: cluster.oidcIssuerUrl,
        })
        : new VaultKubernetesAuth("vault-k8s-auth", {
            provider: vaultProvider,
            path: ka.path,
            description: ka.description,
            kubernetesHost: cluster.apiServerUrl,
            kubernetesCaCert: cluster.caCertPem,
            tokenReviewerJwt: injector.reviewerJwt,
            issuer: cluster.oidcIssuerUrl,
            validateIssuer: ka.validateIssuer,
        });
    const workloadAuth = ka.method === "jwt"
        ? {
            method: "jwt" as const,
            audience: ka.audience ?? defaultJwtAudience(settings.vault.address, ka.path, settings.vault.namespace),
            tokenExpirationSeconds: ka.tokenExpirationSeconds,
        }
        : {
            method: "kubernetes" as const,
            // Every role is bound to one audience and the pods get a token minted for it. With a
            // reviewer token, Vault's own (the login URL's prefix, as for jwt): a token for the API
            // server is refused. With clientJwt, Vault reviews each login as the client's own
            // token, so the API server must accept that token: its audience.
            audience: ka.reviewer === "clientJwt"
                ? cluster.apiAudience
                : defaultJwtAudience(settings.vault.address, ka.path, settings.vault.namespace),
        };
    const kv = new VaultKv("vault-kv", {
        provider: vaultProvider,
        path: settings.kv.path,
        description: settings.kv.description,
        existing: settings.kv.existing,
        protect: settings.kv.protect,
        external: settings.kv.external,
    });
    return { vaultProvider, auth, workloadAuth, kv };
}

/** The Vault provider every Vault resource of the stack is created through. */
function addVaultProvider(settings: Settings, secrets: SecretInputs, options: ProgramOptions): vault.Provider {
    return new vault.Provider("vault", {
        address: settings.vault.address,
        // Absent: the provider reads VAULT_TOKEN from its environment. Never a literal in code.
        token: secrets.vaultToken === undefined ? undefined : pulumi.secret(secrets.vaultToken),
        namespace: settings.vault.namespace,
        skipTlsVerify: settings.vault.skipTlsVerify,
        // The same private CA the injector and agents get; the provider reads a CA only from a file,
        // given as a path relative to the project root, so the state names no machine's path.
        caCertFile:
            settings.vault.caCertPem === undefined ? undefined : writeVaultCaCertFile(settings.vault.caCertPem, options.projectDir),
        // The provider works through a child token (default TTL 20 min) created when it is
        // configured at the start of the run; Vault resources wait for AKS and the Helm release,
        // which together can take longer than that.
        maxLeaseTtlSeconds: 3600,
    });
}

/** What every workload's binding takes from the stages before it and from the whole list of workloads. */
interface WorkloadContext {
    settings: Settings;
    secrets: SecretInputs;
    cluster: AksCluster;
    injector: VaultInjector;
    vaultAuth: VaultAuthStage;
    access: KvAccess;
    policyPrefix: string;
}

/** Stage `workloads`: one WorkloadBinding per workload; returns their outputs by workload name. */
function addWorkloads(
    settings: Settings, secrets: SecretInputs, cluster: AksCluster, injector: VaultInjector, vaultAuth: VaultAuthStage,
): NonNullable<ProgramOutputs["workloads"]> {
    const workloads: NonNullable<ProgramOutputs["workloads"]> = {};
    const access = kvAccess(settings.workloads, settings.kv.external);
    const policyPrefix = policyPrefixOf(settings.vault, pulumi.getProject(), pulumi.getStack());
    const context: WorkloadContext = { settings, secrets, cluster, injector, vaultAuth, access, policyPrefix };
    // A namespace another workload uses outlives the workload that created it: deleting a
    // namespace deletes everything in it (docs/data-safety.md).
    const namespaceUsers = new Map<string, number>();
    for (const w of settings.workloads) namespaceUsers.set(w.namespace, (namespaceUsers.get(w.namespace) ?? 0) + 1);
    // Bindings that create their namespace go first, so those sharing it can wait for it (a patch
    // on a namespace that does not exist yet fails).
    const createdNamespaces = new Map<string, pulumi.Output<string>>();
    const ordered = [...settings.workloads.filter((w) => w.createNamespace), ...settings.workloads.filter((w) => !w.createNamespace)];
    for (const w of ordered) {
        const retainNamespace = (namespaceUsers.get(w.namespace) ?? 0) > 1;
        const sharedNamespace = w.createNamespace ? undefined : createdNamespaces.get(w.namespace);
        const binding = addWorkload(context, w, retainNamespace, sharedNamespace);
        if (w.createNamespace) createdNamespaces.set(w.namespace, binding.namespace);
        workloads[w.name] = {
            namespace: binding.namespace,
            serviceAccount: binding.serviceAccountName,
            role: binding.roleName,
            policy: binding.policyName,
            // The injector lower-cases file names (no preserve-secret-case annotation is set).
            files: w.secrets.map((s) => `/vault/secrets/${s.file.toLowerCase()}`),
            ...(w.deployment === undefined ? { deployment: false as const } : {}),
        };
    }
    return workloads;
}

/** The WorkloadBinding of one workload, from its settings and what the earlier stages registered. */
function addWorkload(
    { settings, secrets, cluster, injector, vaultAuth, access, policyPrefix }: WorkloadContext,
    w: WorkloadSettings,
    retainNamespace: boolean,
    sharedNamespace: pulumi.Output<string> | undefined,
): WorkloadBinding {
    const ka = settings.kubernetesAuth;
    return new WorkloadBinding(w.name, {
        k8sProvider: cluster.provider,
        vaultProvider: vaultAuth.vaultProvider,
        namespace: w.namespace,
        createNamespace: w.createNamespace,
        serviceAccount: w.serviceAccount,
        role: w.role ?? w.name,
        authPath: vaultAuth.auth.path,
        auth: vaultAuth.workloadAuth,
        kvMount: vaultAuth.kv.path,
        tokenTtl: w.tokenTtl,
        tokenMaxTtl: w.tokenMaxTtl,
        policies: [...new Set(w.policies.map(normalizePolicy))],
        policyName: `${policyPrefix}${w.name}`,
        access: workloadAccess(access, w.name),
        retainNamespace,
        secrets: w.secrets,
        seed: w.seed.map((s) => ({
            path: s.path,
            writeOnce: s.writeOnce,
            values: Object.fromEntries(Object.entries(s.values).map(([k, v]) => [k, seedSource(v, secrets)])),
        })),
        extraCapabilities: w.extraCapabilities,
        deployment: w.deployment,
        deploymentDependsOn: [injector.release],
        authDelegator: ka.method === "kubernetes" && ka.reviewer === "clientJwt",
        injection: w.injection,
        vaultNamespace: settings.vault.namespace,
        sharedNamespace,
    }, w.formerName === undefined ? undefined : {
        // Children are named `${name}-...`: the SDK derives their aliases from the parent's
        // (resource.ts inheritedChildAlias), so the namespace, service account, seeds and
        // random values keep their state under the new name.
        aliases: [{ name: w.formerName }],
    });
}
