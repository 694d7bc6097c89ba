/**
 * Cross-field rules about what a real deploy needs from the versions and sizes configured: each
 * returns the problems it finds (validate.ts renders them). Pure.
 */
import { z } from "zod";
import { injectorSchema, vaultSchema } from "./schema";

export interface DeployFinding {
    key: string;
    found: unknown;
    expected: string;
}

function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
    const r = schema.safeParse(value);
    return r.success ? r.data : undefined;
}

function record(v: unknown): Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** `a.b.c` (leading digits of each part) compared: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
    const parts = (v: string) => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v) ?? ["", "0", "0", "0"]).slice(1).map(Number);
    const [x, y] = [parts(a), parts(b)];
    for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
}

/**
 * The chart version from which the injector hands `AGENT_INJECT_VAULT_CACERT_BYTES` to agents:
 * vault-k8s 1.3.1 added it (hashicorp/vault-k8s#507, CHANGELOG 1.3.1), and chart 0.26.0 is the
 * first to ship that injector; chart 0.25.0 ships vault-k8s 1.2.1, which ignores the variable.
 */
export const CA_BYTES_CHART = "0.26.0";
export const CA_BYTES_INJECTOR = "1.3.1";

function caCertChartFindings(root: Record<string, unknown>): DeployFinding[] {
    const v = parsed(vaultSchema, root.vault);
    const inj = parsed(injectorSchema, root.injector ?? {});
    if (v?.caCertPem === undefined || inj === undefined) return [];
    if (compareVersions(inj.chartVersion, CA_BYTES_CHART) >= 0) return [];
    if (inj.imageTag !== undefined && compareVersions(inj.imageTag, CA_BYTES_INJECTOR) >= 0) return [];
    return [{
        key: "injector.chartVersion",
        found: inj.chartVersion,
        expected: `${CA_BYTES_CHART} or later with vault.caCertPem: the injector of chart ${inj.chartVersion} ignores AGENT_INJECT_VAULT_CACERT_BYTES (vault-k8s ${CA_BYTES_INJECTOR} added it), so agents would not trust Vault's certificate`,
    }];
}

export const DEPLOY_RULES: ReadonlyArray<(root: Record<string, unknown>) => DeployFinding[]> = [caCertChartFindings];

export function deployFindings(input: unknown): DeployFinding[] {
    const root = record(input);
    return DEPLOY_RULES.flatMap((rule) => rule(root));
}

