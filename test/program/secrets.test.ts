/**
 * Secrets sealed: every credential the program touches (kubeconfig credentials, the reviewer JWT,
 * the Vault token, seeded values, the service principal's secret) is a secret in every resource
 * input and stack output it reaches, and in no log line or error message.
 */
import assert from "node:assert/strict";
import { format } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { loadFromConfig } from "../../src/config/load";
import { SettingsError } from "../../src/config/validate";
import { isWireSecret, RecordedResource, secretAt } from "../support/cloud";
import { labRaw, setAt } from "../support/fixtures";
import { setConfig, stateOf, useCloud, valueOf } from "../support/harness";
import { Run, runLab, SECRET_CONFIG, VAULT_TOKEN } from "../support/run";

/** Every string in clear (outside any secret wrapper), with its path. */
function clearStrings(v: unknown, path = ""): Array<[string, string]> {
    if (isWireSecret(v)) return [];
    if (typeof v === "string") return [[path, v]];
    if (Array.isArray(v)) return v.flatMap((x, i) => clearStrings(x, `${path}[${i}]`));
    if (typeof v === "object" && v !== null) return Object.entries(v).flatMap(([k, x]) => clearStrings(x, path ? `${path}.${k}` : k));
    return [];
}

/** Captures console output and pulumi.log lines while `fn` runs. */
async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; lines: string[] }> {
    const lines: string[] = [];
    const methods = ["log", "info", "warn", "error", "debug"] as const;
    const saved = methods.map((m) => console[m]);
    const savedWrites = [process.stdout.write, process.stderr.write];
    methods.forEach((m) => { console[m] = (...args: unknown[]) => { lines.push(format(...args)); }; });
    const write = (chunk: unknown) => { lines.push(String(chunk)); return true; };
    process.stdout.write = write as typeof process.stdout.write;
    process.stderr.write = write as typeof process.stderr.write;
    try {
        return { result: await fn(), error: undefined, lines };
    } catch (error) {
        return { result: undefined, error, lines };
    } finally {
        methods.forEach((m, i) => { console[m] = saved[i]; });
        [process.stdout.write, process.stderr.write] = savedWrites;
    }
}

/** The credential values a run produced, read from what the cloud minted and what was seeded. */
function credentialsOf(run: Run): Map<string, string> {
    const found = new Map<string, string>([
        ["Vault token", VAULT_TOKEN],
        ["SPN secret", SECRET_CONFIG.spnSecret],
        ["secret config seed", SECRET_CONFIG.dbPassword],
    ]);
    for (const [name, jwt] of run.cloud.minted) found.set(`reviewer JWT ${name}`, jwt);
    for (const facts of run.cloud.clusters.values()) {
        const user = (parse(facts.kubeconfig) as { users: Array<{ user: Record<string, string> }> }).users[0].user;
        found.set("admin token", user.token);
        found.set("admin client key", user["client-key-data"]);
    }
    for (const seed of run.cloud.of("vault:kv/secretV2:SecretV2")) {
        const data = secretAt(seed.rawInputs, "dataJson");
        assert.equal(data.secret, true, `seed ${seed.name} dataJson is not a secret`);
        for (const [k, v] of Object.entries(JSON.parse(String(data.value)) as Record<string, string>)) {
            found.set(`seeded ${seed.name}.${k}`, v);
        }
    }
    return found;
}

function assertSealed(resources: RecordedResource[], creds: Map<string, string>): number {
    let checked = 0;
    for (const r of resources) {
        for (const [path, text] of clearStrings(r.rawInputs)) {
            checked++;
            for (const [what, value] of creds) {
                assert.ok(!text.includes(value), `${what} in clear at ${r.type} ${r.name} ${path}`);
            }
        }
    }
    return checked;
}

async function assertOutputsSealed(outputs: Record<string, unknown>, creds: Map<string, string>): Promise<void> {
    for (const [name, o] of Object.entries(outputs)) {
        const s = pulumi.Output.isInstance(o) ? await stateOf(o) : { value: await valueOf(pulumi.output(o)), secret: false };
        if (s.secret) continue;
        const text = JSON.stringify(s.value) ?? "";
        for (const [what, value] of creds) assert.ok(!text.includes(value), `${what} in clear in stack output ${name}`);
    }
}

describe("secrets sealed", () => {
    const everything = (raw: Record<string, any>) => {
        setAt(raw, "injector.reviewerTokenRotation", "2026-01");
        raw.workloads.push({
            name: "api", namespace: "api", serviceAccount: "api",
            secrets: [{ file: "db", path: "api/db", key: "password" }],
            seed: [{ path: "api/db", values: { password: { secretConfig: "dbPassword" }, pepper: { random: { length: 24 } } } }],
        });
    };

    it("admin credentials mode: no credential in clear in any resource input, output or log line", async () => {
        let run: Run | undefined;
        const logs = await captureLogs(async () => { run = await runLab(everything); });
        assert.equal(logs.error, undefined);
        assert.ok(run);
        const creds = credentialsOf(run);
        assert.ok(creds.size >= 8, `credentials found: ${[...creds.keys()].join(", ")}`);
        assert.ok([...creds.keys()].some((k) => k.startsWith("reviewer JWT")), "the reviewer JWT was minted");
        assert.ok(assertSealed(run.cloud.resources, creds) > 100, "the walk covered the inputs");
        await assertOutputsSealed(run.outputs, creds);
        for (const line of logs.lines) for (const [what, value] of creds) assert.ok(!line.includes(value), `${what} in a log line`);
        // Positive control: the credentials did reach where they belong, as secrets.
        assert.equal(secretAt(run.cloud.one("pulumi:providers:vault").rawInputs, "token").secret, true);
        assert.equal(
            secretAt(run.cloud.one("vault:kubernetes/authBackendConfig:AuthBackendConfig").rawInputs, "tokenReviewerJwt").secret,
            true,
        );
    });

    it("kubelogin spn mode: the service principal's secret reaches the provider only as a secret", async () => {
        const run = await runLab((raw) => {
            everything(raw);
            setAt(raw, "cluster.credentials", {
                mode: "kubelogin", login: "spn", clientId: "0b0e5a6e-1c1d-4f5e-9a8b-7c6d5e4f3a2b", clientSecretConfig: "spnSecret",
            });
            setAt(raw, "cluster.entraId", { adminGroupObjectIds: ["5b7d3f2a-1c4e-4a8b-9f6d-2e1c0b9a8d7c"] });
        });
        const creds = credentialsOf(run);
        assertSealed(run.cloud.resources, creds);
        await assertOutputsSealed(run.outputs, creds);
        assert.ok(
            String(secretAt(run.cloud.one("pulumi:providers:kubernetes").rawInputs, "kubeconfig").value).includes(SECRET_CONFIG.spnSecret),
        );
    });

    it("a failing config names the problems and prints no secret it was given", async () => {
        const cloud = await useCloud();
        const raw = labRaw();
        const leaked = ["literal-seed-value-0xDEADBEEF", "misplaced-value-0xFEEDFACE", "hvs.config-token-0xC0FFEE"];
        raw.workloads[0].seed[0].values.token = { value: leaked[0], extra: 1 };
        raw.workloads[0].secrets[0].value = leaked[1];
        setAt(raw, "kv.path", "/bad/");
        setConfig({ ...raw, vaultToken: leaked[2] }, ["vaultToken"]);
        const logs = await captureLogs(async () => loadFromConfig());
        assert.ok(logs.error instanceof SettingsError);
        const text = [logs.error.message, JSON.stringify(logs.error.problems), ...logs.lines].join("\n");
        assert.match(text, /kv\.path/);
        for (const secret of leaked) assert.ok(!text.includes(secret), `${secret} was printed`);
        assert.equal(cloud.resources.length, 0, "nothing registered");
    });
});
