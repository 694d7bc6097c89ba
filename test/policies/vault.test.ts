/** Vault policies: role bindings, token TTL, auth config CA, policy least privilege. */
import assert from "node:assert/strict";
import { vaultRoleBoundServiceAccounts } from "../../policies/vault-role-bound-service-accounts";
import { vaultRoleTokenTtl } from "../../policies/vault-role-token-ttl";
import { vaultAuthConfigCaCertificate } from "../../policies/vault-auth-config-ca-certificate";
import { vaultPolicyLeastPrivilege } from "../../policies/vault-policy-least-privilege";
import { pathMatches, pathRules } from "../../policies/vaultPolicyRules";
import { renderKvPolicy } from "../../components/vaultPolicy";
import { TYPES } from "../../policies/lib";
import { resourceViolations, stackViolations, urnOf } from "../support/policyHarness";
import { authConfig, clone, injectedDeployment, role, vaultPolicy } from "../support/policyFixtures";

describe("policy vault-role-bound-service-accounts", () => {
    const policy = vaultRoleBoundServiceAccounts();
    const withBinding = (names: string[] | undefined, namespaces: string[] | undefined) => {
        const r = clone(role());
        r.props.boundServiceAccountNames = names;
        r.props.boundServiceAccountNamespaces = namespaces;
        return r;
    };

    it("passes a role bound to one service account in one namespace", async () => {
        assert.deepEqual(await resourceViolations(policy, role()), []);
    });

    it('fails a role bound to every service account name ("*")', async () => {
        assert.deepEqual(await resourceViolations(policy, withBinding(["*"], ["busybox"])), [
            'Role "busybox" binds `boundServiceAccountNames` to "*" (every service account name). ' +
                "Bind it to the workload's explicit service account name, or, if that is really meant, " +
                'ask the platform team to add role "busybox" to `wildcardRoles` in policies/platform-config.json.',
        ]);
    });

    it('fails a role bound to every namespace ("*"), even when globs are allowed', async () => {
        assert.deepEqual(await resourceViolations(policy, withBinding(["busybox"], ["*"]), { allowGlobs: true }), [
            'Role "busybox" binds `boundServiceAccountNamespaces` to "*" (every namespace). ' +
                "Bind it to the workload's explicit namespace, or, if that is really meant, " +
                'ask the platform team to add role "busybox" to `wildcardRoles` in policies/platform-config.json.',
        ]);
    });

    it("fails a glob unless the pack config allows globs", async () => {
        const r = withBinding(["busybox-*"], ["team-*"]);
        assert.deepEqual(await resourceViolations(policy, r), [
            'Role "busybox" binds `boundServiceAccountNames` to the glob "busybox-*". Bind it to explicit service account names, ' +
                "or set `allowGlobs: true` for policy vault-role-bound-service-accounts in the policy pack config.",
            'Role "busybox" binds `boundServiceAccountNamespaces` to the glob "team-*". Bind it to explicit namespaces, ' +
                "or set `allowGlobs: true` for policy vault-role-bound-service-accounts in the policy pack config.",
        ]);
        assert.deepEqual(await resourceViolations(policy, r, { allowGlobs: true }), []);
    });

    it("exempts the roles the platform's pack config lists (wildcardRoles), and only those", async () => {
        const r = withBinding(["*"], ["team-*"]);
        assert.deepEqual(await resourceViolations(policy, r, { wildcardRoles: ["busybox"] }), []);
        assert.equal((await resourceViolations(policy, r, { wildcardRoles: ["other"] })).length, 2);
        const selectorOnly = withBinding(["*"], undefined);
        selectorOnly.props.boundServiceAccountNamespaceSelector = '{"matchLabels":{"team":"a"}}';
        assert.deepEqual(await resourceViolations(policy, selectorOnly, { wildcardRoles: ["busybox"] }), []);
        const unbound = withBinding([], ["busybox"]);
        assert.deepEqual(await resourceViolations(policy, unbound, { wildcardRoles: ["busybox"] }), [
            'Role "busybox" has no `boundServiceAccountNames`. Bind it to the workload\'s explicit service account name.',
        ]);
    });

    it("fails a role without namespaces, or bound by a namespace label selector", async () => {
        const r = withBinding(["busybox"], undefined);
        r.props.boundServiceAccountNamespaceSelector = '{"matchLabels":{"team":"a"}}';
        assert.deepEqual(await resourceViolations(policy, r), [
            'Role "busybox" binds namespaces by the label selector `boundServiceAccountNamespaceSelector`. ' +
                "Remove it and list explicit namespaces in `boundServiceAccountNamespaces`.",
            'Role "busybox" has no `boundServiceAccountNamespaces`. Bind it to the workload\'s explicit namespace.',
        ]);
    });
});

describe("policy vault-role-token-ttl", () => {
    const policy = vaultRoleTokenTtl();

    it("passes a one-hour TTL", async () => {
        assert.deepEqual(await resourceViolations(policy, role()), []);
    });

    it("fails a role with no TTL (the mount's 768 h default)", async () => {
        const r = clone(role());
        delete r.props.tokenTtl;
        assert.deepEqual(await resourceViolations(policy, r), [
            'Role "busybox" sets no `tokenTtl`, so tokens live for the mount\'s default (768 h unless tuned). ' +
                "Set `tokenTtl` to at most 86400 seconds (`tokenTtl` of the workload in stack config).",
        ]);
    });

    it("fails a max TTL above the limit, and honours a configured limit", async () => {
        const r = clone(role());
        r.props.tokenMaxTtl = 7 * 86400;
        assert.deepEqual(await resourceViolations(policy, r), [
            'Role "busybox" sets `tokenMaxTtl` to 604800 seconds, above the allowed 86400. ' +
                "Lower it, or raise `maxTtlSeconds` for policy vault-role-token-ttl in the policy pack config.",
        ]);
        assert.deepEqual(await resourceViolations(policy, r, { maxTtlSeconds: 7 * 86400 }), []);
        assert.deepEqual(await resourceViolations(policy, role(), { maxTtlSeconds: 1800 }), [
            'Role "busybox" sets `tokenTtl` to 3600 seconds, above the allowed 1800. ' +
                "Lower it, or raise `maxTtlSeconds` for policy vault-role-token-ttl in the policy pack config.",
        ]);
    });

    it("fails a periodic token above the limit", async () => {
        const r = clone(role());
        r.props.tokenPeriod = 172800;
        assert.deepEqual(await resourceViolations(policy, r), [
            'Role "busybox" sets `tokenPeriod` to 172800 seconds, above the allowed 86400. ' +
                "Lower it, or raise `maxTtlSeconds` for policy vault-role-token-ttl in the policy pack config.",
        ]);
    });
});

describe("policy vault-auth-config-ca-certificate", () => {
    const policy = vaultAuthConfigCaCertificate();

    it("passes a PEM CA", async () => {
        assert.deepEqual(await resourceViolations(policy, authConfig()), []);
    });

    it("fails a config without a CA", async () => {
        const c = clone(authConfig());
        delete c.props.kubernetesCaCert;
        assert.deepEqual(await resourceViolations(policy, c), [
            "The Kubernetes auth config has no `kubernetesCaCert`. Set it to the cluster's CA certificate (PEM), " +
                "e.g. from the admin kubeconfig's certificate-authority-data.",
        ]);
    });

    it("fails the base64 certificate-authority-data passed as is", async () => {
        const c = clone(authConfig());
        c.props.kubernetesCaCert = Buffer.from(String(c.props.kubernetesCaCert)).toString("base64");
        assert.deepEqual(await resourceViolations(policy, c), [
            "The Kubernetes auth config's `kubernetesCaCert` is not a PEM certificate. " +
                "Set it to the decoded PEM (-----BEGIN CERTIFICATE-----), not the base64 certificate-authority-data.",
        ]);
    });
});

describe("Vault policy rules reader", () => {
    it("reads what renderKvPolicy writes", () => {
        assert.deepEqual(pathRules(renderKvPolicy("secret", ["devops", "app/db"], ["list", "update"])), [
            { path: "secret/data/app/db", capabilities: ["read", "update"] },
            { path: "secret/data/devops", capabilities: ["read", "update"] },
            { path: "secret/metadata/app/db/", capabilities: ["list"] },
            { path: "secret/metadata/devops/", capabilities: ["list"] },
        ]);
    });

    it("reads HCL with comments and the JSON form", () => {
        const hcl = '# admin\npath "sys/*" { # everything\n  capabilities = ["sudo", "read"] // yes\n}\n' +
            '/* path "x" { capabilities = ["read"] } */';
        assert.deepEqual(pathRules(hcl), [{ path: "sys/*", capabilities: ["sudo", "read"] }]);
        assert.deepEqual(
            pathRules('{"path": {"secret/data/a": {"capabilities": ["read"]}}}'),
            [{ path: "secret/data/a", capabilities: ["read"] }],
        );
        assert.equal(pathRules("nothing here"), undefined);
    });

    it("matches Vault's globs: trailing * and + segments", () => {
        assert.equal(pathMatches("secret/data/*", "secret/data/devops"), true);
        assert.equal(pathMatches("secret/data/dev*", "secret/data/devops"), true);
        assert.equal(pathMatches("secret/+/devops", "secret/data/devops"), true);
        assert.equal(pathMatches("secret/+/devops", "secret/data/x/devops"), false);
        assert.equal(pathMatches("secret/data/app*", "secret/data/devops"), false);
    });
});

describe("policy vault-policy-least-privilege", () => {
    const policy = vaultPolicyLeastPrivilege();
    const urn = urnOf(TYPES.vaultPolicy, "busybox-policy");
    const stack = (text: string) => [vaultPolicy(text), injectedDeployment()];

    it("is advisory by default", () => {
        assert.equal(policy.enforcementLevel, "advisory");
    });

    it("passes the generated read-only policy", async () => {
        assert.deepEqual(await stackViolations(policy, [vaultPolicy(), injectedDeployment()]), []);
    });

    it("flags sudo", async () => {
        assert.deepEqual(await stackViolations(policy, stack('path "secret/data/devops" { capabilities = ["read", "sudo"] }')), [
            {
                message: 'Vault policy "busybox" grants `sudo` on "secret/data/devops". ' +
                    "Remove `sudo`; workloads never need root-protected endpoints.",
                urn,
            },
        ]);
    });

    it("flags sys/ paths", async () => {
        const policyText = 'path "secret/data/devops" { capabilities = ["read"] }\npath "sys/mounts" { capabilities = ["read"] }';
        assert.deepEqual(await stackViolations(policy, stack(policyText)), [
            { message: 'Vault policy "busybox" grants access to "sys/mounts", a `sys/` (administration) path. Remove the rule.', urn },
        ]);
    });

    it("flags a wildcard, naming the declared secrets it should list instead", async () => {
        assert.deepEqual(await stackViolations(policy, stack('path "secret/data/*" { capabilities = ["read"] }')), [
            {
                message: 'Vault policy "busybox" grants the wildcard path "secret/data/*", ' +
                    "which covers every secret ever written under it. " +
                    "List the declared secrets it is meant for instead: secret/data/devops.",
                urn,
            },
        ]);
        assert.deepEqual(await stackViolations(policy, stack('path "other/+/x" { capabilities = ["read"] }')), [
            {
                message: 'Vault policy "busybox" grants the wildcard path "other/+/x", which covers every secret ever written under it. ' +
                    "It covers no secret a workload declares: remove it.",
                urn,
            },
        ]);
    });

    it("flags a policy it cannot read", async () => {
        assert.deepEqual(await stackViolations(policy, stack("")), [
            {
                message: 'Vault policy "busybox" has no `path` rule this pack can read. ' +
                    'Write it as `path "<path>" { capabilities = [...] }` blocks.',
                urn,
            },
        ]);
    });
});
