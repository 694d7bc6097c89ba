/**
 * Issue 22, linear validation: every string the settings carry has a length limit, checked in one
 * walk before any regular expression runs, so a huge value is refused at once, naming its key,
 * without echoing it. Before, 100 KB in workloads[0].name took 30 s (a quadratic credential
 * regex in the problem renderer ran on the whole value before it was cut).
 */
import assert from "node:assert/strict";
import { problemsOf } from "../support/problems";
import { LONGER_STRINGS, MAX_STRING } from "../../src/config/limits";
import { labRaw, setAt } from "../support/fixtures";

/** The lab with every optional string the schema has that the lab leaves out, so every string is reached. */
function fullRaw(): Record<string, any> {
    const raw = labRaw();
    raw.vault.caCertPem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
    raw.vault.namespace = "team";
    raw.vault.policyPrefix = "aks-vault.dev.";
    raw.vault.allowedPolicies = ["default"];
    raw.injector.imageTag = "1.6.2";
    raw.kv.external = [{ path: "legacy/api", readers: ["busybox"] }];
    const w = raw.workloads[0];
    w.secrets.push({ file: "tpl", path: "devops", template: '{{ with secret "secret/data/devops" }}{{ .Data.data.token }}{{ end }}' });
    w.deployment.command = ["sh", "-c", "sleep 1"];
    return raw;
}

/** Every string leaf of a value, by dotted key (the form setAt takes). */
function stringLeaves(v: unknown, key = ""): string[] {
    if (typeof v === "string") return [key];
    if (Array.isArray(v)) return v.flatMap((x, i) => stringLeaves(x, `${key}[${i}]`));
    if (typeof v === "object" && v !== null) {
        return Object.entries(v).flatMap(([k, x]) => stringLeaves(x, key === "" ? k : `${key}.${k}`));
    }
    return [];
}

const BIG = 100_000;

describe("limits: every string is bounded before anything else runs", () => {
    const keys = stringLeaves(fullRaw());

    it("reaches the strings it means to (the lab and the optional ones)", () => {
        assert.deepEqual(problemsOf(fullRaw()), []);
        for (const k of ["workloads[0].name", "workloads[0].role", "vault.address", "cluster.resourceGroupName",
            "workloads[0].policies[0]", "workloads[0].secrets[1].template", "vault.caCertPem", "kv.external[0].path"]) {
            assert.ok(keys.includes(k), k);
        }
    });

    it(`refuses ${BIG} characters in every string, at once, naming the key, never echoing it`, () => {
        for (const key of keys) {
            const raw = fullRaw();
            // A value that is valid character by character, so only its length can refuse it.
            setAt(raw, key, "a".repeat(BIG));
            const started = process.hrtime.bigint();
            const problems = problemsOf(raw);
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            // Measured before the limit: 20-30 s for name, resourceGroupName and policies[0] alone.
            assert.ok(ms < 1000, `${key}: ${ms} ms`);
            const at = problems.filter((p) => p.key === key);
            assert.equal(at.length, 1, `${key}: ${JSON.stringify(problems)}`);
            const limit = LONGER_STRINGS[key.split(/[.[]/).filter((p) => !p.endsWith("]")).pop() ?? ""] ?? MAX_STRING;
            assert.equal(at[0].expected, `at most ${limit} characters`);
            assert.equal(at[0].found, `a string of ${BIG} characters (not shown)`);
        }
    });

    it("refuses an over-long object key (seed value names, labels), naming its parent", () => {
        const raw = fullRaw();
        raw.workloads[0].seed[0].values = { ["k".repeat(BIG)]: { random: {} } };
        const problems = problemsOf(raw);
        assert.deepEqual(
            problems.map((p) => [p.key, p.found]),
            [["workloads[0].seed[0].values", `a key of ${BIG} characters (not shown)`]],
        );
    });

    it("keeps strings at the limit to the ordinary rules, in linear time", () => {
        const raw = fullRaw();
        // At the limit, and invalid for the schema's pattern: the refusal is the pattern's, rendered fast.
        raw.workloads[0].name = "a".repeat(MAX_STRING - 1) + "!";
        const started = process.hrtime.bigint();
        const problems = problemsOf(raw);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        assert.ok(ms < 1000, `${ms} ms`);
        assert.ok(problems.some((p) => p.key === "workloads[0].name" && /DNS-1123|at most 63/.test(p.expected)), JSON.stringify(problems));
    });
});
