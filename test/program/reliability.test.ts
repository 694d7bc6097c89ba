/**
 * Nothing lost, failures survivable: protection of the cluster and the KV mount, seeded values
 * left alone after the first write, reviewer token rotation (new before old), the injector's
 * resilience (PDB, spread, namespaceSelector, failurePolicy, private CA), the no-long-lived-token
 * reviewer mode and wildcard roles. Every value is read from what reaches Azure, Kubernetes or Vault.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { unknownChartKeys } from "../../policies/chartKeys";
import { renderInjectorValues } from "../../components/injectorValues";
import { setAt } from "../support/fixtures";
import type * as pulumi from "@pulumi/pulumi";
import { secretUid } from "../support/cloud";
import { referenceText, stackConfig, valueOf } from "../support/harness";
import { Run, runLab } from "../support/run";

const MC = "azure-native:containerservice:ManagedCluster";
const RG = "azure-native:resources:ResourceGroup";
const MOUNT = "vault:index/mount:Mount";
const SEED = "vault:kv/secretV2:SecretV2";
const SECRET = "kubernetes:core/v1:Secret";
const AUTH_CONFIG = "vault:kubernetes/authBackendConfig:AuthBackendConfig";
const CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
const RELEASE = "kubernetes:helm.sh/v3:Release";

const TEST_CA = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUPrivateCAforVaultTLS\n-----END CERTIFICATE-----\n";

describe("reliability", () => {
    // A build under the mocks costs about a second: the tests share two runs, the lab as it is and
    // the lab with every reliability setting away from its default.
    let lab: Run;
    let custom: Run;
    before(async function () {
        this.timeout(60000);
        lab = await runLab();
        custom = await runLab((raw) => {
            setAt(raw, "cluster.protect", false);
            setAt(raw, "kv.protect", false);
            setAt(raw, "workloads[0].seed[0].writeOnce", false);
            setAt(raw, "injector.namespace", "vault-injector");
            setAt(raw, "injector.failurePolicy", "Ignore");
            setAt(raw, "injector.reviewerTokenRotation", "2026-01");
            setAt(raw, "vault.caCertPem", TEST_CA);
        });
    });

    describe("nothing lost: protection", () => {
        it("protects the resource group, the cluster and the KV v2 mount by default", async () => {
            const run = lab;
            assert.equal(run.optionsOf(RG).protect, true);
            assert.equal(run.optionsOf(MC).protect, true);
            assert.equal(run.optionsOf(MOUNT).protect, true);
            // User pools are AgentPool resources; the inline profile (the system pool) is not
            // updated through the cluster, where Azure refuses it.
            assert.deepEqual(run.optionsOf(MC).ignoreChanges, ["agentPoolProfiles"]);
            // An autoscaled user pool: the autoscaler owns its node count after creation, so a
            // day-2 change to the pool must not send the creation-time count again.
            assert.deepEqual(run.optionsOf("azure-native:containerservice:AgentPool").ignoreChanges, ["count"]);
            const pool = run.cloud.one("azure-native:containerservice:AgentPool").inputs;
            assert.equal(pool.enableAutoScaling, true);
            // Protection, not retainOnDelete: a destroy must stop loudly, not orphan silently.
            assert.equal(run.optionsOf(MOUNT).retainOnDelete, false);
        });

        it("lets a disposable stack turn protection off", () => {
            const run = custom;
            assert.equal(run.optionsOf(RG).protect, false);
            assert.equal(run.optionsOf(MC).protect, false);
            assert.equal(run.optionsOf(MOUNT).protect, false);
        });

        it("writes seeded values once and then leaves them to Vault (ignoreChanges on dataJson and its check-and-set option)", async () => {
            assert.deepEqual(lab.optionsOf(SEED).ignoreChanges, ["dataJson", "options"]);
            assert.deepEqual(custom.optionsOf(SEED).ignoreChanges, []);
        });
    });

    describe("reviewer token rotation", () => {
        const tokenSecret = (run: Run) => {
            const s = run.cloud.resources.filter((r) => r.type === SECRET && r.inputs.type === "kubernetes.io/service-account-token");
            assert.equal(s.length, 1, "one reviewer token Secret");
            return String((s[0].inputs.metadata as { name: string }).name);
        };

        it("changing the rotation setting makes a new token Secret and gives Vault its JWT", async () => {
            const first = custom;
            const again = await runLab((raw) => setAt(raw, "injector.reviewerTokenRotation", "2026-01"));
            const rotated = await runLab((raw) => setAt(raw, "injector.reviewerTokenRotation", "2026-07"));
            const [n1, n1b, n2] = [tokenSecret(first), tokenSecret(again), tokenSecret(rotated)];
            assert.match(n1, /^vault-token-reviewer-token-[0-9a-f]{8}$/);
            assert.deepEqual(first.cloud.one("random:index/randomId:RandomId").inputs.keepers, { rotation: "2026-01" });
            assert.equal(n1, n1b, "the same setting keeps the same Secret (no churn on every up)");
            assert.notEqual(n1, n2, "a new setting names a new Secret");

            const jwt1 = first.cloud.one(AUTH_CONFIG).inputs.tokenReviewerJwt;
            const jwt2 = rotated.cloud.one(AUTH_CONFIG).inputs.tokenReviewerJwt;
            assert.equal(jwt1, first.cloud.minted.get(`vault-injector/${n1}`));
            assert.equal(jwt2, rotated.cloud.minted.get(`vault/${n2}`));
            assert.notEqual(jwt1, jwt2, "Vault receives the new Secret's JWT");
        });

        it("gives Vault the live Secret's JWT: a Secret deleted and recreated out of band is repaired at the next up", async () => {
            // The state still holds the old Secret's data; the API server holds a new JWT.
            const run = await runLab(() => undefined, { recreatedSecrets: ["vault/vault-token-reviewer-token"] });
            const live = run.cloud.liveMinted.get("vault/vault-token-reviewer-token");
            assert.ok(live !== undefined, "the program reads the live Secret");
            assert.notEqual(live, run.cloud.minted.get("vault/vault-token-reviewer-token"));
            assert.equal(run.cloud.one(AUTH_CONFIG).inputs.tokenReviewerJwt, live);
            // Read through the cluster's provider, never the ambient kubeconfig.
            assert.deepEqual(run.cloud.reads.map((r) => r.id), ["vault/vault-token-reviewer-token"]);
            assert.equal(run.cloud.reads[0].provider, run.cloud.one(SECRET, "vault-injector-reviewer-token").provider);
        });

        it("exports the token Secret's name and the uid of the Secret the up read, for the doctor's TokenReview", async () => {
            const id = "vault/vault-token-reviewer-token";
            const recreated = await runLab(() => undefined, { recreatedSecrets: [id] });
            for (const [run, incarnation] of [[lab, ""], [recreated, "recreated"]] as const) {
                assert.equal(await valueOf(run.outputs.reviewerTokenSecret as pulumi.Output<string>), "vault-token-reviewer-token");
                // The uid the API server gave the live Secret, not the managed Secret's state.
                assert.equal(await valueOf(run.outputs.reviewerTokenSecretUid as pulumi.Output<string>), secretUid(id, incarnation));
            }
        });

        it("replaces the token Secret create-before-delete, so Vault never holds a deleted token", () => {
            assert.equal(custom.optionsOf(SECRET, "vault-injector-reviewer-token").deleteBeforeReplace, false);
        });

        it("keeps the unrotated Secret name when no rotation is set (existing stacks see no change)", () => {
            const run = lab;
            assert.equal(tokenSecret(run), "vault-token-reviewer-token");
            assert.equal(run.cloud.of("random:index/randomId:RandomId").length, 0);
        });
    });

    describe("reviewer without a long-lived token (kubernetesAuth.reviewer: clientJwt)", () => {
        it("creates no reviewer token, sends Vault none, and binds every workload service account to system:auth-delegator", async () => {
            const run = await runLab((raw) => {
                setAt(raw, "kubernetesAuth.reviewer", "clientJwt");
                raw.workloads.push({
                    name: "api", namespace: "api", serviceAccount: "api-sa", secrets: [{ file: "db", path: "api/db", key: "password" }],
                });
            });
            assert.equal(
                run.cloud.resources.filter((r) => r.type === SECRET && r.inputs.type === "kubernetes.io/service-account-token").length,
                0,
            );
            const cfg = run.cloud.one(AUTH_CONFIG).inputs;
            assert.equal(cfg.tokenReviewerJwt, undefined);
            assert.equal(cfg.disableLocalCaJwt, true);
            const bindings = run.cloud
                .of(CRB)
                .map((b) => b.inputs as { roleRef: { name: string }; subjects: Array<{ name: string; namespace: string }> });
            assert.ok(bindings.every((b) => b.roleRef.name === "system:auth-delegator"));
            assert.deepEqual(
                bindings.flatMap((b) => b.subjects.map((s) => `${s.namespace}/${s.name}`)).sort(),
                ["api/api-sa", "busybox/busybox"],
            );
        });

        it("in the default mode, only the reviewer is an auth delegator", () => {
            const run = lab;
            const subjects = run.cloud
                .of(CRB)
                .flatMap((b) => (b.inputs as { subjects: Array<{ name: string; namespace: string }> }).subjects);
            assert.deepEqual(subjects.map((s) => `${s.namespace}/${s.name}`), ["vault/vault-token-reviewer"]);
        });
    });

    describe("injector resilience", () => {
        it("runs a PDB, spreads replicas, keeps kube-system and its own namespace out of the webhook, fails closed", () => {
            const v = lab.cloud.one(RELEASE).inputs.values as Record<string, any>;
            // The original lab's 3 replicas (the dev stack file), on a cluster that starts with 2 nodes.
            assert.equal((stackConfig().injector as { replicas: number }).replicas, 3);
            assert.equal(v.injector.replicas, 3);
            // 2 of 3 keep serving the webhook through a drain; a drain is never blocked.
            assert.deepEqual(v.injector.podDisruptionBudget, { maxUnavailable: 1 });
            const injectorPods = {
                "app.kubernetes.io/name": "vault-agent-injector", "app.kubernetes.io/instance": "vault", component: "webhook",
            };
            // Preferred, never required, anti-affinity: replaces the chart's required one-per-node
            // rule, which would hold the third replica Pending until the autoscaler adds a node.
            const anti = v.injector.affinity?.podAntiAffinity;
            assert.equal(anti?.requiredDuringSchedulingIgnoredDuringExecution, undefined);
            assert.deepEqual(
                anti?.preferredDuringSchedulingIgnoredDuringExecution.map((t: any) => [
                    t.podAffinityTerm.topologyKey, t.podAffinityTerm.labelSelector.matchLabels,
                ]),
                [["kubernetes.io/hostname", injectorPods], ["topology.kubernetes.io/zone", injectorPods]],
            );
            const spread = v.injector.topologySpreadConstraints as Array<Record<string, any>>;
            assert.deepEqual(spread.map((c) => [c.topologyKey, c.whenUnsatisfiable]).sort(), [
                ["kubernetes.io/hostname", "ScheduleAnyway"], ["topology.kubernetes.io/zone", "ScheduleAnyway"],
            ]);
            for (const c of spread) assert.deepEqual(c.labelSelector.matchLabels, injectorPods);
            assert.deepEqual(v.injector.webhook.namespaceSelector, {
                matchLabels: { "aks-vault.io/vault-injection": "enabled" },
                matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "vault"] }],
            });
            assert.equal(v.injector.webhook.failurePolicy, "Fail");
            const moved = (custom.cloud.one(RELEASE).inputs.values as Record<string, any>).injector.webhook.namespaceSelector;
            assert.deepEqual(moved.matchExpressions[0].values, ["kube-system", "vault-injector"], "follows the injector's namespace");
            assert.equal(v.injector.failurePolicy, undefined, "never the deprecated key (overridden by webhook.failurePolicy)");
        });

        it("takes failurePolicy Ignore when chosen", () => {
            assert.equal((custom.cloud.one(RELEASE).inputs.values as Record<string, any>).injector.webhook.failurePolicy, "Ignore");
        });

        it("gives a private CA bundle from config to the injector, which hands it to every agent", () => {
            assert.equal((lab.cloud.one(RELEASE).inputs.values as Record<string, any>).injector.extraEnvironmentVars, undefined);
            const v = custom.cloud.one(RELEASE).inputs.values as Record<string, any>;
            assert.equal(v.injector.extraEnvironmentVars.AGENT_INJECT_VAULT_CACERT_BYTES, TEST_CA);
        });

        for (const version of ["0.25.0", "0.34.1"]) {
            it(`sets only keys the vault chart ${version} defines, with every option on`, () => {
                const values = renderInjectorValues({
                    externalVaultAddr: "https://vault:8200", replicas: 3, authPath: "aks", logLevel: "info", logFormat: "json",
                    imageTag: "1.7.6", agentImageTag: "2.0.4", nodeSelector: { pool: "system" }, resources: {},
                    namespace: "vault", releaseName: "vault", failurePolicy: "Fail", vaultCaCertPem: TEST_CA,
                });
                assert.deepEqual(unknownChartKeys(values, parse(referenceText(`vault-helm/${version}/values.yaml`))), []);
            });
        }
    });

    describe("wildcards, only when allowed", () => {
        it("binds the role to '*' and creates no service account for it", async () => {
            const run = await runLab((raw) => {
                Object.assign(raw.workloads[0], { serviceAccount: "*", allowWildcard: true });
                raw.platform = { wildcardWorkloads: ["busybox"] };
                delete raw.workloads[0].deployment;
            });
            const role = run.cloud.one("vault:kubernetes/authBackendRole:AuthBackendRole").inputs;
            assert.deepEqual(role.boundServiceAccountNames, ["*"]);
            assert.equal(
                run.cloud.of("kubernetes:core/v1:ServiceAccount")
                    .filter((s) => (s.inputs.metadata as { namespace: string }).namespace === "busybox")
                    .length,
                0,
            );
        });
    });

    describe("first preview (nothing exists yet)", () => {
        it("plans rotation, kubelogin and the CA without asking Azure for credentials of a cluster that does not exist", async () => {
            const run = await runLab((raw) => {
                setAt(raw, "injector.reviewerTokenRotation", "2026-01");
                setAt(raw, "vault.caCertPem", TEST_CA);
                setAt(raw, "cluster.credentials", { mode: "kubelogin", login: "azurecli" });
                setAt(raw, "cluster.entraId", { adminGroupObjectIds: ["5b7d3f2a-1c4e-4a8b-9f6d-2e1c0b9a8d7c"] });
            }, { preview: true });
            assert.equal(run.cloud.calls.filter((c) => c.token.includes("Credentials")).length, 0);
            assert.equal(run.cloud.of("random:index/randomId:RandomId").length, 1);
            assert.equal(run.optionsOf(MC).protect, true);
            assert.equal(
                (run.cloud.one(RELEASE).inputs.values as Record<string, any>).injector.extraEnvironmentVars.AGENT_INJECT_VAULT_CACERT_BYTES,
                TEST_CA,
            );
        });
    });
});
