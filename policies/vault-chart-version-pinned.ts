import { Release } from "@pulumi/kubernetes/helm/v3";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory, isVaultChart } from "./lib";

const NAME = "vault-chart-version-pinned";

const EXACT = /^\d+\.\d+\.\d+$/;

/**
 * A missing or ranged version lets Helm pick whatever the repository serves today: a `pulumi up`
 * months later silently upgrades the injector (and its agent image) with no diff in the program.
 */
export const vaultChartVersionPinned: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "The vault Helm chart is pinned to an exact version (x.y.z).",
    enforcementLevel,
    severity: "high",
    validateResource: validateResourceOfType(Release, (release, _args, reportViolation) => {
        if (!isVaultChart(release.chart)) return;
        const version = release.version;
        if (version === undefined || version === "") {
            reportViolation(
                "The vault chart has no version, so Helm installs whatever is newest. " +
                    "Set `version` to an exact chart version such as 0.34.1 (`injector.chartVersion`).",
            );
        } else if (!EXACT.test(version)) {
            reportViolation(
                `The vault chart version "${version}" is not exact. ` +
                    "Set `version` to an exact chart version such as 0.34.1 (`injector.chartVersion`).",
            );
        }
    }),
});
