import { AuthBackendRole } from "@pulumi/vault/kubernetes";
import { AuthBackendRole as JwtAuthBackendRole } from "@pulumi/vault/jwt";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory, withDefaults } from "./lib";
import { MAX_TOKEN_TTL_SECONDS } from "../src/config/schema";

const NAME = "vault-role-token-ttl";

interface TokenTtlConfig {
    /** Longest token TTL (and max TTL, explicit max TTL, period) allowed, in seconds. Default 86400 (24 h). */
    maxTtlSeconds: number;
}

// The same limit the settings schema enforces on workloads' tokenTtl and tokenMaxTtl.
const DEFAULTS: TokenTtlConfig = { maxTtlSeconds: MAX_TOKEN_TTL_SECONDS };

/** The token fields Kubernetes and JWT roles share (Vault's tokenutil). */
interface RoleTtls {
    roleName?: string;
    tokenTtl?: number;
    tokenMaxTtl?: number;
    tokenExplicitMaxTtl?: number;
    tokenPeriod?: number;
}

function checkTtls(role: RoleTtls, config: Partial<TokenTtlConfig>, reportViolation: (message: string) => void): void {
    const { maxTtlSeconds } = withDefaults(config, DEFAULTS);
    if (role.tokenTtl === undefined || role.tokenTtl === 0) {
        reportViolation(
            `Role "${role.roleName}" sets no \`tokenTtl\`, so tokens live for the mount's default (768 h unless tuned). ` +
                `Set \`tokenTtl\` to at most ${maxTtlSeconds} seconds (\`tokenTtl\` of the workload in stack config).`,
        );
    }
    const fields = {
        tokenTtl: role.tokenTtl,
        tokenMaxTtl: role.tokenMaxTtl,
        tokenExplicitMaxTtl: role.tokenExplicitMaxTtl,
        tokenPeriod: role.tokenPeriod,
    };
    for (const [field, value] of Object.entries(fields)) {
        if (value !== undefined && value > maxTtlSeconds) {
            reportViolation(
                `Role "${role.roleName}" sets \`${field}\` to ${value} seconds, above the allowed ${maxTtlSeconds}. ` +
                    `Lower it, or raise \`maxTtlSeconds\` for policy ${NAME} in the policy pack config.`,
            );
        }
    }
}

/**
 * A leaked Vault token is good until it expires. Unset (or 0) means the mount's default, which is
 * Vault's system default of 768 hours unless someone tuned the mount.
 */
export const vaultRoleTokenTtl: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Vault Kubernetes and JWT roles set a token TTL, and no TTL, max TTL or period exceeds `maxTtlSeconds` (default 86400).",
    enforcementLevel,
    severity: "medium",
    configSchema: {
        properties: {
            maxTtlSeconds: {
                type: "integer",
                minimum: 1,
                default: DEFAULTS.maxTtlSeconds,
                description: "Longest token TTL allowed, in seconds.",
            },
        },
    },
    validateResource: [
        validateResourceOfType(AuthBackendRole, (role, args, reportViolation) =>
            checkTtls(role, args.getConfig<Partial<TokenTtlConfig>>(), reportViolation),
        ),
        validateResourceOfType(JwtAuthBackendRole, (role, args, reportViolation) =>
            checkTtls(role, args.getConfig<Partial<TokenTtlConfig>>(), reportViolation),
        ),
    ],
});
