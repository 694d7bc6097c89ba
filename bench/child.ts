/**
 * One measurement, in a fresh process (so peak RSS, module caches and the mock runtime's state
 * never leak between measurements). Prints one JSON line on stdout. Run by bench/run.ts:
 *
 *   child program <N>          evaluate buildProgram with N generated workloads under the mock
 *   child baseline <types>     register the same number and types of resources, no logic
 *   child footprint            the pod annotations the program renders per mode
 *   child load-pulumi | load-program   cold start: time to require the module
 */
import { performance } from "perf_hooks";

// ts-node installed source-map-support, which maps every frame of every captured stack through
// the source maps. The Pulumi runtime captures a stack for each promise it makes (several per
// output property of every resource), so the mapping dominates evaluation time and would push the
// 1000-workload run past ten minutes on a shared 2-core machine. It costs the program and the
// baseline alike; `npm run bench -- --source-maps` keeps it, as `pulumi up` does.
if (process.env.BENCH_SOURCE_MAPS !== "1") (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;

import type { TypeCount } from "./baseline";

type TypeCounts = TypeCount[];

/** CPU time of this process (user + system), ms: what other tenants of a shared machine cannot inflate. */
const cpuMs = (since?: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1000;
};
const rssMb = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

/** `waitForRPCs` is how the Pulumi runtime itself knows a program has finished registering. */
async function settle(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    await (require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }).waitForRPCs();
}

/** A fresh bench mock installed as the Pulumi runtime's monitor. */
async function mocked() {
    const pulumi = await import("@pulumi/pulumi");
    const { BenchMock } = await import("./mock");
    const mock = new BenchMock();
    await pulumi.runtime.setMocks(mock, "aks-vault", "bench", false);
    return { pulumi, mock };
}

async function program(n: number): Promise<void> {
    const { pulumi, mock } = await mocked();
    // Loaded before the clock starts: module loading is the cold-start measurement's business.
    const { buildProgram } = await import("../src/program/program");
    const { parseSettings } = await import("../src/config/validate");
    const { benchSettings } = await import("./workloads");
    const raw = benchSettings(n);

    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const settings = parseSettings(raw);
    const t1 = performance.now();
    buildProgram(settings, { secretConfig: () => pulumi.secret("unused") });
    await settle();
    const t2 = performance.now();

    const types: TypeCounts = [...mock.counts.entries()].map(([type, count]) => ({ type, custom: mock.custom.get(type) ?? true, count }));
    print({ ms: t2 - t0, cpuMs: cpuMs(c0), parseMs: t1 - t0, rssMb: rssMb(), resources: types.reduce((s, t) => s + t.count, 0), types });
}

async function baseline(types: TypeCounts): Promise<void> {
    const { mock } = await mocked();

    const { registerBaseline } = await import("./baseline");

    const c0 = process.cpuUsage();
    const t0 = performance.now();
    registerBaseline(types);
    await settle();
    const t1 = performance.now();
    print({ ms: t1 - t0, cpuMs: cpuMs(c0), rssMb: rssMb(), resources: [...mock.counts.values()].reduce((s, c) => s + c, 0) });
}

async function footprint(): Promise<void> {
    const { pulumi, mock } = await mocked();
    const { buildProgram } = await import("../src/program/program");
    const { parseSettings } = await import("../src/config/validate");
    const { benchSettings } = await import("./workloads");
    // Workloads 0-2 keep the default (init-only), workload 3 asks for a sidecar.
    buildProgram(parseSettings(benchSettings(4)), { secretConfig: () => pulumi.secret("unused") });
    await settle();
    print({ "init-only": mock.podAnnotations.get("app-0000-deploy"), sidecar: mock.podAnnotations.get("app-0003-deploy") });
}

function load(what: "load-pulumi" | "load-program"): void {
    const t0 = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(what === "load-pulumi" ? "@pulumi/pulumi" : "../src/program/program");
    print({ ms: performance.now() - t0, rssMb: rssMb() });
}

async function main(): Promise<void> {
    const [mode, arg] = process.argv.slice(2);
    switch (mode) {
        case "program":
            return program(Number(arg));
        case "baseline":
            return baseline(JSON.parse(arg) as TypeCounts);
        case "footprint":
            return footprint();
        case "load-pulumi":
        case "load-program":
            return load(mode);
        default:
            throw new Error(`unknown measurement ${mode}`);
    }
}

main().then(
    () => process.exit(0),
    (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
    },
);
