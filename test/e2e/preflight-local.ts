/**
 * The preflight's e2e part alone, against a local stack that already holds the dev stack's
 * bindings (made by `npm run test:e2e`, or by hand): `. <statedir>/env; npx ts-node --transpile-only
 * test/e2e/preflight-local.ts [stack]`. The full suite calls `checkPreflight` from run.ts.
 */
import { Checks } from "./lib/checks";
import { stackFileSettings } from "./lib/deploy";
import { checkPreflight } from "./lib/preflight";
import { Vault, stackEnv } from "./lib/systems";

async function main(): Promise<number> {
    const stack = process.argv[2] ?? "dev";
    const env = stackEnv();
    const raw = stackFileSettings(stack);
    raw.cluster = { mode: "existing", name: "e2e-local", oidcIssuerUrl: env.issuer };
    raw.vault = { ...raw.vault, address: env.vaultAddr, allowHttp: true };
    const checks = new Checks(stack);
    await checkPreflight(raw, stack, env, new Vault(env.vaultAddr, env.vaultToken), checks);
    console.log(checks.failed.length === 0 ? `preflight e2e ${stack}: ${checks.held} checks hold` : `preflight e2e ${stack}: ` +
        `${checks.failed.length} failed`);
    return checks.failed.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (err: Error) => { console.error(`preflight e2e: ${err.message}`); process.exit(1); });
