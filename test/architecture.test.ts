/**
 * The layout's one rule, checked on every import (static, dynamic and type-only, read with
 * TypeScript's own pre-processor): arrows point down. Each folder of src/ has a rank; a module
 * imports modules of its own folder, of a lower rank, or leaves (modules whose own imports reach
 * only rank-0 modules and other leaves, like src/program/stages.ts), never one above it. So the
 * components never import the program, the library, the doctor or the CLI, and no
 * cycle can form between folders. src/vocabulary.ts, which the policy pack and the components
 * share, imports nothing.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "fs";
import * as path from "path";
import * as ts from "typescript";
import { ROOT } from "./support/harness";

/** Rank of each folder (by the first path segments under the root); lower is further down. */
const RANKS: Array<[prefix: string, rank: number]> = [
    ["src/vocabulary.ts", 0],
    ["src/exitCodes.ts", 0],
    ["src/projectDir.ts", 0],
    // The settings: their schema, validation and wording. Components take their typed args.
    ["src/config/", 1],
    ["src/components/", 2],
    // The guardrails judge what the components register; they may read the schema's limits.
    ["policies/", 2],
    ["src/program/", 3],
    ["src/plan/", 4],
    ["src/doctor/", 4],
    ["src/automation/", 5],
    ["src/cli/", 6],
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

const FILES = [...sources("src"), ...sources("policies")];
const ALL = new Set(FILES);
const GRAPH = new Map(FILES.map((f) => [f, importsOf(f)]));

/** Leaves: modules whose imports reach only rank-0 modules and other leaves. */
function leaves(): Set<string> {
    const leaf = new Set(FILES.filter((f) => folderOf(f).rank === 0));
    for (let grew = true; grew;) {
        grew = false;
        for (const f of FILES) {
            if (!leaf.has(f) && (GRAPH.get(f) ?? []).every((d) => leaf.has(d))) {
                leaf.add(f);
                grew = true;
            }
        }
    }
    return leaf;
}

describe("architecture: arrows point down", () => {
    it("every import stays in its folder, goes to a lower rank, or reaches a leaf", () => {
        const leaf = leaves();
        const upward: string[] = [];
        for (const [file, deps] of GRAPH) {
            const from = folderOf(file);
            for (const dep of deps) {
                const to = folderOf(dep);
                if (to.prefix === from.prefix || to.rank < from.rank || leaf.has(dep)) continue;
                upward.push(`${file} -> ${dep}`);
            }
        }
        assert.deepEqual(upward, []);
    });

    it("the components import no program, plan, library, doctor or CLI module", () => {
        const bad = [...GRAPH].flatMap(([f, deps]) => (f.startsWith("src/components/")
            ? deps.filter((d) => /^src\/(program|plan|automation|doctor|cli)\//.test(d)).map((d) => `${f} -> ${d}`)
            : []));
        assert.deepEqual(bad, []);
    });

    it("src/vocabulary.ts, shared by the components, the policy pack and the doctor, imports nothing", () => {
        assert.deepEqual(GRAPH.get("src/vocabulary.ts"), []);
    });

    it("sees the imports it judges (static, dynamic and type-only)", () => {
        assert.ok(GRAPH.get("src/cli/index.ts")?.includes("src/plan/stackFile.ts"), "a dynamic import() of the CLI");
        assert.ok(GRAPH.get("src/plan/plan.ts")?.includes("policies/evaluate.ts"), "an `import type`");
        assert.ok(FILES.length > 70, `${FILES.length} files`);
    });
});
