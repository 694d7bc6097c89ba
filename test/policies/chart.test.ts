/** Vault chart policies: exact version, HA injector, known chart keys (and the embedded key list). */
import assert from "node:assert/strict";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { vaultChartVersionPinned } from "../../policies/vault-chart-version-pinned";
import { vaultInjectorHighAvailability } from "../../policies/vault-injector-high-availability";
import { vaultChartValuesKnownKeys } from "../../policies/vault-chart-values-known-keys";
import { chartKeysFromReference, renderChartKeys } from "../../scripts/chartKeyTree";
import { unknownChartKeys } from "../../policies/chartKeys";
import { renderInjectorValues } from "../../components/injectorValues";
import { REFERENCE, ROOT } from "../support/harness";
import { resourceViolations } from "../support/policyHarness";
import { clone, vaultRelease } from "../support/policyFixtures";

type Values = Record<string, Record<string, unknown>>;
const valuesOf = (r: { props: Record<string, unknown> }) => r.props.values as Values;

describe("policy vault-chart-version-pinned", () => {
    const policy = vaultChartVersionPinned();

    it("passes an exact version", async () => {
        assert.deepEqual(await resourceViolations(policy, vaultRelease()), []);
    });

    it("fails a missing version", async () => {
        const r = clone(vaultRelease());
        delete r.props.version;
        assert.deepEqual(await resourceViolations(policy, r), [
            "The vault chart has no version, so Helm installs whatever is newest. " +
                "Set `version` to an exact chart version such as 0.34.1 (`injector.chartVersion`).",
        ]);
    });

    for (const version of ["^0.34.0", "0.34", ">=0.25.0", "0.34.x"]) {
        it(`fails the range ${version}`, async () => {
            const r = clone(vaultRelease());
            r.props.version = version;
            assert.deepEqual(await resourceViolations(policy, r), [
                `The vault chart version "${version}" is not exact. ` +
                    "Set `version` to an exact chart version such as 0.34.1 (`injector.chartVersion`).",
            ]);
        });
    }

    it("recognises the chart as hashicorp/vault or an OCI reference too", async () => {
        for (const chart of ["hashicorp/vault", "oci://registry.example.com/charts/vault"]) {
            const r = clone(vaultRelease());
            r.props.chart = chart;
            r.props.version = "0.34";
            assert.equal((await resourceViolations(policy, r)).length, 1, chart);
        }
    });

    it("leaves other charts alone", async () => {
        const r = clone(vaultRelease());
        r.props.chart = "ingress-nginx";
        delete r.props.version;
        assert.deepEqual(await resourceViolations(policy, r), []);
    });
});

describe("policy vault-injector-high-availability", () => {
    const policy = vaultInjectorHighAvailability();

    it("passes 2 replicas with leader election", async () => {
        assert.deepEqual(await resourceViolations(policy, vaultRelease()), []);
    });

    it("fails 1 replica", async () => {
        const r = clone(vaultRelease());
        valuesOf(r).injector.replicas = 1;
        assert.deepEqual(await resourceViolations(policy, r), [
            "The injector runs 1 replica(s); at least 2 are required. " +
                "Set the chart value `injector.replicas` to 2 or more (`injector.replicas` in stack config).",
        ]);
    });

    it("fails an unset replica count (the chart's default is 1)", async () => {
        const r = clone(vaultRelease());
        delete valuesOf(r).injector.replicas;
        assert.deepEqual(await resourceViolations(policy, r), [
            "The injector runs 1 replica(s); at least 2 are required. " +
                "Set the chart value `injector.replicas` to 2 or more (`injector.replicas` in stack config).",
        ]);
    });

    it("reads minReplicas from the pack config", async () => {
        assert.deepEqual(await resourceViolations(policy, vaultRelease(), { minReplicas: 3 }), [
            "The injector runs 2 replica(s); at least 3 are required. " +
                "Set the chart value `injector.replicas` to 3 or more (`injector.replicas` in stack config).",
        ]);
        assert.equal((policy.configSchema?.properties.minReplicas as { default?: number }).default, 2);
    });

    it("fails leader election turned off", async () => {
        const r = clone(vaultRelease());
        valuesOf(r).injector.leaderElector = { enabled: false };
        assert.deepEqual(await resourceViolations(policy, r), [
            "Injector leader election is off. Set the chart value `injector.leaderElector.enabled` to true.",
        ]);
    });
});

describe("policy vault-chart-values-known-keys", () => {
    const policy = vaultChartValuesKnownKeys();

    it("passes the values the program renders, for both reference chart versions", async () => {
        const values = renderInjectorValues({
            externalVaultAddr: "https://vault.mydomain.com:8200", replicas: 2, authPath: "aks", logLevel: "info", logFormat: "json",
            imageTag: "1.7.6", agentImageTag: "1.20.0", nodeSelector: { pool: "system" }, resources: { limits: { cpu: "250m" } },
        });
        for (const version of ["0.25.0", "0.34.1"]) {
            const r = clone(vaultRelease());
            r.props.version = version;
            r.props.values = values;
            assert.deepEqual(await resourceViolations(policy, r), [], version);
        }
    });

    it("fails the blog's mistyped keys, naming each", async () => {
        const r = clone(vaultRelease());
        valuesOf(r).injector.leaderElector = { enable: true };
        valuesOf(r).server.serviceaccount = { create: false };
        // The keys as the shared checker reports them against the chart's own values.yaml.
        const defaults = parse(
            readFileSync(path.join(REFERENCE, "vault-helm", "0.34.1", "values.yaml"), "utf8"),
        ) as Record<string, unknown>;
        const keys = unknownChartKeys(valuesOf(r), defaults);
        assert.equal(keys.length, 2);
        assert.equal(keys[0], "injector.leaderElector.enable");
        assert.match(keys[1], /^server\.serviceaccount/);
        assert.deepEqual(await resourceViolations(policy, r), keys.map((k) =>
            `Chart value \`${k}\` is not defined by vault chart 0.34.1; Helm would ignore it. Fix the key's spelling or remove it.`));
    });

    it("fails a chart version it has no key list for", async () => {
        const r = clone(vaultRelease());
        r.props.version = "0.99.0";
        assert.deepEqual(await resourceViolations(policy, r), [
            'No key list for vault chart version "0.99.0" (known: 0.25.0, 0.34.1). ' +
                "Pin a known version, or add its values.yaml to the reference and run `npm run generate:chart-keys`.",
        ]);
    });
});

describe("policies/chartKeys.generated.json", () => {
    it("is up to date with ../shared/reference/vault-helm (else run npm run generate:chart-keys)", () => {
        const expected = renderChartKeys(chartKeysFromReference(path.join(REFERENCE, "vault-helm")));
        assert.equal(readFileSync(path.join(ROOT, "policies", "chartKeys.generated.json"), "utf8"), expected);
    });

    it("accepts and rejects exactly what the chart's own values.yaml does", () => {
        const embedded = JSON.parse(
            readFileSync(path.join(ROOT, "policies", "chartKeys.generated.json"), "utf8"),
        ) as { versions: Record<string, Record<string, unknown>> };
        const defaults = parse(
            readFileSync(path.join(REFERENCE, "vault-helm", "0.34.1", "values.yaml"), "utf8"),
        ) as Record<string, unknown>;
        const probe = {
            injector: { replicas: 2, leaderElector: { enable: true, enabled: true }, nodeSelector: { anything: "goes" }, bogus: 1 },
            server: { serviceaccount: {}, serviceAccount: { create: false } },
            global: { externalVaultAddr: "x" },
        };
        assert.deepEqual(unknownChartKeys(probe, embedded.versions["0.34.1"]), unknownChartKeys(probe, defaults));
        assert.deepEqual(unknownChartKeys(probe, defaults), ["injector.leaderElector.enable", "injector.bogus", "server.serviceaccount"]);
    });
});
