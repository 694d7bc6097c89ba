/**
 * The chart values we send to Helm, checked against the vault chart's own values.yaml for both
 * supported versions: the chart schema accepts unknown keys and Helm ignores them silently.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { leafPaths, unknownChartKeys } from "../../policies/chartKeys";
import { renderInjectorValues } from "../../components/injectorValues";
import { reference, referenceText } from "../support/harness";

const VERSIONS = ["0.25.0", "0.34.1"];
const defaults = (v: string) => parse(referenceText(`vault-helm/${v}/values.yaml`)) as Record<string, unknown>;

const full = renderInjectorValues({
    externalVaultAddr: "https://vault.mydomain.com:8200",
    replicas: 3,
    authPath: "aks",
    logLevel: "debug",
    logFormat: "json",
    imageTag: "1.7.6",
    agentImageTag: "2.0.4",
    nodeSelector: { "kubernetes.io/os": "linux" },
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "256Mi" } },
});

describe("vault chart values", () => {
    for (const v of VERSIONS) {
        it(`uses only keys that chart ${v} defines`, () => {
            assert.deepEqual(unknownChartKeys(full, defaults(v)), []);
        });
    }

    it("catches the blog's two mistyped keys", () => {
        const blog = { injector: { leaderElector: { enable: true } }, server: { serviceaccount: { create: false } } };
        for (const v of VERSIONS) {
            assert.deepEqual(unknownChartKeys(blog, defaults(v)), ["injector.leaderElector.enable", "server.serviceaccount.create"]);
        }
        const typos = reference<{ typo_keys_from_blog: Array<{ key: string }> }>("vault-helm/injector-keys.json")
            .typo_keys_from_blog.map((t) => t.key);
        assert.deepEqual(typos.sort(), ["injector.leaderElector.enable", "server.serviceaccount.create"]);
    });

    it("accepts user maps under free-form chart keys (nodeSelector, resources)", () => {
        assert.ok(leafPaths(full).includes("injector.nodeSelector.kubernetes.io/os"));
        assert.ok(leafPaths(full).includes("injector.resources.requests.cpu"));
    });

    it("points the injector at the external Vault through global.externalVaultAddr, not the deprecated key", () => {
        const g = full.global as Record<string, unknown>;
        const inj = full.injector as Record<string, unknown>;
        assert.equal(g.externalVaultAddr, "https://vault.mydomain.com:8200");
        assert.equal(inj.externalVaultAddr, undefined);
        assert.equal(inj.failurePolicy, undefined, "injector.failurePolicy is deprecated and overridden by webhook.failurePolicy");
    });

    it("runs the injector only: no Vault server, no CSI, no UI, no unused chart service account", () => {
        assert.deepEqual(full.server, { enabled: false, serviceAccount: { create: false }, authDelegator: { enabled: false } });
        assert.deepEqual(full.csi, { enabled: false });
        assert.deepEqual(full.ui, { enabled: false });
        const inj = full.injector as Record<string, any>;
        assert.equal(inj.enabled, true);
        assert.equal(inj.replicas, 3);
        assert.deepEqual(inj.leaderElector, { enabled: true });
        assert.equal(inj.authPath, "auth/aks");
        assert.deepEqual(inj.image, { tag: "1.7.6" });
        assert.deepEqual(inj.agentImage, { tag: "2.0.4" });
    });

    it("leaves image tags to the chart when none are configured", () => {
        const v = renderInjectorValues({
            externalVaultAddr: "https://v:8200",
            replicas: 2,
            authPath: "kubernetes",
            logLevel: "info",
            logFormat: "standard",
            nodeSelector: {},
            resources: {},
        });
        const inj = v.injector as Record<string, unknown>;
        assert.equal(inj.image, undefined);
        assert.equal(inj.agentImage, undefined);
        assert.equal(inj.nodeSelector, undefined);
    });
});
