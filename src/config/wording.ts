/**
 * The one place zod's issues become words. A settings problem reads
 * `<key>: found <value>; expected <what>`, so every `expected` here is the noun phrase a person
 * would write after "expected" ("a number of at least 1", "one of \"Fail\" or \"Ignore\""), never
 * zod's own text ("Invalid option: expected one of …", "a object").
 *
 * Passed to `safeParse` as the per-parse error map: a message given in the schema itself (a regex's
 * "a DNS-1123 label …") takes precedence, as zod documents
 * (https://zod.dev/error-customization#error-precedence), and is written in the same form.
 */
import { z } from "zod";

type Primitive = string | number | bigint | boolean | null | undefined | symbol;

const TYPE_NOUNS: Record<string, string> = {
    string: "a string",
    number: "a number",
    int: "a whole number",
    boolean: "true or false",
    array: "a list",
    tuple: "a list",
    object: "a map of settings",
    record: "a map of keys to values",
};

/** `"a"`, `"a" or "b"`, `one of "a", "b" or "c"`. */
export function oneOf(values: ReadonlyArray<Primitive>): string {
    const quoted = values.map((v) => (typeof v === "string" ? JSON.stringify(v) : String(v)));
    if (quoted.length <= 1) return quoted[0] ?? "nothing (no value is accepted)";
    const list = `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
    return quoted.length === 2 ? list : `one of ${list}`;
}

function plural(n: number | bigint, one: string, many: string): string {
    return `${n} ${n === 1 || n === BigInt(1) ? one : many}`;
}

function bound(origin: string, limit: number | bigint, inclusive: boolean | undefined, side: "min" | "max"): string {
    switch (origin) {
        case "string":
            if (side === "min" && limit === 1) return "a non-empty string";
            return `a string of ${side === "min" ? "at least" : "at most"} ${plural(limit, "character", "characters")}`;
        case "array":
        case "set":
            if (side === "min" && limit === 1) return "a list with at least one item";
            return `a list of ${side === "min" ? "at least" : "at most"} ${plural(limit, "item", "items")}`;
        default:
            if (side === "min") return inclusive === false ? `a number above ${limit}` : `a number of at least ${limit}`;
            return inclusive === false ? `a number below ${limit}` : `a number of at most ${limit}`;
    }
}

/** A raw issue as zod hands it to an error map: the final issue's fields, `message` and `path` not yet set. */
type RawIssue = z.core.$ZodRawIssue;

/** What was expected, as a noun phrase; undefined leaves zod's message (never reached for our schema). */
function expectation(issue: RawIssue): string | undefined {
    switch (issue.code) {
        case "invalid_type": {
            const noun = TYPE_NOUNS[issue.expected] ?? `a value of type ${issue.expected}`;
            return issue.input === undefined ? `${noun} (this setting is required)` : noun;
        }
        case "invalid_value":
            return oneOf(issue.values);
        case "too_small":
            return bound(issue.origin, issue.minimum, issue.inclusive, "min");
        case "too_big":
            return bound(issue.origin, issue.maximum, issue.inclusive, "max");
        case "invalid_format":
            return issue.format === "url" ? "a URL" : `a value in ${issue.format} format`;
        case "not_multiple_of":
            return `a multiple of ${issue.divisor}`;
        case "invalid_union":
            if (issue.discriminator !== undefined && Array.isArray(issue.options)) return oneOf(issue.options as Primitive[]);
            return "a value of one of the accepted forms (see docs/configuration.md)";
        case "invalid_key":
            return "keys of the documented form";
        case "invalid_element":
            return "items of the documented form";
        default:
            return undefined;
    }
}

/** The per-parse error map: pass as `schema.safeParse(raw, { error: settingsErrorMap })`. */
export const settingsErrorMap: z.core.$ZodErrorMap = (issue) => expectation(issue);

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}

/** The known key closest to `key` (case-insensitive), if one is close enough to be a typo. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
    const k = key.toLowerCase();
    let best: { name: string; d: number } | undefined;
    for (const name of known) {
        const n = name.toLowerCase();
        const d = n === k ? 0 : n.startsWith(k) || k.startsWith(n) ? Math.abs(n.length - k.length) : distance(n, k);
        if (best === undefined || d < best.d) best = { name, d };
    }
    return best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 4)) ? best.name : undefined;
}
