/**
 * The program's components and their arguments, and nothing else (pulumi-eks's `cluster/index.ts`
 * is the model): the pure helpers beside them are theirs, imported by path where a test or the
 * program needs one.
 */
export { AksCluster } from "./aksCluster";
export type { AksAdoptArgs, AksClusterArgs, AksCreateArgs, AksCredentialsArgs, AksPoolArgs, ExistingClusterArgs } from "./aksCluster";
export { VaultInjector } from "./vaultInjector";
export type { VaultInjectorArgs } from "./vaultInjector";
export { VaultJwtAuth } from "./vaultJwtAuth";
export type { VaultJwtAuthArgs } from "./vaultJwtAuth";
export { VaultKubernetesAuth } from "./vaultKubernetesAuth";
export type { VaultKubernetesAuthArgs } from "./vaultKubernetesAuth";
export { VaultKv } from "./vaultKv";
export type { VaultKvArgs } from "./vaultKv";
export { WorkloadBinding } from "./workloadBinding";
export type {
    KubernetesLoginArgs, SeedArgs, SeedValueArgs, WorkloadBindingArgs, WorkloadDeploymentArgs,
} from "./workloadBinding";
