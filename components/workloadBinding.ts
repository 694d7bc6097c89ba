import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import * as vault from "@pulumi/vault";
import { INJECTION_LABEL, INJECTION_LABEL_VALUE } from "../src/agent/vocabulary";
import { TYPE_PREFIX } from "./typePrefix";
import { SecretFile, renderPodAnnotations } from "./annotations";
import { InjectionArgs } from "../src/agent/agentInjection";
import { ExtraCapability, renderKvPolicy } from "./vaultPolicy";
import { JwtLoginArgs, isOneAudience, projectedTokenVolume, serviceAccountSubject, wildcardSubjectParts } from "../src/agent/jwtLogin";
import { authDelegatorBindingName, childNames } from "../src/config/names";
import { WorkloadAccess, kvAccess, workloadAccess } from "../src/config/access";

/** Where a seeded value comes from. */
export type SeedValueArgs =
    | { value: pulumi.Input<string> }
    | { random: { length: number; special: boolean } };

export interface SeedArgs {
    /** KV v2 path inside the mount, e.g. `devops`. */
    path: string;
    /** Key to value source. */
    values: Record<string, SeedValueArgs>;
    /** Write once, then leave the values alone (`ignoreChanges`) so a rotation in Vault is kept. Default true. */
    writeOnce?: boolean;
}

export interface WorkloadDeploymentArgs {
    /** Container image. */
    image: string;
    /** Container command; default: list /vault/secrets (names and sizes, never contents) every 5 min. */
    command?: string[];
    /** Replicas. */
    replicas: number;
}

export interface WorkloadBindingArgs {
    /** Kubernetes provider of the cluster (required). */
    k8sProvider: k8s.Provider;
    /** Vault provider (required). */
    vaultProvider: vault.Provider;
    /** Namespace of the workload. */
    namespace: string;
    /** Create the namespace (false: it exists, or another binding creates it; see `sharedNamespace`). */
    createNamespace: boolean;
    /** Service account the workload's pods run as; the Vault role is bound to exactly it. */
    serviceAccount: string;
    /** Vault role name. */
    role: string;
    /** Auth mount path without `auth/` (an output of VaultKubernetesAuth or VaultJwtAuth). */
    authPath: pulumi.Input<string>;
    /**
     * Which auth method the mount at `authPath` is. Default `{ method: "kubernetes" }`. With
     * `jwt`, the role is a JWT role bound to the service account's exact `sub` and the audience,
     * and the Deployment's pods get a projected token for that audience.
     */
    auth?: KubernetesLoginArgs | ({ method: "jwt" } & JwtLoginArgs);
    /** KV v2 mount path (an output of VaultKv). */
    kvMount: pulumi.Input<string>;
    /** Vault token TTL, seconds. */
    tokenTtl: number;
    /** Vault token max TTL, seconds; default: the mount's. */
    tokenMaxTtl?: number;
    /** Policies attached besides the generated one (usually `["default"]`). */
    policies: string[];
    /** Name of the generated Vault policy (a stack prefix keeps it apart from others'). Default: the binding's name. */
    policyName?: string;
    /**
     * Who owns and may read this workload's KV paths: its part of the stack-wide `kvAccess`
     * (src/config/access.ts). Also registered on the component, so the policy pack can check the
     * generated policy, the role and the templates against it. Default: the same rule applied to
     * this binding alone (it owns every path it reads or seeds, and shares none).
     */
    access?: WorkloadAccess;
    /**
     * Keep the namespace in the cluster when this binding is deleted (`retainOnDelete`): another
     * workload of the stack uses it, and deleting a namespace deletes everything in it. Default false.
     */
    retainNamespace?: boolean;
    /** Files the injector renders; their paths make up the generated policy. */
    secrets: SecretFile[];
    /** KV v2 secrets to write (may be empty). */
    seed: SeedArgs[];
    /** Capabilities beyond `read` on the declared paths (may be empty). */
    extraCapabilities: ExtraCapability[];
    /**
     * Grant the service account `system:auth-delegator`: needed when Vault reviews each client's
     * JWT with that JWT (no long-lived reviewer token). Default false.
     */
    authDelegator?: boolean;
    /** Vault Enterprise namespace the agents log in to (`vault.hashicorp.com/namespace`). Default: root. */
    vaultNamespace?: string;
    /**
     * The namespace when another binding of this stack creates it: its label is set at creation,
     * so no patch is made, and this binding waits for it.
     */
    sharedNamespace?: pulumi.Output<string>;
    /** A Deployment carrying the injector annotations. Omitted: none. */
    deployment?: WorkloadDeploymentArgs;
    /**
     * What the Deployment waits for, typically the injector release: a pod created before the
     * webhook is serving is refused (failurePolicy Fail) or starts without its secrets (Ignore).
     */
    deploymentDependsOn?: pulumi.Input<pulumi.Resource>[];
    /** How the Vault Agent runs in the pods. Omitted: `DEFAULT_INJECTION` (init-only). */
    injection?: InjectionArgs;
}

/**
 * Kubernetes auth. With `audience`, the pods get a projected token for it (the agents log in with
 * that token) and the role is bound to it (the role's `audience`): Vault then asks TokenReview for
 * that audience, and a token minted for anyone else (the API server's default) is refused
 * (vault-plugin-auth-kubernetes path_login.go: without a role audience Vault accepts the token's
 * own audiences, and warns on every role write, path_role.go).
 */
export interface KubernetesLoginArgs {
    method: "kubernetes";
    /**
     * The audience of the pods' token and the role's `audience`: Vault-specific with a reviewer
     * token; with Vault reviewing as each client's own JWT, one the API server accepts. Omitted:
     * none (the pod's default token, any audience).
     */
    audience?: pulumi.Input<string>;
    /** Projected token lifetime, seconds. Omitted: `DEFAULT_TOKEN_EXPIRATION_SECONDS`. */
    tokenExpirationSeconds?: number;
}

/** The pod volume holding the projected token for the workload's audience. */
type TokenVolume = ReturnType<typeof projectedTokenVolume<pulumi.Input<string>>>;

/** How the workload's pods log in: `WorkloadBindingArgs.auth` with its default applied. */
type WorkloadAuth = NonNullable<WorkloadBindingArgs["auth"]>;

/** Options every child of one binding gets: the binding as parent, the provider of its system. */
interface ChildOptions {
    parent: pulumi.Resource;
    provider: pulumi.ProviderResource;
}

/** What each part of a binding is built from. */
interface BindingScope {
    name: string;
    args: WorkloadBindingArgs;
    /** The binding: parent of every child. */
    parent: pulumi.Resource;
    k8sOpts: ChildOptions;
    vaultOpts: ChildOptions;
}

/** What the Deployment's pod template takes from the binding. */
interface PodTemplate {
    namespace: pulumi.Output<string>;
    serviceAccountName: pulumi.Output<string>;
    annotations: pulumi.Output<Record<string, string>>;
    volumes: TokenVolume[];
}

/**
 * One workload's identity and access: namespace, service account, least-privilege policy, a Vault
 * role bound to exactly that service account and namespace, seeded secrets and, optionally, a
 * Deployment whose pods get the secrets rendered into /vault/secrets.
 */
export class WorkloadBinding extends pulumi.ComponentResource {
    public readonly namespace: pulumi.Output<string>;
    public readonly serviceAccountName: pulumi.Output<string>;
    public readonly roleName: pulumi.Output<string>;
    public readonly policyName: pulumi.Output<string>;
    /** The generated policy text. */
    public readonly policyText: pulumi.Output<string>;
    /** The pod template annotations (also set when no Deployment is made, for the user's own). */
    public readonly podAnnotations: pulumi.Output<Record<string, string>>;
    /**
     * Volumes the pod spec needs besides the annotations: the projected token (method jwt, or
     * kubernetes with an audience), which no app container should mount; else empty.
     */
    public readonly podVolumes: TokenVolume[];

    constructor(name: string, args: WorkloadBindingArgs, opts?: pulumi.ComponentResourceOptions) {
        // Refused before anything (the component included) is registered.
        const auth = checkedAuth(name, args);
        const readPaths = args.secrets.map((s) => s.path);
        const access = args.access ?? workloadAccess(kvAccess([{ name, secrets: args.secrets, seed: args.seed }], []), name);
        // Registered as inputs (and outputs below) so the policy pack sees who owns what.
        super(`${TYPE_PREFIX}:WorkloadBinding`, name, { workload: name, role: args.role, policy: args.policyName ?? name, access }, opts);
        const scope: BindingScope = {
            name,
            args,
            parent: this,
            k8sOpts: { parent: this, provider: args.k8sProvider },
            vaultOpts: { parent: this, provider: args.vaultProvider },
        };

        this.namespace = bindNamespace(scope);
        const sa = createServiceAccount(scope, this.namespace);
        this.serviceAccountName = sa === undefined ? pulumi.output(args.serviceAccount) : sa.metadata.name;

        const policy = createPolicy(scope, readPaths, access);
        this.policyText = policy.text;
        this.policyName = policy.resource.name;
        const role = createRole(scope, auth, this.namespace, this.serviceAccountName, policy.resource.name);
        this.roleName = role.roleName;
        const seeds = createSeeds(scope);

        this.podAnnotations = podAnnotationsFor(args, auth, role.roleName);
        const audience = auth.audience;
        this.podVolumes = audience === undefined
            ? []
            : [projectedTokenVolume<pulumi.Input<string>>({ audience, tokenExpirationSeconds: auth.tokenExpirationSeconds })];
        if (args.deployment !== undefined) {
            const pod: PodTemplate = {
                namespace: this.namespace,
                serviceAccountName: this.serviceAccountName,
                annotations: this.podAnnotations,
                volumes: this.podVolumes,
            };
            createDeployment(scope, args.deployment, pod, [role, ...seeds]);
        }

        this.registerOutputs({
            namespace: this.namespace,
            serviceAccountName: this.serviceAccountName,
            roleName: this.roleName,
            policyName: this.policyName,
            policyText: this.policyText,
            podAnnotations: this.podAnnotations,
            workload: name,
            role: args.role,
            policy: args.policyName ?? name,
            access,
            podVolumes: this.podVolumes,
        });
    }
}

/** `args.auth` with its default applied; throws when a jwt role would not name one subject and one audience. */
function checkedAuth(name: string, args: WorkloadBindingArgs): WorkloadAuth {
    const auth: WorkloadAuth = args.auth ?? { method: "kubernetes" };
    if (auth.method === "jwt" && wildcardSubjectParts(args).length > 0) {
        throw new Error(`WorkloadBinding ${name}: auth method jwt binds one exact subject; namespace and serviceAccount cannot be "*"`);
    }
    if (auth.method === "jwt" && (auth.audience === "" || !isOneAudience(auth.audience))) {
        throw new Error(`WorkloadBinding ${name}: auth.audience must be one audience (not empty, not "*", no commas)`);
    }
    if (auth.method === "kubernetes" && typeof auth.audience === "string" && (auth.audience === "" || auth.audience === "*")) {
        throw new Error(`WorkloadBinding ${name}: auth.audience must be one audience (not empty, not "*")`);
    }
    return auth;
}

/**
 * The workload's namespace, carrying the injection label: created here, created by another binding
 * (`sharedNamespace`), every namespace (`*`: nothing to label), or someone else's (label added).
 */
function bindNamespace({ name, args, k8sOpts }: BindingScope): pulumi.Output<string> {
    // The injector's webhook only sees namespaces with the opt-in label (see INJECTION_LABEL).
    const injectionLabels = { [INJECTION_LABEL]: INJECTION_LABEL_VALUE };
    if (args.createNamespace) {
        const ns = new k8s.core.v1.Namespace(childNames.namespace(name), { metadata: { name: args.namespace, labels: injectionLabels } },
            { ...k8sOpts, retainOnDelete: args.retainNamespace ?? false });
        return ns.metadata.name;
    }
    if (args.sharedNamespace !== undefined) return args.sharedNamespace;
    // A role bound to every namespace (allowWildcard): there is no one namespace to label.
    if (args.namespace === "*") return pulumi.output(args.namespace);
    // Not ours: add just the label (server-side apply), leaving everything else alone.
    const patch = new k8s.core.v1.NamespacePatch(
        childNames.namespaceLabel(name),
        { metadata: { name: args.namespace, labels: injectionLabels } },
        k8sOpts,
    );
    return patch.metadata.apply((m) => m?.name ?? args.namespace);
}

/**
 * The service account the pods run as and, with `authDelegator`, its `system:auth-delegator`
 * binding. None for a `*` (allowed only with allowWildcard): it names no one service account.
 */
function createServiceAccount(
    { name, args, k8sOpts }: BindingScope, namespace: pulumi.Output<string>,
): k8s.core.v1.ServiceAccount | undefined {
    if (args.serviceAccount === "*" || args.namespace === "*") return undefined;
    const sa = new k8s.core.v1.ServiceAccount(childNames.serviceAccount(name), {
        metadata: { name: args.serviceAccount, namespace },
    }, k8sOpts);
    if (args.authDelegator) {
        new k8s.rbac.v1.ClusterRoleBinding(childNames.authDelegator(name), {
            metadata: { name: pulumi.all([namespace, sa.metadata.name]).apply(([ns, n]) => authDelegatorBindingName(ns, n)) },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
            subjects: [{ kind: "ServiceAccount", name: sa.metadata.name, namespace }],
        }, k8sOpts);
    }
    return sa;
}

/** The least-privilege Vault policy: `read` on the declared paths, extra capabilities only on owned ones. */
function createPolicy(
    { name, args, vaultOpts }: BindingScope, readPaths: string[], access: WorkloadAccess,
): { text: pulumi.Output<string>; resource: vault.Policy } {
    const owned = new Set(access.owned);
    const text = pulumi.output(args.kvMount).apply((mount) => renderKvPolicy(mount, readPaths, args.extraCapabilities, owned));
    const resource = new vault.Policy(childNames.policy(name), { name: args.policyName ?? name, policy: text }, vaultOpts);
    return { text, resource };
}

/**
 * The Vault role, bound to exactly this service account in exactly this namespace (jwt: its exact
 * `sub` and the audience), carrying `policies` and the generated policy.
 */
function createRole(
    { name, args, vaultOpts }: BindingScope,
    auth: WorkloadAuth,
    namespace: pulumi.Output<string>,
    serviceAccountName: pulumi.Output<string>,
    policyName: pulumi.Output<string>,
): vault.jwt.AuthBackendRole | vault.kubernetes.AuthBackendRole {
    const tokenPolicies = pulumi.output(policyName).apply((p) => [...new Set([...args.policies, p])]);
    if (auth.method === "jwt") {
        return new vault.jwt.AuthBackendRole(childNames.role(name), {
            backend: args.authPath,
            roleName: args.role,
            roleType: "jwt",
            // `bound_subject`, not `bound_claims.sub`: an exact comparison inside the token
            // validator (hashicorp/cap jwt.Validate, "invalid subject (sub) claim"), with no
            // glob type and no comma splitting to get wrong (vault-plugin-auth-jwt path_role.go).
            boundSubject: pulumi.all([namespace, serviceAccountName]).apply(([ns, sa]) => serviceAccountSubject(ns, sa)),
            boundAudiences: [auth.audience],
            userClaim: "sub",
            tokenTtl: args.tokenTtl,
            tokenMaxTtl: args.tokenMaxTtl,
            tokenPolicies,
        }, vaultOpts);
    }
    return new vault.kubernetes.AuthBackendRole(childNames.role(name), {
        backend: args.authPath,
        roleName: args.role,
        // Bound to exactly this service account in exactly this namespace.
        boundServiceAccountNames: [serviceAccountName],
        boundServiceAccountNamespaces: [namespace],
        audience: auth.audience,
        tokenTtl: args.tokenTtl,
        tokenMaxTtl: args.tokenMaxTtl,
        tokenPolicies,
    }, vaultOpts);
}

/** The seeded KV v2 secrets, each value given or generated (`RandomPassword`). */
function createSeeds({ name, args, parent, vaultOpts }: BindingScope): vault.kv.SecretV2[] {
    // Names from childNames (src/config/names.ts): validation refuses two that coincide.
    return args.seed.map((s) => {
        const values = Object.entries(s.values).map(([key, source]) => {
            if ("value" in source) return pulumi.output(source.value).apply((v) => [key, v] as const);
            const generated = new random.RandomPassword(childNames.seedRandom(name, s.path, key), {
                length: source.random.length,
                special: source.random.special,
            }, { parent });
            return generated.result.apply((v) => [key, v] as const);
        });
        const dataJson = pulumi.secret(pulumi.all(values).apply((pairs) => JSON.stringify(Object.fromEntries(pairs))));
        const writeOnce = s.writeOnce ?? true;
        // Check-and-set 0: Vault writes only if the path holds no version yet, so a seed never
        // overwrites data already there (the KV plugin reads `options.cas`, path_data.go
        // validateCheckAndSetOption; the provider's top-level `cas` field is sent beside
        // `options` and not read by Vault, terraform-provider-vault kvSecretV2Write). A
        // writeOnce: false seed is this stack's value, rewritten on every change: CAS 0 would
        // refuse each rewrite, so it has none (docs/data-safety.md).
        return new vault.kv.SecretV2(
            childNames.seed(name, s.path),
            { mount: args.kvMount, name: s.path, dataJson, ...(writeOnce ? { options: { cas: "0" } } : {}) },
            // `options` ignored too: seeds written before CAS existed must not be updated to add it.
            { ...vaultOpts, ignoreChanges: writeOnce ? ["dataJson", "options"] : [] },
        );
    });
}

/** The injector annotations of the workload's pod template. */
function podAnnotationsFor(
    args: WorkloadBindingArgs, auth: WorkloadAuth, role: pulumi.Output<string>,
): pulumi.Output<Record<string, string>> {
    return pulumi
        .all([args.authPath, args.kvMount, role])
        .apply(([authPath, kvMount, roleName]) =>
            renderPodAnnotations({
                role: roleName,
                authPath,
                kvMount,
                secrets: args.secrets,
                injection: args.injection,
                vaultNamespace: args.vaultNamespace,
                jwt: auth.method === "jwt",
                tokenVolume: auth.method === "kubernetes" && auth.audience !== undefined,
            }),
        );
}

/** The annotated Deployment, waiting for `after` (the role and the seeds) and `deploymentDependsOn`. */
function createDeployment(
    { name, args, k8sOpts }: BindingScope, d: WorkloadDeploymentArgs, pod: PodTemplate, after: pulumi.Resource[],
): k8s.apps.v1.Deployment {
    const labels = { app: name };
    // The default lists the rendered files without printing them: secrets stay out of logs.
    const command = d.command ?? ["sh", "-c", "while true; do ls -l /vault/secrets; sleep 300; done"];
    // A plain array, not an Output: when an Output's value holds Resources, the runtime
    // walks each Resource's object graph (parent, provider, every Output field) looking for
    // unknowns: about 15% of the program's CPU per workload before this (BENCHMARKS.md).
    const dependsOn = [...after, ...(args.deploymentDependsOn ?? [])];
    return new k8s.apps.v1.Deployment(childNames.deployment(name), {
        metadata: { name, namespace: pod.namespace, labels },
        spec: {
            replicas: d.replicas,
            selector: { matchLabels: labels },
            template: {
                metadata: { labels, annotations: pod.annotations },
                spec: {
                    serviceAccountName: pod.serviceAccountName,
                    containers: [{ name, image: d.image, command }],
                    ...(pod.volumes.length > 0 ? { volumes: pod.volumes } : {}),
                },
            },
        },
    }, { ...k8sOpts, dependsOn });
}
