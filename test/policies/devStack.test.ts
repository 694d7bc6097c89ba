/**
 * The whole pack against the dev stack (Pulumi.dev.yaml) as recorded under the cloud mock: it
 * passes every policy, and a stack broken in one place fails exactly the policy that guards it.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "fs";
import * as path from "path";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { guardrailPolicies } from "../../policies/policies";
import { TYPES } from "../../policies/lib";
import { parseSettings } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { ROOT, settle, stackConfig, useCloud } from "../support/harness";
import { Fixture, RunNotes, defaultProvider, fromRecording, only, runPack } from "../support/policyHarness";

describe("the guardrail pack on the dev stack", () => {
    let recorded: Fixture[];
    const policies = guardrailPolicies();
    const fresh = () => structuredClone(recorded);

    before(async () => {
        const cloud = await useCloud({ config: stackConfig() });
        buildProgram(parseSettings(stackConfig()), { secretConfig: () => "unused" });
        await settle(cloud);
        recorded = fromRecording(cloud.resources);
    });

    it("assembles one policy per module, with unique kebab-case names", () => {
        const names = policies.map((p) => p.name);
        assert.equal(new Set(names).size, names.length);
        for (const n of names) assert.match(n, /^[a-z0-9]+(-[a-z0-9]+)*$/);
        const modules = readdirSync(path.join(ROOT, "policies"))
            .filter((f) => /^[a-z0-9]+(-[a-z0-9]+)+\.ts$/.test(f))
            .map((f) => f.replace(/\.ts$/, ""));
        assert.deepEqual([...names].sort(), modules.sort());
    });

    it("sees the resources the policies guard", () => {
        for (const t of Object.values(TYPES)) assert.ok(recorded.some((r) => r.type === t), `the dev stack registers no ${t}`);
    });

    it("passes every policy, mandatory and advisory", async () => {
        assert.deepEqual(await runPack(policies, fresh()), {});
    });

    const mutations: Array<[string, (rs: Fixture[]) => void, Record<string, string[]>]> = [
        ["the OIDC issuer off", (rs) => { only(rs, TYPES.managedCluster).props.oidcIssuerProfile = { enabled: false }; }, {
            "aks-oidc-issuer-enabled": ["The AKS OIDC issuer is off. Set `oidcIssuerProfile: { enabled: true }` on the ManagedCluster."],
        }],
        ["one injector replica", (rs) => { (only(rs, TYPES.helmRelease).props.values as any).injector.replicas = 1; }, {
            "vault-injector-high-availability": [
                "The injector runs 1 replica(s); at least 2 are required. " +
                    "Set the chart value `injector.replicas` to 2 or more (`injector.replicas` in stack config).",
            ],
        }],
        ["the blog's leaderElector.enable typo", (rs) => {
            (only(rs, TYPES.helmRelease).props.values as any).injector.leaderElector = { enable: true };
        }, {
            "vault-chart-values-known-keys": [
                "Chart value `injector.leaderElector.enable` is not defined by vault chart 0.34.1; Helm would ignore it. " +
                    "Fix the key's spelling or remove it.",
            ],
        }],
        ["a chart version range", (rs) => { only(rs, TYPES.helmRelease).props.version = "^0.34.0"; }, {
            "vault-chart-version-pinned": [
                'The vault chart version "^0.34.0" is not exact. ' +
                    "Set `version` to an exact chart version such as 0.34.1 (`injector.chartVersion`).",
            ],
            "vault-chart-values-known-keys": [
                'No key list for vault chart version "^0.34.0" (known: 0.25.0, 0.34.1). ' +
                    "Pin a known version, or add its values.yaml to the reference and run `npm run generate:chart-keys`.",
            ],
        }],
        ["a role bound to every service account", (rs) => { only(rs, TYPES.authBackendRole).props.boundServiceAccountNames = ["*"]; }, {
            "vault-role-bound-service-accounts": [
                'Role "busybox" binds `boundServiceAccountNames` to "*" (every service account name). ' +
                    "Bind it to the workload's explicit service account name, or, if that is really meant, " +
                    'ask the platform team to add role "busybox" to `wildcardRoles` in policies/platform-config.json.',
            ],
        }],
        ["a 30-day token TTL", (rs) => { only(rs, TYPES.authBackendRole).props.tokenTtl = 30 * 86400; }, {
            "vault-role-token-ttl": [
                'Role "busybox" sets `tokenTtl` to 2592000 seconds, above the allowed 86400. ' +
                    "Lower it, or raise `maxTtlSeconds` for policy vault-role-token-ttl in the policy pack config.",
            ],
        }],
        ["an auth config without CA", (rs) => { only(rs, TYPES.authBackendConfig).props.kubernetesCaCert = ""; }, {
            "vault-auth-config-ca-certificate": [
                "The Kubernetes auth config has no `kubernetesCaCert`. Set it to the cluster's CA certificate (PEM), " +
                    "e.g. from the admin kubeconfig's certificate-authority-data.",
            ],
        }],
        ["the reviewer token in the workload namespace", (rs) => {
            (only(rs, TYPES.secret).props.metadata as any).namespace = "busybox";
        }, {
            "vault-reviewer-token-namespace": [
                'Service-account token Secret "vault-injector-reviewer-token" is in namespace "busybox", not the injector\'s (vault). ' +
                    "Create it in the injector's namespace.",
            ],
        }],
        ["the Deployment on the default provider", (rs) => {
            const d = only(rs, TYPES.deployment);
            d.provider = defaultProvider(d.type);
        }, {
            "kubernetes-explicit-provider": [
                'Kubernetes resource kubernetes:apps/v1:Deployment "busybox-deploy" uses the default provider (the ambient kubeconfig). ' +
                    "Pass the cluster's provider: `{ provider: cluster.provider }`.",
            ],
        }],
        ["a Deployment naming a role the stack lacks", (rs) => {
            (only(rs, TYPES.deployment).props.spec as any).template.metadata.annotations["vault.hashicorp.com/role"] = "busybx";
        }, {
            "injector-role-exists": [
                'Deployment "busybox-deploy" uses Vault role "busybx", which this stack does not create (roles: busybox). ' +
                    "Fix the `vault.hashicorp.com/role` annotation or add the role.",
            ],
        }],
        ["a wildcard Vault policy", (rs) => {
            only(rs, TYPES.vaultPolicy).props.policy = 'path "secret/data/*" { capabilities = ["read"] }';
        }, {
            "vault-policy-least-privilege": [
                'Vault policy "aks-vault.dev.busybox" grants the wildcard path "secret/data/*", ' +
                    "which covers every secret ever written under it. " +
                    "List the declared secrets it is meant for instead: secret/data/devops.",
            ],
            // Mount-wide, so also the mandatory guardrail (issue 22).
            "vault-kv-mount-wide-read": [
                'Vault policy "aks-vault.dev.busybox" grants read on "secret/data/*", every secret of the KV mount "secret" ' +
                    "(every team's, on a shared Vault). List the paths it needs, or ask the platform team to add " +
                    '"aks-vault.dev.busybox" to `exemptPolicies` for vault-kv-mount-wide-read in policies/platform-config.json.',
            ],
        }],
        ["local accounts disabled with the admin kubeconfig", (rs) => {
            only(rs, TYPES.managedCluster).props.disableLocalAccounts = true;
        }, {
            "aks-local-accounts-admin-credentials": [
                'AKS cluster "aks-vault-dev-aks" disables local accounts, but Kubernetes provider "aks-vault-dev-k8s" ' +
                    "authenticates with admin credentials, which AKS will refuse. " +
                    "Either keep `disableLocalAccounts` off, or give the provider an Entra ID kubeconfig " +
                    "(`listManagedClusterUserCredentials` with kubelogin `exec`).",
            ],
        }],
    ];

    for (const [what, mutate, expected] of mutations) {
        it(`fails exactly the guarding policy with ${what}`, async () => {
            const rs = fresh();
            mutate(rs);
            assert.deepEqual(await runPack(policies, rs), expected);
        });
    }

    it("mandatory policies are the ones that block", () => {
        const advisory = policies.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name).sort();
        assert.deepEqual(advisory, ["aks-local-accounts-admin-credentials", "vault-policy-least-privilege"]);
        for (const p of policies) assert.ok(p.enforcementLevel === "advisory" || p.enforcementLevel === "mandatory", p.name);
    });

    it("honours pack config: a longer TTL allowed by maxTtlSeconds", async () => {
        const rs = fresh();
        only(rs, TYPES.authBackendRole).props.tokenTtl = 30 * 86400;
        assert.deepEqual(await runPack(policies, rs, { "vault-role-token-ttl": { maxTtlSeconds: 31 * 86400 } }), {});
    });
});

describe("the guardrail pack on a first preview of the dev stack (nothing exists yet)", () => {
    it("runs every policy but the CA check (the cluster CA is unknown), and all pass", async () => {
        const cloud = await useCloud({ config: stackConfig(), preview: true });
        buildProgram(parseSettings(stackConfig()), { secretConfig: () => "unused" });
        await settle(cloud);
        const notes: RunNotes = { skipped: [] };
        assert.deepEqual(await runPack(guardrailPolicies(), fromRecording(cloud.resources), {}, notes), {});
        assert.deepEqual(notes.skipped, ["vault-auth-config-ca-certificate on vault-k8s-auth-config"]);
    });

    it("still catches a broken property the program sets", async () => {
        const cloud = await useCloud({ config: stackConfig(), preview: true });
        buildProgram(parseSettings(stackConfig()), { secretConfig: () => "unused" });
        await settle(cloud);
        const rs = fromRecording(cloud.resources);
        only(rs, TYPES.authBackendRole).props.boundServiceAccountNamespaces = ["*"];
        assert.deepEqual(Object.keys(await runPack(guardrailPolicies(), rs)), ["vault-role-bound-service-accounts"]);
    });
});

for (const file of ["config.example.json", "platform-config.json"]) describe(`policies/${file}`, () => {
    it("configures only policies and keys the pack declares, with values their schema accepts", () => {
        const example = JSON.parse(readFileSync(path.join(ROOT, "policies", file), "utf8")) as Record<string, unknown>;
        const byName = new Map(guardrailPolicies().map((p) => [p.name, p]));
        for (const [name, value] of Object.entries(example)) {
            const policy = byName.get(name);
            assert.ok(policy, `${name} is not a policy of the pack`);
            if (typeof value === "string") {
                assert.ok(["advisory", "mandatory", "disabled"].includes(value), `${name}: ${value}`);
                continue;
            }
            for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
                if (key === "enforcementLevel") continue;
                const schema: PolicyConfigJSONSchema | undefined = policy.configSchema?.properties[key];
                assert.ok(schema, `${name} has no config key ${key}`);
                const actual = Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v;
                assert.equal(actual, schema.type, `${name}.${key}`);
            }
        }
    });
});
