/**
 * Runs the pack's policies outside the policy server (pure functions over the policy objects from
 * `policies.ts`; never `index.ts`, which starts the server): builds the `ResourceValidationArgs` /
 * `StackValidationArgs` the server would, collects the violation messages, and turns recorded
 * resources (a mock cloud's, or the offline plan's) into `PolicyResource`s. Used by the test
 * harness and by the offline plan's policy verdict.
 */
import type {
    EnforcementLevel,
    Policies,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
} from "@pulumi/policy";

/** A resource as a mock runtime recorded it: inputs (secrets unwrapped), provider reference `urn::id`. */
interface Recorded {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    provider?: string;
    custom: boolean;
}

interface Violation {
    message: string;
    urn?: string;
}

/** A resource as a policy sees it. */
export interface Fixture {
    type: string;
    name: string;
    props: Record<string, unknown>;
    provider?: PolicyProviderResource;
}

class NotApplicable extends Error {}

/** Thrown on reading a value unknown during preview; the policy server then skips the check. */
class UnknownValue extends Error {}

// How the mock runtime hands an unknown (preview) value to the CloudMock's recording.
function isUnknown(v: unknown): boolean {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>).__pulumiUnknown === true;
}

/**
 * Props as the policy server presents them: reading an unknown value throws (the server's
 * `unknownCheckingProxy`), and the server skips that policy for that resource (or stack).
 */
function unknownChecking<T>(v: T): T {
    if (typeof v !== "object" || v === null) return v;
    return new Proxy(v, {
        get(target, prop, receiver) {
            const x: unknown = Reflect.get(target, prop, receiver);
            if (isUnknown(x)) throw new UnknownValue(`unknown value at ${String(prop)}`);
            return unknownChecking(x);
        },
    });
}

/** What the runners report besides violations: policies skipped for unknown values. */
export interface RunNotes {
    skipped: string[];
}

const OPTS: PolicyResourceOptions = {
    protect: false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
};

export function urnOf(type: string, name: string): string {
    return `urn:pulumi:dev::aks-vault::${type}::${name}`;
}

/** What the engine hands a resource without an explicit provider: the package's default provider. */
export function defaultProvider(type: string): PolicyProviderResource {
    const pkg = type.split(":")[0];
    const providerType = `pulumi:providers:${pkg}`;
    return { type: providerType, name: "default_1_0_0", urn: urnOf(providerType, "default_1_0_0"), props: {} };
}

// The SDK classes carry their type token; this is what the policy server's `isType` compares.
function typeOf(resourceClass: unknown): string | undefined {
    return (resourceClass as { __pulumiType?: string }).__pulumiType;
}

/** Violation messages of one resource policy on one resource. */
export async function resourceViolations(
    policy: ResourceValidationPolicy,
    r: Fixture,
    config: object = {},
    notes?: RunNotes,
): Promise<string[]> {
    const messages: string[] = [];
    const args: ResourceValidationArgs = {
        type: r.type,
        props: unknownChecking(r.props),
        urn: urnOf(r.type, r.name),
        name: r.name,
        opts: OPTS,
        provider: r.provider ?? defaultProvider(r.type),
        stackTags: new Map(),
        isType: (cls) => typeOf(cls) === r.type,
        asType: ((cls: unknown) => (typeOf(cls) === r.type ? r.props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
    const validations =
        policy.validateResource === undefined
            ? []
            : Array.isArray(policy.validateResource)
              ? policy.validateResource
              : [policy.validateResource];
    for (const validate of validations) {
        try {
            await validate(args, (message) => messages.push(message));
        } catch (e) {
            if (e instanceof UnknownValue) notes?.skipped.push(`${policy.name} on ${r.name}`);
            else if (!(e instanceof NotApplicable)) throw e;
        }
    }
    return messages;
}

function policyResource(r: Fixture): PolicyResource {
    const self: PolicyResource = {
        type: r.type,
        name: r.name,
        urn: urnOf(r.type, r.name),
        props: unknownChecking(r.props),
        opts: OPTS,
        provider: r.type.startsWith("pulumi:providers:") ? undefined : (r.provider ?? defaultProvider(r.type)),
        dependencies: [],
        propertyDependencies: {},
        isType: (cls) => typeOf(cls) === r.type,
        asType: ((cls: unknown) => (typeOf(cls) === r.type ? r.props : undefined)) as PolicyResource["asType"],
    };
    return self;
}

/** Violations of one stack policy over a set of resources. */
export async function stackViolations(
    policy: StackValidationPolicy,
    resources: ReadonlyArray<Fixture | PolicyResource>,
    config: object = {},
    notes?: RunNotes,
): Promise<Violation[]> {
    const violations: Violation[] = [];
    const all = resources.map((r) => ("dependencies" in r ? r : policyResource(r)));
    try {
        await policy.validateStack(
            {
                resources: all,
                stackTags: new Map(),
                getConfig: <T extends object>() => config as T,
                notApplicable: (reason?: string): never => {
                    throw new NotApplicable(reason);
                },
            },
            (message, urn) => violations.push({ message, urn }),
        );
    } catch (e) {
        if (e instanceof UnknownValue) notes?.skipped.push(policy.name);
        else if (!(e instanceof NotApplicable)) throw e;
    }
    return violations;
}

/**
 * The CloudMock's recording as the engine would present it to a policy pack: inputs as props, the
 * provider reference (`urn::id`) resolved to the provider resource, the default provider where the
 * program gave none.
 */
export function fromRecording(recorded: readonly Recorded[]): Fixture[] {
    const providers = new Map<string, Recorded>();
    for (const r of recorded) if (r.type.startsWith("pulumi:providers:")) providers.set(`${r.type}::${r.name}`, r);
    return recorded.map((r) => {
        let provider: PolicyProviderResource | undefined;
        if (r.provider !== undefined && r.provider !== "") {
            const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
            const parts = urn.split("::");
            const type = (parts[2] ?? "").split("$").pop() ?? "";
            const name = parts[3] ?? "";
            provider = { type, name, urn, props: providers.get(`${type}::${name}`)?.inputs ?? {} };
        } else if (r.custom && !r.type.startsWith("pulumi:providers:")) {
            provider = defaultProvider(r.type);
        }
        return { type: r.type, name: r.name, props: structuredClone(r.inputs), provider };
    });
}

/** Policy name -> violation messages, over a whole stack; policies without violations omitted. */
export async function runPack(
    policies: Policies,
    resources: Fixture[],
    config: Record<string, object> = {},
    notes?: RunNotes,
): Promise<Record<string, string[]>> {
    const out: Record<string, string[]> = {};
    for (const p of policies) {
        const messages =
            "validateStack" in p
                ? (await stackViolations(p, resources, config[p.name], notes)).map((v) => v.message)
                : (await Promise.all(resources.map((r) => resourceViolations(p, r, config[p.name], notes)))).flat();
        if (messages.length > 0) out[p.name] = messages;
    }
    return out;
}


/** One policy's verdict: its enforcement level (the pack config's, if it sets one) and violations. */
export interface PolicyVerdict {
    policy: string;
    enforcementLevel: EnforcementLevel;
    messages: string[];
}

/** The level the pack config sets for a policy (`"advisory"` or `{ enforcementLevel: … }`), else the policy's. */
function levelOf(policy: { enforcementLevel?: EnforcementLevel }, config: unknown): EnforcementLevel {
    if (typeof config === "string") return config as EnforcementLevel;
    const configured = (config as { enforcementLevel?: EnforcementLevel } | undefined)?.enforcementLevel;
    return configured ?? policy.enforcementLevel ?? "advisory";
}

/** Every policy of the pack, in pack order, with its verdict; `disabled` policies are not run. */
export async function evaluatePack(
    policies: Policies,
    resources: Fixture[],
    config: Record<string, unknown> = {},
    notes?: RunNotes,
): Promise<PolicyVerdict[]> {
    const out: PolicyVerdict[] = [];
    for (const p of policies) {
        const enforcementLevel = levelOf(p, config[p.name]);
        if (enforcementLevel === "disabled") {
            out.push({ policy: p.name, enforcementLevel, messages: [] });
            continue;
        }
        const c = typeof config[p.name] === "object" && config[p.name] !== null ? (config[p.name] as object) : {};
        const messages = (await runPack([p], resources, { [p.name]: c }, notes))[p.name] ?? [];
        out.push({ policy: p.name, enforcementLevel, messages });
    }
    return out;
}
