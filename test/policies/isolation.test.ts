/**
 * The three isolation policies on a recorded multi-workload stack: they pass as the program builds
 * it, and each attack of issue 10 that slipped past validation is reported by the policy that
 * guards against it: a policy granting another team's path (vault-policy-workload-paths), a role
 * carrying a foreign or root policy (vault-role-allowed-policies), a template or secret annotation
 * reading an undeclared path (injector-secrets-workload-paths).
 */
import assert from "node:assert/strict";
import type { StackValidationPolicy } from "@pulumi/policy";
import { injectorSecretsWorkloadPaths } from "../../policies/injector-secrets-workload-paths";
import { vaultPolicyWorkloadPaths } from "../../policies/vault-policy-workload-paths";
import { vaultRoleAllowedPolicies } from "../../policies/vault-role-allowed-policies";
import { TYPES } from "../../policies/lib";
import { parseSettings } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { labRaw } from "../support/fixtures";
import { settle, useCloud } from "../support/harness";
import { Fixture, fromRecording, stackViolations } from "../support/policyHarness";

/** busybox (owns devops), payments (owns payments/db, shares it with busybox), mallory (own path). */
function tenants(): Record<string, any> {
    const raw = labRaw();
    raw.workloads[0].secrets.push({ file: "db", path: "payments/db", key: "password", from: "payments" });
    raw.workloads.push(
        {
            name: "payments", namespace: "payments", serviceAccount: "payments", extraCapabilities: ["update"],
            secrets: [{ file: "db", path: "payments/db", key: "password", sharedWith: ["busybox"] }],
            deployment: {},
        },
        {
            name: "mallory", namespace: "mallory", serviceAccount: "mallory",
            secrets: [{
                file: "app",
                path: "mallory/app",
                template: '{{ with secret "secret/data/mallory/app" }}{{ .Data.data.token }}{{ end }}',
            }],
            deployment: {},
        },
    );
    raw.kv.external = [{ path: "legacy/api", readers: ["mallory"] }];
    return raw;
}

describe("workload isolation", () => {
    const paths = vaultPolicyWorkloadPaths();
    const roles = vaultRoleAllowedPolicies();
    const injected = injectorSecretsWorkloadPaths();
    let recorded: Fixture[];
    const fresh = () => structuredClone(recorded);
    const messages = async (policy: StackValidationPolicy, rs: Fixture[], config: object = {}) =>
        (await stackViolations(policy, rs, config)).map((v) => v.message);
    const one = (rs: Fixture[], type: string, name: string) => {
        const found = rs.filter((r) => r.type === type && r.name === name);
        assert.equal(found.length, 1, `${type} ${name}`);
        return found[0];
    };
    const annotations = (rs: Fixture[], workload: string) =>
        (one(rs, TYPES.deployment, `${workload}-deploy`).props.spec as any).template.metadata.annotations as Record<string, string>;

    before(async () => {
        const cloud = await useCloud();
        buildProgram(parseSettings(tenants()), { secretConfig: () => "unused" });
        await settle(cloud);
        recorded = fromRecording(cloud.resources);
    });

    it("is mandatory, each policy named as its file", () => {
        for (const policy of [paths, roles, injected]) assert.equal(policy.enforcementLevel, "mandatory", policy.name);
        assert.deepEqual(
            [paths, roles, injected].map((p) => p.name),
            ["vault-policy-workload-paths", "vault-role-allowed-policies", "injector-secrets-workload-paths"],
        );
    });

    it("passes the stack as the program builds it (grants, extra capabilities on owned paths, templates)", async () => {
        for (const policy of [paths, roles, injected]) assert.deepEqual(await messages(policy, fresh()), [], policy.name);
    });

    it("reports a policy granting another team's path that was not shared", async () => {
        const rs = fresh();
        const p = one(rs, TYPES.vaultPolicy, "mallory-policy");
        p.props.policy = `${String(p.props.policy)}\npath "secret/data/payments/db" {\n  capabilities = ["read"]\n}\n`;
        assert.deepEqual(await messages(paths, rs), [
            'Vault policy "aks-vault.dev.mallory" of workload mallory grants "secret/data/payments/db" on payments/db, ' +
                "owned by payments, which did not share it with mallory. " +
                "The owner lists mallory in sharedWith (or kv.external lists it as a reader), or remove the rule.",
        ]);
    });

    it("reports a glob reaching other teams' paths, and an external path not naming the workload", async () => {
        const rs = fresh();
        one(rs, TYPES.vaultPolicy, "busybox-policy").props.policy = 'path "secret/data/*" { capabilities = ["read"] }';
        const got = await messages(paths, rs);
        assert.deepEqual(
            got.map((m) => /on ([^,]+), owned by ([^,]+),/.exec(m)?.slice(1)).sort(),
            [["legacy/api", "kv.external (outside this program)"], ["mallory/app", "mallory"]],
        );
    });

    it("reports more than read on a shared path for the reader", async () => {
        const rs = fresh();
        const p = one(rs, TYPES.vaultPolicy, "busybox-policy");
        p.props.policy = String(p.props.policy).replace(
            'path "secret/data/payments/db" {\n  capabilities = ["read"]',
            'path "secret/data/payments/db" {\n  capabilities = ["read", "update", "delete"]',
        );
        assert.deepEqual(await messages(paths, rs), [
            'Vault policy "aks-vault.dev.busybox" of workload busybox grants update, delete on payments/db, ' +
                "which it reads but does not own (owner: payments). Only the owner gets more than read.",
        ]);
    });

    it("reports a rule on a path nobody declared", async () => {
        const rs = fresh();
        const p = one(rs, TYPES.vaultPolicy, "mallory-policy");
        p.props.policy = `${String(p.props.policy)}\npath "secret/data/unclaimed" {\n  capabilities = ["read"]\n}\n`;
        const [got] = await messages(paths, rs);
        assert.match(got, /grants "secret\/data\/unclaimed", a path no workload owns and kv.external does not name/);
    });

    it("reports a role carrying another team's policy, any non-allow-listed one, and root however written", async () => {
        const rs = fresh();
        one(rs, TYPES.authBackendRole, "mallory-role").props.tokenPolicies = [
            "aks-vault.dev.mallory", "default", "aks-vault.dev.payments", "admin", " Root",
        ];
        assert.deepEqual(await messages(roles, rs), [
            'Role "mallory" carries policy "aks-vault.dev.payments", which is neither its workload\'s generated policy ' +
                "nor in allowedPolicies (default). " +
                "Remove it, or have the platform add it to allowedPolicies of vault-role-allowed-policies in the pack config.",
            'Role "mallory" carries policy "admin", which is neither its workload\'s generated policy ' +
                "nor in allowedPolicies (default). " +
                "Remove it, or have the platform add it to allowedPolicies of vault-role-allowed-policies in the pack config.",
            'Role "mallory" carries the root policy (" Root"). Remove it: no workload holds root.',
        ]);
    });

    it("takes the allow-list from the platform's pack config, which never allows root", async () => {
        const rs = fresh();
        one(rs, TYPES.authBackendRole, "mallory-role").props.tokenPolicies = ["aks-vault.dev.mallory", "Team-Read", "root"];
        assert.deepEqual(await messages(roles, rs, { allowedPolicies: ["default", "team-read", "root"] }), [
            'Role "mallory" carries the root policy ("root"). Remove it: no workload holds root.',
        ]);
    });

    it("reports a template reading an undeclared path, or using a refused function", async () => {
        const rs = fresh();
        const a = annotations(rs, "mallory");
        a["vault.hashicorp.com/agent-inject-template-app"] =
            '{{ with secret "secret/data/payments/db" }}{{ .Data.data.password }}{{ env "VAULT_TOKEN" }}{{ end }}';
        assert.deepEqual(await messages(injected, rs), [
            'Deployment "mallory-deploy" of workload mallory: template app is refused; expected no `env`: ' +
                "templates may use only secret, index, len, print, printf, println, eq, ne, lt, le, gt, ge, and, or, not, " +
                "base64Decode, base64Encode, base64URLDecode, base64URLEncode, toJSON, toJSONPretty, toLower, toUpper, " +
                "trimSpace, replaceAll, split, join, contains, indent and if/else/range/with/end.",
            'Deployment "mallory-deploy" of workload mallory: template app is refused; ' +
                "expected `secret` reads only the workload's own or granted paths " +
                '(secret/data/legacy/api, secret/data/mallory/app), not "secret/data/payments/db".',
        ]);
    });

    it("reports a secret annotation declaring a path the workload may not read", async () => {
        const rs = fresh();
        annotations(rs, "mallory")["vault.hashicorp.com/agent-inject-secret-stolen"] = "secret/data/payments/db";
        assert.deepEqual(await messages(injected, rs), [
            'Deployment "mallory-deploy" of workload mallory declares secret "secret/data/payments/db" ' +
                "(vault.hashicorp.com/agent-inject-secret-stolen), a path it does not own and was not granted. " +
                "Read only its own or granted paths.",
        ]);
    });
});
