/**
 * Turns raw settings (stack config or a portal's object) into typed `Settings`, or fails with
 * every problem at once, each naming the key, the value found and what is expected.
 */
import { existsSync } from "fs";
import { BlockList, isIPv4 } from "net";
import * as path from "path";
import { PROJECT_DIR } from "../projectDir";
import { z } from "zod";
import { trustProblems } from "./trust";
import { deployProblems } from "./deployRules";
import { ClassifiedError, EXIT } from "../exitCodes";
import {
    credentialsSchema,
    networkSchema,
    injectorSchema,
    platformSchema,
    kubernetesAuthSchema,
    poolSchema,
    Settings,
    settingsSchema,
    vaultSchema,
    workloadSchema,
    WorkloadSettings,
} from "./schema";
import { didYouMean, settingsErrorMap } from "./wording";
import { oversizeStrings } from "./limits";
import { normalizeRole } from "./names";
import { list, parsed, record } from "./raw";
import { SettingsProblem, problem, problemList } from "./problem";
import { wildcardSubjectParts } from "../agent/jwtLogin";

/** Thrown before any resource is registered when the settings are not valid. */
export class SettingsError extends ClassifiedError {
    /** The CLI's exit code for it: invalid settings. */
    readonly exitCode = EXIT.settings;
    constructor(public readonly problems: SettingsProblem[]) {
        super(
            `invalid stack settings (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p.key}: found ${p.found}; expected ${p.expected}`).join("\n"),
        );
        this.name = "SettingsError";
    }
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

function formatKey(path: ReadonlyArray<PropertyKey>): string {
    let out = "";
    for (const part of path) {
        if (typeof part === "number") out += `[${part}]`;
        else if (!PLAIN_KEY.test(String(part))) out += `[${JSON.stringify(String(part))}]`;
        else out += out === "" ? String(part) : `.${String(part)}`;
    }
    return out || "(root)";
}

function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
    let cur: unknown = raw;
    for (const part of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<PropertyKey, unknown>)[part];
    }
    return cur;
}

/** The raw input as the cross-field rules see it: the parts several rules share, parsed on their own. */
interface RawSettings {
    root: Record<string, unknown>;
    cluster: Record<string, unknown>;
    injector: z.output<typeof injectorSchema> | undefined;
    kubernetesAuth: z.output<typeof kubernetesAuthSchema> | undefined;
    /** The platform team's settings; undefined when they do not parse (their own problems are reported). */
    platform: z.output<typeof platformSchema> | undefined;
}

/**
 * Cross-field rules the per-field schema cannot express, one function per part of the settings.
 * They run on the raw input, each part parsed on its own, so a typo in one place does not hide a
 * duplicate or a range error elsewhere: every problem is reported in one run. A new rule is a new
 * function here, listed in CROSS_FIELD_RULES.
 */
const CROSS_FIELD_RULES: ReadonlyArray<(raw: RawSettings) => SettingsProblem[]> = [
    poolProblems,
    clusterProblems,
    credentialProblems,
    vaultProblems,
    injectorProblems,
    workloadProblems,
    trustRuleProblems,
    authMethodProblems,
    deployRuleProblems,
];

function crossFieldProblems(input: unknown): SettingsProblem[] {
    const root = record(input);
    const raw: RawSettings = {
        root,
        cluster: record(root.cluster),
        injector: parsed(injectorSchema, root.injector ?? {}),
        kubernetesAuth: parsed(kubernetesAuthSchema, root.kubernetesAuth ?? {}),
        platform: parsed(platformSchema, root.platform ?? {}),
    };
    return CROSS_FIELD_RULES.flatMap((rule) => rule(raw));
}

/** Node pools of a created cluster: autoscaling ranges, Spot-only fields, unique names, AKS's system pool rules. */
function poolProblems({ cluster }: RawSettings): SettingsProblem[] {
    const { problems, add } = problemList();
    if (cluster.mode !== "create") return problems;
    const rawPools: Array<[string, unknown]> = [
        ["cluster.systemPool", cluster.systemPool ?? { name: "system" }],
        ...list(cluster.userPools).map((p, i): [string, unknown] => [`cluster.userPools[${i}]`, p]),
    ];
    const pools = rawPools.map(([key, p]) => [key, parsed(poolSchema, p)] as const);
    const seen = new Set<string>();
    for (const [key, p] of pools) {
        if (p === undefined) continue;
        if (p.minCount > p.maxCount) add(`${key}.minCount`, p.minCount, `at most maxCount (${p.maxCount})`);
        if (p.priority !== "Spot" && p.evictionPolicy !== undefined) {
            add(`${key}.evictionPolicy`, p.evictionPolicy, "unset unless priority is Spot");
        }
        if (p.priority !== "Spot" && p.spotMaxPrice !== undefined) {
            add(`${key}.spotMaxPrice`, p.spotMaxPrice, "unset unless priority is Spot");
        }
        if (seen.has(p.name)) add(`${key}.name`, p.name, "a pool name used once");
        seen.add(p.name);
    }
    for (const [key, p] of pools) {
        if (p?.spotMaxPrice !== undefined && p.spotMaxPrice !== -1 && p.spotMaxPrice <= 0) {
            add(`${key}.spotMaxPrice`, p.spotMaxPrice, "-1 (the on-demand price) or a price above 0");
        }
    }
    const system = pools[0][1];
    if (system?.priority === "Spot") add("cluster.systemPool.priority", "Spot", "Regular (AKS refuses Spot system pools)");
    if (system !== undefined && system.minCount < 1) {
        add("cluster.systemPool.minCount", system.minCount, "at least 1 (the system pool cannot scale to zero)");
    }
    if (system !== undefined && system.maxPods < 30) {
        add("cluster.systemPool.maxPods", system.maxPods, "at least 30 (AKS requires it of system pools)");
    }
    return problems;
}

/** A created cluster's own fields: the DNS prefix it defaults to, its network, Entra ID for kubelogin. */
function clusterProblems({ cluster }: RawSettings): SettingsProblem[] {
    const { problems, add } = problemList();
    if (cluster.mode !== "create") return problems;
    // The DNS prefix defaults to the cluster name, which allows characters a prefix does not.
    if (cluster.dnsPrefix === undefined && typeof cluster.name === "string" && !DNS_PREFIX.test(cluster.name)) {
        add(
            "cluster.dnsPrefix",
            undefined,
            `a DNS prefix (1-54 letters, digits or '-'): the default, the cluster name "${cluster.name}", is not one`,
        );
    }
    const net = parsed(networkSchema, cluster.network ?? {});
    if (net !== undefined) problems.push(...networkProblems(net));
    if (record(cluster.credentials).mode === "kubelogin" && cluster.entraId === undefined) {
        add(
            "cluster.entraId",
            undefined,
            "Entra ID settings when credentials.mode is kubelogin (without Entra ID, AKS hands out no kubelogin credentials)",
        );
    }
    return problems;
}

/** How this program logs in to the cluster: what each kubelogin login takes, and local accounts off. */
function credentialProblems({ cluster }: RawSettings): SettingsProblem[] {
    const { problems, add } = problemList();
    const credentials = parsed(credentialsSchema, cluster.credentials ?? { mode: "admin" });
    if (cluster.mode === "create" && cluster.disableLocalAccounts === true) {
        if (cluster.entraId === undefined) {
            add("cluster.entraId", undefined, "Entra ID settings when disableLocalAccounts is true (no one could log in otherwise)");
        }
        if (credentials?.mode === "admin") {
            add("cluster.credentials.mode", "admin", "kubelogin when disableLocalAccounts is true (Azure refuses admin credentials)");
        }
    }
    if (credentials?.mode !== "kubelogin") return problems;
    if (credentials.login === "spn") {
        if (credentials.clientId === undefined) {
            add("cluster.credentials.clientId", undefined, "the service principal's client ID (a GUID) for login spn");
        }
        if (credentials.clientSecretConfig === undefined) {
            add(
                "cluster.credentials.clientSecretConfig",
                undefined,
                "the secret config key holding the service principal's secret, for login spn",
            );
        }
    } else {
        if (credentials.clientSecretConfig !== undefined) {
            add(
                "cluster.credentials.clientSecretConfig",
                credentials.clientSecretConfig,
                `unset for login ${credentials.login} (only spn uses a client secret)`,
            );
        }
        if (credentials.login === "azurecli" && credentials.clientId !== undefined) {
            add("cluster.credentials.clientId", credentials.clientId, "unset for login azurecli (the CLI's signed-in identity is used)");
        }
        if (credentials.tenantId !== undefined) {
            add(
                "cluster.credentials.tenantId",
                credentials.tenantId,
                `unset for login ${credentials.login} (only spn takes a tenant; the others use their identity's)`,
            );
        }
    }
    return problems;
}

/** The external Vault: TLS unless explicitly a lab, and a CA only when it is verified against. */
function vaultProblems({ root }: RawSettings): SettingsProblem[] {
    const { problems, add } = problemList();
    const v = parsed(vaultSchema, root.vault);
    if (v === undefined) return problems;
    if (v.address.startsWith("http://") && !v.allowHttp) {
        add("vault.address", v.address, "an https:// URL (set vault.allowHttp: true to accept http:// for a lab)");
    }
    if (v.caCertPem !== undefined && v.skipTlsVerify) {
        add("vault.skipTlsVerify", true, "false when vault.caCertPem is given (verify against the CA instead)");
    }
    return problems;
}

/** The injector against its own failure policy and the reviewer mode, and where its chart is. */
function injectorProblems({ root, injector: inj, kubernetesAuth: auth }: RawSettings): SettingsProblem[] {
    const { problems, add } = problemList();
    if (inj === undefined) return problems;
    if (inj.chartPath !== undefined) {
        if (record(root.injector).chartRepository !== undefined) {
            add("injector.chartRepository", inj.chartRepository, "unset when injector.chartPath is set (the chart comes from one place)");
        }
        if (!existsSync(resolveChartPath(inj.chartPath))) {
            const at = resolveChartPath(inj.chartPath);
            add("injector.chartPath", inj.chartPath, `a chart directory or .tgz that exists (looked at ${at})`);
        }
    }
    if (reviewerOf(auth) === "clientJwt" && inj.reviewerTokenRotation !== undefined) {
        add(
            "injector.reviewerTokenRotation",
            inj.reviewerTokenRotation,
            "unset with kubernetesAuth.reviewer clientJwt (there is no reviewer token to rotate)",
        );
    }
    return problems;
}

/** `injector.chartPath` as Helm is given it: relative paths are resolved from the project folder. */
export function resolveChartPath(chartPath: string): string {
    return path.resolve(PROJECT_DIR, chartPath);
}

/** What a real deploy needs of versions and sizes (src/config/deployRules.ts). */
function deployRuleProblems({ root }: RawSettings): SettingsProblem[] {
    return deployProblems(root);
}

/** Ownership, grants, policies, templates, URL credentials, renames (src/config/trust.ts). */
function trustRuleProblems({ root }: RawSettings): SettingsProblem[] {
    return trustProblems(root);
}

/** Every workload: unique identities across workloads, then each one's own rules. */
function workloadProblems(raw: RawSettings): SettingsProblem[] {
    const rawWorkloads = list(raw.root.workloads);
    return [
        ...workloadIdentityProblems(rawWorkloads),
        ...rawWorkloads.flatMap((rawW, i) => {
            const w = parsed(workloadSchema, rawW);
            return w === undefined ? [] : oneWorkloadProblems(`workloads[${i}]`, w, raw);
        }),
    ];
}

/**
 * Names, roles, identities and created namespaces used once. Checked on the identity fields alone,
 * so a workload with an unrelated problem still counts (and is still counted against).
 */
function workloadIdentityProblems(rawWorkloads: unknown[]): SettingsProblem[] {
    const { problems, add } = problemList();
    const names = new Set<string>();
    const roles = new Map<string, string>();
    const identities = new Set<string>();
    const createdNamespaces = new Set<string>();
    const str = (v: unknown) => (typeof v === "string" ? v : undefined);
    rawWorkloads.forEach((rawW, i) => {
        const key = `workloads[${i}]`;
        const r = record(rawW);
        const name = str(r.name);
        const role = str(r.role) ?? name;
        const namespace = str(r.namespace);
        const serviceAccount = str(r.serviceAccount);
        const identity = namespace !== undefined && serviceAccount !== undefined ? `${namespace}/${serviceAccount}` : undefined;
        if (name !== undefined) {
            if (names.has(name)) add(`${key}.name`, name, "a workload name used once");
            names.add(name);
        }
        if (role !== undefined) {
            // Vault's Kubernetes auth stores role names lower-cased: `Busybox` is `busybox` (src/config/names.ts).
            const stored = normalizeRole(role);
            const first = roles.get(stored);
            if (first !== undefined) {
                add(`${key}.role`, role, `a Vault role name used once, compared lower-cased as Vault stores it (${first} has it)`);
            } else {
                roles.set(stored, `workloads[${i}]`);
            }
        }
        if (identity !== undefined) {
            if (identities.has(identity)) add(`${key}.serviceAccount`, identity, "one workload per namespace and service account");
            identities.add(identity);
        }
        if (r.createNamespace !== false && namespace !== undefined && namespace !== "*") {
            if (createdNamespaces.has(namespace)) {
                add(`${key}.createNamespace`, true, `false: namespace ${namespace} is already created by another workload`);
            }
            createdNamespaces.add(namespace);
        }
    });
    return problems;
}

/** One workload that is valid by itself: wildcards, reserved names, TTLs, its secret files and seeds. */
function oneWorkloadProblems(
    key: string, w: WorkloadSettings, { injector: inj, kubernetesAuth: auth, platform }: RawSettings,
): SettingsProblem[] {
    const { problems, add } = problemList();
    const wildcard = w.namespace === "*" || w.serviceAccount === "*";
    for (const field of ["namespace", "serviceAccount"] as const) {
        if (w[field] === "*" && !w.allowWildcard) {
            add(
                `${key}.${field}`,
                "*",
                "a DNS-1123 label; '*' lets any pod log in as this role, set allowWildcard: true if that is really meant",
            );
        } else if (w[field] === "*" && !(platform?.wildcardWorkloads ?? []).includes(w.name)) {
            // The exemption is the platform's: a workload's own allowWildcard would let any team
            // widen its role, and with it every grant the role received (issue 22).
            add(
                `${key}.${field}`,
                "*",
                `a DNS-1123 label: '*' needs the platform's exemption (platform.wildcardWorkloads listing ${w.name}); ` +
                    "allowWildcard on the workload's own entry is not enough",
            );
        }
    }
    if (w.namespace === "*" && w.createNamespace) add(`${key}.createNamespace`, true, "false when namespace is '*'");
    const reserved = reservedNamespace(w.namespace, inj?.namespace, platform?.reservedNamespaces ?? []);
    if (reserved !== undefined) add(`${key}.namespace`, w.namespace, `a namespace of its own, not ${reserved}`);
    if (wildcard && w.deployment !== undefined) {
        add(`${key}.deployment`, "a deployment", "no deployment when namespace or serviceAccount is '*' (it needs one concrete identity)");
    }
    if (reviewerOf(auth) === "clientJwt" && wildcard) {
        add(
            `${key}.serviceAccount`,
            `${w.namespace}/${w.serviceAccount}`,
            "a concrete namespace and service account with kubernetesAuth.reviewer clientJwt (each gets system:auth-delegator)",
        );
    }
    if (w.tokenMaxTtl !== undefined && w.tokenMaxTtl < w.tokenTtl) {
        add(`${key}.tokenMaxTtl`, w.tokenMaxTtl, `at least tokenTtl (${w.tokenTtl})`);
    }
    if (w.secrets.length === 0 && w.deployment !== undefined) {
        add(`${key}.secrets`, [], "at least one secret file for a workload with a deployment");
    }
    return [...problems, ...secretFileProblems(key, w.secrets), ...seedProblems(key, w.seed)];
}

/** A workload's secret files: unique names as the injector writes them, one way of rendering each. */
function secretFileProblems(key: string, secrets: WorkloadSettings["secrets"]): SettingsProblem[] {
    const { problems, add } = problemList();
    const files = new Set<string>();
    secrets.forEach((f, j) => {
        const fkey = `${key}.secrets[${j}]`;
        // The injector lower-cases file names (unless preserve-secret-case), so compare that way.
        if (files.has(f.file.toLowerCase())) add(`${fkey}.file`, f.file, "a file name used once per workload");
        files.add(f.file.toLowerCase());
        if (f.template !== undefined && (f.key !== undefined || f.prefix !== undefined)) {
            add(`${fkey}.template`, "template with key/prefix", "either template, or key with an optional prefix");
        }
        if (f.prefix !== undefined && f.key === undefined) add(`${fkey}.prefix`, f.prefix, "prefix only together with key");
    });
    return problems;
}

/** A workload's seeded secrets: each path once, each with something to write. */
function seedProblems(key: string, seeds: WorkloadSettings["seed"]): SettingsProblem[] {
    const { problems, add } = problemList();
    const seeded = new Set<string>();
    seeds.forEach((sd, j) => {
        if (seeded.has(sd.path)) add(`${key}.seed[${j}].path`, sd.path, "a seeded path used once per workload");
        seeded.add(sd.path);
        if (Object.keys(sd.values).length === 0) add(`${key}.seed[${j}].values`, {}, "at least one key to seed");
    });
    return problems;
}

/** The TokenReview reviewer mode; undefined for method jwt (which has none). */
function reviewerOf(auth: Settings["kubernetesAuth"] | undefined): string | undefined {
    return auth?.method === "kubernetes" ? auth.reviewer : undefined;
}

/** Settings that only Kubernetes auth uses (the TokenReview path), by config key. */
const KUBERNETES_ONLY: ReadonlyArray<readonly [section: "kubernetesAuth" | "injector", key: string, why: string]> = [
    ["kubernetesAuth", "validateIssuer", "the JWT backend always checks iss against the issuer URL (bound_issuer)"],
    ["kubernetesAuth", "reviewer", "Vault checks tokens against the issuer's published keys and calls no TokenReview"],
    ["injector", "reviewerServiceAccount", "no token reviewer is created"],
    ["injector", "reviewerTokenRotation", "there is no reviewer token to rotate"],
];
const JWT_ONLY = ["audience", "tokenExpirationSeconds"] as const;

/**
 * `kubernetesAuth.method`: settings that belong to the other method are refused (not ignored: a
 * reviewer rotation that silently does nothing is worse than an error), and with `jwt` every role
 * binds one exact `sub`, so wildcards have no meaning. Read from the raw input: the schema fills
 * no defaults for these keys, so "set" means set by the user.
 */
function authMethodProblems({ root }: RawSettings): SettingsProblem[] {
    const { problems, add } = problemList();
    const rawAuth = record(root.kubernetesAuth);
    const method = rawAuth.method ?? "kubernetes";
    if (method === "jwt") {
        for (const [section, key, why] of KUBERNETES_ONLY) {
            const value = record(root[section])[key];
            if (value !== undefined) {
                add(`${section}.${key}`, value, `unset with kubernetesAuth.method jwt (${why}); it applies to method kubernetes only`);
            }
        }
        list(root.workloads).forEach((rawW, i) => {
            for (const field of wildcardSubjectParts(record(rawW))) {
                add(
                    `workloads[${i}].${field}`,
                    "*",
                    "a DNS-1123 label with kubernetesAuth.method jwt: each JWT role is bound to one exact subject, " +
                        "system:serviceaccount:<namespace>:<serviceAccount>",
                );
            }
        });
    } else if (method === "kubernetes") {
        for (const key of JWT_ONLY) {
            if (rawAuth[key] !== undefined) {
                add(
                    `kubernetesAuth.${key}`,
                    rawAuth[key],
                    "unset with kubernetesAuth.method kubernetes, or set kubernetesAuth.method: jwt (it applies to JWT auth only)",
                );
            }
        }
    }
    return problems;
}

const DNS_PREFIX = /^[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?$/;
/**
 * Why a namespace is no workload's, or undefined. `default`: every pod created without a
 * namespace lands there, and the injection label (with failurePolicy Fail) would hold them all
 * while the injector is down. `kube-*`: Kubernetes reserves the prefix for its own
 * (kubernetes.io namespaces: "Avoid creating namespaces with the prefix kube-"), and the webhook
 * never sees kube-system. The injector's namespace: the webhook skips it.
 */
function reservedNamespace(ns: string, injectorNamespace: string | undefined, platform: readonly string[]): string | undefined {
    if (ns === "default") return "default (every pod without a namespace runs there, and the injection label would hold them all)";
    if (ns.startsWith("kube-")) return "a kube- namespace (Kubernetes reserves the prefix; the webhook never sees kube-system)";
    if (ns === injectorNamespace) return "the injector's namespace (its webhook never sees it)";
    if (platform.includes(ns)) return "a namespace the platform reserves (platform.reservedNamespaces)";
    return undefined;
}

/** IPv4 CIDR `a.b.c.d/n`, checked with node's own address parser; undefined when it is not one. */
function cidr(value: string): { address: string; prefix: number } | undefined {
    const [address, bits, ...rest] = value.split("/");
    if (rest.length > 0 || bits === undefined || !isIPv4(address) || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
    return { address, prefix: Number(bits) };
}

/** Azure CNI overlay addressing: valid CIDRs, the DNS IP inside the service CIDR, no overlap. */
function networkProblems(net: { podCidr: string; serviceCidr: string; dnsServiceIp: string }): SettingsProblem[] {
    const { problems, add } = problemList();
    const pod = cidr(net.podCidr);
    const service = cidr(net.serviceCidr);
    if (pod === undefined) add("cluster.network.podCidr", net.podCidr, "an IPv4 CIDR such as 10.244.0.0/16");
    if (service === undefined) add("cluster.network.serviceCidr", net.serviceCidr, "an IPv4 CIDR such as 10.0.0.0/16");
    if (!isIPv4(net.dnsServiceIp)) add("cluster.network.dnsServiceIp", net.dnsServiceIp, "an IPv4 address inside serviceCidr");
    if (pod === undefined || service === undefined) return problems;
    const within = (range: { address: string; prefix: number }, ip: string) => {
        const list = new BlockList();
        list.addSubnet(range.address, range.prefix, "ipv4");
        return list.check(ip, "ipv4");
    };
    if (isIPv4(net.dnsServiceIp) && !within(service, net.dnsServiceIp)) {
        add("cluster.network.dnsServiceIp", net.dnsServiceIp, `an address inside serviceCidr ${net.serviceCidr}`);
    }
    // Two CIDRs overlap exactly when one contains the other's network address.
    if (within(pod, service.address) || within(service, pod.address)) {
        add("cluster.network.serviceCidr", net.serviceCidr, `a range that does not overlap podCidr ${net.podCidr}`);
    }
    return problems;
}

/**
 * Parses and validates; throws `SettingsError` listing every problem, schema and cross-field alike,
 * plus `configProblems` found in the stack config around the settings (unknown or plain keys).
 */
export function parseSettings(raw: unknown, configProblems: readonly SettingsProblem[] = []): Settings {
    // Strings over their length limit are reported alone: every later check then runs on bounded input.
    const oversize = oversizeStrings(raw);
    if (oversize.length > 0) {
        throw new SettingsError([
            ...configProblems,
            ...oversize.map((o) => ({
                key: formatKey(o.path),
                found: `${o.isKey ? "a key of" : "a string of"} ${o.length} characters (not shown)`,
                expected: `at most ${o.limit} characters`,
            })),
        ]);
    }
    const result = settingsSchema.safeParse(raw, { error: settingsErrorMap });
    // Problems of the stack config as a whole (src/config/configKeys.ts) come first: an unknown
    // top-level key often explains the rest.
    const problems = [...configProblems, ...(result.success ? [] : result.error.issues.map((issue) => toProblem(raw, issue)))];
    problems.push(...crossFieldProblems(raw));
    if (problems.length > 0 || !result.success) throw new SettingsError(problems);
    return result.data;
}

function toProblem(raw: unknown, issue: z.core.$ZodIssue): SettingsProblem {
    if (issue.code === "unrecognized_keys") {
        const keys = issue.keys.map((k) => formatKey([...issue.path, k]));
        const known = knownKeysAt(settingsSchema, issue.path);
        const guesses = issue.keys.map((k) => didYouMean(k, known)).filter((g): g is string => g !== undefined);
        const named = guesses.map((g) => `\`${formatKey([...issue.path, g])}\``).join(", ");
        const expected = guesses.length > 0
            ? `did you mean ${named}? (only the keys in docs/configuration.md)`
            : "only the keys in docs/configuration.md (a typo?)";
        return { key: keys.join(", "), found: keys.length === 1 ? "an unknown key" : "unknown keys", expected };
    }
    const key = formatKey(issue.path);
    // The message is what is expected, worded by src/config/wording.ts or the schema's own.
    return problem(key, valueAt(raw, issue.path), issue.message);
}

interface ZodInternals {
    _zod: {
        def: { type: string; shape?: Record<string, unknown>; innerType?: unknown; in?: unknown; options?: unknown[]; element?: unknown };
    };
}

/** The schema nodes under wrappers (optional, default, prefault, transform pipes, unions). */
function unwrapSchema(node: unknown): ZodInternals[] {
    const def = (node as ZodInternals)._zod.def;
    if (def.innerType !== undefined) return unwrapSchema(def.innerType);
    if (def.type === "pipe" && def.in !== undefined) return unwrapSchema(def.in);
    if (def.type === "union" && def.options !== undefined) return def.options.flatMap(unwrapSchema);
    return [node as ZodInternals];
}

/** The keys the schema allows in the object at `path` (for a "did you mean"). */
function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
    let nodes = unwrapSchema(schema);
    for (const part of path) {
        nodes = nodes.flatMap((n) => {
            const def = n._zod.def;
            if (typeof part === "number") return def.type === "array" && def.element !== undefined ? unwrapSchema(def.element) : [];
            const child = def.type === "object" ? def.shape?.[String(part)] : undefined;
            return child === undefined ? [] : unwrapSchema(child);
        });
    }
    return [...new Set(nodes.flatMap((n) => (n._zod.def.type === "object" ? Object.keys(n._zod.def.shape ?? {}) : [])))];
}
