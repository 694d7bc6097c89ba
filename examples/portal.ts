// A portal back end onboarding one team: the library example of README.md and docs/automation.md,
// compiled as written by `npm run typecheck` (tsconfig.json includes examples/). A portal installs
// the package (`npm install <git URL or tarball of this repository>`; `npm pack` makes one), whose
// `prepare` step builds dist/, and imports it by the package's `exports` name, never a source path.
import { run, RunEvent, StageFailedError, GateError, SettingsInput } from "aks-vault-injector/automation";

const settings: SettingsInput = {
    cluster: { mode: "adopt", name: "aks-shared", resourceGroupName: "rg-aks-shared" },
    vault: { address: "https://vault.example.com:8200" },
    kubernetesAuth: { path: "aks" },
    workloads: [
        {
            name: "payments",
            namespace: "payments",
            serviceAccount: "payments",
            secrets: [{ file: "db", path: "payments/db", key: "password" }],
            seed: [{ path: "payments/db", values: { password: { random: { length: 32 } } } }],
        },
    ],
};

// CommonJS has no top-level await: the portal's handler is an async function.
export async function onboard(signal: AbortSignal): Promise<number> {
    try {
        const result = await run({
            operation: "up", // "preview" | "up" | "destroy" | "refresh" | "outputs"
            stack: "team-payments",
            settings,
            secrets: { vaultToken: process.env.PORTAL_VAULT_TOKEN },
            backendUrl: "azblob://pulumi-state", // default: the Pulumi CLI's login, else .pulumi-state/
            policyPacks: ["/srv/aks-vault/policies"],
            onEvent: (e: RunEvent) => console.log(JSON.stringify(e)),
            signal, // abort() cancels the running update cleanly
        });
        console.log(result.stages, result.outputs); // secret outputs come back as "[secret]"
        return 0;
    } catch (err) {
        if (err instanceof GateError) console.error(`stage ${err.stage} stopped by policy: nothing changed`);
        else if (err instanceof StageFailedError) console.error(`stage ${err.stage} failed: call onboard() again to resume`);
        else throw err;
        return err.exitCode; // every typed error carries exitCode
    }
}
