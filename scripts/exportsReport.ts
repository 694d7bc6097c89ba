/**
 * Who uses each exported name: `npx ts-node --transpile-only scripts/exportsReport.ts [--list]`.
 *
 * It reads every import of every TypeScript and JavaScript file of the repository (`import`,
 * `import type`, `export … from`, `export *`, `await import()` and `require()`, destructured,
 * through `Promise.all([...])`, or bound to a name whose properties are then read), follows
 * re-exports to the module that declares the name, and sorts each exported name of the production
 * folders (index.ts, src/, components/, policies/) by its callers:
 *
 * - `entry`: exported by a module the outside calls (ENTRY_MODULES);
 * - `outside`: imported by a production module of another folder;
 * - `folder`: imported only from its own folder (TypeScript has nothing narrower than `export`);
 * - `test-only`: imported only by tests, benchmarks, generators or examples;
 * - `dead`: imported nowhere.
 *
 * Regular expressions over the text, not TypeScript's parser: parsing the 1.5 MB the repository
 * holds costs about 1 CPU s, this about 0.05, so test/architecture.test.ts runs it on every
 * `npm test`. It relies on the house style (a statement starts its line; no `import x = require`);
 * a dynamic import whose use it cannot read counts as using every name and is listed as `opaque`.
 */
import { readdirSync, readFileSync } from "fs";
import * as path from "path";

/** Modules whose exports are the project's surface to the outside: their names are used by design. */
export const ENTRY_MODULES = [
    // The Pulumi program: its export is the stack outputs.
    "index.ts",
    // The library, `aks-vault-injector/automation` (package.json `exports`; docs/automation.md).
    "src/automation/index.ts",
    // The components and their Args (docs/design.md), for a program that composes them itself.
    "components/index.ts",
];

/** Folders whose modules are measured; the rest (test/, bench/, scripts/, examples/) only call. */
const PRODUCTION = /^(index\.ts$|src\/|components\/|policies\/)/;
/** Callers that are not production code: a name only they import is kept for them alone. */
const NOT_PRODUCTION = /^(test|bench|scripts|examples)\//;
const SKIP_DIRS = new Set(["node_modules", "dist", "bin", ".git", ".pulumi-state", "fixtures"]);

export type Use = "entry" | "outside" | "folder" | "test-only" | "dead";
export interface ExportedName {
    module: string;
    name: string;
    use: Use;
    /** Files that import the name (through any chain of re-exports). */
    callers: string[];
    /** Declared in another module and passed on (`export { x } from`, `export *`, `import`+`export { x }`). */
    reexport: boolean;
}

interface ModuleInfo {
    /** Names declared here and exported. */
    own: Set<string>;
    /** Re-exported names: exported name → [module, name there]. */
    links: Map<string, [string, string]>;
    /** `export * from`: modules whose names this one exports too. */
    stars: string[];
}

function listFiles(root: string, dir = ""): string[] {
    return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
        const rel = dir === "" ? e.name : `${dir}/${e.name}`;
        if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : listFiles(root, rel);
        return /\.(ts|js|mjs|cjs)$/.test(e.name) && !e.name.endsWith(".d.ts") ? [rel] : [];
    });
}

const ID = String.raw`[A-Za-z_$][\w$]*`;
const SPEC = String.raw`["'](\.{1,2}/[^"'\n]*)["']`;
/** `import … from "./x"`, `export … from "./x"` (the clause: names, braces, `*`, `as`, `type`). */
const FROM = new RegExp(String.raw`^(import|export)\s+(?:type\s+)?([\w$\s{},*]*?)\s*from\s*${SPEC}`, "gm");
const DECLARED = new RegExp(String.raw`^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?`
    + String.raw`(?:function\*?|class|const|let|var|interface|type|enum|namespace)\s+(${ID})`, "gm");
const LOCAL_EXPORT = /^export\s+(?:type\s+)?\{([^}]*)\}\s*;/gm;
const DYNAMIC = new RegExp(String.raw`\b(?:import|require)\(\s*${SPEC}\s*\)`, "g");
const ALL = new RegExp(String.raw`(?:const|let)\s*\[([^\]]*)\]\s*=\s*await\s+Promise\.all\(\[([^\]]*)\]\)`, "g");

/** `a, b as c, type d` → [["a","a"], ["b","c"], ["d","d"]] (name in the module, local name). */
function specifiers(list: string): Array<[string, string]> {
    return list.split(",").map((s) => s.trim().replace(/^type\s+/, "")).filter((s) => s !== "").map((s) => {
        const [name, alias] = s.split(/\s+as\s+/);
        return [name, alias ?? name];
    });
}

/** `{ a, b: c, d = 1 }` → the property names read from the object. */
function destructured(pattern: string): string[] {
    return pattern.split(",").map((s) => s.trim().split(/[\s:=]/)[0]).filter((s) => s !== "" && !s.startsWith("..."));
}

/**
 * Collects who uses what, and sorts every exported name of the production folders. `edits` (path
 * → text) replaces or adds files, for a test that breaks the tree without writing to it.
 */
export function exportUse(root: string, edits: Record<string, string> = {}): { names: ExportedName[]; opaque: string[] } {
    const files = [...new Set([...listFiles(root), ...Object.keys(edits)])].sort();
    const known = new Set(files);
    const resolve = (from: string, spec: string): string | undefined => {
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
        return [base, `${base}.ts`, `${base}/index.ts`, `${base}.js`].find((c) => known.has(c));
    };
    const modules = new Map<string, ModuleInfo>();
    /** file → imported [module, name] pairs; a name of "*" means every name of that module. */
    const imports = new Map<string, Array<[string, string]>>();
    const opaque: string[] = [];

    for (const file of files) {
        const text = edits[file] ?? readFileSync(path.join(root, file), "utf8");
        const info: ModuleInfo = { own: new Set(), links: new Map(), stars: [] };
        const used: Array<[string, string]> = [];
        modules.set(file, info);
        imports.set(file, used);
        /** The names read from a module bound to `id` in this file (`id.name`, `id.Type`). */
        const readsOf = (id: string, target: string) => {
            const read = new RegExp(String.raw`(?<![\w$.])${id.replace("$", "\\$")}\s*\.\s*(${ID})`, "g");
            for (const m of text.matchAll(read)) used.push([target, m[1]]);
        };
        /** Local names bound by an import, for `import { x } from "./m"; export { x };`. */
        const importedAs = new Map<string, [string, string]>();

        for (const m of text.matchAll(FROM)) {
            const [, keyword, clause, spec] = m;
            const target = resolve(file, spec);
            if (target === undefined) continue;
            const braces = /\{([^}]*)\}/.exec(clause);
            const outside = clause.replace(/\{[^}]*\}/, "").split(",").map((s) => s.trim()).filter((s) => s !== "");
            if (keyword === "import") {
                for (const [name, local] of specifiers(braces?.[1] ?? "")) {
                    used.push([target, name]);
                    importedAs.set(local, [target, name]);
                }
                for (const o of outside) {
                    const ns = /^\*\s+as\s+(\S+)$/.exec(o);
                    if (ns) readsOf(ns[1], target);
                    else used.push([target, "default"]);
                }
            } else if (braces) {
                for (const [name, alias] of specifiers(braces[1])) info.links.set(alias, [target, name]);
            } else if (/^\*$/.test(clause.trim())) {
                info.stars.push(target);
            } else {
                info.own.add(clause.replace(/^\*\s+as\s+/, "").trim());
                used.push([target, "*"]);
            }
        }
        for (const m of text.matchAll(DECLARED)) info.own.add(m[1]);
        if (/^export\s+(default\b|=)/m.test(text)) info.own.add("default");
        for (const m of text.matchAll(LOCAL_EXPORT)) {
            for (const [name, alias] of specifiers(m[1])) {
                const link = importedAs.get(name);
                if (link) info.links.set(alias, link);
                else info.own.add(alias);
            }
        }

        // Dynamic imports: inside `Promise.all([...])` with an array pattern, or on their own.
        const handled = new Set<number>();
        for (const m of text.matchAll(ALL)) {
            const bindings: string[] = [];
            let depth = 0;
            let current = "";
            for (const ch of m[1]) {
                if (ch === "," && depth === 0) { bindings.push(current.trim()); current = ""; continue; }
                if (ch === "{") depth++;
                if (ch === "}") depth--;
                current += ch;
            }
            bindings.push(current.trim());
            const start = (m.index as number) + m[0].indexOf(m[2]);
            [...m[2].matchAll(DYNAMIC)].forEach((d, i) => {
                const target = resolve(file, d[1]);
                handled.add(start + (d.index as number));
                if (target === undefined) return;
                const b = bindings[i] ?? "";
                if (b.startsWith("{")) for (const n of destructured(b.slice(1, -1))) used.push([target, n]);
                else if (new RegExp(`^${ID}$`).test(b)) readsOf(b, target);
                else { opaque.push(`${file} ${target}`); used.push([target, "*"]); }
            });
        }
        for (const d of text.matchAll(DYNAMIC)) {
            const at = d.index as number;
            const target = handled.has(at) ? undefined : resolve(file, d[1]);
            if (target === undefined) continue;
            const before = text.slice(Math.max(0, at - 200), at);
            const after = text.slice(at + d[0].length, at + d[0].length + 100);
            const pattern = /(?:const|let|var)\s*\{([^}]*)\}\s*=\s*(?:await\s+)?$/.exec(before);
            const bound = new RegExp(String.raw`(?:(?:const|let|var)\s+)?(${ID})(?:\s*:[^=;]+)?\s*=\s*(?:await\s+)?$`).exec(before);
            // `import("./x").T`, `require("./x").f`, `(await import("./x")).f`
            const member = /^\.\s*([\w$]+)/.exec(after)
                ?? (/\(\s*(?:await\s+)?$/.test(before) ? /^\s*\)\s*\.\s*([\w$]+)/.exec(after) : null);
            if (pattern) for (const n of destructured(pattern[1])) used.push([target, n]);
            else if (member) used.push([target, member[1]]);
            else if (bound) readsOf(bound[1], target);
            else if (/(^|[;\n])\s*$/.test(before) && /^\s*;/.test(after)) continue; // loaded for its effect
            else { opaque.push(`${file} ${target}`); used.push([target, "*"]); }
        }
    }

    /** The [module, name] pairs a name passes through, from where it is imported to its declaration. */
    const chain = (mod: string, name: string, seen = new Set<string>()): Array<[string, string]> => {
        const info = modules.get(mod);
        if (info === undefined || seen.has(`${mod}#${name}`)) return [];
        seen.add(`${mod}#${name}`);
        if (info.own.has(name)) return [[mod, name]];
        const link = info.links.get(name);
        if (link !== undefined) return [[mod, name], ...chain(link[0], link[1], seen)];
        for (const star of info.stars) {
            const rest = chain(star, name, seen);
            if (rest.length > 0) return [[mod, name], ...rest];
        }
        return [];
    };
    const namesOf = (mod: string, seen = new Set<string>()): string[] => {
        const info = modules.get(mod);
        if (info === undefined || seen.has(mod)) return [];
        seen.add(mod);
        return [...info.own, ...info.links.keys(), ...info.stars.flatMap((s) => namesOf(s, seen).filter((n) => n !== "default"))];
    };

    // What an entry module passes on is used by its outside callers, whom no scan sees.
    for (const entry of ENTRY_MODULES) {
        const info = modules.get(entry);
        for (const link of info?.links.values() ?? []) imports.get(entry)?.push(link);
        for (const star of info?.stars ?? []) imports.get(entry)?.push([star, "*"]);
    }
    const callers = new Map<string, Set<string>>();
    for (const [file, used] of imports) {
        for (const [mod, name] of used) {
            for (const n of name === "*" ? namesOf(mod) : [name]) {
                for (const [m, x] of chain(mod, n)) {
                    const key = `${m}#${x}`;
                    callers.set(key, (callers.get(key) ?? new Set()).add(file));
                }
            }
        }
    }

    const folderOf = (f: string) => path.posix.dirname(f);
    const names: ExportedName[] = [];
    for (const mod of files.filter((f) => PRODUCTION.test(f) && f.endsWith(".ts"))) {
        const info = modules.get(mod) as ModuleInfo;
        for (const name of [...new Set(namesOf(mod))].sort()) {
            const by = [...(callers.get(`${mod}#${name}`) ?? [])].filter((f) => f !== mod).sort();
            const prod = by.filter((f) => !NOT_PRODUCTION.test(f));
            const use: Use = ENTRY_MODULES.includes(mod) ? "entry"
                : by.length === 0 ? "dead"
                    : prod.length === 0 ? "test-only"
                        : prod.every((f) => folderOf(f) === folderOf(mod)) ? "folder"
                            : "outside";
            names.push({ module: mod, name, use, callers: by, reexport: !info.own.has(name) });
        }
    }
    return { names, opaque: [...new Set(opaque)] };
}

if (require.main === module) {
    const { names, opaque } = exportUse(path.join(__dirname, ".."));
    const uses: Use[] = ["entry", "outside", "folder", "test-only", "dead"];
    const modules = new Set(names.map((n) => n.module)).size;
    console.log(`${names.length} exported names over ${modules} modules (index.ts, src/, components/, policies/)`);
    for (const u of uses) console.log(`  ${u.padEnd(10)} ${names.filter((n) => n.use === u).length}`);
    console.log(`  re-exports outside the entry modules: ${names.filter((n) => n.reexport && n.use !== "entry").length}`);
    if (opaque.length > 0) console.log(`dynamic imports read as using every name: ${opaque.join(", ")}`);
    if (process.argv.includes("--list")) {
        for (const u of uses.slice(2).reverse()) {
            console.log(`\n${u}:`);
            for (const n of names.filter((x) => x.use === u)) {
                const by = n.callers.length > 0 ? `  <- ${n.callers.join(", ")}` : "";
                console.log(`  ${n.module} ${n.name}${n.reexport ? " (re-export)" : ""}${by}`);
            }
        }
        console.log("\nre-exports outside the entry modules:");
        for (const n of names.filter((x) => x.reexport && x.use !== "entry")) console.log(`  ${n.module} ${n.name} (${n.use})`);
    }
}
