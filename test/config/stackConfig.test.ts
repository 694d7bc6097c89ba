/**
 * Config that tells the truth (issue 10): a misspelled top-level key is refused with a "did you
 * mean" instead of being ignored; credentials in plain config are refused with the
 * `pulumi config set --secret` fix and never echoed; a `secretConfig` reference must name a secure
 * key the stack holds, in the Pulumi runtime and in the offline reading of the stack file alike.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { stringify } from "yaml";
import { loadFromConfig } from "../../src/config/load";
import { parseSettings, SettingsError } from "../../src/config/validate";
import type { SettingsProblem } from "../../src/config/problem";
import { didYouMean } from "../../src/config/wording";
import { readStackFile } from "../../src/plan/stackFile";
import { labRaw } from "../support/fixtures";
import { setConfig, useCloud } from "../support/harness";

const TOKEN = "hvs.CAESIPlainTokenInTheStackFile";
const PASSWORD = "p4ssw0rd-plain-in-config";

/** Problems of loading `values` (project keys) as the Pulumi runtime would; nothing may be registered. */
type Loaded = { problems: SettingsProblem[]; message: string };
async function loadProblems(values: Record<string, unknown>, secretKeys: string[] = []): Promise<Loaded> {
    const cloud = await useCloud();
    setConfig(values, secretKeys);
    try {
        loadFromConfig();
    } catch (err) {
        assert.ok(err instanceof SettingsError, String(err));
        assert.equal(cloud.resources.length, 0, "nothing registered");
        return { problems: err.problems, message: err.message };
    }
    return { problems: [], message: "" };
}

const at = (problems: SettingsProblem[], key: string) => {
    const p = problems.filter((x) => x.key === key);
    assert.equal(p.length, 1, `one problem at ${key}: ${JSON.stringify(problems, null, 1)}`);
    return p[0];
};

/** The lab with its seed read from a secret config key. */
function labWithSecretSeed(): Record<string, any> {
    const raw = labRaw();
    raw.workloads[0].seed[0].values.token = { secretConfig: "devopsToken" };
    return raw;
}

describe("stack config: every key known", () => {
    it("suggests the right key for misspelled top-level keys instead of ignoring them", async () => {
        const raw = labRaw();
        const { workloads, kubernetesAuth, ...rest } = raw;
        const { problems } = await loadProblems({ ...rest, workload: workloads, kubernetesauth: kubernetesAuth });
        assert.match(at(problems, "aks-vault:workload").expected, /did you mean `aks-vault:workloads`\?.*pulumi config rm workload/);
        assert.match(at(problems, "aks-vault:kubernetesauth").expected, /did you mean `aks-vault:kubernetesAuth`\?/);
    });

    it("names the known keys when nothing is close", async () => {
        const { problems } = await loadProblems({ ...labRaw(), frobnicate: "x" });
        assert.match(at(problems, "aks-vault:frobnicate").expected, /one of cluster, vault, .*workloads, vaultToken, stage/);
    });

    it("accepts the dev stack's keys, stage and a referenced secure key", async () => {
        assert.deepEqual(
            (await loadProblems({ ...labWithSecretSeed(), stage: "workloads", devopsToken: "s" }, ["devopsToken"])).problems,
            [],
        );
    });

    it("did-you-mean matches case, plurals and small typos only", () => {
        const known = ["cluster", "vault", "workloads", "kubernetesAuth", "vaultToken"];
        assert.equal(didYouMean("Workload", known), "workloads");
        assert.equal(didYouMean("valut", known), "vault");
        assert.equal(didYouMean("vaulttoken", known), "vaultToken");
        assert.equal(didYouMean("something", known), undefined);
    });
});

describe("settings: unknown nested keys", () => {
    it("suggests the key meant, inside objects, lists, defaults and unions", () => {
        const raw = labRaw();
        raw.injector.replica = 3;
        raw.workloads[0].secret = [];
        raw.cluster.systemPool.vmsize = "Standard_D4s_v3";
        raw.workloads[0].seed[0].writeonce = true;
        let problems: SettingsProblem[] = [];
        try { parseSettings(raw); } catch (err) { problems = (err as SettingsError).problems; }
        assert.match(at(problems, "injector.replica").expected, /did you mean `injector.replicas`\?/);
        assert.match(at(problems, "workloads[0].secret").expected, /did you mean `workloads\[0\].secrets`\?/);
        assert.match(at(problems, "cluster.systemPool.vmsize").expected, /did you mean `cluster.systemPool.vmSize`\?/);
        assert.match(at(problems, "workloads[0].seed[0].writeonce").expected, /did you mean `workloads\[0\].seed\[0\].writeOnce`\?/);
    });
});

describe("stack config: credentials only as secrets", () => {
    it("refuses a plain vaultToken with the --secret command, never echoing it", async () => {
        const { problems, message } = await loadProblems({ ...labRaw(), vaultToken: TOKEN });
        assert.match(at(problems, "aks-vault:vaultToken").expected, /pulumi config set --secret vaultToken <token>/);
        assert.ok(!message.includes(TOKEN));
    });

    it("accepts a secure vaultToken", async () => {
        assert.deepEqual((await loadProblems({ ...labRaw(), vaultToken: TOKEN }, ["vaultToken"])).problems, []);
    });

    it("refuses a plain key a seed reads as its secret, naming the key and the fix", async () => {
        const { problems, message } = await loadProblems({ ...labWithSecretSeed(), devopsToken: PASSWORD });
        assert.match(at(problems, "aks-vault:devopsToken").expected, /pulumi config set --secret devopsToken <value>/);
        assert.ok(!message.includes(PASSWORD));
    });

    it("refuses a secretConfig reference to a key the stack does not hold", async () => {
        const { problems } = await loadProblems(labWithSecretSeed());
        assert.match(
            at(problems, "workloads[0].seed[0].values.token.secretConfig").expected,
            /pulumi config set --secret devopsToken <value>/,
        );
    });

    it("refuses the service principal's secret in plain config", async () => {
        const raw = labRaw();
        raw.cluster.entraId = {};
        raw.cluster.credentials = {
            mode: "kubelogin", login: "spn", clientId: "00000000-0000-0000-0000-000000000001", clientSecretConfig: "spnSecret",
        };
        const { problems, message } = await loadProblems({ ...raw, spnSecret: PASSWORD });
        assert.match(at(problems, "aks-vault:spnSecret").expected, /--secret spnSecret/);
        assert.ok(!message.includes(PASSWORD));
    });

    it("refuses a literal seed value in stack config (in-process settings may still pass one)", async () => {
        const raw = labRaw();
        raw.workloads[0].seed[0].values.token = { value: PASSWORD };
        const { problems, message } = await loadProblems(raw);
        assert.match(at(problems, "workloads[0].seed[0].values.token").expected, /\{secretConfig: KEY\}/);
        assert.ok(!message.includes(PASSWORD));
        assert.equal(
            parseSettings(raw).workloads[0].seed[0].values.token.constructor,
            Object,
            "the Automation API's settings object may carry it",
        );
    });

    it("refuses an unknown plain key that looks like a credential without echoing it", async () => {
        const { problems, message } = await loadProblems({ ...labRaw(), clientSecret: PASSWORD });
        assert.match(at(problems, "aks-vault:clientSecret").found, /not shown/);
        assert.match(at(problems, "aks-vault:clientSecret").expected, /rotate the credential/);
        assert.ok(!message.includes(PASSWORD));
    });
});

describe("stack file read offline (plan, CLI): the same checks", () => {
    let dir: string;
    beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), "stackfile-")); });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const write = (config: Record<string, unknown>) => writeFileSync(path.join(dir, "Pulumi.t.yaml"), stringify({ config }));
    const problemsOf = () => {
        try {
            readStackFile(dir, "t");
        } catch (err) {
            assert.ok(err instanceof SettingsError, String(err));
            return err.problems;
        }
        return [];
    };
    const project = (raw: Record<string, unknown>) => Object.fromEntries(Object.entries(raw).map(([k, v]) => [`aks-vault:${k}`, v]));

    it("refuses a secretConfig key the file does not hold, and accepts a secure one", () => {
        write(project(labWithSecretSeed()));
        assert.match(at(problemsOf(), "workloads[0].seed[0].values.token.secretConfig").expected, /pulumi config set --secret devopsToken/);
        write({ ...project(labWithSecretSeed()), "aks-vault:devopsToken": { secure: "v1:abc" } });
        assert.deepEqual(problemsOf(), []);
    });

    it("refuses a misspelled key and a plain vaultToken", () => {
        const { workloads, ...rest } = labRaw();
        write({ ...project(rest), "aks-vault:workload": workloads, "aks-vault:vaultToken": TOKEN });
        const problems = problemsOf();
        assert.match(at(problems, "aks-vault:workload").expected, /did you mean `aks-vault:workloads`/);
        assert.match(at(problems, "aks-vault:vaultToken").expected, /--secret vaultToken/);
        assert.ok(!JSON.stringify(problems).includes(TOKEN));
    });

    it("leaves other namespaces alone (azure-native:location, vault:address)", () => {
        write({ ...project(labRaw()), "azure-native:location": "westeurope", "vault:skipTlsVerify": "false" });
        assert.deepEqual(problemsOf(), []);
    });
});
