/**
 * The diagnosis: compares what the stack says should exist with what the cluster (and optionally
 * Vault) shows, and explains each difference. Pure: input is recorded objects, output is checks.
 */
import type { V1Container, V1ContainerStatus, V1Deployment, V1Pod } from "@kubernetes/client-node";
import {
    AGENT_CONTAINERS,
    ANNOTATION,
    INJECTOR_APP_NAME,
    INJECTOR_NAME_LABEL,
    InjectionMode,
    WEBHOOK_NAME,
    shortAnnotationName,
} from "../agent/vocabulary";
import { LOG_RULES, fill, matchLogRules, renderedFiles, RuleContext } from "./logRules";
import { redact } from "./redact";
import { cleanCheck } from "./render";
import {
    Check, CheckStatus, DoctorReport, Expectations, Observations, Observed, PodObservation,
    VaultObservations, VaultRole, WorkloadExpectation,
} from "./types";

export const INIT_CONTAINER = AGENT_CONTAINERS.init;
export const SIDECAR_CONTAINER = AGENT_CONTAINERS.sidecar;

function unreadable(id: string, target: string, what: string, o: Observed<unknown> & { ok: false }): Check {
    const forbidden = o.status === 403;
    return {
        id, target, status: "fail",
        detail: redact(`could not read ${what}: ${o.error}`),
        cause: forbidden ? "The kubeconfig's identity may not read this object." : undefined,
        fix: forbidden ? "Run the doctor with a kubeconfig that can get/list it (the stack's admin kubeconfig can)." : undefined,
    };
}

function injectorChecks(expect: Expectations, obs: Observations): Check[] {
    const ns = expect.injectorNamespace;
    const target = `${ns}/${INJECTOR_APP_NAME}`;
    if (!obs.injectorDeployments.ok) return [unreadable("injector.deployment", target, "the injector Deployment", obs.injectorDeployments)];
    const deps = obs.injectorDeployments.value;
    if (deps.length === 0) {
        return [{
            id: "injector.deployment", target, status: "fail",
            detail: `no Deployment labelled ${INJECTOR_NAME_LABEL} in namespace ${ns}`,
            cause: "The vault chart's injector is not installed in this namespace (or the release failed).",
            fix: "Run `up` through the injector stage and check the Helm release status (`helm status -n " + ns + " <release>`).",
        }];
    }
    return deps.map((d) => deploymentCheck(d, ns));
}

function deploymentCheck(d: V1Deployment, ns: string): Check {
    const target = `${ns}/${d.metadata?.name ?? INJECTOR_APP_NAME}`;
    const want = d.spec?.replicas ?? 1;
    const ready = d.status?.readyReplicas ?? 0;
    const detail = `${ready}/${want} replicas ready`;
    if (ready === 0) {
        return {
            id: "injector.deployment", target, status: "fail", detail,
            cause:
                "No injector replica is ready: pods created now are not mutated (failurePolicy Ignore) or are rejected (Fail), " +
                "so they start without secrets.",
            fix:
                `kubectl -n ${ns} describe deployment ${d.metadata?.name ?? ""} ` +
                `and kubectl -n ${ns} logs deploy/${d.metadata?.name ?? ""}; then restart the workloads created while it was down.`,
            ref: ["hashicorp/vault-k8s#258", "hashicorp/vault-helm#399"],
        };
    }
    if (ready < want) {
        return {
            id: "injector.deployment", target, status: "warn", detail,
            cause: "Some injector replicas are not ready; injection still works but without redundancy.",
        };
    }
    return { id: "injector.deployment", target, status: "pass", detail };
}

function webhookChecks(obs: Observations): Check[] {
    const target = "mutatingwebhookconfiguration";
    if (!obs.webhooks.ok) return [unreadable("injector.webhook", target, "MutatingWebhookConfigurations", obs.webhooks)];
    if (obs.webhooks.value.length === 0) {
        return [{
            id: "injector.webhook", target, status: "fail",
            detail: `no MutatingWebhookConfiguration labelled ${INJECTOR_NAME_LABEL}`,
            cause: "Without the webhook the API server never asks the injector to mutate pods: no agent, no secrets.",
            fix: "Run `up` through the injector stage (injector.enabled=true renders <release>-agent-injector-cfg).",
        }];
    }
    const checks: Check[] = [];
    for (const cfg of obs.webhooks.value) {
        const name = cfg.metadata?.name ?? "?";
        const hooks = (cfg.webhooks ?? []).filter((w) => w.name === WEBHOOK_NAME);
        if (hooks.length === 0) {
            checks.push({ id: "injector.webhook", target: name, status: "fail", detail: `no webhook named ${WEBHOOK_NAME} in ${name}` });
            continue;
        }
        checks.push({
            id: "injector.webhook", target: name, status: "pass",
            detail: `webhook ${WEBHOOK_NAME} registered (failurePolicy ${hooks[0].failurePolicy ?? "Fail"})`,
        });
        const empty = hooks.some((w) => (w.clientConfig?.caBundle ?? "").length === 0);
        checks.push(empty
            ? {
                id: "injector.webhook-ca", target: name, status: "fail",
                detail: "clientConfig.caBundle is empty",
                cause:
                    "The injector writes its auto-generated CA into the webhook when it starts (AGENT_INJECT_TLS_AUTO); " +
                    "an empty bundle means it never did, so the API server cannot call it over TLS.",
                fix:
                    "Check the injector logs for TLS/leader-election errors " +
                    "and that its ClusterRole may patch mutatingwebhookconfigurations; " +
                    "with injector.certs.secretName set, also set injector.certs.caBundle.",
            }
            : { id: "injector.webhook-ca", target: name, status: "pass", detail: "clientConfig.caBundle is set" });
    }
    return checks;
}

function expectedMode(w: WorkloadExpectation, pod: V1Pod): InjectionMode {
    if (w.mode !== undefined) return w.mode;
    return pod.metadata?.annotations?.[ANNOTATION.prePopulateOnly] === "true" ? "init-only" : "sidecar";
}

function statusOf(pod: V1Pod, name: string, init: boolean): V1ContainerStatus | undefined {
    const list = init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses;
    return list?.find((s) => s.name === name);
}

function has(list: V1Container[] | undefined, name: string): boolean {
    return (list ?? []).some((c) => c.name === name);
}

/** Where the init container stands, as the API shows it. */
type InitState = { kind: "done" } | { kind: "running" } | { kind: "failed"; detail: string } | { kind: "pending"; detail: string };

function initState(pod: V1Pod): InitState {
    const s = statusOf(pod, INIT_CONTAINER, true);
    if (s === undefined) {
        return { kind: "pending", detail: `pod phase ${pod.status?.phase ?? "unknown"}, no status for ${INIT_CONTAINER} yet` };
    }
    const t = s.state?.terminated;
    if (t !== undefined) {
        if (t.exitCode === 0) return { kind: "done" };
        return {
            kind: "failed",
            detail: `${INIT_CONTAINER} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ""}, ${s.restartCount} restarts`,
        };
    }
    const w = s.state?.waiting;
    if (w !== undefined) {
        const last = s.lastState?.terminated;
        if (last !== undefined && last.exitCode !== 0) {
            return {
                kind: "failed",
                detail: `${INIT_CONTAINER} ${w.reason ?? "waiting"} after exiting with code ${last.exitCode}, ${s.restartCount} restarts`,
            };
        }
        return { kind: "pending", detail: `${INIT_CONTAINER} waiting${w.reason ? ` (${w.reason})` : ""}` };
    }
    return { kind: "running" };
}

/** Which containers hold the pod back, with the kubelet's reason (`busybox CrashLoopBackOff`). */
function notReady(pod: V1Pod): string {
    const held = (pod.status?.containerStatuses ?? []).filter((s) => !s.ready)
        .map((s) => {
            const why = s.state?.waiting?.reason ?? (s.state?.terminated ? `exited ${s.state.terminated.exitCode}` : "not ready");
            return `${s.name} ${why}`;
        });
    return held.length > 0 ? held.join(", ") : `phase ${pod.status?.phase ?? "unknown"}`;
}

function excerpt(entry: string): string {
    const lines = entry.split("\n").map((l) => l.trim()).filter((l) => l.length > 0 && l !== "|");
    // The agent's own summary plus the line that carries the error text (`* ...`).
    const key = lines.find((l) => /^\|?\s*\*/.test(l) && !/error occurred/.test(l)) ?? lines[lines.length - 1];
    const text = redact(lines[0] === key ? key : `${lines[0]} … ${key}`);
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

function podChecks(w: WorkloadExpectation, p: PodObservation, ctx: RuleContext, expect?: Expectations): Check[] {
    const pod = p.pod;
    const target = `${w.namespace}/${pod.metadata?.name ?? "?"}`;
    const ann = pod.metadata?.annotations ?? {};
    const checks: Check[] = [];
    const mode = expectedMode(w, pod);

    const injected = ann[ANNOTATION.injectStatus] === "injected" && has(pod.spec?.initContainers, INIT_CONTAINER);
    if (!injected) {
        checks.push({
            id: "pod.injected", target, status: "fail",
            detail:
                `no ${INIT_CONTAINER} container (` +
                `${shortAnnotationName(ANNOTATION.injectStatus)}: ${ann[ANNOTATION.injectStatus] ?? "absent"}, ` +
                `${shortAnnotationName(ANNOTATION.inject)}: ${ann[ANNOTATION.inject] ?? "absent"})`,
            cause: ann[ANNOTATION.inject] === "true"
                ? "The pod was created while the injector webhook was unavailable (failurePolicy Ignore lets it start unmutated)."
                : `The pod template lacks \`${ANNOTATION.inject}: "true"\`.`,
            fix: `Once the injector is ready: kubectl -n ${w.namespace} rollout restart deployment/${w.name}`,
            ref: ["hashicorp/vault-helm#399", "hashicorp/vault-k8s#258"],
        });
        return checks; // nothing below applies to an unmutated pod
    }
    const sidecar = has(pod.spec?.containers, SIDECAR_CONTAINER);
    const modeOk = mode === "sidecar" ? sidecar : !sidecar;
    checks.push({
        id: "pod.injected", target, status: modeOk ? "pass" : "fail",
        detail: `${INIT_CONTAINER}${sidecar ? ` + ${SIDECAR_CONTAINER}` : " only"} (expected ${mode})`,
        fix: modeOk ? undefined : mode === "sidecar"
            ? `Remove \`${ANNOTATION.prePopulateOnly}\` (or set it to "false") to keep the agent running and secrets renewed.`
            : `Set \`${ANNOTATION.prePopulateOnly}: "true"\` for an init-only agent.`,
    });

    const sa = pod.spec?.serviceAccountName ?? "default";
    checks.push(sa === w.serviceAccount
        ? { id: "pod.service-account", target, status: "pass", detail: `runs as ${sa}` }
        : {
            id: "pod.service-account", target, status: "fail",
            detail: `runs as ${sa}, role ${w.role} is bound to ${w.serviceAccount}`,
            cause: "Vault will answer the login with `service account name not authorized`.",
            fix: `Set spec.template.spec.serviceAccountName: ${w.serviceAccount} on deployment/${w.name}.`,
            ref: ["hashicorp/vault-plugin-auth-kubernetes#79"],
        });

    const role = ann[ANNOTATION.role];
    const authPath = ann[ANNOTATION.authPath];
    const wrong: string[] = [];
    if (role !== w.role) wrong.push(`role is ${role ?? "absent"}, expected ${w.role}`);
    if (ctx.authPath !== "" && authPath !== undefined && authPath.replace(/\/+$/, "") !== `auth/${ctx.authPath}`) {
        wrong.push(`${shortAnnotationName(ANNOTATION.authPath)} is ${authPath}, expected auth/${ctx.authPath}`);
    }
    const files = w.files.map((f) => f.replace(/^\/vault\/secrets\//, ""));
    const missing = files.filter((f) => ann[`${ANNOTATION.secretPrefix}${f}`] === undefined);
    if (missing.length > 0) wrong.push(`no agent-inject-secret annotation for ${missing.join(", ")}`);
    checks.push(wrong.length === 0
        ? { id: "pod.annotations", target, status: "pass", detail: `role ${w.role}, ${files.length} secret file(s) annotated` }
        : {
            id: "pod.annotations", target, status: "fail", detail: wrong.join("; "),
            fix:
                "Run `up` again: the Deployment's pod template carries the annotations the stack renders; " +
                "a manual edit or an older ReplicaSet may be running.",
        });

    if (expect?.authMethod === "jwt") checks.push(jwtTokenCheck(pod, target, expect.jwtAudience));

    const state = initState(pod);
    const ready = (pod.status?.conditions ?? []).find((c) => c.type === "Ready")?.status === "True";
    checks.push(ready
        ? { id: "pod.ready", target, status: "pass", detail: "Ready" }
        : {
            id: "pod.ready", target, status: "fail",
            detail: state.kind === "done"
                ? `not Ready: ${notReady(pod)}`
                : `not Ready: ${state.kind === "running" ? `${INIT_CONTAINER} still running` : state.detail}`,
        });

    // Logs: every known failure the agents logged, most specific first.
    const allLines: string[] = [];
    const logProblems: string[] = [];
    for (const [container, o] of Object.entries(p.logs)) {
        if (!o.ok) { logProblems.push(`${container}: ${o.error}`); continue; }
        allLines.push(...o.value);
        for (const m of matchLogRules(o.value, LOG_RULES)) {
            checks.push({
                id: m.rule.id, target: `${target}/${container}`, status: "fail",
                detail: `${m.count}× ${excerpt(m.entry)}`,
                cause: fill(m.rule.cause, ctx), fix: fill(m.rule.fix, ctx), ref: m.rule.ref,
            });
        }
    }
    if (logProblems.length > 0) {
        checks.push({ id: "pod.logs", target, status: "warn", detail: redact(`could not read agent logs: ${logProblems.join("; ")}`) });
    }

    // Files. The API cannot show a file's content (that needs exec); what it shows is whether the
    // init agent exited 0 — it exits only after rendering every template once — and the agent's
    // `(runner) rendered ... => <file>` lines.
    const rendered = renderedFiles(allLines);
    for (const f of w.files) {
        const seen = rendered.has(f);
        const status: CheckStatus = seen || state.kind === "done" ? "pass" : "fail";
        checks.push({
            id: "pod.secret-file", target: `${target}:${f}`, status,
            detail: seen
                ? "rendered (agent log)"
                : state.kind === "done"
                    ? `${INIT_CONTAINER} completed (exit 0): rendered`
                    : `not rendered: ${state.kind === "running" ? `${INIT_CONTAINER} still running` : state.detail}`,
            cause: status === "fail"
                ? "The init agent has not finished: it is still retrying the login or a template (see the log checks above)."
                : undefined,
            fix: status === "fail" && !checks.some((c) => c.id.startsWith("log."))
                ? `kubectl -n ${w.namespace} logs ${pod.metadata?.name ?? ""} -c ${INIT_CONTAINER} ` +
                  `(no known failure was recognised in the last lines)`
                : undefined,
            ref: status === "fail" ? ["hashicorp/vault#24253"] : undefined,
        });
    }
    return checks;
}

function workloadChecks(expect: Expectations, w: WorkloadExpectation, o: Observed<PodObservation[]> | undefined): Check[] {
    const target = `${w.namespace}/${w.name}`;
    if (o === undefined) return [{ id: "workload.pods", target, status: "skip", detail: "pods were not read" }];
    if (!o.ok) return [unreadable("workload.pods", target, "pods", o)];
    // A pod being deleted (a rollout's old ReplicaSet, for up to its grace period) still carries the
    // template it was made from: judged, it would report the previous annotations as wrong.
    const live = o.value.filter((p) => p.pod.metadata?.deletionTimestamp == null);
    const leaving = o.value.length - live.length;
    const terminating = leaving === 0 ? "" : `; ${leaving} terminating, not judged`;
    if (live.length === 0) {
        // Only a namespace, an account, a policy and a role: nothing of the stack's runs as it.
        if (w.deployment === false) {
            const detail = "no Deployment: the workload declares none (deployment omitted)";
            return [{ id: "workload.pods", target, status: "skip", detail }];
        }
        return [{
            id: "workload.pods", target, status: "fail",
            detail: `no pods labelled app=${w.name} in namespace ${w.namespace}${terminating}`,
            fix: `kubectl -n ${w.namespace} describe deployment ${w.name} (replicas 0, or pods rejected by the webhook: see events).`,
        }];
    }
    const ctx: RuleContext = { namespace: w.namespace, serviceAccount: w.serviceAccount, role: w.role, authPath: expect.authPath ?? "" };
    return [
        { id: "workload.pods", target, status: "pass", detail: `${live.length} pod(s)${terminating}` },
        ...live.flatMap((p) => podChecks(w, p, ctx, expect)),
    ];
}

/**
 * The reviewer's token: Vault calls TokenReview with it as its bearer, so a dead one fails every
 * login with `permission denied` while Vault still reports `token_reviewer_jwt_set`. The API
 * server refuses a legacy token whose Secret is gone or was recreated (k8s.io/kubernetes
 * pkg/serviceaccount/legacy.go: "Token has been invalidated", "Token does not match server's
 * copy") or whose service account was deleted or recreated.
 */
function reviewerTokenChecks(expect: Expectations, obs: Observations): Check[] {
    const s = expect.reviewerTokenSecret;
    const o = obs.reviewerToken;
    if (s === undefined || o === undefined) return [];
    const id = "reviewer.token";
    const target = `${s.namespace}/${s.name}`;
    const rotate =
        "Rotate it: set injector.reviewerTokenRotation to a new value (a date or a counter) and run `aks-vault up`; " +
        "a new Secret gets a new JWT and Vault's config is updated before the old Secret is deleted.";
    if (!o.ok) {
        if (o.status !== 404) return [unreadable(id, target, "the reviewer's token Secret", o)];
        return [{
            id, target, status: "fail", detail: `Secret ${target} not found`,
            cause:
                "The reviewer's token Secret was deleted: the API server refuses its JWT, which Vault still holds as " +
                "token_reviewer_jwt, so every Kubernetes-auth login fails with `permission denied`.",
            fix:
                "Run `aks-vault refresh` and then `aks-vault up` (or `pulumi up --refresh`): the refresh drops the deleted Secret " +
                "from the state, the `up` recreates it and writes its new JWT to Vault.",
            ref: ["hashicorp/vault#12855"],
        }];
    }
    const v = o.value;
    if (!v.hasToken) {
        return [{
            id, target, status: "fail", detail: "the Secret has no data.token",
            cause:
                "The token controller has not filled the Secret: its service account is missing, " +
                "or kube-controller-manager is unhealthy.",
            fix: `Check that the reviewer service account exists in namespace ${s.namespace}, then run \`aks-vault up\`.`,
        }];
    }
    const review = v.review;
    if (review === undefined) return [];
    if (!review.ok) {
        const forbidden = review.status === 403;
        return [{
            id, target, status: "fail",
            detail: redact(`could not create a TokenReview: ${review.error}`),
            cause: forbidden ? "The kubeconfig's identity may not create tokenreviews (authentication.k8s.io)." : undefined,
            fix: forbidden ? "Run the doctor with a kubeconfig that can (the stack's admin kubeconfig can)." : undefined,
        }];
    }
    if (!review.value.authenticated) {
        return [{
            id, target, status: "fail",
            detail: redact(`TokenReview: the Secret's token is not authenticated${review.value.error ? ` (${review.value.error})` : ""}`),
            cause:
                "The API server refuses the reviewer's token (its service account was deleted or recreated, or the token was " +
                "invalidated): Vault's TokenReview calls with it fail, so every Kubernetes-auth login fails with `permission denied`.",
            fix: rotate,
            ref: ["hashicorp/vault#12855"],
        }];
    }
    const as = review.value.username === undefined ? "" : ` as ${review.value.username}`;
    if (s.uid !== undefined && v.uid !== undefined && s.uid !== v.uid) {
        return [{
            id, target, status: "fail",
            detail:
                `the Secret was recreated since the last \`up\` (uid ${v.uid}; the \`up\` read ${s.uid}); ` +
                `its own token is authenticated${as}`,
            cause:
                "Vault holds the JWT of the Secret the last `up` read, which the API server refuses since the Secret was " +
                "recreated (\"Token does not match server's copy\"): every Kubernetes-auth login fails with `permission denied`.",
            fix: "Run `aks-vault up`: the program re-reads the live Secret and writes its JWT to Vault.",
            ref: ["hashicorp/vault#12855"],
        }];
    }
    return [{ id, target, status: "pass", detail: `TokenReview: the Secret's token is authenticated${as}` }];
}

/** Vault's glob matching for bound names/namespaces: `*`, `prefix*`, `*suffix`, `*contains*`. */
export function globMatch(patterns: readonly string[], value: string): boolean {
    return patterns.some((p) => {
        if (p === "*") return true;
        const lead = p.startsWith("*");
        const trail = p.endsWith("*") && p.length > 1;
        const core = p.slice(lead ? 1 : 0, trail ? -1 : undefined);
        if (lead && trail) return value.includes(core);
        if (lead) return value.endsWith(core);
        if (trail) return value.startsWith(core);
        return value === p;
    });
}

function stripSlash(u: string): string {
    return u.replace(/\/+$/, "");
}

/**
 * Method jwt: the pod (as mutated) gives the agent a projected token for the role's audience, at
 * the path the agent reads. vault-k8s mounts the volume named by
 * `agent-service-account-token-volume-name` into its containers; `auth-config-path` must be that
 * mount plus the projection's path (hashicorp/vault-k8s#660).
 */
function jwtTokenCheck(pod: V1Pod, target: string, audience: string | undefined): Check {
    const ann = pod.metadata?.annotations ?? {};
    const problems: string[] = [];
    if (ann[ANNOTATION.authType] !== "jwt") {
        problems.push(`auth-type is ${ann[ANNOTATION.authType] ?? "absent (kubernetes)"}, expected jwt`);
    }
    const volumeName = ann[ANNOTATION.tokenVolumeName];
    const volume = (pod.spec?.volumes ?? []).find((v) => v.name === volumeName);
    const token = volume?.projected?.sources?.find((s) => s.serviceAccountToken !== undefined)?.serviceAccountToken;
    if (volumeName === undefined || token === undefined) {
        problems.push(
            `no projected service-account token volume named by agent-service-account-token-volume-name (${volumeName ?? "absent"})`,
        );
    } else {
        if (audience !== undefined && token.audience !== audience) {
            problems.push(`the token's audience is ${token.audience ?? "the API server's"}, the role accepts ${audience}`);
        }
        const initContainer = (pod.spec?.initContainers ?? []).find((c) => c.name === INIT_CONTAINER);
        const mount = initContainer?.volumeMounts?.find((m) => m.name === volumeName);
        const expectedPath = mount === undefined ? undefined : `${mount.mountPath.replace(/\/+$/, "")}/${token.path}`;
        if (mount === undefined) {
            problems.push(`${INIT_CONTAINER} does not mount volume ${volumeName}`);
        } else if (ann[`${ANNOTATION.authConfigPrefix}path`] !== expectedPath) {
            problems.push(`auth-config-path is ${ann[`${ANNOTATION.authConfigPrefix}path`] ?? "absent"}, the token is at ${expectedPath}`);
        }
    }
    const removeJwt =
        ann[`${ANNOTATION.authConfigPrefix}remove_jwt_after_reading`] ?? ann[`${ANNOTATION.authConfigPrefix}remove-jwt-after-reading`];
    if (removeJwt !== "false") {
        problems.push("auth-config-remove_jwt_after_reading is not \"false\" (the agent tries to delete the read-only token)");
    }
    return problems.length === 0
        ? {
            id: "pod.jwt-token", target, status: "pass",
            detail: `projected token for ${token?.audience ?? "?"} at ${ann[`${ANNOTATION.authConfigPrefix}path`] ?? "?"}`,
        }
        : {
            id: "pod.jwt-token", target, status: "fail", detail: problems.join("; "),
            cause: "The agent cannot present a token the JWT role accepts.",
            fix:
                "Run `up` again: with kubernetesAuth.method jwt the Deployment carries the projected volume and the jwt annotations; " +
                "restart pods created before.",
            ref: ["hashicorp/vault-k8s#660", "hashicorp/vault#11968"],
        };
}

/**
 * Method jwt: the mount trusts exactly the cluster's issuer; each role binds its workload's subject
 * and the audience.
 */
function jwtVaultChecks(expect: Expectations, v: VaultObservations): Check[] {
    const path = expect.authPath ?? "?";
    const checks: Check[] = [];
    const cfgTarget = `vault:auth/${path}/config`;
    if (!v.config.ok) {
        checks.push({
            ...unreadable("vault.auth-config", cfgTarget, "the auth mount's config", v.config),
            cause: v.config.status === 404 ? `No JWT auth is mounted at auth/${path}.` : undefined,
            fix: v.config.status === 404 ? "Run `up` through the vault-auth stage." : undefined,
        });
    } else {
        const c = v.config.value;
        const url = c.oidc_discovery_url ?? "";
        const bound = c.bound_issuer ?? "";
        const issuer = expect.oidcIssuerUrl;
        // Exact comparison, no slash stripping: Vault compares exactly (hashicorp/cap keyset.go).
        const wrong: string[] = [];
        if (url === "") wrong.push("oidc_discovery_url is not set");
        else if (issuer !== undefined && url !== issuer) wrong.push(`oidc_discovery_url is ${url}, the cluster's issuer is ${issuer}`);
        if (bound === "") wrong.push("bound_issuer is not set");
        else if (issuer !== undefined && bound !== issuer) wrong.push(`bound_issuer is ${bound}, the cluster's issuer is ${issuer}`);
        checks.push(wrong.length === 0
            ? { id: "vault.jwt-issuer", target: cfgTarget, status: "pass", detail: `discovery and bound issuer ${url}` }
            : {
                id: "vault.jwt-issuer", target: cfgTarget, status: "fail", detail: wrong.join("; "),
                cause:
                    "Logins fail with `invalid issuer (iss) claim` or signature errors: " +
                    "the mount trusts another issuer, or one without AKS's trailing slash.",
                fix: "Run `up` through the vault-auth stage (the program sets both to the issuer URL exactly as AKS reports it).",
                ref: ["Azure/azure-workload-identity#1700", "hashicorp/vault-plugin-auth-jwt#65"],
            });
    }
    // The JWT plugin's login error for a missing role (vault-plugin-auth-jwt path_login.go).
    const missing = (role: string) => `role "${role}" could not be found`;
    checks.push(...roleChecks(expect, v, path, missing, (w, r) => {
        const subject = `system:serviceaccount:${w.namespace}:${w.serviceAccount}`;
        const problems: string[] = [];
        if (r.role_type !== "jwt") problems.push(`role_type is ${r.role_type ?? "absent"}, expected jwt`);
        if (r.bound_subject !== subject) problems.push(`bound_subject is ${r.bound_subject || "not set"}, the pods' sub is ${subject}`);
        const audiences = r.bound_audiences ?? [];
        if (expect.jwtAudience !== undefined && !audiences.includes(expect.jwtAudience)) {
            problems.push(`bound_audiences [${audiences.join(", ")}] does not include ${expect.jwtAudience}`);
        }
        const refs = problems.length === 0 ? [] : ["hashicorp/vault-plugin-auth-jwt#382", "hashicorp/vault-plugin-auth-jwt#206"];
        return { problems, refs, bound: `${subject}, audience ${audiences.join(", ")}` };
    }));
    return checks;
}

/** What a method's judge finds in one role: its problems (none: the check passes) and what it is bound to. */
interface RoleJudgement {
    problems: string[];
    refs: string[];
    /** For the passing check's detail: `bound to <bound>, policies [...]`. */
    bound: string;
}

/**
 * One `vault.role` check per workload, for either auth method: a role Vault would not return
 * (`missingLogin` is the login error a missing role gives), else `judge`'s verdict on its bindings.
 */
function roleChecks(
    expect: Expectations, v: VaultObservations, path: string, missingLogin: (role: string) => string,
    judge: (w: WorkloadExpectation, role: VaultRole) => RoleJudgement,
): Check[] {
    const checks: Check[] = [];
    for (const w of expect.workloads) {
        const target = `vault:auth/${path}/role/${w.role}`;
        const o = v.roles[w.role];
        if (o === undefined) continue;
        if (!o.ok) {
            checks.push({
                ...unreadable("vault.role", target, `role ${w.role}`, o),
                cause: o.status === 404 ? `Role ${w.role} does not exist: logins fail with \`${missingLogin(w.role)}\`.` : undefined,
                fix: o.status === 404
                    ? "Run `aks-vault refresh` and then `aks-vault up`: the refresh drops the deleted role from the state, the `up` " +
                        "recreates it."
                    : undefined,
            });
            continue;
        }
        const { problems, refs, bound } = judge(w, o.value);
        checks.push(problems.length === 0
            ? {
                id: "vault.role", target, status: "pass",
                detail: `bound to ${bound}, policies [${(o.value.token_policies ?? []).join(", ")}]`,
            }
            : {
                id: "vault.role", target, status: "fail", detail: problems.join("; "),
                fix: "Run `aks-vault refresh` and then `aks-vault up`: the refresh reads the changed role into the state, the " +
                    "`up` restores its bindings from the stack file (`up` alone compares with its state and sees no change).",
                ref: refs,
            });
    }
    return checks;
}

function vaultUnreachable(code: string): Check {
    const tls = isTls(code);
    return {
        id: "vault.reachable", target: "vault", status: "fail",
        detail: `${tls ? "Vault's certificate is not trusted" : "cannot connect to Vault"} (${code}); no Vault check ran`,
        cause: tls
            ? "Vault presents a certificate signed by a CA this machine does not trust (a private CA)."
            : DNS_ERRORS.includes(code)
                ? "The Vault address does not resolve from this machine (a private DNS name, or a typo in --vault-addr / VAULT_ADDR)."
                : "Vault does not accept connections from this machine: a firewall, a private endpoint, " +
                  "or the wrong port in --vault-addr / VAULT_ADDR.",
        fix: tls
            ? "Start the doctor with NODE_EXTRA_CA_CERTS=<the CA's PEM file> (the same CA as vault.caCertPem)."
            : "Check --vault-addr (default $VAULT_ADDR), and run the doctor from a machine that can reach Vault; " +
              "the Kubernetes checks above do not need it.",
    };
}

function vaultChecks(expect: Expectations, v: VaultObservations): Check[] {
    if (v.unreachable !== undefined) return [vaultUnreachable(v.unreachable.code)];
    if (expect.authMethod === "jwt") return jwtVaultChecks(expect, v);
    const path = expect.authPath ?? "?";
    const checks: Check[] = [];
    const cfgTarget = `vault:auth/${path}/config`;
    if (!v.config.ok) {
        checks.push({
            ...unreadable("vault.auth-config", cfgTarget, "the auth mount's config", v.config),
            cause: v.config.status === 403
                ? "The Vault token may not read auth/" + path + "/config."
                : v.config.status === 404
                    ? `No Kubernetes auth is mounted at auth/${path}.`
                    : undefined,
            fix: v.config.status === 404
                ? "Run `up` through the vault-auth stage."
                : v.config.status === 403
                    ? "Use a token whose policy grants read on auth/" + path + "/config and auth/" + path + "/role/*."
                    : undefined,
        });
    } else {
        const c = v.config.value;
        const host = c.kubernetes_host ?? "";
        if (host === "") {
            checks.push({
                id: "vault.auth-config", target: cfgTarget, status: "fail",
                detail: "kubernetes_host is not set",
                fix: "Run `up` through the vault-auth stage.",
            });
        } else if (expect.apiServerUrl !== undefined && stripSlash(host) !== stripSlash(expect.apiServerUrl)) {
            checks.push({
                id: "vault.auth-config", target: cfgTarget, status: "fail",
                detail: `kubernetes_host is ${host}, the cluster's API server is ${expect.apiServerUrl}`,
                cause: "Vault sends TokenReview to another cluster (or an old address): every login is denied.",
                fix: "Run `up` through the vault-auth stage to rewrite the mount's config.",
            });
        } else checks.push({ id: "vault.auth-config", target: cfgTarget, status: "pass", detail: `kubernetes_host ${host}` });

        checks.push(c.token_reviewer_jwt_set === true
            ? { id: "vault.reviewer-jwt", target: cfgTarget, status: "pass", detail: "token_reviewer_jwt is set" }
            : {
                id: "vault.reviewer-jwt", target: cfgTarget, status: "warn",
                detail: "token_reviewer_jwt is not set",
                cause:
                    "With Vault outside the cluster, each workload's own JWT is then used as reviewer, " +
                    "which needs system:auth-delegator on every workload service account.",
                fix: "Configure the reviewer service account's long-lived token (run `up` through the vault-auth stage).",
                ref: ["hashicorp/vault#12855", "hashicorp/vault-helm#376"],
            });

        const validates = c.disable_iss_validation === false && (c.issuer ?? "") !== "";
        if (validates && expect.oidcIssuerUrl !== undefined && stripSlash(c.issuer ?? "") !== stripSlash(expect.oidcIssuerUrl)) {
            checks.push({
                id: "vault.issuer", target: cfgTarget, status: "fail",
                detail: `issuer is ${c.issuer}, the cluster's OIDC issuer is ${expect.oidcIssuerUrl}`,
                cause: "Logins fail with claim \"iss\" is invalid.",
                fix: "Run `up` through the vault-auth stage, or set kubernetesAuth.validateIssuer=false.",
                ref: ["Azure/AKS#2523"],
            });
        } else {
            checks.push({
                id: "vault.issuer", target: cfgTarget, status: "pass",
                detail: validates ? `issuer validated against ${c.issuer}` : "iss validation off",
            });
        }
    }

    // The Kubernetes plugin's login error for a missing role (vault-plugin-auth-kubernetes path_login.go).
    checks.push(...roleChecks(expect, v, path, () => "invalid role name", (w, r) => {
        const names = r.bound_service_account_names ?? [];
        const spaces = r.bound_service_account_namespaces ?? [];
        const problems: string[] = [];
        const refs: string[] = [];
        if (!globMatch(names, w.serviceAccount)) {
            problems.push(`bound_service_account_names [${names.join(", ")}] does not include ${w.serviceAccount}`);
            refs.push("hashicorp/vault-plugin-auth-kubernetes#79");
        }
        if (!globMatch(spaces, w.namespace) && (r.bound_service_account_namespace_selector ?? "") === "") {
            problems.push(`bound_service_account_namespaces [${spaces.join(", ")}] does not include ${w.namespace}`);
            refs.push("hashicorp/vault-plugin-auth-kubernetes#89");
        }
        return { problems, refs, bound: `${w.namespace}/${w.serviceAccount}` };
    }));
    return checks;
}

export function summarize(checks: Check[]): DoctorReport {
    const summary: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
    for (const c of checks) summary[c.status]++;
    // A portal may print the library's report itself: it gets the printed (cleaned) form too.
    return { ok: summary.fail === 0, summary, checks: checks.map(cleanCheck) };
}

const DNS_ERRORS = ["ENOTFOUND", "EAI_AGAIN"];
const isTls = (code: string) => /CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(code);

/** Causes and fixes for an API server the doctor cannot connect to, by errno. */
function unreachableCheck(code: string, server: string | undefined): Check {
    const target = server ?? "cluster";
    const dns = DNS_ERRORS.includes(code);
    if (isTls(code)) {
        return {
            id: "cluster.reachable", target, status: "fail",
            detail: `the API server's certificate is not trusted (${code}); no cluster check ran`,
            cause:
                "The kubeconfig's certificate-authority-data does not vouch for the certificate the server presented: " +
                "a kubeconfig for another cluster (or from before a certificate rotation), or a TLS-intercepting proxy on the way.",
            fix:
                "Use the stack's current kubeconfig (`up` through the cluster stage refreshes it after `az aks rotate-certs`), " +
                "or `az aks get-credentials` into a file for --kubeconfig; the doctor never skips verification.",
            ref: ["https://learn.microsoft.com/azure/aks/certificate-rotation"],
        };
    }
    return {
        id: "cluster.reachable", target, status: "fail",
        detail: `cannot connect to the API server (${code}); no cluster check ran`,
        cause: dns
            ? "The API server's name does not resolve from this machine: " +
              "a private AKS cluster's FQDN resolves only inside its VNet (its privatelink DNS zone), or the cluster no longer exists."
            : "The API server does not accept connections from this machine: " +
              "AKS drops connections from addresses outside the cluster's authorized IP ranges " +
              "(apiServerAccessProfile.authorizedIPRanges), and a private cluster (enablePrivateCluster) has no public endpoint at all; " +
              "a firewall or proxy on the way does the same.",
        fix: dns
            ? "Run the doctor from a machine in (or peered with) the cluster's VNet with the private DNS zone linked, " +
              "or through `az aks command invoke`; check that the cluster exists (`az aks show`)."
            : "Add this machine's public IP (`<ip>/32`) to cluster.apiServerAuthorizedIpRanges and run " +
              "`aks-vault up --stage cluster` (the stage that owns the cluster); for a cluster this program " +
              "does not create, `az aks update -g <group> -n <cluster> --api-server-authorized-ip-ranges <existing>,<your-ip>/32`; " +
              "for a private cluster, run the doctor from a machine in (or peered with) its VNet.",
        ref: [
            "https://learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges",
            "https://learn.microsoft.com/azure/aks/private-clusters",
        ],
    };
}

interface DiagnoseContext {
    /** The API server URL the kubeconfig points at (for the unreachable check). */
    server?: string;
}

/** Every check, in report order: injector, webhook, the reviewer's token, each workload's pods, then Vault. */
export function diagnose(expect: Expectations, obs: Observations, ctx: DiagnoseContext = {}): DoctorReport {
    if (obs.unreachable !== undefined) {
        return summarize([
            unreachableCheck(obs.unreachable.code, ctx.server),
            ...(obs.vault === undefined ? [] : vaultChecks(expect, obs.vault)),
        ]);
    }
    const checks = [
        ...injectorChecks(expect, obs),
        ...webhookChecks(obs),
        ...reviewerTokenChecks(expect, obs),
        ...expect.workloads.flatMap((w) => workloadChecks(expect, w, obs.pods[w.name])),
        ...(obs.vault === undefined ? [] : vaultChecks(expect, obs.vault)),
    ];
    return summarize(checks);
}
