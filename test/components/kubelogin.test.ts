/**
 * AKS without local accounts: the user kubeconfig Azure returns, rewritten to a non-interactive
 * kubelogin exec (pure helper), and the program using it instead of admin credentials.
 */
import assert from "node:assert/strict";
import { parse, stringify } from "yaml";
import { AKS_SERVER_ID, KubeloginError, toKubeloginKubeconfig } from "../../components/kubelogin";
import { parseKubeconfig } from "../../components/kubeconfig";
import { clusterFacts, entraUserKubeconfig, secretAt, TENANT } from "../support/cloud";
import { setAt } from "../support/fixtures";
import { settle, stateOf, useCloud } from "../support/harness";
import { parseSettings } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { localAccountsOffMessage } from "../../components/aksCluster";
import { secretInputs } from "../support/run";
import { runLab, SECRET_CONFIG } from "../support/run";

const SPN_ID = "0b0e5a6e-1c1d-4f5e-9a8b-7c6d5e4f3a2b";
const facts = clusterFacts("aks-vault-dev", "rg-aks-vault-dev", "francecentral");
const azureUser = entraUserKubeconfig(facts);

interface Exec { command: string; args: string[]; env: Array<{ name: string; value: string }> | null; interactiveMode: string }
function execOf(kubeconfig: string): Exec {
    const doc = parse(kubeconfig) as { users: Array<{ user: { exec: Exec } }> };
    assert.equal(doc.users.length, 1);
    return doc.users[0].user.exec;
}
const argAfter = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

/**
 * What `kubelogin get-token` ends up using, for a parent environment: client-go appends the exec
 * env to the parent's (the last value of a name wins), then kubelogin lets its environment
 * override its flags, a present-but-empty variable included (Azure/kubelogin
 * pkg/internal/token/options.go UpdateFromEnv: AAD_SERVICE_PRINCIPAL_* then AZURE_*, AZURE_TENANT_ID,
 * AAD_LOGIN_METHOD; os.LookupEnv).
 */
function effective(exec: Exec, parent: Record<string, string>) {
    const env = new Map(Object.entries(parent));
    for (const e of exec.env ?? []) env.set(e.name, e.value);
    const pick = (flagValue: string | undefined, ...names: string[]) =>
        names.reduce((v, n) => (env.has(n) ? env.get(n) : v), flagValue) ?? "";
    const flagOf = (f: string) => (exec.args.includes(f) ? argAfter(exec.args, f) : undefined);
    return {
        login: pick(flagOf("--login"), "AAD_LOGIN_METHOD"),
        clientId: pick(flagOf("--client-id"), "AAD_SERVICE_PRINCIPAL_CLIENT_ID", "AZURE_CLIENT_ID"),
        clientSecret: pick(flagOf("--client-secret"), "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AZURE_CLIENT_SECRET"),
        clientCert: pick(flagOf("--client-certificate"), "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE", "AZURE_CLIENT_CERTIFICATE_PATH"),
        tenantId: pick(flagOf("--tenant-id"), "AZURE_TENANT_ID"),
    };
}

/** A runner or portal host logged in as someone else. */
const AMBIENT = {
    AZURE_CLIENT_ID: "aaaaaaaa-0000-0000-0000-000000000001",
    AZURE_CLIENT_SECRET: "ambient-secret",
    AZURE_TENANT_ID: "aaaaaaaa-0000-0000-0000-00000000000f",
    AZURE_CLIENT_CERTIFICATE_PATH: "/home/runner/other.pem",
    AAD_SERVICE_PRINCIPAL_CLIENT_ID: "aaaaaaaa-0000-0000-0000-000000000002",
    AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE: "/home/runner/other2.pem",
    AAD_LOGIN_METHOD: "devicecode",
};

describe("kubelogin kubeconfig rewriting (pure)", () => {
    it("spn: logs in as the service principal, secret in the environment, never on the command line", () => {
        const out = toKubeloginKubeconfig(azureUser, { login: "spn", clientId: SPN_ID, clientSecret: "s3cret" });
        const exec = execOf(out);
        assert.equal(exec.command, "kubelogin");
        assert.equal(exec.interactiveMode, "Never");
        assert.equal(argAfter(exec.args, "--login"), "spn");
        assert.equal(argAfter(exec.args, "--server-id"), AKS_SERVER_ID);
        assert.equal(argAfter(exec.args, "--tenant-id"), TENANT, "the tenant AKS named");
        assert.ok(!exec.args.includes("s3cret") && !exec.args.includes("devicecode"));
        assert.deepEqual(effective(exec, {}), { login: "spn", clientId: SPN_ID, clientSecret: "s3cret", clientCert: "", tenantId: TENANT });
        // The cluster part is untouched: the server and CA still parse.
        assert.deepEqual(parseKubeconfig(out), { server: `https://${facts.fqdn}:443`, caCertPem: facts.caCertPem });
    });

    it("msi: a user-assigned identity by client ID, no secret anywhere", () => {
        const exec = execOf(toKubeloginKubeconfig(azureUser, { login: "msi", clientId: SPN_ID }));
        assert.equal(argAfter(exec.args, "--login"), "msi");
        assert.equal(argAfter(exec.args, "--client-id"), SPN_ID);
        assert.deepEqual(effective(exec, {}), { login: "msi", clientId: SPN_ID, clientSecret: "", clientCert: "", tenantId: "" });
    });

    it("azurecli: the signed-in CLI identity, no client ID (not AKS's public client's either)", () => {
        const exec = execOf(toKubeloginKubeconfig(azureUser, { login: "azurecli" }));
        assert.equal(argAfter(exec.args, "--login"), "azurecli");
        assert.ok(!exec.args.includes("--client-id"));
    });

    it("ambient Azure variables on the host do not change the identity kubelogin logs in as", () => {
        const spn = execOf(toKubeloginKubeconfig(azureUser, { login: "spn", clientId: SPN_ID, clientSecret: "s3cret" }));
        assert.deepEqual(
            effective(spn, AMBIENT),
            { login: "spn", clientId: SPN_ID, clientSecret: "s3cret", clientCert: "", tenantId: TENANT },
        );
        // msi without a client ID is the system-assigned identity: an empty client ID, not the host's.
        const msi = execOf(toKubeloginKubeconfig(azureUser, { login: "msi" }));
        assert.deepEqual(effective(msi, AMBIENT), { login: "msi", clientId: "", clientSecret: "", clientCert: "", tenantId: "" });
        const msiUser = execOf(toKubeloginKubeconfig(azureUser, { login: "msi", clientId: SPN_ID }));
        assert.equal(effective(msiUser, AMBIENT).clientId, SPN_ID);
        // azurecli: the CLI's own tenant, not the host's AZURE_TENANT_ID.
        const cli = execOf(toKubeloginKubeconfig(azureUser, { login: "azurecli" }));
        assert.deepEqual(effective(cli, AMBIENT), { login: "azurecli", clientId: "", clientSecret: "", clientCert: "", tenantId: "" });
        // Without the pinned variables the host's would win (so this check can fail).
        assert.equal(effective({ ...spn, env: null }, AMBIENT).clientId, AMBIENT.AZURE_CLIENT_ID);
    });

    it("reads the tenant and server ID from the legacy azure auth-provider form too", () => {
        const legacy = parse(azureUser) as { users: Array<{ user: unknown }> };
        legacy.users[0].user = {
            "auth-provider": {
                name: "azure",
                config: {
                    "apiserver-id": "11111111-2222-3333-4444-555555555555",
                    "tenant-id": "99999999-8888-7777-6666-555555555555",
                    environment: "AzureChinaCloud",
                },
            },
        };
        const exec = execOf(toKubeloginKubeconfig(stringify(legacy), { login: "spn", clientId: SPN_ID, clientSecret: "x" }));
        assert.equal(argAfter(exec.args, "--server-id"), "11111111-2222-3333-4444-555555555555");
        assert.equal(argAfter(exec.args, "--tenant-id"), "99999999-8888-7777-6666-555555555555");
        assert.equal(argAfter(exec.args, "--environment"), "AzureChinaCloud");
    });

    it("refuses clearly when misconfigured, naming the setting and no credential", () => {
        assert.throws(
            () => toKubeloginKubeconfig(azureUser, { login: "spn", clientSecret: "s3cret" }),
            (e: unknown) =>
                e instanceof KubeloginError && /cluster\.credentials\.clientId/.test(e.message) && !e.message.includes("s3cret"),
        );
        assert.throws(
            () => toKubeloginKubeconfig(azureUser, { login: "spn", clientId: SPN_ID }),
            /cluster\.credentials\.clientSecretConfig/,
        );
        assert.throws(
            () => toKubeloginKubeconfig(facts.kubeconfig, { login: "azurecli" }),
            /no Entra ID.*cluster\.credentials\.mode admin/,
        );
        assert.throws(
            () => toKubeloginKubeconfig("users: [", { login: "azurecli" }),
            (e: unknown) => e instanceof KubeloginError && !e.message.includes("users"),
        );
        assert.throws(() => toKubeloginKubeconfig(stringify({ users: [] }), { login: "azurecli" }), /no user/);
    });
});

describe("the program on an Entra ID cluster (cluster.credentials.mode kubelogin)", () => {
    it("asks Azure for user credentials, never admin ones, and hands the provider a secret kubelogin kubeconfig", async () => {
        const run = await runLab((raw) => {
            setAt(raw, "cluster.credentials", { mode: "kubelogin", login: "spn", clientId: SPN_ID, clientSecretConfig: "spnSecret" });
            setAt(raw, "cluster.entraId", { adminGroupObjectIds: ["5b7d3f2a-1c4e-4a8b-9f6d-2e1c0b9a8d7c"] });
        });
        const tokens = run.cloud.calls.map((c) => c.token);
        assert.ok(tokens.includes("azure-native:containerservice:listManagedClusterUserCredentials"));
        assert.ok(!tokens.includes("azure-native:containerservice:listManagedClusterAdminCredentials"));
        const call = run.cloud.calls.find((c) => c.token.endsWith("listManagedClusterUserCredentials"));
        assert.equal(call?.inputs.format, "exec");

        const provider = run.cloud.one("pulumi:providers:kubernetes");
        const kc = secretAt(provider.rawInputs, "kubeconfig");
        assert.equal(kc.secret, true, "the kubeconfig carries the SPN secret: it must be a secret");
        const exec = execOf(String(kc.value));
        assert.equal(argAfter(exec.args, "--login"), "spn");
        assert.equal(exec.env?.find((e) => e.name === "AZURE_CLIENT_SECRET")?.value, SECRET_CONFIG.spnSecret);

        // Vault still gets the cluster's real host and CA out of the rewritten kubeconfig.
        const cfg = run.cloud.one("vault:kubernetes/authBackendConfig:AuthBackendConfig").inputs;
        assert.equal(cfg.kubernetesHost, `https://${facts.fqdn}:443`);
        assert.equal(cfg.kubernetesCaCert, facts.caCertPem);
        const out = await stateOf(run.outputs.kubeconfig as never);
        assert.equal(out.secret, true);
    });

    it("creates an Entra ID-only cluster: managed AAD, Azure RBAC, admin groups, local accounts off", async () => {
        const group = "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
        const run = await runLab((raw) => {
            setAt(raw, "cluster.entraId", { adminGroupObjectIds: [group] });
            setAt(raw, "cluster.disableLocalAccounts", true);
            setAt(raw, "cluster.credentials", { mode: "kubelogin", login: "azurecli" });
        });
        const mc = run.cloud.one("azure-native:containerservice:ManagedCluster").inputs;
        assert.deepEqual(mc.aadProfile, { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [group] });
        assert.equal(mc.disableLocalAccounts, true);
        // The mock refuses admin credentials for this cluster, as Azure does: the run settled, so none were asked.
        assert.ok(run.cloud.calls.some((c) => c.token.endsWith("listManagedClusterUserCredentials")));
    });

    it("an adopted cluster with local accounts off and admin credentials fails early, saying what to set", async () => {
        const cloud = await useCloud({
            existingClusters: {
                "aks-prod": { resourceGroupName: "rg-prod", location: "westeurope", oidcIssuerEnabled: true, localAccountsDisabled: true },
            },
        });
        const settings = parseSettings({
            cluster: { mode: "adopt", name: "aks-prod", resourceGroupName: "rg-prod" },
            vault: { address: "https://vault:8200" },
        });
        const failures: unknown[] = [];
        const onRejection = (err: unknown) => failures.push(err);
        process.on("unhandledRejection", onRejection);
        let issuerError: unknown;
        try {
            const outputs = buildProgram(settings, secretInputs(), { stage: "cluster" });
            await stateOf(outputs.oidcIssuerUrl as never).catch((err: unknown) => { issuerError = err; });
            await settle(cloud).catch(() => undefined);
        } finally {
            process.off("unhandledRejection", onRejection);
        }
        const err = issuerError ?? failures[0];
        assert.ok(err instanceof Error, "the program failed");
        // The runtime prefixes the path through which the failure travelled; the message is ours.
        assert.ok(err.message.endsWith(localAccountsOffMessage("rg-prod", "aks-prod")), err.message);
        assert.ok(
            !cloud.calls.some((c) => c.token.endsWith("listManagedClusterAdminCredentials")),
            "admin credentials were never asked for",
        );
    });
});
