/**
 * The doctor's edges: reading the cluster through `@kubernetes/client-node` (against a local
 * stand-in API server serving the recorded objects), reading Vault over HTTP, the stack outputs
 * it starts from, and the `doctor` command.
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import * as https from "node:https";
import { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { Writable } from "stream";
import { Command, CommanderError } from "commander";
import { EXIT } from "../../src/exitCodes";
import { main } from "../../src/cli";
import { ROOT } from "../support/harness";
import { doctorCommand } from "../../src/doctor/command";
import { ClusterReader, gather, kubernetesReader, observe, vaultReader } from "../../src/doctor/gather";
import { diagnose } from "../../src/doctor/diagnose";
import { doctor, verify, VerifyError } from "../../src/doctor/index";
import { renderText } from "../../src/doctor/render";
import { DoctorInputError, expectationsFromOutputs } from "../../src/doctor/outputs";
import { Check } from "../../src/doctor/types";
import { selfSignedCert } from "../support/tls";
import {
    deployments, fixture, labExpectations, labOutputs, logFixture, pod, RecordedReader, reviewerTokenSecret, tokenReview, webhooks,
} from "../support/doctorFixtures";

const TLS = selfSignedCert();

class Capture extends Writable {
    text = "";
    _write(chunk: Buffer, _enc: string, cb: () => void) {
        this.text += chunk.toString();
        cb();
    }
}

/** The CLI in-process, as a user runs it from the project folder. */
async function cliRun(args: string[], env: NodeJS.ProcessEnv) {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(
        ["node", "aks-vault", ...args],
        { stdout, stderr, projectDir: ROOT, env, onInterrupt: () => () => undefined, interruptReachesChildren: false },
    );
    return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A localhost port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
}

const kubeconfigFor = (server: string) => `apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: ${server}
    certificate-authority-data: ${Buffer.from(TLS.cert).toString("base64")}
contexts:
- name: lab
  context: { cluster: lab, user: admin }
current-context: lab
users:
- name: admin
  user:
    token: kubeconfig-secret-token-value
`;

describe("doctor: stack outputs", () => {
    it("reads the Automation API's { value, secret } map into expectations", () => {
        const { kubeconfig, expectations } = expectationsFromOutputs(labOutputs());
        assert.match(kubeconfig ?? "", /kubeconfig-secret-token-value/);
        assert.deepEqual(expectations, { ...labExpectations(), workloads: [{ ...labExpectations().workloads[0], mode: undefined }] });
    });

    it("accepts plain values and per-workload modes", () => {
        const plain = Object.fromEntries(Object.entries(labOutputs()).map(([k, v]) => [k, v.value]));
        assert.equal(expectationsFromOutputs(plain, { busybox: "init-only" }).expectations.workloads[0].mode, "init-only");
    });

    it("names a missing output and the stage that creates it, without printing any value", () => {
        const { injectorNamespace: _, ...rest } = labOutputs();
        assert.throws(() => expectationsFromOutputs(rest), (e: unknown) => {
            assert.ok(e instanceof DoctorInputError);
            assert.match(e.message, /^stack output `injectorNamespace`: .*\(run `up` through the injector stage\)$/);
            assert.ok(!e.message.includes("kubeconfig-secret-token-value"));
            return true;
        });
    });
});

describe("doctor: gathering", () => {
    it("lists by the chart's labels, reads logs only of agent containers that started, with tailLines", async () => {
        const reader = new RecordedReader({
            deployments: deployments(), webhooks: webhooks(), pods: [pod("init-stuck")],
            logs: { "busybox-7d9c6b5f4d-q8r7t/vault-agent-init": logFixture("sa-not-authorized") },
        });
        const obs = await gather(labExpectations(), reader, undefined, { tailLines: 50 });
        assert.deepEqual(reader.calls, [
            "listDeployments vault app.kubernetes.io/name=vault-agent-injector",
            "listMutatingWebhookConfigurations app.kubernetes.io/name=vault-agent-injector",
            "listPods busybox app=busybox",
            // vault-agent is still PodInitializing: it has no log to read.
            "readLog busybox busybox-7d9c6b5f4d-q8r7t vault-agent-init 50",
        ]);
        const pods = obs.pods.busybox;
        assert.ok(pods.ok);
        assert.deepEqual(Object.keys(pods.value[0].logs), ["vault-agent-init"]);
    });

    it("turns a failed read into an observation with its HTTP status, not a throw", async () => {
        const forbidden = Object.assign(new Error("HTTP-Code: 403\nMessage: Unknown API Status Code!\nBody: {...}"), { code: 403 });
        const reader = new RecordedReader({ errors: { listMutatingWebhookConfigurations: forbidden } });
        const obs = await gather(labExpectations(), reader);
        assert.deepEqual(obs.webhooks, { ok: false, error: "HTTP-Code: 403", status: 403 });
    });
});

describe("doctor: @kubernetes/client-node against a stand-in API server", () => {
    let server: https.Server;
    let url: string;
    const requests: { path: string; auth?: string; method?: string; body?: string }[] = [];

    before(async () => {
        const routes: Record<string, () => { type: string; body: string }> = {
            "/apis/apps/v1/namespaces/vault/deployments?labelSelector=app.kubernetes.io%2Fname%3Dvault-agent-injector":
                () => ({ type: "application/json", body: JSON.stringify(fixture("deployments.json")) }),
            ["/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations" +
                "?labelSelector=app.kubernetes.io%2Fname%3Dvault-agent-injector"]:
                () => ({ type: "application/json", body: JSON.stringify(fixture("webhooks.json")) }),
            "/api/v1/namespaces/busybox/pods?labelSelector=app%3Dbusybox": () => ({
                type: "application/json",
                body: JSON.stringify({ apiVersion: "v1", kind: "PodList", metadata: {}, items: [pod("init-stuck")] }),
            }),
            "/api/v1/namespaces/busybox/pods/busybox-7d9c6b5f4d-q8r7t/log?container=vault-agent-init&tailLines=100":
                () => ({ type: "text/plain", body: `${logFixture("namespace-not-authorized").join("\n")}\n` }),
            "/api/v1/namespaces/vault/secrets/vault-token-reviewer-token":
                () => ({ type: "application/json", body: JSON.stringify(reviewerTokenSecret()) }),
            "/apis/authentication.k8s.io/v1/tokenreviews":
                () => ({ type: "application/json", body: JSON.stringify(tokenReview("authenticated")) }),
        };
        server = https.createServer({ cert: TLS.cert, key: TLS.key }, async (req, res) => {
            let sent = "";
            for await (const chunk of req) sent += String(chunk);
            requests.push({ path: req.url ?? "", auth: req.headers.authorization, method: req.method, body: sent });
            const route = routes[req.url ?? ""];
            if (route === undefined) {
                res.writeHead(404, { "content-type": "application/json" });
                res.end(JSON.stringify({
                    kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: `no route ${req.url}`,
                }));
                return;
            }
            const { type, body } = route();
            res.writeHead(200, { "content-type": type });
            res.end(body);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("reads the injector, webhook, pods and agent log the way the API serves them", async () => {
        requests.length = 0;
        const reader = await kubernetesReader(kubeconfigFor(url));
        const [dep] = await reader.listDeployments("vault", "app.kubernetes.io/name=vault-agent-injector");
        assert.equal(dep.status?.readyReplicas, 3);
        const [wh] = await reader.listMutatingWebhookConfigurations("app.kubernetes.io/name=vault-agent-injector");
        assert.ok((wh.webhooks?.[0].clientConfig.caBundle ?? "").length > 0);
        const log = await reader.readLog("busybox", "busybox-7d9c6b5f4d-q8r7t", "vault-agent-init", 100);
        assert.match(log, /\* namespace not authorized/);
        assert.ok(requests.every((r) => r.auth === "Bearer kubeconfig-secret-token-value"), "the kubeconfig's credentials are used");
    });

    it("reads the reviewer's token Secret and POSTs a TokenReview of its token (authentication.k8s.io/v1)", async () => {
        requests.length = 0;
        const reader = await kubernetesReader(kubeconfigFor(url));
        const secret = await reader.readSecret("vault", "vault-token-reviewer-token");
        const token = Buffer.from(secret.data?.token ?? "", "base64").toString("utf8");
        const review = await reader.createTokenReview(token);
        assert.equal(review.status?.authenticated, true);
        const post = requests.find((r) => r.path === "/apis/authentication.k8s.io/v1/tokenreviews");
        assert.equal(post?.method, "POST");
        assert.deepEqual(JSON.parse(post?.body ?? "{}"), { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } });
    });

    it("runs doctor() end to end from the stack outputs and explains the failure", async () => {
        const outputs = labOutputs();
        outputs.kubeconfig = { value: kubeconfigFor(url), secret: true };
        const report = await doctor({ outputs });
        const ids = report.checks.filter((c) => c.status === "fail").map((c) => c.id);
        assert.deepEqual(ids.sort(), ["log.namespace-not-authorized", "pod.ready", "pod.secret-file"]);
        assert.equal(report.ok, false);
        const skipped = report.checks.find((c) => c.id === "vault");
        assert.equal(skipped?.status, "skip");
    });

    it("--kubeconfig <file> without the Pulumi CLI: the cluster from the file, what should exist from Pulumi.dev.yaml", async () => {
        const dir = mkdtempSync(path.join(tmpdir(), "doctor-kc-"));
        try {
            const file = path.join(dir, "config");
            writeFileSync(file, kubeconfigFor(url));
            for (const [args, env, label] of [
                [["--kubeconfig", file], { PATH: "" }, `--kubeconfig ${file}`],
                [[], { PATH: "", KUBECONFIG: file }, `$KUBECONFIG (${file})`],
            ] as const) {
                const r = await cliRun(["doctor", "--stack", "dev", "--json", ...args], env);
                assert.equal(r.code, EXIT.checksFailed, r.stderr);
                const report = JSON.parse(r.stdout) as { checks: Check[] };
                assert.deepEqual(
                    report.checks[0],
                    { id: "cluster.kubeconfig", target: url, status: "pass", detail: `${label}: context lab, token` },
                );
                // The same diagnosis as from the stack's outputs: the plan names namespace busybox and role busybox.
                assert.deepEqual(
                    report.checks.filter((c) => c.status === "fail").map((c) => c.id).sort(),
                    ["log.namespace-not-authorized", "pod.ready", "pod.secret-file"],
                );
            }
            // Neither: the missing CLI is the error, and the message names the way around it.
            const none = await cliRun(["doctor", "--stack", "dev"], { PATH: "" });
            assert.equal(none.code, EXIT.pulumiMissing);
            assert.match(none.stderr, /^error: the pulumi CLI is not on PATH; .* or pass --kubeconfig <file> \(or set KUBECONFIG\)/);
            const many = await cliRun(["doctor", "--stack", "dev"], { PATH: "", KUBECONFIG: `${file}${path.delimiter}${file}` });
            assert.match(many.stderr, /\$KUBECONFIG lists several files; pass --kubeconfig <file>/);
            const missing = await cliRun(["doctor", "--stack", "dev", "--kubeconfig", path.join(dir, "nope")], { PATH: "" });
            assert.equal(missing.code, EXIT.settings);
            assert.match(missing.stderr, /--kubeconfig .*nope: cannot read the file \(ENOENT\)/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("a --kubeconfig for another cluster than the stack's is a warning", async () => {
        const report = await doctor({
            outputs: labOutputs(),
            kubeconfig: { text: kubeconfigFor(url), source: { kind: "file", label: "--kubeconfig kc" } },
        });
        const warn = report.checks.find((c) => c.id === "cluster.kubeconfig" && c.status === "warn");
        assert.match(warn?.detail ?? "", /not the stack's API server https:\/\/aks-vault-dev-4f1c2e\.hcp\.francecentral\.azmk8s\.io/);
    });

    it("reports an API error on one object and still checks the rest", async () => {
        const reader = await kubernetesReader(kubeconfigFor(url));
        await assert.rejects(reader.listPods("other", "app=x"), (e: { code?: number }) => e.code === 404);
    });
});

describe("doctor: Vault reads", () => {
    it("sends the token as X-Vault-Token to /v1/auth/<path>/config and /role/<name>", async () => {
        const seen: { url: string; headers: Record<string, string> }[] = [];
        const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
            seen.push({ url: String(input), headers: init?.headers as Record<string, string> });
            const body = String(input).endsWith("/config")
                ? {
                    request_id: "1",
                    data: { kubernetes_host: "https://aks.example:443", token_reviewer_jwt_set: true, disable_iss_validation: true },
                }
                : { errors: [] };
            return new Response(JSON.stringify(body), {
                status: String(input).endsWith("/config") ? 200 : 404,
                headers: { "content-type": "application/json" },
            });
        }) as typeof fetch;
        const v = vaultReader({
            address: "https://vault.example.com:8200/",
            token: "hvs.test-token",
            namespace: "admin",
            fetch: fakeFetch,
        });
        assert.equal((await v.readAuthConfig("aks")).kubernetes_host, "https://aks.example:443");
        await assert.rejects(
            v.readRole("aks", "busybox"),
            (e: { status?: number; message: string }) => e.status === 404 && !e.message.includes("hvs."),
        );
        assert.deepEqual(seen.map((s) => s.url), [
            "https://vault.example.com:8200/v1/auth/aks/config",
            "https://vault.example.com:8200/v1/auth/aks/role/busybox",
        ]);
        assert.deepEqual(seen[0].headers, { "X-Vault-Token": "hvs.test-token", "X-Vault-Namespace": "admin" });
    });
});

describe("doctor: the command", () => {
    function run(args: string[], extra: Partial<Parameters<typeof doctorCommand>[0]> = {}) {
        let out = "";
        let code = 0;
        const cmd = doctorCommand({
            loadOutputs: async (stack) => {
                assert.equal(stack, "dev");
                return labOutputs();
            },
            env: {},
            write: (t) => { out += t; },
            setExitCode: (c) => { code = c; },
            clusterReader: new RecordedReader({
                deployments: deployments(), webhooks: webhooks(), pods: [pod("healthy")],
                logs: { "busybox-7d9c6b5f4d-x2k4f/vault-agent-init": logFixture("healthy-init") },
            }),
            ...extra,
        });
        const output = { writeOut: (t: string) => { out += t; }, writeErr: (t: string) => { out += t; } };
        const program = new Command("aks-vault").exitOverride().configureOutput(output);
        program.addCommand(cmd.exitOverride().configureOutput(output));
        return { done: program.parseAsync(["node", "aks-vault", "doctor", ...args]), output: () => out, code: () => code };
    }

    it("documents itself in --help", async () => {
        const r = run(["--help"]);
        await assert.rejects(r.done, (e: unknown) => e instanceof CommanderError && e.code === "commander.helpDisplayed");
        for (const s of [
            "--stack <name>", "--json", "--vault-token-env <name>", "--vault-addr <url>", "--tail <lines>", "--init-only <workload>",
            "never prints a secret value", "Exit code 10",
        ]) {
            assert.ok(r.output().includes(s), `help lacks ${s}`);
        }
    });

    it("prints the text report and leaves the exit code at 0 when everything passes", async () => {
        const r = run(["--stack", "dev"]);
        await r.done;
        assert.match(r.output(), /^PASS {2}injector\.deployment/m);
        assert.match(r.output(), /SKIP {2}vault .*no Vault token in \$VAULT_TOKEN/);
        assert.equal(r.code(), 0);
    });

    it("--json prints the report as JSON; a failure sets exit code 10", async () => {
        const r = run(["--stack", "dev", "--json", "--init-only", "busybox"]);
        await r.done;
        const j = JSON.parse(r.output()) as { ok: boolean; checks: Check[] };
        assert.equal(j.ok, false);
        assert.equal(j.checks.find((c) => c.id === "pod.injected")?.status, "fail", "healthy pod has a sidecar, init-only was expected");
        assert.equal(r.code(), 10);
    });

    it("checks the Vault side when the named token variable is set, and requires an address for it", async () => {
        const r = run(["--stack", "dev", "--vault-token-env", "MY_TOKEN"], { env: { MY_TOKEN: "hvs.x" } });
        await assert.rejects(r.done, /--vault-token-env MY_TOKEN is set but there is no Vault address/);

        const reads: string[] = [];
        const ok = run(["--stack", "dev"], {
            vaultReader: {
                readAuthConfig: async (p) => {
                    reads.push(`config ${p}`);
                    return {
                        kubernetes_host: "https://aks-vault-dev-4f1c2e.hcp.francecentral.azmk8s.io:443",
                        token_reviewer_jwt_set: true,
                    };
                },
                readRole: async (p, role) => {
                    reads.push(`role ${p} ${role}`);
                    return { bound_service_account_names: ["busybox"], bound_service_account_namespaces: ["busybox"] };
                },
            },
        });
        await ok.done;
        assert.deepEqual(reads, ["config aks", "role aks busybox"]);
        assert.match(ok.output(), /PASS {2}vault\.role/);
        assert.equal(ok.code(), 0);
    });

    it("rejects a bad --tail with a message naming the option", async () => {
        const r = run(["--stack", "dev", "--tail", "0"]);
        await assert.rejects(r.done);
        assert.match(r.output(), /--tail must be an integer from 1 to 10000, got 0/);
    });
});

describe("doctor: verify after up", () => {
    it("retries while the pod is still in Init, then resolves with the passing report", async () => {
        let calls = 0;
        const stuck = new RecordedReader({ deployments: deployments(), webhooks: webhooks(), pods: [pod("init-stuck")] });
        const healthy = new RecordedReader({ deployments: deployments(), webhooks: webhooks(), pods: [pod("healthy")] });
        const clusterReader: ClusterReader = {
            listDeployments: (n, l) => (calls < 2 ? stuck : healthy).listDeployments(n, l),
            listMutatingWebhookConfigurations: (l) => (calls < 2 ? stuck : healthy).listMutatingWebhookConfigurations(l),
            listPods: async (n, l) => (calls++ < 2 ? stuck : healthy).listPods(n, l),
            readLog: async () => "",
            readSecret: (n, name) => healthy.readSecret(n, name),
            createTokenReview: (t) => healthy.createTokenReview(t),
        };
        const slept: number[] = [];
        const report = await verify(
            { outputs: async () => labOutputs() },
            {
                clusterReader,
                intervalMs: 5,
                sleep: async (ms) => {
                    slept.push(ms);
                },
            },
        );
        assert.equal(report.ok, true);
        assert.deepEqual(slept, [5, 5]);
    });

    it("rejects with VerifyError carrying the last report when checks keep failing", async () => {
        const clusterReader = new RecordedReader({ deployments: deployments(), webhooks: webhooks(), pods: [pod("uninjected")] });
        await assert.rejects(
            verify({ outputs: async () => labOutputs() }, { clusterReader, attempts: 2, sleep: async () => undefined }),
            (e: unknown) => e instanceof VerifyError &&
                e.report.checks.some((c) => c.id === "pod.injected" && c.status === "fail") &&
                /pod\.injected busybox\/busybox-7d9c6b5f4d-h3j9k/.test(e.message),
        );
    });
});

describe("doctor: a stack deployed only through the injector stage", () => {
    it("checks the injector, skips the Vault side even with a token, and reports no workload", async () => {
        const { vaultAuthPath: _a, kvMountPath: _k, workloads: _w, ...outputs } = labOutputs();
        const reads: string[] = [];
        const report = await doctor({
            outputs,
            clusterReader: new RecordedReader({ deployments: deployments(), webhooks: webhooks() }),
            vault: { readAuthConfig: async (p) => { reads.push(p); return {}; }, readRole: async (p) => { reads.push(p); return {}; } },
        });
        assert.deepEqual(reads, []);
        assert.equal(report.ok, true);
        assert.deepEqual(
            report.checks.map((c) => `${c.status} ${c.id}`),
            ["pass injector.deployment", "pass injector.webhook", "pass injector.webhook-ca", "skip vault"],
        );
        assert.match(report.checks[3].detail, /not deployed through the vault-auth stage/);
    });
});

describe("doctor: API server unreachable", () => {
    it("one check with the cause (authorized IP ranges, private cluster) and the fix, not a raw error per read", async () => {
        const server = `https://127.0.0.1:${await closedPort()}`;
        const report = await doctor({ outputs: { ...labOutputs(), kubeconfig: { value: kubeconfigFor(server), secret: true } } });
        assert.deepEqual(
            report.checks.map((c) => `${c.status} ${c.id}`),
            ["pass cluster.kubeconfig", "fail cluster.reachable", "skip vault"],
        );
        const check = report.checks[1];
        assert.equal(check.target, server);
        assert.equal(check.detail, "cannot connect to the API server (ECONNREFUSED); no cluster check ran");
        assert.match(check.cause ?? "", /authorized IP ranges .*private cluster/);
        assert.match(
            check.fix ?? "",
            /^Add this machine's public IP \(`<ip>\/32`\) to cluster\.apiServerAuthorizedIpRanges and run `aks-vault up --stage cluster`/,
        );
        assert.match(check.fix ?? "", /--api-server-authorized-ip-ranges/);
        assert.doesNotMatch(renderText(report), /ECONNREFUSED 127\.0\.0\.1/);
    });

    it("a server whose certificate the kubeconfig's CA does not vouch for: one check, never an insecure retry", async () => {
        const other = selfSignedCert();
        const server = https.createServer({ cert: other.cert, key: other.key }, (_req, res) => res.end("{}"));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
            const report = await doctor({ outputs: { ...labOutputs(), kubeconfig: { value: kubeconfigFor(url), secret: true } } });
            assert.deepEqual(
                report.checks.map((c) => `${c.status} ${c.id}`),
                ["pass cluster.kubeconfig", "fail cluster.reachable", "skip vault"],
            );
            assert.match(report.checks[1].detail, /^the API server's certificate is not trusted \([A-Z_]+\); no cluster check ran$/);
            assert.match(report.checks[1].cause ?? "", /certificate-authority-data does not vouch/);
        } finally {
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    });

    it("a long error is cut between words, marked with …", async () => {
        const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(" ");
        const o = await observe(() => Promise.reject(new Error(`connect failed ${words}`)));
        assert.ok(!o.ok);
        assert.ok(o.error.length <= 202, String(o.error.length));
        assert.match(o.error, / word\d+ …$/);
    });

    it("a name that does not resolve points at the private cluster's DNS", () => {
        const down = { ok: false as const, error: "request to https://x failed, reason: getaddrinfo ENOTFOUND x", code: "ENOTFOUND" };
        const report = diagnose(
            labExpectations(),
            { injectorDeployments: down, webhooks: down, pods: {}, unreachable: { code: "ENOTFOUND" } },
            { server: "https://aks-vault-dev-4f1c2e.privatelink.francecentral.azmk8s.io:443" },
        );
        assert.equal(report.checks.length, 1);
        assert.match(report.checks[0].cause ?? "", /private AKS cluster's FQDN resolves only inside its VNet/);
    });
});

describe("doctor: Vault unreachable", () => {
    it("one vault.reachable check with the cause and fix, no failure per role", async () => {
        const reader = new RecordedReader({
            deployments: deployments(),
            webhooks: webhooks(),
            pods: [pod("healthy")],
            logs: { "busybox-7d9c6b5f4d-x2k4f/vault-agent-init": logFixture("healthy-init") },
        });
        const report = await doctor({
            outputs: labOutputs(),
            clusterReader: reader,
            vault: { address: `https://127.0.0.1:${await closedPort()}`, token: "hvs.secret-token-value-xyz" },
        });
        const vault = report.checks.filter((c) => c.id.startsWith("vault"));
        assert.deepEqual(vault.map((c) => `${c.status} ${c.id}`), ["fail vault.reachable"]);
        assert.equal(vault[0].detail, "cannot connect to Vault (ECONNREFUSED); no Vault check ran");
        assert.match(vault[0].fix ?? "", /--vault-addr/);
    });

    it("reports why fetch failed (the cause), not just `fetch failed`", async () => {
        // A port that was just free: nothing listens there.
        const probe = http.createServer();
        await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
        const port = (probe.address() as AddressInfo).port;
        await new Promise<void>((resolve) => probe.close(() => resolve()));
        const v = vaultReader({ address: `https://127.0.0.1:${port}`, token: "hvs.secret-token-value-xyz" });
        const obs = await gather(labExpectations(), new RecordedReader({}), v);
        const config = obs.vault?.config;
        assert.ok(config !== undefined && !config.ok);
        assert.match(config.error, /^fetch failed \(.*ECONNREFUSED.*\)$/);
        assert.ok(!config.error.includes("hvs."));
    });
});
