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

    // Checked by hand against vault-plugin-auth-kubernetes v0.23.1 (and hashicorp/cap v0.11.0, which
    // its path_login.go calls) in the Go module cache; the files are named in the table.
    it("docs/troubleshooting.md quotes Vault's errors as the current plugin prints them, older texts marked as such", () => {
        const doc = readFileSync(path.join(ROOT, "docs", "troubleshooting.md"), "utf8");
        for (const current of [
            "`lookup failed: service account unauthorized; this could mean it has been deleted or recreated with a new token` " +
                "(`token_review.go`)",
            "`service account name not authorized` (`path_login.go`)",
            "`namespace not authorized` (`path_login.go`)",
            "`invalid issuer (iss) claim` (hashicorp/cap `jwt/jwt.go`",
            "`invalid audience (aud) claim: audience claim does not match any expected audience` (hashicorp/cap `jwt/jwt.go`",
        ]) assert.ok(doc.includes(current), current);
        // The texts current Vault no longer prints appear only as "older Vault".
        for (const old of ['claim "iss" is invalid', 'claim "aud" is invalid']) {
            const uses = doc.split(old).length - 1;
            const marked = doc.split(`older Vault: \`${old}\``).length - 1;
            assert.equal(uses, marked, `${old} is quoted as a current message`);
        }
    });

    it("README: the file backend's folder is created before login, and the kubeconfig goes to a private file", () => {
        const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
        assert.ok(readme.includes('mkdir -p .pulumi && pulumi login "file://$PWD/.pulumi"'));
        assert.doesNotMatch(readme, /> \/tmp\//, "a fixed /tmp path is created with the umask's mode, often world-readable");
        assert.ok(readme.includes('export KUBECONFIG="$(mktemp)"'));
    });

    it("the supported Node.js range is the Pulumi SDK's, and README and design.md state it", () => {
        const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
        const sdk = JSON.parse(readFileSync(path.join(ROOT, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")) as {
            engines: { node: string };
        };
        assert.equal(sdk.engines.node, ">=22", "the SDK's declared range changed: revisit engines and docs/design.md");
        assert.equal(pkg.engines.node, ">=22.13.0");
        assert.ok(readFileSync(path.join(ROOT, "README.md"), "utf8").includes("Node.js 22.13 or later"));
        assert.ok(readFileSync(path.join(ROOT, "docs", "design.md"), "utf8").includes("supported 22.13 and later; tested on 20 and 22"));
    });
});
