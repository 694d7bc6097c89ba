/**
 * The layout's one rule, checked on every import (static, dynamic and type-only, read with
 * TypeScript's own pre-processor): arrows point down. Each folder has a rank; a module imports
 * modules of its own folder or of a lower rank, never one beside or above it, and no chain of
 * imports comes back to where it started (within a folder either). So the components never import
 * the program, the library, the doctor or the CLI, and the Vault agent's domain (src/agent/), which
 * the config, the components, the policy pack, the doctor and the benchmark share, imports only
 * rank 0.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";
import { ENTRY_MODULES, exportUse } from "../scripts/exportsReport";
import { ROOT } from "./support/harness";

/** Rank of each folder (by the first path segments under the root); lower is further down. */
const RANKS: Array<[prefix: string, rank: number]> = [
    // Facts that import nothing of ours: exit codes, the project directory, the stage names.
    ["src/exitCodes.ts", 0],
    ["src/projectDir.ts", 0],
    ["src/stages.ts", 0],
    // The Vault agent's domain: annotation vocabulary, Go-template lexer, quantities, injection
    // defaults, footprint, JWT login. And the typed failures the library and the doctor share.
    ["src/agent/", 1],
    ["src/errors.ts", 1],
    // The settings: their schema, validation and wording. Components take their typed args.
    ["src/config/", 2],
    ["components/", 3],
    // The guardrails judge what the components register; they may read the schema's limits.
    ["policies/", 3],
    ["src/program/", 4],
    ["src/plan/", 5],
    ["src/doctor/", 5],
    // The preflight acts as each workload against live systems; the CLI and the runner wire it up.
    ["src/preflight/", 5],
    ["src/automation/", 6],
    ["src/cli/", 7],
    // Entry points and tools: the Pulumi program, the benchmark, the generators, the examples.
    ["index.ts", 8],
    ["bench/", 8],
    ["scripts/", 8],
    ["examples/", 8],
];

function folderOf(file: string): { prefix: string; rank: number } {
    const hit = RANKS.find(([prefix]) => file === prefix || file.startsWith(prefix));
    if (hit === undefined) throw new Error(`${file} is in no ranked folder: add it to RANKS in test/architecture.test.ts`);
    return { prefix: hit[0], rank: hit[1] };
}

function sources(dir: string): string[] {
    return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
        .map((f) => `${dir}/${f.split(path.sep).join("/")}`);
}

/** The project modules a file imports, as root-relative paths of .ts files. */
function importsOf(file: string): string[] {
    const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), "utf8"), true, true);
    const out: string[] = [];
    for (const { fileName } of info.importedFiles) {
        if (!fileName.startsWith(".")) continue;
        const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
        const candidates = [base, `${base}.ts`, `${base}/index.ts`];
        const found = candidates.find((c) => c.endsWith(".ts") && ALL.has(c));
        if (found !== undefined) out.push(found);
        else if (!base.endsWith(".json")) throw new Error(`${file}: cannot resolve ${fileName}`);
    }
    return out;
}

const FILES = [
    "index.ts",
    ...["src", "components", "policies", "bench", "scripts", "examples"].flatMap(sources),
];
const ALL = new Set(FILES);
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

/** Every import cycle, each as the chain of files that closes it (Tarjan's strongly connected components). */
function cycles(): string[][] {
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const found: string[][] = [];
    const visit = (f: string) => {
        index.set(f, index.size);
        low.set(f, index.get(f) as number);
        stack.push(f);
        onStack.add(f);
        for (const d of GRAPH.get(f) ?? []) {
            if (!index.has(d)) {
                visit(d);
                low.set(f, Math.min(low.get(f) as number, low.get(d) as number));
            } else if (onStack.has(d)) {
                low.set(f, Math.min(low.get(f) as number, index.get(d) as number));
            }
        }
        if (low.get(f) === index.get(f)) {
            const component: string[] = [];
            for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
                onStack.delete(d);
                component.push(d);
                if (d === f) break;
            }
            if (component.length > 1 || (GRAPH.get(f) ?? []).includes(f)) found.push(component.sort());
        }
    };
    for (const f of FILES) if (!index.has(f)) visit(f);
    return found;
}

describe("architecture: arrows point down", () => {
    it("every import stays in its folder or goes to a lower rank", () => {
        const upward: string[] = [];
        for (const [file, deps] of GRAPH) {
            const from = folderOf(file);
            for (const dep of deps) {
                const to = folderOf(dep);
                if (to.prefix === from.prefix || to.rank < from.rank) continue;
                upward.push(`${file} -> ${dep}`);
            }
        }
        assert.deepEqual(upward, []);
    });

    it("no import cycle at all, within a folder either (type-only imports included)", () => {
        assert.deepEqual(cycles(), []);
    });

    it("the components import no program, plan, library, doctor or CLI module", () => {
        const bad = [...GRAPH].flatMap(([f, deps]) => (f.startsWith("components/")
            ? deps.filter((d) => /^src\/(program|plan|automation|doctor|cli)\//.test(d)).map((d) => `${f} -> ${d}`)
            : []));
        assert.deepEqual(bad, []);
    });

    it("src/agent/vocabulary.ts, shared by the components, the policy pack and the doctor, imports nothing", () => {
        assert.deepEqual(GRAPH.get("src/agent/vocabulary.ts"), []);
    });

    it("components/index.ts exports the components and their Args, nothing else", () => {
        const file = "components/index.ts";
        const source = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest);
        const names = source.statements.flatMap((s) => (ts.isExportDeclaration(s) && s.exportClause && ts.isNamedExports(s.exportClause)
            ? s.exportClause.elements.map((e) => e.name.text)
            : ["(not a named re-export)"]));
        const classes = names.filter((n) => !n.endsWith("Args"));
        assert.deepEqual(classes.filter((n) => !existsSync(path.join(ROOT, "components", `${n[0].toLowerCase()}${n.slice(1)}.ts`))), []);
        assert.ok(classes.length >= 6, names.join(", "));
    });

    it("sees the imports it judges (static, dynamic and type-only)", () => {
        assert.ok(GRAPH.get("src/cli/index.ts")?.includes("src/plan/stackFile.ts"), "a dynamic import() of the CLI");
        assert.ok(GRAPH.get("src/plan/plan.ts")?.includes("policies/evaluate.ts"), "an `import type`");
        assert.ok(GRAPH.get("src/config/configKeys.ts")?.includes("src/config/problem.ts"), "an `import type` within a folder");
        assert.ok(FILES.length > 70, `${FILES.length} files`);
    });

    it("finds a cycle when there is one", () => {
        const saved = GRAPH.get("src/config/problem.ts") ?? [];
        GRAPH.set("src/config/problem.ts", [...saved, "src/config/deployRules.ts"]);
        try {
            assert.deepEqual(cycles(), [["src/config/deployRules.ts", "src/config/problem.ts"]]);
        } finally {
            GRAPH.set("src/config/problem.ts", saved);
        }
    });
});

/**
 * Exports: a module exports what some other file imports, nothing more. The entry modules
 * (ENTRY_MODULES in scripts/exportsReport.ts: the Pulumi program, the library, components/index.ts)
 * are called from outside the repository, so their names count as used, and so does what they pass
 * on. `npx ts-node --transpile-only scripts/exportsReport.ts --list` says who imports what.
 */
describe("architecture: every export has a caller", () => {
    const { names, opaque } = exportUse(ROOT);
    const deadNow = names.filter((n) => n.use === "dead").map((n) => `${n.module} ${n.name}`);
    /** What an edit of the tree makes dead, beyond what is dead now. */
    const newlyDead = (edits: Record<string, string>) => exportUse(ROOT, edits).names
        .filter((n) => n.use === "dead").map((n) => `${n.module} ${n.name}`).filter((n) => !deadNow.includes(n));
    const callersOf = (module: string, name: string) => names.find((n) => n.module === module && n.name === name)?.callers ?? [];

    it("no module outside the entry modules exports a name nobody imports", () => {
        assert.deepEqual(deadNow, []);
    });

    it("sees the imports it judges (destructured dynamic, Promise.all, member of an import(), require, type-only, re-exports)", () => {
        assert.ok(callersOf("src/plan/stackFile.ts", "readStackFile").includes("src/cli/index.ts"), "const { x } = await import()");
        assert.ok(callersOf("src/doctor/render.ts", "renderJson").includes("src/doctor/command.ts"), "await Promise.all([import()])");
        assert.ok(callersOf("src/automation/run.ts", "run").includes("src/cli/index.ts"), "(await import()).run");
        assert.ok(callersOf("src/cli/index.ts", "main").includes("cli.js"), "cli = require(); cli.main");
        assert.ok(callersOf("src/doctor/gather.ts", "ClusterReader").includes("src/doctor/command.ts"), "import type");
        const binding = callersOf("components/workloadBinding.ts", "WorkloadBinding");
        assert.ok(binding.includes("src/program/program.ts"), "through components/index.ts");
        // A dynamic import it cannot read counts as using every name: allowed only on an entry module.
        assert.deepEqual(opaque.filter((o) => !ENTRY_MODULES.includes(o.split(" ")[1])), []);
        assert.ok(names.length > 300, `${names.length} names`);
    });

    it("finds a dead export when there is one: a new name, or the last import of one removed", () => {
        assert.deepEqual(newlyDead({ "src/agent/unused.ts": "export const NOBODY = 1;\nexport function nobody() {}\n" }),
            ["src/agent/unused.ts NOBODY", "src/agent/unused.ts nobody"]);
        // src/plan/placeholderCloud.ts's isSecretWire has one caller, src/plan/plan.ts.
        const plan = readFileSync(path.join(ROOT, "src/plan/plan.ts"), "utf8");
        const without = plan.replace(/, isSecretWire \}/, " }");
        assert.notEqual(without, plan);
        assert.deepEqual(newlyDead({ "src/plan/plan.ts": without }), ["src/plan/placeholderCloud.ts isSecretWire"]);
    });
});
