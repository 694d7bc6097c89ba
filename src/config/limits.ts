/**
 * Length limits on every string the settings carry, values and object keys alike, checked before
 * any other rule: the schema's regular expressions and the cross-field rules then only ever see
 * strings of a bounded length (issue 22: a 100 KB name kept validation busy for tens of seconds).
 * Pure; `parseSettings` reports what this finds and stops there.
 */

/** The longest string anywhere in the settings, unless a key below allows more. */
export const MAX_STRING = 1024;

/**
 * Keys whose values are longer by nature, by the last property name on their path: a CA bundle,
 * a Consul Template body, a literal seed value a portal passes, a container command's argument.
 */
export const LONGER_STRINGS: Readonly<Record<string, number>> = {
    caCertPem: 65536,
    template: 16384,
    value: 16384,
    command: 4096,
    chartPath: 4096,
};

/** A string over its limit: where (path parts), how long, and the limit. */
interface Oversize {
    path: Array<string | number>;
    length: number;
    limit: number;
    /** True when the object key itself is too long (the path then ends at its parent). */
    isKey: boolean;
}

/** The limit for a string value at `path`: by the nearest property name on it. */
function limitAt(path: ReadonlyArray<string | number>): number {
    for (let i = path.length - 1; i >= 0; i--) {
        const p = path[i];
        if (typeof p === "string") return LONGER_STRINGS[p] ?? MAX_STRING;
    }
    return MAX_STRING;
}

/** Every string value or object key longer than its limit, in one walk (linear in the input). */
export function oversizeStrings(raw: unknown): Oversize[] {
    const out: Oversize[] = [];
    const seen = new Set<object>();
    const walk = (v: unknown, path: Array<string | number>) => {
        if (typeof v === "string") {
            const limit = limitAt(path);
            if (v.length > limit) out.push({ path, length: v.length, limit, isKey: false });
            return;
        }
        if (typeof v !== "object" || v === null || seen.has(v)) return;
        seen.add(v);
        if (Array.isArray(v)) {
            for (let i = 0; i < v.length; i++) walk(v[i], [...path, i]);
            return;
        }
        for (const [k, x] of Object.entries(v)) {
            if (k.length > MAX_STRING) {
                out.push({ path, length: k.length, limit: MAX_STRING, isKey: true });
                continue;
            }
            walk(x, [...path, k]);
        }
    };
    walk(raw, []);
    return out;
}
