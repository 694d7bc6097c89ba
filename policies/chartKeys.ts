/**
 * Finds chart values that the chart does not define. The vault chart's JSON schema allows unknown
 * keys and Helm ignores them, so a mistyped key (the blog's `injector.leaderElector.enable`) is
 * silently dropped; comparing against the chart's own values.yaml is what catches it.
 */

import { isRecord } from "../src/config/raw";

type Tree = Record<string, unknown>;

/**
 * Dotted paths in `values` that `defaults` (the chart's values.yaml) does not define. A default of
 * `{}` is a free-form map (nodeSelector, resources, extraEnvironmentVars): anything under it is
 * accepted. Keys are case-sensitive, as in Helm templates.
 */
export function unknownChartKeys(values: Tree, defaults: Tree, prefix = ""): string[] {
    const unknown: string[] = [];
    for (const [key, value] of Object.entries(values)) {
        const dotted = prefix === "" ? key : `${prefix}.${key}`;
        if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
            // Report the full paths the user wrote, not just the first unknown segment.
            unknown.push(...(isRecord(value) && Object.keys(value).length > 0 ? leafPaths(value, dotted) : [dotted]));
            continue;
        }
        const d = defaults[key];
        if (isRecord(value) && isRecord(d) && Object.keys(d).length > 0) unknown.push(...unknownChartKeys(value, d, dotted));
    }
    return unknown;
}

/** Every dotted leaf path of a values tree (maps are walked, everything else is a leaf). */
export function leafPaths(values: Tree, prefix = ""): string[] {
    return Object.entries(values).flatMap(([k, v]) => {
        const dotted = prefix === "" ? k : `${prefix}.${k}`;
        return isRecord(v) && Object.keys(v).length > 0 ? leafPaths(v, dotted) : [dotted];
    });
}
