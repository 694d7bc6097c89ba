/**
 * The diagnosis against recorded Kubernetes objects (Deployment, MutatingWebhookConfiguration,
 * Pods as the API returns them) and agent logs quoted from upstream issues. No cluster.
 */
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { diagnose, globMatch } from "../../src/doctor/diagnose";
import { renderJson, renderText } from "../../src/doctor/render";
import { Check, Observations, PodObservation, VaultObservations } from "../../src/doctor/types";
import { expectationsFromOutputs } from "../../src/doctor/outputs";
import { deployments, labExpectations, labOutputs, logFixture, pod, webhooks } from "../support/doctorFixtures";

const ok = <T>(value: T) => ({ ok: true as const, value });

function observed(pods: PodObservation[], extra: Partial<Observations> = {}): Observations {
    return { injectorDeployments: ok(deployments()), webhooks: ok(webhooks()), pods: { busybox: ok(pods) }, ...extra };
}

function podObs(p: V1Pod, init?: string, sidecar?: string): PodObservation {
    const logs: PodObservation["logs"] = {};
    if (init !== undefined) logs["vault-agent-init"] = ok(logFixture(init));
    if (sidecar !== undefined) logs["vault-agent"] = ok(logFixture(sidecar));
    return { pod: p, logs };
}

const only = (checks: Check[], id: string) => checks.filter((c) => c.id === id);
const one = (checks: Check[], id: string): Check => {
    const found = only(checks, id);
    assert.equal(found.length, 1, `expected exactly one ${id}, got ${found.length}: ${JSON.stringify(checks.map((c) => c.id))}`);
    return found[0];
};
const failing = (checks: Check[]) => checks.filter((c) => c.status === "fail").map((c) => c.id);

describe("doctor: diagnosis of recorded objects", () => {
    it("passes a healthy lab: injector 3/3, webhook with CA, injected Ready pod as busybox, file rendered", () => {
        const r = diagnose(labExpectations(), observed([podObs(pod("healthy"), "healthy-init")]));
        assert.deepEqual(failing(r.checks), []);
        assert.equal(r.ok, true);
        assert.equal(one(r.checks, "injector.deployment").detail, "3/3 replicas ready");
        assert.equal(one(r.checks, "injector.webhook-ca").status, "pass");
        assert.equal(one(r.checks, "pod.injected").detail, "vault-agent-init + vault-agent (expected sidecar)");
        assert.equal(one(r.checks, "pod.service-account").detail, "runs as busybox");
        const file = one(r.checks, "pod.secret-file");
        assert.equal(file.target, "busybox/busybox-7d9c6b5f4d-x2k4f:/vault/secrets/devops_token");
        assert.equal(file.detail, "rendered (agent log)");
    });

    it("fails an injector with no ready replica and says pods created now start without secrets", () => {
        const dep = deployments();
        dep[0].status = { ...dep[0].status, readyReplicas: undefined, availableReplicas: undefined, unavailableReplicas: 3 };
        const r = diagnose(labExpectations(), observed([podObs(pod("healthy"), "healthy-init")], { injectorDeployments: ok(dep) }));
        const c = one(r.checks, "injector.deployment");
        assert.equal(c.status, "fail");
        assert.equal(c.detail, "0/3 replicas ready");
        assert.match(c.cause ?? "", /without secrets/);
        assert.equal(r.ok, false);
    });

    it("warns when some injector replicas are down", () => {
        const dep = deployments();
        dep[0].status = { ...dep[0].status, readyReplicas: 1 };
        const r = diagnose(labExpectations(), observed([], { injectorDeployments: ok(dep) }));
        assert.equal(one(r.checks, "injector.deployment").status, "warn");
    });

    it("fails when no injector Deployment exists in the injector namespace", () => {
        const r = diagnose(labExpectations(), observed([], { injectorDeployments: ok([]) }));
        const c = one(r.checks, "injector.deployment");
        assert.equal(c.status, "fail");
        assert.match(c.detail, /no Deployment labelled app\.kubernetes\.io\/name=vault-agent-injector in namespace vault/);
    });

    it("fails a webhook whose caBundle the injector never wrote", () => {
        const wh = webhooks();
        wh[0].webhooks![0].clientConfig.caBundle = "";
        const r = diagnose(labExpectations(), observed([], { webhooks: ok(wh) }));
        const c = one(r.checks, "injector.webhook-ca");
        assert.equal(c.status, "fail");
        assert.equal(c.target, "vault-agent-injector-cfg");
        assert.match(c.cause ?? "", /AGENT_INJECT_TLS_AUTO/);
    });

    it("fails when the webhook is missing", () => {
        const r = diagnose(labExpectations(), observed([], { webhooks: ok([]) }));
        assert.equal(one(r.checks, "injector.webhook").status, "fail");
    });

    it("fails a pod the webhook never mutated and says to restart it once the injector is up", () => {
        const r = diagnose(labExpectations(), observed([podObs(pod("uninjected"))]));
        const c = one(r.checks, "pod.injected");
        assert.equal(c.status, "fail");
        assert.match(c.detail, /no vault-agent-init container \(agent-inject-status: absent, agent-inject: true\)/);
        assert.match(c.cause ?? "", /injector webhook was unavailable/);
        assert.equal(c.fix, "Once the injector is ready: kubectl -n busybox rollout restart deployment/busybox");
        assert.deepEqual(only(r.checks, "pod.secret-file"), [], "no file verdict on an unmutated pod");
    });

    it("fails a pod that runs as another service account than the role is bound to", () => {
        const p = pod("healthy");
        p.spec!.serviceAccountName = "default";
        const r = diagnose(labExpectations(), observed([podObs(p, "healthy-init")]));
        const c = one(r.checks, "pod.service-account");
        assert.equal(c.status, "fail");
        assert.equal(c.detail, "runs as default, role busybox is bound to busybox");
        assert.match(c.fix ?? "", /serviceAccountName: busybox/);
    });

    it("explains a pod stuck in Init: the agent log's `service account name not authorized`, and the file not rendered", () => {
        const r = diagnose(labExpectations(), observed([podObs(pod("init-stuck"), "sa-not-authorized")]));
        const log = one(r.checks, "log.sa-not-authorized");
        assert.equal(log.status, "fail");
        assert.equal(log.target, "busybox/busybox-7d9c6b5f4d-q8r7t/vault-agent-init");
        assert.match(
            log.detail,
            /^1× 2023-08-02T19:42:42\.234Z \[ERROR\] agent\.auth\.handler: error authenticating: … \| \* service account name not authorized$/,
        );
        // The fix is written for this workload: its service account, role and auth mount.
        assert.match(log.fix ?? "", /`busybox`/);
        assert.match(log.fix ?? "", /vault write auth\/aks\/role\/busybox bound_service_account_names=busybox/);
        assert.deepEqual(log.ref, ["hashicorp/vault-plugin-auth-kubernetes#79", "hashicorp/vault-plugin-auth-kubernetes#49"]);
        const file = one(r.checks, "pod.secret-file");
        assert.equal(file.status, "fail");
        assert.equal(file.detail, "not rendered: vault-agent-init still running");
        assert.equal(one(r.checks, "pod.ready").detail, "not Ready: vault-agent-init still running");
    });

    it("explains a CrashLoopBackOff init container: exit code, restarts and the x509 cause", () => {
        const r = diagnose(labExpectations(), observed([podObs(pod("init-crashloop"), "x509-unknown-authority")]));
        assert.equal(
            one(r.checks, "pod.secret-file").detail,
            "not rendered: vault-agent-init CrashLoopBackOff after exiting with code 1, 4 restarts",
        );
        const c = one(r.checks, "log.x509-unknown-authority");
        assert.match(c.fix ?? "", /ca-cert/);
        assert.deepEqual(failing(r.checks).sort(), ["log.x509-unknown-authority", "pod.ready", "pod.secret-file"]);
    });

    for (const [log, id] of [
        ["namespace-not-authorized", "log.namespace-not-authorized"],
        ["iss-invalid", "log.iss-invalid"],
        ["tokenreviews-forbidden", "log.tokenreview-forbidden"],
        ["vault-io-timeout", "log.vault-unreachable"],
        ["tokenreview-io-timeout", "log.tokenreview-timeout"],
        ["login-permission-denied", "log.login-permission-denied"],
    ] as const) {
        it(`reports ${id} for a stuck pod whose init log is ${log}.txt`, () => {
            const r = diagnose(labExpectations(), observed([podObs(pod("init-stuck"), log)]));
            assert.deepEqual(failing(r.checks).sort(), [id, "pod.ready", "pod.secret-file"].sort());
        });
    }

    it("reports a sidecar's read failure on a running pod even though the init render passed", () => {
        const r = diagnose(labExpectations(), observed([podObs(pod("healthy"), "healthy-init", "read-permission-denied")]));
        const c = one(r.checks, "log.read-permission-denied");
        assert.equal(c.target, "busybox/busybox-7d9c6b5f4d-x2k4f/vault-agent");
        assert.match(c.detail, /permission denied/);
    });

    it("init-only: passes a pod with the pre-populate-only annotation and no sidecar; fails it when sidecar was expected", () => {
        const fromAnnotation = diagnose(labExpectations(), observed([podObs(pod("init-only"), "healthy-init")]));
        assert.equal(one(fromAnnotation.checks, "pod.injected").detail, "vault-agent-init only (expected init-only)");
        assert.equal(fromAnnotation.ok, true);

        const expect = labExpectations();
        expect.workloads[0].mode = "sidecar";
        const r = diagnose(expect, observed([podObs(pod("init-only"), "healthy-init")]));
        const c = one(r.checks, "pod.injected");
        assert.equal(c.status, "fail");
        assert.match(c.fix ?? "", /agent-pre-populate-only/);
    });

    it("passes the file from the init container's exit code 0 when the log no longer shows the render", () => {
        const r = diagnose(labExpectations(), observed([podObs(pod("healthy"))]));
        assert.equal(one(r.checks, "pod.secret-file").detail, "vault-agent-init completed (exit 0): rendered");
    });

    it("fails annotations that name another role or miss a file", () => {
        const p = pod("healthy");
        p.metadata!.annotations!["vault.hashicorp.com/role"] = "other";
        delete p.metadata!.annotations!["vault.hashicorp.com/agent-inject-secret-devops_token"];
        const r = diagnose(labExpectations(), observed([podObs(p, "healthy-init")]));
        assert.equal(
            one(r.checks, "pod.annotations").detail,
            "role is other, expected busybox; no agent-inject-secret annotation for devops_token",
        );
    });

    it("fails a workload without pods, and reports unreadable objects with the API status", () => {
        const r = diagnose(labExpectations(), observed([], {
            webhooks: { ok: false, error: "HTTP-Code: 403 Message: Unknown API Status Code!", status: 403 },
        }));
        assert.equal(one(r.checks, "workload.pods").status, "fail");
        const wh = one(r.checks, "injector.webhook");
        assert.equal(wh.status, "fail");
        assert.match(wh.fix ?? "", /kubeconfig that can get\/list/);
    });

    it("a rollout's terminating pod (deletionTimestamp) is not judged: its old annotations are not reported as wrong", () => {
        const old = pod("healthy");
        old.metadata!.name = "busybox-5d4b549997-n6swj";
        old.metadata!.annotations!["vault.hashicorp.com/role"] = "previous";
        old.metadata!.deletionTimestamp = new Date("2026-12-06T23:59:00Z");
        const r = diagnose(labExpectations(), observed([podObs(old), podObs(pod("healthy"), "healthy-init")]));
        const pods = one(r.checks, "workload.pods");
        assert.deepEqual([pods.status, pods.detail], ["pass", "1 pod(s); 1 terminating, not judged"]);
        assert.deepEqual(r.checks.filter((c) => c.target.includes("n6swj")), []);
        assert.equal(r.ok, true);
        const gone = diagnose(labExpectations(), observed([podObs(old)]));
        assert.deepEqual([one(gone.checks, "workload.pods").status, one(gone.checks, "workload.pods").detail],
            ["fail", "no pods labelled app=busybox in namespace busybox; 1 terminating, not judged"]);
    });

    it("a workload without a Deployment (deployment omitted): workload.pods is skipped, not failed; pods are still expected of " +
        "the others", () => {
        const outputs = labOutputs();
        const workloads = outputs.workloads.value as Record<string, unknown>;
        // As the program exports it (test/program/workloadEdges.test.ts): `deployment: false` only without one.
        workloads.reader = { namespace: "reader", serviceAccount: "reader", role: "reader", files: [], deployment: false };
        const expect = expectationsFromOutputs(outputs).expectations;
        const r = diagnose(expect, observed([], { pods: { busybox: ok([]), reader: ok([]) } }));
        const pods = only(r.checks, "workload.pods");
        assert.deepEqual(pods.map((c) => [c.target, c.status, c.detail]), [
            ["busybox/busybox", "fail", "no pods labelled app=busybox in namespace busybox"],
            ["reader/reader", "skip", "no Deployment: the workload declares none (deployment omitted)"],
        ]);
    });

    describe("Vault side", () => {
        const config = {
            kubernetes_host: "https://aks-vault-dev-4f1c2e.hcp.francecentral.azmk8s.io:443",
            kubernetes_ca_cert: "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----",
            token_reviewer_jwt_set: true,
            issuer: "https://francecentral.oic.prod-aks.azure.com/0000-tenant/1111-cluster/",
            disable_iss_validation: false,
            disable_local_ca_jwt: true,
            pem_keys: [],
        };
        const role = {
            bound_service_account_names: ["busybox"],
            bound_service_account_namespaces: ["busybox"],
            token_policies: ["busybox", "default"],
            token_ttl: 3600,
        };
        const vault = (v: Partial<VaultObservations>): Observations =>
            observed([podObs(pod("healthy"), "healthy-init")], { vault: { config: ok(config), roles: { busybox: ok(role) }, ...v } });

        it("passes a mount configured for this cluster and a role bound to the workload", () => {
            const r = diagnose(labExpectations(), vault({}));
            assert.deepEqual(failing(r.checks), []);
            assert.equal(one(r.checks, "vault.role").detail, "bound to busybox/busybox, policies [busybox, default]");
        });

        it("fails a role bound to another service account or namespace, citing the plugin issues", () => {
            const r = diagnose(labExpectations(), vault({
                roles: {
                    busybox: ok({ ...role, bound_service_account_names: ["vault-auth"], bound_service_account_namespaces: ["default"] }),
                },
            }));
            const c = one(r.checks, "vault.role");
            assert.equal(c.status, "fail");
            assert.equal(
                c.detail,
                "bound_service_account_names [vault-auth] does not include busybox; " +
                    "bound_service_account_namespaces [default] does not include busybox",
            );
            assert.deepEqual(c.ref, ["hashicorp/vault-plugin-auth-kubernetes#79", "hashicorp/vault-plugin-auth-kubernetes#89"]);
            // A change made outside Pulumi: `up` alone compares with its state and would change nothing.
            assert.equal(c.fix, "Run `aks-vault refresh` and then `aks-vault up`: the refresh reads the changed role into the " +
                "state, the `up` restores its bindings from the stack file (`up` alone compares with its state and sees no change).");
        });

        it("fails a missing role (404) and a mount pointing at another API server", () => {
            const r = diagnose(labExpectations(), vault({
                config: ok({ ...config, kubernetes_host: "https://old-cluster.hcp.westeurope.azmk8s.io:443" }),
                roles: { busybox: { ok: false, error: "GET /v1/auth/aks/role/busybox: 404", status: 404 } },
            }));
            // The Kubernetes plugin's own login error for a missing role (path_login.go).
            assert.equal(one(r.checks, "vault.role").cause, "Role busybox does not exist: logins fail with `invalid role name`.");
            // `up` alone compares with its state, which still holds the role: refresh first.
            assert.equal(one(r.checks, "vault.role").fix, "Run `aks-vault refresh` and then `aks-vault up`: the refresh drops the " +
                "deleted role from the state, the `up` recreates it.");
            assert.match(one(r.checks, "vault.auth-config").detail, /kubernetes_host is https:\/\/old-cluster/);
        });

        it("warns when no reviewer JWT is set, and fails an issuer that is not the cluster's", () => {
            const r = diagnose(labExpectations(), vault({
                config: ok({ ...config, token_reviewer_jwt_set: false, issuer: "\"aks-vault-dev-4f1c2e.hcp.francecentral.azmk8s.io\"" }),
            }));
            assert.equal(one(r.checks, "vault.reviewer-jwt").status, "warn");
            const iss = one(r.checks, "vault.issuer");
            assert.equal(iss.status, "fail");
            assert.deepEqual(iss.ref, ["Azure/AKS#2523"]);
        });

        it("matches bound names the way Vault does: *, prefix*, *suffix", () => {
            assert.ok(globMatch(["*"], "busybox"));
            assert.ok(globMatch(["busy*"], "busybox"));
            assert.ok(globMatch(["*box"], "busybox"));
            assert.ok(globMatch(["*syb*"], "busybox"));
            assert.ok(!globMatch(["busy"], "busybox"));
            assert.ok(!globMatch([], "busybox"));
        });
    });

    describe("report", () => {
        it("prints one line per check, and cause/fix/see under a failure", () => {
            const r = diagnose(labExpectations(), observed([podObs(pod("init-stuck"), "sa-not-authorized")]));
            const text = renderText(r);
            const lines = text.split("\n");
            const i = lines.findIndex((l) => l.startsWith("FAIL  log.sa-not-authorized"));
            assert.ok(i >= 0, text);
            assert.match(lines[i + 1], /^ {6}cause: /);
            assert.match(lines[i + 2], /^ {6}fix: {3}/);
            assert.equal(lines[i + 3], "      see:   hashicorp/vault-plugin-auth-kubernetes#79, hashicorp/vault-plugin-auth-kubernetes#49");
            assert.match(text, /\n\d+ passed, 3 failed, 0 warnings, 0 skipped\n$/);
        });

        it("JSON carries ok, summary and the checks", () => {
            const r = diagnose(labExpectations(), observed([podObs(pod("healthy"), "healthy-init")]));
            const j = JSON.parse(renderJson(r)) as { ok: boolean; summary: Record<string, number>; checks: Check[] };
            assert.equal(j.ok, true);
            assert.equal(j.summary.fail, 0);
            assert.equal(j.checks.length, r.checks.length);
            assert.deepEqual(Object.keys(j.checks[0]).sort(), ["detail", "id", "status", "target"]);
        });

        it("never echoes a JWT or Vault token found in an agent log, in text or JSON", () => {
            const r = diagnose(labExpectations(), observed([podObs(pod("init-stuck"), "trace-with-jwt")]));
            const raw = logFixture("trace-with-jwt").join("\n");
            const jwt = /eyJ[\w-]+\.[\w-]+\.[\w-]+/.exec(raw)![0];
            const token = /hvs\.[\w-]+/.exec(raw)![0];
            // The failure is still diagnosed...
            assert.equal(one(r.checks, "log.sa-not-authorized").status, "fail");
            for (const out of [renderText(r), renderJson(r)]) {
                // ...but no piece of either credential survives.
                for (const secret of [jwt, token]) {
                    for (let i = 0; i + 16 <= secret.length; i += 8) {
                        assert.ok(!out.includes(secret.slice(i, i + 16)), `leaked ${secret.slice(i, i + 16)}`);
                    }
                }
            }
        });
    });
});

describe("doctor: an app container that crashes after the secrets rendered", () => {
    it("passes the injection and the file, and names the container the kubelet holds back", () => {
        const p = pod("healthy");
        p.status!.conditions!.find((c) => c.type === "Ready")!.status = "False";
        const app = p.status!.containerStatuses!.find((s) => s.name === "busybox")!;
        app.ready = false;
        app.state = { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container" } };
        const r = diagnose(labExpectations(), {
            injectorDeployments: { ok: true, value: deployments() },
            webhooks: { ok: true, value: webhooks() },
            pods: { busybox: { ok: true, value: [{ pod: p, logs: {} }] } },
        });
        assert.deepEqual(
            r.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.detail}`),
            ["pod.ready: not Ready: busybox CrashLoopBackOff"],
        );
    });
});
