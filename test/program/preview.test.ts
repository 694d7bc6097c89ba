/**
 * A first `pulumi preview`: the cluster does not exist yet, so every value Azure, Kubernetes or
 * Vault computes is unknown. The program must still register its whole graph without throwing,
 * and must not ask Azure for credentials of a cluster that is not there.
 */
import assert from "node:assert/strict";
import { loadFromConfig } from "../../src/config/load";
import { buildProgram } from "../../src/program/program";
import { STAGES } from "../../src/stages";
import * as pulumi from "@pulumi/pulumi";
import { settle, stackConfig, stateOf, useCloud } from "../support/harness";

describe("first preview of the dev stack (cluster facts unknown)", () => {
    it("registers the whole graph without throwing and without a credentials call", async () => {
        const cloud = await useCloud({ preview: true, config: stackConfig() });
        const { settings, secrets } = loadFromConfig(new pulumi.Config());
        const outputs = buildProgram(settings, secrets);
        await settle(cloud);
        assert.equal(cloud.calls.filter((c) => c.token.endsWith("listManagedClusterAdminCredentials")).length, 0);
        const types = new Set(cloud.resources.map((r) => r.type));
        for (const t of [
            "azure-native:containerservice:ManagedCluster", "kubernetes:helm.sh/v3:Release", "kubernetes:core/v1:Secret",
            "vault:kubernetes/authBackendConfig:AuthBackendConfig", "vault:kubernetes/authBackendRole:AuthBackendRole",
            "kubernetes:apps/v1:Deployment",
        ]) assert.ok(types.has(t), `${t} is registered during preview`);
        const host = await stateOf(outputs.apiServerUrl as pulumi.Output<string>);
        assert.equal(host.known, false, "the API server URL is unknown before the cluster exists");
        const issuer = await stateOf(outputs.oidcIssuerUrl as pulumi.Output<string>);
        assert.equal(issuer.known, false);
    });

    it("cuts the graph after each stage", async () => {
        const expected: Record<string, string[]> = {
            cluster: ["azure-native:containerservice:ManagedCluster"],
            injector: ["kubernetes:helm.sh/v3:Release"],
            "vault-auth": ["vault:kubernetes/authBackendConfig:AuthBackendConfig", "vault:index/mount:Mount"],
            workloads: ["vault:kubernetes/authBackendRole:AuthBackendRole", "kubernetes:apps/v1:Deployment"],
        };
        for (const [i, stage] of STAGES.entries()) {
            const cloud = await useCloud({ preview: true, config: stackConfig() });
            const { settings, secrets } = loadFromConfig(new pulumi.Config());
            buildProgram(settings, secrets, { stage });
            await settle(cloud);
            const types = new Set(cloud.resources.map((r) => r.type));
            STAGES.forEach((s, j) => {
                for (const t of expected[s]) {
                    assert.equal(types.has(t), j <= i, `stage ${stage}: ${t} ${j <= i ? "missing" : "should not be there"}`);
                }
            });
        }
    });
});
