/**
 * `doctor` on the real local stack: the healthy deploy, then each fault it claims to diagnose that
 * can be produced here, broken for real, with the finding and its fix asserted, and the fix
 * applied as the doctor words it (a fix that does not repair is a failure).
 */
import { readFileSync } from "fs";
import { doctor } from "../../../../src/doctor";
import type { Check, DoctorReport } from "../../../../src/doctor/types";
import { Checks, waitFor } from "../checks";
import { Day2, Settings } from "./context";

async function report(d: Day2): Promise<DoctorReport> {
    const outputs = (await d.runner.run(d.settings, { operation: "outputs" })).outputs ?? {};
    return doctor({
        outputs,
        kubeconfig: { text: readFileSync(d.env.kubeconfig, "utf8"), source: { kind: "file", label: "--kubeconfig (e2e admin)" } },
        vault: { address: d.env.vaultAddr, token: d.env.vaultToken },
    });
}

const failing = (r: DoctorReport) => r.checks.filter((c) => c.status === "fail");
const line = (c: Check) => `${c.id} ${c.target}: ${c.detail}`;

/**
 * Each fault's finding, and that the fix it gives repairs it. `breakIt` breaks, `expect` picks the
 * finding, `fix` applies the doctor's own fix.
 */
async function fault(
    d: Day2, checks: Checks, name: string, breakIt: () => Promise<void>, expect: (c: Check) => boolean,
    fixPattern: RegExp, fix: () => Promise<void>, baseline: string[],
): Promise<void> {
    await breakIt();
    const broken = await report(d);
    const found = failing(broken).find(expect);
    checks.that(`${name}: the doctor names it`, found !== undefined, failing(broken).map(line).join(" | ") || "no failing check");
    checks.that(`${name}: with its fix`, found?.fix !== undefined && fixPattern.test(found.fix), found?.fix ?? "no fix");
    await fix();
    const after = await report(d);
    // Repaired: no failing check beyond those of the healthy deploy (reported by their own check).
    checks.equal(`${name}: its fix repairs it`, failing(after).map(line).filter((l) => !baseline.includes(l)), []);
}

export async function doctorScenario(d: Day2, checks: Checks): Promise<void> {
    const healthy = await report(d);
    const baseline = failing(healthy).map(line);
    checks.equal("all checks pass on the healthy deploy", baseline, []);
    const auth = d.settings.kubernetesAuth.path;
    const w: Settings = d.settings.workloads[0];
    const role = w.role ?? w.name;

    // A role bound to another namespace (the doctor's own sample).
    await fault(d, checks, "wrong role binding", async () => {
        const r = await d.vault.call("POST", `auth/${auth}/role/${role}`, { bound_service_account_namespaces: ["default"] });
        if (r.status >= 300) throw new Error(`vault write role: ${r.status} ${r.error}`);
    }, (c) => c.id === "vault.role" && c.target.endsWith(`/role/${role}`), /`aks-vault refresh`.*`aks-vault up`/, async () => {
        await d.up(d.settings, { operation: "refresh" });
        await d.up(d.settings);
    }, baseline);

    // The reviewer's token Secret deleted.
    const ns = d.settings.injector?.namespace ?? "vault";
    await fault(d, checks, "deleted token Secret", async () => {
        const s = d.kube.list("secret", ns).find((x) => x.type === "kubernetes.io/service-account-token");
        if (s === undefined) throw new Error(`no service-account-token Secret in ${ns}`);
        d.kube.run(["delete", "secret", s.metadata.name, "-n", ns]);
    }, (c) => c.id === "reviewer.token", /refresh.*up/, async () => {
        await d.up(d.settings, { operation: "refresh" });
        await d.up(d.settings);
    }, baseline);

    // The webhook not reaching the namespace: the injection label removed, a pod recreated unmutated.
    await fault(d, checks, "webhook not reaching the namespace", async () => {
        const labels = d.kube.get("namespace", w.namespace)?.metadata?.labels ?? {};
        const key = Object.keys(labels).find((k) => /vault|inject/.test(k));
        if (key === undefined) throw new Error(`namespace ${w.namespace} carries no injection label: ${JSON.stringify(labels)}`);
        d.kube.run(["label", "namespace", w.namespace, `${key}-`]);
        d.kube.run(["delete", "pod", "-n", w.namespace, "-l", `app=${w.name}`, "--wait=true"]);
        await waitFor(`a new pod of ${w.name}`, () => d.kube.list("pod", w.namespace, `app=${w.name}`)
            .find((p) => p.status?.phase === "Running") ?? undefined, 120000);
    }, (c) => c.id === "pod.injected", /rollout restart/, async () => {
        await d.up(d.settings, { operation: "refresh" });
        await d.up(d.settings);
        d.kube.run(["-n", w.namespace, "rollout", "restart", `deployment/${w.name}`]);
        d.kube.run(["-n", w.namespace, "rollout", "status", `deployment/${w.name}`, "--timeout=120s"]);
        const one = () => (d.kube.list("pod", w.namespace, `app=${w.name}`).length === 1 ? true : undefined);
        await waitFor("the old pods gone", one, 120000);
    }, baseline);
}

/**
 * The doctor on the JWT stack: healthy, then a role whose `bound_audiences` no longer holds the
 * stack's audience (the audience fault it claims to diagnose: `vault.role` (jwt) in docs/doctor.md),
 * with its fix applied as worded.
 */
export async function doctorJwtScenario(d: Day2, checks: Checks): Promise<void> {
    const healthy = await report(d);
    const baseline = failing(healthy).map(line);
    checks.equal("all checks pass on the healthy JWT deploy", baseline, []);
    const auth = d.settings.kubernetesAuth.path;
    const w: Settings = d.settings.workloads[0];
    const role = w.role ?? w.name;
    await fault(d, checks, "wrong audience", async () => {
        // The JWT plugin replaces a role on write (an absent role_type reads as oidc): the whole role, one field changed.
        const live = (await d.vault.read(`auth/${auth}/role/${role}`)).data;
        const r = await d.vault.call("POST", `auth/${auth}/role/${role}`, { ...live, bound_audiences: ["https://elsewhere.example/"] });
        if (r.status >= 300) throw new Error(`vault write role: ${r.status} ${r.error}`);
    }, (c) => c.id === "vault.role" && c.target.endsWith(`/role/${role}`) && /bound_audiences/.test(c.detail),
    /`aks-vault refresh`.*`aks-vault up`/, async () => {
        await d.up(d.settings, { operation: "refresh" });
        await d.up(d.settings);
    }, baseline);
}
