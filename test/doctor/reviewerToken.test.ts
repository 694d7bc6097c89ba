/**
 * The reviewer's token: the doctor reads its Secret and asks the API server for a TokenReview of
 * its token, against recorded objects. Vault shows only `token_reviewer_jwt_set`, so this is how a
 * dead reviewer JWT is seen. The refusal texts come from the API server's legacy token validator
 * (k8s.io/kubernetes v1.34 pkg/serviceaccount/legacy.go) as the TokenReview REST handler reports
 * them (pkg/registry/authentication/tokenreview/storage.go: `status.error`).
 */
import assert from "node:assert/strict";
import { doctor } from "../../src/doctor/index";
import { gather } from "../../src/doctor/gather";
import { diagnose } from "../../src/doctor/diagnose";
import { renderJson, renderText } from "../../src/doctor/render";
import { expectationsFromOutputs } from "../../src/doctor/outputs";
import { Check, Expectations } from "../../src/doctor/types";
import {
    deployments, labExpectations, labOutputs, pod, RecordedCluster, RecordedReader, reviewerTokenSecret, tokenReview, webhooks,
} from "../support/doctorFixtures";

const SECRET = reviewerTokenSecret();
const TOKEN = Buffer.from(SECRET.data?.token ?? "", "base64").toString("utf8");
const UID = SECRET.metadata?.uid ?? "";

/** The lab's expectations with the reviewer Secret the stack outputs name, as the last `up` read it. */
function expectations(uid = UID): Expectations {
    return { ...labExpectations(), reviewerTokenSecret: { namespace: "vault", name: "vault-token-reviewer-token", uid } };
}

function cluster(extra: Partial<RecordedCluster> = {}): RecordedReader {
    return new RecordedReader({
        deployments: deployments(), webhooks: webhooks(), pods: [pod("healthy")],
        secrets: [SECRET], tokenReviews: { [TOKEN]: tokenReview("authenticated") }, ...extra,
    });
}

async function reviewerCheck(expect: Expectations, reader: RecordedReader): Promise<Check> {
    const found = diagnose(expect, await gather(expect, reader)).checks.filter((c) => c.id === "reviewer.token");
    assert.equal(found.length, 1, JSON.stringify(found));
    return found[0];
}

describe("doctor: the reviewer's token (TokenReview)", () => {
    it("reads the Secret the outputs name and reviews its token; passes an authenticated one, naming the identity", async () => {
        const reader = cluster();
        const c = await reviewerCheck(expectations(), reader);
        assert.deepEqual(reader.calls.filter((l) => /Secret|TokenReview/.test(l)), [
            "readSecret vault vault-token-reviewer-token",
            "createTokenReview",
        ]);
        assert.deepEqual(c, {
            id: "reviewer.token", target: "vault/vault-token-reviewer-token", status: "pass",
            detail: "TokenReview: the Secret's token is authenticated as system:serviceaccount:vault:vault-token-reviewer",
        });
    });

    it("fails a deleted Secret: refresh, then up recreates it", async () => {
        const c = await reviewerCheck(expectations(), cluster({ secrets: [] }));
        assert.equal(c.status, "fail");
        assert.equal(c.detail, "Secret vault/vault-token-reviewer-token not found");
        assert.equal(
            c.fix,
            "Run `aks-vault refresh` and then `aks-vault up` (or `pulumi up --refresh`): the refresh drops the deleted Secret " +
                "from the state, the `up` recreates it and writes its new JWT to Vault.",
        );
    });

    it("fails a Secret recreated since the last up (another uid), though its own token is good: up re-reads it", async () => {
        const c = await reviewerCheck(expectations("0b6f1c2d-4e5a-4f70-8123-9a8b7c6d5e4f"), cluster());
        assert.equal(c.status, "fail");
        assert.equal(
            c.detail,
            `the Secret was recreated since the last \`up\` (uid ${UID}; the \`up\` read 0b6f1c2d-4e5a-4f70-8123-9a8b7c6d5e4f); ` +
                "its own token is authenticated as system:serviceaccount:vault:vault-token-reviewer",
        );
        assert.equal(c.fix, "Run `aks-vault up`: the program re-reads the live Secret and writes its JWT to Vault.");
    });

    it("fails a token the API server refuses, quoting its error, and says to rotate", async () => {
        const c = await reviewerCheck(expectations(), cluster({ tokenReviews: { [TOKEN]: tokenReview("refused") } }));
        assert.equal(c.status, "fail");
        assert.equal(
            c.detail,
            "TokenReview: the Secret's token is not authenticated ([invalid bearer token, ServiceAccount UID " +
                "(0c7d2e19-6a3b-4f80-9e21-b4d5c6a7f813) does not match claim (5b0f3f8e-9a41-4c1e-8d3b-2f6a7c9e1d04)])",
        );
        assert.match(c.fix ?? "", /^Rotate it: set injector\.reviewerTokenRotation to a new value .* run `aks-vault up`/);
    });

    it("fails a Secret the token controller never filled, without a review", async () => {
        const { data: _, ...unfilled } = SECRET;
        const reader = cluster({ secrets: [unfilled] });
        const c = await reviewerCheck(expectations(), reader);
        assert.equal(c.status, "fail");
        assert.equal(c.detail, "the Secret has no data.token");
        assert.ok(!reader.calls.includes("createTokenReview"));
    });

    it("says which permission is missing when the identity may not create TokenReviews", async () => {
        const forbidden = Object.assign(new Error("HTTP-Code: 403\nMessage: tokenreviews is forbidden"), { code: 403 });
        const c = await reviewerCheck(expectations(), cluster({ errors: { createTokenReview: forbidden } }));
        assert.equal(c.status, "fail");
        assert.equal(c.detail, "could not create a TokenReview: HTTP-Code: 403");
        assert.match(c.cause ?? "", /may not create tokenreviews/);
    });

    it("has no reviewer check when the stack has no reviewer Secret (clientJwt, jwt, older stacks), and reads none", async () => {
        const reader = cluster();
        const r = diagnose(labExpectations(), await gather(labExpectations(), reader));
        assert.deepEqual(r.checks.filter((c) => c.id === "reviewer.token"), []);
        assert.ok(!reader.calls.some((l) => /Secret|TokenReview/.test(l)));
    });

    it("takes the Secret from the stack outputs, and never prints the token, in text or JSON", async () => {
        const outputs = {
            ...labOutputs(),
            reviewerServiceAccount: { value: "vault-token-reviewer", secret: false },
            reviewerTokenSecret: { value: "vault-token-reviewer-token", secret: false },
            reviewerTokenSecretUid: { value: "0b6f1c2d-4e5a-4f70-8123-9a8b7c6d5e4f", secret: false },
        };
        assert.deepEqual(expectationsFromOutputs(outputs).expectations.reviewerTokenSecret, {
            namespace: "vault", name: "vault-token-reviewer-token", uid: "0b6f1c2d-4e5a-4f70-8123-9a8b7c6d5e4f",
        });
        for (const extra of [{}, { tokenReviews: { [TOKEN]: tokenReview("refused") } }]) {
            const report = await doctor({ outputs, clusterReader: cluster(extra) });
            assert.equal(report.checks.filter((c) => c.id === "reviewer.token").length, 1);
            for (const text of [renderText(report), renderJson(report)]) {
                assert.ok(!text.includes(TOKEN) && !text.includes(SECRET.data?.token ?? "?"), "the token is never printed");
            }
        }
    });
});
