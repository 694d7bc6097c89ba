/**
 * What Vault Agent containers make the cluster reserve, read from a pod's annotations exactly as
 * the injector (vault-k8s `agent-inject/agent`) would turn them into containers. Pure: the
 * benchmark feeds it the annotations the program rendered, and the tests feed it edge cases.
 */
import { ANNOTATION } from "./vocabulary";
import { cpuMillicores, memoryMiB } from "./quantity";

interface Reservation {
    cpuMillicores: number;
    memMiB: number;
}

/** What the injector uses for an absent resource annotation (its flags / the chart's `injector.agentDefaults`). */
interface AgentDefaults {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** vault-k8s's built-in defaults (`container_sidecar.go`), also the chart's `injector.agentDefaults`. */
export const VAULT_K8S_AGENT_DEFAULTS: AgentDefaults = {
    requests: { cpu: "250m", memory: "64Mi" },
    limits: { cpu: "500m", memory: "128Mi" },
};

interface AgentFootprint {
    /** The agent containers the injector adds. */
    containers: { init: boolean; sidecar: boolean };
    /** Requests of one agent container (the init container and the sidecar get the same). */
    agentRequests: Reservation;
    /**
     * What the agent adds to the pod's effective request for the pod's whole life: Kubernetes
     * schedules a pod on max(largest init-container request, sum of app-container requests), so a
     * sidecar adds its requests, and an init container adds whatever it asks beyond the app.
     */
    steadyState: Reservation;
}

interface FootprintOptions {
    /** Sum of the app containers' requests. Default zero (the program's Deployment sets none). */
    appRequests?: Reservation;
    /** Injector defaults for absent annotations. Default vault-k8s's. */
    defaults?: AgentDefaults;
}

const ZERO: Reservation = { cpuMillicores: 0, memMiB: 0 };

/** Go's `strconv.ParseBool`, which the injector uses for its boolean annotations. */
function goBool(annotations: Record<string, string>, key: string, fallback: boolean): boolean {
    const value = annotations[key];
    if (value === undefined) return fallback;
    if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
    throw new Error(`annotation ${key}: "${value}" is not a boolean the injector accepts`);
}

const RESOURCE_ANNOTATIONS = {
    cpu: { request: ANNOTATION.requestsCpu, limit: ANNOTATION.limitsCpu },
    memory: { request: ANNOTATION.requestsMem, limit: ANNOTATION.limitsMem },
} as const;

/**
 * One resource of one agent container. An absent annotation takes the injector default; an empty
 * one leaves the field unset, and Kubernetes then copies the limit into an unset request.
 */
function request(annotations: Record<string, string>, kind: "cpu" | "memory", defaults: AgentDefaults): string | undefined {
    const req = annotations[RESOURCE_ANNOTATIONS[kind].request] ?? defaults.requests[kind];
    if (req !== "") return req;
    const lim = annotations[RESOURCE_ANNOTATIONS[kind].limit] ?? defaults.limits[kind];
    return lim === "" ? undefined : lim;
}

export function agentFootprint(annotations: Record<string, string>, options: FootprintOptions = {}): AgentFootprint {
    const defaults = options.defaults ?? VAULT_K8S_AGENT_DEFAULTS;
    const app = options.appRequests ?? ZERO;

    if (!goBool(annotations, ANNOTATION.inject, false)) {
        return { containers: { init: false, sidecar: false }, agentRequests: ZERO, steadyState: ZERO };
    }
    // vault-k8s: the init container exists when pre-populating; the sidecar unless pre-populate-only.
    const init = goBool(annotations, ANNOTATION.prePopulate, true);
    const sidecar = !goBool(annotations, ANNOTATION.prePopulateOnly, false);

    const cpu = request(annotations, "cpu", defaults);
    const mem = request(annotations, "memory", defaults);
    const agentRequests: Reservation = {
        cpuMillicores: cpu === undefined ? 0 : cpuMillicores(cpu),
        memMiB: mem === undefined ? 0 : memoryMiB(mem),
    };
    const added = (k: keyof Reservation) => {
        const running = app[k] + (sidecar ? agentRequests[k] : 0);
        const effective = Math.max(running, init ? agentRequests[k] : 0);
        return effective - app[k];
    };
    return {
        containers: { init, sidecar },
        agentRequests,
        steadyState: { cpuMillicores: added("cpuMillicores"), memMiB: added("memMiB") },
    };
}

/** A steady-state reservation scaled to `pods` injected pods. */
export function perPods(r: Reservation, pods = 100): Reservation {
    return { cpuMillicores: Math.round(r.cpuMillicores * pods * 1e3) / 1e3, memMiB: Math.round(r.memMiB * pods * 1e3) / 1e3 };
}
