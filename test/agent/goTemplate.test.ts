/**
 * The template checker against the attacks of issue 10: code in the agent (env, file, plugin,
 * auth/ and sys/ reads), reads of paths the workload was not granted, writes through `secret`,
 * and a `.Data.data` requirement met by a comment or a string.
 */
import assert from "node:assert/strict";
import { TemplateSyntaxError, lexActions, templateFacts, templateProblems } from "../../src/agent/goTemplate";
import { renderTemplate } from "../../components/annotations";

const rules = { kvMount: "secret", readable: new Set(["busybox/app", "shared/db"]) };
const ok = (t: string) => assert.deepEqual(templateProblems(t, rules), [], t);
const refused = (t: string, pattern: RegExp) => {
    const problems = templateProblems(t, rules);
    assert.ok(problems.some((p) => pattern.test(p)), `${t}\n -> ${JSON.stringify(problems)}`);
};

describe("Go template lexer", () => {
    it("splits text and actions as Go does: trim markers, comments, strings holding '}}'", () => {
        const actions = lexActions('a {{- with secret "x}}y" -}} b {{/* c }} */}} {{ .Data.data.k }}{{- /* d */ -}}');
        assert.deepEqual(actions.map((a) => a.comment), [false, true, false, true]);
        assert.deepEqual(actions[0].tokens.map((t) => t.text), ["with", "secret", '"x}}y"']);
        assert.deepEqual(actions[2].tokens.map((t) => [t.kind, t.text]), [["field", ".Data"], ["field", ".data"], ["field", ".k"]]);
    });

    it("keeps a raw string's '}}' and newlines inside the action", () => {
        const actions = lexActions("{{ printf `%s }}\n` .Data.data.k }}");
        assert.equal(actions.length, 1);
        assert.deepEqual(actions[0].tokens.map((t) => t.kind), ["identifier", "raw", "field", "field", "field"]);
    });

    it("refuses what Go refuses or this lexer does not know", () => {
        for (const bad of [
            "{{ .Data", "{{/* open", "{{/* x */ y}}", "{{ /* not a comment */ }}", "{{ a; b }}", '{{ "unterminated }}', "{{ {x} }}",
        ]) {
            assert.throws(() => lexActions(bad), TemplateSyntaxError, bad);
        }
    });

    it("reads a `{{-3}}` as the number -3, not a trim marker (lex.go)", () => {
        assert.deepEqual(lexActions("{{-3}}")[0].tokens, [{ kind: "number", text: "-3" }]);
    });
});

describe("template rules", () => {
    it("accepts reads of own and granted paths with allowed functions", () => {
        ok('{{- with secret "secret/data/busybox/app" -}}{{ .Data.data.token }}{{- end }}');
        ok('{{ with secret "secret/data/shared/db?version=2" }}' +
            '{{ range $k, $v := .Data.data }}{{ $k }}={{ $v | toUpper }}{{ end }}{{ end }}');
        ok('{{ $s := secret "secret/data/busybox/app" }}{{ index $s.Data.data "api-key" | base64Decode }}');
    });

    it("accepts what the program renders from key and prefix", () => {
        ok(renderTemplate("secret", { file: "f", path: "busybox/app", key: "token", prefix: "token is " }) ?? "");
        ok(renderTemplate("secret", { file: "f", path: "busybox/app", key: "odd key}}" }) ?? "");
    });

    const attacks: Array<[string, string, RegExp]> = [
        ["the agent's environment", '{{ env "VAULT_TOKEN" }}{{ with secret "secret/data/busybox/app" }}{{ .Data.data.x }}{{ end }}',
            /no `env`/],
        ["a file on the pod", '{{ file "/var/run/secrets/kubernetes.io/serviceaccount/token" }}' +
            '{{ with secret "secret/data/busybox/app" }}{{ .Data.data.x }}{{ end }}', /no `file`/],
        ["a plugin", '{{ plugin "/bin/sh" "-c" "id" }}{{ with secret "secret/data/busybox/app" }}{{ .Data.data.x }}{{ end }}',
            /no `plugin`/],
        ["executeTemplate", '{{ executeTemplate "x" }}{{ with secret "secret/data/busybox/app" }}{{ .Data.data.x }}{{ end }}',
            /no `executeTemplate`/],
        ["writeToFile", '{{ with secret "secret/data/busybox/app" }}{{ .Data.data.x | writeToFile "/tmp/x" "" "" "0644" }}{{ end }}',
            /no `writeToFile`/],
        ["a defined template", '{{ define "x" }}{{ end }}{{ with secret "secret/data/busybox/app" }}{{ .Data.data.x }}{{ end }}',
            /no `define`/],
        ["the token's own lookup", '{{ with secret "auth/token/lookup-self" }}{{ .Data.data.id }}{{ end }}', /auth\/ and sys\//],
        ["a sys/ path", '{{ with secret "sys/mounts" }}{{ .Data.data }}{{ end }}', /auth\/ and sys\//],
        ["another workload's path", '{{ with secret "secret/data/payments/db" }}{{ .Data.data.password }}{{ end }}',
            /not "secret\/data\/payments\/db"/],
        ["a '..' escape", '{{ with secret "secret/data/busybox/../payments/db" }}{{ .Data.data.password }}{{ end }}',
            /not "secret\/data\/busybox\/..\/payments\/db"/],
        ["a write through secret", '{{ with secret "secret/data/busybox/app" "token=evil" }}{{ .Data.data.x }}{{ end }}',
            /more arguments would write/],
        ["a computed path", '{{ with secret (printf "auth/%s" "token/lookup-self") }}{{ .Data.data.x }}{{ end }}',
            /one string literal path/],
        ["a piped path", '{{ with "auth/token/lookup-self" | secret }}{{ .Data.data.x }}{{ end }}', /one string literal path/],
        ["an escaped path", '{{ with secret "secret/data/\\x70ayments/db" }}{{ .Data.data.x }}{{ end }}', /one string literal path/],
        [".Data.data only in a comment", '{{ with secret "secret/data/busybox/app" }}{{ .Data }}{{ end }}{{/* .Data.data */}}',
            /a comment does not count/],
        [".Data.data only in a string", '{{ with secret "secret/data/busybox/app" }}{{ print ".Data.data" }}{{ end }}',
            /a comment does not count/],
        [".Data.data only as text", '.Data.data {{ with secret "secret/data/busybox/app" }}{{ .Data }}{{ end }}',
            /a comment does not count/],
        ["a template reading nothing", "{{ .Data.data.x }}", /reads a secret/],
        ["a template Go cannot parse", '{{ with secret "secret/data/busybox/app" }', /checker can read/],
    ];
    for (const [what, template, pattern] of attacks) {
        it(`refuses ${what}`, () => refused(template, pattern));
    }

    it("closing a block early in a template does not escape the checks", () => {
        // The attack on `prefix`: `{{- end }}` closes the program's block and opens another.
        refused(
            '{{- with secret "secret/data/busybox/app" -}}x{{- end }}' +
                '{{ with secret "secret/data/payments/db" }}{{ .Data.data.p }}{{ end }}{{ .Data.data.k }}',
            /payments/,
        );
    });

    it("lists every secret read", () => {
        const facts = templateFacts('{{ with secret "secret/data/a" }}{{ end }}' +
            '{{ with secret `secret/data/b` }}{{ .Data.data.x }}{{ end }}');
        assert.deepEqual(facts.reads.map((r) => r.path), ["secret/data/a", "secret/data/b"]);
    });
});
