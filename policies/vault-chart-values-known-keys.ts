import { Release } from "@pulumi/kubernetes/helm/v3";
import { validateResourceOfType } from "@pulumi/policy";
import { unknownChartKeys } from "./chartKeys";
import { isRecord } from "../src/config/raw";
import { ResourcePolicyFactory, isVaultChart } from "./lib";
import chartKeys from "./chartKeys.generated.json";

const NAME = "vault-chart-values-known-keys";

/** Key trees of the vault chart's values.yaml, by chart version (generated, embedded). */
const KEY_TREES: Record<string, Record<string, unknown>> = chartKeys.versions;

/**
 * The chart's schema accepts unknown keys and Helm ignores them, so a typo such as the blog's
 * `injector.leaderElector.enable` silently does nothing. Checked against the pinned chart's own
 * values.yaml (embedded by `npm run generate:chart-keys`).
 */
export const vaultChartValuesKnownKeys: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "Every value given to the vault chart is a key that the pinned chart version defines.",
    enforcementLevel,
    severity: "medium",
    validateResource: validateResourceOfType(Release, (release, _args, reportViolation) => {
        if (!isVaultChart(release.chart)) return;
        const version = release.version ?? "";
        const tree = KEY_TREES[version];
        if (tree === undefined) {
            reportViolation(
                `No key list for vault chart version "${version}" (known: ${Object.keys(KEY_TREES).join(", ")}). ` +
                    "Pin a known version, or add its values.yaml to the reference and run `npm run generate:chart-keys`.",
            );
            return;
        }
        const values = isRecord(release.values) ? release.values : {};
        for (const key of unknownChartKeys(values, tree)) {
            reportViolation(
                `Chart value \`${key}\` is not defined by vault chart ${version}; Helm would ignore it. ` +
                    "Fix the key's spelling or remove it.",
            );
        }
    }),
});
