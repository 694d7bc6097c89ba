/**
 * `preflight` for the CLI: a commander `Command` the CLI registers with `program.addCommand(...)`.
 * What it needs from outside (the stack's outputs and settings, a token issuer over a vetted
 * kubeconfig, the scrubber, stdout) comes in through `deps`, so the tests run it without Pulumi,
 * a cluster or Vault.
 */
import { Command, Option } from "commander";
import type { Settings } from "../config/schema";
import type { TokenIssuer, VaultClient } from "./gather";
import type { Scrub } from "./render";

interface PreflightCommandDeps {
    /** The outputs of stack `name`, secrets in clear (the kubeconfig); only handed to `tokenIssuer`. */
    loadOutputs(stack: string, where?: { backendUrl?: string; secretsProvider?: string }): Promise<Record<string, unknown>>;
    /** The stack's settings (`Pulumi.<stack>.yaml`): what `up` would bind. */
    loadSettings(stack: string): Promise<Settings>;
    /**
     * A token issuer over the kubeconfig: `--kubeconfig <file>` when given, else the stack's
     * `kubeconfig` output; vetted before the Kubernetes client sees it (the doctor's rules).
     */
    tokenIssuer(outputs: Record<string, unknown>, flags: { kubeconfig?: string; allowExec: boolean }): Promise<TokenIssuer>;
    /** Control characters and credentials out of every printed string. */
    scrub: Scrub;
    /** Default: process.env. */
    env?: NodeJS.ProcessEnv;
    /** Default: `process.stdout.write`. */
    write?: (text: string) => void;
    setExitCode?: (code: number) => void;
    /** Tests: a stand-in for Vault. */
    vaultClient?: VaultClient;
}

interface PreflightFlags {
    stack: string;
    json?: boolean;
    failuresOnly?: boolean;
    backendUrl?: string;
    secretsProvider?: string;
    kubeconfig?: string;
    allowExec?: boolean;
    vaultTokenEnv: string;
    vaultAddr?: string;
}

const HELP = `
Acts as each workload against the live cluster and Vault, before anything is applied:
  - requests a 10-minute token for the workload's service account with the audience the program
    binds (TokenRequest),
  - logs in at the planned auth mount and role,
  - asks Vault (sys/capabilities-self) for every path the workload's annotations render, the
    paths it declared, and other workloads' paths; reads no secret,
  - revokes the login's token.
With a Vault token (--vault-token-env, default VAULT_TOKEN) it also reads the auth and KV mounts
and each role, to tell a role or mount that does not exist yet from a refused login; the token
needs only the reads listed in docs/preflight.md.

Each finding names the workload, the path, what is wrong and the fix. Exit code 10 when one fails.

Examples:
  $ npm start -- preflight --stack dev
  $ VAULT_TOKEN=... npm start -- preflight --stack dev --json
`;

export function preflightCommand(deps: PreflightCommandDeps): Command {
    return new Command("preflight")
        .description("prove every workload can log in and read every secret it renders (live cluster and Vault; reads no secret)")
        .requiredOption("-s, --stack <name>", "stack whose settings say what `up` binds")
        .option("--json", "print the report as JSON")
        .option("--failures-only", "print only findings that did not pass")
        .option("--backend-url <url>", "Pulumi backend holding the stack (default: as `doctor`)")
        .option("--secrets-provider <provider>", "the stack's secrets provider, if not passphrase")
        .option("--kubeconfig <file>", "request tokens with this kubeconfig instead of the stack's output")
        .option("--allow-exec", "run the kubeconfig's exec plugin or auth provider even if it is not the kubelogin the program writes")
        .addOption(new Option("--vault-token-env <name>", "environment variable holding the preflight's Vault token " +
            "(optional)").default("VAULT_TOKEN"))
        .option("--vault-addr <url>", "reach Vault at this URL (default: the stack's vault.address, which the audiences are built from)")
        .addHelpText("after", HELP)
        .action(async (flags: PreflightFlags) => {
            const [{ preflight }, { vaultClient }, { renderJson, renderText }, { EXIT }] = await Promise.all([
                import("./index"), import("./gather"), import("./render"), import("../exitCodes"),
            ]);
            const env = deps.env ?? process.env;
            const write = deps.write ?? ((t: string) => void process.stdout.write(t));
            const settings = await deps.loadSettings(flags.stack);
            const outputs = await deps.loadOutputs(flags.stack, { backendUrl: flags.backendUrl, secretsProvider: flags.secretsProvider });
            const k8s = await deps.tokenIssuer(outputs, { kubeconfig: flags.kubeconfig, allowExec: flags.allowExec === true });
            const token = env[flags.vaultTokenEnv];
            const vault = deps.vaultClient ?? vaultClient({
                address: flags.vaultAddr ?? settings.vault.address,
                namespace: settings.vault.namespace,
                ...(token === undefined || token === "" ? {} : { operatorToken: token }),
            });
            const report = await preflight({ settings, stack: flags.stack, outputs, k8s, vault });
            write(flags.json ? renderJson(report, deps.scrub) : renderText(report, deps.scrub, { showPassing: !flags.failuresOnly }));
            if (!report.ok) (deps.setExitCode ?? ((c: number) => { process.exitCode = c; }))(EXIT.checksFailed);
        });
}
