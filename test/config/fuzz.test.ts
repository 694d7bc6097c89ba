/**
 * Property-based fuzzing of the config edge (fast-check): whatever a stack config holds, the
 * program either stops with a SettingsError naming the problems, or gets valid settings from which
 * it builds a graph the cloud accepts. No other outcome (a crash, a half-built graph) exists.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as pulumi from "@pulumi/pulumi";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { labRaw, setAt } from "../support/fixtures";
import { settle, useCloud } from "../support/harness";

const MARKER = "s3cr3t-MARKER-value";
/** `FUZZ_RUNS=10 npm test` fuzzes ten times harder (a nightly job); the default keeps `npm test` fast. */
const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1));

/** Every leaf and branch path of a raw config, plus keys the lab does not set. */
function pathsOf(v: unknown, prefix = ""): string[] {
    if (Array.isArray(v)) return [prefix, ...v.flatMap((x, i) => pathsOf(x, `${prefix}[${i}]`))];
    if (typeof v === "object" && v !== null) {
        return [...(prefix ? [prefix] : []), ...Object.entries(v).flatMap(([k, x]) => pathsOf(x, prefix ? `${prefix}.${k}` : k))];
    }
    return [prefix];
}
const EXTRA_PATHS = [
    "cluster.credentials", "cluster.credentials.mode", "cluster.credentials.login", "cluster.protect", "cluster.mode",
    "vault.allowHttp", "vault.caCertPem", "vault.skipTlsVerify", "injector.failurePolicy", "injector.reviewerTokenRotation",
    "kubernetesAuth.reviewer", "kubernetesAuth.method", "kubernetesAuth.audience", "kv.protect", "kv.existing",
    "workloads[0].allowWildcard", "workloads[0].createNamespace", "platform.wildcardWorkloads", "platform.reservedNamespaces",
    "workloads[0].seed[0].writeOnce", "workloads[0].tokenMaxTtl", "workloads[1]", "workloads[0].secrets[1]",
];
const PATHS = [...new Set([...pathsOf(labRaw()), ...EXTRA_PATHS])];
/** Paths of scalars only: changing one of them keeps the config's shape. */
const LEAF_PATHS = PATHS.filter((p) => !PATHS.some((q) => q !== p && (q.startsWith(`${p}.`) || q.startsWith(`${p}[`))));

/** Values that tend to break things, and arbitrary JSON. */
const nasty = fc.oneof(
    fc.constantFrom("", "*", "/", "a/", "/a", "a//b", "UPPER", "-x", "x-", "a".repeat(64), "http://v:8200", "https://v:8200",
        "0.34.1", "^1.0.0",
        "Fail", "Ignore", "clientJwt", "serviceAccountToken", "kubelogin", "spn", "msi", "azurecli", "admin", "adopt", "create", "Spot",
        null, true, false,
        0, -1, 1, 2, 1e9, 3600, Number.MAX_SAFE_INTEGER, 0.5, [], {}, { value: MARKER }, { random: {} }, { secretConfig: "k" }),
    fc.jsonValue({ maxDepth: 3 }),
);
/** One property changed to a plausible value: most results are valid, so the graph gets built. */
const plausible = fc.array(fc.tuple(fc.constantFrom(...LEAF_PATHS), fc.option(fc.constantFrom(
    "*", "x", "api", "aks", "secret", "https://v:8200", "Fail", "Ignore", "clientJwt", "serviceAccountToken", "jwt", "kubernetes",
    "2026-01", true, false, 1, 2, 3, 3600, 7200,
    { mode: "kubelogin", login: "azurecli" }, { mode: "kubelogin", login: "msi" }, { mode: "admin" },
    { name: "api", namespace: "api", serviceAccount: "api", secrets: [{ file: "db", path: "api/db" }] }, { file: "cfg", path: "cfg" },
), { nil: undefined })), { minLength: 1, maxLength: 2 });
const mutation = fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.option(nasty, { nil: undefined })), { minLength: 1, maxLength: 3 });

function mutated(ms: Array<[string, unknown]>): Record<string, any> {
    const raw = labRaw();
    for (const [path, value] of ms) {
        try { setAt(raw, path, value); } catch { /* a path through a scalar: the mutation is a no-op */ }
    }
    return raw;
}

/** Either valid settings or a SettingsError whose problems each name a key, a value and an expectation. */
function outcome(raw: unknown): "valid" | "invalid" {
    try {
        const s = parseSettings(raw);
        // The settings a valid config yields are themselves a valid config (defaults are valid values).
        parseSettings(JSON.parse(JSON.stringify(s)));
        return "valid";
    } catch (err) {
        if (!(err instanceof SettingsError)) throw new Error(`not a SettingsError: ${(err as Error)?.stack ?? String(err)}`);
        assert.ok(err.problems.length > 0, "a SettingsError lists at least one problem");
        for (const p of err.problems) assert.ok(p.key && p.found && p.expected, `incomplete problem ${JSON.stringify(p)}`);
        assert.ok(!err.message.includes(MARKER), "a seeded literal value leaked into the error message");
        return "invalid";
    }
}

describe("config fuzzing (fast-check)", function () {
    this.timeout(120000);

    it("any JSON at all ends in a SettingsError or valid settings", () => {
        fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (raw) => { outcome(raw); }), { numRuns: 400 * SCALE });
        fc.assert(fc.property(fc.anything(), (raw) => { outcome(raw); }), { numRuns: 200 * SCALE });
    });

    it("the lab config with up to three properties broken ends in a SettingsError or valid settings", () => {
        const seen = { valid: 0, invalid: 0 };
        fc.assert(fc.property(mutation, (ms) => { seen[outcome(mutated(ms))]++; }), { numRuns: 600 * SCALE });
        // The fuzzer must reach both sides, or it proves nothing.
        assert.ok(seen.valid > 10 && seen.invalid > 10, JSON.stringify(seen));
    });

    it("every broken-lab config that validates builds a whole graph the cloud accepts", async () => {
        // Generated among the configs that validate: a build under the mocks costs about a second.
        const valid = plausible.filter((ms) => {
            try { parseSettings(mutated(ms)); return true; } catch { return false; }
        });
        await fc.assert(fc.asyncProperty(valid, async (ms) => {
            const settings = parseSettings(mutated(ms));
            const cloud = await useCloud();
            const failures: unknown[] = [];
            const onRejection = (err: unknown) => failures.push(err);
            process.on("unhandledRejection", onRejection);
            try {
                buildProgram(settings, { secretConfig: () => pulumi.secret("from-secret-config"), vaultToken: pulumi.secret("hvs.fuzz") });
                await settle(cloud);
            } finally {
                process.off("unhandledRejection", onRejection);
            }
            assert.deepEqual(failures, []);
            const roles = cloud.of("vault:kubernetes/authBackendRole:AuthBackendRole").length +
                cloud.of("vault:jwt/authBackendRole:AuthBackendRole").length;
            assert.equal(roles, settings.workloads.length, "one Vault role per workload");
            assert.equal(cloud.of("kubernetes:helm.sh/v3:Release").length, 1, "the injector is installed");
        }), { numRuns: 4 * SCALE });
    });
});
