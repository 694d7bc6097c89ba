import { Release } from "@pulumi/kubernetes/helm/v3";
import { validateResourceOfType } from "@pulumi/policy";
import { ResourcePolicyFactory, isVaultChart, at, withDefaults } from "./lib";

const NAME = "vault-injector-high-availability";

interface InjectorHaConfig {
    /** Fewest injector replicas allowed. Default 2. */
    minReplicas: number;
}

const DEFAULTS: InjectorHaConfig = { minReplicas: 2 };

/**
 * A lone injector is a single point of failure either way: with `failurePolicy: Ignore` (the
 * chart's default) pods created while it restarts start without their secrets and nobody is told;
 * with `Fail` (this program's default) pod creation in the opted-in namespaces stops until it is
 * back. Two or more replicas need leader election so only one of them rotates the webhook
 * certificate.
 */
export const vaultInjectorHighAvailability: ResourcePolicyFactory = (enforcementLevel = "mandatory") => ({
    name: NAME,
    description: "The Vault Agent Injector runs at least `minReplicas` (default 2) replicas with leader election on.",
    enforcementLevel,
    severity: "high",
    configSchema: {
        properties: {
            minReplicas: { type: "integer", minimum: 1, default: DEFAULTS.minReplicas, description: "Fewest injector replicas allowed." },
        },
    },
    validateResource: validateResourceOfType(Release, (release, args, reportViolation) => {
        if (!isVaultChart(release.chart)) return;
        const { minReplicas } = withDefaults(args.getConfig<Partial<InjectorHaConfig>>(), DEFAULTS);
        const values = release.values;
        // The chart's own default is 1 replica.
        const replicas = at(values, "injector.replicas") ?? 1;
        if (typeof replicas !== "number" || replicas < minReplicas) {
            reportViolation(
                `The injector runs ${String(replicas)} replica(s); at least ${minReplicas} are required. ` +
                    `Set the chart value \`injector.replicas\` to ${minReplicas} or more (\`injector.replicas\` in stack config).`,
            );
        }
        // The chart defaults leader election to on; only an explicit false (or the blog's mistyped
        // `leaderElector.enable`, caught by vault-chart-values-known-keys) turns it off.
        if (at(values, "injector.leaderElector.enabled") === false) {
            reportViolation("Injector leader election is off. Set the chart value `injector.leaderElector.enabled` to true.");
        }
    }),
});
