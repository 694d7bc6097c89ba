/**
 * A recorded fake of the StackEngine seam. It keeps a stack state the way the Pulumi engine would:
 * an `up` of the program cut after stage k leaves exactly the resources of stages <= k (later
 * ones are deleted), `destroy` empties it; a preview reports the steps `previewOps` scripts. Scripted
 * faults: a failing command (with the engine events a real failure emits), a lock held for N
 * attempts, a policy violation, a hang until abort.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { ChangeSummary, EngineCall, StackEngine, StackOutput } from "../../src/automation/engine";
import { EngineConflict, EngineFailure, EngineStackMissing } from "../../src/errors";
import { STAGES, Stage } from "../../src/stages";

/** URNs as the real engine writes them: the type chain starts with the stage's component. */
export const STAGE_URNS: Record<Stage, string[]> = {
    cluster: [
        "urn:pulumi:dev::aks-vault::aksvault:index:AksCluster::aks-vault-dev",
        "urn:pulumi:dev::aks-vault::aksvault:index:AksCluster$azure-native:containerservice:ManagedCluster::aks-vault-dev-aks",
        "urn:pulumi:dev::aks-vault::aksvault:index:AksCluster$pulumi:providers:kubernetes::aks-vault-dev-k8s",
    ],
    injector: [
        "urn:pulumi:dev::aks-vault::aksvault:index:VaultInjector::vault-injector",
        "urn:pulumi:dev::aks-vault::aksvault:index:VaultInjector$kubernetes:helm.sh/v3:Release::vault-injector-chart",
    ],
    "vault-auth": [
        "urn:pulumi:dev::aks-vault::pulumi:providers:vault::vault",
        "urn:pulumi:dev::aks-vault::aksvault:index:VaultKubernetesAuth::vault-k8s-auth",
        "urn:pulumi:dev::aks-vault::aksvault:index:VaultKubernetesAuth$vault:index/authBackend:AuthBackend::vault-k8s-auth-backend",
        "urn:pulumi:dev::aks-vault::aksvault:index:VaultKv$vault:index/mount:Mount::vault-kv-mount",
    ],
    workloads: [
        "urn:pulumi:dev::aks-vault::aksvault:index:WorkloadBinding::busybox",
        "urn:pulumi:dev::aks-vault::aksvault:index:WorkloadBinding$kubernetes:apps/v1:Deployment::busybox-deploy",
    ],
};
const STACK_URN = "urn:pulumi:dev::aks-vault::pulumi:pulumi:Stack::aks-vault-dev";

export type Op = "open" | "stateUrns" | "preview" | "up" | "destroy" | "refresh" | "outputs";

export interface Call {
    op: Op;
    stage?: Stage;
    create?: boolean;
    policyPacks?: string[];
    policyPackConfigs?: string[];
}

export interface Fault {
    op: Op;
    stage?: Stage;
    /** What happens. */
    kind: "fail" | "conflict" | "policy" | "hang";
    /** conflict: how many attempts are refused (default: all). fail: resources of the stage created before failing. */
    times?: number;
    partial?: number;
}

let seq = 0;
const ev = (e: Omit<EngineEvent, "sequence" | "timestamp">): EngineEvent => ({ sequence: seq++, timestamp: 0, ...e });
const meta = (op: string, urn: string) => ({ op, urn, type: urn.split("::")[2].split("$").pop() ?? "", provider: "" }) as never;

export class FakeEngine implements StackEngine {
    readonly calls: Call[] = [];
    state: Set<string>;
    exists: boolean;
    /** What each preview reports changing: URN -> step op (`update`, `replace`, ...), sent as `resourcePreEvent`s. */
    previewOps: Record<string, string> = {};
    /** Outputs the stack holds beyond the two every test sees (e.g. `vaultAuthPath` of a deployed mount). */
    heldOutputs: Record<string, StackOutput> = {};
    private readonly faults: Fault[] = [];
    private conflictsLeft = new Map<Fault, number>();

    constructor(public readonly stackName = "dev", opts: { deployed?: Stage; exists?: boolean } = {}) {
        this.exists = opts.exists ?? opts.deployed !== undefined;
        this.state = new Set(opts.deployed === undefined ? [] : FakeEngine.through(opts.deployed));
    }

    static through(stage: Stage): string[] {
        return [STACK_URN, ...STAGES.slice(0, STAGES.indexOf(stage) + 1).flatMap((s) => STAGE_URNS[s])];
    }

    fault(f: Fault): this {
        this.faults.push(f);
        if (f.kind === "conflict") this.conflictsLeft.set(f, f.times ?? Number.POSITIVE_INFINITY);
        return this;
    }

    /** The engine commands run, as `op:stage`, without open/stateUrns/outputs. */
    get commands(): string[] {
        return this.calls.filter((c) => !["open", "stateUrns", "outputs"].includes(c.op)).map((c) => `${c.op}:${c.stage ?? "-"}`);
    }

    private async faultFor(op: Op, call?: EngineCall): Promise<void> {
        const f = this.faults.find((x) => x.op === op && (x.stage === undefined || x.stage === call?.stage));
        if (f === undefined) return;
        const urn = call ? STAGE_URNS[call.stage][STAGE_URNS[call.stage].length - 1] : STACK_URN;
        switch (f.kind) {
            case "conflict": {
                const left = this.conflictsLeft.get(f) ?? 0;
                if (left <= 0) return;
                this.conflictsLeft.set(f, left - 1);
                throw new EngineConflict();
            }
            case "policy":
                call?.onEvent(ev({
                    policyEvent: {
                        resourceUrn: urn,
                        message: "replicas must be at least 2",
                        color: "never",
                        policyName: "injector-ha",
                        policyPackName: "aks-vault-guardrails",
                        policyPackVersion: "0.1.0",
                        policyPackVersionTag: "0.1.0",
                        enforcementLevel: "mandatory",
                    },
                }));
                throw new EngineFailure("error: preview failed due to policy violations");
            case "fail": {
                if (call !== undefined) {
                    for (const u of STAGE_URNS[call.stage].slice(0, f.partial ?? 0)) this.state.add(u);
                    call.onEvent(ev({ resourcePreEvent: { metadata: meta("create", urn) } }));
                    call.onEvent(ev({
                        diagnosticEvent: { urn, message: "error: 403 permission denied\n", color: "never", severity: "error" },
                    }));
                    call.onEvent(ev({ resOpFailedEvent: { metadata: meta("create", urn), status: 1, steps: 1 } }));
                }
                throw new EngineFailure("error: update failed");
            }
            case "hang":
                await new Promise<void>((_, reject) => {
                    if (call?.signal?.aborted) reject(new EngineFailure("error: update canceled"));
                    call?.signal?.addEventListener("abort", () => reject(new EngineFailure("error: update canceled")), { once: true });
                });
                return;
        }
    }

    async open(create: boolean): Promise<void> {
        this.calls.push({ op: "open", create });
        if (!this.exists && !create) throw new EngineStackMissing();
        this.exists = true;
    }

    async stateUrns(): Promise<string[]> {
        this.calls.push({ op: "stateUrns" });
        return [...this.state];
    }

    async preview(call: EngineCall): Promise<ChangeSummary> {
        this.calls.push({ op: "preview", stage: call.stage, policyPacks: call.policyPacks, policyPackConfigs: call.policyPackConfigs });
        // The steps come as the engine walks the graph, before an error that stops it.
        for (const [urn, op] of Object.entries(this.previewOps)) call.onEvent(ev({ resourcePreEvent: { metadata: meta(op, urn) } }));
        await this.faultFor("preview", call);
        const want = new Set(FakeEngine.through(call.stage));
        return { create: [...want].filter((u) => !this.state.has(u)).length, delete: [...this.state].filter((u) => !want.has(u)).length };
    }

    async up(call: EngineCall): Promise<ChangeSummary> {
        this.calls.push({ op: "up", stage: call.stage, policyPacks: call.policyPacks, policyPackConfigs: call.policyPackConfigs });
        await this.faultFor("up", call);
        const want = FakeEngine.through(call.stage);
        for (const u of want) call.onEvent(ev({ resOutputsEvent: { metadata: meta(this.state.has(u) ? "same" : "create", u) } }));
        const summary = {
            create: want.filter((u) => !this.state.has(u)).length,
            delete: [...this.state].filter((u) => !want.includes(u)).length,
        };
        this.state = new Set(want);
        return summary;
    }

    async destroy(call: Omit<EngineCall, "policyPacks">): Promise<ChangeSummary> {
        this.calls.push({ op: "destroy", stage: call.stage });
        await this.faultFor("destroy");
        const n = this.state.size;
        this.state.clear();
        return { delete: n };
    }

    async refresh(call: Omit<EngineCall, "policyPacks">): Promise<ChangeSummary> {
        this.calls.push({ op: "refresh", stage: call.stage });
        return { same: this.state.size };
    }

    async outputs(): Promise<Record<string, StackOutput>> {
        this.calls.push({ op: "outputs" });
        return {
            clusterName: { value: "aks-vault-dev", secret: false }, kubeconfig: { value: "[secret]", secret: true }, ...this.heldOutputs,
        };
    }
}
