/**
 * Turns raw settings (stack config or a portal's object) into typed `Settings`, or fails with
 * every problem at once, each naming the key, the value found and what is expected.
 */
import { z } from "zod";
import { Settings, settingsSchema } from "./schema";

export interface SettingsProblem {
    /** Dotted key, as in the stack config: `workloads[0].secrets[1].file`. */
    key: string;
    /** The value found, rendered short; `<secret>` for values that may hold a credential. */
    found: string;
    expected: string;
}

/** Thrown before any resource is registered when the settings are not valid. */
export class SettingsError extends Error {
    constructor(public readonly problems: SettingsProblem[]) {
        super(
            `invalid stack settings (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
                problems.map((p) => `  - ${p.key}: found ${p.found}; expected ${p.expected}`).join("\n"),
        );
        this.name = "SettingsError";
    }
}

export function formatKey(path: ReadonlyArray<PropertyKey>): string {
    let out = "";
    for (const part of path) {
        if (typeof part === "number") out += `[${part}]`;
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

/** Keys under which a found value is never echoed. */
const SECRET_KEY = /(^|\.)(values|value|token|password|secret)(\.|\[|$)/i;

function render(key: string, value: unknown): string {
    if (SECRET_KEY.test(key)) return "<secret>";
    if (value === undefined) return "nothing";
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Cross-field rules the per-field schema cannot express. */
function crossFieldProblems(s: Settings): SettingsProblem[] {
    const problems: SettingsProblem[] = [];
    const add = (key: string, found: unknown, expected: string) => problems.push({ key, found: render(key, found), expected });

    if (s.cluster.mode === "create") {
        const pools = [s.cluster.systemPool, ...s.cluster.userPools];
        pools.forEach((p, i) => {
            const key = i === 0 ? "cluster.systemPool" : `cluster.userPools[${i - 1}]`;
            if (p.minCount > p.maxCount) add(`${key}.minCount`, p.minCount, `at most maxCount (${p.maxCount})`);
            if (p.priority !== "Spot" && p.evictionPolicy !== undefined) add(`${key}.evictionPolicy`, p.evictionPolicy, "unset unless priority is Spot");
            if (p.priority !== "Spot" && p.spotMaxPrice !== undefined) add(`${key}.spotMaxPrice`, p.spotMaxPrice, "unset unless priority is Spot");
        });
        if (s.cluster.systemPool.priority === "Spot") add("cluster.systemPool.priority", "Spot", "Regular (AKS refuses Spot system pools)");
        if (s.cluster.systemPool.minCount < 1) add("cluster.systemPool.minCount", s.cluster.systemPool.minCount, "at least 1 (the system pool cannot scale to zero)");
        const seen = new Set<string>();
        pools.forEach((p, i) => {
            if (seen.has(p.name)) add(i === 0 ? "cluster.systemPool.name" : `cluster.userPools[${i - 1}].name`, p.name, "a pool name used once");
            seen.add(p.name);
        });
    }

    const names = new Set<string>();
    const roles = new Set<string>();
    const identities = new Set<string>();
    s.workloads.forEach((w, i) => {
        const key = `workloads[${i}]`;
        if (names.has(w.name)) add(`${key}.name`, w.name, "a workload name used once");
        names.add(w.name);
        const role = w.role ?? w.name;
        if (roles.has(role)) add(`${key}.role`, role, "a Vault role name used once");
        roles.add(role);
        const identity = `${w.namespace}/${w.serviceAccount}`;
        if (identities.has(identity)) add(`${key}.serviceAccount`, identity, "one workload per namespace and service account");
        identities.add(identity);
        if (w.tokenMaxTtl !== undefined && w.tokenMaxTtl < w.tokenTtl) add(`${key}.tokenMaxTtl`, w.tokenMaxTtl, `at least tokenTtl (${w.tokenTtl})`);
        const files = new Set<string>();
        w.secrets.forEach((f, j) => {
            const fkey = `${key}.secrets[${j}]`;
            // The injector lower-cases file names (unless preserve-secret-case), so compare that way.
            if (files.has(f.file.toLowerCase())) add(`${fkey}.file`, f.file, "a file name used once per workload");
            files.add(f.file.toLowerCase());
            if (f.template !== undefined && (f.key !== undefined || f.prefix !== undefined)) {
                add(`${fkey}.template`, "template with key/prefix", "either template, or key with an optional prefix");
            }
            if (f.prefix !== undefined && f.key === undefined) add(`${fkey}.prefix`, f.prefix, "prefix only together with key");
            if (f.template !== undefined && !f.template.includes(".Data.data")) {
                add(`${fkey}.template`, f.template, "a Consul Template reading KV v2 data (.Data.data...)");
            }
        });
        const seeded = new Set<string>();
        w.seed.forEach((sd, j) => {
            if (seeded.has(sd.path)) add(`${key}.seed[${j}].path`, sd.path, "a seeded path used once per workload");
            seeded.add(sd.path);
            if (Object.keys(sd.values).length === 0) add(`${key}.seed[${j}].values`, {}, "at least one key to seed");
        });
        if (w.secrets.length === 0 && w.deployment !== undefined) {
            add(`${key}.secrets`, [], "at least one secret file for a workload with a deployment");
        }
    });
    return problems;
}

/** Parses and validates; throws `SettingsError` listing every problem. */
export function parseSettings(raw: unknown): Settings {
    const result = settingsSchema.safeParse(raw);
    if (!result.success) {
        throw new SettingsError(result.error.issues.map((issue) => toProblem(raw, issue)));
    }
    const problems = crossFieldProblems(result.data);
    if (problems.length > 0) throw new SettingsError(problems);
    return result.data;
}

function toProblem(raw: unknown, issue: z.core.$ZodIssue): SettingsProblem {
    if (issue.code === "unrecognized_keys") {
        const base = formatKey(issue.path);
        const keys = issue.keys.map((k) => (base === "(root)" ? k : `${base}.${k}`));
        return { key: keys.join(", "), found: "an unknown key", expected: "only the keys documented in Pulumi.yaml (a typo?)" };
    }
    const key = formatKey(issue.path);
    return { key, found: render(key, valueAt(raw, issue.path)), expected: issue.message };
}
