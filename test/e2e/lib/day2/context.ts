/**
 * What every day-2 scenario shares: the stack's runner, the settings last applied, the real
 * systems, and small readers of them (KV versions, Helm's release, the local stack's processes).
 */
import { readFileSync } from "fs";
import * as path from "path";
import type { RunEvent, RunResult } from "../../../../src/automation/runner";
import { StackRunner } from "../deploy";
import { Kube, StackEnv, Vault, sh } from "../systems";
import { Scope, Snapshot, snapshot } from "./snapshot";

export const STACK_SH = path.join(__dirname, "..", "..", "stack.sh");
export const WEBHOOK_SH = path.join(__dirname, "..", "..", "webhook.sh");

export type Settings = Record<string, any>;

export class Day2 {
    /** The settings of the last `up` that completed. */
    settings: Settings;

    constructor(
        readonly env: StackEnv,
        readonly kube: Kube,
        readonly vault: Vault,
        readonly runner: StackRunner,
        initial: Settings,
    ) {
        this.settings = initial;
    }

    get stack(): string {
        return this.runner.stack;
    }

    /** A deep copy of the current settings with `edit` applied. */
    edit(edit: (s: Settings) => void): Settings {
        const s = structuredClone(this.settings);
        edit(s);
        return s;
    }

    /**
     * A real `up` of `settings`; on success they become the current settings. `extra.onEvent` is a
     * hook called after the runner's own (which records and prints the events).
     */
    async up(settings: Settings, extra: Parameters<StackRunner["run"]>[1] = {}): Promise<RunResult> {
        const from = this.runner.events.length;
        const base = this.runner.options(settings).onEvent;
        const onEvent = (e: RunEvent) => {
            base?.(e);
            extra.onEvent?.(e);
            // The injector's rollout, as a real cluster does it before the next stage starts.
            if (e.type === "stage" && e.stage === "injector" && e.status === "done") this.followInjector();
        };
        try {
            const r = await this.runner.run(settings, { ...extra, onEvent });
            if ((extra.operation ?? "up") === "up") this.settings = settings;
            return r;
        } finally {
            this.lastEvents = this.runner.events.slice(from);
        }
    }

    /** The runner's events of the last `up` (or other operation) through `up()`. */
    lastEvents: RunEvent[] = [];

    /** `<op> <name>` of every resource the last operation changed (not `same`, not `read`), for failure details. */
    lastChanged(): string[] {
        return this.lastEvents.flatMap((e) => (e.type === "resource" && e.status === "done" && e.phase !== "preview"
            && !NO_CHANGE.includes(e.op) ? [`${e.op} ${e.resourceType} ${e.name}`] : []));
    }

    /** Every namespace, auth mount and KV mount the stack has used so far (absent ones included). */
    scope(): Scope {
        const s = this.settings;
        const namespaces = new Set<string>([s.injector?.namespace ?? "vault", ...this.seenNamespaces]);
        for (const w of s.workloads) namespaces.add(w.namespace);
        for (const n of namespaces) this.seenNamespaces.add(n);
        this.seenAuthPaths.add(s.kubernetesAuth.path);
        return { kvMount: s.kv?.path ?? "secret", authPaths: [...this.seenAuthPaths], namespaces: [...namespaces] };
    }

    private readonly seenNamespaces = new Set<string>();
    private readonly seenAuthPaths = new Set<string>();

    snapshot(): Promise<Snapshot> {
        return snapshot(this.kube, this.vault, this.scope());
    }

    /** `(kv data) of <mount>/<path>` at `version` (default: the current one), as Vault returns it. */
    async kv(p: string, version?: number): Promise<Record<string, string> | undefined> {
        const mount = this.settings.kv?.path ?? "secret";
        const r = await this.vault.call("GET", `${mount}/data/${p}${version === undefined ? "" : `?version=${version}`}`);
        return r.status === 200 ? (r.body.data.data as Record<string, string>) : undefined;
    }

    async kvMeta(p: string): Promise<any> {
        const mount = this.settings.kv?.path ?? "secret";
        return (await this.vault.maybe(`${mount}/metadata/${p}`))?.data;
    }

    /**
     * Each resource's outputs in the state (`pulumi stack export --show-secrets`), by URN: to name
     * what a refresh changed, never printed (key names only).
     */
    stateOutputs(): Map<string, Record<string, unknown>> {
        const o = this.runner.options(undefined);
        const env = { ...o.env, PULUMI_BACKEND_URL: o.backendUrl } as NodeJS.ProcessEnv;
        const out = sh("pulumi", ["stack", "export", "--show-secrets", "--stack", this.stack, "--cwd", this.runner.projectDir], { env });
        const resources = (JSON.parse(out) as { deployment: { resources?: { urn: string; outputs?: Record<string, unknown> }[] } })
            .deployment.resources ?? [];
        return new Map(resources.map((r) => [r.urn, r.outputs ?? {}]));
    }

    /** The PID `stack.sh start` recorded for one component. */
    pid(component: string): number {
        return Number(readFileSync(path.join(this.env.stateDir, "pids", `${component}.pid`), "utf8").trim());
    }

    restart(component: string): void {
        sh("bash", [STACK_SH, "restart", this.env.stateDir, component], { timeoutMs: 240000 });
    }

    /** kwok pods run no process: the injector's own code serves the chart's webhook (webhook.sh). */
    startWebhook(): void {
        const { ns, release } = this.injector();
        sh("bash", [WEBHOOK_SH, "start", this.env.stateDir, ns, release], { timeoutMs: 300000 });
        this.webhookFrom = this.injectorTemplate();
    }

    stopWebhook(): void {
        sh("bash", [WEBHOOK_SH, "stop", this.env.stateDir]);
        this.webhookFrom = undefined;
    }

    /** The pod template webhook.sh last started vault-k8s from (its env is the chart's). */
    private webhookFrom: string | undefined;

    private injector(): { ns: string; release: string } {
        return { ns: this.settings.injector?.namespace ?? "vault", release: this.settings.injector?.releaseName ?? "vault" };
    }

    private injectorTemplate(): string | undefined {
        const { ns, release } = this.injector();
        const dep = this.kube.get(`deployment`, `${release}-agent-injector`, ns);
        return dep === undefined ? undefined : JSON.stringify(dep.spec.template);
    }

    /**
     * A Helm upgrade that changes the injector's pod template (its env: chart values such as the
     * auth path) rolls the Deployment, so new injector pods serve the webhook before the later
     * stages run. Here vault-k8s is restarted from the new template at the same point (the end
     * of the injector stage); an upgrade that leaves the template alone leaves it running.
     */
    followInjector(): void {
        if (this.webhookFrom === undefined) return;
        const now = this.injectorTemplate();
        if (now === undefined || now === this.webhookFrom) return;
        this.stopWebhook();
        this.startWebhook();
    }
}

/**
 * Engine ops that change nothing: `same`, `refresh` (a resource event's op while refreshing; drift
 * shows as `update` in the summary), and `read`, which the reviewer token Secret's
 * `Secret.get` (components/vaultInjector.ts) is on every update: it reads the live object.
 */
const NO_CHANGE = ["same", "read", "refresh"];

/** The change summary of the stages that ran, without `same` and `read`. */
export function changes(result: RunResult): Record<string, number> {
    const changed: Record<string, number> = {};
    for (const s of result.stages.filter((x) => x.status === "done")) {
        for (const [op, n] of Object.entries(s.changes ?? {})) if (!NO_CHANGE.includes(op)) changed[op] = (changed[op] ?? 0) + n;
    }
    return changed;
}
