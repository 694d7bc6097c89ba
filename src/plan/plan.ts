/**
 * The offline plan: the program for a stack's settings, evaluated under Pulumi's mock runtime
 * with the placeholder cloud. No Pulumi CLI, no cloud, no credentials. It is not a preview (no
 * state, no diff): it shows what the program would send, and how values cross between systems.
 */
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { stringify } from "yaml";
import { buildProgram } from "../program/program";
import { SecretInputs } from "../config/load";
import { Settings } from "../config/schema";
import { STAGES, Stage } from "../stages";
import { STAGE_ROOT_TYPES } from "../program/stages";
import { PLACEHOLDER, PlaceholderCloud, Source, isSecretWire } from "./placeholderCloud";
import { PROJECT_NAME } from "../config/configKeys";
import { planHeader } from "./header";
import { PROJECT_DIR } from "../projectDir";
import type { PolicyVerdict } from "../../policies/evaluate";
import { ANNOTATION_PREFIX } from "../agent/vocabulary";

// `waitForRPCs` is how the Pulumi runtime itself knows a program has finished registering.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

const SECRET = "[secret]";

interface PlanNode {
    type: string;
    name: string;
    parent?: PlanNode;
    children: PlanNode[];
    custom: boolean;
    /** Stage of its top-level ancestor. */
    stage?: Stage;
    /** Inputs as sent (secrets wrapped); custom resources and providers only. */
    inputs?: Record<string, unknown>;
    /** Logical name of the explicit provider, if any. */
    provider?: string;
}

interface Wire {
    source: Source;
    consumer: { type: string; name: string };
    input: string;
    /** The input's value, `[secret]` when secret. */
    value: string;
}

export interface Plan {
    stack: string;
    stage: Stage;
    nodes: PlanNode[];
    wiring: Wire[];
    injectorValues: Array<{ release: string; values: unknown }>;
    annotations: Array<{ workload: string; annotations: Record<string, string> }>;
    policies: Array<{ name: string; policy: string }>;
    outputs: Record<string, unknown>;
    /** The policy pack's verdict on the planned resources (platform pack config), in pack order. */
    verdict: PolicyVerdict[];
}

/** Inputs as the engine hands them to a policy: secret wrappers removed. */
function unwrapSecrets(value: unknown): unknown {
    if (isSecretWire(value)) return unwrapSecrets(value.value);
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/**
 * Runs the pack's policies (policies/policies.ts, never the server in policies/index.ts) on what the
 * plan recorded, with the platform's pack config. Loaded here, not at CLI start.
 */
async function packVerdict(cloud: PlaceholderCloud, stack: string): Promise<PolicyVerdict[]> {
    const [{ evaluatePack, fromRecording }, { guardrailPolicies }, { platformConfig }] = await Promise.all([
        import("../../policies/evaluate"),
        import("../../policies/policies"),
        import("../../policies/platformConfig"),
    ]);
    const recorded = cloud.resources.map((r) => ({ ...r, inputs: unwrapSecrets(r.inputs) as Record<string, unknown>, custom: true }));
    return evaluatePack(guardrailPolicies(), fromRecording(recorded), platformConfig(path.join(PROJECT_DIR, "policies"), stack));
}

interface OutputInternals {
    promise(withUnknowns?: boolean): Promise<unknown>;
    isSecret: Promise<boolean>;
}

/** Resolves Outputs deeply; secret ones become `[secret]`. */
async function resolve(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const o = value as unknown as OutputInternals;
        const [v, secret] = await Promise.all([o.promise(), o.isSecret]);
        return secret ? SECRET : resolve(v);
    }
    if (Array.isArray(value)) return Promise.all(value.map(resolve));
    if (typeof value === "object" && value !== null) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolve(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

/** Wire-form inputs for display: secrets replaced by `[secret]`. */
function display(value: unknown): unknown {
    if (isSecretWire(value)) return SECRET;
    if (Array.isArray(value)) return value.map(display);
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, display(v)]));
    return value;
}

const pkgOf = (type: string) => (type.startsWith("pulumi:providers:") ? type.slice("pulumi:providers:".length) : type.split(":")[0]);

function findWires(
    cloud: PlaceholderCloud,
    consumer: { type: string; name: string },
    value: unknown,
    at: string,
    secret: boolean,
    out: Wire[],
): void {
    if (isSecretWire(value)) return findWires(cloud, consumer, value.value, at, true, out);
    if (Array.isArray(value)) return value.forEach((v, i) => findWires(cloud, consumer, v, `${at}[${i}]`, secret, out));
    if (typeof value === "object" && value !== null) {
        for (const [k, v] of Object.entries(value)) findWires(cloud, consumer, v, at === "" ? k : `${at}.${k}`, secret, out);
        return;
    }
    if (typeof value !== "string") return;
    const seen = new Set<string>();
    for (const m of value.matchAll(PLACEHOLDER)) {
        const source = cloud.sources.get(m[0]);
        if (source === undefined || seen.has(m[0]) || pkgOf(source.type) === pkgOf(consumer.type)) continue;
        seen.add(m[0]);
        out.push({ source, consumer, input: at, value: secret ? SECRET : value });
    }
}

/** Seeds from `{ secretConfig: KEY }` are stack secrets the plan never reads. */
const planSecrets: SecretInputs = { secretConfig: (key: string) => pulumi.secret(`⟨stack secret config ${key}⟩`) };

/** Runs the program for `settings` up to `stage` under the placeholder cloud. */
export async function evaluatePlan(settings: Settings, stack: string, stage: Stage = STAGES[STAGES.length - 1]): Promise<Plan> {
    const cloud = new PlaceholderCloud();
    await pulumi.runtime.setMocks(cloud, PROJECT_NAME, stack, false);
    const nodes: PlanNode[] = [];
    const byResource = new Map<pulumi.Resource, PlanNode>();
    const components: Array<{ node: PlanNode; resource: pulumi.Resource }> = [];

    let programOutputs: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
        // A stack transformation sees every resource with its options: the only place parents show.
        pulumi.runtime.registerStackTransformation((a) => {
            const parent = a.opts.parent === undefined ? undefined : byResource.get(a.opts.parent);
            const node: PlanNode = {
                type: a.type,
                name: a.name,
                parent,
                children: [],
                custom: a.resource instanceof pulumi.CustomResource,
            };
            parent?.children.push(node);
            byResource.set(a.resource, node);
            nodes.push(node);
            components.push({ node, resource: a.resource });
            return undefined;
        });
        // Kept as Outputs (what runInPulumiStack returns is already unwrapped, secrets included).
        programOutputs = buildProgram(settings, planSecrets, { stage });
        return undefined;
    });
    await runtimeSettings.waitForRPCs();
    if (cloud.unexpected.length > 0) throw new Error(`the offline plan does not know these invokes: ${cloud.unexpected.join(", ")}`);

    const recorded = new Map(cloud.resources.map((r) => [`${r.type}::${r.name}`, r]));
    for (const node of nodes) {
        let top = node;
        while (top.parent !== undefined) top = top.parent;
        node.stage = STAGE_ROOT_TYPES[top.type];
        const rec = recorded.get(`${node.type}::${node.name}`);
        if (rec !== undefined) {
            node.inputs = rec.inputs;
            // `urn:pulumi:<stack>::<project>::pulumi:providers:<pkg>::<name>::<id>`
            node.provider = rec.provider ? rec.provider.split("::")[3] : undefined;
        }
    }

    const wiring: Wire[] = [];
    for (const node of nodes) {
        if (node.inputs !== undefined) findWires(cloud, { type: node.type, name: node.name }, node.inputs, "", false, wiring);
    }

    const annotations: Plan["annotations"] = [];
    for (const { node, resource } of components) {
        const podAnnotations = (resource as unknown as { podAnnotations?: pulumi.Output<Record<string, string>> }).podAnnotations;
        if (node.type.endsWith(":WorkloadBinding") && podAnnotations !== undefined) {
            annotations.push({ workload: node.name, annotations: (await resolve(podAnnotations)) as Record<string, string> });
        }
    }

    return {
        stack,
        stage,
        nodes,
        wiring,
        injectorValues: nodes
            .filter((n) => n.type === "kubernetes:helm.sh/v3:Release")
            .map((n) => ({ release: n.name, values: display(n.inputs?.values) })),
        annotations,
        policies: nodes
            .filter((n) => n.type === "vault:index/policy:Policy")
            .map((n) => ({ name: String(display(n.inputs?.name)), policy: String(display(n.inputs?.policy)) })),
        outputs: (await resolve(programOutputs)) as Record<string, unknown>,
        verdict: await packVerdict(cloud, stack),
    };
}

function indent(text: string, by = "    "): string {
    return text.trimEnd().split("\n").map((l) => by + l).join("\n");
}

function oneLine(value: string, max = 110): string {
    const flat = value.replace(/\n/g, "⏎");
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The plan as text, for a terminal or a golden file: `planHeader`, then `renderPlanBody`. */
export function renderPlan(plan: Plan): string {
    return planHeader(plan.stack, plan.stage) + renderPlanBody(plan);
}

/** The plan as text after its header (what the CLI prints once the program has run). */
export function renderPlanBody(plan: Plan): string {
    const out: string[] = [];
    const customs = plan.nodes.filter((n) => n.custom).length;
    out.push(`RESOURCES (${plan.nodes.length}: ${customs} resources and providers, ${plan.nodes.length - customs} components)`);
    const tree = (node: PlanNode, prefix: string, last: boolean, depth: number) => {
        const provider = node.provider !== undefined ? `  (provider: ${node.provider})` : "";
        out.push(`${prefix}${depth === 0 ? "" : last ? "└─ " : "├─ "}${node.type}  ${node.name}${provider}`);
        const childPrefix = depth === 0 ? prefix : prefix + (last ? "   " : "│  ");
        node.children.forEach((c, i) => tree(c, childPrefix, i === node.children.length - 1, depth + 1));
    };
    for (const stage of STAGES.slice(0, STAGES.indexOf(plan.stage) + 1)) {
        out.push(`  stage ${stage}`);
        for (const root of plan.nodes.filter((n) => n.parent === undefined && n.stage === stage)) tree(root, "    ", true, 0);
    }
    const orphans = plan.nodes.filter((n) => n.parent === undefined && n.stage === undefined);
    if (orphans.length > 0) {
        out.push("  (no stage)");
        for (const root of orphans) tree(root, "    ", true, 0);
    }
    out.push("");

    out.push("WIRING ACROSS SYSTEMS (cloud-computed value → where it is sent)");
    const bySource = new Map<string, Wire[]>();
    for (const w of plan.wiring) {
        const key = `${w.source.type}  ${w.source.name}: ${w.source.field}`;
        bySource.set(key, [...(bySource.get(key) ?? []), w]);
    }
    if (bySource.size === 0) out.push("  (none at this stage)");
    for (const [source, wires] of bySource) {
        out.push(`  ${source}`);
        for (const w of wires) out.push(`    → ${w.consumer.type}  ${w.consumer.name}  .${w.input} = ${oneLine(w.value)}`);
    }
    out.push("");

    out.push("INJECTOR CHART VALUES");
    if (plan.injectorValues.length === 0) out.push("  (not at this stage)");
    for (const v of plan.injectorValues) out.push(`  release ${v.release}:`, indent(stringify(v.values)));
    out.push("");

    out.push(`POD ANNOTATIONS (${ANNOTATION_PREFIX}*)`);
    if (plan.annotations.length === 0) out.push("  (not at this stage)");
    for (const a of plan.annotations) out.push(`  workload ${a.workload}:`, indent(stringify(a.annotations)));
    out.push("");

    out.push("VAULT POLICIES");
    if (plan.policies.length === 0) out.push("  (not at this stage)");
    for (const p of plan.policies) out.push(`  policy ${p.name}:`, indent(p.policy));
    out.push("");

    out.push("STACK OUTPUTS");
    out.push(indent(stringify(plan.outputs), "  "));
    out.push("");

    const failed = plan.verdict.filter((v) => v.messages.length > 0);
    out.push(`POLICY PACK (${plan.verdict.length} policies on the planned resources: ${failed.length} with violations)`);
    for (const v of plan.verdict) {
        if (v.enforcementLevel === "disabled") out.push(`  disabled  ${v.policy}`);
        else if (v.messages.length === 0) out.push(`  passed    ${v.policy}`);
        for (const m of v.messages) out.push(`  VIOLATED  ${v.policy} (${v.enforcementLevel}): ${oneLine(m, 400)}`);
    }
    return out.join("\n") + "\n";
}

/** The plan as JSON (for `--json`): the same content, secrets already replaced. */
export function planJson(plan: Plan): unknown {
    return {
        kind: "offline-plan",
        note: "evaluated under Pulumi's mock runtime; not a preview",
        stack: plan.stack,
        stage: plan.stage,
        resources: plan.nodes.map((n) => ({
            type: n.type,
            name: n.name,
            parent: n.parent?.name,
            stage: n.stage,
            provider: n.provider,
            inputs: n.inputs === undefined ? undefined : display(n.inputs),
        })),
        wiring: plan.wiring,
        injectorValues: plan.injectorValues,
        annotations: plan.annotations,
        policies: plan.policies,
        outputs: plan.outputs,
        policyVerdict: plan.verdict,
    };
}
