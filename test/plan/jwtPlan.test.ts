/**
 * The offline plan of the JWT example stack (Pulumi.jwt.yaml): it shows the issuer URL flowing
 * from the cluster into the JWT mount, the JWT role and the pods' projected token, and nothing of
 * the Kubernetes-auth wiring (reviewer token, API server host, CA).
 */
import assert from "node:assert/strict";
import { evaluatePlan, renderPlan, Plan } from "../../src/plan/plan";
import { readStackFile } from "../../src/plan/stackFile";
import { STAGES } from "../../src/stages";
import { STAGE_ROOT_TYPES } from "../../src/program/stages";
import { ROOT } from "../support/harness";

describe("offline plan of the JWT stack (Pulumi.jwt.yaml)", function () {
    this.timeout(60000);
    let plan: Plan;
    let text: string;

    before(async () => {
        const file = readStackFile(ROOT, "jwt");
        plan = await evaluatePlan(file.settings, "jwt", file.stage);
        text = renderPlan(plan);
    });

    it("wires the cluster's issuer URL, untouched, into the JWT mount's discovery URL and bound issuer", () => {
        for (const input of ["oidcDiscoveryUrl", "boundIssuer"]) {
            assert.match(text, new RegExp(
                `ManagedCluster {2}aks-vault-jwt: OIDC issuer URL\\n(.*\\n)*? ` +
                    `{4}→ vault:jwt/authBackend:AuthBackend {2}vault-jwt-auth-mount {2}` +
                    `\\.${input} = ⟨ManagedCluster aks-vault-jwt: OIDC issuer URL⟩\\n`,
            ), input);
        }
    });

    it("shows the JWT role and the pods' login annotations", () => {
        assert.ok(plan.nodes.some((n) => n.type === "vault:jwt/authBackendRole:AuthBackendRole" && n.name === "busybox-role"));
        const a = plan.annotations.find((x) => x.workload === "busybox")?.annotations ?? {};
        assert.equal(a["vault.hashicorp.com/auth-type"], "jwt");
        assert.equal(a["vault.hashicorp.com/auth-path"], "auth/aks-jwt");
        assert.equal(a["vault.hashicorp.com/agent-service-account-token-volume-name"], "vault-jwt-token");
        assert.match(text, /vaultJwtAudience: https:\/\/vault\.mydomain\.com:8200\/v1\/auth\/aks-jwt/);
    });

    it("has no reviewer token, TokenReview host or cluster CA going to Vault", () => {
        assert.ok(!plan.nodes.some((n) => n.type.startsWith("vault:kubernetes/") || n.type === "vault:index/authBackend:AuthBackend"));
        assert.ok(!/service account JWT|kubernetesHost|kubernetesCaCert|tokenReviewerJwt/.test(text));
    });

    it("attributes every resource to a stage, and each cut holds exactly its stages", async () => {
        const settings = readStackFile(ROOT, "jwt").settings;
        for (const [k, stage] of STAGES.entries()) {
            const cut = await evaluatePlan(settings, "jwt", stage);
            for (const r of cut.nodes.filter((n) => n.parent === undefined)) {
                assert.ok(STAGE_ROOT_TYPES[r.type] !== undefined, `${r.type} ${r.name} has no stage`);
            }
            assert.deepEqual([...new Set(cut.nodes.map((n) => n.stage))], STAGES.slice(0, k + 1), `cut after ${stage}`);
        }
    });
});
