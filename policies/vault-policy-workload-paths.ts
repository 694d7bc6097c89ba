import { StackPolicyFactory, TYPES, RegisteredWorkload, registeredKv, registeredWorkloads } from "./lib";
import { PathRule, pathMatches, pathRules } from "./vaultPolicyRules";
import { normalizePolicy } from "../src/config/names";

const NAME = "vault-policy-workload-paths";

/** The declared KV paths (owned by a workload, or named in `kv.external`) a policy rule reaches. */
function reachedPaths(rule: PathRule, mount: string, declared: readonly string[]): string[] {
    return declared.filter((k) =>
        [`${mount}/data/${k}`, `${mount}/metadata/${k}`, `${mount}/metadata/${k}/`].some((c) => pathMatches(rule.path, c)));
}

/**
 * Each workload's generated Vault policy grants only the KV paths it owns or was granted (the
 * owner's `sharedWith`, or `kv.external` readers), more than `read` only on owned ones, and no
 * path nobody declared. Ownership and grants are the program's `kvAccess` (src/config/access.ts),
 * as registered on the WorkloadBinding and VaultKv components.
 */
export const vaultPolicyWorkloadPaths: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description:
        "Each workload's Vault policy grants only the KV paths it owns or was granted, more than read only on owned ones, " +
        "and no path nobody declared.",
    enforcementLevel,
    severity: "critical",
    validateStack: (args, reportViolation) => {
        const workloads = registeredWorkloads(args.resources);
        const { mount, external } = registeredKv(args.resources);
        const declared = [...workloads.flatMap((w) => [...w.owned]), ...external.map((e) => e.path)];
        const ownerOf = (k: string) =>
            workloads.find((w) => w.owned.has(k))?.name ??
            (external.some((e) => e.path === k) ? "kv.external (outside this program)" : "no one");
        const violations = (name: string, w: RegisteredWorkload, rule: PathRule): string[] => {
            const reached = reachedPaths(rule, mount, declared);
            if (reached.length === 0 && rule.path.startsWith(`${mount}/`)) {
                return [
                    `Vault policy "${name}" of workload ${w.name} grants "${rule.path}", ` +
                        "a path no workload owns and kv.external does not name. " +
                        "Declare the path (secrets or seed of its owner, or kv.external) or remove the rule.",
                ];
            }
            const beyondRead = rule.capabilities.filter((c) => c !== "read");
            return reached.flatMap((k) => {
                if (!w.readable.has(k)) {
                    return [
                        `Vault policy "${name}" of workload ${w.name} grants "${rule.path}" on ${k}, ` +
                            `owned by ${ownerOf(k)}, which did not share it with ${w.name}. ` +
                            `The owner lists ${w.name} in sharedWith (or kv.external lists it as a reader), or remove the rule.`,
                    ];
                }
                if (!w.owned.has(k) && beyondRead.length > 0) {
                    return [
                        `Vault policy "${name}" of workload ${w.name} grants ${beyondRead.join(", ")} on ${k}, ` +
                            `which it reads but does not own (owner: ${ownerOf(k)}). Only the owner gets more than read.`,
                    ];
                }
                return [];
            });
        };
        for (const p of args.resources.filter((r) => r.type === TYPES.vaultPolicy)) {
            const name = String(p.props.name ?? "");
            const w = workloads.find((x) => x.policy === normalizePolicy(name));
            if (w === undefined) continue;
            for (const rule of pathRules(String(p.props.policy ?? "")) ?? []) {
                for (const message of violations(name, w, rule)) reportViolation(message, p.urn);
            }
        }
    },
});
