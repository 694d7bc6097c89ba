/**
 * Least-privilege Vault policy text for a workload's declared KV v2 secrets. Pure.
 */

export type ExtraCapability = "create" | "update" | "patch" | "delete" | "list";

/** The API path of a KV v2 secret: `<mount>/data/<path>`. */
export function kvDataPath(mount: string, path: string): string {
    return `${mount}/data/${path}`;
}

/**
 * One `path` block per distinct secret path, `read` only. Extra capabilities go only on `owned`
 * paths (default: all of `paths`): a path read from another workload or from outside this program
 * stays read-only. `list` goes on the metadata path, which is where KV v2 answers LIST; other
 * extra capabilities go on the data path.
 */
export function renderKvPolicy(
    mount: string,
    paths: readonly string[],
    extra: readonly ExtraCapability[] = [],
    owned: ReadonlySet<string> = new Set(paths),
): string {
    const unique = [...new Set(paths)].sort();
    const caps = (p: string) => ["read", ...(owned.has(p) ? extra.filter((c) => c !== "list") : [])];
    const blocks = unique.map(
        (p) =>
            `path "${kvDataPath(mount, p)}" {\n  capabilities = [${caps(p)
                .map((c) => `"${c}"`)
                .join(", ")}]\n}\n`,
    );
    if (extra.includes("list")) {
        // Vault checks a LIST against the path with a trailing '/' (the keys under it).
        for (const p of unique) if (owned.has(p)) blocks.push(`path "${mount}/metadata/${p}/" {\n  capabilities = ["list"]\n}\n`);
    }
    // Vault refuses an empty policy text ("'policy' parameter not supplied or empty"), which made
    // the whole `up` fail for a workload that reads no KV path (found by test/e2e/day2.ts). A
    // comment is a valid policy that grants nothing.
    if (blocks.length === 0) return "# No KV path: this workload reads nothing from the KV mount.\n";
    return blocks.join("\n");
}
