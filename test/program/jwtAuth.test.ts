/**
 * `kubernetesAuth.method: jwt`: what reaches Vault (a JWT mount validating against the AKS issuer,
 * one JWT role per workload bound to its exact service account and audience) and Kubernetes (a
 * projected token for that audience, injector annotations pointing the agent at it), what no
 * longer exists (reviewer identity, token Secret, auth-delegator bindings), and what a switch
 * between the two methods creates and deletes.
 */
import assert from "node:assert/strict";
import { RecordedResource } from "../support/cloud";
import { providerName, reference } from "../support/harness";
import { Run, runLab } from "../support/run";
import { setAt } from "../support/fixtures";
import { STAGE_ROOT_TYPES } from "../../src/program/stages";

const P = "vault.hashicorp.com/";
const JWT_MOUNT = "vault:jwt/authBackend:AuthBackend";
const JWT_ROLE = "vault:jwt/authBackendRole:AuthBackendRole";
const K8S_ROLE = "vault:kubernetes/authBackendRole:AuthBackendRole";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SA = "kubernetes:core/v1:ServiceAccount";

type Volume = {
    name: string;
    projected?: { sources: Array<{ serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number } }> };
};
type PodSpec = {
    serviceAccountName: string;
    containers: Array<{ name: string; volumeMounts?: Array<{ name: string }> }>;
    volumes?: Volume[];
};
type DeploymentInputs = {
    metadata: { namespace: string };
    spec: { template: { metadata: { annotations: Record<string, string> }; spec: PodSpec } };
};

const jwt = (more: (raw: Record<string, any>) => void = () => undefined) => (raw: Record<string, any>) => {
    raw.kubernetesAuth = { ...raw.kubernetesAuth, method: "jwt" };
    more(raw);
};

function deploymentOf(run: Run, name: string): DeploymentInputs {
    return run.cloud.one(DEPLOYMENT, `${name}-deploy`).inputs as unknown as DeploymentInputs;
}

/** The service account the program asked Kubernetes to create for a workload, as sent. */
function serviceAccountSent(run: Run, workload: string): { namespace: string; name: string } {
    const meta = run.cloud.one(SA, `${workload}-sa`).inputs.metadata as { namespace: string; name: string };
    return { namespace: meta.namespace, name: meta.name };
}

/**
 * What vault-k8s v1.7.6 makes of the pod for the agent (agent-inject/agent: `serviceaccount()` and
 * `authConfig()`): which volume it mounts into the agent containers, where, and the auto-auth
 * config it writes. A model of the upstream code, kept small: a volume named by the annotation
 * and mounted by no app container goes to DefaultServiceAccountMount, and `auth-config-<param>`
 * becomes `<param>` with dashes turned into underscores.
 */
function injectorView(annotations: Record<string, string>, spec: PodSpec) {
    const DEFAULT_SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/vault.hashicorp.com/serviceaccount"; // agent.go
    const volumeName = annotations[`${P}agent-service-account-token-volume-name`];
    const appMount = spec.containers.flatMap((c) => c.volumeMounts ?? []).find((m) => m.name === volumeName);
    const volume = (spec.volumes ?? []).find((v) => v.name === volumeName);
    const tokenSource = volume?.projected?.sources.find((s) => s.serviceAccountToken?.path)?.serviceAccountToken;
    const config: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) {
        if (k.startsWith(`${P}auth-config-`)) config[k.slice(`${P}auth-config-`.length).replace(/-/g, "_")] = v;
    }
    if (annotations[`${P}role`] !== undefined) config.role = annotations[`${P}role`];
    return {
        type: annotations[`${P}auth-type`] ?? "kubernetes",
        mountPath: appMount === undefined ? DEFAULT_SERVICE_ACCOUNT_MOUNT : undefined,
        tokenSource,
        config,
    };
}

describe("kubernetesAuth.method jwt", function () {
    this.timeout(30000);
    let run: Run;
    before(async () => {
        run = await runLab(jwt((raw) => {
            raw.workloads.push({
                name: "api",
                namespace: "api",
                serviceAccount: "api-sa",
                injection: { mode: "sidecar" },
                secrets: [{ file: "db", path: "api/db", key: "password" }],
                deployment: {},
            });
        }));
    });

    it("mounts a JWT backend whose discovery URL and bound issuer are the issuer URL exactly as AKS reports it", () => {
        const mount = run.cloud.one(JWT_MOUNT).inputs;
        const issuer = [...run.cloud.clusters.values()][0].issuerUrl; // what the mock's Azure computed
        assert.ok(issuer.endsWith("/"), "AKS issuer URLs end in a slash");
        assert.equal(mount.oidcDiscoveryUrl, issuer);
        assert.equal(mount.boundIssuer, issuer);
        assert.equal(mount.type, "jwt");
        assert.equal(mount.path, "aks", "the stack file's kubernetesAuth.path is kept");
        assert.equal(providerName(run.cloud.one(JWT_MOUNT).provider, "vault"), "vault");
    });

    it("creates no reviewer, no token Secret, no auth-delegator binding and no Kubernetes auth", () => {
        const types = run.cloud.resources.map((r) => r.type);
        assert.equal(
            run.cloud.resources
                .filter((r) => r.type === "kubernetes:core/v1:Secret" && r.inputs.type === "kubernetes.io/service-account-token")
                .length,
            0,
        );
        assert.equal(types.filter((t) => t === "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").length, 0);
        assert.ok(
            !types.some((t) => t.startsWith("vault:kubernetes/") || t === "vault:index/authBackend:AuthBackend"),
            types.filter((t) => t.startsWith("vault:")).join(", "),
        );
        const sas = run.cloud.of(SA).map((s) => (s.inputs.metadata as { name: string }).name).sort();
        assert.deepEqual(sas, ["api-sa", "busybox"], "only the workloads' own service accounts");
        assert.equal(run.outputs.reviewerServiceAccount, undefined);
        assert.equal(run.outputs.reviewerTokenSecret, undefined);
        assert.equal(run.outputs.reviewerTokenSecretUid, undefined);
    });

    it("binds each JWT role to exactly the service account the program creates, with a real audience", () => {
        const audiences = new Set<string>();
        for (const [workload, role] of [["busybox", "busybox"], ["api", "api"]]) {
            const r = run.cloud.one(JWT_ROLE, `${workload}-role`).inputs;
            const sa = serviceAccountSent(run, workload);
            assert.equal(r.roleName, role);
            assert.equal(r.roleType, "jwt");
            assert.equal(r.backend, run.cloud.one(JWT_MOUNT).inputs.path);
            assert.equal(r.boundSubject, `system:serviceaccount:${sa.namespace}:${sa.name}`);
            assert.equal(r.boundClaims, undefined);
            assert.equal(r.userClaim, "sub");
            const aud = r.boundAudiences as string[];
            assert.equal(aud.length, 1);
            assert.ok(aud[0] !== "*" && !aud[0].includes(","));
            audiences.add(aud[0]);
        }
        // Default: the login URL prefix of this Vault and mount.
        assert.deepEqual([...audiences], [`${run.cloud.one("pulumi:providers:vault").inputs.address}/v1/auth/aks`]);
        assert.equal(run.outputs.vaultJwtAudience, [...audiences][0]);
    });

    it("gives JWT roles the workload's TTLs and policies, as Kubernetes roles get them", async () => {
        const k8s = await runLab();
        for (const field of ["tokenTtl", "tokenMaxTtl", "tokenPolicies"]) {
            assert.deepEqual(
                run.cloud.one(JWT_ROLE, "busybox-role").inputs[field],
                k8s.cloud.one(K8S_ROLE, "busybox-role").inputs[field],
                field,
            );
        }
        assert.equal(run.cloud.one(JWT_ROLE, "busybox-role").inputs.tokenTtl, 3600);
    });

    for (const workload of ["busybox", "api"]) {
        it(`${workload}: the pod's projected token is what the role accepts, and the injector hands it to the agent`, () => {
            const d = deploymentOf(run, workload);
            const a = d.spec.template.metadata.annotations;
            const spec = d.spec.template.spec;
            const role = run.cloud.one(JWT_ROLE, `${workload}-role`).inputs;
            const view = injectorView(a, spec);
            assert.equal(view.type, "jwt");
            assert.equal(a[`${P}auth-path`], `auth/${String(role.backend)}`);
            assert.equal(view.config.role, role.roleName);
            assert.ok(view.tokenSource !== undefined, "the named volume is a projected service-account token");
            assert.equal(view.tokenSource.audience, (role.boundAudiences as string[])[0]);
            assert.equal(view.tokenSource.expirationSeconds, 3600);
            assert.ok(view.mountPath !== undefined, "no app container mounts the Vault-audience token");
            assert.equal(view.config.path, `${view.mountPath}/${view.tokenSource.path}`, "the agent reads the file the injector mounts");
            assert.equal(view.config.remove_jwt_after_reading, "false", "the projected volume is read-only");
            assert.equal(spec.serviceAccountName, serviceAccountSent(run, workload).name);
        });
    }

    it("uses only annotation names vault-k8s knows (families by their prefix)", () => {
        type Ref = { annotations: Array<{ name: string }> };
        const known = reference<Ref>("vault-k8s/annotations.json").annotations.map((x) => x.name);
        const families = known.filter((n) => /-<\w+>$/.test(n)).map((n) => n.replace(/<\w+>$/, ""));
        for (const workload of ["busybox", "api"]) {
            const names = Object.keys(deploymentOf(run, workload).spec.template.metadata.annotations);
            const unknown = names.filter((n) => !known.includes(n) && !families.some((f) => n.startsWith(f) && n.length > f.length));
            assert.deepEqual(unknown, []);
            assert.ok(names.includes(`${P}auth-type`) && names.includes(`${P}agent-service-account-token-volume-name`));
        }
    });

    it("takes a configured audience and token lifetime", async () => {
        const custom = await runLab(jwt((raw) => setAt(raw, "kubernetesAuth", {
            method: "jwt", path: "aks-jwt", audience: "vault.mydomain.com", tokenExpirationSeconds: 900,
        })));
        assert.deepEqual(custom.cloud.one(JWT_ROLE).inputs.boundAudiences, ["vault.mydomain.com"]);
        const view = injectorView(
            deploymentOf(custom, "busybox").spec.template.metadata.annotations,
            deploymentOf(custom, "busybox").spec.template.spec,
        );
        assert.equal(view.tokenSource?.audience, "vault.mydomain.com");
        assert.equal(view.tokenSource?.expirationSeconds, 900);
        assert.equal(custom.cloud.one(JWT_MOUNT).inputs.path, "aks-jwt");
    });

    it("puts a Vault namespace into the default audience", async () => {
        const ns = await runLab(jwt((raw) => setAt(raw, "vault.namespace", "team-a")));
        assert.deepEqual(ns.cloud.one(JWT_ROLE).inputs.boundAudiences, ["https://vault.mydomain.com:8200/v1/team-a/auth/aks"]);
    });

    it("plans during a first preview, with the issuer URL still unknown", async () => {
        const preview = await runLab(jwt(), { preview: true });
        assert.equal(preview.cloud.of(JWT_MOUNT).length, 1);
        assert.equal(preview.cloud.of(JWT_ROLE).length, 1);
    });

    it("every top-level resource it registers has a stage, the JWT mount the vault-auth stage", () => {
        const roots = run.options.filter((o) => o.parent === "" || o.parent.endsWith("pulumi:pulumi:Stack::aks-vault-dev"));
        const unstaged = roots.filter((o) => STAGE_ROOT_TYPES[o.type] === undefined && !o.type.startsWith("pulumi:"));
        assert.deepEqual(unstaged.map((o) => `${o.type} ${o.name}`), []);
        assert.equal(STAGE_ROOT_TYPES[roots.find((o) => o.name === "vault-jwt-auth")?.type ?? ""], "vault-auth");
    });
});

describe("the mock Vault refuses what the real one would", () => {
    it("refuses a discovery URL without the issuer's trailing slash", async () => {
        const { CloudMock } = await import("../support/cloud");
        const cloud = new CloudMock({
            existingClusters: { c: { resourceGroupName: "rg", location: "westeurope", oidcIssuerEnabled: true } },
        });
        const issuer = [...cloud.clusters.values()][0].issuerUrl;
        const attempt = (url: string) =>
            cloud.newResource({ type: JWT_MOUNT, name: "m", inputs: { path: "jwt", oidcDiscoveryUrl: url }, custom: true } as never);
        assert.doesNotThrow(() => attempt(issuer));
        assert.throws(() => attempt(issuer.replace(/\/$/, "")), /error checking oidc discovery URL/);
        const role = (inputs: Record<string, unknown>) => cloud.newResource({
            type: JWT_ROLE, name: "r", inputs: { roleType: "jwt", userClaim: "sub", ...inputs }, custom: true,
        } as never);
        assert.throws(() => role({}), /at least one bound constraint/);
        assert.doesNotThrow(() => role({ boundSubject: "system:serviceaccount:a:b" }));
    });
});

describe("switching an existing stack between kubernetes and jwt", function () {
    this.timeout(30000);
    const key = (r: RecordedResource) => `${r.type}::${r.name}`;
    let k8s: Run;
    let jwtRun: Run;
    before(async () => {
        const defaults = (raw: Record<string, any>) => { delete raw.kubernetesAuth; };
        k8s = await runLab(defaults);
        jwtRun = await runLab(jwt((raw) => { delete raw.kubernetesAuth.path; }));
    });

    it("creates exactly the JWT mount and roles, and deletes exactly the reviewer, the Kubernetes mount, its config and roles", () => {
        const before = new Set(k8s.cloud.resources.map(key));
        const after = new Set(jwtRun.cloud.resources.map(key));
        const created = [...after].filter((k) => !before.has(k)).sort();
        const deleted = [...before].filter((k) => !after.has(k)).sort();
        assert.deepEqual(created, [
            "aksvault:index:VaultJwtAuth::vault-jwt-auth",
            `${JWT_MOUNT}::vault-jwt-auth-mount`,
            `${JWT_ROLE}::busybox-role`,
        ].sort());
        assert.deepEqual(deleted, [
            "aksvault:index:VaultKubernetesAuth::vault-k8s-auth",
            "kubernetes:core/v1:Secret::vault-injector-reviewer-token",
            "kubernetes:core/v1:ServiceAccount::vault-injector-reviewer",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding::vault-injector-reviewer-auth-delegator",
            `${K8S_ROLE}::busybox-role`,
            "vault:index/authBackend:AuthBackend::vault-k8s-auth-mount",
            "vault:kubernetes/authBackendConfig:AuthBackendConfig::vault-k8s-auth-config",
        ].sort());
    });

    it("puts the new mount at another path by default: Pulumi creates it before deleting the old one, " +
        "and Vault refuses two mounts at one path", () => {
        const oldPath = k8s.cloud.one("vault:index/authBackend:AuthBackend").inputs.path;
        const newPath = jwtRun.cloud.one(JWT_MOUNT).inputs.path;
        assert.equal(oldPath, "kubernetes");
        assert.equal(newPath, "jwt");
    });

    it("updates the Deployment in place (same name, new pod template), so its pods roll over to the new login", () => {
        const before = deploymentOf(k8s, "busybox");
        const after = deploymentOf(jwtRun, "busybox");
        assert.equal(before.metadata.namespace, after.metadata.namespace);
        assert.equal(before.spec.template.metadata.annotations[`${P}auth-type`], undefined);
        assert.equal(after.spec.template.metadata.annotations[`${P}auth-path`], "auth/jwt");
        // Both log in with a projected token; its audience changes with the method's mount.
        assert.equal(before.spec.template.spec.volumes?.length, 1);
        assert.equal(after.spec.template.spec.volumes?.length, 1);
        assert.notDeepEqual(before.spec.template.spec.volumes, after.spec.template.spec.volumes);
        // The Deployment waits for the new role, so new pods never log in before it exists.
        const deps = jwtRun.optionsOf(DEPLOYMENT, "busybox-deploy").dependencies;
        assert.ok(deps.some((d) => d.includes(`${JWT_ROLE}::busybox-role`)), deps.join("\n"));
    });
});
