import { StackPolicyFactory, TYPES, withDefaults } from "./lib";
import { isGlob, pathMatches, pathRules } from "./vaultPolicyRules";
import { normalizePolicy } from "../src/config/names";

export const NAME = "vault-kv-mount-wide-read";

interface KvMountWideReadConfig {
    /**
     * Vault policies allowed a glob over a whole KV mount (a backup or audit job's), named by the
     * platform team in policies/platform-config.json, compared as Vault stores names (trimmed,
     * lower-case). Never derived from the stack config under review. Default none.
     */
    exemptPolicies: string[];
}

const DEFAULTS: KvMountWideReadConfig = { exemptPolicies: [] };


/**
 * Paths under no team's prefix (`~` starts no real path segment one would glob on): a rule
 * matching one of them reaches whatever any team writes at that depth, so the whole mount.
 */
const PROBES = ["~probe", "~probe/~probe"];

/**
 * A policy whose glob reaches every secret of a KV mount (`secret/data/*`, `secret/*`, `+/data/*`,
 * `*`) reads every team's data on a shared Vault, present and future: mandatory, unless the
 * platform exempts that policy by name. Narrower globs stay with the advisory
 * vault-policy-least-privilege. Issue 22.
 */
export const vaultKvMountWideRead: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description:
        "No Vault policy grants a glob over a whole KV mount (every team's secrets on a shared Vault), " +
        "unless the platform's pack config exempts the policy (`exemptPolicies`).",
    enforcementLevel,
    severity: "critical",
    configSchema: {
        properties: {
            exemptPolicies: {
                type: "array",
                items: { type: "string" },
                default: DEFAULTS.exemptPolicies,
                description: "Policies allowed a mount-wide glob (platform-owned; never derived from the stack config).",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const { exemptPolicies } = withDefaults(args.getConfig<Partial<KvMountWideReadConfig>>(), DEFAULTS);
        const exempt = new Set(exemptPolicies.map(normalizePolicy));
        const mounts = [
            ...new Set(args.resources.filter((r) => r.type === TYPES.vaultKv).map((r) => String(r.props.mount ?? "secret"))),
        ];
        if (mounts.length === 0) mounts.push("secret");
        for (const p of args.resources) {
            if (p.type !== TYPES.vaultPolicy) continue;
            const name = String(p.props.name ?? p.name);
            if (exempt.has(normalizePolicy(name))) continue;
            for (const rule of pathRules(String(p.props.policy ?? "")) ?? []) {
                if (!isGlob(rule.path) || rule.capabilities.every((c) => c === "deny")) continue;
                for (const m of mounts) {
                    const wide = ["data", "metadata"].some((kind) => PROBES.some((x) => pathMatches(rule.path, `${m}/${kind}/${x}`)));
                    if (!wide) continue;
                    reportViolation(
                        `Vault policy "${name}" grants ${rule.capabilities.join(", ")} on "${rule.path}", every secret of the KV mount ` +
                            `"${m}" (every team's, on a shared Vault). List the paths it needs, or ask the platform team to add ` +
                            `"${name}" to \`exemptPolicies\` for ${NAME} in policies/platform-config.json.`,
                        p.urn,
                    );
                    break;
                }
            }
        }
    },
});
