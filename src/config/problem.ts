/**
 * The one problem type of every validation layer (the schema, the cross-field rules, the trust
 * rules, the deploy rules, the stack config around the settings), and how a found value is shown
 * in it: short, and never a secret. Pure.
 */

export interface SettingsProblem {
    /** Dotted key, as in the stack config: `workloads[0].secrets[1].file`. */
    key: string;
    /** The value found, rendered short; `<secret>` for values that may hold a credential. */
    found: string;
    expected: string;
}

/** Keys under which a found value is never echoed. */
const SECRET_KEY = /(^|\.)(values|value|token|password|secret)(\.|\[|$)/i;

/** Property names whose values are never echoed, wherever they sit in a rendered value. */
const SECRET_NAME = /^(values|value|token|password|secret)$/i;

/** A copy with every secret-named property replaced, so a misplaced `{value: ...}` is not echoed either. */
function redact(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redact);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) ? "<secret>" : redact(v)]));
    }
    return value;
}

/** A found value as a problem shows it: JSON, at most 80 characters, secrets and URL credentials replaced. */
function render(key: string, value: unknown): string {
    if (SECRET_KEY.test(key)) return "<secret>";
    if (value === undefined) return "nothing";
    let text: string;
    try {
        text = JSON.stringify(redact(value)) ?? typeof value;
    } catch {
        text = typeof value; // cycles, BigInt: not config a YAML file can hold
    }
    // A URL's user:password@ is a credential wherever it appears (vault.address, a chart repository).
    // Anchored on "://", not on the scheme: `[a-z][a-z0-9+.-]*://` tried at every position of a
    // long run of letters is quadratic (issue 22: 30 s for a 100 KB name).
    text = text.replace(/:\/\/[^/?#@\s"]*@/g, "://<credentials>@");
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The problem at `key`, with the value found there rendered (never a secret one). */
export function problem(key: string, found: unknown, expected: string): SettingsProblem {
    return { key, found: render(key, found), expected };
}

/** Collects problems, rendering each found value (never a secret one). */
export function problemList(): { problems: SettingsProblem[]; add: (key: string, found: unknown, expected: string) => void } {
    const problems: SettingsProblem[] = [];
    return { problems, add: (key, found, expected) => problems.push(problem(key, found, expected)) };
}
