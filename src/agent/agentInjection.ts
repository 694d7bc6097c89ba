/**
 * How the Vault Agent Injector runs the agent for a workload, and what the agent containers
 * request. Pure: `renderPodAnnotations` turns it into `vault.hashicorp.com/*` annotations and
 * `agentFootprint` reads those annotations back into the resources the cluster reserves.
 */

import { InjectionMode } from "./vocabulary";

interface ResourceQuantities {
    /** CPU quantity, e.g. `25m`. */
    cpu?: string;
    /** Memory quantity, e.g. `48Mi`. */
    memory?: string;
}

interface AgentResources {
    requests?: ResourceQuantities;
    limits?: ResourceQuantities;
}

/** The mode of a workload that names none. */
export const DEFAULT_INJECTION_MODE: InjectionMode = "init-only";

export interface InjectionArgs {
    /** How the agent runs: init container only, or with a sidecar (`INJECTION_MODES`). */
    mode: InjectionMode;
    /** Overrides of the mode's defaults (`AGENT_RESOURCE_DEFAULTS`), field by field. */
    resources?: AgentResources;
}

interface ResolvedAgentResources {
    requests: Required<ResourceQuantities>;
    limits: Required<ResourceQuantities>;
}

/**
 * Right-sized agent resources per mode. vault-k8s's own defaults (250m/64Mi requests, 500m/128Mi
 * limits) apply to the init container and the sidecar alike; 100 sidecars hold 25 CPUs.
 *
 * - Limits stay at vault-k8s's defaults: limits reserve nothing, and a CPU limit only slows the
 *   first render.
 * - The memory request (48Mi) covers Vault Agent's working set with a few templates; memory cannot
 *   be reclaimed from a container, so a request below real use makes the pod an eviction target.
 * - `init-only` requests no CPU. Kubernetes schedules a pod on max(largest init request, sum of
 *   app requests) for the pod's whole life, so a CPU request on a one-shot init container is held
 *   long after it exits. With none, a static-secret workload reserves no agent CPU at all; the
 *   price is that on a CPU-saturated node the one render (an auth call and a template) competes
 *   with the minimum CPU share.
 * - `sidecar` requests 25m: an idle agent renews its token and re-renders every few minutes.
 */
export const AGENT_RESOURCE_DEFAULTS: Readonly<Record<InjectionMode, ResolvedAgentResources>> = {
    "init-only": { requests: { cpu: "0", memory: "48Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
    sidecar: { requests: { cpu: "25m", memory: "48Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
};

export const DEFAULT_INJECTION: InjectionArgs = { mode: DEFAULT_INJECTION_MODE };

/** The mode's defaults with the workload's overrides applied. */
export function resolveAgentResources(injection: InjectionArgs): ResolvedAgentResources {
    const d = AGENT_RESOURCE_DEFAULTS[injection.mode];
    const r = injection.resources ?? {};
    return {
        requests: { cpu: r.requests?.cpu ?? d.requests.cpu, memory: r.requests?.memory ?? d.requests.memory },
        limits: { cpu: r.limits?.cpu ?? d.limits.cpu, memory: r.limits?.memory ?? d.limits.memory },
    };
}
