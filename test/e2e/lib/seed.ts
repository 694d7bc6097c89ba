/**
 * The seed's end state, read from the real systems: what the API server holds, the Helm release
 * as Helm stored it, Vault's auth config, roles, policies and KV data, a real login by the bound
 * account (and refusals of the others), the pod the real injector mutated, and what the real
 * agent renders from that pod's config. Expected values come from the stack file the user wrote.
 */
import { readFileSync } from "fs";
import { gunzipSync } from "zlib";
import { runInitAgent } from "./agent";
import { Checks, waitFor } from "./checks";
import { Kube, StackEnv, Vault } from "./systems";

/** The release Helm stored (`sh.helm.release.v1.<name>.v<N>`, newest): base64 of gzip of JSON, base64 again in the Secret. */
export function helmRelease(kube: Kube, namespace: string, name: string): any {
    const secrets = kube.list("secret", namespace, `owner=helm,name=${name}`);
    const newest = secrets.sort((a, b) => Number(b.metadata.labels.version) - Number(a.metadata.labels.version))[0];
    if (newest === undefined) throw new Error(`no Helm release ${name} in ${namespace}`);
    const inner = Buffer.from(newest.data.release, "base64").toString("utf8");
    return JSON.parse(gunzipSync(Buffer.from(inner, "base64")).toString("utf8"));
}

/** What the stack file says, with the documented defaults for what it leaves out (docs/configuration.md). */
export function expectations(raw: Record<string, any>) {
    const inj = raw.injector ?? {};
    const auth = raw.kubernetesAuth ?? {};
    const w = raw.workloads[0];
    return {
        injectorNamespace: inj.namespace ?? "vault",
        release: inj.releaseName ?? "vault",
        replicas: inj.replicas ?? 2,
        chartVersion: inj.chartVersion ?? "0.34.1",
        method: (auth.method ?? "kubernetes") as "kubernetes" | "jwt",
        authPath: auth.path as string,
        kvPath: raw.kv?.path ?? "secret",
        workload: w,
        role: (w.role ?? w.name) as string,
        secret: w.secrets[0],
        seed: w.seed[0],
    };
}

export interface SeedReport {
    renderedFile: string;
    rendered: string;
}

export async function checkSeed(
    raw: Record<string, any>, env: StackEnv, kube: Kube, vault: Vault, checks: Checks, agentDir: string,
): Promise<SeedReport | undefined> {
    const x = expectations(raw);
    const w = x.workload;

    // The Helm release, as Helm stored it.
    const rel = helmRelease(kube, x.injectorNamespace, x.release);
    checks.equal("helm release status", rel.info.status, "deployed");
    checks.equal("helm chart version", rel.chart.metadata.version, x.chartVersion);
    checks.equal("chart value injector.replicas", rel.config.injector?.replicas, x.replicas);
    checks.equal("chart value global.externalVaultAddr", rel.config.global?.externalVaultAddr, env.vaultAddr);
    checks.equal("chart value injector.authPath", rel.config.injector?.authPath, `auth/${x.authPath}`);
    checks.equal("chart value injector.leaderElector.enabled", rel.config.injector?.leaderElector?.enabled, true);
    checks.that("the release renders no Vault server (injector only)", !/\nkind: StatefulSet\n/.test(rel.manifest));
    const dep = kube.get("deployment", `${x.release}-agent-injector`, x.injectorNamespace);
    checks.equal("injector Deployment replicas", dep?.spec?.replicas, x.replicas);
    checks.equal("injector replicas available", dep?.status?.availableReplicas, x.replicas);
    const pods = kube.list("pod", x.injectorNamespace, `app.kubernetes.io/name=vault-agent-injector`);
    checks.equal("injector pods on distinct nodes", new Set(pods.map((p) => p.spec.nodeName)).size, x.replicas);
    checks.that("webhook configuration exists", kube.get("mutatingwebhookconfiguration", `${x.release}-agent-injector-cfg`) !== undefined);

    // Vault: the auth mount and its config.
    const mounts = (await vault.read("sys/auth")).data;
    checks.equal(`auth mount ${x.authPath}/ type`, mounts[`${x.authPath}/`]?.type, x.method);
    const cfg = (await vault.read(`auth/${x.authPath}/config`)).data;
    if (x.method === "kubernetes") {
        checks.equal("auth config kubernetes_host", cfg.kubernetes_host, env.apiServerUrl);
        checks.equal("auth config kubernetes_ca_cert", cfg.kubernetes_ca_cert?.trim(), readFileSync(env.caFile, "utf8").trim());
        // Issuer validation is off unless the stack turns it on (upstream's default; docs/design.md).
        const validate = raw.kubernetesAuth?.validateIssuer === true;
        checks.equal("auth config issuer", cfg.issuer, validate ? env.issuer : "");
        checks.equal("auth config disable_iss_validation", cfg.disable_iss_validation, !validate);
        checks.equal("auth config disable_local_ca_jwt", cfg.disable_local_ca_jwt, true);
        checks.equal("auth config token_reviewer_jwt_set", cfg.token_reviewer_jwt_set, true);
    } else {
        checks.equal("auth config oidc_discovery_url", cfg.oidc_discovery_url, env.issuer);
        checks.equal("auth config bound_issuer", cfg.bound_issuer, env.issuer);
    }

    // The role, bound to exactly the workload's account.
    const role = (await vault.read(`auth/${x.authPath}/role/${x.role}`)).data;
    if (x.method === "kubernetes") {
        checks.equal("role bound_service_account_names", role.bound_service_account_names, [w.serviceAccount]);
        checks.equal("role bound_service_account_namespaces", role.bound_service_account_namespaces, [w.namespace]);
        // The documented audience with a reviewer token: the mount's login URL (docs/security.md).
        checks.equal("role audience", role.audience, `${env.vaultAddr}/v1/auth/${x.authPath}`);
    } else {
        checks.equal("role role_type", role.role_type, "jwt");
        checks.equal("role bound_subject", role.bound_subject, `system:serviceaccount:${w.namespace}:${w.serviceAccount}`);
        checks.equal("role user_claim", role.user_claim, "sub");
        checks.that("role has one bound audience", Array.isArray(role.bound_audiences) && role.bound_audiences.length === 1);
    }
    checks.equal("role token_ttl", role.token_ttl, w.tokenTtl);
    const extra = (role.token_policies as string[]).filter((p) => !(w.policies ?? []).includes(p));
    checks.that("role carries the workload's policies", (w.policies ?? []).every((p: string) => role.token_policies.includes(p)));
    checks.equal("role carries one generated policy besides them", extra.length, 1);
    const generated = extra[0];

    // The generated policy, judged by Vault's own ACL: a token holding only it.
    const kvData = `${x.kvPath}/data/${x.secret.path}`;
    const child = await vault.call("POST", "auth/token/create", { policies: [generated], no_default_policy: true, ttl: "5m" });
    if (child.status !== 200) throw new Error(`vault token create with policy ${generated}: ${child.status} ${child.error}`);
    const childToken: string = child.body.auth.client_token;
    // Asked by the operator about the child token (`sys/capabilities`): a token without the default
    // policy may not ask `sys/capabilities-self` itself. Vault answers under the path, in `data`.
    const caps = async (p: string) => {
        const r = await vault.call("POST", "sys/capabilities", { token: childToken, paths: [p] });
        if (r.status !== 200) throw new Error(`vault sys/capabilities for ${p}: ${r.status} ${r.error}`);
        return r.body.data[p];
    };
    checks.equal(`policy ${generated} reads ${kvData}`, await caps(kvData), ["read"]);
    checks.equal(`policy ${generated} denies ${x.kvPath}/data/other-team`, await caps(`${x.kvPath}/data/other-team`), ["deny"]);
    checks.equal(`policy ${generated} denies sys/policies/acl/${generated}`, await caps(`sys/policies/acl/${generated}`), ["deny"]);
    await vault.call("POST", "auth/token/revoke-self", {}, childToken);

    // KV v2 and the seeded value.
    const kvMount = (await vault.read("sys/mounts")).data[`${x.kvPath}/`];
    checks.equal(`${x.kvPath}/ is KV version 2`, [kvMount?.type, kvMount?.options?.version], ["kv", "2"]);
    const seeded = (await vault.read(`${x.kvPath}/data/${x.seed.path}`)).data;
    const value: string = seeded.data[x.secret.key];
    const wanted = x.seed.values[x.secret.key];
    checks.that(
        `seed ${x.seed.path}.${x.secret.key} holds a value as configured`,
        typeof value === "string" && (wanted.random === undefined || value.length === (wanted.random.length ?? 32)),
        `found a ${typeof value} of length ${String(value?.length)}`,
    );

    // Logins: the bound account with the audience the role binds, then two others.
    const audience: string = x.method === "jwt" ? role.bound_audiences[0] : role.audience;
    const login = (jwt: string) => vault.call("POST", `auth/${x.authPath}/login`, { role: x.role, jwt }, null);
    const ok = await login(kube.token(w.namespace, w.serviceAccount, { audience }));
    checks.equal("the bound account logs in", ok.status, 200);
    checks.that("its token carries the generated policy", (ok.body.auth?.policies ?? []).includes(generated));
    if (ok.body.auth?.client_token) await vault.call("POST", "auth/token/revoke-self", {}, ok.body.auth.client_token);
    kube.run(["create", "serviceaccount", "e2e-intruder", "-n", w.namespace]);
    const other = await login(kube.token(w.namespace, "e2e-intruder", { audience }));
    kube.run(["delete", "serviceaccount", "e2e-intruder", "-n", w.namespace]);
    if (x.method === "kubernetes") {
        // vault-plugin-auth-kubernetes path_login.go: logical.CodedError(403, "service account name not authorized").
        const refusal = [403, "service account name not authorized"];
        checks.equal("another account of the namespace is refused", [other.status, other.error], refusal);
        const reviewer = await login(kube.token(x.injectorNamespace, "vault-token-reviewer", { audience }));
        checks.equal("the reviewer account is refused", [reviewer.status, reviewer.error], refusal);
        // With a role audience the plugin checks the token's `aud` itself before any TokenReview
        // (path_login.go parseAndValidateJWT, hashicorp/cap jwt: "invalid audience (aud) claim").
        const apiAudience = await login(kube.token(w.namespace, w.serviceAccount));
        checks.equal(
            "the bound account with the API server's audience is refused",
            [apiAudience.status, apiAudience.error],
            [403, "invalid audience (aud) claim: audience claim does not match any expected audience"],
        );
    } else {
        // vault-plugin-auth-jwt path_login.go: `error validating token: %s` around hashicorp/cap's
        // jwt.Validate, which checks the role's bound_subject as the expected `sub`.
        const refusal = [400, "error validating token: invalid subject (sub) claim"];
        checks.equal("another account of the namespace is refused", [other.status, other.error], refusal);
        const wrongAudience = await login(kube.token(w.namespace, w.serviceAccount));
        checks.equal(
            "the bound account with the API server's audience is refused",
            [wrongAudience.status, wrongAudience.error],
            [400, "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience"],
        );
    }

    // The pod, mutated by the real injector through the real API server.
    const running = () => kube.list("pod", w.namespace).find((p) => p.status?.phase === "Running");
    const pod = await waitFor(`a running pod in ${w.namespace}`, running);
    checks.equal("pod injection status", pod.metadata.annotations?.["vault.hashicorp.com/agent-inject-status"], "injected");
    checks.equal("pod init containers", (pod.spec.initContainers ?? []).map((c: any) => c.name), ["vault-agent-init"]);
    // The documented default injection mode is init-only: the agent renders once, no sidecar (docs/injection-modes.md).
    const sidecar = (w.injection?.mode ?? "init-only") !== "init-only";
    const hasSidecar = pod.spec.containers.some((c: any) => c.name === "vault-agent");
    checks.equal("pod runs the agent sidecar as the injection mode says", hasSidecar, sidecar);

    // The real agent runs that pod's init config with that pod's token.
    const file = `/vault/secrets/${String(x.secret.file).toLowerCase()}`;
    let rendered: string | undefined;
    await checks.attempt("the agent renders the secret file", () => {
        const run = runInitAgent(env, kube, pod, agentDir);
        rendered = run.files[file];
        checks.equal("the agent logs in with the method of the stack", run.authMethod, x.method);
    });
    if (rendered === undefined) return undefined;
    // The file as the workload's template writes it: the prefix, the value, and the line's end.
    checks.equal(`${file} content`, rendered, `${x.secret.prefix ?? ""}${value}\n`);
    return { renderedFile: file, rendered };
}

