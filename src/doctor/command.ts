/**
 * `doctor` for the CLI: a commander `Command` the CLI registers with `program.addCommand(...)`.
 * Everything it needs from outside (the stack's outputs, the environment, stdout) comes in
 * through `deps`, so the tests run it without Pulumi, a cluster or Vault.
 */
import { readFileSync } from "fs";
import * as path from "path";
import { Command, InvalidArgumentError, Option } from "commander";
import { EXIT } from "../exitCodes";
import { PulumiNotInstalledError } from "../errors";
import type { DoctorOptions } from "./index";
import type { ClusterReader, VaultReader } from "./gather";
import type { KubeconfigSource } from "./kubeconfig";
import type { OutputMap } from "./outputs";
import type { InjectionMode } from "../agent/vocabulary";

interface DoctorCommandDeps {
    /** The outputs of stack `name` (the CLI: Automation API `selectStack(...).outputs()`). */
    loadOutputs(stack: string, where?: { backendUrl?: string; secretsProvider?: string }): Promise<OutputMap>;
    /**
     * The outputs the stack's config file implies (the offline plan), for when the Pulumi CLI is
     * not installed and the kubeconfig comes from --kubeconfig or $KUBECONFIG. Values the plan
     * cannot know (API server URL, OIDC issuer, the kubeconfig itself) are left out.
     */
    loadPlannedOutputs?(stack: string): Promise<OutputMap>;
    /** Default: fs.readFileSync(file, "utf8"). */
    readFile?: (file: string) => string;
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
    kubeconfig?: string;
    allowExec?: boolean;
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

The cluster is read with the stack's \`kubeconfig\` output; --kubeconfig <file> replaces it. Without
the Pulumi CLI, the kubeconfig comes from --kubeconfig or $KUBECONFIG and what should exist from
the stack's config file (Pulumi.<stack>.yaml, as \`plan\` evaluates it).

The kubeconfig is checked first: insecure-skip-tls-verify is refused, and no exec plugin or auth
provider runs except the \`kubelogin get-token\` the program writes (--allow-exec runs others: only
for a kubeconfig you trust, the command runs on this machine). A kubeconfig from the stack may not
name local files.

It only reads. It never prints a secret value; tokens, JWTs, passwords, client secrets and random
values in log lines are redacted, and control characters are removed from everything printed.
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
        .option(
            "--backend-url <url>",
            "Pulumi backend holding the stack (default: the one the Pulumi CLI is logged in to, else the project's file backend)",
        )
        .option("--secrets-provider <provider>", "the stack's secrets provider, if not passphrase")
        .option(
            "--kubeconfig <file>",
            "read the cluster with this kubeconfig instead of the stack's output (without the Pulumi CLI: default $KUBECONFIG)",
        )
        .option(
            "--allow-exec",
            "run the kubeconfig's exec plugin or auth provider even if it is not the kubelogin the program writes",
        )
        .addOption(
            new Option(
                "--vault-token-env <name>",
                "environment variable holding a Vault token; when it is set, also check the Vault side",
            ).default("VAULT_TOKEN"),
        )
        .option("--vault-addr <url>", "Vault address for the Vault checks (default: $VAULT_ADDR)")
        .option("--vault-namespace <ns>", "Vault Enterprise namespace (default: $VAULT_NAMESPACE)")
        .addOption(new Option("--tail <lines>", "agent log lines read per container").default(100).argParser((v) => {
            const n = Number(v);
            if (!Number.isInteger(n) || n < 1 || n > 10000) {
                throw new InvalidArgumentError(`--tail must be an integer from 1 to 10000, got ${v}`);
            }
            return n;
        }))
        .addOption(
            new Option("--init-only <workload>", "workload expected to run init-only (agent-pre-populate-only); repeatable")
                .argParser(collect)
                .default([], "read from each pod's annotations"),
        )
        .addHelpText("after", HELP)
        .action(async (flags: DoctorFlags) => {
            // Loaded when the command runs, not when the CLI starts (`--help` stays fast).
            const [{ doctor }, { DoctorInputError }, { renderJson, renderText }] = await Promise.all([
                import("./index"), import("./outputs"), import("./render"),
            ]);
            const env = deps.env ?? process.env;
            const write = deps.write ?? ((t: string) => void process.stdout.write(t));
            const setExitCode = deps.setExitCode ?? ((c: number) => { process.exitCode = c; });
            const readFile = deps.readFile ?? ((f: string) => readFileSync(f, "utf8"));
            const kubeconfigFile = (file: string, label: string): { text: string; source: KubeconfigSource } => {
                try {
                    return { text: readFile(file), source: { kind: "file", label } };
                } catch (err) {
                    const code = (err as { code?: unknown }).code;
                    throw new DoctorInputError(
                        `${label}: cannot read the file (${typeof code === "string" ? code : "unreadable"}); ` +
                            `pass --kubeconfig <file> with a kubeconfig for the stack's cluster`,
                    );
                }
            };
            const fromEnv = (): { text: string; source: KubeconfigSource } | undefined => {
                const value = env.KUBECONFIG;
                if (value === undefined || value === "") return undefined;
                const files = value.split(path.delimiter).filter((f) => f !== "");
                // kubectl merges the files; the doctor reads one cluster and will not guess which.
                if (files.length !== 1) {
                    throw new DoctorInputError(
                        "$KUBECONFIG lists several files; pass --kubeconfig <file> with the one for the stack's cluster",
                    );
                }
                return kubeconfigFile(files[0], `$KUBECONFIG (${files[0]})`);
            };
            let kubeconfig = flags.kubeconfig === undefined
                ? undefined
                : kubeconfigFile(flags.kubeconfig, `--kubeconfig ${flags.kubeconfig}`);
            let outputs: OutputMap;
            try {
                outputs = await deps.loadOutputs(flags.stack, { backendUrl: flags.backendUrl, secretsProvider: flags.secretsProvider });
            } catch (err) {
                // No Pulumi CLI: the stack file says what should exist; the kubeconfig must come from the user.
                if (!(err instanceof PulumiNotInstalledError) || deps.loadPlannedOutputs === undefined) throw err;
                kubeconfig ??= fromEnv();
                if (kubeconfig === undefined) {
                    throw new PulumiNotInstalledError(
                        "pass --kubeconfig <file> (or set KUBECONFIG) to check the cluster against the stack's config file",
                    );
                }
                outputs = await deps.loadPlannedOutputs(flags.stack);
            }
            const token = env[flags.vaultTokenEnv];
            const address = flags.vaultAddr ?? env.VAULT_ADDR;
            let vault: DoctorOptions["vault"] = deps.vaultReader;
            if (vault === undefined && token !== undefined && token !== "") {
                if (address === undefined || address === "") {
                    throw new DoctorInputError(
                        `--vault-token-env ${flags.vaultTokenEnv} is set but there is no Vault address: ` +
                            `pass --vault-addr or set VAULT_ADDR`,
                    );
                }
                vault = { address, token, namespace: flags.vaultNamespace ?? env.VAULT_NAMESPACE };
            }
            const report = await doctor({
                outputs,
                vault,
                clusterReader: deps.clusterReader,
                tailLines: flags.tail,
                modes: Object.fromEntries(flags.initOnly.map((w): [string, InjectionMode] => [w, "init-only"])),
                vaultSkipReason: vault === undefined ? `no Vault token in $${flags.vaultTokenEnv}` : undefined,
                kubeconfig,
                allowExec: flags.allowExec === true,
            });
            write(flags.json ? renderJson(report) : renderText(report, { showPassing: !flags.failuresOnly }));
            if (!report.ok) setExitCode(EXIT.checksFailed);
        });
    return cmd;
}
