/** The pure helpers: kubeconfig facts, Vault policy text, injector annotations and templates. */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { decodeBase64, parseKubeconfig } from "../../src/components/cluster/kubeconfig";
import { renderKvPolicy } from "../../src/components/vault/vaultPolicy";
import { keyExpression, renderPodAnnotations, renderTemplate } from "../../src/components/workload/annotations";
import { clusterFacts } from "../support/cloud";
import { reference } from "../support/harness";

describe("kubeconfig facts", () => {
    const facts = clusterFacts("c1", "rg1", "westeurope");

    it("reads the server and the PEM CA of the current context's cluster", () => {
        const k = parseKubeconfig(facts.kubeconfig);
        assert.equal(k.server, `https://${facts.fqdn}:443`);
        assert.equal(k.caCertPem, facts.caCertPem);
    });

    it("picks the current context's cluster when there are several", () => {
        const other = clusterFacts("c2", "rg2", "northeurope");
        const doc = {
            clusters: [
                { name: "c2", cluster: { server: `https://${other.fqdn}:443`, "certificate-authority-data": Buffer.from(other.caCertPem).toString("base64") } },
                { name: "c1", cluster: { server: `https://${facts.fqdn}:443`, "certificate-authority-data": Buffer.from(facts.caCertPem).toString("base64") } },
            ],
            contexts: [{ name: "ctx", context: { cluster: "c1" } }],
            "current-context": "ctx",
        };
        assert.equal(parseKubeconfig(stringify(doc)).server, `https://${facts.fqdn}:443`);
    });

    it("fails with a message that never echoes the document", () => {
        const secretish = "clusters: [ {name: x, cluster: {server: https://h, certificate-authority-data: c2VjcmV0}} ]";
        assert.throws(() => parseKubeconfig(secretish), (e: Error) => /not a PEM certificate/.test(e.message) && !e.message.includes("c2VjcmV0"));
        assert.throws(() => parseKubeconfig("clusters: []"), /no clusters/);
        assert.throws(() => parseKubeconfig("{ token: abc: def"), (e: Error) => /not valid YAML/.test(e.message) && !e.message.includes("abc"));
    });

    it("decodes base64", () => assert.equal(decodeBase64(Buffer.from("héllo").toString("base64")), "héllo"));
});

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
});

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
