/**
 * `cluster.mode: existing` (any cluster reached by a kubeconfig, such as the local end-to-end
 * stack) and `injector.chartPath` (a local chart): what reaches Azure (nothing), Kubernetes and
 * Vault, and the refusals that name the setting.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { CloudMock, secretAt } from "../support/cloud";
import { setConfig, settle, stackConfig, stateOf, useCloud } from "../support/harness";
import { parseSettings } from "../../src/config/validate";
import { problemLines } from "../support/problems";
import { stackConfigProblems } from "../../src/config/configKeys";

const ISSUER = "https://eastus.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/";
const SERVER = "https://127.0.0.1:6443";
const CA = "-----BEGIN CERTIFICATE-----\nTUlJQ2xvY2FsLWNh\n-----END CERTIFICATE-----\n";
const KUBECONFIG = stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster: { server: SERVER, "certificate-authority-data": Buffer.from(CA).toString("base64") } }],
    users: [{ name: "admin", user: { token: "local-admin-token" } }],
    contexts: [{ name: "local", context: { cluster: "local", user: "admin" } }],
    "current-context": "local",
});

function existingConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const config = stackConfig();
    return {
        ...config,
        cluster: { mode: "existing", name: "local-e2e", oidcIssuerUrl: ISSUER },
        injector: { ...(config.injector as object), ...extra },
        kubeconfig: KUBECONFIG,
    };
}

type Outputs = Record<string, pulumi.Output<unknown>>;

async function runProgram(config: Record<string, unknown>): Promise<{ cloud: CloudMock; outputs: Outputs }> {
    const cloud = await useCloud();
    setConfig(config, ["kubeconfig"]);
    const { loadFromConfig } = await import("../../src/config/load");
    const { buildProgram } = await import("../../src/program/program");
    const { settings, secrets } = loadFromConfig(new pulumi.Config("aks-vault"));
    const outputs = buildProgram(settings, secrets) as unknown as Outputs;
    return { cloud, outputs };
}

describe("cluster.mode existing", () => {
    let cloud: CloudMock;
    let outputs: Outputs;

    before(async () => {
        ({ cloud, outputs } = await runProgram(existingConfig()));
        await settle(cloud);
    });

    it("registers nothing in Azure and calls no Azure API", () => {
        assert.deepEqual(cloud.resources.filter((r) => r.type.startsWith("azure-native:")).map((r) => r.type), []);
        assert.deepEqual(cloud.calls.filter((c) => c.token.startsWith("azure-native:")).map((c) => c.token), []);
    });

    it("gives the Kubernetes provider the kubeconfig from the secret config key, as a secret, with a stable identity", () => {
        const p = cloud.one("pulumi:providers:kubernetes");
        const kubeconfig = secretAt(p.rawInputs, "kubeconfig");
        assert.equal(kubeconfig.value, KUBECONFIG);
        assert.equal(kubeconfig.secret, true, "the kubeconfig reaches the provider as a secret");
        assert.equal(p.inputs.clusterIdentifier, "existing/local-e2e");
    });

    it("configures Vault's Kubernetes auth with the kubeconfig's server and CA, and the configured issuer when it validates", async () => {
        const cfg = cloud.one("vault:kubernetes/authBackendConfig:AuthBackendConfig").inputs;
        assert.equal(cfg.kubernetesHost, SERVER);
        assert.equal(cfg.kubernetesCaCert, CA);
        assert.equal(cfg.issuer, undefined, "issuer validation is off by default");
        const config = existingConfig();
        const validating = await runProgram({ ...config, kubernetesAuth: { ...(config.kubernetesAuth as object), validateIssuer: true } });
        await settle(validating.cloud);
        const checked = validating.cloud.one("vault:kubernetes/authBackendConfig:AuthBackendConfig").inputs;
        assert.equal(checked.issuer, ISSUER);
        assert.equal(checked.disableIssValidation, false);
    });

    it("exports the cluster's name and issuer, no resource group, and the kubeconfig only as a secret", async () => {
        assert.equal((await stateOf(outputs.clusterName)).value, "local-e2e");
        assert.equal((await stateOf(outputs.oidcIssuerUrl)).value, ISSUER);
        assert.equal(outputs.resourceGroupName, undefined);
        assert.equal((await stateOf(outputs.kubeconfig)).secret, true);
    });
});

describe("AksCluster mode existing, given a plain kubeconfig (a portal's own string)", () => {
    it("makes it a secret itself, before the provider or any output sees it", async () => {
        const cloud = await useCloud();
        const { AksCluster } = await import("../../components/aksCluster");
        const cluster = new AksCluster("plain", { mode: "existing", name: "plain", kubeconfig: KUBECONFIG, oidcIssuerUrl: ISSUER });
        await settle(cloud);
        assert.equal(secretAt(cloud.one("pulumi:providers:kubernetes").rawInputs, "kubeconfig").secret, true);
        assert.equal((await stateOf(cluster.kubeconfig)).secret, true);
        assert.equal((await stateOf(cluster.apiServerUrl)).value, SERVER);
    });
});

describe("injector.chartPath", () => {
    let dir: string;
    before(() => {
        dir = mkdtempSync(path.join(tmpdir(), "chart-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function chartDir(version: string): string {
        const chart = path.join(dir, `vault-${version}`);
        rmSync(chart, { recursive: true, force: true });
        mkdirSync(chart);
        writeFileSync(path.join(chart, "Chart.yaml"), stringify({ apiVersion: "v2", name: "vault", version }));
        return chart;
    }

    it("installs the chart from the path, with no repository", async () => {
        const chart = chartDir("0.34.1");
        const { cloud, outputs } = await runProgram(existingConfig({ chartPath: chart }));
        await settle(cloud);
        const rel = cloud.one("kubernetes:helm.sh/v3:Release").inputs as Record<string, unknown>;
        assert.equal(rel.chart, chart);
        assert.equal(rel.repositoryOpts, undefined);
        assert.equal((await stateOf(outputs.injectorChartVersion)).value, "0.34.1");
    });

    it("refuses, at preview, a local chart whose own version is not chartVersion (Helm would take the chart's silently)", async () => {
        const chart = chartDir("0.33.0");
        const { cloud, outputs } = await runProgram(existingConfig({ chartPath: chart }));
        await settle(cloud);
        await assert.rejects(
            stateOf(outputs.injectorChartVersion),
            // The component's outputs carry the check, so its registration fails with the message.
            (err: Error) => err.message.endsWith(
                `injector.chartPath: the chart at ${chart} is version 0.33.0, but injector.chartVersion is ` +
                `0.34.1; point chartPath at the 0.34.1 chart or set chartVersion to 0.33.0`,
            ),
        );
    });
});

describe("validation of the existing-cluster and local-chart settings", () => {
    const MISSING_ISSUER = "cluster.oidcIssuerUrl: found nothing; expected a string (this setting is required)";
    const problems = problemLines;
    const base = () => {
        const raw = existingConfig();
        delete raw.kubeconfig;
        return JSON.parse(JSON.stringify(raw)) as Record<string, any>;
    };

    it("accepts an existing cluster and fills the kubeconfig key's default", () => {
        const s = parseSettings(base());
        assert.equal(s.cluster.mode, "existing");
        assert.equal(s.cluster.mode === "existing" && s.cluster.kubeconfigConfig, "kubeconfig");
    });

    it("requires the issuer URL, over https", () => {
        const raw = base();
        delete raw.cluster.oidcIssuerUrl;
        assert.deepEqual(problems(raw), [MISSING_ISSUER]);
        raw.cluster.oidcIssuerUrl = "http://127.0.0.1/issuer";
        assert.deepEqual(problems(raw), ['cluster.oidcIssuerUrl: found "http://127.0.0.1/issuer"; expected an https:// URL']);
    });

    it("refuses AKS-only keys on an existing cluster", () => {
        const raw = base();
        raw.cluster.resourceGroupName = "rg";
        assert.match(problems(raw).join("\n"), /^cluster\.resourceGroupName: found an unknown key/);
    });

    it("requires the kubeconfig in the stack config, as a secret, and names the key", () => {
        const raw = base();
        assert.deepEqual(stackConfigProblems([], raw).map((p) => `${p.key}: ${p.expected}`), [
            "cluster.kubeconfigConfig: a key the stack config holds: `pulumi config set --secret kubeconfig <value>`",
        ]);
        assert.deepEqual(stackConfigProblems([{ key: "kubeconfig", secret: false }], raw).map((p) => p.key), ["aks-vault:kubeconfig"]);
        assert.deepEqual(stackConfigProblems([{ key: "kubeconfig", secret: true }], raw), []);
        raw.cluster.kubeconfigConfig = "clusterAccess";
        assert.deepEqual(stackConfigProblems([{ key: "clusterAccess", secret: true }], raw), []);
    });

    it("refuses a chart path that does not exist, and a chart path with a repository", () => {
        const raw = base();
        raw.injector.chartPath = "/nonexistent/vault-0.34.1.tgz";
        raw.injector.chartRepository = "https://charts.example.com";
        assert.deepEqual(problems(raw), [
            'injector.chartRepository: found "https://charts.example.com"; expected unset when injector.chartPath is set ' +
                "(the chart comes from one place)",
            'injector.chartPath: found "/nonexistent/vault-0.34.1.tgz"; expected a chart directory or .tgz that exists ' +
                "(looked at /nonexistent/vault-0.34.1.tgz)",
        ]);
    });
});
