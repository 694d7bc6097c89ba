/**
 * Which pieces the preflight should find live: those the stack's state holds. Without the state
 * (the `preflight` command reads outputs), the deployed stage stands for all of its pieces.
 */
import { INJECTOR_NAME, childNames, injectorChildNames } from "../config/names";
import type { Deployed } from "./types";

export const AUTH_MOUNT = ["vault:index/authBackend:AuthBackend", "vault:jwt/authBackend:AuthBackend"];
export const KV_MOUNT = ["vault:index/mount:Mount"];
export const ROLE = ["vault:kubernetes/authBackendRole:AuthBackendRole", "vault:jwt/authBackendRole:AuthBackendRole"];
export const POLICY = ["vault:index/policy:Policy"];
const SERVICE_ACCOUNT = ["kubernetes:core/v1:ServiceAccount"];
const SECRET = ["kubernetes:core/v1:Secret"];

/** `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>` -> `<type>::<name>`. */
export function stateKey(urn: string): string {
    const parts = urn.split("::");
    const types = (parts[2] ?? "").split("$");
    return `${types[types.length - 1]}::${parts.slice(3).join("::")}`;
}

function held(deployed: Deployed, stageDeployed: boolean, types: readonly string[], name?: string): boolean {
    if (deployed.inState === undefined) return stageDeployed;
    return types.some((t) => {
        if (name !== undefined) return deployed.inState?.has(`${t}::${name}`) === true;
        return [...(deployed.inState ?? [])].some((k) => k.startsWith(`${t}::`));
    });
}

export const expectsAuthMount = (d: Deployed): boolean => held(d, d.vaultAuth, AUTH_MOUNT);
export const expectsKvMount = (d: Deployed): boolean => held(d, d.vaultAuth, KV_MOUNT);
export const expectsRole = (d: Deployed, workload: string): boolean => held(d, d.workloads, ROLE, childNames.role(workload));
export const expectsServiceAccount = (d: Deployed, workload: string): boolean =>
    held(d, d.workloads, SERVICE_ACCOUNT, childNames.serviceAccount(workload));
/**
 * The reviewer's token Secret (injector stage; the gate runs from vault-auth on). A deleted one
 * is dropped from the state by `refresh`: the next `up` creates a new one and gives Vault its token.
 */
export const expectsReviewerTokenSecret = (d: Deployed): boolean =>
    held(d, d.vaultAuth, SECRET, injectorChildNames.reviewerTokenSecret(INJECTOR_NAME));
