/**
 * VaultInjector on its own under the cloud mock: what it sends to Kubernetes.
 */
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { parse } from "yaml";
import { AksCluster } from "../../components/aksCluster";
import { VaultInjector, VaultInjectorArgs } from "../../components/vaultInjector";
import { unknownChartKeys } from "../../policies/chartKeys";
import { CloudMock } from "../support/cloud";
import { createArgs } from "../support/clusterArgs";
import { providerName, referenceText, settle, stateOf, useCloud } from "../support/harness";

function injectorArgs(provider: k8s.Provider, extra: Partial<VaultInjectorArgs> = {}): VaultInjectorArgs {
    return {
        provider, namespace: "vault-system", releaseName: "vault", chartVersion: "0.34.1",
        chartRepository: "https://helm.releases.hashicorp.com",
        externalVaultAddr: "https://vault.example.com:8200", replicas: 2, authPath: "aks", logLevel: "info", logFormat: "standard",
        nodeSelector: {}, resources: {}, failurePolicy: "Fail", reviewerServiceAccount: "vault-token-reviewer", ...extra,
    };
}

describe("VaultInjector", () => {
    for (const chartVersion of ["0.34.1", "0.25.0"]) {
        describe(`chart ${chartVersion}`, () => {
            let cloud: CloudMock;
            let injector: VaultInjector;
            before(async () => {
                cloud = await useCloud();
                const cluster = new AksCluster("c", createArgs());
                injector = new VaultInjector("inj", injectorArgs(cluster.provider, { chartVersion }));
                assert.ok(injector.reviewerJwt, "the default reviewer mode has a reviewer JWT");
                await stateOf(injector.reviewerJwt);
                await settle(cloud);
            });

            it("installs the pinned chart from HashiCorp's repository with values the chart defines", () => {
                const rel = cloud.one("kubernetes:helm.sh/v3:Release").inputs as Record<string, any>;
                assert.equal(rel.chart, "vault");
                assert.equal(rel.version, chartVersion);
                assert.equal(rel.namespace, "vault-system");
                assert.equal(rel.atomic, true);
                assert.deepEqual(unknownChartKeys(rel.values, parse(referenceText(`vault-helm/${chartVersion}/values.yaml`))), []);
            });

            it("binds a dedicated reviewer service account to system:auth-delegator", () => {
                const sa = cloud.one("kubernetes:core/v1:ServiceAccount").inputs as Record<string, any>;
                assert.deepEqual(sa.metadata, { name: "vault-token-reviewer", namespace: "vault-system" });
                const crb = cloud.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").inputs as Record<string, any>;
                assert.deepEqual(
                    crb.roleRef,
                    { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
                );
                assert.deepEqual(crb.subjects, [{ kind: "ServiceAccount", name: "vault-token-reviewer", namespace: "vault-system" }]);
            });

            it("creates a long-lived service-account-token Secret and outputs its JWT as a secret", async () => {
                const secret = cloud.one("kubernetes:core/v1:Secret").inputs as Record<string, any>;
                assert.equal(secret.type, "kubernetes.io/service-account-token");
                assert.equal(secret.metadata.namespace, "vault-system");
                assert.equal(secret.metadata.annotations["kubernetes.io/service-account.name"], "vault-token-reviewer");
                assert.ok(injector.reviewerJwt);
                const jwt = await stateOf(injector.reviewerJwt);
                assert.equal(jwt.secret, true);
                assert.equal(jwt.value, cloud.minted.get("vault-system/vault-token-reviewer-token"));
            });

            it("puts all its Kubernetes resources on the given provider", () => {
                const provider = cloud.one("pulumi:providers:kubernetes").name;
                for (const r of cloud.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
                    assert.equal(providerName(r.provider, "kubernetes"), provider, `${r.type} ${r.name}`);
                }
            });
        });
    }
});
