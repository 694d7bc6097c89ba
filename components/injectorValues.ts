/**
 * The vault chart's values for an injector-only install against an external Vault. Pure, so the
 * keys it emits are checked against the pinned chart's own values.yaml in the tests: the chart's
 * schema does not reject unknown keys, and Helm silently ignores a mistyped one.
 */

export interface InjectorValuesArgs {
    /** The external Vault's address (becomes `global.externalVaultAddr`). */
    externalVaultAddr: string;
    replicas: number;
    /** Auth mount path without `auth/` (e.g. `aks`). */
    authPath: string;
    logLevel: string;
    logFormat: string;
    imageTag?: string;
    agentImageTag?: string;
    nodeSelector: Record<string, string>;
    resources: {
        requests?: { cpu?: string; memory?: string };
        limits?: { cpu?: string; memory?: string };
    };
}

export type ChartValues = { [key: string]: unknown };

export function renderInjectorValues(args: InjectorValuesArgs): ChartValues {
    const injector: ChartValues = {
        enabled: true,
        replicas: args.replicas,
        // The blog's `leaderElector.enable` is not a chart key; `enabled` is (and only takes
        // effect with more than one replica).
        leaderElector: { enabled: true },
        authPath: `auth/${args.authPath}`,
        logLevel: args.logLevel,
        logFormat: args.logFormat,
        resources: args.resources,
    };
    if (args.imageTag !== undefined) injector.image = { tag: args.imageTag };
    if (args.agentImageTag !== undefined) injector.agentImage = { tag: args.agentImageTag };
    if (Object.keys(args.nodeSelector).length > 0) injector.nodeSelector = args.nodeSelector;
    return {
        // `global.externalVaultAddr` puts the chart in external mode (no Vault server); the older
        // `injector.externalVaultAddr` is deprecated.
        global: { enabled: true, externalVaultAddr: args.externalVaultAddr },
        injector,
        // The token reviewer is ours (VaultInjector), so the chart must not create its own
        // `vault` service account with a cluster-wide auth-delegator binding nobody uses.
        server: { enabled: false, serviceAccount: { create: false }, authDelegator: { enabled: false } },
        csi: { enabled: false },
        ui: { enabled: false },
    };
}
