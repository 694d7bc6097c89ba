/**
 * Settings fixtures for the reliability tests: the lab config of Pulumi.dev.yaml as a fresh raw
 * object, and a dotted-path setter to break one property of it.
 */
import { stackConfig } from "./harness";
import { SETTINGS_KEYS } from "../../src/config/configKeys";

/** The raw settings of Pulumi.dev.yaml (a new deep copy on every call). */
let lab: Record<string, unknown> | undefined;
export function labRaw(): Record<string, any> {
    if (lab === undefined) {
        const config = stackConfig();
        lab = {};
        for (const key of SETTINGS_KEYS) if (config[key] !== undefined) lab[key] = config[key];
    }
    return structuredClone(lab) as Record<string, any>;
}

/** Path parts of `a.b[0].c`. */
function parts(path: string): Array<string | number> {
    return path.split(/\.|(?=\[)/).map((p) => (p.startsWith("[") ? Number(p.slice(1, -1)) : p));
}

/** Sets (or, with `undefined`, deletes) the value at a dotted path, creating objects on the way. */
export function setAt(root: Record<string, any>, path: string, value: unknown): void {
    const ps = parts(path);
    let cur: any = root;
    for (const p of ps.slice(0, -1)) {
        if (cur[p] === undefined) cur[p] = {};
        cur = cur[p];
    }
    const last = ps[ps.length - 1];
    if (value === undefined) delete cur[last];
    else cur[last] = value;
}

/** A second, valid workload for duplicate checks. */
export function secondWorkload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        name: "api",
        namespace: "api",
        serviceAccount: "api",
        secrets: [{ file: "db", path: "api/db", key: "password" }],
        ...overrides,
    };
}
