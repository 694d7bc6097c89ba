/**
 * Readers of untyped input, written once: the raw settings before the schema parses them, the
 * props of the resources the policy pack judges, the kubeconfig document the doctor reads. Pure.
 */
import type { z } from "zod";

/** Whether a value is a plain object: not null, not an array. */
export function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The value as an object, or `{}`: a missing or mistyped section reads as empty (its own problem is reported where it is parsed). */
export function record(v: unknown): Record<string, unknown> {
    return isRecord(v) ? v : {};
}

/** The value as an array, or `[]`; holes become undefined (Array.from). */
export function list(v: unknown): unknown[] {
    return Array.isArray(v) ? Array.from(v as unknown[]) : [];
}

/** One part parsed on its own, or undefined when it does not parse: the cross-field rules judge every part that is valid by itself. */
export function parsed<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
    const r = schema.safeParse(value);
    return r.success ? r.data : undefined;
}
