import { ANNOTATION } from "../src/agent/vocabulary";
import { isRecord } from "../src/config/raw";
import { StackPolicyFactory, TYPES, JWT_TYPES, ROLE_ANNOTATION, at, isInjected, podAnnotations } from "./lib";

const NAME = "injector-role-exists";

const AUTH_PATH_ANNOTATION = ANNOTATION.authPath;
const AUTH_TYPE_ANNOTATION = ANNOTATION.authType;
const TOKEN_VOLUME_ANNOTATION = ANNOTATION.tokenVolumeName;

interface KnownRole {
    name: string;
    backend: string;
    /** `kubernetes` or `jwt`: the auth method the role belongs to. */
    method: string;
    audiences: string[];
}

/** The audiences of the projected service-account token in the pod volume named `volume`. */
function tokenAudiences(deployment: { props: Record<string, unknown> }, volume: string): string[] | undefined {
    const volumes = at(deployment.props, "spec.template.spec.volumes");
    if (!Array.isArray(volumes)) return undefined;
    const v = volumes.find((x) => isRecord(x) && x.name === volume);
    const sources = at(v, "projected.sources");
    if (!Array.isArray(sources)) return undefined;
    const tokens = sources.map((s) => at(s, "serviceAccountToken")).filter(isRecord);
    // No audience: the kubelet asks for the API server's own, which no Vault role should accept.
    return tokens.length === 0 ? undefined : tokens.map((t) => String(t.audience ?? "<API server audience>"));
}

/**
 * A pod whose role does not exist fails its Vault login in the agent init container and never
 * starts; nothing at deploy time says so. Checked across the stack: the role must be one this
 * stack creates, on the auth mount the pod logs in to, of the method the pod logs in with; and a
 * pod logging in with JWT auth must carry a projected token whose audience the role accepts.
 */
export const injectorRoleExists: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description:
        "Every Deployment with Vault injector annotations names a Vault role that this stack creates, " +
        "on the auth path and method it logs in with; JWT logins carry a projected token for the role's audience.",
    enforcementLevel,
    severity: "high",
    validateStack: (args, reportViolation) => {
        const roles: KnownRole[] = args.resources.flatMap((r) => {
            if (r.type === TYPES.authBackendRole) {
                return [{ name: String(r.props.roleName), backend: String(r.props.backend), method: "kubernetes", audiences: [] }];
            }
            if (r.type === JWT_TYPES.authBackendRole) {
                const aud = r.props.boundAudiences;
                return [{
                    name: String(r.props.roleName),
                    backend: String(r.props.backend),
                    method: "jwt",
                    audiences: Array.isArray(aud) ? aud.map(String) : [],
                }];
            }
            return [];
        });
        for (const d of args.resources) {
            if (d.type !== TYPES.deployment || !isInjected(d)) continue;
            const a = podAnnotations(d);
            const role = a[ROLE_ANNOTATION];
            if (role === undefined || role === "") {
                reportViolation(
                    `Deployment "${d.name}" asks for injection but sets no \`${ROLE_ANNOTATION}\` annotation. ` +
                        "Name the workload's Vault role.",
                    d.urn,
                );
                continue;
            }
            const named = roles.filter((r) => r.name === role);
            if (named.length === 0) {
                const known = roles.map((r) => r.name).join(", ") || "none";
                reportViolation(
                    `Deployment "${d.name}" uses Vault role "${role}", which this stack does not create (roles: ${known}). ` +
                        `Fix the \`${ROLE_ANNOTATION}\` annotation or add the role.`,
                    d.urn,
                );
                continue;
            }
            const authPath = a[AUTH_PATH_ANNOTATION];
            // The injector defaults the auth path to `auth/kubernetes` and the method to kubernetes.
            const backend = (authPath ?? "auth/kubernetes").replace(/^auth\//, "").replace(/\/$/, "");
            const onPath = named.filter((r) => r.backend === backend);
            if (onPath.length === 0) {
                const rolePaths = named.map((r) => `"auth/${r.backend}"`).join(", ");
                reportViolation(
                    `Deployment "${d.name}" logs in at "auth/${backend}", but role "${role}" is on ${rolePaths}. ` +
                        `Fix the \`${AUTH_PATH_ANNOTATION}\` annotation.`,
                    d.urn,
                );
                continue;
            }
            const method = a[AUTH_TYPE_ANNOTATION] ?? "kubernetes";
            const match = onPath.find((r) => r.method === method);
            if (match === undefined) {
                reportViolation(
                    `Deployment "${d.name}" logs in with auth type "${method}", but role "${role}" on "auth/${backend}" ` +
                        `is a ${onPath[0].method} role. Set \`${AUTH_TYPE_ANNOTATION}\` to "${onPath[0].method}".`,
                    d.urn,
                );
                continue;
            }
            if (method !== "jwt") continue;
            const volume = a[TOKEN_VOLUME_ANNOTATION];
            const audiences = volume === undefined ? undefined : tokenAudiences(d, volume);
            if (volume === undefined || audiences === undefined) {
                reportViolation(
                    `Deployment "${d.name}" logs in with JWT auth but gives the agent no projected service-account token ` +
                        `(\`${TOKEN_VOLUME_ANNOTATION}\` naming a projected serviceAccountToken volume). ` +
                        `Without it the agent has only the default token, whose audience role "${role}" refuses.`,
                    d.urn,
                );
            } else if (!audiences.some((x) => match.audiences.includes(x))) {
                const minted = audiences.map((x) => `"${x}"`).join(", ");
                const accepted = match.audiences.map((x) => `"${x}"`).join(", ") || "none";
                reportViolation(
                    `Deployment "${d.name}" mints its Vault token for audience ${minted}, but role "${role}" accepts ${accepted}. ` +
                        "Use the same audience in the projected volume and the role (kubernetesAuth.audience).",
                    d.urn,
                );
            }
        }
    },
});
