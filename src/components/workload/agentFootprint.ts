/**
 * What Vault Agent containers make the cluster reserve, read from a pod's annotations exactly as
 * the injector (vault-k8s `agent-inject/agent`) would turn them into containers. Pure: the
 * benchmark feeds it the annotations the program rendered, and the tests feed it edge cases.
 */
import { ANNOTATION_PREFIX } from "../../vocabulary";
import { cpuMillicores, memoryMiB } from "./quantity";

export interface Reservation {
    cpuMillicores: number;
    memMiB: number;
}

/** What the injector uses for an absent resource annotation (its flags / the chart's `injector.agentDefaults`). */
export interface AgentDefaults {
    requests: { cpu: string; memory: string };
    limits: { cpu: string; memory: string };
}

/** vault-k8s's built-in defaults (`container_sidecar.go`), also the chart's `injector.agentDefaults`. */
export const VAULT_K8S_AGENT_DEFAULTS: AgentDefaults = {
    requests: { cpu: "250m", memory: "64Mi" },
    limits: { cpu: "500m", memory: "128Mi" },
};

export interface AgentFootprint {
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

export interface FootprintOptions {
    /** Sum of the app containers' requests. Default zero (the program's Deployment sets none). */
    appRequests?: Reservation;
    /** Injector defaults for absent annotations. Default vault-k8s's. */
    defaults?: AgentDefaults;
}

const ZERO: Reservation = { cpuMillicores: 0, memMiB: 0 };

/** Go's `strconv.ParseBool`, which the injector uses for its boolean annotations. */
function goBool(name: string, value: string | undefined, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return false;
    throw new Error(`annotation ${ANNOTATION_PREFIX}${name}: "${value}" is not a boolean the injector accepts`);
}

/**
 * One resource of one agent container. An absent annotation takes the injector default; an empty
 * one leaves the field unset, and Kubernetes then copies the limit into an unset request.
 */
function request(annotations: Record<string, string>, kind: "cpu" | "mem", defaults: AgentDefaults): string | undefined {
    const req = annotations[`${ANNOTATION_PREFIX}agent-requests-${kind}`] ?? (kind === "cpu" ? defaults.requests.cpu : defaults.requests.memory);
    if (req !== "") return req;
    const lim = annotations[`${ANNOTATION_PREFIX}agent-limits-${kind}`] ?? (kind === "cpu" ? defaults.limits.cpu : defaults.limits.memory);
    return lim === "" ? undefined : lim;
}

export function agentFootprint(annotations: Record<string, string>, options: FootprintOptions = {}): AgentFootprint {
    const defaults = options.defaults ?? VAULT_K8S_AGENT_DEFAULTS;
    const app = options.appRequests ?? ZERO;
    const get = (name: string) => annotations[`${ANNOTATION_PREFIX}${name}`];

    if (!goBool("agent-inject", get("agent-inject"), false)) {
        return { containers: { init: false, sidecar: false }, agentRequests: ZERO, steadyState: ZERO };
    }
    // vault-k8s: the init container exists when pre-populating; the sidecar unless pre-populate-only.
    const init = goBool("agent-pre-populate", get("agent-pre-populate"), true);
    const sidecar = !goBool("agent-pre-populate-only", get("agent-pre-populate-only"), false);

    const cpu = request(annotations, "cpu", defaults);
    const mem = request(annotations, "mem", defaults);
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
