import * as assert from "assert";
import { readFileSync } from "fs";
import * as path from "path";
import { ROOT } from "../support/harness";

describe("documented examples", () => {
    it("docs/automation.md shows examples/portal.ts verbatim (which npm run typecheck compiles as written)", () => {
        const example = readFileSync(path.join(ROOT, "examples", "portal.ts"), "utf8");
        const doc = readFileSync(path.join(ROOT, "docs", "automation.md"), "utf8");
        assert.ok(doc.includes("```ts\n" + example + "```\n"), "copy examples/portal.ts into docs/automation.md's Library API block");
        // The import is the package's exports name, which a portal that installed the package resolves.
        assert.match(example, /from "aks-vault-injector\/automation"/);
        const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
        // tsconfig.json maps the name to the source (typecheck needs no build); the package's exports
        // must point at that same module compiled to dist/ (tsconfig.build.json, run by prepare).
        assert.deepEqual(pkg.exports["./automation"], {
            types: "./dist/src/automation/index.d.ts",
            default: "./dist/src/automation/index.js",
        });
    });
});
