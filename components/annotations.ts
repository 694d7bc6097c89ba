/**
 * The `vault.hashicorp.com/*` pod annotations that make the injector render a workload's secrets.
 * Pure: every name it produces is checked against vault-k8s's own list in the tests.
 */
import { kvDataPath } from "./vaultPolicy";
import { DEFAULT_INJECTION, InjectionArgs, resolveAgentResources } from "../src/agent/agentInjection";
import { jwtLoginAnnotations, tokenVolumeAnnotations } from "../src/agent/jwtLogin";
import { ANNOTATION } from "../src/agent/vocabulary";


export interface SecretFile {
    /** File under /vault/secrets. */
    file: string;
    /** KV v2 path inside the mount. */
    path: string;
    key?: string;
    prefix?: string;
    template?: string;
}

interface AnnotationArgs {
    role: string;
    /** Auth mount path without `auth/` (e.g. `aks`). */
    authPath: string;
    kvMount: string;
    secrets: readonly SecretFile[];
    /** How the agent runs and what it requests. Omitted: `DEFAULT_INJECTION`, with its mode's right-sized resources. */
    injection?: InjectionArgs;
    /**
     * Vault Enterprise namespace of the auth mount and the secrets; omitted: the root namespace.
     * Without it the agents log in at the root namespace, where the mount does not exist.
     */
    vaultNamespace?: string;
    /**
     * Log in with Vault's JWT auth and the pod's projected token (`projectedTokenVolume`) instead
     * of Kubernetes auth. Default false.
     */
    jwt?: boolean;
    /**
     * Kubernetes auth with the pod's projected token for Vault's audience (`projectedTokenVolume`):
     * the agents log in with it instead of the pod's default token. Default false.
     */
    tokenVolume?: boolean;
}

const GO_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A Go template expression that reads one key of a KV v2 secret's data. */
export function keyExpression(key: string): string {
    return GO_IDENTIFIER.test(key) ? `.Data.data.${key}` : `index .Data.data ${JSON.stringify(key)}`;
}

/**
 * The Consul Template for one file. KV v2 wraps the secret in `.Data.data`; `.Data` alone would
 * print the version metadata map instead of the value.
 *
 * Without a key, every key of the secret, one `key: value` line each (sorted, as Go templates
 * range over a map). Never the injector's default template: it ranges over `.Data`, which for KV v2
 * prints `data: map[...]` and `metadata: map[...]` (vault-k8s agent-inject/agent/config.go
 * DefaultMapTemplate), as rendering it with consul-template shows (test/upstream/templates). The
 * stack settings refuse a file with neither key nor template (config/trust.ts); this covers
 * library callers of `renderPodAnnotations`.
 */
export function renderTemplate(kvMount: string, s: SecretFile): string {
    if (s.template !== undefined) return s.template;
    const dataPath = JSON.stringify(kvDataPath(kvMount, s.path));
    if (s.key === undefined) {
        return `{{- with secret ${dataPath} -}}\n{{ range $k, $v := .Data.data }}{{ $k }}: {{ $v }}\n{{ end }}{{ end }}`;
    }
    return `{{- with secret ${dataPath} -}}\n${s.prefix ?? ""}{{ ${keyExpression(s.key)} }}\n{{- end }}\n`;
}

export function renderPodAnnotations(args: AnnotationArgs): Record<string, string> {
    const injection = args.injection ?? DEFAULT_INJECTION;
    const resources = resolveAgentResources(injection);
    const a: Record<string, string> = {
        [ANNOTATION.inject]: "true",
        [ANNOTATION.role]: args.role,
        [ANNOTATION.authPath]: `auth/${args.authPath}`,
        ...(args.vaultNamespace === undefined ? {} : { [ANNOTATION.namespace]: args.vaultNamespace }),
        ...(args.jwt === true ? jwtLoginAnnotations() : args.tokenVolume === true ? tokenVolumeAnnotations() : {}),
        // Always explicit: the injector would otherwise fill in its own (chart-wide) defaults, and
        // the init container and the sidecar both take these values.
        [ANNOTATION.requestsCpu]: resources.requests.cpu,
        [ANNOTATION.requestsMem]: resources.requests.memory,
        [ANNOTATION.limitsCpu]: resources.limits.cpu,
        [ANNOTATION.limitsMem]: resources.limits.memory,
    };
    // Only the init container: the files are rendered once before the app starts, and no sidecar
    // stays behind holding resources. `agent-pre-populate` (the init container) stays at its default, true.
    if (injection.mode === "init-only") a[ANNOTATION.prePopulateOnly] = "true";
    for (const s of args.secrets) {
        a[`${ANNOTATION.secretPrefix}${s.file}`] = kvDataPath(args.kvMount, s.path);
        a[`${ANNOTATION.templatePrefix}${s.file}`] = renderTemplate(args.kvMount, s);
    }
    return a;
}
