/**
 * What the program will bind for each workload, computed from the stack's settings the way
 * src/program/program.ts and components/workloadBinding.ts compute it: the role, the generated
 * policy, the audience of the pods' token, the paths the injector annotations make the agent
 * read, and what the workload declared it may read (src/config/access.ts `kvAccess`). Pure.
 */
import { templateFacts } from "../agent/goTemplate";
import { Settings } from "../config/schema";
import { defaultPolicyPrefix } from "../config/trust";
import { kvAccess } from "../config/access";
import { ClassifiedError, EXIT } from "../exitCodes";
import { defaultJwtAudience } from "../../components/vaultJwtAuth";
import { kvDataPath } from "../../components/vaultPolicy";
import { PlannedWorkload, PreflightPlan, RenderedPath } from "./types";

class PreflightInputError extends ClassifiedError {
    /** The CLI's exit code for it: a missing input (output, flag). */
    readonly exitCode = EXIT.settings;
    constructor(message: string) {
        super(message);
        this.name = "PreflightInputError";
    }
}

interface PlanContext {
    /** Pulumi project name (the default policy prefix is `<project>-<stack>-`). */
    project: string;
    stack: string;
    /**
     * The stack's `apiServerUrl` output: with `kubernetesAuth.reviewer: clientJwt` on a created or
     * adopted AKS cluster, the roles' audience is the API server's (its URL without `:443`).
     */
    apiServerUrl?: string;
    /** The stack's `injectorNamespace`, `reviewerTokenSecret` and `reviewerTokenSecretUid` outputs: the Secret the last `up` read. */
    reviewerTokenSecret?: { namespace?: string; name: string; uid?: string };
}

/** The probe that finds a grant on the whole mount: no exact policy path matches the literal `*`. */
function mountProbe(kvMount: string): string {
    return kvDataPath(kvMount, "*");
}

/** The audience every role is bound to (program.ts `addVaultAuth`). */
function plannedAudience(settings: Settings, ctx: PlanContext): string {
    const ka = settings.kubernetesAuth;
    const vaultDefault = defaultJwtAudience(settings.vault.address, ka.path, settings.vault.namespace);
    if (ka.method === "jwt") return ka.audience ?? vaultDefault;
    if (ka.reviewer !== "clientJwt") return vaultDefault;
    // AksCluster.apiAudience: the API server's own audience, which Vault's TokenReview then asks for.
    if (settings.cluster.mode === "existing") return settings.cluster.oidcIssuerUrl;
    if (ctx.apiServerUrl === undefined) {
        throw new PreflightInputError(
            "stack output `apiServerUrl`: missing; with kubernetesAuth.reviewer clientJwt the roles' audience is the API server's " +
                "(run `up` through the cluster stage first)",
        );
    }
    return ctx.apiServerUrl.replace(/:443\/?$/, "").replace(/\/$/, "");
}

/** The API paths the agent reads for one workload: each file's KV v2 path, or its template's `secret` calls. */
function renderedPaths(kvMount: string, w: Settings["workloads"][number]): RenderedPath[] {
    const out = new Map<string, RenderedPath>();
    for (const s of w.secrets) {
        // With a template the secret annotation's path is not read: the template's calls are.
        const paths = s.template === undefined ? [kvDataPath(kvMount, s.path)] : templateFacts(s.template).reads.map((r) => r.path);
        for (const path of paths) if (!out.has(path)) out.set(path, { path, file: s.file });
    }
    return [...out.values()];
}

export function preflightPlan(settings: Settings, ctx: PlanContext): PreflightPlan {
    const kv = settings.kv.path;
    const access = kvAccess(settings.workloads, settings.kv.external);
    const prefix = settings.vault.policyPrefix ?? defaultPolicyPrefix(ctx.project, ctx.stack);
    const audience = plannedAudience(settings, ctx);
    const everyPath = new Set([...access.owner.keys(), ...settings.kv.external.map((e) => e.path)]);
    const workloads = settings.workloads.map((w): PlannedWorkload => {
        const readable = access.readable.get(w.name) ?? new Set<string>();
        const owned = access.owned.get(w.name) ?? new Set<string>();
        // As renderKvPolicy grants them: read on each listed path, extras on owned ones (list on metadata).
        const declared: Record<string, string[]> = {};
        for (const p of [...readable].sort()) declared[kvDataPath(kv, p)] = ["read"];
        for (const p of new Set(w.secrets.map((s) => s.path))) {
            const key = kvDataPath(kv, p);
            const extra = owned.has(p) ? w.extraCapabilities.filter((c) => c !== "list") : [];
            declared[key] = [...new Set([...(declared[key] ?? ["read"]), ...extra])];
            if (owned.has(p) && w.extraCapabilities.includes("list")) declared[`${kv}/metadata/${p}/`] = ["list"];
        }
        const foreign = [...everyPath].filter((p) => !readable.has(p)).sort()
            .map((p) => ({ path: kvDataPath(kv, p), owner: access.owner.get(p) ?? "external" }));
        return {
            name: w.name,
            namespace: w.namespace,
            serviceAccount: w.serviceAccount,
            role: w.role ?? w.name,
            policy: `${prefix}${w.name}`,
            audience,
            renders: renderedPaths(kv, w),
            declared,
            foreign: [...foreign, { path: mountProbe(kv), owner: "mount" }],
        };
    });
    const ka = settings.kubernetesAuth;
    const reviewer = ctx.reviewerTokenSecret;
    return {
        stack: ctx.stack,
        authMethod: ka.method,
        authPath: ka.path,
        kvMount: kv,
        ...(settings.vault.namespace === undefined ? {} : { vaultNamespace: settings.vault.namespace }),
        ...(ka.method === "kubernetes" && ka.reviewer === "serviceAccountToken" && reviewer !== undefined
            ? { reviewerTokenSecret: { ...reviewer, namespace: reviewer.namespace ?? settings.injector.namespace } }
            : {}),
        workloads,
    };
}
