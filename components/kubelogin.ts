/**
 * Turns the user kubeconfig AKS returns for an Entra ID cluster into one that logs in without a
 * browser: `kubelogin get-token --login spn|msi|azurecli`. Clusters with local accounts disabled
 * refuse admin credentials, and the kubeconfig Azure hands out logs in with `devicecode`
 * (interactive), which a `pulumi up` in CI cannot answer. Pure, so it is tested directly.
 */
import { parse, stringify } from "yaml";

/** The AKS AAD server application: the audience of every AKS Entra ID token. */
export const AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** The non-interactive `--login` modes the program writes (the doctor runs no other kubelogin). */
export const KUBELOGIN_LOGINS = ["spn", "msi", "azurecli"] as const;
export type KubeloginLogin = (typeof KUBELOGIN_LOGINS)[number];

interface KubeloginOptions {
    login: KubeloginLogin;
    /** spn: the application (client) ID; msi: a user-assigned identity's client ID. */
    clientId?: string;
    /** spn: the client secret (the caller must keep the resulting kubeconfig secret). */
    clientSecret?: string;
    /** Tenant; default: the one in the kubeconfig AKS returned. */
    tenantId?: string;
}

/** A misconfiguration the user fixes in config: the message names the setting, never a value of a credential. */
export class KubeloginError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "KubeloginError";
    }
}

interface ExecUser {
    exec?: { command?: string; args?: string[]; env?: Array<{ name: string; value: string }> | null };
    "auth-provider"?: { name?: string; config?: Record<string, string> };
    [key: string]: unknown;
}

interface Doc {
    "current-context"?: string;
    contexts?: Array<{ name?: string; context?: { user?: string } }>;
    users?: Array<{ name?: string; user?: ExecUser }>;
    [key: string]: unknown;
}

/** The value after `--flag` in an argument list, or in `--flag=value` form. */
function flag(args: string[], name: string): string | undefined {
    for (let i = 0; i < args.length; i++) {
        if (args[i] === name) return args[i + 1];
        if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
    }
    return undefined;
}

/**
 * Rewrites the current context's user to a non-interactive `kubelogin` exec. Reads the tenant,
 * server ID and environment from what AKS returned (exec or legacy `azure` auth-provider form).
 */
export function toKubeloginKubeconfig(kubeconfig: string, opts: KubeloginOptions): string {
    let doc: Doc;
    try {
        doc = parse(kubeconfig) as Doc;
    } catch (err) {
        // Never echo the document: it may hold credentials.
        throw new KubeloginError(`the user kubeconfig from AKS is not valid YAML (${(err as Error).name})`);
    }
    const users = doc?.users ?? [];
    const wanted = doc.contexts?.find((c) => c.name === doc["current-context"])?.context?.user;
    const entry = users.find((u) => u.name === wanted) ?? (users.length === 1 ? users[0] : undefined);
    if (entry === undefined) throw new KubeloginError("the user kubeconfig from AKS has no user for its current context");

    const user = entry.user ?? {};
    const execArgs = user.exec?.args ?? [];
    const provider = user["auth-provider"]?.config ?? {};
    const tenantId = opts.tenantId ?? flag(execArgs, "--tenant-id") ?? provider["tenant-id"];
    const serverId = flag(execArgs, "--server-id") ?? provider["apiserver-id"] ?? AKS_SERVER_ID;
    const environment = flag(execArgs, "--environment") ?? provider.environment ?? "AzurePublicCloud";
    if (user.exec === undefined && user["auth-provider"] === undefined) {
        throw new KubeloginError(
            "AKS returned a user kubeconfig without Entra ID (no exec, no auth-provider): the cluster has no Entra ID integration; " +
                "use cluster.credentials.mode admin",
        );
    }

    const args = ["get-token", "--login", opts.login, "--server-id", serverId, "--environment", environment];
    switch (opts.login) {
        case "spn":
            if (opts.clientId === undefined) throw new KubeloginError("cluster.credentials.clientId is required for login spn");
            if (opts.clientSecret === undefined) {
                throw new KubeloginError("cluster.credentials.clientSecretConfig is required for login spn");
            }
            if (tenantId === undefined) {
                throw new KubeloginError("cluster.credentials.tenantId is required: the AKS kubeconfig names no tenant");
            }
            args.push("--tenant-id", tenantId);
            break;
        case "msi":
            if (opts.clientId !== undefined) args.push("--client-id", opts.clientId);
            break;
        case "azurecli":
            break;
    }
    const env = kubeloginEnv(opts, opts.login === "spn" ? tenantId : undefined);
    entry.user = {
        exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "kubelogin",
            args,
            env,
            interactiveMode: "Never",
            provideClusterInfo: false,
            installHint: "kubelogin is needed for Entra ID clusters: https://azure.github.io/kubelogin/install.html",
        } as ExecUser["exec"],
    };
    return stringify(doc);
}

/**
 * The exec environment of `kubelogin get-token`. kubelogin reads its environment after its flags
 * and lets it win (Azure/kubelogin pkg/internal/token/options.go `UpdateFromEnv`): AZURE_CLIENT_ID
 * over AAD_SERVICE_PRINCIPAL_CLIENT_ID over `--client-id`, AZURE_CLIENT_SECRET,
 * AZURE_CLIENT_CERTIFICATE_PATH (which turns an spn login into a certificate login),
 * AZURE_TENANT_ID, and AAD_LOGIN_METHOD over `--login`. A runner or portal host with any of them
 * set would silently log in as another identity, so every one is set here to the configured value.
 * An exec env cannot unset a variable (client-go appends it to the parent's environment, and the
 * last value of a name wins: os/exec `dedupEnv`), and kubelogin takes a present-but-empty variable
 * as set (`os.LookupEnv`), so the empty string is what neutralises one: an empty client ID is a
 * system-assigned identity for msi, an empty tenant the CLI's own for azurecli, an empty
 * certificate path no certificate.
 */
function kubeloginEnv(opts: KubeloginOptions, tenantId: string | undefined): Array<{ name: string; value: string }> {
    const spn = opts.login === "spn";
    return [
        { name: "AAD_LOGIN_METHOD", value: opts.login },
        // Environment, not `--client-secret`: the argument list shows up in `ps`.
        { name: "AZURE_CLIENT_ID", value: opts.login === "azurecli" ? "" : (opts.clientId ?? "") },
        { name: "AZURE_CLIENT_SECRET", value: spn ? (opts.clientSecret ?? "") : "" },
        { name: "AZURE_CLIENT_CERTIFICATE_PATH", value: "" },
        { name: "AZURE_CLIENT_CERTIFICATE_PASSWORD", value: "" },
        { name: "AZURE_TENANT_ID", value: spn ? (tenantId ?? "") : "" },
    ];
}
