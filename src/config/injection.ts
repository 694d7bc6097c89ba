/**
 * The per-workload `injection` setting: how the Vault Agent runs and what it requests.
 * Kept apart from schema.ts so the resource checks (quantities, request <= limit) stay together.
 */
import { z } from "zod";
import { INJECTION_MODES, resolveAgentResources } from "../components/workload/agentInjection";
import { cpuMillicores, isQuantity, memoryMiB } from "../components/workload/quantity";

const quantity = z.string().refine(isQuantity, "a Kubernetes quantity such as 25m, 0.5, 48Mi or 1Gi");
const quantities = z.object({ cpu: quantity, memory: quantity }).partial().strict();

export const injectionSchema = z
    .object({
        /** `init-only` (default): render once, no sidecar. `sidecar`: keep re-rendering (rotation, dynamic secrets). */
        mode: z.enum(INJECTION_MODES).default("init-only"),
        /** Agent requests/limits, field by field over the mode's defaults (src/components/workload/agentInjection.ts). */
        resources: z.object({ requests: quantities.optional(), limits: quantities.optional() }).strict().optional(),
    })
    .strict()
    .superRefine((inj, ctx) => {
        // Kubernetes rejects a container whose request exceeds its limit, but only when the injector
        // mutates the pod: the Deployment would then never get a pod. Fail here instead.
        const r = resolveAgentResources(inj);
        // A malformed quantity is already reported by its own field's check.
        if (![r.requests.cpu, r.requests.memory, r.limits.cpu, r.limits.memory].every(isQuantity)) return;
        if (cpuMillicores(r.requests.cpu) > cpuMillicores(r.limits.cpu)) {
            ctx.addIssue({ code: "custom", path: ["resources", "requests", "cpu"], input: r.requests.cpu, message: `at most the CPU limit (${r.limits.cpu})` });
        }
        if (memoryMiB(r.requests.memory) > memoryMiB(r.limits.memory)) {
            ctx.addIssue({ code: "custom", path: ["resources", "requests", "memory"], input: r.requests.memory, message: `at most the memory limit (${r.limits.memory})` });
        }
    });
