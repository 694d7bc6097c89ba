import type { PolicyResource } from "@pulumi/policy";
import { templateProblems } from "../src/agent/goTemplate";
import {
    JWT_TYPES, ROLE_ANNOTATION, SECRET_ANNOTATION_PREFIX, TEMPLATE_ANNOTATION_PREFIX, StackPolicyFactory, TYPES,
    isInjected, podAnnotations, withDefaults,
} from "./lib";
import { isRecord } from "../src/config/raw";
import { pathMatches, pathRules } from "./vaultPolicyRules";
import { normalizePolicy } from "../src/config/names";

export const NAME = "vault-workload-isolation";

export interface WorkloadIsolationConfig {
    /**
     * Policies a role may carry besides its workload's generated one, compared as Vault stores
     * names (trimmed, lower-case). Set by the platform team in the pack config, never derived from
     * the stack under review. `root` is refused whatever this says. Default: ["default"].
     */
    allowedPolicies: string[];
}

const DEFAULTS: WorkloadIsolationConfig = { allowedPolicies: ["default"] };

interface Workload {
    name: string;
    role: string;
    policy: string;
    owned: Set<string>;
    readable: Set<string>;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** The workloads as the program registered them (WorkloadBinding component props). */
function workloadsOf(resources: readonly PolicyResource[]): Workload[] {
    return resources.filter((r) => r.type === TYPES.workloadBinding && isRecord(r.props.access)).map((r) => {
        const access = r.props.access as Record<string, unknown>;
        return {
            name: String(r.props.workload ?? r.name),
            role: String(r.props.role ?? r.name),
            policy: normalizePolicy(String(r.props.policy ?? r.name)),
            owned: new Set(strings(access.owned)),
            readable: new Set(strings(access.readable)),
        };
    });
}

/**
 * Workloads of one stack never reach each other's secrets: each generated policy grants only the
 * paths its workload owns or was granted (owner's `sharedWith`, or `kv.external` readers), with
 * more than `read` only on owned paths; each role carries its own policy plus allow-listed ones;
 * each agent template reads only readable paths with allowed functions. Ownership and grants come
 * from the WorkloadBinding components; the allow-list from the pack config.
 */
export const vaultWorkloadIsolation: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description:
        "Each workload's Vault policy grants only the KV paths it owns or was granted, its role carries only its own " +
        "and allow-listed policies (never root), and its agent templates read only those paths.",
    enforcementLevel,
    severity: "critical",
    configSchema: {
        properties: {
            allowedPolicies: {
                type: "array",
                items: { type: "string" },
                default: DEFAULTS.allowedPolicies,
                description: "Policies a role may carry besides its generated one (platform-owned; root is always refused).",
            },
        },
    },
    validateStack: (args, reportViolation) => {
        const { allowedPolicies } = withDefaults(args.getConfig<Partial<WorkloadIsolationConfig>>(), DEFAULTS);
        const allowed = new Set(allowedPolicies.map(normalizePolicy).filter((p) => p !== "root"));
        const workloads = workloadsOf(args.resources);
        if (workloads.length === 0) return;
        const kv = args.resources.find((r) => r.type === TYPES.vaultKv);
        const mount = String(kv?.props.mount ?? "secret");
        const external = (Array.isArray(kv?.props.external) ? kv.props.external : [])
            .filter(isRecord)
            .map((e) => ({ path: String(e.path), readers: strings(e.readers) }));
        // Every path someone may legitimately hold, with who owns it.
        const owners = new Map<string, string>();
        for (const w of workloads) for (const p of w.owned) owners.set(p, w.name);
        const known = new Set([...owners.keys(), ...external.map((e) => e.path)]);
        const ownerOf = (p: string) =>
            owners.get(p) ?? (external.some((e) => e.path === p) ? "kv.external (outside this program)" : "no one");

        for (const p of args.resources) {
            if (p.type !== TYPES.vaultPolicy) continue;
            const w = workloads.find((x) => x.policy === normalizePolicy(String(p.props.name ?? "")));
            if (w === undefined) continue;
            for (const rule of pathRules(String(p.props.policy ?? "")) ?? []) {
                const reached = [...known].filter((k) =>
                    [`${mount}/data/${k}`, `${mount}/metadata/${k}`, `${mount}/metadata/${k}/`]
                        .some((c) => pathMatches(rule.path, c)));
                if (reached.length === 0 && rule.path.startsWith(`${mount}/`)) {
                    reportViolation(
                        `Vault policy "${p.props.name}" of workload ${w.name} grants "${rule.path}", ` +
                            "a path no workload owns and kv.external does not name. " +
                            "Declare the path (secrets or seed of its owner, or kv.external) or remove the rule.",
                        p.urn,
                    );
                }
                for (const k of reached) {
                    if (!w.readable.has(k)) {
                        reportViolation(
                            `Vault policy "${p.props.name}" of workload ${w.name} grants "${rule.path}" on ${k}, ` +
                                `owned by ${ownerOf(k)}, which did not share it with ${w.name}. ` +
                                `The owner lists ${w.name} in sharedWith (or kv.external lists it as a reader), or remove the rule.`,
                            p.urn,
                        );
                    } else if (!w.owned.has(k) && rule.capabilities.some((c) => c !== "read")) {
                        reportViolation(
                            `Vault policy "${p.props.name}" of workload ${w.name} ` +
                                `grants ${rule.capabilities.filter((c) => c !== "read").join(", ")} on ${k}, ` +
                                `which it reads but does not own (owner: ${ownerOf(k)}). Only the owner gets more than read.`,
                            p.urn,
                        );
                    }
                }
            }
        }

        for (const r of args.resources) {
            if (r.type !== TYPES.authBackendRole && r.type !== JWT_TYPES.authBackendRole) continue;
            const roleName = String(r.props.roleName ?? "");
            const own = workloads.find((w) => w.role === roleName);
            for (const pol of strings(r.props.tokenPolicies)) {
                const n = normalizePolicy(pol);
                if (n === "root") {
                    reportViolation(`Role "${roleName}" carries the root policy ("${pol}"). Remove it: no workload holds root.`, r.urn);
                } else if (n !== own?.policy && !allowed.has(n)) {
                    reportViolation(
                        `Role "${roleName}" carries policy "${pol}", which is neither its workload's generated policy ` +
                            `nor in allowedPolicies (${[...allowed].join(", ") || "none"}). ` +
                            `Remove it, or have the platform add it to allowedPolicies of ${NAME} in the pack config.`,
                        r.urn,
                    );
                }
            }
        }

        for (const d of args.resources) {
            if (d.type !== TYPES.deployment || !isInjected(d)) continue;
            const a = podAnnotations(d);
            const w = workloads.find((x) => x.role === a[ROLE_ANNOTATION]);
            if (w === undefined) continue; // injector-role-exists reports it
            for (const [k, v] of Object.entries(a)) {
                if (k.startsWith(SECRET_ANNOTATION_PREFIX)) {
                    const inner = v.startsWith(`${mount}/data/`) ? v.slice(`${mount}/data/`.length) : undefined;
                    if (inner === undefined || !w.readable.has(inner)) {
                        reportViolation(
                            `Deployment "${d.name}" of workload ${w.name} declares secret "${v}" (${k}), ` +
                                "a path it does not own and was not granted. Read only its own or granted paths.",
                            d.urn,
                        );
                    }
                }
                if (k.startsWith(TEMPLATE_ANNOTATION_PREFIX)) {
                    for (const problem of templateProblems(v, { kvMount: mount, readable: w.readable })) {
                        reportViolation(
                            `Deployment "${d.name}" of workload ${w.name}: ` +
                                `template ${k.slice(TEMPLATE_ANNOTATION_PREFIX.length)} is refused; expected ${problem}.`,
                            d.urn,
                        );
                    }
                }
            }
        }
    },
});
