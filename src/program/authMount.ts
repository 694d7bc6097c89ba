/**
 * The auth mount the settings ask for against the one the stack holds. The two methods are two
 * resource types in two components (VaultKubernetesAuth's `vault.AuthBackend`, VaultJwtAuth's
 * `vault.jwt.AuthBackend`), so switching `kubernetesAuth.method` is a create of the new mount and
 * a delete of the old one, in that order: at an unchanged path Vault refuses the create ("path is
 * already in use at <path>/") half way through `up`. The staged runner asks this before anything
 * runs (runner.ts, `checkDeployed`); a plain `pulumi up` still gets Vault's error.
 */
import { AuthMountSwitchError } from "../errors";
import { DEFAULT_AUTH_PATH, KubernetesAuthSettings } from "../config/schema";
import { Stage, stageIndex } from "../stages";
import type { StackOutputs } from "./outputs";

const trimmed = (p: string) => p.replace(/^\/+|\/+$/g, "");

/**
 * The refusal, when `auth` switches the method of the mount the deployed outputs name and keeps
 * its path. `vaultAuthMethod` is exported by JWT stacks only: a `vaultAuthPath` without it is a
 * kubernetes mount.
 */
function authMountSwitch(
    auth: KubernetesAuthSettings, deployed: Pick<StackOutputs, "vaultAuthPath" | "vaultAuthMethod">,
): AuthMountSwitchError | undefined {
    if (typeof deployed.vaultAuthPath !== "string") return undefined;
    const deployedMethod = deployed.vaultAuthMethod === "jwt" ? "jwt" : "kubernetes";
    const path = trimmed(auth.path);
    if (deployedMethod === auth.method || trimmed(deployed.vaultAuthPath) !== path) return undefined;
    const defaultPath = DEFAULT_AUTH_PATH[auth.method];
    return new AuthMountSwitchError(path, deployedMethod, auth.method, defaultPath === path ? undefined : defaultPath);
}

/**
 * The runner's `checkDeployed` for these settings: below vault-auth the stack holds no auth
 * mount, so its outputs are not even read.
 */
export function checkDeployedAuthMount(auth: KubernetesAuthSettings) {
    return async (
        deployed: Stage, outputs: () => Promise<Record<string, { value: unknown }>>,
    ): Promise<AuthMountSwitchError | undefined> => {
        if (stageIndex(deployed) < stageIndex("vault-auth")) return undefined;
        const o = await outputs();
        const path = o.vaultAuthPath?.value;
        const method = o.vaultAuthMethod?.value;
        return authMountSwitch(auth, {
            vaultAuthPath: typeof path === "string" ? path : undefined,
            vaultAuthMethod: method === "jwt" || method === "kubernetes" ? method : undefined,
        });
    };
}
