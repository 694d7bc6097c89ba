/**
 * The offline plan (`npm start`): golden output for the dev stack, what it must never print, the
 * stage cut it shows, and that it runs with no `pulumi` anywhere on PATH.
 */
import assert from "node:assert/strict";
import { execFile } from "child_process";
import { readFileSync, writeFileSync } from "fs";
import * as path from "path";
import { promisify } from "util";
import { evaluatePlan, planJson, renderPlan } from "../../src/plan/plan";
import { readStackFile } from "../../src/plan/stackFile";
import { parseSettings } from "../../src/config/validate";
import { STAGES } from "../../src/stages";
import { STAGE_ROOT_TYPES } from "../../src/program/stages";
import { ROOT, stackConfig } from "../support/harness";

const GOLDEN = path.join(ROOT, "test", "golden", "plan-dev.txt");

describe("offline plan", function () {
    this.timeout(60000);
    let text: string;

    before(async () => {
        const file = readStackFile(ROOT, "dev");
        text = renderPlan(await evaluatePlan(file.settings, "dev", file.stage));
        if (process.env.UPDATE_GOLDEN === "1") writeFileSync(GOLDEN, text);
    });

    it("prints the dev stack's plan exactly as the golden file (npm run golden rewrites it after a reviewed change)", () => {
        assert.equal(text, readFileSync(GOLDEN, "utf8"));
    });

    it("is labelled as an offline plan, not a preview", () => {
        assert.match(text.split("\n")[0], /^OFFLINE PLAN \(not a preview\) for stack "dev"/);
    });

    it("shows which cluster output feeds which Vault and Kubernetes input", () => {
        assert.match(
            text,
            /ManagedCluster {2}aks-vault-dev: fqdn\n(.*\n)*? {4}→ vault:kubernetes\/authBackendConfig:AuthBackendConfig {2}vault-k8s-auth-config {2}\.kubernetesHost = https:\/\/⟨ManagedCluster aks-vault-dev: fqdn⟩:443/,
        );
        assert.match(text, /→ pulumi:providers:kubernetes {2}aks-vault-dev-k8s {2}\.kubeconfig = \[secret\]/);
        assert.match(
            text,
            /vault-token-reviewer-token: data\.token \(service account JWT\)\n {4}→ vault:kubernetes\/authBackendConfig:AuthBackendConfig {2}vault-k8s-auth-config {2}\.tokenReviewerJwt = \[secret\]/,
        );
    });

    it("never prints a secret value: kubeconfig, JWT, seeded literals", async () => {
        const raw = stackConfig() as Record<string, unknown>;
        const workloads = raw.workloads as Array<Record<string, unknown>>;
        workloads[0] = { ...workloads[0], seed: [{ path: "devops", values: { token: { value: "literal-seed-value-42" } } }] };
        const plan = await evaluatePlan(parseSettings(raw), "dev");
        const out = renderPlan(plan);
        const json = JSON.stringify(planJson(plan));
        for (const shown of [out, json]) {
            assert.ok(!shown.includes("literal-seed-value-42"), "seeded literal");
            assert.ok(!/apiVersion: v1|certificate-authority-data|clusterAdmin/.test(shown), "kubeconfig text");
        }
        assert.match(out, /kubeconfig: "\[secret\]"/);
        const seed = (planJson(plan) as { resources: Array<{ type: string; inputs?: Record<string, unknown> }> }).resources
            .find((r) => r.type === "vault:kv/secretV2:SecretV2");
        assert.equal(seed?.inputs?.dataJson, "[secret]");
        // Generated seeds show where they come from, still as a secret.
        assert.match(
            text,
            /RandomPassword {2}busybox-seed-devops-token: result\n {4}→ vault:kv\/secretV2:SecretV2 {2}busybox-seed-devops {2}\.dataJson = \[secret\]/,
        );
    });

    it("shows the policy pack's verdict: a wildcard role the platform config does not exempt is a mandatory violation", async () => {
        // `allowWildcard` in the stack's own config is accepted by the schema; the pack (platform config
        // policies/platform-config.json: `wildcardRoles: []`) still refuses it.
        const plan = await evaluatePlan(parseSettings({
            cluster: { mode: "adopt", name: "aks-shared", resourceGroupName: "rg-aks-shared" },
            vault: { address: "https://vault.example.com:8200" },
            workloads: [{
                name: "payments", namespace: "payments", serviceAccount: "*", allowWildcard: true,
                secrets: [{ file: "db", path: "payments/db", key: "password" }],
            }],
            // The config's exemption (issue 22) is the platform block's; the pack's is the platform file's.
            platform: { wildcardWorkloads: ["payments"] },
        }), "portal");
        const out = renderPlan(plan);
        const section = out.slice(out.indexOf("POLICY PACK ("));
        assert.match(section, /^POLICY PACK \(18 policies on the planned resources: 1 with violations\)\n/);
        assert.match(section, /\n {2}VIOLATED {2}vault-role-bound-service-accounts \(mandatory\): .*\*/);
        assert.match(section, /\n {2}passed {4}vault-role-token-ttl\n/);
        assert.ok(!/passed {4}vault-role-bound-service-accounts/.test(section));
        const json = planJson(plan) as { policyVerdict: Array<{ policy: string; enforcementLevel: string; messages: string[] }> };
        const bad = json.policyVerdict.filter((v) => v.messages.length > 0);
        assert.deepEqual(bad.map((v) => [v.policy, v.enforcementLevel]), [["vault-role-bound-service-accounts", "mandatory"]]);
        // The dev stack's golden plan shows every policy passed.
        assert.match(text, /POLICY PACK \(18 policies on the planned resources: 0 with violations\)/);
    });

    it("plans a portal's minimal object (adopted cluster, every default) with the schema's defaults applied", async () => {
        const plan = await evaluatePlan(parseSettings({
            cluster: { mode: "adopt", name: "aks-shared", resourceGroupName: "rg-aks-shared" },
            vault: { address: "https://vault.example.com:8200" },
            workloads: [{
                name: "payments",
                namespace: "payments",
                serviceAccount: "payments",
                secrets: [{ file: "db", path: "payments/db", key: "password" }],
            }],
        }), "portal");
        const out = renderPlan(plan);
        assert.match(out, /chartVersion|externalVaultAddr: https:\/\/vault\.example\.com:8200/);
        assert.match(out, /replicas: 2\n/);
        assert.match(out, /vault\.hashicorp\.com\/auth-path: auth\/kubernetes/);
        assert.match(out, /path "secret\/data\/payments\/db" \{/);
        assert.match(out, /\.kubernetesHost = https:\/\/⟨ManagedCluster aks-shared: fqdn⟩:443/);
        assert.ok(!plan.nodes.some((n) => n.type === "azure-native:containerservice:ManagedCluster"), "an adopted cluster is not created");
    });

    it("every resource belongs to the stage the runner attributes it to, and each cut holds exactly its stages", async () => {
        const settings = readStackFile(ROOT, "dev").settings;
        for (const [k, stage] of STAGES.entries()) {
            const plan = await evaluatePlan(settings, "dev", stage);
            const roots = plan.nodes.filter((n) => n.parent === undefined);
            for (const r of roots) assert.ok(STAGE_ROOT_TYPES[r.type] !== undefined, `${r.type} ${r.name} has no stage`);
            assert.deepEqual([...new Set(plan.nodes.map((n) => n.stage))], STAGES.slice(0, k + 1), `cut after ${stage}`);
        }
    });

    it("runs from the command line with no pulumi on PATH (what `npm start` does)", async () => {
        const node = process.execPath;
        const { stdout } = await promisify(execFile)(node, [path.join(ROOT, "cli.js")], {
            cwd: ROOT, env: { PATH: path.dirname(node), HOME: process.env.HOME ?? "/tmp" }, timeout: 60000,
        });
        assert.equal(stdout, readFileSync(GOLDEN, "utf8"));
    });
});
