/**
 * The settings schema and the guardrail pack agree: settings the schema accepts pass the pack's
 * mandatory policies, and what a policy would refuse the schema refuses first, naming the key.
 */
import assert from "node:assert/strict";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { MAX_TOKEN_TTL_SECONDS, SUPPORTED_CHART_VERSIONS } from "../../src/config/schema";
import { buildProgram } from "../../src/program/program";
import { guardrailPolicies } from "../../policies/policies";
import chartKeys from "../../policies/chartKeys.generated.json";
import { labRaw } from "../support/fixtures";
import { settle, useCloud } from "../support/harness";
import { secretInputs } from "../support/run";
import { fromRecording, runPack } from "../support/policyHarness";

function refusal(edit: (raw: Record<string, any>) => void, key: string): string {
    const raw = labRaw();
    edit(raw);
    try {
        parseSettings(raw);
    } catch (e) {
        assert.ok(e instanceof SettingsError, String(e));
        const p = e.problems.find((x) => x.key === key);
        assert.ok(p !== undefined, e.message);
        return p.expected;
    }
    assert.fail(`settings accepted; expected a problem at ${key}`);
}

async function packVerdict(edit: (raw: Record<string, any>) => void): Promise<Record<string, string[]>> {
    const raw = labRaw();
    edit(raw);
    const cloud = await useCloud();
    buildProgram(parseSettings(raw), secretInputs());
    await settle(cloud);
    return runPack(guardrailPolicies(), fromRecording(cloud.resources));
}

describe("settings schema and guardrail pack agree", () => {
    it("one injector replica is refused by the schema, with Ignore as with Fail", () => {
        for (const failurePolicy of ["Ignore", "Fail"]) {
            assert.match(
                refusal((raw) => { raw.injector.replicas = 1; raw.injector.failurePolicy = failurePolicy; }, "injector.replicas"),
                /^at least 2: .*vault-injector-high-availability/,
            );
        }
    });

    it("a token TTL above the TTL guardrail's limit is refused by the schema; at the limit the pack passes", async () => {
        assert.equal(MAX_TOKEN_TTL_SECONDS, 86400);
        assert.match(refusal((raw) => { raw.workloads[0].tokenTtl = 31 * 24 * 3600; }, "workloads[0].tokenTtl"), /^at most 86400 seconds/);
        assert.match(refusal((raw) => { raw.workloads[0].tokenMaxTtl = 86401; }, "workloads[0].tokenMaxTtl"), /^at most 86400 seconds/);
        assert.deepEqual(await packVerdict((raw) => { raw.workloads[0].tokenTtl = 86400; raw.workloads[0].tokenMaxTtl = 86400; }), {});
    });

    it("the schema accepts exactly the chart versions whose values the chart-key guardrail knows, and each passes the pack", async () => {
        assert.deepEqual([...SUPPORTED_CHART_VERSIONS].sort(), Object.keys(chartKeys.versions).sort());
        assert.match(refusal((raw) => { raw.injector.chartVersion = "0.30.0"; }, "injector.chartVersion"), /^one of 0\.25\.0, 0\.34\.1: /);
        for (const v of SUPPORTED_CHART_VERSIONS) {
            assert.deepEqual(await packVerdict((raw) => { raw.injector.chartVersion = v; }), {}, v);
        }
    });
});

describe("Entra ID with Azure RBAC and kubelogin credentials", () => {
    const kubelogin = (entraId: Record<string, unknown>) => (raw: Record<string, any>) => {
        raw.cluster.credentials = { mode: "kubelogin", login: "azurecli" };
        raw.cluster.entraId = entraId;
    };

    it("is refused when nothing gives the kubelogin identity Kubernetes rights, with the fix", () => {
        const expected = refusal(kubelogin({}), "cluster.entraId.adminGroupObjectIds");
        assert.match(
            expected,
            /^an Entra group the kubelogin identity belongs to: with Azure RBAC, Owner or Contributor carry no Kubernetes rights/,
        );
        assert.match(expected, /Azure Kubernetes Service RBAC Cluster Admin", role b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b/);
    });

    it("is accepted with an admin group, or with Kubernetes RBAC instead of Azure RBAC", () => {
        const ok = (edit: (raw: Record<string, any>) => void) => { const raw = labRaw(); edit(raw); return parseSettings(raw); };
        assert.doesNotThrow(() => ok(kubelogin({ adminGroupObjectIds: ["5b7d3f2a-1c4e-4a8b-9f6d-2e1c0b9a8d7c"] })));
        assert.doesNotThrow(() => ok(kubelogin({ azureRbac: false })));
    });
});
