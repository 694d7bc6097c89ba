/**
 * `doctor` for the CLI: a commander `Command` the CLI registers with `program.addCommand(...)`.
 * Everything it needs from outside (the stack's outputs, the environment, stdout) comes in
 * through `deps`, so the tests run it without Pulumi, a cluster or Vault.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { EXIT } from "../automation/errors";
import { doctor, DoctorOptions } from "./index";
import { ClusterReader, VaultReader } from "./gather";
import { DoctorInputError, OutputMap } from "./outputs";
import { renderJson, renderText } from "./render";
import { InjectionMode } from "./types";

export interface DoctorCommandDeps {
    /** The outputs of stack `name` (the CLI: Automation API `selectStack(...).outputs()`). */
    loadOutputs(stack: string, where?: { backendUrl?: string; secretsProvider?: string }): Promise<OutputMap>;
    /** Default: `process.env`. */
    env?: NodeJS.ProcessEnv;
    /** Default: `process.stdout.write`. */
    write?: (text: string) => void;
    /** Default: sets `process.exitCode`. */
    setExitCode?: (code: number) => void;
    /** Tests: stand-ins for the live readers. */
    clusterReader?: ClusterReader;
    vaultReader?: VaultReader;
}

interface DoctorFlags {
    stack: string;
    backendUrl?: string;
    secretsProvider?: string;
    json?: boolean;
    vaultTokenEnv: string;
    vaultAddr?: string;
    vaultNamespace?: string;
    tail: number;
    initOnly: string[];
    failuresOnly?: boolean;
}

const HELP = `
Checks a deployed stack and explains what is wrong:
  - the injector Deployment has ready replicas,
  - the mutating webhook exists and carries a CA bundle,
  - each workload's pods carry vault-agent-init (and vault-agent in sidecar mode), are Ready and
    run as the service account the Vault role is bound to,
  - the agents' recent log lines, mapped to a cause and a fix (permission denied, service account
    or namespace not authorized, claim "iss" is invalid, tokenreviews forbidden, x509 unknown
    authority, i/o timeout, no secret at a path),
  - each secret file was rendered (the init agent exited 0 or logged the render; content is
    never read),
  - with a Vault token: the auth mount's kubernetes_host, reviewer JWT and issuer, and that each
    role is bound to its workload's namespace and service account.

It only reads. It never prints a secret value; tokens and JWTs in log lines are redacted.
Exit code 10 when a check fails (the CLI's other codes: see docs/automation.md).

Examples:
  $ npm start -- doctor --stack dev
  $ VAULT_ADDR=https://vault.example.com:8200 VAULT_TOKEN=... npm start -- doctor --stack dev
  $ npm start -- doctor --stack dev --json | jq '.checks[] | select(.status == "fail")'
`;

function collect(value: string, previous: string[] = []): string[] {
    return [...previous, value];
}

export function doctorCommand(deps: DoctorCommandDeps): Command {
    const cmd = new Command("doctor")
        .description("check a deployed stack (injector, webhook, workload pods, agent logs, Vault role bindings) and explain failures")
        .requiredOption("-s, --stack <name>", "stack whose outputs describe the deployment")
        .option("--json", "print the report as JSON")
        .option("--failures-only", "print only checks that did not pass")
        .option("--backend-url <url>", "Pulumi backend holding the stack (default: PULUMI_BACKEND_URL, else the project's file backend)")
        .option("--secrets-provider <provider>", "the stack's secrets provider, if not passphrase")
        .addOption(new Option("--vault-token-env <name>", "environment variable holding a Vault token; when it is set, also check the Vault side").default("VAULT_TOKEN"))
        .option("--vault-addr <url>", "Vault address for the Vault checks (default: $VAULT_ADDR)")
        .option("--vault-namespace <ns>", "Vault Enterprise namespace (default: $VAULT_NAMESPACE)")
        .addOption(new Option("--tail <lines>", "agent log lines read per container").default(100).argParser((v) => {
            const n = Number(v);
            if (!Number.isInteger(n) || n < 1 || n > 10000) throw new InvalidArgumentError(`--tail must be an integer from 1 to 10000, got ${v}`);
            return n;
        }))
        .addOption(new Option("--init-only <workload>", "workload expected to run init-only (agent-pre-populate-only); repeatable").argParser(collect).default([], "read from each pod's annotations"))
        .addHelpText("after", HELP)
        .action(async (flags: DoctorFlags) => {
            const env = deps.env ?? process.env;
            const write = deps.write ?? ((t: string) => void process.stdout.write(t));
            const setExitCode = deps.setExitCode ?? ((c: number) => { process.exitCode = c; });
            const outputs = await deps.loadOutputs(flags.stack, { backendUrl: flags.backendUrl, secretsProvider: flags.secretsProvider });
            const token = env[flags.vaultTokenEnv];
            const address = flags.vaultAddr ?? env.VAULT_ADDR;
            let vault: DoctorOptions["vault"] = deps.vaultReader;
            if (vault === undefined && token !== undefined && token !== "") {
                if (address === undefined || address === "") throw new DoctorInputError(`--vault-token-env ${flags.vaultTokenEnv} is set but there is no Vault address: pass --vault-addr or set VAULT_ADDR`);
                vault = { address, token, namespace: flags.vaultNamespace ?? env.VAULT_NAMESPACE };
            }
            const report = await doctor({
                outputs,
                vault,
                clusterReader: deps.clusterReader,
                tailLines: flags.tail,
                modes: Object.fromEntries(flags.initOnly.map((w): [string, InjectionMode] => [w, "init-only"])),
                vaultSkipReason: vault === undefined ? `no Vault token in $${flags.vaultTokenEnv}` : undefined,
            });
            write(flags.json ? renderJson(report) : renderText(report, { showPassing: !flags.failuresOnly }));
            if (!report.ok) setExitCode(EXIT.checksFailed);
        });
    return cmd;
}
