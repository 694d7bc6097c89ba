/**
 * Injection modes: the annotations each mode renders, the settings that select them, and the
 * resources Vault Agent containers then make the cluster reserve.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { renderPodAnnotations } from "../../components/annotations";
import { AGENT_RESOURCE_DEFAULTS } from "../../src/agent/agentInjection";
import { VAULT_K8S_AGENT_DEFAULTS, agentFootprint, perPods } from "../../src/agent/agentFootprint";
import { cpuMillicores, memoryMiB } from "../../src/agent/quantity";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { CloudMock } from "../support/cloud";
import { reference, referenceText, settle, stackConfig, useCloud } from "../support/harness";

type AnnotationRef = { annotations: Array<{ name: string; default: string | null }> };
const P = "vault.hashicorp.com/";
const base = { role: "app", authPath: "aks", kvMount: "secret", secrets: [{ file: "config", path: "app", key: "password" }] };

/** Every annotation name must be one vault-k8s knows; `<name>` families match any suffix. */
function unknownNames(annotations: Record<string, string>): string[] {
    const known = reference<AnnotationRef>("vault-k8s/annotations.json").annotations.map((a) => a.name);
    const families = known.filter((n) => n.endsWith("-<name>")).map((n) => n.slice(0, -"<name>".length));
    return Object.keys(annotations).filter((n) => !known.includes(n) && !families.some((f) => n.startsWith(f) && n.length > f.length));
}

function settingsWith(workloads: unknown[]) {
    const cfg = stackConfig();
    return parseSettings({ ...cfg, workloads });
}

describe("injection modes: annotations", () => {
    it("init-only runs the agent only as an init container, with no CPU request", () => {
        const a = renderPodAnnotations({ ...base, injection: { mode: "init-only" } });
        assert.equal(a[`${P}agent-pre-populate-only`], "true");
        assert.equal(a[`${P}agent-pre-populate`], undefined, "the init container must stay on (default true)");
        assert.equal(a[`${P}agent-requests-cpu`], "0");
        assert.equal(a[`${P}agent-requests-mem`], "48Mi");
        assert.equal(a[`${P}agent-limits-cpu`], "500m");
        assert.equal(a[`${P}agent-limits-mem`], "128Mi");
        assert.deepEqual(unknownNames(a), []);
    });

    it("sidecar keeps the agent running, with right-sized requests", () => {
        const a = renderPodAnnotations({ ...base, injection: { mode: "sidecar" } });
        assert.equal(a[`${P}agent-pre-populate-only`], undefined);
        assert.equal(a[`${P}agent-requests-cpu`], "25m");
        assert.equal(a[`${P}agent-requests-mem`], "48Mi");
        assert.deepEqual(unknownNames(a), []);
    });

    it("defaults to init-only", () => {
        assert.deepEqual(renderPodAnnotations(base), renderPodAnnotations({ ...base, injection: { mode: "init-only" } }));
    });

    it("applies resource overrides field by field over the mode's defaults", () => {
        const a = renderPodAnnotations({
            ...base,
            injection: { mode: "sidecar", resources: { requests: { cpu: "50m" }, limits: { memory: "256Mi" } } },
        });
        assert.equal(a[`${P}agent-requests-cpu`], "50m");
        assert.equal(a[`${P}agent-requests-mem`], "48Mi");
        assert.equal(a[`${P}agent-limits-cpu`], "500m");
        assert.equal(a[`${P}agent-limits-mem`], "256Mi");
    });

    it("the name check catches a mistyped annotation", () => {
        assert.deepEqual(
            unknownNames({ [`${P}agent-prepopulate-only`]: "true", [`${P}agent-inject-secret-x`]: "p" }),
            [`${P}agent-prepopulate-only`],
        );
    });
});

describe("injection modes: settings", () => {
    it("the dev stack's busybox (a static KV secret) is init-only", () => {
        const s = parseSettings(stackConfig());
        assert.deepEqual(s.workloads[0].injection, { mode: "init-only" });
    });

    it("accepts sidecar with resources", () => {
        const s = settingsWith([{
            name: "a",
            namespace: "a",
            serviceAccount: "a",
            injection: { mode: "sidecar", resources: { requests: { cpu: "10m", memory: "32Mi" } } },
        }]);
        assert.deepEqual(s.workloads[0].injection, { mode: "sidecar", resources: { requests: { cpu: "10m", memory: "32Mi" } } });
    });

    for (const [what, injection, key, expected] of [
        ["an unknown mode", { mode: "daemon" }, "workloads[0].injection.mode", /init-only/],
        ["a bad quantity", { resources: { requests: { memory: "48MB" } } }, "workloads[0].injection.resources.requests.memory", /./],
        [
            "a request above the limit",
            { mode: "sidecar", resources: { requests: { cpu: "1" } } },
            "workloads[0].injection.resources.requests.cpu",
            /^at most the CPU limit \(\d+m?\)$/,
        ],
        [
            "a request above the default limit",
            { resources: { requests: { memory: "256Mi" } } },
            "workloads[0].injection.resources.requests.memory",
            /^at most the memory limit \(\d+Mi\)$/,
        ],
    ] as const) {
        it(`rejects ${what}, naming the key`, () => {
            assert.throws(
                () => settingsWith([{ name: "a", namespace: "a", serviceAccount: "a", injection }]),
                (e: unknown) => e instanceof SettingsError && e.problems.some((p) => p.key === key && expected.test(p.expected)),
            );
        });
    }
});

describe("agent footprint", () => {
    it("uses vault-k8s's real defaults when no resource annotation is set", () => {
        const refs = reference<AnnotationRef>("vault-k8s/annotations.json").annotations;
        const dflt = (n: string) => String(refs.find((a) => a.name === `${P}${n}`)?.default).split(" ")[0];
        assert.equal(VAULT_K8S_AGENT_DEFAULTS.requests.cpu, dflt("agent-requests-cpu"));
        assert.equal(VAULT_K8S_AGENT_DEFAULTS.requests.memory, dflt("agent-requests-mem"));
        assert.equal(VAULT_K8S_AGENT_DEFAULTS.limits.cpu, dflt("agent-limits-cpu"));
        assert.equal(VAULT_K8S_AGENT_DEFAULTS.limits.memory, dflt("agent-limits-mem"));
        const chart = (parse(referenceText("vault-helm/0.34.1/values.yaml")) as { injector: { agentDefaults: Record<string, string> } })
            .injector.agentDefaults;
        assert.deepEqual(
            [chart.cpuRequest, chart.memRequest, chart.cpuLimit, chart.memLimit],
            [
                VAULT_K8S_AGENT_DEFAULTS.requests.cpu,
                VAULT_K8S_AGENT_DEFAULTS.requests.memory,
                VAULT_K8S_AGENT_DEFAULTS.limits.cpu,
                VAULT_K8S_AGENT_DEFAULTS.limits.memory,
            ],
        );
    });

    it("vault-k8s defaults: a sidecar holding 250m / 64Mi per pod, 25 CPUs per 100 pods", () => {
        const fp = agentFootprint({ [`${P}agent-inject`]: "true", [`${P}role`]: "app" });
        assert.deepEqual(fp.containers, { init: true, sidecar: true });
        assert.deepEqual(perPods(fp.steadyState), { cpuMillicores: 25000, memMiB: 6400 });
    });

    it("init-only as rendered: no CPU; the memory request only where it exceeds the app's", () => {
        const a = renderPodAnnotations(base);
        const fp = agentFootprint(a);
        assert.deepEqual(fp.containers, { init: true, sidecar: false });
        assert.deepEqual(perPods(fp.steadyState), { cpuMillicores: 0, memMiB: 4800 });
        // Kubernetes schedules on max(init, sum(app)): an app asking more absorbs the init container.
        assert.deepEqual(agentFootprint(a, { appRequests: { cpuMillicores: 100, memMiB: 128 } }).steadyState, {
            cpuMillicores: 0,
            memMiB: 0,
        });
        assert.deepEqual(agentFootprint(a, { appRequests: { cpuMillicores: 0, memMiB: 16 } }).steadyState, {
            cpuMillicores: 0,
            memMiB: 32,
        });
    });

    it("sidecar as rendered: its requests on top of the app's, whatever the app asks", () => {
        const a = renderPodAnnotations({ ...base, injection: { mode: "sidecar" } });
        assert.deepEqual(perPods(agentFootprint(a).steadyState), { cpuMillicores: 2500, memMiB: 4800 });
        assert.deepEqual(agentFootprint(a, { appRequests: { cpuMillicores: 500, memMiB: 512 } }).steadyState, {
            cpuMillicores: 25,
            memMiB: 48,
        });
    });

    it("follows the injector's semantics at the edges", () => {
        assert.deepEqual(agentFootprint({ [`${P}role`]: "app" }).steadyState, { cpuMillicores: 0, memMiB: 0 }, "no agent-inject: no agent");
        assert.deepEqual(agentFootprint({ [`${P}agent-inject`]: "false" }).containers, { init: false, sidecar: false });
        // pre-populate off: the sidecar alone.
        const noInit = agentFootprint({ [`${P}agent-inject`]: "1", [`${P}agent-pre-populate`]: "f" });
        assert.deepEqual(noInit.containers, { init: false, sidecar: true });
        // An empty request leaves the field unset, and Kubernetes copies the limit into it.
        const empty = agentFootprint({ [`${P}agent-inject`]: "true", [`${P}agent-requests-cpu`]: "", [`${P}agent-limits-cpu`]: "1" });
        assert.equal(empty.steadyState.cpuMillicores, 1000);
        // The chart's agentDefaults replace vault-k8s's for absent annotations.
        const chartDefaults = { requests: { cpu: "100m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } };
        assert.deepEqual(
            agentFootprint({ [`${P}agent-inject`]: "true" }, { defaults: chartDefaults }).steadyState,
            { cpuMillicores: 100, memMiB: 32 },
        );
        assert.throws(() => agentFootprint({ [`${P}agent-inject`]: "yes" }), /agent-inject: "yes"/);
    });

    it("reads Kubernetes quantities in every notation", () => {
        assert.equal(cpuMillicores("250m"), 250);
        assert.equal(cpuMillicores("0.1"), 100);
        assert.equal(cpuMillicores("2"), 2000);
        assert.equal(cpuMillicores("1e-1"), 100);
        assert.equal(memoryMiB("64Mi"), 64);
        assert.equal(memoryMiB("1.5Gi"), 1536);
        assert.equal(memoryMiB("1024Ki"), 1);
        assert.equal(memoryMiB("134217728"), 128);
        assert.equal(memoryMiB("128M"), 122.070313);
        assert.throws(() => memoryMiB("64MB"), /not a Kubernetes quantity/);
    });

    it("the mode defaults meet the targets: no steady agent CPU for init-only, a tenth of the default for sidecar", () => {
        for (const mode of ["init-only", "sidecar"] as const) {
            const r = AGENT_RESOURCE_DEFAULTS[mode];
            assert.ok(
                cpuMillicores(r.requests.cpu) <= cpuMillicores(r.limits.cpu) && memoryMiB(r.requests.memory) <= memoryMiB(r.limits.memory),
                mode,
            );
        }
        assert.equal(agentFootprint(renderPodAnnotations(base)).steadyState.cpuMillicores, 0);
        assert.ok(agentFootprint(renderPodAnnotations({ ...base, injection: { mode: "sidecar" } })).steadyState.cpuMillicores <= 25);
    });
});

describe("injection modes: what reaches Kubernetes", () => {
    let cloud: CloudMock;

    before(async () => {
        cloud = await useCloud();
        const deployment = { image: "busybox:1.36" };
        const secrets = [{ file: "token", path: "devops", key: "token" }];
        const settings = settingsWith([
            // One path, owned by static and shared with rotating.
            {
                name: "static",
                namespace: "static",
                serviceAccount: "static",
                secrets: [{ ...secrets[0], sharedWith: ["rotating"] }],
                deployment,
            },
            {
                name: "rotating",
                namespace: "rotating",
                serviceAccount: "rotating",
                secrets: [{ ...secrets[0], from: "static" }],
                deployment,
                injection: { mode: "sidecar" },
            },
        ]);
        buildProgram(settings, { secretConfig: () => "unused" });
        await settle(cloud);
    });

    const podAnnotations = (name: string) =>
        ((cloud.one("kubernetes:apps/v1:Deployment", `${name}-deploy`).inputs as {
            spec: { template: { metadata: { annotations: Record<string, string> } } };
        }).spec.template.metadata.annotations);

    it("renders each workload's mode into its Deployment's pod template", () => {
        assert.equal(podAnnotations("static")[`${P}agent-pre-populate-only`], "true");
        assert.equal(podAnnotations("rotating")[`${P}agent-pre-populate-only`], undefined);
        for (const w of ["static", "rotating"]) assert.deepEqual(unknownNames(podAnnotations(w)), []);
    });

    it("the deployed static workload reserves no agent CPU; the rotating one its sidecar's", () => {
        assert.equal(agentFootprint(podAnnotations("static")).steadyState.cpuMillicores, 0);
        assert.deepEqual(agentFootprint(podAnnotations("rotating")).steadyState, { cpuMillicores: 25, memMiB: 48 });
    });
});
