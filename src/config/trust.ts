/**
 * Trust boundaries between the workloads of one stack, and between the stack and the Vault it
 * shares: one owner per KV path and reads only where granted (judged against `kvAccess`,
 * access.ts, the answer the program renders policies from), which policies a role may carry, what
 * a template may do. Pure; the rules run before any resource is registered (validate.ts).
 */
import type { z } from "zod";
import { templateProblems } from "../agent/goTemplate";
import {
    DEFAULT_KUBECONFIG_KEY, VAULT_TOKEN_KEY, kvSchema, platformSchema, settingsSchema, vaultSchema, workloadSchema, WorkloadSettings,
} from "./schema";
import { STAGE_KEY } from "../stages";
import { list, parsed, record } from "./raw";
import { SettingsProblem, problemList } from "./problem";
import { KvAccess, kvAccess } from "./access";
import { PROTECTED_MOUNTS, authDelegatorBindingName, childNames, normalizePolicy } from "./names";

/**
 * The default policy prefix before issue 22 (`vault.policyNaming: legacy`): `<project>-<stack>-`,
 * lower-cased. Not injective: workload `eu-busybox` of stack `dev` and `busybox` of stack `dev-eu`
 * get one name, `aks-vault-dev-eu-busybox`. Kept only so existing stacks keep their policies.
 */
export function legacyPolicyPrefix(project: string, stack: string): string {
    return `${project}-${stack}-`.toLowerCase().replace(/[^a-z0-9_.-]/g, "-");
}

/**
 * The default policy prefix: `<project>.<stack>.`, each upper-case letter written `~` + its
 * lower case (Vault lower-cases policy names, and `~` is in no Pulumi stack name), so stacks `Dev`
 * and `dev` differ. Workload names have no `.`, so the last `.` of `<prefix><workload>` splits it
 * back into prefix and workload: no two (stack, workload) pairs share a name, whatever their dashes.
 */
export function defaultPolicyPrefix(project: string, stack: string): string {
    const escape = (s: string) => s.replace(/[A-Z]/g, (c) => `~${c.toLowerCase()}`);
    return `${escape(project)}.${escape(stack)}.`;
}

/** The prefix of the stack's generated policies, as the program and the operator policy use it. */
export function policyPrefixOf(
    vault: { policyPrefix?: string; policyNaming: "scoped" | "legacy" }, project: string, stack: string,
): string {
    if (vault.policyPrefix !== undefined) return vault.policyPrefix;
    return vault.policyNaming === "legacy" ? legacyPolicyPrefix(project, stack) : defaultPolicyPrefix(project, stack);
}

/** The workloads that parse on their own, with their index in the config. */
function workloadsOf(root: Record<string, unknown>): Array<{ i: number; w: WorkloadSettings }> {
    return list(root.workloads).flatMap((r, i) => {
        const w = parsed(workloadSchema, r);
        return w === undefined ? [] : [{ i, w }];
    });
}

/** The raw settings as the trust rules read them, with the parts they share parsed and computed once. */
interface TrustInput {
    root: Record<string, unknown>;
    /** The workloads that parse on their own, with their index in the config. */
    ws: Array<{ i: number; w: WorkloadSettings }>;
    /** `kv`, when it parses on its own. */
    kv: z.output<typeof kvSchema> | undefined;
    /** Who owns and may read each path among those workloads. */
    access: KvAccess;
}

/** Every trust rule, in one list (validate.ts runs it with the other cross-field rules). */
export function trustProblems(raw: unknown): SettingsProblem[] {
    const root = record(raw);
    const ws = workloadsOf(root);
    const kv = parsed(kvSchema, root.kv ?? {});
    const input: TrustInput = { root, ws, kv, access: kvAccess(ws.map(({ w }) => w), kv?.external ?? []) };
    return [
        ownershipProblems,
        policyProblems,
        templateRuleProblems,
        urlCredentialProblems,
        renameProblems,
        derivedNameProblems,
        secretOwnerProblems,
    ].flatMap((rule) => rule(input));
}

/** One owner per path; reads of others' paths only when granted; seeds and extra capabilities only on owned paths. */
function ownershipProblems({ ws, kv, access }: TrustInput): SettingsProblem[] {
    const { problems: out, add } = problemList();
    const external = kv?.external ?? [];
    const names = new Map(ws.map(({ i, w }) => [w.name, i]));
    const workloadNames = [...names.keys()].join(", ");
    const externalAt = new Map<string, number>();
    external.forEach((e, k) => {
        if (externalAt.has(e.path)) {
            add(`kv.external[${k}].path`, e.path, `a path named once (kv.external[${externalAt.get(e.path)}] names it already)`);
        } else {
            externalAt.set(e.path, k);
        }
        e.readers.forEach((r, m) => {
            if (!names.has(r)) {
                add(`kv.external[${k}].readers[${m}]`, r, `the name of a workload of this stack (${workloadNames || "none"})`);
            }
        });
    });

    // First claimer of each path, with where it claims it.
    const claims = new Map<string, { name: string; key: string }>();
    for (const { i, w } of ws) {
        const own = [
            ...w.secrets.map((s, j) => ({ s, key: `workloads[${i}].secrets[${j}]`, seed: false })).filter(({ s }) => s.from === undefined),
            ...w.seed.map((s, j) => ({ s, key: `workloads[${i}].seed[${j}]`, seed: true })),
        ];
        for (const { s, key, seed } of own) {
            const ext = externalAt.get(s.path);
            if (ext !== undefined) {
                if (seed) {
                    add(
                        `${key}.path`,
                        s.path,
                        `a path this stack owns: kv.external[${ext}] names ${s.path} as data kept outside this program, ` +
                            `and a seed would write over it`,
                    );
                }
                if (s.sharedWith.length > 0) {
                    add(`${key}.sharedWith`, s.sharedWith, `no sharedWith on an external path: add readers to kv.external[${ext}].readers`);
                }
                continue;
            }
            const first = claims.get(s.path);
            if (first === undefined) claims.set(s.path, { name: w.name, key });
            else if (first.name !== w.name) {
                const fix = seed
                    ? `only its owner seeds it; remove this seed`
                    : `to read it, ${first.name} adds ${w.name} to sharedWith on that entry, and this entry says from: ${first.name}`;
                add(
                    `${key}.path`,
                    s.path,
                    `a path no other workload owns: ${s.path} belongs to workload ${first.name} (${first.key}); ` +
                        `a path has one owner, ${fix}`,
                );
            }
            s.sharedWith.forEach((r, m) => {
                const at = `${key}.sharedWith[${m}]`;
                const reader = ws.find((x) => x.w.name === r)?.w;
                if (r === w.name) add(at, r, "another workload's name (a workload always reads its own paths)");
                else if (!names.has(r)) add(at, r, `the name of a workload of this stack (${workloadNames})`);
                else if (reader !== undefined && (reader.namespace === "*" || reader.serviceAccount === "*")) {
                    // A grant reaches the pods the reader's role admits: with '*' that is pods the owner never named.
                    add(
                        at,
                        r,
                        `a workload bound to one namespace and service account: ${r}'s role admits ` +
                            `${reader.namespace}/${reader.serviceAccount}, so the grant would reach pods no one named`,
                    );
                }
            });
        }
    }

    for (const { i, w } of ws) {
        w.secrets.forEach((s, j) => {
            const key = `workloads[${i}].secrets[${j}]`;
            const ext = externalAt.get(s.path);
            if (ext !== undefined) {
                if (s.from !== undefined) {
                    add(`${key}.from`, s.from, `nothing: ${s.path} is external (kv.external[${ext}]), not owned by a workload`);
                } else if (!external[ext].readers.includes(w.name)) {
                    add(
                        `${key}.path`,
                        s.path,
                        `a path this workload may read: kv.external[${ext}] lists readers ${external[ext].readers.join(", ")}; ` +
                            `the platform adds ${w.name} there if it should read it`,
                    );
                }
                return;
            }
            if (s.from === undefined) return;
            if (s.sharedWith.length > 0) {
                add(`${key}.sharedWith`, s.sharedWith, "no sharedWith on a path read from another workload: only the owner shares a path");
            }
            if (s.from === w.name) add(`${key}.from`, s.from, "another workload's name, or no from for the workload's own path");
            else if (!names.has(s.from)) add(`${key}.from`, s.from, `the name of a workload of this stack (${workloadNames})`);
            else if (access.owner.get(s.path) !== s.from) {
                const real = access.owner.get(s.path);
                const whose =
                    real === undefined
                        ? `no workload owns it (the owner lists it in secrets or seed; ` +
                          `data kept outside this program goes in kv.external)`
                        : `it belongs to ${real}`;
                add(`${key}.from`, s.from, `the owner of ${s.path}: ${whose}`);
            } else if (!access.readable.get(w.name)?.has(s.path)) {
                add(
                    `${key}.path`,
                    s.path,
                    `a grant from its owner: ${s.from} lists ${w.name} in sharedWith on its secret or seed for ${s.path}`,
                );
            }
        });
        if (w.extraCapabilities.length > 0) {
            const owned = access.owned.get(w.name) ?? new Set<string>();
            if (!w.secrets.some((s) => owned.has(s.path))) {
                add(
                    `workloads[${i}].extraCapabilities`,
                    w.extraCapabilities,
                    "none: extra capabilities apply only to paths the workload owns, and it reads none of its own",
                );
            }
            if (w.extraCapabilities.includes("list")) {
                for (const p of owned) {
                    const under = [...access.owner].find(([q, o]) => o !== w.name && q.startsWith(`${p}/`));
                    if (under !== undefined) {
                        add(
                            `workloads[${i}].extraCapabilities`,
                            "list",
                            `no list on ${p}: it would list ${under[1]}'s path ${under[0]} under it`,
                        );
                    }
                }
            }
        }
    }
    return out;
}

/** Roles carry the generated policy plus allow-listed ones; never root. */
function policyProblems({ root, ws }: TrustInput): SettingsProblem[] {
    const { problems: out, add } = problemList();
    const vault = parsed(vaultSchema, root.vault);
    const rawVault = record(root.vault);
    const allowedRaw = vault?.allowedPolicies ?? (Array.isArray(rawVault.allowedPolicies) ? [] : ["default"]);
    const prefix = vault?.policyPrefix;
    if (prefix !== undefined && vault?.policyNaming !== "legacy" && !prefix.endsWith(".")) {
        add(
            "vault.policyPrefix",
            prefix,
            "a prefix ending in '.' (workload names have none, so <prefix><workload> never equals another stack's name), " +
                "or vault.policyNaming: legacy to keep the names an existing stack has (docs/data-safety.md)",
        );
    }
    // With the default prefix (`<project>-<stack>-`) the stack name is not known here; the program
    // and the policy pack check the generated names then.
    const generated = new Set(prefix === undefined ? [] : ws.map(({ w }) => `${prefix}${w.name}`));
    const allowed = new Set<string>();
    allowedRaw.forEach((p, k) => {
        const n = normalizePolicy(p);
        const key = `vault.allowedPolicies[${k}]`;
        if (n === "root") {
            add(key, p, "not root: Vault refuses root through an auth method, and no workload may hold it");
        } else if (generated.has(n)) {
            add(
                key,
                p,
                "a policy made outside this stack: allowing a workload's generated policy would let every workload carry its grants",
            );
        } else {
            allowed.add(n);
        }
    });
    for (const { i, w } of ws) {
        w.policies.forEach((p, j) => {
            const n = normalizePolicy(p);
            const key = `workloads[${i}].policies[${j}]`;
            if (n === "root") {
                add(
                    key,
                    p,
                    "not root (compared as Vault does, ignoring case and spaces): a workload never holds root",
                );
            } else if (allowed.has(n)) {
                return;
            } else if (n === w.name || (prefix !== undefined && n === `${prefix}${w.name}`)) {
                add(
                    key,
                    p,
                    `no entry for the workload's own policy: ` +
                        `the generated policy (${prefix ?? "<project>.<stack>."}${w.name}) is always attached; remove it`,
                );
            } else if (!allowed.has(n)) {
                add(
                    key,
                    p,
                    `one of vault.allowedPolicies (${[...allowed].join(", ") || "none"}): ` +
                        `another policy could grant other teams' paths; ` +
                        `the platform adds it to vault.allowedPolicies if it is meant for workloads`,
                );
            }
        });
    }
    return out;
}

/** Templates read only readable paths with allowed functions; prefixes are text; a file renders something. */
function templateRuleProblems({ ws, kv, access }: TrustInput): SettingsProblem[] {
    const { problems: out, add } = problemList();
    for (const { i, w } of ws) {
        w.secrets.forEach((s, j) => {
            const key = `workloads[${i}].secrets[${j}]`;
            if (s.prefix !== undefined && (s.prefix.includes("{{") || s.prefix.includes("}}") || s.prefix.endsWith("{"))) {
                add(
                    `${key}.prefix`,
                    "a prefix with template delimiters",
                    "plain text without '{{', '}}' or a trailing '{' (it is pasted into the template); " +
                        "use template for template code",
                );
            }
            if (s.key === undefined && s.template === undefined) {
                add(
                    `${key}.key`,
                    undefined,
                    "the key to render (or a template): without either the injector writes the secret's raw map[...] form",
                );
            }
            if (s.template !== undefined && kv !== undefined) {
                for (const p of templateProblems(s.template, { kvMount: kv.path, readable: access.readable.get(w.name) ?? new Set() })) {
                    add(`${key}.template`, "a template", p);
                }
            }
        });
    }
    return out;
}

/** `user:password@` in a URL ends up in logs, plans and the chart's values: refused, never echoed. */
function urlCredentialProblems({ root }: TrustInput): SettingsProblem[] {
    const { problems: out, add } = problemList();
    const check = (key: string, value: unknown, fix: string) => {
        if (typeof value === "string" && hasUrlCredentials(value)) {
            add(key, "a URL with credentials (not shown)", `the URL without user:password@; ${fix}`);
        }
    };
    check(
        "vault.address",
        record(root.vault).address,
        "give Vault's token as the secret vaultToken (`pulumi config set --secret vaultToken <token>`)",
    );
    check(
        "injector.chartRepository",
        record(root.injector).chartRepository,
        "use a public chart repository or a mirror that needs no credentials in the URL",
    );
    return out;
}

/** Whether a URL carries a user name or password. */
function hasUrlCredentials(value: string): boolean {
    try {
        const u = new URL(value);
        return u.username !== "" || u.password !== "";
    } catch {
        return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(value);
    }
}

/** `formerName` names a previous name: not the current one, not another workload's. */
function renameProblems({ ws }: TrustInput): SettingsProblem[] {
    const { problems: out, add } = problemList();
    const names = new Set(ws.map(({ w }) => w.name));
    const former = new Set<string>();
    for (const { i, w } of ws) {
        if (w.formerName === undefined) continue;
        const key = `workloads[${i}].formerName`;
        const found = w.formerName;
        if (found === w.name) {
            add(key, found, "the previous name, not the current one (remove formerName when there was no rename)");
        } else if (names.has(found)) {
            add(key, found, "a name no current workload has (the aliases would take that workload's resources)");
        } else if (former.has(found)) {
            add(key, found, "a former name used once");
        }
        former.add(w.formerName);
    }
    return out;
}

/**
 * Two entries never name one object, compared as the system holding it compares names
 * (src/config/names.ts): the Pulumi names of the bindings' children, by type, across workloads;
 * the auth-delegator ClusterRoleBindings (cluster-scoped); the mounts Vault keeps for itself.
 * Vault role names are compared lower-cased with the other identities (validate.ts).
 */
function derivedNameProblems({ root, ws }: TrustInput): SettingsProblem[] {
    const { problems: out, add } = problemList();
    const taken = new Map<string, string>();
    const claim = (kind: string, name: string, key: string, found: unknown, what: string) => {
        const id = `${kind}\0${name}`;
        const first = taken.get(id);
        if (first === undefined) taken.set(id, key);
        else add(key, found, `${what} that no other entry gives: ${name} is also ${first}'s`);
    };
    for (const { i, w } of ws) {
        w.seed.forEach((s, j) => {
            const key = `workloads[${i}].seed[${j}].path`;
            claim("vault:kv/secretV2:SecretV2", childNames.seed(w.name, s.path), key, s.path, "a seeded path whose Pulumi name");
            for (const k of Object.keys(s.values)) {
                if (!("random" in s.values[k])) continue;
                claim(
                    "random:index/randomPassword:RandomPassword",
                    childNames.seedRandom(w.name, s.path, k),
                    `workloads[${i}].seed[${j}].values`,
                    k,
                    "a generated value whose Pulumi name (<workload>-seed-<path>-<key>)",
                );
            }
        });
    }
    const auth = record(root.kubernetesAuth);
    if ((auth.method ?? "kubernetes") === "kubernetes" && auth.reviewer === "clientJwt") {
        for (const { i, w } of ws) {
            if (w.namespace === "*" || w.serviceAccount === "*") continue;
            const name = authDelegatorBindingName(w.namespace, w.serviceAccount);
            claim("ClusterRoleBinding", name, `workloads[${i}].serviceAccount`, `${w.namespace}/${w.serviceAccount}`,
                "a namespace and service account whose ClusterRoleBinding name (<namespace>-<serviceAccount>-auth-delegator)");
        }
    }
    const first = (v: unknown) => (typeof v === "string" ? v.split("/")[0] : undefined);
    const kvFirst = first(record(root.kv).path);
    if (kvFirst !== undefined && (PROTECTED_MOUNTS as readonly string[]).includes(kvFirst)) {
        const expected = `a path outside Vault's own mounts (${PROTECTED_MOUNTS.join(", ")})`;
        add("kv.path", record(root.kv).path, expected);
    }
    if (first(auth.path) === "token") {
        const expected = "a path other than token (auth/token is Vault's own token method)";
        add("kubernetesAuth.path", auth.path, expected);
    }
    return out;
}

/**
 * The secret config keys the platform owns, each with why: the Vault token, the cluster's
 * kubeconfig and service principal secret, the keys `platform.secretConfigKeys` lists, and the
 * program's own settings keys (not secrets at all).
 */
function platformSecretKeys(root: Record<string, unknown>): Map<string, string> {
    const keys = new Map<string, string>();
    for (const k of Object.keys(settingsSchema.shape)) keys.set(k, `the settings key aks-vault:${k}`);
    keys.set(STAGE_KEY, `the settings key aks-vault:${STAGE_KEY}`);
    keys.set(VAULT_TOKEN_KEY, "the program's Vault token");
    keys.set(DEFAULT_KUBECONFIG_KEY, "the cluster's kubeconfig");
    const cluster = record(root.cluster);
    if (typeof cluster.kubeconfigConfig === "string") {
        keys.set(cluster.kubeconfigConfig, "the cluster's kubeconfig (cluster.kubeconfigConfig)");
    }
    const spn = record(cluster.credentials).clientSecretConfig;
    if (typeof spn === "string") keys.set(spn, "the service principal's secret (cluster.credentials.clientSecretConfig)");
    for (const k of parsed(platformSchema, root.platform ?? {})?.secretConfigKeys ?? []) {
        keys.set(k, "a platform secret (platform.secretConfigKeys)");
    }
    return keys;
}

/**
 * Stack config secrets have owners: a key a workload's seed reads (`{secretConfig: KEY}`) is that
 * workload's, one workload per key, and never one of the platform's. Otherwise a seed could copy
 * the operator's Vault token, the kubeconfig or another team's secret into a path its team reads.
 * Config keys are compared exactly, as the Pulumi runtime looks them up (runtime/config.ts getConfig).
 */
function secretOwnerProblems({ root, ws }: TrustInput): SettingsProblem[] {
    const { problems: out, add } = problemList();
    const platform = platformSecretKeys(root);
    const owner = new Map<string, { name: string; key: string }>();
    for (const { i, w } of ws) {
        w.seed.forEach((s, j) => {
            for (const [k, v] of Object.entries(s.values)) {
                if (!("secretConfig" in v)) continue;
                const key = `workloads[${i}].seed[${j}].values.${k}.secretConfig`;
                const ref = v.secretConfig;
                const why = platform.get(ref);
                const first = owner.get(ref);
                if (why !== undefined) {
                    add(key, ref, `a secret config key of ${w.name}'s own: ${ref} is ${why}, the platform's`);
                } else if (first !== undefined && first.name !== w.name) {
                    add(
                        key,
                        ref,
                        `a secret config key of ${w.name}'s own: ${ref} is read by workload ${first.name} (${first.key}); ` +
                            "a config secret has one owner (to share the value, its owner shares the seeded path with sharedWith)",
                    );
                } else if (first === undefined) {
                    owner.set(ref, { name: w.name, key });
                }
            }
        });
    }
    return out;
}
