/** The Vault policy text a workload gets on its KV v2 paths. */
import assert from "node:assert/strict";
import { renderKvPolicy } from "../../components/vaultPolicy";

describe("Vault policy", () => {
    it("grants read on exactly <mount>/data/<path>, one block per distinct path", () => {
        assert.equal(
            renderKvPolicy("secret", ["devops", "app/db", "devops"]),
            'path "secret/data/app/db" {\n  capabilities = ["read"]\n}\n\npath "secret/data/devops" {\n  capabilities = ["read"]\n}\n',
        );
    });

    it("adds only the capabilities asked for; list goes on the metadata path", () => {
        const text = renderKvPolicy("kv", ["a"], ["update", "list"]);
        assert.match(text, /path "kv\/data\/a" \{\n {2}capabilities = \["read", "update"\]\n\}/);
        // Vault checks a LIST against the path with a trailing slash: the keys under a/.
        assert.match(text, /path "kv\/metadata\/a\/" \{\n {2}capabilities = \["list"\]\n\}/);
        assert.ok(!text.includes("*"), "no wildcard");
        assert.ok(!text.includes("sudo"));
    });

    it("a workload that reads no KV path gets a policy that grants nothing, not an empty text Vault refuses", () => {
        const text = renderKvPolicy("secret", []);
        assert.notEqual(text.trim(), "", "Vault: 'policy' parameter not supplied or empty");
        assert.ok(!text.includes("path "), "grants nothing");
        assert.ok(text.split("\n").every((l) => l === "" || l.startsWith("#")), "only a comment");
    });
});
