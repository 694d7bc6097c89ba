/**
 * The Vault policy of the token this program runs with (the operator's token), rendered for one
 * stack's settings. Every rule comes from an API call the Vault provider makes for the program's
 * resources, listed with its source line in deploy/vault-provider-calls.json
 * (hashicorp/terraform-provider-vault v5.8.0, the upstream of @pulumi/vault 7.8.0). Pure.
 *
 * Paths are exact: the token can touch this stack's auth mount, KV mount, roles, seeded secrets
 * and workload policies, and nothing else. It can still write any rules into those workload
 * policies and bind them to roles it owns, so it is as powerful as anything those policies could
 * grant: keep it out of reach (docs/vault-operator.md).
 */
import { Settings } from "../src/config/schema";
import { policyPrefixOf } from "../src/config/trust";

/** The name the docs use for this policy (`vault policy write aks-vault-operator ...`). */
export const OPERATOR_POLICY_NAME = "aks-vault-operator";

export interface OperatorPolicyParams {
    /** Auth mount path without `auth/` (kubernetesAuth.path). */
    authPath: string;
    /** KV v2 mount path (kv.path). */
    kvPath: string;
    /** The program creates (and may tune or delete) the KV mount: false with `kv.existing`. */
    manageKvMount: boolean;
    /** Vault role names, one per workload. */
    roles: string[];
    /** Workload policy names: `vault.policyPrefix` (default `<project>.<stack>.`) + workload name. */
    policies: string[];
    /** Seeded secret paths inside the KV mount. */
    secretPaths: string[];
}

/** `project` and `stack` name the workload policies when `vault.policyPrefix` is unset, as in the program. */
export function operatorPolicyParams(settings: Settings, project: string, stack: string): OperatorPolicyParams {
    const sorted = (xs: string[]) => [...new Set(xs)].sort();
    const prefix = policyPrefixOf(settings.vault, project, stack);
    return {
        authPath: settings.kubernetesAuth.path,
        kvPath: settings.kv.path,
        manageKvMount: !settings.kv.existing,
        roles: sorted(settings.workloads.map((w) => w.role ?? w.name)),
        policies: sorted(settings.workloads.map((w) => `${prefix}${w.name}`)),
        secretPaths: sorted(settings.workloads.flatMap((w) => w.seed.map((s) => s.path))),
    };
}

function rule(path: string, capabilities: string[]): string {
    return `path "${path}" {\n  capabilities = [${capabilities.map((c) => `"${c}"`).join(", ")}]\n}\n`;
}

export function renderOperatorPolicy(p: OperatorPolicyParams): string {
    const out: string[] = [];
    const section = (comment: string, rules: string[]) => {
        if (rules.length > 0) out.push(`${comment.split("\n").map((l) => `# ${l}`).join("\n")}\n${rules.join("")}`);
    };
    const auth = p.authPath;
    section("Provider setup: look up the token, then create the child token the provider works with\n(skip_child_token is off).", [
        rule("auth/token/lookup-self", ["read"]),
        rule("auth/token/create", ["update"]),
    ]);
    section(
        `The auth method at auth/${auth} (Kubernetes or JWT). Enabling and disabling it need sudo:\n` +
            `sys/auth/* is a root-protected path. Reads go to sys/mounts/auth/${auth} and its tune.`,
        [
            rule(`sys/auth/${auth}`, ["update", "delete", "sudo"]),
            rule(`sys/mounts/auth/${auth}`, ["read"]),
            rule(`sys/mounts/auth/${auth}/tune`, ["read", "update"]),
            rule(`auth/${auth}/config`, ["read", "update"]),
            ...p.roles.map((r) => rule(`auth/${auth}/role/${r}`, ["create", "read", "update", "delete"])),
        ],
    );
    if (p.manageKvMount) {
        section(`The KV v2 mount at ${p.kvPath}/ (delete only matters once kv.protect is off).`, [
            rule(`sys/mounts/${p.kvPath}`, ["read", "update", "delete"]),
            rule(`sys/mounts/${p.kvPath}/tune`, ["update"]),
        ]);
    }
    section(
        "Seeded secrets: KV v2 writes are create or update (existence check); every read of the data\nalso reads the metadata.",
        p.secretPaths.flatMap((s) => [
            rule(`${p.kvPath}/data/${s}`, ["create", "read", "update", "delete"]),
            rule(`${p.kvPath}/metadata/${s}`, ["read"]),
        ]),
    );
    section(
        "One policy per workload, named after it (with the stack's policy prefix).",
        p.policies.map((n) => rule(`sys/policies/acl/${n}`, ["read", "update", "delete"])),
    );
    return out.join("\n");
}

/** The policy with a header saying what it was rendered for and how to use it. */
export function renderOperatorPolicyFile(p: OperatorPolicyParams, renderedFor: string): string {
    const header = [
        `Vault policy for the token that runs this program, rendered for ${renderedFor}:`,
        `kubernetesAuth.path "${p.authPath}", kv.path "${p.kvPath}"${p.manageKvMount ? "" : " (existing)"}, roles [${p.roles.join(", ")}],`,
        `workload policies [${p.policies.join(", ")}], seeded paths [${p.secretPaths.join(", ")}].`,
        "",
        `  vault policy write ${OPERATOR_POLICY_NAME} <this file>`,
        `  vault token create -policy=${OPERATOR_POLICY_NAME} -ttl=2h`,
        "",
        "Each rule comes from an API call of the Vault provider listed in deploy/vault-provider-calls.json.",
        "Another stack has other paths and names: see docs/vault-operator.md.",
    ];
    return `${header.map((l) => (l === "" ? "#" : `# ${l}`)).join("\n")}\n\n${renderOperatorPolicy(p)}`;
}
