/** The injector annotations and templates rendered for a workload's pods. */
import assert from "node:assert/strict";
import { keyExpression, renderPodAnnotations, renderTemplate } from "../../components/annotations";
import { reference } from "../support/harness";

describe("injector annotations", () => {
    const known = new Set(reference<{ annotations: Array<{ name: string }> }>("vault-k8s/annotations.json").annotations.map((a) => a.name));
    const familyOf = (name: string, file: string) => name.replace(new RegExp(`-${file.replace(/\./g, "\\.")}$`), "-<name>");

    it("renders only annotations vault-k8s knows, with auth/<path> and the KV v2 data path", () => {
        const a = renderPodAnnotations({
            role: "app", authPath: "aks", kvMount: "secret",
            secrets: [{ file: "db.json", path: "app/db" }, { file: "token", path: "app/api", key: "token" }],
        });
        for (const name of Object.keys(a)) {
            const file = name.endsWith("db.json") ? "db.json" : "token";
            assert.ok(known.has(familyOf(name, file)), `${name} is not a vault-k8s annotation`);
        }
        assert.equal(a["vault.hashicorp.com/auth-path"], "auth/aks");
        assert.equal(a["vault.hashicorp.com/agent-inject-secret-db.json"], "secret/data/app/db");
        // No key, no template: never the injector's default, which ranges over `.Data` and so, for
        // KV v2, prints Go maps of `data` and `metadata` (test/upstream/templates showed it).
        const whole = a["vault.hashicorp.com/agent-inject-template-db.json"];
        assert.ok(whole !== undefined, "a key-less file still gets its own template");
        assert.match(whole, /with secret "secret\/data\/app\/db"/);
        assert.match(whole, /range \$k, \$v := \.Data\.data \}\}/, "every key of KV v2's data, not of the response's .Data");
        assert.equal(a["vault.hashicorp.com/agent-inject-secret-token"], "secret/data/app/api");
    });

    it("reads .Data.data.<key> (KV v2), or index for keys that are not identifiers", () => {
        assert.equal(keyExpression("token"), ".Data.data.token");
        assert.equal(keyExpression("api-key"), 'index .Data.data "api-key"');
        assert.equal(
            renderTemplate("secret", { file: "f", path: "devops", key: "token", prefix: "token value stored on path secret/devops is " }),
            '{{- with secret "secret/data/devops" -}}\ntoken value stored on path secret/devops is {{ .Data.data.token }}\n{{- end }}\n',
        );
    });

    it("passes an expert template through unchanged", () => {
        const t = '{{ with secret "secret/data/x" }}{{ .Data.data.a }}{{ end }}';
        assert.equal(renderTemplate("secret", { file: "f", path: "x", template: t }), t);
    });
});
