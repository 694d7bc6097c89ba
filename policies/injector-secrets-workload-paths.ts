import { templateProblems } from "../src/agent/goTemplate";
import {
    SECRET_ANNOTATION_PREFIX, TEMPLATE_ANNOTATION_PREFIX, ROLE_ANNOTATION, StackPolicyFactory, TYPES,
    isInjected, podAnnotations, registeredKv, registeredWorkloads,
} from "./lib";

const NAME = "injector-secrets-workload-paths";

/**
 * Each injected Deployment's `agent-inject-secret-*` paths are readable by its workload (the one
 * whose role it names), and its `agent-inject-template-*` templates pass the template checker:
 * own or granted paths only, allowed functions only. What a workload may read is the program's
 * `kvAccess` (src/config/access.ts), as registered on the WorkloadBinding components.
 */
export const injectorSecretsWorkloadPaths: StackPolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Each injected Deployment's secret annotations and agent templates read only its workload's own or granted KV paths.",
    enforcementLevel,
    severity: "critical",
    validateStack: (args, reportViolation) => {
        const workloads = registeredWorkloads(args.resources);
        if (workloads.length === 0) return;
        const { mount } = registeredKv(args.resources);
        for (const d of args.resources.filter((r) => r.type === TYPES.deployment && isInjected(r))) {
            const a = podAnnotations(d);
            const w = workloads.find((x) => x.role === a[ROLE_ANNOTATION]);
            if (w === undefined) continue; // injector-role-exists reports it
            for (const [k, v] of Object.entries(a)) {
                const inner = v.startsWith(`${mount}/data/`) ? v.slice(`${mount}/data/`.length) : undefined;
                if (k.startsWith(SECRET_ANNOTATION_PREFIX) && (inner === undefined || !w.readable.has(inner))) {
                    reportViolation(
                        `Deployment "${d.name}" of workload ${w.name} declares secret "${v}" (${k}), ` +
                            "a path it does not own and was not granted. Read only its own or granted paths.",
                        d.urn,
                    );
                }
                if (!k.startsWith(TEMPLATE_ANNOTATION_PREFIX)) continue;
                for (const problem of templateProblems(v, { kvMount: mount, readable: w.readable })) {
                    reportViolation(
                        `Deployment "${d.name}" of workload ${w.name}: ` +
                            `template ${k.slice(TEMPLATE_ANNOTATION_PREFIX.length)} is refused; expected ${problem}.`,
                        d.urn,
                    );
                }
            }
        }
    },
});
