/**
 * The preflight's judgement: the plan (what the program binds) against what Vault and the API
 * server answered when the preflight acted as each workload. Pure; every finding names the
 * workload, the path, what is wrong and the fix (docs/preflight.md lists them).
 */
import {
    Answer, Deployed, Finding, FindingStatus, LiveRole, PlannedWorkload, PreflightObservations, PreflightPlan, PreflightReport,
    WorkloadObservation,
} from "./types";
import { expectsAuthMount, expectsKvMount, expectsReviewerTokenSecret, expectsRole, expectsServiceAccount } from "./deployed";

const CAPABILITY_REFS = ["hashicorp/vault#20772", "hashicorp/vault-k8s#477"];

function summarize(findings: Finding[], green: number, total: number): PreflightReport {
    const summary: Record<FindingStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
    for (const f of findings) summary[f.status]++;
    return { ok: summary.fail === 0, summary, workloads: { green, total }, findings };
}

const list = (xs: readonly string[] | undefined) => `[${(xs ?? []).join(", ")}]`;
const notFound = (a: { ok: false; status?: number; message: string }) =>
    a.status === 404 || (a.status === 400 && /no (secret engine )?mount|no matching mount|not found/i.test(a.message));

/** Refresh, then up: `up` alone does not see a change made outside Pulumi (it compares with its state). */
function restore(plan: PreflightPlan, what: string): string {
    return `restore ${what} from the stack file: \`aks-vault refresh --stack ${plan.stack} --yes\`, then \`aks-vault up --stack ` +
        `${plan.stack} --yes\``;
}

/** The same, as a sentence of its own. */
function restoreSentence(plan: PreflightPlan, what: string): string {
    const s = restore(plan, what);
    return `${s[0].toUpperCase()}${s.slice(1)}.`;
}

function mountFindings(plan: PreflightPlan, deployed: Deployed, obs: PreflightObservations): Finding[] {
    const op = obs.operator;
    if (op === undefined) {
        return [{
            id: "vault.reads", target: `vault:auth/${plan.authPath}`, status: "skip",
            detail: "no preflight token: mounts and roles not read (a missing role shows only as a refused login)",
        }];
    }
    const out: Finding[] = [];
    const auth = op.authMount;
    const authTarget = `vault:auth/${plan.authPath}`;
    if (auth.ok) {
        out.push(auth.value.type === plan.authMethod
            ? { id: "vault.auth-mount", target: authTarget, status: "pass", detail: `${plan.authMethod} auth enabled` }
            : {
                id: "vault.auth-mount", target: authTarget, status: "fail",
                detail: `the mount is a ${auth.value.type ?? "?"} auth method, not ${plan.authMethod}`,
                cause: "Another auth method holds the path the program binds its roles under.",
                fix: `Use another kubernetesAuth.path, or disable the ${auth.value.type ?? "other"} method at ` +
                    `auth/${plan.authPath} if nothing uses it.`,
            });
    } else if (notFound(auth)) {
        out.push(expectsAuthMount(deployed)
            ? {
                id: "vault.auth-mount", target: authTarget, status: "fail", detail: "not enabled",
                cause: "The stack deployed its vault-auth stage, but the auth mount is gone (disabled outside Pulumi).",
                fix: restoreSentence(plan, `the ${plan.authMethod} auth mount`),
            }
            : { id: "vault.auth-mount", target: authTarget, status: "skip", detail: "not enabled yet: the vault-auth stage creates it" });
    } else {
        out.push(unreadable("vault.auth-mount", authTarget, `sys/mounts/auth/${plan.authPath}`, auth));
    }
    const kv = op.kvMount;
    const kvTarget = `vault:${plan.kvMount}`;
    if (kv.ok) {
        const version = kv.value.options?.version ?? "1";
        out.push(kv.value.type === "kv" && version === "2"
            ? { id: "vault.kv-mount", target: kvTarget, status: "pass", detail: "KV version 2" }
            : {
                id: "vault.kv-mount", target: kvTarget, status: "fail",
                detail: kv.value.type === "kv" ? `KV version ${version}, not 2` : `a ${kv.value.type ?? "?"} mount, not KV version 2`,
                cause: "Every path the program renders and grants is a KV v2 data path (`<mount>/data/<path>`).",
                fix: kv.value.type === "kv"
                    ? `Upgrade the mount in place: \`vault kv enable-versioning ${plan.kvMount}/\`, or point kv.path at a KV v2 mount.`
                    : "Point kv.path at a KV v2 mount.",
            });
    } else if (notFound(kv)) {
        out.push(expectsKvMount(deployed)
            ? {
                id: "vault.kv-mount", target: kvTarget, status: "fail", detail: "not mounted",
                cause: "The stack deployed its vault-auth stage, but the KV mount is gone.", fix: restoreSentence(plan, "the KV mount"),
            }
            : { id: "vault.kv-mount", target: kvTarget, status: "skip", detail: "not mounted yet: the vault-auth stage mounts it" });
    } else {
        out.push(unreadable("vault.kv-mount", kvTarget, `sys/mounts/${plan.kvMount}`, kv));
    }
    return out;
}

function unreadable(id: string, target: string, path: string, a: { status?: number; message: string }): Finding {
    return {
        id, target, status: "warn", detail: `could not read ${path}: ${a.message}`,
        ...(a.status === 403 ? { fix: `Grant the preflight's token read on ${path} (docs/preflight.md, "The preflight's token").` } : {}),
    };
}

/** The live role against the plan: one finding, failing on the first field that differs. */
function roleFinding(plan: PreflightPlan, deployed: Deployed, w: PlannedWorkload, role: Answer<LiveRole> | undefined): Finding | undefined {
    if (role === undefined) return undefined;
    const target = `vault:auth/${plan.authPath}/role/${w.role}`;
    const base = { id: "workload.role", workload: w.name, target };
    if (!role.ok) {
        if (!notFound(role)) return { ...base, ...unreadable("workload.role", target, target.slice(6), role), workload: w.name };
        return expectsRole(deployed, w.name)
            ? {
                ...base, status: "fail", detail: "the role does not exist",
                cause: "The stack deployed its workloads stage, but the role is gone (deleted outside Pulumi).",
                fix: restoreSentence(plan, `role ${w.role}`),
            }
            : { ...base, status: "skip", detail: "the role does not exist yet: the workloads stage creates it" };
    }
    const r = role.value;
    const problems: string[] = [];
    if (plan.authMethod === "jwt") {
        const subject = `system:serviceaccount:${w.namespace}:${w.serviceAccount}`;
        if (r.bound_subject !== subject) problems.push(`bound_subject is ${r.bound_subject ?? "unset"}, not ${subject}`);
        if (!(r.bound_audiences ?? []).includes(w.audience)) {
            problems.push(`bound_audiences ${list(r.bound_audiences)} lacks ${w.audience}`);
        }
    } else {
        const names = r.bound_service_account_names ?? [];
        const namespaces = r.bound_service_account_namespaces ?? [];
        if (!names.includes(w.serviceAccount) && !names.includes("*")) {
            problems.push(`bound_service_account_names ${list(names)} does not include ${w.serviceAccount}`);
        }
        if (!namespaces.includes(w.namespace) && !namespaces.includes("*")) {
            problems.push(`bound_service_account_namespaces ${list(namespaces)} does not include ${w.namespace}`);
        }
        if ((r.audience ?? "") !== w.audience) {
            problems.push(`audience is ${r.audience === undefined || r.audience === "" ? "unset" : r.audience}, not ${w.audience}`);
        }
    }
    if (!(r.token_policies ?? []).includes(w.policy)) problems.push(`token_policies ${list(r.token_policies)} lacks ${w.policy}`);
    if (problems.length === 0) {
        const detail = `bound to ${w.namespace}/${w.serviceAccount}, audience ${w.audience}, policy ${w.policy}`;
        return { ...base, status: "pass", detail };
    }
    return {
        ...base, status: "fail", detail: problems.join("; "),
        cause: "The live role is not the one the stack file describes: changed outside Pulumi, or the stack file changed since the " +
            "last `up`.",
        // The gate before `up` turns this into a warning when the up's preview rewrites the role
        // (src/preflight/settle.ts); failing there, the state matches the plan: a drift not yet refreshed.
        fix: `If the stack file changed on purpose, \`up\` rewrites the role; otherwise ${restore(plan, `role ${w.role}`)}.`,
    };
}

interface LoginRule {
    test: RegExp;
    cause: (w: PlannedWorkload, plan: PreflightPlan) => string;
    fix: (w: PlannedWorkload, plan: PreflightPlan) => string;
    ref: string[];
}

/**
 * The last rule: what the kubernetes method answers when the TokenReview fails, a dead reviewer
 * JWT included (path_login.go returns `logical.ErrPermissionDenied` for any lookup error; the
 * role's namespace, name and audience checks come before it, with their own messages).
 */
const PERMISSION_DENIED: LoginRule = {
    test: /permission denied/,
    cause: () =>
        "Vault hides the reason: often the TokenReview failed (reviewer without auth-delegator, API server unreachable from " +
            "Vault, expired reviewer JWT), or the mount does not exist.",
    fix: (_w, plan) => `Read Vault's server log (\`login unauthorized due to\`) or run \`aks-vault doctor --stack ` +
        `${plan.stack}\` with a Vault token.`,
    ref: ["hashicorp/vault-k8s#69", "hashicorp/vault#12855"],
};

/** Vault's refusals of a login, first match wins (the texts are the plugins' own). */
const LOGIN_RULES: LoginRule[] = [
    {
        test: /namespace not authorized/,
        cause: (w) => `Role ${w.role}'s bound_service_account_namespaces does not include ${w.namespace} (Vault configuration; ` +
            `Kubernetes RBAC plays no part).`,
        fix: (w) => `Bind namespace ${w.namespace} in role ${w.role} (bound_service_account_namespaces), or deploy the workload ` +
            `into the bound namespace.`,
        ref: ["hashicorp/vault-plugin-auth-kubernetes#89"],
    },
    {
        test: /service account name not authorized/,
        cause: (w) => `Role ${w.role}'s bound_service_account_names does not include ${w.serviceAccount}.`,
        fix: (w) => `Bind service account ${w.serviceAccount} in role ${w.role}, or run the pods as the bound one.`,
        ref: ["hashicorp/vault-plugin-auth-kubernetes#79"],
    },
    {
        test: /claim "aud" is invalid|invalid audience \(aud\) claim|no audiences bound/,
        cause: (w) => `The pods' token is minted for audience ${w.audience}, and the role expects another.`,
        fix: (w) => `Bind audience ${w.audience} in role ${w.role} (kubernetes: audience; jwt: bound_audiences), the one the ` +
            `program gives the pods' projected token.`,
        ref: ["hashicorp/vault-plugin-auth-kubernetes#102", "hashicorp/vault-plugin-auth-jwt#206"],
    },
    {
        test: /invalid subject \(sub\) claim/,
        cause: (w) => `Role ${w.role}'s bound_subject is not system:serviceaccount:${w.namespace}:${w.serviceAccount}.`,
        fix: (w) => `Bind subject system:serviceaccount:${w.namespace}:${w.serviceAccount} in role ${w.role}.`,
        ref: ["hashicorp/vault-plugin-auth-jwt#382"],
    },
    {
        test: /claim "iss" is invalid|invalid issuer \(iss\) claim/,
        cause: () => "The auth mount checks another issuer than the one in the cluster's tokens.",
        fix: (_w, plan) => `Run \`up\` through the vault-auth stage (the issuer exactly as the cluster publishes it); see ` +
            `\`aks-vault doctor --stack ${plan.stack}\`.`,
        ref: ["Azure/AKS#2523", "Azure/azure-workload-identity#1700"],
    },
    {
        test: /invalid role name|role "[^"]*" could not be found|role not found/,
        cause: (w, plan) => `No role ${w.role} at auth/${plan.authPath}.`,
        fix: (w, plan) => `Create it: \`aks-vault up --stack ${plan.stack} --yes\` through the workloads stage (role ${w.role}).`,
        ref: [],
    },
    {
        test: /tokenreviews.*forbidden/,
        cause: () => "Vault's reviewer JWT may not call TokenReview (no system:auth-delegator).",
        fix: () => "Run `up` through the vault-auth stage: the reviewer's token is rewritten.",
        ref: ["hashicorp/vault-helm#376"],
    },
    PERMISSION_DENIED,
];

function tokenFinding(plan: PreflightPlan, deployed: Deployed, w: PlannedWorkload, o: WorkloadObservation): Finding | undefined {
    const target = `${w.namespace}/${w.serviceAccount}`;
    const t = o.tokenRequest;
    if (t.ok) return undefined;
    const base = { id: "workload.token", workload: w.name, target };
    if (t.status === 404) {
        return expectsServiceAccount(deployed, w.name)
            ? {
                ...base, status: "fail", detail: `TokenRequest refused: ${t.message}`,
                cause: "The stack deployed its workloads stage, but the namespace or service account is gone.",
                fix: restoreSentence(plan, `service account ${target}`),
            }
            : { ...base, status: "skip", detail: "the service account does not exist yet: the workloads stage creates it" };
    }
    return {
        ...base, status: "fail", detail: `TokenRequest refused (${t.status ?? "no status"}): ${t.message}`,
        ...(t.status === 403
            ? { cause: "The kubeconfig's user may not create serviceaccounts/token.", fix: `Grant \`create\` on ` +
                `serviceaccounts/token in namespace ${w.namespace} (docs/preflight.md, "Permissions").` }
            : {}),
    };
}

/** What the reviewer's token Secret explains about logins refused with a bare `permission denied`. */
interface ReviewerVerdict {
    finding: Finding;
    /** Such a refusal is this: a warning (this `up` replaces the reviewer's token) or a failure (gone, not replaced). */
    login?: { status: "warn" | "fail"; cause: string; fix?: string };
}

/**
 * The reviewer's token Secret: Vault holds its token as `token_reviewer_jwt`, and shows only that
 * one is set. Gone from the state (a `refresh` dropped the deleted Secret), or recreated live
 * since the last `up` read it, this `up` gives Vault a new token: the logins it refuses until then
 * are the damage the `up` repairs, not a reason to stop it (docs/doctor.md `reviewer.token`).
 */
function reviewerVerdict(plan: PreflightPlan, deployed: Deployed, obs: PreflightObservations): ReviewerVerdict | undefined {
    const s = plan.reviewerTokenSecret;
    if (s === undefined) return undefined;
    const target = `${s.namespace}/${s.name}`;
    const base = { id: "reviewer.token", target };
    if (deployed.inState !== undefined && !expectsReviewerTokenSecret(deployed)) {
        return {
            finding: { ...base, status: "warn", detail: "not in the stack's state (a refresh found it deleted): this up creates a new " +
                "token Secret and rewrites Vault's token_reviewer_jwt" },
            login: { status: "warn", cause: `The reviewer's token Secret ${target} is gone; this up recreates it and rewrites ` +
                "Vault's token_reviewer_jwt." },
        };
    }
    const live = obs.reviewerTokenSecret;
    // No answer at all: the token request says so (`cluster.reachable`).
    if (live === undefined || (!live.ok && live.code !== undefined)) return undefined;
    if (live.ok) {
        if (s.uid === undefined || live.value === s.uid) {
            return { finding: { ...base, status: "pass", detail: "the Secret whose token the last up gave Vault" } };
        }
        return {
            finding: { ...base, status: "warn", detail: `recreated since the last up (uid ${live.value}, the up read ${s.uid}): this up ` +
                "gives Vault its token" },
            login: { status: "warn", cause: `The reviewer's token Secret ${target} was recreated since the last up; this up rewrites ` +
                "Vault's token_reviewer_jwt with its token." },
        };
    }
    if (live.status === 404) {
        const fix = restoreSentence(plan, `the reviewer's token Secret ${target}`);
        return {
            finding: {
                ...base, status: "fail", detail: "gone (deleted outside Pulumi)",
                cause: "Vault's token_reviewer_jwt is this Secret's token, which the API server no longer accepts: every login is " +
                    "refused (permission denied). `up` alone fails reading the Secret.",
                fix,
            },
            login: { status: "fail", cause: `The reviewer's token Secret ${target} is gone: Vault's TokenReview calls are refused.`, fix },
        };
    }
    return {
        finding: {
            ...base, status: "warn", detail: `could not read the Secret: ${live.message}`,
            ...(live.status === 403 ? { fix: `Grant the kubeconfig's user \`get\` on secrets in namespace ${s.namespace} ` +
                `(docs/preflight.md, "Permissions").` } : {}),
        },
    };
}

function loginFinding(
    plan: PreflightPlan, w: PlannedWorkload, o: WorkloadObservation, reviewer: ReviewerVerdict | undefined,
): Finding | undefined {
    const login = o.login;
    if (login === undefined) return undefined;
    const target = `vault:auth/${plan.authPath}/login`;
    const base = { id: "workload.login", workload: w.name, target };
    if (login.ok) {
        return { ...base, status: "pass", detail: `logged in as role ${w.role} with a token for ${w.audience} (policies ` +
            `${list(login.value.policies)})` };
    }
    const rule = LOGIN_RULES.find((r) => r.test.test(login.message));
    const detail = `role ${w.role} refused the token for ${w.namespace}/${w.serviceAccount}: ${login.message}`;
    if (rule === PERMISSION_DENIED && reviewer?.login !== undefined) {
        const { status, cause, fix } = reviewer.login;
        return { ...base, status, detail, cause, ...(fix === undefined ? {} : { fix }) };
    }
    return {
        ...base, status: "fail", detail,
        ...(rule === undefined ? {} : { cause: rule.cause(w, plan), fix: rule.fix(w, plan),
            ...(rule.ref.length > 0 ? { ref: rule.ref } : {}) }),
    };
}

const has = (caps: readonly string[], c: string) => caps.includes(c) || caps.includes("root");

function pathFindings(plan: PreflightPlan, w: PlannedWorkload, o: WorkloadObservation, login: string[]): Finding[] {
    const caps = o.capabilities;
    if (caps === undefined) return [];
    if (!caps.ok) {
        return [{
            id: "workload.capabilities", workload: w.name, target: "vault:sys/capabilities-self", status: "fail",
            detail: `could not ask for the token's capabilities: ${caps.message}`,
        }];
    }
    const out: Finding[] = [];
    const at = (path: string) => caps.value[path] ?? [];
    for (const r of w.renders) {
        const c = at(r.path);
        const target = `${w.name}:${r.path}`;
        const base = { id: "path.read", workload: w.name, target, path: r.path };
        if (has(c, "read")) {
            out.push({ ...base, status: "pass", detail: `read (renders /vault/secrets/${r.file})` });
            continue;
        }
        const declared = w.declared[r.path] !== undefined;
        const carries = login.includes(w.policy);
        out.push({
            ...base, status: "fail", detail: `no read: capabilities ${list(c)}; the agent would fail rendering ` +
                `/vault/secrets/${r.file} with 403`,
            cause: !declared
                ? `The workload's template reads ${r.path}, which none of its secrets[] entries lists: the generated policy ` +
                    `${w.policy} does not grant it.`
                : carries
                    ? `Policy ${w.policy} grants no read on ${r.path} (its rules differ from the stack file's).`
                    : `The login's token does not carry policy ${w.policy} (it has ${list(login)}).`,
            fix: !declared
                ? `List ${r.path.slice(plan.kvMount.length + "/data/".length)} in the workload's secrets (it must be its own or ` +
                    `shared with it).`
                : restoreSentence(plan, carries ? `policy ${w.policy}` : `role ${w.role}`),
            ref: CAPABILITY_REFS,
        });
    }
    for (const [path, allowed] of Object.entries(w.declared)) {
        const extra = at(path).filter((c) => c !== "deny" && !allowed.includes(c));
        if (extra.length === 0) continue;
        out.push({
            id: "path.extra", workload: w.name, target: `${w.name}:${path}`, path, status: extra.includes("root") ? "fail" : "warn",
            detail: `capabilities ${list(extra)} beyond the declared ${list(allowed)}`,
            cause: "A policy the role carries grants more than the workload declared (extraCapabilities, or an allow-listed policy).",
            fix: `Remove the extra capabilities from the policy that grants them, or declare them in extraCapabilities; check with ` +
                `\`vault token capabilities\`.`,
        });
    }
    for (const f of w.foreign) {
        const got = at(f.path).filter((c) => c !== "deny");
        if (got.length === 0) continue;
        const whose = f.owner === "mount"
            ? "every path of the mount (a policy grants a glob on it)"
            : f.owner === "external"
                ? "a path kept outside this program that kv.external does not grant to this workload"
                : `workload ${f.owner}'s path, not shared with ${w.name}`;
        out.push({
            id: "path.foreign", workload: w.name, target: `${w.name}:${f.path}`, path: f.path, status: "fail",
            detail: `capabilities ${list(got)} on ${whose}`,
            cause: "A policy the role carries reaches beyond the workload's declared access (an allow-listed policy, or a policy " +
                "edited by hand).",
            fix: f.owner === "mount" || f.owner === "external"
                ? `Narrow the policy that grants ${f.path} to exact paths; shared data goes in kv.external with its readers.`
                : `Remove the grant on ${f.path}; if ${w.name} should read it, ${f.owner} adds ${w.name} to sharedWith on that path.`,
        });
    }
    return out;
}

function kvVersionFindings(plan: PreflightPlan, w: PlannedWorkload, obs: PreflightObservations): Finding[] {
    const kv = obs.operator?.kvMount;
    if (kv === undefined || !kv.ok || kv.value.type !== "kv" || (kv.value.options?.version ?? "1") === "2") return [];
    return w.renders.filter((r) => r.path.startsWith(`${plan.kvMount}/`)).map((r): Finding => ({
        id: "path.kv-v1", workload: w.name, target: `${w.name}:${r.path}`, path: r.path, status: "fail",
        detail: `${plan.kvMount}/ is a KV version 1 mount: the agent reads ${r.path} as the secret named ` +
            `${r.path.slice(plan.kvMount.length + 1)}, which the workload's seed never wrote`,
        cause: "KV v2 paths (`<mount>/data/<path>`) on a KV v1 mount: the template renders nothing (`no secret exists at`).",
        fix: `Upgrade the mount: \`vault kv enable-versioning ${plan.kvMount}/\`, or point kv.path at a KV v2 mount.`,
        ref: ["hashicorp/vault#20772"],
    }));
}

/** Whether one workload logged in and can read every path it renders from a KV v2 mount. */
function isGreen(findings: Finding[], o: WorkloadObservation | undefined): boolean {
    if (o === undefined || o.login === undefined || !o.login.ok || o.capabilities === undefined || !o.capabilities.ok) return false;
    return !findings.some((f) => (f.id === "path.read" || f.id === "path.kv-v1") && f.status === "fail");
}

export function diagnose(plan: PreflightPlan, deployed: Deployed, obs: PreflightObservations): PreflightReport {
    const total = plan.workloads.length;
    if (obs.vaultUnreachable !== undefined) {
        return summarize([{
            id: "vault.reachable", target: "vault", status: "fail", detail: `no answer from Vault ` +
                `(${obs.vaultUnreachable.code ?? obs.vaultUnreachable.message})`,
            cause: "Vault cannot be reached from here, or its certificate is not trusted (NODE_EXTRA_CA_CERTS for a private CA).",
        }], 0, total);
    }
    const findings = mountFindings(plan, deployed, obs);
    const reviewer = reviewerVerdict(plan, deployed, obs);
    if (reviewer !== undefined) findings.push(reviewer.finding);
    if (obs.clusterUnreachable !== undefined) {
        findings.push({
            id: "cluster.reachable", target: "kubernetes", status: "fail",
            detail: `no answer from the API server (${obs.clusterUnreachable.code ?? obs.clusterUnreachable.message})`,
            cause: "The API server cannot be reached from here (authorized IP ranges, a private cluster), or the kubeconfig is for " +
                "another cluster.",
        });
        return summarize(findings, 0, total);
    }
    let green = 0;
    for (const w of plan.workloads) {
        if (w.namespace === "*" || w.serviceAccount === "*") {
            findings.push({
                id: "workload.identity", workload: w.name, target: `${w.namespace}/${w.serviceAccount}`, status: "skip",
                detail: "the role admits every namespace or service account (allowWildcard): no one identity to act as",
            });
            continue;
        }
        const o = obs.workloads[w.name];
        const own: Finding[] = [];
        const role = roleFinding(plan, deployed, w, obs.operator?.roles[w.role]);
        if (role !== undefined) own.push(role);
        if (o !== undefined) {
            const token = tokenFinding(plan, deployed, w, o);
            if (token !== undefined) own.push(token);
            const login = loginFinding(plan, w, o, reviewer);
            if (login !== undefined) own.push(login);
            own.push(...pathFindings(plan, w, o, o.login?.ok ? o.login.value.policies : []));
            own.push(...kvVersionFindings(plan, w, obs));
            if (o.revoked !== undefined && !o.revoked.ok) {
                own.push({
                    id: "workload.revoke", workload: w.name, target: "vault:auth/token/revoke-self", status: "warn",
                    detail: `the login's token was not revoked (${o.revoked.message}); it expires with the role's token_ttl`,
                });
            }
        }
        if (isGreen(own, o)) green++;
        findings.push(...own);
    }
    return summarize(findings, green, total);
}
