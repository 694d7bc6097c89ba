/**
 * The per-workload `injection` setting: how the Vault Agent runs and what it requests.
 * Kept apart from schema.ts so the resource checks (quantities, request <= limit) stay together.
 */
import { z } from "zod";
import { DEFAULT_INJECTION_MODE, resolveAgentResources } from "../agent/agentInjection";
import { INJECTION_MODES } from "../agent/vocabulary";
import { cpuMillicores, isQuantity, memoryMiB } from "../agent/quantity";

const quantity = z.string().refine(isQuantity, "a Kubernetes quantity such as 25m, 0.5, 48Mi or 1Gi");
const quantities = (what: string) =>
    z.object({ cpu: quantity.describe(`CPU ${what}.`), memory: quantity.describe(`Memory ${what}.`) }).partial().strict();

export const injectionSchema = z
    .object({
        mode: z
            .enum(INJECTION_MODES)
            .default(DEFAULT_INJECTION_MODE)
            .describe(
                "`init-only`: the agent renders once in an init container and exits (static KV secrets); " +
                    "`sidecar`: an agent sidecar keeps re-rendering (rotation, dynamic secrets).",
            ),
        resources: z
            .object({
                requests: quantities("request").optional().describe("Agent requests."),
                limits: quantities("limit").optional().describe("Agent limits."),
            })
            .strict()
            .optional()
            .describe(
                "Agent requests and limits, field by field over the mode's defaults (docs/injection-modes.md); " +
                    "a request above its limit is refused.",
            ),
    })
    .strict()
    .superRefine((inj, ctx) => {
        // Kubernetes rejects a container whose request exceeds its limit, but only when the injector
        // mutates the pod: the Deployment would then never get a pod. Fail here instead.
        const r = resolveAgentResources(inj);
        // A malformed quantity is already reported by its own field's check.
        if (![r.requests.cpu, r.requests.memory, r.limits.cpu, r.limits.memory].every(isQuantity)) return;
        const sizes = [["cpu", cpuMillicores, "CPU"], ["memory", memoryMiB, "memory"]] as const;
        for (const [kind, size, label] of sizes) {
            if (size(r.requests[kind]) > size(r.limits[kind])) {
                ctx.addIssue({
                    code: "custom",
                    path: ["resources", "requests", kind],
                    input: r.requests[kind],
                    message: `at most the ${label} limit (${r.limits[kind]})`,
                });
            }
        }
    });
