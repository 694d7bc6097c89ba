/**
 * Reads the `path` rules out of a Vault policy document: HCL as Vault writes it
 * (`path "x" { capabilities = [...] }`) or the JSON form Vault also accepts. Only `path` blocks
 * and their `capabilities` matter to the policies here; anything else is ignored. No HCL library
 * is installed, and the subset Vault policies use is small and regular.
 */

export interface PathRule {
    path: string;
    capabilities: string[];
}

const BLOCK = /path\s+"((?:[^"\\]|\\.)*)"\s*\{([^{}]*)\}/g;
const CAPS = /capabilities\s*=\s*\[([^\]]*)\]/;

function stripComments(hcl: string): string {
    // Line comments (# and //) and block comments, outside quoted strings.
    return hcl.replace(/"(?:[^"\\]|\\.)*"|\/\*[\s\S]*?\*\/|(?:#|\/\/)[^\n]*/g, (m) => (m.startsWith('"') ? m : ""));
}

function fromJson(doc: unknown): PathRule[] | undefined {
    if (typeof doc !== "object" || doc === null || !("path" in doc)) return undefined;
    const paths = (doc as { path: unknown }).path;
    if (typeof paths !== "object" || paths === null) return undefined;
    return Object.entries(paths as Record<string, unknown>).map(([path, body]) => {
        const caps = typeof body === "object" && body !== null ? (body as { capabilities?: unknown }).capabilities : undefined;
        return { path, capabilities: Array.isArray(caps) ? caps.map(String) : [] };
    });
}

/** The rules of a policy, or undefined when the text has no recognisable `path` rule. */
export function pathRules(text: string): PathRule[] | undefined {
    const trimmed = text.trim();
    if (trimmed.startsWith("{")) {
        try {
            return fromJson(JSON.parse(trimmed));
        } catch {
            // Not JSON after all: fall through to HCL.
        }
    }
    const rules: PathRule[] = [];
    for (const m of stripComments(text).matchAll(BLOCK)) {
        const caps = CAPS.exec(m[2])?.[1] ?? "";
        rules.push({ path: m[1], capabilities: [...caps.matchAll(/"([^"]*)"/g)].map((c) => c[1]) });
    }
    return rules.length > 0 ? rules : undefined;
}

/** Whether a policy path uses Vault's globs: a trailing `*` (prefix) or a `+` segment. */
export function isGlob(path: string): boolean {
    return path.includes("*") || path.split("/").includes("+");
}

/** Whether a policy path (with Vault's glob rules) matches a concrete API path. */
export function pathMatches(pattern: string, concrete: string): boolean {
    const re = pattern
        .split("/")
        .map((seg) => (seg === "+" ? "[^/]+" : seg.replace(/[.?^${}()|[\]\\+]/g, "\\$&").replace(/\*/g, ".*")))
        .join("/");
    return new RegExp(`^${re}$`).test(concrete);
}
