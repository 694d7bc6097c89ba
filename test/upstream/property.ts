/**
 * The property test's stacks (issue 22, Go half: test/upstream/acl/property_test.go): seeded,
 * deterministic, bounded random multi-team stack files, grouped so that the stacks of a group share
 * one Vault (one `vault.address`) the way stacks of different teams or environments do. export.ts
 * renders each under the mock cloud as its own Pulumi stack; the Go test reads the stack files
 * written here with its own YAML parser and asks Vault's ACL what each team's rendered identity may
 * do in that shared Vault.
 *
 * Every stack is meant to be accepted (the program's refusals are the TypeScript property test's
 * subject, test/program/isolation.property.test.ts): the generator follows the documented rules
 * (docs/security.md), and a refusal fails the fixtures step. What it varies is what could leak:
 * - Pulumi stack names that collided under the old policy names (`dev` and `dev-eu` with workloads
 *   `eu-web` and `web`: both `aks-vault-dev-eu-web`), and names that differ only in case (`Dev`
 *   and `dev`: Vault lower-cases policy names);
 * - teams that own one to three paths, nested ones among them (`web`, `web/db`, `web/db/ro`),
 *   share some with others (`sharedWith`, read with `from`), ask for extra capabilities on their
 *   own, share a namespace, read `kv.external` paths;
 * - a team whose role binds `*` (its own `allowWildcard` and the platform's
 *   `platform.wildcardWorkloads`), which no grant reaches;
 * - platform-reserved namespaces the teams avoid, method kubernetes or jwt, one KV mount shared by
 *   the group's stacks or one each.
 *
 * Pure: no Pulumi, no program import.
 */
import { stringify } from "yaml";

/** One generated stack file. */
export interface GeneratedStack {
    /** Fixture directory name and stack file base name: `g<group>-<index>`. */
    id: string;
    /** The Pulumi stack the program runs as (generated policy names derive from it). */
    pulumiStack: string;
    /** The stack file (YAML). */
    yaml: string;
}

/** mulberry32: a small seeded PRNG (deterministic across Node versions). */
function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const TEAMS = ["web", "api", "pay", "ledger", "reports", "search"] as const;
const LEAVES = ["db", "api", "cfg"] as const;
const BASES = ["dev", "prod", "qa"] as const;
const RESERVED = ["monitoring", "ingress", "platform-tools"] as const;

interface Entry { path: string; sharedWith: string[] }
interface Team {
    name: string;
    namespace: string;
    createNamespace: boolean;
    wildcard: boolean;
    own: Entry[];
    seeded: string[];
    reads: Array<{ path: string; from: string }>;
    external: string[];
    extra: string[];
}

/**
 * `groups` groups of two or three stacks each (one Vault per group), from `seed`. The same seed
 * gives the same stacks.
 */
export function generateStacks(seed: number, groups: number): GeneratedStack[] {
    const rnd = prng(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
    const chance = (p: number) => rnd() < p;
    const subset = <T>(xs: readonly T[], p: number): T[] => xs.filter(() => chance(p));
    const shuffle = <T>(xs: readonly T[]): T[] => {
        const a = [...xs];
        for (let k = a.length - 1; k > 0; k--) {
            const j = int(k + 1);
            [a[k], a[j]] = [a[j], a[k]];
        }
        return a;
    };

    const out: GeneratedStack[] = [];
    for (let g = 0; g < groups; g++) {
        const base = BASES[g % BASES.length];
        // Stack names whose old policy names collide (base and base-eu), or differ only in case.
        const names = [base, `${base}-eu`];
        if (chance(0.5)) names.push(`${base[0].toUpperCase()}${base.slice(1)}`);
        const sharedMount = chance(0.5);
        const teamsOf: string[][] = names.map(() => shuffle(TEAMS).slice(0, 2 + int(3)));
        // `<Base>` has a team of `<base>` too: without the case escape both would name
        // `aks-vault.<base>.<team>` once Vault lower-cases it.
        if (teamsOf.length > 2 && !teamsOf[2].some((t) => teamsOf[0].includes(t))) teamsOf[2][0] = teamsOf[0][0];
        // In `<base>`, add `eu-<team>` for some team of `<base>-eu`: legacy names
        // `aks-vault-<base>-eu-<team>` for both.
        for (const t of teamsOf[1]) {
            if (chance(0.6) && teamsOf[0].length < 5) teamsOf[0].push(`eu-${t}`);
        }
        names.forEach((stack, i) => {
            out.push({
                id: `g${g}-${i}`,
                pulumiStack: stack,
                yaml: stackYaml({ g, i, stack, teams: teamsOf[i], sharedMount, int, pick, chance, subset, shuffle }),
            });
        });
    }
    return out;
}

function stackYaml(o: {
    g: number; i: number; stack: string; teams: string[]; sharedMount: boolean;
    int: (n: number) => number; pick: <T>(xs: readonly T[]) => T; chance: (p: number) => boolean;
    subset: <T>(xs: readonly T[], p: number) => T[]; shuffle: <T>(xs: readonly T[]) => T[];
}): string {
    const { g, i, teams, int, pick, chance, subset } = o;
    const method = chance(0.3) ? "jwt" : "kubernetes";
    const reserved = subset(RESERVED, 0.5);
    const kvPath = o.sharedMount ? "secret" : `kv-${g}-${i}`;
    // At most one team binds '*' (never the first: someone must share with someone); method
    // kubernetes only (a JWT role's subject names one service account: '*' is refused with jwt).
    const wildcardAt = method === "kubernetes" && teams.length > 2 && chance(0.4) ? 1 + int(teams.length - 1) : -1;

    const built: Team[] = teams.map((name, k) => {
        const leaves = o.shuffle(LEAVES).slice(0, 1 + int(3));
        const paths = leaves.map((l) => `${name}/${l}`);
        // Nested paths: the team's own prefix, or a child under one of its paths.
        if (chance(0.3)) paths.push(name);
        if (chance(0.3)) paths.push(`${paths[0]}/ro`);
        return {
            name,
            namespace: `${name}-ns`,
            createNamespace: true,
            wildcard: k === wildcardAt,
            own: paths.map((p) => ({ path: p, sharedWith: [] })),
            seeded: paths.filter(() => chance(0.5)),
            reads: [],
            external: [],
            extra: subset(["update", "delete", "list"], 0.3),
        };
    });
    // Two non-wildcard teams may share a namespace (the second does not create it).
    const plain = built.filter((t) => !t.wildcard);
    if (plain.length > 2 && chance(0.4)) {
        plain[2].namespace = plain[1].namespace;
        plain[2].createNamespace = false;
    }
    // Grants: an owner shares one of its paths with another non-wildcard team, which reads it
    // with `from`; sometimes one it does not read (a grant never used).
    for (const owner of built) {
        for (const e of owner.own) {
            if (!chance(0.35)) continue;
            const reader = pick(plain.filter((t) => t.name !== owner.name));
            if (reader === undefined) continue;
            e.sharedWith.push(reader.name);
            if (chance(0.85)) reader.reads.push({ path: e.path, from: owner.name });
        }
    }
    // A path kept outside the program, with some readers.
    const readers = subset(plain.map((t) => t.name), 0.5);
    const external = readers.length > 0 ? [{ path: `legacy/${g}-${o.i}`, readers }] : [];
    for (const e of external) {
        for (const r of e.readers) built.find((t) => t.name === r)?.external.push(e.path);
    }
    // `list` on a path with another's path under it is refused: teams own only `<name>...` paths,
    // and no team name is another's path prefix followed by '/', so list is always allowed here.

    const wildcard = built.filter((t) => t.wildcard).map((t) => t.name);
    const config: Record<string, unknown> = {
        "aks-vault:cluster": {
            mode: "create",
            name: `aks-g${g}-${o.i}`,
            resourceGroupName: `rg-aks-g${g}-${o.i}`,
            location: "westeurope",
            userPools: [{ name: "user" }],
        },
        "aks-vault:vault": { address: `https://vault-g${g}.example.com:8200` },
        "aks-vault:injector": { namespace: "vault-injector", chartVersion: "0.34.1", replicas: 2 },
        "aks-vault:kubernetesAuth": { method, path: `aks-g${g}-${o.i}` },
        "aks-vault:kv": { path: kvPath, ...(external.length > 0 ? { external } : {}) },
        "aks-vault:platform": {
            ...(reserved.length > 0 ? { reservedNamespaces: reserved } : {}),
            ...(wildcard.length > 0 ? { wildcardWorkloads: wildcard } : {}),
        },
        "aks-vault:workloads": built.map((t) => {
            const secrets = [
                ...t.own.map((e) => ({ path: e.path, key: "k", ...(e.sharedWith.length > 0 ? { sharedWith: e.sharedWith } : {}) })),
                ...t.reads.map((r) => ({ path: r.path, key: "k", from: r.from })),
                ...t.external.map((p) => ({ path: p, key: "k" })),
            ].map((s, n) => ({ file: `f${n}.txt`, ...s }));
            return {
                name: t.name,
                namespace: t.wildcard ? "*" : t.namespace,
                serviceAccount: t.name,
                ...(t.wildcard ? { allowWildcard: true, createNamespace: false } : t.createNamespace ? {} : { createNamespace: false }),
                ...(t.extra.length > 0 ? { extraCapabilities: t.extra } : {}),
                secrets,
                ...(t.seeded.length > 0
                    ? { seed: t.seeded.map((p) => ({ path: p, values: { k: { random: { length: 16 } }, owner: { value: t.name } } })) }
                    : {}),
                ...(t.wildcard ? {} : { deployment: { image: "busybox:1.36" } }),
            };
        }),
    };
    return `# Generated by test/upstream/property.ts (stack ${o.stack}); do not edit.\n${stringify({ config })}`;
}
