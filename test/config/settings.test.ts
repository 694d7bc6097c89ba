/** Settings validation at the edge: bad values stop the program before any resource, naming the key. */
import assert from "node:assert/strict";
import { parseSettings } from "../../src/config/validate";
import { problemLines } from "../support/problems";
import { reference, stackConfig } from "../support/harness";

/** Upstream's default for `disable_iss_validation` (vault-plugin-auth-kubernetes path_config.go), which ours follows. */
function upstreamValidatesIssuer(): boolean {
    const { config: params } = reference<{ config: { name: string; default: unknown }[] }>("vault-plugin-auth-kubernetes/params.json");
    const p = params.find((x) => x.name === "disable_iss_validation");
    assert.equal(typeof p?.default, "boolean");
    return p?.default === false;
}

const dev = () => JSON.parse(JSON.stringify(stackConfig())) as Record<string, any>;

const problems = problemLines;

describe("settings", () => {
    it("accepts the dev stack and fills the documented defaults", () => {
        const s = parseSettings(stackConfig());
        assert.equal(s.injector.chartVersion, "0.34.1");
        assert.equal(s.injector.replicas, 3);
        assert.equal(s.injector.reviewerServiceAccount, undefined, "the default name is the component's (method jwt has no reviewer)");
        assert.equal(s.kubernetesAuth.path, "aks");
        assert.ok(s.kubernetesAuth.method === "kubernetes");
        assert.equal(s.kubernetesAuth.validateIssuer, upstreamValidatesIssuer());
        assert.equal(s.kv.path, "secret");
        assert.equal(s.workloads[0].createNamespace, true);
    });

    it("names the key, the value found and what is expected", () => {
        const raw = dev();
        raw.injector.chartVersion = "^0.34";
        assert.deepEqual(problems(raw), [
            'injector.chartVersion: found "^0.34"; expected an exact chart version such as 0.34.1 (no ranges)',
        ]);
    });

    it("flags the blog's style of typo as an unknown key", () => {
        const raw = dev();
        raw.injector.leaderElector = { enable: true };
        assert.match(problems(raw)[0], /^injector\.leaderElector: found an unknown key/);
    });

    it("refuses a workload namespace that is not a DNS-1123 label", () => {
        const raw = dev();
        raw.workloads[0].namespace = "Busy_Box";
        assert.match(problems(raw)[0], /^workloads\[0\]\.namespace: found "Busy_Box"; expected a DNS-1123 label/);
    });

    it("refuses min above max in a pool", () => {
        const raw = dev();
        raw.cluster.userPools[0].minCount = 6;
        assert.deepEqual(problems(raw), ["cluster.userPools[0].minCount: found 6; expected at most maxCount (5)"]);
    });

    it("never echoes a literal seed value", () => {
        const raw = dev();
        raw.workloads[0].seed[0].values.token = { value: 42 };
        const found = problems(raw);
        assert.equal(found.length, 1);
        assert.ok(!found[0].includes("42"), found[0]);
        assert.match(found[0], /<secret>/);
    });
});

describe("settings defaults for a minimal stack", () => {
    // zod 4's `.default({})` returns the literal without applying inner defaults; the schema uses
    // `.prefault`, and this proves a stack that omits whole sections gets every documented default.
    const minimal = {
        cluster: { mode: "create", name: "c1", resourceGroupName: "rg1", location: "westeurope" },
        vault: { address: "https://vault.example.com:8200" },
    };

    it("fills the injector, auth, KV and pool defaults (docs/configuration.md, generated from the schema)", () => {
        const s = parseSettings(minimal);
        assert.equal(s.injector.namespace, "vault");
        assert.equal(s.injector.chartVersion, "0.34.1");
        assert.equal(s.injector.replicas, 2);
        assert.equal(s.injector.reviewerServiceAccount, undefined, "the default name is the component's (method jwt has no reviewer)");
        assert.equal(s.kubernetesAuth.path, "kubernetes");
        assert.ok(s.kubernetesAuth.method === "kubernetes");
        assert.equal(s.kubernetesAuth.validateIssuer, upstreamValidatesIssuer());
        assert.equal(s.kv.path, "secret");
        assert.equal(s.kv.protect, true);
        assert.equal(s.cluster.mode, "create");
        if (s.cluster.mode !== "create") return;
        assert.equal(s.cluster.systemPool.name, "system");
        assert.equal(s.cluster.systemPool.vmSize, "Standard_D2s_v3");
        assert.equal(s.cluster.systemPool.minCount, 1);
        assert.equal(s.cluster.systemPool.maxCount, 5);
        assert.equal(s.cluster.network.podCidr, "10.244.0.0/16");
        assert.equal(s.cluster.network.dnsServiceIp, "10.0.0.10");
    });
});

describe("injector resources", () => {
    it("override the documented defaults field by field, not as a whole", () => {
        const raw = JSON.parse(JSON.stringify(stackConfig())) as Record<string, any>;
        raw.injector.resources = { requests: { cpu: "100m" } };
        assert.deepEqual(parseSettings(raw).injector.resources, {
            requests: { cpu: "100m", memory: "64Mi" },
            limits: { cpu: "250m", memory: "256Mi" },
        });
    });
});
