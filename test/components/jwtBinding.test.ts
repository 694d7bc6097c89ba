/**
 * WorkloadBinding with `auth: { method: "jwt" }`: the JWT role, the pod volume and annotations it
 * produces for its own and for users' Deployments, and the options it refuses before registering.
 */
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as vault from "@pulumi/vault";
import { WorkloadBinding, WorkloadBindingArgs } from "../../components/workloadBinding";
import { CloudMock } from "../support/cloud";
import { settle, stateOf, useCloud } from "../support/harness";

const AUDIENCE = "https://vault.example.com:8200/v1/auth/jwt";

function args(k8sProvider: k8s.Provider, vaultProvider: vault.Provider, extra: Partial<WorkloadBindingArgs> = {}): WorkloadBindingArgs {
    return {
        k8sProvider, vaultProvider,
        namespace: "payments", createNamespace: true, serviceAccount: "payments-api", role: "payments",
        authPath: "jwt", auth: { method: "jwt", audience: AUDIENCE, tokenExpirationSeconds: 900 },
        kvMount: "kv", tokenTtl: 900, policies: ["default"], extraCapabilities: [],
        secrets: [{ file: "db-password", path: "payments/db", key: "password" }], seed: [],
        ...extra,
    };
}

describe("WorkloadBinding with JWT auth", () => {
    let cloud: CloudMock;
    let binding: WorkloadBinding;
    let providers: { k: k8s.Provider; v: vault.Provider };
    before(async () => {
        cloud = await useCloud();
        providers = {
            k: new k8s.Provider("k", { kubeconfig: "apiVersion: v1\nkind: Config\n" }),
            v: new vault.Provider("vault", { address: "https://vault.example.com:8200" }),
        };
        binding = new WorkloadBinding("payments", args(providers.k, providers.v, { deployment: { image: "busybox:1.36", replicas: 1 } }));
        await stateOf(binding.podAnnotations);
        await settle(cloud);
    });

    it("registers a JWT role bound to the service account it creates, and no Kubernetes role", () => {
        const sa = (cloud.one("kubernetes:core/v1:ServiceAccount").inputs.metadata as { name: string; namespace: string });
        const role = cloud.one("vault:jwt/authBackendRole:AuthBackendRole").inputs;
        assert.equal(role.boundSubject, `system:serviceaccount:${sa.namespace}:${sa.name}`);
        assert.deepEqual(role.boundAudiences, [AUDIENCE]);
        assert.equal(role.roleType, "jwt");
        assert.equal(role.backend, "jwt");
        assert.equal(cloud.of("vault:kubernetes/authBackendRole:AuthBackendRole").length, 0);
        assert.equal(cloud.of("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").length, 0);
    });

    it("hands users the volume and annotations their own pods need, and puts them on its Deployment", async () => {
        const volumes = binding.podVolumes;
        assert.deepEqual(volumes, [{
            name: "vault-jwt-token",
            projected: { sources: [{ serviceAccountToken: { path: "token", audience: AUDIENCE, expirationSeconds: 900 } }] },
        }]);
        const a = (await stateOf(binding.podAnnotations)).value;
        assert.equal(a["vault.hashicorp.com/agent-service-account-token-volume-name"], volumes[0].name);
        const spec = (cloud.one("kubernetes:apps/v1:Deployment").inputs as any).spec.template.spec;
        assert.deepEqual(spec.volumes, volumes);
        assert.ok(
            spec.containers.every((c: { volumeMounts?: unknown[] }) => c.volumeMounts === undefined),
            "the app container does not mount the Vault token",
        );
    });

    for (const [what, extra, message] of [
        ["a '*' service account", { serviceAccount: "*" },
            /auth method jwt binds one exact subject; namespace and serviceAccount cannot be "\*"/],
        ["a '*' namespace", { namespace: "*", createNamespace: false }, /namespace and serviceAccount cannot be "\*"/],
        ["the audience '*'", { auth: { method: "jwt" as const, audience: "*" } }, /auth\.audience must be one audience/],
        ["an audience with a comma", { auth: { method: "jwt" as const, audience: "a,b" } }, /auth\.audience must be one audience/],
    ] as const) {
        it(`refuses ${what} before registering anything`, () => {
            const before = cloud.resources.length;
            assert.throws(
                () => new WorkloadBinding(`bad-${what.length}`, args(providers.k, providers.v, extra as Partial<WorkloadBindingArgs>)),
                message,
            );
            assert.equal(cloud.resources.length, before);
        });
    }
});
