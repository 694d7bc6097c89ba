/**
 * Shared pieces of the guardrail policies: resource type tokens, the factory shape, config
 * defaults and small readers. Every policy module exports one factory taking the enforcement
 * level; `policies/index.ts` only assembles them (it starts the policy gRPC server, so it is never
 * imported by a test).
 */
import type { EnforcementLevel, PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { ANNOTATION, VAULT_CHART } from "../src/agent/vocabulary";
import { isRecord, list, record } from "../src/config/raw";
import { normalizePolicy } from "../src/config/names";

/** Type tokens exactly as the program registers them (see `test/support/cloud.ts` recordings). */
export const TYPES = {
    managedCluster: "azure-native:containerservice:ManagedCluster",
    helmRelease: "kubernetes:helm.sh/v3:Release",
    authBackendRole: "vault:kubernetes/authBackendRole:AuthBackendRole",
    authBackendConfig: "vault:kubernetes/authBackendConfig:AuthBackendConfig",
    vaultPolicy: "vault:index/policy:Policy",
    secret: "kubernetes:core/v1:Secret",
    deployment: "kubernetes:apps/v1:Deployment",
    kubernetesProvider: "pulumi:providers:kubernetes",
    /** This program's components: who owns and reads which KV path (`kvAccess`, src/config/access.ts). */
    workloadBinding: "aksvault:index:WorkloadBinding",
    vaultKv: "aksvault:index:VaultKv",
} as const;

/** Type tokens of a stack with `kubernetesAuth.method: jwt` (not in TYPES: the dev stack has none). */
export const JWT_TYPES = {
    authBackend: "vault:jwt/authBackend:AuthBackend",
    authBackendRole: "vault:jwt/authBackendRole:AuthBackendRole",
} as const;

/** The `sub` of a Kubernetes service-account token: `system:serviceaccount:<namespace>:<name>`. */
export const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

export type ResourcePolicyFactory = (enforcementLevel?: EnforcementLevel) => ResourceValidationPolicy;
export type StackPolicyFactory = (enforcementLevel?: EnforcementLevel) => StackValidationPolicy;

/** Policy config with defaults applied, whether or not the engine filled in the schema defaults. */
export function withDefaults<T extends object>(given: Partial<T>, defaults: T): T {
    const out = { ...defaults };
    for (const [k, v] of Object.entries(given)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
    return out;
}

type Props = Record<string, unknown>;

/** The value at a dotted path of a props object, or undefined. */
export function at(props: unknown, path: string): unknown {
    let cur: unknown = props;
    for (const part of path.split(".")) {
        if (!isRecord(cur)) return undefined;
        cur = cur[part];
    }
    return cur;
}

/** Whether a Release's `chart` is the vault chart: `vault`, `hashicorp/vault` or an OCI/URL ending in it. */
export function isVaultChart(chart: unknown): boolean {
    return typeof chart === "string" && chart.replace(/\/+$/, "").split("/").pop() === VAULT_CHART;
}

/** A Helm release of the vault chart (the injector). */
export function isVaultRelease(r: { type: string; props: Props }): boolean {
    return r.type === TYPES.helmRelease && isVaultChart(r.props.chart);
}

/** Pod template annotations of a Deployment, or `{}`. */
export function podAnnotations(deployment: PolicyResource | { props: Props }): Record<string, string> {
    const a = at(deployment.props, "spec.template.metadata.annotations");
    return isRecord(a) ? Object.fromEntries(Object.entries(a).map(([k, v]) => [k, String(v)])) : {};
}

const INJECT_ANNOTATION = ANNOTATION.inject;
export const ROLE_ANNOTATION = ANNOTATION.role;
export const SECRET_ANNOTATION_PREFIX = ANNOTATION.secretPrefix;
export const TEMPLATE_ANNOTATION_PREFIX = ANNOTATION.templatePrefix;

/** A Deployment whose pods the injector mutates (`agent-inject: "true"`). */
export function isInjected(deployment: { props: Props }): boolean {
    return podAnnotations(deployment)[INJECT_ANNOTATION] === "true";
}

/** A workload as the program registered it: its `WorkloadBinding`'s role, generated policy and part of `kvAccess`. */
export interface RegisteredWorkload {
    name: string;
    role: string;
    /** The generated policy's name, normalised as Vault stores it. */
    policy: string;
    owned: Set<string>;
    readable: Set<string>;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** The workloads of the stack, from the `WorkloadBinding` components' props (who owns and reads what). */
export function registeredWorkloads(resources: readonly PolicyResource[]): RegisteredWorkload[] {
    return resources.filter((r) => r.type === TYPES.workloadBinding && isRecord(r.props.access)).map((r) => {
        const access = record(r.props.access);
        return {
            name: String(r.props.workload ?? r.name),
            role: String(r.props.role ?? r.name),
            policy: normalizePolicy(String(r.props.policy ?? r.name)),
            owned: new Set(strings(access.owned)),
            readable: new Set(strings(access.readable)),
        };
    });
}

/** The KV mount and the paths written outside the program (`kv.external`), from the `VaultKv` component's props. */
export function registeredKv(
    resources: readonly PolicyResource[],
): { mount: string; external: Array<{ path: string; readers: string[] }> } {
    const kv = resources.find((r) => r.type === TYPES.vaultKv);
    return {
        mount: String(kv?.props.mount ?? "secret"),
        external: list(kv?.props.external).filter(isRecord).map((e) => ({ path: String(e.path), readers: strings(e.readers) })),
    };
}
