/**
 * How a pod logs in with Vault's JWT auth through the Agent Injector: a projected service-account
 * token with the role's audience, and the annotations that point the agent's `jwt` auto-auth
 * method at it. Pure; the names are checked against vault-k8s's own list in the tests.
 *
 * Read from hashicorp/vault-k8s v1.7.6 (the injector of chart 0.34.1), agent-inject/agent:
 * - `authConfig()` (annotations.go) turns every `auth-config-<param>` annotation into auto-auth
 *   config `<param>` (dashes become underscores) and adds `role` from `vault.hashicorp.com/role`.
 *   It also sets `token_path` from the service-account token volume for every method; the `jwt`
 *   method never reads `token_path`, only `path` (hashicorp/vault command/agentproxyshared/auth/jwt).
 * - `serviceaccount()` (agent.go): with `agent-service-account-token-volume-name` naming a
 *   projected volume that no app container mounts, the injector mounts it into the init container
 *   AND the sidecar (container_init_sidecar.go, container_sidecar.go) at `DefaultServiceAccountMount`,
 *   `/var/run/secrets/vault.hashicorp.com/serviceaccount`, with the token at the projection's
 *   `path`. Without that annotation the agents get only the pod's default token (audience: the
 *   API server), which the JWT role refuses. vault-k8s 1.2.1 (chart 0.25.0) behaves the same.
 * - The app container does not mount the volume: a token for Vault's audience stays with the agent.
 *
 * Rotation: the kubelet replaces a projected token at 80% of its lifetime. With
 * `remove_jwt_after_reading=false` the agent's jwt method re-reads the file every minute
 * (`jwt_read_period` default) and re-authenticates when it changed, and every login reads the
 * file afresh, so a sidecar keeps working after rotation. With the default `true` it would try to
 * delete the file on the read-only projected volume and log an error on every read.
 */
import { ANNOTATION, INJECTOR_TOKEN_MOUNT } from "./vocabulary";


/** The pod volume holding the projected token. */
const JWT_TOKEN_VOLUME = "vault-jwt-token";
/** File name of the token inside the volume (the projection's `path`). */
const JWT_TOKEN_FILE = "token";
/** The default lifetime of the projected token, seconds. */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;

export interface JwtLoginArgs {
    /** The audience the token is minted for; the role's `bound_audiences`. */
    audience: string;
    /** Projected token lifetime, seconds (Kubernetes: at least 600). Omitted: `DEFAULT_TOKEN_EXPIRATION_SECONDS`. */
    tokenExpirationSeconds?: number;
}

/**
 * Whether `audience` names at most one audience for a JWT role: not `*`, no commas (Vault splits
 * `bound_audiences` on them). Emptiness is a rule of its own (the schema's `min(1)`, its own
 * message). Checked by the settings schema, WorkloadBinding and the policy pack's
 * vault-role-bound-service-accounts.
 */
export function isOneAudience(audience: string): boolean {
    return audience !== "*" && !audience.includes(",");
}

/**
 * The parts of a JWT role's subject that are `*`: a JWT role binds one exact `sub`
 * (vault-plugin-auth-jwt compares `bound_subject` exactly, hashicorp/cap jwt.Validate), so a
 * wildcard namespace or service account has no meaning there.
 */
export function wildcardSubjectParts(subject: { namespace?: unknown; serviceAccount?: unknown }): Array<"namespace" | "serviceAccount"> {
    return (["namespace", "serviceAccount"] as const).filter((part) => subject[part] === "*");
}

/** The `sub` claim of a Kubernetes service-account token. */
export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
    return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** The path the agent reads the token from. */
function jwtTokenPath(): string {
    return `${INJECTOR_TOKEN_MOUNT}/${JWT_TOKEN_FILE}`;
}

/**
 * The pod volume: a service-account token for `audience`, rotated by the kubelet. Also used by
 * Vault's Kubernetes auth: the injector sets the `kubernetes` method's `token_path` to the volume
 * named by `agent-service-account-token-volume-name` (vault-k8s agent-inject/agent/annotations.go
 * `authConfig`, agent.go `serviceaccount`), so the agent logs in with a token minted for Vault's
 * audience instead of the pod's default one (audience: the API server).
 */
export function projectedTokenVolume<A = string>(args: { audience: A; tokenExpirationSeconds?: number }) {
    return {
        name: JWT_TOKEN_VOLUME,
        projected: {
            sources: [{
                serviceAccountToken: {
                    path: JWT_TOKEN_FILE,
                    audience: args.audience,
                    expirationSeconds: args.tokenExpirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS,
                },
            }],
        },
    };
}

/** The jwt auto-auth parameters this program sets, as their `auth-config-<param>` annotations. */
export const JWT_AUTH_CONFIG_ANNOTATION = {
    path: `${ANNOTATION.authConfigPrefix}path`,
    removeJwtAfterReading: `${ANNOTATION.authConfigPrefix}remove_jwt_after_reading`,
} as const;

/** The annotation that gives the agents the projected token (and keeps it from the app containers). */
export function tokenVolumeAnnotations(): Record<string, string> {
    return { [ANNOTATION.tokenVolumeName]: JWT_TOKEN_VOLUME };
}

/** The annotations, besides role and auth-path, that make the agent log in with that token. */
export function jwtLoginAnnotations(): Record<string, string> {
    return {
        [ANNOTATION.authType]: "jwt",
        ...tokenVolumeAnnotations(),
        [JWT_AUTH_CONFIG_ANNOTATION.path]: jwtTokenPath(),
        [JWT_AUTH_CONFIG_ANNOTATION.removeJwtAfterReading]: "false",
    };
}
