/**
 * Kubernetes auth bound to an audience: each role carries `audience`, and the pods' agents log in
 * with a projected token minted for it (the injector's token-volume annotation), never the pod's
 * default token, whose audience is the API server. Vault checks the role's audience against the
 * token and asks TokenReview for it (vault-plugin-auth-kubernetes v0.23.1 path_login.go,
 * token_review.go); without one it accepts any audience and warns on every role write (path_role.go).
 */
import assert from "node:assert/strict";
import { reference } from "../support/harness";
import { labRaw, setAt } from "../support/fixtures";
import { Run, runLab } from "../support/run";

const ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";
const DEPLOY = "kubernetes:apps/v1:Deployment";
const TOKEN_VOLUME_ANNOTATION = "vault.hashicorp.com/agent-service-account-token-volume-name";

interface PodSpec {
    containers: Array<{ volumeMounts?: Array<{ name: string }> }>;
    volumes?: Array<{ name: string; projected?: { sources: Array<{ serviceAccountToken?: { audience: string; path: string } }> } }>;
}

/** The audience of the token the agents of `run`'s Deployment present, as the kubelet would mint it. */
function agentTokenAudience(run: Run): string | undefined {
    type Template = { metadata: { annotations: Record<string, string> }; spec: PodSpec };
    const template = (run.cloud.one(DEPLOY).inputs.spec as { template: Template }).template;
    const volumeName = template.metadata.annotations[TOKEN_VOLUME_ANNOTATION];
    if (volumeName === undefined) return undefined; // the pod's default token
    const volume = (template.spec.volumes ?? []).find((v) => v.name === volumeName);
    assert.ok(volume !== undefined, `the annotation names volume ${volumeName}, which the pod does not have`);
    // The app container does not mount it: a token for Vault stays with the agents.
    assert.ok(template.spec.containers.every((c) => !(c.volumeMounts ?? []).some((m) => m.name === volumeName)));
    const token = volume.projected?.sources.find((s) => s.serviceAccountToken !== undefined)?.serviceAccountToken;
    assert.ok(token !== undefined, "a projected service-account token");
    return token.audience;
}

describe("Kubernetes auth roles bound to an audience", () => {
    it("the annotation is the injector's own", () => {
        const known = reference<{ annotations: Array<{ name: string }> }>("vault-k8s/annotations.json").annotations.map((a) => a.name);
        assert.ok(known.includes(TOKEN_VOLUME_ANNOTATION));
    });

    it("with a reviewer token: a Vault-specific audience, the login URL's prefix, on the role and the pods' token", async () => {
        const run = await runLab();
        const raw = labRaw();
        const expected = `${String(raw.vault.address).replace(/\/$/, "")}/v1/auth/${raw.kubernetesAuth?.path ?? "aks"}`;
        assert.equal(run.cloud.one(ROLE).inputs.audience, expected);
        assert.equal(agentTokenAudience(run), expected);
    });

    it("with clientJwt: the audience the API server accepts, https://<fqdn> without :443", async () => {
        const run = await runLab((raw) => setAt(raw, "kubernetesAuth.reviewer", "clientJwt"));
        const facts = [...run.cloud.clusters.values()][0];
        assert.ok(facts !== undefined);
        assert.equal(run.cloud.one(ROLE).inputs.audience, `https://${facts.fqdn}`);
        assert.equal(agentTokenAudience(run), `https://${facts.fqdn}`);
    });
});
