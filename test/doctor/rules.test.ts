/**
 * The cause -> fix table against agent log lines as quoted in the upstream threads, and the
 * redaction that keeps credentials in those lines out of the report.
 */
import assert from "node:assert/strict";
import { LOG_RULES, logEntries, matchLogRules, renderedFiles } from "../../src/doctor/logRules";
import { redact } from "../../src/doctor/redact";
import { reference } from "../support/harness";
import { logFixture } from "../support/doctorFixtures";

interface IssueRef { repo: string; number: number; cause: string; fix: string }
const issues = reference<{ top12: IssueRef[]; also: IssueRef[] }>("issues.json");
const known = new Set([...issues.top12, ...issues.also].map((i) => `${i.repo}#${i.number}`));

const ids = (log: string) => matchLogRules(logFixture(log)).map((m) => m.rule.id);

describe("doctor: agent log rules", () => {
    const cases: [string, string[]][] = [
        ["healthy-init", []],
        ["login-permission-denied", ["log.login-permission-denied"]],
        ["sa-not-authorized", ["log.sa-not-authorized"]],
        ["namespace-not-authorized", ["log.namespace-not-authorized"]],
        ["iss-invalid", ["log.iss-invalid"]],
        ["tokenreviews-forbidden", ["log.tokenreview-forbidden"]],
        ["x509-unknown-authority", ["log.x509-unknown-authority"]],
        ["vault-io-timeout", ["log.vault-unreachable"]],
        ["tokenreview-io-timeout", ["log.tokenreview-timeout"]],
        ["read-permission-denied", ["log.read-permission-denied"]],
        // JWT auth: one entry per rule; the removal error is its own (harmless) finding.
        ["jwt-aud-invalid", ["log.jwt-aud-invalid", "log.jwt-remove-readonly"]],
        ["jwt-sub-invalid", ["log.jwt-sub-invalid"]],
        ["jwt-discovery", ["log.jwt-discovery"]],
    ];
    for (const [log, expected] of cases) {
        it(`${log}.txt -> ${expected.length === 0 ? "no failure" : expected.join(", ")}`, () => {
            assert.deepEqual(ids(log), expected);
        });
    }

    it("tells a denied login from a denied read: the fix differs (role binding vs policy)", () => {
        const login = matchLogRules(logFixture("login-permission-denied"))[0];
        const read = matchLogRules(logFixture("read-permission-denied"))[0];
        assert.match(login.rule.cause, /reviewer JWT|API server/);
        assert.match(read.rule.cause, /policies do not grant/);
    });

    it("keeps a multi-line agent error together as one entry (the `| * ...` lines belong to their `error=`)", () => {
        const entries = logEntries(logFixture("sa-not-authorized"));
        assert.equal(entries.length, 2);
        assert.match(entries[1], /^2023-08-02T19:42:42\.234Z \[ERROR\][\s\S]*\* service account name not authorized[\s\S]*backoff=/);
    });

    it("counts repeated failures once per rule, keeping the last entry", () => {
        const lines = [...logFixture("sa-not-authorized"), ...logFixture("sa-not-authorized")];
        const [m] = matchLogRules(lines);
        assert.equal(m.count, 2);
    });

    it("reads the files the agent logged as rendered", () => {
        assert.deepEqual([...renderedFiles(logFixture("healthy-init"))], ["/vault/secrets/devops_token"]);
        assert.equal(renderedFiles(logFixture("sa-not-authorized")).size, 0);
    });

    it("cites, for every failure issues.json records, the same upstream issue", () => {
        // The failures the issue names, with the thread issues.json (../shared/reference) holds for each.
        const expected: Record<string, string> = {
            "log.sa-not-authorized": "hashicorp/vault-plugin-auth-kubernetes#79",
            "log.namespace-not-authorized": "hashicorp/vault-plugin-auth-kubernetes#89",
            "log.iss-invalid": "Azure/AKS#2523",
            "log.aud-invalid": "hashicorp/vault-plugin-auth-kubernetes#102",
            "log.tokenreview-forbidden": "hashicorp/vault-helm#376",
            "log.tokenreview-timeout": "hashicorp/vault-k8s#69",
            "log.x509-unknown-authority": "hashicorp/vault-k8s#151",
        };
        for (const [id, ref] of Object.entries(expected)) {
            assert.ok(known.has(ref), `${ref} is not in issues.json`);
            const rule = LOG_RULES.find((r) => r.id === id);
            assert.ok(rule?.ref.includes(ref), `${id} does not cite ${ref}`);
        }
    });

    it("gives every rule a cause, a fix and at least one owner/repo#number reference", () => {
        for (const r of LOG_RULES) {
            assert.ok(r.cause.length > 20 && r.fix.length > 20, r.id);
            assert.ok(r.ref.length > 0 && r.ref.every((x) => /^[\w.-]+\/[\w.-]+#\d+$/.test(x)), r.id);
        }
        assert.equal(new Set(LOG_RULES.map((r) => r.id)).size, LOG_RULES.length);
    });
});

describe("doctor: redaction", () => {
    const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjNfc2VjcmV0In0." +
        "eyJhdWQiOlsiaHR0cHM6Ly9leGFtcGxlLmF6bWs4cy5pbyJdLCJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YnVzeWJveDpidXN5Ym94LXNhIn0." +
        "c2lnbmF0dXJlLW5vdC1yZWFsLWJ1dC1sb25nLWVub3VnaA";
    const vaultToken = "hvs.CAESIJ3kZ5u0ZVxWv1m8rHkO0yQwq7Pp2s3t4u5v6w7x8y9zGh4KHGh2cy5hYmNkZWZnaGlqa2xtbm9wcXJzdHV2";

    it("removes JWTs, Vault tokens, header values and long base64 runs", () => {
        const out = redact(`body={"jwt":"${jwt}"} X-Vault-Token: ${vaultToken} ` +
            `data=${Buffer.from("-----BEGIN CERTIFICATE-----\nMIIC6jCCAdKgAwIBAgIQ\n").toString("base64")}`);
        assert.ok(!out.includes(jwt.slice(0, 40)));
        assert.ok(!out.includes(vaultToken.slice(4, 30)));
        assert.ok(!out.includes("LS0tLS1CRUdJTi"));
        assert.match(out, /\[redacted/);
    });

    it("leaves what a reader needs: messages, URLs, paths, names, short ids", () => {
        const line = 'URL: PUT https://vault.example.com:8200/v1/auth/aks/login Code: 403. * service account name not authorized ' +
            'pod=busybox-7d9c6b5f4d-x2k4f "/vault/secrets/devops_token" backoff=4.65s';
        assert.equal(redact(line), line);
    });

    it("old-style tokens (s.xxx) are redacted too", () => {
        assert.equal(redact("token s.49SDFAe213qADAxxxxxxxxxxxx expired"), "token [redacted-token] expired");
    });
});

describe("doctor: redaction keeps report targets readable", () => {
    it("does not eat pod/container paths or hex digests", () => {
        for (const s of [
            "busybox/busybox-7d9c6b5f4d-q8r7t/vault-agent-init",
            "busybox/busybox-7d9c6b5f4d-x2k4f:/vault/secrets/devops_token",
            "Version Sha: 55bd8f18c6c84aa89fdede4850a622c57f03bd7e",
        ]) assert.equal(redact(s), s);
    });

    it("redacts base64 data even when it contains '/' and '+'", () => {
        const data = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM2akNDQWRLZ0F3SUJBZ0lRV/+0xzQW0xbFZHOXJaVzVEUVRBZUZ3MHlOakV4TWpnd09U" +
            "RXlOVEJhRncweU56RXhNamd3T1RFeU5UQmEK";
        assert.equal(redact(`caBundle: ${data}`), "caBundle: [redacted]");
    });
});
