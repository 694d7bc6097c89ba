/**
 * The doctor on a `kubernetesAuth.method: jwt` stack: the outputs that tell it the method, the pod
 * check of the projected token the injector hands the agent, the Vault-side checks of a JWT mount
 * and roles, and the JWT login failures in agent logs.
 */
import assert from "node:assert/strict";
import type { V1Pod } from "@kubernetes/client-node";
import { diagnose } from "../../src/doctor/diagnose";
import { expectationsFromOutputs } from "../../src/doctor/outputs";
import { Check, Expectations, Observations, VaultObservations } from "../../src/doctor/types";
import { deployments, labExpectations, labOutputs, logFixture, pod, webhooks } from "../support/doctorFixtures";

const ok = <T>(value: T) => ({ ok: true as const, value });
const A = "vault.hashicorp.com/";
const ISSUER = labExpectations().oidcIssuerUrl ?? "";
const AUDIENCE = "https://vault.mydomain.com:8200/v1/auth/jwt";

function jwtExpectations(): Expectations {
    return { ...labExpectations(), authPath: "jwt", authMethod: "jwt", jwtAudience: AUDIENCE };
}

/**
 * The healthy lab pod as vault-k8s v1.7.6 mutates it in JWT mode: the projected volume named by
 * `agent-service-account-token-volume-name`, mounted by no app container, is mounted into both
 * agent containers at DefaultServiceAccountMount (agent.go serviceaccount()).
 */
function jwtPod(): V1Pod {
    const p = pod("healthy");
    const mount = { name: "vault-jwt-token", mountPath: "/var/run/secrets/vault.hashicorp.com/serviceaccount", readOnly: true };
    Object.assign(p.metadata?.annotations ?? {}, {
        [`${A}auth-path`]: "auth/jwt",
        [`${A}auth-type`]: "jwt",
        [`${A}agent-service-account-token-volume-name`]: "vault-jwt-token",
        [`${A}auth-config-path`]: "/var/run/secrets/vault.hashicorp.com/serviceaccount/token",
        [`${A}auth-config-remove_jwt_after_reading`]: "false",
    });
    p.spec?.volumes?.push({
        name: "vault-jwt-token",
        projected: { sources: [{ serviceAccountToken: { path: "token", audience: AUDIENCE, expirationSeconds: 3600 } }] },
    });
    for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])]) {
        if (c.name.startsWith("vault-agent")) {
            c.volumeMounts = (c.volumeMounts ?? []).filter((m) => !m.mountPath.includes("kubernetes.io/serviceaccount"));
            c.volumeMounts.push(mount);
        }
    }
    return p;
}

function jwtVault(overrides: { config?: Record<string, unknown>; role?: Record<string, unknown> } = {}): VaultObservations {
    return {
        config: ok({ oidc_discovery_url: ISSUER, bound_issuer: ISSUER, ...overrides.config }),
        roles: {
            busybox: ok({
                role_type: "jwt",
                bound_subject: "system:serviceaccount:busybox:busybox",
                bound_audiences: [AUDIENCE],
                user_claim: "sub",
                token_policies: ["default", "busybox"],
                ...overrides.role,
            }),
        },
    };
}

function observed(p: V1Pod, init = "healthy-init", vault: VaultObservations = jwtVault()): Observations {
    return {
        injectorDeployments: ok(deployments()),
        webhooks: ok(webhooks()),
        pods: { busybox: ok([{ pod: p, logs: { "vault-agent-init": ok(logFixture(init)) } }]) },
        vault,
    };
}

const one = (checks: Check[], id: string): Check => {
    const found = checks.filter((c) => c.id === id);
    assert.equal(found.length, 1, `expected one ${id}: ${JSON.stringify(checks.map((c) => c.id))}`);
    return found[0];
};
const failing = (checks: Check[]) => checks.filter((c) => c.status === "fail").map((c) => c.id);

describe("doctor: kubernetesAuth.method jwt", () => {
    it("reads the method and audience from the stack outputs (absent: kubernetes)", () => {
        const outputs = {
            ...labOutputs(),
            vaultAuthMethod: { value: "jwt", secret: false },
            vaultJwtAudience: { value: AUDIENCE, secret: false },
        };
        const e = expectationsFromOutputs(outputs).expectations;
        assert.equal(e.authMethod, "jwt");
        assert.equal(e.jwtAudience, AUDIENCE);
        assert.equal(expectationsFromOutputs(labOutputs()).expectations.authMethod, undefined);
    });

    it("passes a healthy JWT pod and mount, without the Kubernetes-auth checks", () => {
        const r = diagnose(jwtExpectations(), observed(jwtPod()));
        assert.deepEqual(failing(r.checks), []);
        assert.equal(
            one(r.checks, "pod.jwt-token").detail,
            `projected token for ${AUDIENCE} at /var/run/secrets/vault.hashicorp.com/serviceaccount/token`,
        );
        assert.equal(one(r.checks, "vault.jwt-issuer").status, "pass");
        assert.equal(
            one(r.checks, "vault.role").detail,
            `bound to system:serviceaccount:busybox:busybox, audience ${AUDIENCE}, policies [default, busybox]`,
        );
        assert.ok(
            !r.checks.some((c) => c.id === "vault.reviewer-jwt" || c.id === "vault.auth-config"),
            "no kubernetes_host / reviewer checks on a JWT mount",
        );
    });

    it("fails a pod whose token is for another audience, or that the agent cannot see", () => {
        const wrongAud = jwtPod();
        const source = wrongAud.spec?.volumes?.find((v) => v.name === "vault-jwt-token")?.projected?.sources?.[0].serviceAccountToken;
        if (source !== undefined) source.audience = "https://kubernetes.default.svc";
        assert.match(
            one(diagnose(jwtExpectations(), observed(wrongAud)).checks, "pod.jwt-token").detail,
            /audience is https:\/\/kubernetes\.default\.svc, the role accepts https:\/\/vault/,
        );

        const unmounted = jwtPod();
        for (const c of unmounted.spec?.initContainers ?? []) c.volumeMounts = c.volumeMounts?.filter((m) => m.name !== "vault-jwt-token");
        assert.match(
            one(diagnose(jwtExpectations(), observed(unmounted)).checks, "pod.jwt-token").detail,
            /vault-agent-init does not mount volume vault-jwt-token/,
        );

        const removing = jwtPod();
        delete removing.metadata?.annotations?.[`${A}auth-config-remove_jwt_after_reading`];
        assert.match(
            one(diagnose(jwtExpectations(), observed(removing)).checks, "pod.jwt-token").detail,
            /remove_jwt_after_reading is not "false"/,
        );
    });

    it("fails a mount whose issuer lacks AKS's trailing slash: Vault compares exactly", () => {
        const r = diagnose(jwtExpectations(), observed(jwtPod(), "healthy-init", jwtVault({
            config: { bound_issuer: ISSUER.replace(/\/$/, "") },
        })));
        const c = one(r.checks, "vault.jwt-issuer");
        assert.equal(c.status, "fail");
        assert.equal(c.detail, `bound_issuer is ${ISSUER.replace(/\/$/, "")}, the cluster's issuer is ${ISSUER}`);
    });

    it("fails a role bound to another subject or audience", () => {
        const r = diagnose(jwtExpectations(), observed(jwtPod(), "healthy-init", jwtVault({
            role: { bound_subject: "system:serviceaccount:busybox:default", bound_audiences: ["vault"] },
        })));
        assert.equal(one(r.checks, "vault.role").detail,
            `bound_subject is system:serviceaccount:busybox:default, the pods' sub is system:serviceaccount:busybox:busybox; ` +
                `bound_audiences [vault] does not include ${AUDIENCE}`);
        assert.deepEqual(one(r.checks, "vault.role").ref, ["hashicorp/vault-plugin-auth-jwt#382", "hashicorp/vault-plugin-auth-jwt#206"]);
    });

    it("fails a missing role (404) with the JWT plugin's own login error", () => {
        const vault = jwtVault();
        vault.roles.busybox = { ok: false, error: "GET /v1/auth/jwt/role/busybox: 404", status: 404 };
        const c = one(diagnose(jwtExpectations(), observed(jwtPod(), "healthy-init", vault)).checks, "vault.role");
        assert.equal(c.status, "fail");
        // vault-plugin-auth-jwt path_login.go: `role %q could not be found`.
        assert.equal(c.cause, 'Role busybox does not exist: logins fail with `role "busybox" could not be found`.');
    });

    for (const [log, id, fix] of [
        ["jwt-aud-invalid", "log.jwt-aud-invalid", /agent-service-account-token-volume-name[\s\S]*auth\/jwt\/role\/busybox/],
        ["jwt-sub-invalid", "log.jwt-sub-invalid", /system:serviceaccount:busybox:busybox on auth\/jwt\/role\/busybox/],
        ["jwt-discovery", "log.jwt-discovery", /well-known\/openid-configuration/],
    ] as const) {
        it(`explains ${log} with the workload's own names in the fix`, () => {
            const r = diagnose(jwtExpectations(), observed(jwtPod(), log));
            const c = one(r.checks, id);
            assert.equal(c.status, "fail");
            assert.match(c.fix ?? "", fix);
        });
    }

    it("reports a dial timeout to the issuer as a discovery problem, not as Vault being unreachable", () => {
        const r = diagnose(jwtExpectations(), observed(jwtPod(), "jwt-discovery"));
        assert.ok(!r.checks.some((c) => c.id === "log.vault-unreachable"));
    });
});
