/**
 * A mock of the three clouds this program talks to. It plays Azure, Kubernetes and Vault: it
 * computes what they would compute (cluster FQDN, OIDC issuer URL, admin kubeconfig, the token
 * controller's Secret data, an auth mount's accessor) and records every resource and invoke the
 * program makes, so tests assert on what would really be sent.
 *
 * With `preview: true` it behaves like a first preview: nothing exists yet, so every value the
 * cloud computes is unknown.
 */
import { createHash } from "crypto";
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";

// The wire form of a secret, as `deserializeProperties` hands it to mocks.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const UNKNOWN = pulumi.runtime.unknownValue;

export function isWireSecret(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

function wireSecret(value: unknown): Record<string, unknown> {
    return { [SIG_KEY]: SECRET_SIG, value };
}

/** Deeply removes secret wrappers. */
export function unwrap(v: unknown): unknown {
    if (isWireSecret(v)) return unwrap(v.value);
    if (Array.isArray(v)) return v.map(unwrap);
    if (typeof v === "object" && v !== null) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x)]));
    }
    return v;
}

/** The value at a dotted path of raw (wire) inputs, and whether any level on the way was secret. */
export function secretAt(raw: unknown, path: string): { secret: boolean; value: unknown } {
    let secret = false;
    let cur: unknown = raw;
    for (const part of path.split(".")) {
        if (isWireSecret(cur)) { secret = true; cur = cur.value; }
        if (typeof cur !== "object" || cur === null) return { secret, value: undefined };
        cur = (cur as Record<string, unknown>)[part];
    }
    if (isWireSecret(cur)) { secret = true; cur = unwrap(cur.value); }
    return { secret, value: cur };
}

export interface RecordedResource {
    type: string;
    name: string;
    /** Inputs with secret wrappers removed. */
    inputs: Record<string, unknown>;
    /** Inputs as received, secret wrappers kept. */
    rawInputs: Record<string, unknown>;
    /** Provider reference `urn::id`, if any. */
    provider?: string;
    custom: boolean;
}

export interface ExistingCluster {
    resourceGroupName: string;
    location: string;
    oidcIssuerEnabled: boolean;
    /** Entra ID only: Azure refuses admin credentials for it. */
    localAccountsDisabled?: boolean;
}

export interface ClusterFacts {
    name: string;
    resourceGroupName: string;
    location: string;
    fqdn: string;
    issuerUrl: string;
    caCertPem: string;
    kubeconfig: string;
}

const hex = (seed: string, n = 8) => createHash("sha256").update(seed).digest("hex").slice(0, n);
const b64 = (s: string) => Buffer.from(s).toString("base64");
const b64url = (s: string) => Buffer.from(s).toString("base64url");
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/** A PEM-shaped CA as AKS issues one: unique per cluster. */
function caPem(seed: string): string {
    const body = createHash("sha512").update(`ca:${seed}`).digest("base64").repeat(6);
    const lines = body.match(/.{1,64}/g) ?? [];
    return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

export function clusterFacts(name: string, resourceGroupName: string, location: string, dnsPrefix = name): ClusterFacts {
    const id = `${resourceGroupName}/${name}`;
    const fqdn = `${dnsPrefix}-${hex(id)}.hcp.${location}.azmk8s.io`;
    const issuerUrl = `https://${location}.oic.prod-aks.azure.com/${TENANT}/` +
        `${hex(`oidc:${id}`, 8)}-${hex(`oidc2:${id}`, 4)}-4a1b-9c2d-${hex(`oidc3:${id}`, 12)}/`;
    const ca = caPem(id);
    const user = `clusterAdmin_${resourceGroupName}_${name}`;
    const kubeconfig = stringify({
        apiVersion: "v1",
        clusters: [{ cluster: { "certificate-authority-data": b64(ca), server: `https://${fqdn}:443` }, name }],
        contexts: [{ context: { cluster: name, user }, name: `${name}-admin` }],
        "current-context": `${name}-admin`,
        kind: "Config",
        preferences: {},
        users: [{
            name: user,
            user: { "client-certificate-data": b64(`cert:${id}`), "client-key-data": b64(`key:${id}`), token: hex(`token:${id}`, 64) },
        }],
    });
    return { name, resourceGroupName, location, fqdn, issuerUrl, caCertPem: ca, kubeconfig };
}

/**
 * The user kubeconfig AKS returns for an Entra ID cluster (`format=exec`): no credential, an
 * interactive devicecode kubelogin exec with the tenant and the AKS server ID.
 */
export function entraUserKubeconfig(facts: ClusterFacts): string {
    const user = `clusterUser_${facts.resourceGroupName}_${facts.name}`;
    return stringify({
        apiVersion: "v1",
        clusters: [{
            cluster: { "certificate-authority-data": b64(facts.caCertPem), server: `https://${facts.fqdn}:443` },
            name: facts.name,
        }],
        contexts: [{ context: { cluster: facts.name, user }, name: facts.name }],
        "current-context": facts.name,
        kind: "Config",
        preferences: {},
        users: [{
            name: user,
            user: {
                exec: {
                    apiVersion: "client.authentication.k8s.io/v1beta1",
                    command: "kubelogin",
                    args: ["get-token", "--environment", "AzurePublicCloud", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630",
                        "--client-id", "80faf920-1908-4b52-b5ef-a8e7bedfc67a", "--tenant-id", TENANT, "--login", "devicecode"],
                    env: null,
                    installHint: "kubelogin is not installed",
                    interactiveMode: "IfAvailable",
                    provideClusterInfo: false,
                },
            },
        }],
    });
}

export { TENANT };

/** The JWT the token controller writes into a legacy service-account-token Secret. */
export function legacyServiceAccountJwt(namespace: string, secretName: string, serviceAccount: string, rotation = ""): string {
    const header = b64url(JSON.stringify({ alg: "RS256", kid: hex(`kid:${namespace}`, 16) }));
    const payload = b64url(JSON.stringify({
        iss: "kubernetes/serviceaccount",
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/secret.name": secretName,
        "kubernetes.io/serviceaccount/service-account.name": serviceAccount,
        "kubernetes.io/serviceaccount/service-account.uid":
            `${hex(`uid:${namespace}/${serviceAccount}`, 8)}-0000-4000-8000-${hex(`uid2:${serviceAccount}`, 12)}`,
        sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    }));
    return `${header}.${payload}.${hex(`sig:${namespace}/${secretName}/${rotation}`, 64)}`;
}

/** The `metadata.uid` the API server gives a Secret (a UUID; `incarnation` tells a recreated one apart). */
export function secretUid(id: string, incarnation = ""): string {
    const h = hex(`secret-uid:${id}:${incarnation}`, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface CloudMockOptions {
    preview?: boolean;
    /** The token controller never fills service-account-token Secrets (the Secret comes back without data). */
    tokenControllerDown?: boolean;
    existingClusters?: Record<string, ExistingCluster>;
    /**
     * `namespace/name` of service-account-token Secrets deleted and recreated out of band since
     * the state was written: the token controller minted the live Secret a new JWT, while the
     * managed Secret's outputs (its state) still hold the old one.
     */
    recreatedSecrets?: string[];
}

export class CloudMock implements pulumi.runtime.Mocks {
    public readonly resources: RecordedResource[] = [];
    public readonly calls: Array<{ token: string; inputs: Record<string, unknown> }> = [];
    /** Anything the program asked for that this mock does not know: a test failure. */
    public readonly unexpected: string[] = [];
    /** Clusters that exist (created in this run, or pre-existing), by name. */
    public readonly clusters = new Map<string, ClusterFacts>();
    /** Reviewer JWTs the token controller minted, by `namespace/secret`. */
    public readonly minted = new Map<string, string>();
    /** Clusters created with local accounts disabled. */
    private readonly localAccountsOff = new Set<string>();
    private readonly preview: boolean;
    private readonly tokenControllerDown: boolean;
    private readonly existing: Record<string, ExistingCluster>;
    private readonly recreatedSecrets: Set<string>;
    /** Service-account-token Secrets in the cluster, by `namespace/name`: the live object a read returns. */
    private readonly liveTokenSecrets = new Map<string, { serviceAccount: string; data?: Record<string, string> }>();
    /** Reads of live objects (`Resource.get`): type, name and the id asked for. */
    public readonly reads: Array<{ type: string; name: string; id: string; provider?: string }> = [];
    /** JWTs of the Secrets recreated out of band (`recreatedSecrets`), by `namespace/name`. */
    public readonly liveMinted = new Map<string, string>();

    constructor(opts: CloudMockOptions = {}) {
        this.preview = opts.preview ?? false;
        this.tokenControllerDown = opts.tokenControllerDown ?? false;
        this.existing = opts.existingClusters ?? {};
        this.recreatedSecrets = new Set(opts.recreatedSecrets ?? []);
        for (const [name, c] of Object.entries(this.existing)) {
            this.clusters.set(name, clusterFacts(name, c.resourceGroupName, c.location));
        }
    }

    /** Resources of a type, optionally narrowed by logical name. */
    of(type: string, name?: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type && (name === undefined || r.name === name));
    }

    one(type: string, name?: string): RecordedResource {
        const found = this.of(type, name);
        if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
        return found[0];
    }

    /** A read of a live object by id (`Resource.get`): what the API server holds now. */
    private read(type: string, name: string, id: string, provider?: string): { id: string; state: Record<string, unknown> } {
        this.reads.push({ type, name, id, provider });
        // A first preview: the Secret does not exist yet, so neither its id nor its data is known.
        if (this.preview || id.includes(UNKNOWN)) return { id, state: { data: UNKNOWN } };
        if (type !== "kubernetes:core/v1:Secret") {
            this.unexpected.push(`read of ${type} ${id}: this mock knows no such object`);
            throw new Error(`${type} ${id} not found`);
        }
        const secret = this.liveTokenSecrets.get(id);
        if (secret === undefined) {
            this.unexpected.push(`read of Secret ${id}: not found`);
            throw new Error(`resource "${id}" does not exist`);
        }
        const [ns, secretName] = id.split("/");
        // The API server gives every object a new uid; a Secret recreated out of band is another object.
        const uid = secretUid(id, this.recreatedSecrets.has(id) ? "recreated" : "");
        const meta = { metadata: { name: secretName, namespace: ns, uid }, type: "kubernetes.io/service-account-token" };
        if (secret.data === undefined) return { id, state: meta };
        let data = secret.data;
        if (this.recreatedSecrets.has(id)) {
            const jwt = legacyServiceAccountJwt(ns, secretName, secret.serviceAccount, "recreated out of band");
            this.liveMinted.set(id, jwt);
            data = { ...data, token: b64(jwt) };
        }
        return { id, state: { ...meta, data: wireSecret(data) } };
    }

    /** A value the cloud computes: unknown during a first preview. */
    private computed<T>(value: T): T | string {
        return this.preview ? UNKNOWN : value;
    }

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
        if (args.id !== undefined && args.id !== "") return this.read(args.type, args.name, args.id, args.provider);
        const inputs = unwrap(args.inputs) as Record<string, unknown>;
        this.resources.push({
            type: args.type,
            name: args.name,
            inputs,
            rawInputs: args.inputs,
            provider: args.provider,
            custom: args.custom ?? true,
        });
        const id = this.preview ? undefined : `${args.name}-id`;
        const state: Record<string, unknown> = { ...args.inputs };

        switch (args.type) {
            case "azure-native:resources:ResourceGroup":
                state.name = inputs.resourceGroupName ?? args.name;
                break;
            case "azure-native:containerservice:ManagedCluster": {
                const name = String(inputs.resourceName ?? args.name);
                const location = String(inputs.location);
                const facts = clusterFacts(name, String(inputs.resourceGroupName), location, String(inputs.dnsPrefix ?? name));
                if (!this.preview) this.clusters.set(name, facts);
                if (inputs.disableLocalAccounts === true) this.localAccountsOff.add(name);
                const oidc = inputs.oidcIssuerProfile as { enabled?: boolean } | undefined;
                state.name = name;
                state.fqdn = this.computed(facts.fqdn);
                // Azure only issues an issuer URL when the issuer is on.
                state.oidcIssuerProfile = oidc?.enabled ? { enabled: true, issuerURL: this.computed(facts.issuerUrl) } : { enabled: false };
                state.identityProfile = this.computed({
                    kubeletidentity: {
                        objectId: `${hex(`kubelet:${name}`)}-1111-4222-8333-${hex(`k2:${name}`, 12)}`,
                        clientId: hex(`client:${name}`, 32),
                    },
                });
                state.provisioningState = this.computed("Succeeded");
                break;
            }
            case "kubernetes:core/v1:Secret": {
                const meta = (inputs.metadata ?? {}) as { name?: string; namespace?: string; annotations?: Record<string, string> };
                if (inputs.type === "kubernetes.io/service-account-token") {
                    const sa = meta.annotations?.["kubernetes.io/service-account.name"];
                    if (sa === undefined) {
                        this.unexpected.push(`service-account-token Secret ${args.name} without kubernetes.io/service-account.name`);
                        break;
                    }
                    const ns = String(meta.namespace);
                    const secretName = String(meta.name);
                    const jwt = legacyServiceAccountJwt(ns, secretName, sa, args.name);
                    if (!this.preview) this.minted.set(`${ns}/${secretName}`, jwt);
                    const cluster = [...this.clusters.values()][0];
                    if (this.tokenControllerDown) {
                        // The Secret exists, unfilled.
                        if (!this.preview) this.liveTokenSecrets.set(`${ns}/${secretName}`, { serviceAccount: sa });
                        break;
                    }
                    const data = { token: b64(jwt), namespace: b64(ns), "ca.crt": b64(cluster?.caCertPem ?? "") };
                    if (!this.preview) this.liveTokenSecrets.set(`${ns}/${secretName}`, { serviceAccount: sa, data });
                    state.data = this.preview ? UNKNOWN : wireSecret(data);
                }
                break;
            }
            case "vault:index/authBackend:AuthBackend":
                state.accessor = this.computed(`auth_${inputs.type}_${hex(`acc:${inputs.path}`)}`);
                break;
            case "vault:jwt/authBackend:AuthBackend": {
                // Vault fetches `<oidc_discovery_url>/.well-known/openid-configuration` when the
                // config is written and refuses it unless the document's `issuer` equals the URL
                // exactly (hashicorp/cap jwt.NewOIDCDiscoveryKeySet): only a cluster's own issuer
                // URL, trailing slash included, passes. Unknown during a first preview.
                const url = inputs.oidcDiscoveryUrl;
                if (!this.preview && typeof url === "string" && ![...this.clusters.values()].some((c) => c.issuerUrl === url)) {
                    this.unexpected.push(`jwt auth backend ${args.name}: Vault answers "error checking oidc discovery URL" for ${url} ` +
                        `(no issuer publishes exactly that URL)`);
                    throw new Error("error checking oidc discovery URL");
                }
                state.path = inputs.path ?? "jwt";
                state.type = inputs.type ?? "jwt";
                state.accessor = this.computed(`auth_jwt_${hex(`acc:${String(state.path)}`)}`);
                break;
            }
            case "vault:jwt/authBackendRole:AuthBackendRole": {
                // What vault-plugin-auth-jwt's role write refuses (path_role.go).
                const refuse = (why: string) => {
                    this.unexpected.push(`jwt role ${args.name}: Vault answers "${why}"`);
                    throw new Error(why);
                };
                const list = (v: unknown) => (Array.isArray(v) ? v : []);
                if (inputs.roleType !== "jwt" && list(inputs.allowedRedirectUris).length === 0) {
                    refuse("'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.");
                }
                if (typeof inputs.userClaim !== "string" || inputs.userClaim === "") refuse("a user claim must be defined on the role");
                const bound = list(inputs.boundAudiences).length > 0 || list(inputs.tokenBoundCidrs).length > 0
                    || (typeof inputs.boundSubject === "string" && inputs.boundSubject !== "")
                    || Object.keys((inputs.boundClaims ?? {}) as object).length > 0;
                if (inputs.roleType === "jwt" && !bound) refuse("must have at least one bound constraint when creating/updating a role");
                break;
            }
            case "random:index/randomPassword:RandomPassword":
                state.result = this.preview ? UNKNOWN : wireSecret(hex(`pw:${args.name}`, Number(inputs.length ?? 16)));
                break;
            case "random:index/randomId:RandomId":
                // A new random value whenever the resource is (re)created, i.e. when its keepers change.
                state.hex = this.preview
                    ? UNKNOWN
                    : hex(`id:${args.name}:${JSON.stringify(inputs.keepers ?? {})}`, Number(inputs.byteLength ?? 4) * 2);
                break;
            case "kubernetes:helm.sh/v3:Release":
                // Helm loads a local chart and takes its own version over the one asked for
                // (pulumi-kubernetes helm_release.go Check: `new.Version = chart.Metadata.Version`).
                if (typeof inputs.chart === "string" && path.isAbsolute(inputs.chart)) {
                    const chartYaml = path.join(inputs.chart, "Chart.yaml");
                    if (!existsSync(chartYaml)) {
                        this.unexpected.push(`helm release ${args.name}: this mock reads only chart directories, not ${inputs.chart}`);
                        break;
                    }
                    state.version = (parse(readFileSync(chartYaml, "utf8")) as { version: string }).version;
                }
                state.status = this.computed({
                    name: inputs.name,
                    namespace: inputs.namespace,
                    chart: inputs.chart,
                    version: state.version ?? inputs.version,
                    revision: 1,
                    status: "deployed",
                });
                break;
            default:
                break;
        }
        return { id, state };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        const inputs = unwrap(args.inputs) as Record<string, unknown>;
        this.calls.push({ token: args.token, inputs });
        switch (args.token) {
            case "azure-native:containerservice:listManagedClusterAdminCredentials": {
                const facts = this.clusters.get(String(inputs.resourceName));
                if (facts === undefined || facts.resourceGroupName !== inputs.resourceGroupName) {
                    // What Azure answers for a cluster that does not exist (yet).
                    this.unexpected.push(
                        `credentials asked for missing cluster ${String(inputs.resourceGroupName)}/${String(inputs.resourceName)}`,
                    );
                    throw new Error("ResourceNotFound");
                }
                if (this.existing[facts.name]?.localAccountsDisabled === true || this.localAccountsOff.has(facts.name)) {
                    this.unexpected.push(
                        `admin credentials asked for ${facts.name}, whose local accounts are disabled (Azure answers BadRequest)`,
                    );
                    throw new Error("BadRequest: Getting static credential is not allowed because this cluster is set " +
                        "to disable local accounts.");
                }
                return { kubeconfigs: [{ name: "clusterAdmin", value: b64(facts.kubeconfig) }] };
            }
            case "azure-native:containerservice:listManagedClusterUserCredentials": {
                const facts = this.clusters.get(String(inputs.resourceName));
                if (facts === undefined || facts.resourceGroupName !== inputs.resourceGroupName) {
                    this.unexpected.push(
                        `user credentials asked for missing cluster ${String(inputs.resourceGroupName)}/${String(inputs.resourceName)}`,
                    );
                    throw new Error("ResourceNotFound");
                }
                return { kubeconfigs: [{ name: "clusterUser", value: b64(entraUserKubeconfig(facts)) }] };
            }
            case "azure-native:containerservice:getManagedCluster": {
                const name = String(inputs.resourceName);
                const c = this.existing[name];
                const facts = this.clusters.get(name);
                if (c === undefined || facts === undefined || c.resourceGroupName !== inputs.resourceGroupName) {
                    throw new Error(`ResourceNotFound: managed cluster ${String(inputs.resourceGroupName)}/${name} was not found`);
                }
                return {
                    name,
                    location: c.location,
                    fqdn: facts.fqdn,
                    enableRBAC: true,
                    oidcIssuerProfile: c.oidcIssuerEnabled ? { enabled: true, issuerURL: facts.issuerUrl } : { enabled: false },
                    disableLocalAccounts: c.localAccountsDisabled ?? false,
                };
            }
            default:
                this.unexpected.push(`unknown invoke ${args.token}`);
                throw new Error(`unknown invoke ${args.token}`);
        }
    }
}
