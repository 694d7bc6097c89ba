/**
 * Property test of the trust boundary between workloads (issue 10): fast-check generates stacks of
 * several workloads that read, seed, share and attack KV paths. Each stack is either refused
 * before any resource is registered, or every Vault policy the program sends grants its workload
 * only what the config's grant rules allow, read from the rendered HCL by an ACL evaluator written
 * here (not the program's own model, nor the pack's parser): exact paths first, then the longest
 * `*` prefix, `+` for one segment, as Vault's ACL matches (vault/acl.go). Roles carry only their own
 * policy and `default`; templates read only allowed paths.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { labRaw } from "../support/fixtures";
import { settle, useCloud } from "../support/harness";
import type { RecordedResource } from "../support/cloud";
import { childNames } from "../../src/config/names";

const ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";

const NAMES = ["alpha", "beta", "gamma", "delta"] as const;
const PATHS = ["alpha/db", "beta/db", "shared/x", "legacy/api", "team", "team/a"] as const;
const CAPS = ["create", "read", "update", "patch", "delete", "list", "sudo", "deny"] as const;
const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));

interface Entry { path: string; from?: string; sharedWith: string[]; template?: boolean; templatePath?: string }
interface GenWorkload {
    name: string; secrets: Entry[]; seed: Entry[]; extra: string[]; policies: string[];
    /** Issue 22's attacks on the workload's own entry. */
    role?: string; namespace?: string; wildcard?: boolean; secretConfig?: string;
}
interface GenStack {
    workloads: GenWorkload[];
    external: Array<{ path: string; readers: string[] }>;
    platform: { wildcardWorkloads: string[] };
}

type Mutation = {
    kind: "claim" | "wrongFrom" | "seedOther" | "policy" | "root" | "template" | "extraOnGrant"
        | "roleCase" | "wildcard" | "platformSecret" | "otherSecret" | "reservedNamespace";
    who: number;
    path: string;
    /** For wildcard: whether the platform exempts the workload too. */
    flag: boolean;
};
const KINDS = ["claim", "wrongFrom", "seedOther", "policy", "root", "template", "extraOnGrant",
    "roleCase", "wildcard", "platformSecret", "otherSecret", "reservedNamespace"] as const;
/** Config keys the platform owns (the run resolves them to values no seed may carry). */
const PLATFORM_KEYS = ["vaultToken", "kubeconfig"];

/**
 * A stack in which each path has an owner (a workload, kv.external or nobody), owners share some
 * paths, workloads read some of the others' (named with `from`) or external ones, and at most one
 * attack is mixed in: so both accepted and refused stacks come out often.
 */
/** Issue 22's attacks: names as Vault stores them, widening a grant, config secrets, reserved namespaces. */
const ISSUE_22 = ["roleCase", "wildcard", "platformSecret", "otherSecret", "reservedNamespace"] as const;

/** Stacks with, at most (`always` false) or exactly (`always` true) one attack of `kinds`. */
const stackOf = (kinds: readonly Mutation["kind"][], always: boolean): fc.Arbitrary<GenStack> =>
    fc.integer({ min: 2, max: 4 }).chain((n) => {
    const names = NAMES.slice(0, n) as unknown as string[];
    const perPath = <T>(a: fc.Arbitrary<T>) => fc.tuple(...PATHS.map(() => a));
    const perWorkload = <T>(a: fc.Arbitrary<T>) => fc.tuple(...names.map(() => a));
    return fc.record({
        owner: perPath(fc.constantFrom(...names, "external", "none")),
        shares: perPath(fc.subarray(names)),
        readers: perPath(fc.subarray(names, { minLength: 1 })),
        reads: perWorkload(fc.subarray([...PATHS], { maxLength: 3 })),
        seeds: perWorkload(fc.boolean()),
        templates: perWorkload(fc.boolean()),
        extra: perWorkload(fc.subarray(["update", "delete", "list"])),
        mutation: (() => {
            const m = fc.record({
                kind: fc.constantFrom(...kinds),
                who: fc.nat({ max: n - 1 }),
                path: fc.constantFrom(...PATHS),
                flag: fc.boolean(),
            });
            return always ? m : fc.option(m, { freq: 2, nil: undefined });
        })(),
    }).map((g) => build(names, g));
});

function build(names: string[], g: {
    owner: string[];
    shares: string[][];
    readers: string[][];
    reads: string[][];
    seeds: boolean[];
    templates: boolean[];
    extra: string[][];
    mutation?: Mutation;
}): GenStack {
    const ownerOf = (p: string) => g.owner[PATHS.indexOf(p as (typeof PATHS)[number])];
    const workloads: GenWorkload[] = names.map((name, i) => {
        const owned = [`${name}/own`, ...PATHS.filter((p) => ownerOf(p) === name)];
        const secrets: Entry[] = owned.map((p) => ({
            path: p,
            sharedWith: p.endsWith("/own") ? [] : g.shares[PATHS.indexOf(p as (typeof PATHS)[number])].filter((r) => r !== name),
            template: g.templates[i],
        }));
        for (const p of g.reads[i]) {
            const o = ownerOf(p);
            if (names.includes(o) && o !== name) secrets.push({ path: p, from: o, sharedWith: [], template: g.templates[i] });
            if (o === "external") secrets.push({ path: p, sharedWith: [], template: false });
        }
        const seed: Entry[] = g.seeds[i] ? [{ path: owned[0], sharedWith: [] }] : [];
        return { name, secrets, seed, extra: g.extra[i], policies: ["default"] };
    });
    const external = PATHS
        .filter((p) => ownerOf(p) === "external")
        .map((p) => ({ path: p as string, readers: g.readers[PATHS.indexOf(p)] }));
    const m = g.mutation;
    if (m !== undefined) {
        const w = workloads[m.who];
        const victim = names.find((x) => x !== w.name) ?? w.name;
        if (m.kind === "claim") w.secrets.push({ path: m.path, sharedWith: [] });
        if (m.kind === "wrongFrom") w.secrets.push({ path: m.path, from: victim, sharedWith: [] });
        if (m.kind === "seedOther") w.seed.push({ path: `${victim}/own`, sharedWith: [] });
        if (m.kind === "policy") w.policies = ["default", `aks-vault.dev.${victim}`];
        if (m.kind === "root") w.policies = [" Root"];
        if (m.kind === "template") w.secrets.push({ path: `${w.name}/own`, sharedWith: [], template: true, templatePath: `${victim}/own` });
        if (m.kind === "extraOnGrant") w.extra = ["update", "delete"];
        // Issue 22: the same role as Vault stores it; '*' on its own entry (with or without the
        // platform's exemption) after a grant; a platform or another team's config secret in a seed;
        // a namespace every careless pod shares.
        if (m.kind === "roleCase") w.role = victim.toUpperCase();
        if (m.kind === "wildcard") w.wildcard = true;
        if (m.kind === "platformSecret") w.secretConfig = PLATFORM_KEYS[m.who % PLATFORM_KEYS.length];
        if (m.kind === "otherSecret") w.secretConfig = `${victim}Key`;
        if (m.kind === "reservedNamespace") w.namespace = ["default", "kube-system", "vault"][m.who % 3];
    }
    const platform = { wildcardWorkloads: m?.kind === "wildcard" && m.flag ? [workloads[m.who].name] : [] };
    return { workloads, external, platform };
}

/** The raw settings: the lab's cluster, Vault and KV, these workloads instead of busybox. */
function rawOf(s: GenStack): Record<string, any> {
    const raw = labRaw();
    raw.kv.external = s.external;
    raw.platform = s.platform;
    raw.workloads = s.workloads.map((w) => ({
        name: w.name,
        ...(w.role === undefined ? {} : { role: w.role }),
        ...(w.wildcard ? { namespace: "*", createNamespace: false, allowWildcard: true } : { namespace: w.namespace ?? w.name }),
        serviceAccount: w.name,
        policies: w.policies,
        extraCapabilities: w.extra,
        secrets: w.secrets.map((e, i) => ({
            file: `f${i}`,
            path: e.path,
            ...(e.from === undefined ? {} : { from: e.from }),
            ...(e.sharedWith.length > 0 ? { sharedWith: e.sharedWith } : {}),
            ...(e.template
                ? { template: `{{ with secret "secret/data/${e.templatePath ?? e.path}" }}{{ .Data.data.k }}{{ end }}` }
                : { key: "k" }),
        })),
        // Each seed also takes a value from the workload's own config secret (or the attack's key).
        seed: w.seed.map((e) => ({
            path: e.path,
            sharedWith: e.sharedWith,
            values: { k: { random: { length: 16 } }, c: { secretConfig: w.secretConfig ?? `${w.name}Key` } },
        })),
        ...(w.wildcard ? {} : { deployment: {} }),
    }));
    return raw;
}

/**
 * The grant rules of docs/security.md, restated from the config: a workload owns a path it
 * declares (secrets without `from`, or seed) when no other workload declares it and it is not
 * external; it reads an owned path, an external path listing it, or another's owned path the owner
 * shares with it and it names with `from`.
 */
function allowed(s: GenStack) {
    const external = new Map(s.external.map((e) => [e.path, e.readers]));
    const ownEntries = (w: (typeof s.workloads)[number]) => [...w.secrets.filter((e) => e.from === undefined), ...w.seed];
    const claimers = (p: string) => new Set(s.workloads.filter((w) => ownEntries(w).some((e) => e.path === p)).map((w) => w.name));
    const owns = (w: string, p: string) => !external.has(p) && claimers(p).size === 1 && claimers(p).has(w);
    const reads = (w: GenWorkload, p: string) => {
        if (owns(w.name, p)) return true;
        if (external.get(p)?.includes(w.name)) return true;
        return w.secrets.some((e) => e.path === p && e.from !== undefined && owns(e.from, p)
            && s.workloads.some((o) => o.name === e.from && ownEntries(o).some((x) => x.path === p && x.sharedWith.includes(w.name))));
    };
    return { owns, reads };
}

interface Rule { path: string; caps: string[] }

/** `path "..." { capabilities = [...] }` blocks of an HCL policy. */
function parseHcl(text: string): Rule[] {
    const rules: Rule[] = [];
    for (const m of text.matchAll(/path\s+"([^"]*)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g)) {
        rules.push({ path: m[1], caps: [...m[2].matchAll(/"([^"]*)"/g)].map((c) => c[1]) });
    }
    // Anything else in the text would be a rule this evaluator does not understand.
    assert.equal(
        text.replace(/path\s+"([^"]*)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g, "").trim(),
        "",
        `unparsed policy text: ${text}`,
    );
    return rules;
}

/** The capabilities a policy gives on a request path: the exact rule, else the most specific glob. */
function capabilities(rules: Rule[], request: string): string[] {
    const exact = rules.filter((r) => !r.path.includes("*") && !r.path.split("/").includes("+") && r.path === request);
    if (exact.length > 0) return [...new Set(exact.flatMap((r) => r.caps))];
    const globs = rules.filter((r) => {
        const re = new RegExp(`^${r.path
            .split("/")
            .map((seg) => (seg === "+" ? "[^/]+" : seg.replace(/[.?^${}()|[\]\\]/g, "\\$&").replace(/\*$/, ".*")))
            .join("/")}$`);
        return re.test(request);
    }).sort((a, b) => b.path.length - a.path.length);
    return globs[0]?.caps ?? [];
}

describe("property: no workload's policy reaches a path it neither owns nor was granted", () => {
    for (const [what, arb, min] of [
        ["generated multi-workload stacks", stackOf(KINDS, false), 5],
        // Each run carries one of issue 22's attacks, so each class is tried about five times.
        ["stacks each carrying one of issue 22's attacks", stackOf(ISSUE_22, true), 1],
    ] as const) it(`holds for ${what} (${25 * SCALE} runs), and most stacks are decided both ways`, async () => {
        let accepted = 0;
        let refused = 0;
        await fc.assert(fc.asyncProperty(arb, async (s) => {
            const raw = rawOf(s);
            let settings;
            try {
                settings = parseSettings(raw);
            } catch (err) {
                if (!(err instanceof SettingsError)) throw err;
                refused++;
                return;
            }
            accepted++;
            const cloud = await useCloud();
            const one = (type: string, name: string): RecordedResource => cloud.one(type, name);
            buildProgram(settings, { vaultToken: "value-of:vaultToken", secretConfig: (key) => `value-of:${key}` });
            await settle(cloud);
            // Config secrets: no seed carries a platform secret, and each key's value reaches one workload's seeds only.
            const carriers = new Map<string, Set<string>>();
            for (const w of s.workloads) {
                for (const e of w.seed) {
                    const data = String(one("vault:kv/secretV2:SecretV2", childNames.seed(w.name, e.path)).inputs.dataJson);
                    for (const [, key] of data.matchAll(/value-of:([A-Za-z0-9]+)/g)) {
                        assert.ok(!PLATFORM_KEYS.includes(key), `${w.name} seeds the platform's ${key}: ${JSON.stringify(s)}`);
                        carriers.set(key, new Set([...(carriers.get(key) ?? []), w.name]));
                    }
                }
            }
            for (const [key, ws] of carriers) assert.equal(ws.size, 1, `${key} is seeded by ${[...ws].join(", ")}`);
            // Roles: no two identities are one role as Vault stores it, none lands in a reserved namespace.
            const roles = s.workloads.map((w) => String(one(ROLE, `${w.name}-role`).inputs.roleName).toLowerCase());
            assert.equal(new Set(roles).size, roles.length, `roles ${roles.join(", ")}: ${JSON.stringify(s)}`);
            const { owns, reads } = allowed(s);
            for (const w of s.workloads) {
                const policy = one("vault:index/policy:Policy", `${w.name}-policy`).inputs;
                const rules = parseHcl(String(policy.policy));
                for (const r of rules) {
                    assert.match(r.path, /^secret\/(data|metadata)\//, `${w.name}: a rule outside the KV mount: ${r.path}`);
                }
                for (const p of [...PATHS, ...NAMES.map((x) => `${x}/own`)]) {
                    const data = capabilities(rules, `secret/data/${p}`);
                    const list = capabilities(rules, `secret/metadata/${p}/`);
                    if (data.includes("read")) assert.ok(reads(w, p), `${w.name} may read ${p}: ${JSON.stringify(s)}`);
                    for (const c of data.filter((x) => x !== "read")) {
                        assert.ok(owns(w.name, p), `${w.name} gets ${c} on ${p} without owning it: ${JSON.stringify(s)}`);
                    }
                    if (list.length > 0) assert.ok(owns(w.name, p), `${w.name} lists under ${p} without owning it`);
                    for (const c of [...data, ...list]) {
                        assert.ok(CAPS.includes(c as (typeof CAPS)[number]) && c !== "sudo", `${w.name}: capability ${c}`);
                    }
                }
                const role = one(ROLE, `${w.name}-role`).inputs;
                const ns = (role.boundServiceAccountNamespaces as string[])[0];
                assert.ok(ns !== "default" && !ns.startsWith("kube-") && ns !== "vault", `${w.name} in namespace ${ns}`);
                // A '*' role (the platform's exemption) admits pods no owner named: it reads only its own and external paths.
                if (ns === "*" || (role.boundServiceAccountNames as string[]).includes("*")) {
                    assert.ok(s.platform.wildcardWorkloads.includes(w.name), `${w.name} widened itself to *`);
                    for (const r of rules) {
                        if (!r.path.startsWith("secret/data/")) continue;
                        const p = r.path.slice("secret/data/".length);
                        assert.ok(owns(w.name, p) || s.external.some((e) => e.path === p && e.readers.includes(w.name)),
                            `the '*' role ${w.name} reads ${p}, granted by another team: ${JSON.stringify(s)}`);
                    }
                }
                assert.deepEqual(
                    [...(role.tokenPolicies as string[])].sort(),
                    [`aks-vault.dev.${w.name}`, "default"].sort(),
                    `${w.name}'s role`,
                );
                if (w.wildcard) continue; // no deployment for a '*' role
                const annotations = ((one("kubernetes:apps/v1:Deployment", `${w.name}-deploy`).inputs.spec as any)
                    .template.metadata.annotations) as Record<string, string>;
                for (const [k, v] of Object.entries(annotations)) {
                    const paths = k.includes("agent-inject-template-")
                        ? [...v.matchAll(/secret\s+"([^"]+)"/g)].map((m) => m[1])
                        : k.includes("agent-inject-secret-") ? [v] : [];
                    for (const p of paths) {
                        const inner = p.replace(/^secret\/data\//, "");
                        assert.ok(p.startsWith("secret/data/") && reads(w, inner), `${w.name}'s pod reads ${p}`);
                    }
                }
            }
        }), { numRuns: 25 * SCALE, seed: Number(process.env.FUZZ_SEED ?? 20261130) });
        // The generator must exercise both outcomes, or the property says little.
        assert.ok(accepted >= min, `only ${accepted} of ${accepted + refused} generated stacks were accepted`);
        assert.ok(refused >= 5, `only ${refused} of ${accepted + refused} generated stacks were refused`);
    });
});
