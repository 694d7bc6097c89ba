/**
 * compiled.js decides whether the CLI and the policy pack run dist/ or the TypeScript: a stale
 * dist/ would run code that is not what the checkout says (a guardrail edited but not rebuilt).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { ROOT } from "./support/harness";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compiledIsCurrent } = require(path.join(ROOT, "compiled.js")) as { compiledIsCurrent(root?: string): boolean };

describe("compiled.js: dist/ or the TypeScript", () => {
    let root: string;
    const at = (file: string, seconds: number) => {
        mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
        writeFileSync(path.join(root, file), "");
        utimesSync(path.join(root, file), seconds, seconds);
    };

    beforeEach(() => {
        root = mkdtempSync(path.join(tmpdir(), "compiled-"));
        at("index.ts", 1000);
        at("src/cli/index.ts", 1000);
        at("components/index.ts", 1000);
        at("policies/lib.ts", 1000);
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it("runs the TypeScript until a build has finished (no dist/.built)", () => {
        at("dist/src/cli/index.js", 2000);
        assert.equal(compiledIsCurrent(root), false);
    });

    it("runs dist/ when the build finished after every source change", () => {
        at("dist/.built", 2000);
        assert.equal(compiledIsCurrent(root), true);
    });

    it("runs the TypeScript again once any .ts under src/, components/ or policies/, or index.ts, is newer than the build", () => {
        at("dist/.built", 2000);
        for (const file of ["src/cli/index.ts", "components/index.ts", "policies/lib.ts", "index.ts"]) {
            at(file, 3000);
            assert.equal(compiledIsCurrent(root), false, file);
            at(file, 1000);
        }
        // Files that are not compiled do not count.
        at("policies/platform-config.json", 3000);
        assert.equal(compiledIsCurrent(root), true);
    });

    it("runs the TypeScript when a source it compares with is missing", () => {
        at("dist/.built", 2000);
        rmSync(path.join(root, "index.ts"));
        assert.equal(compiledIsCurrent(root), false);
    });

    it("`npm run build` stamps dist/ last, so a failed tsc leaves the previous stamp", () => {
        const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
        assert.match(pkg.scripts.build, /^tsc -p tsconfig\.build\.json && node compiled\.js --stamp$/);
        const pack = JSON.parse(readFileSync(path.join(ROOT, "policies", "package.json"), "utf8")) as { main: string };
        assert.equal(pack.main, "index.js", "the pack's entry chooses between dist/policies and the TypeScript");
    });
});
