/**
 * The documented tear-down (docs/security.md: unprotect the KV mount on purpose, then destroy),
 * top-down through the staged runner, and what is left: no Vault mount, role or policy of the
 * stack and no Kubernetes object, except what docs/data-safety.md says is retained (a shared
 * namespace whose creator was removed), which must really still be there.
 */
import { Checks, waitFor } from "../checks";
import { Day2, Settings } from "./context";

export async function destroyTopDown(d: Day2, checks: Checks): Promise<void> {
    const s = d.settings;
    const scope = d.scope();
    const injectorNs = s.injector?.namespace ?? "vault";
    const release = s.injector?.releaseName ?? "vault";
    const before = await d.snapshot();
    // Namespaces no workload of the current settings creates, but which exist: retained by the doc's rule.
    const created = new Set<string>(s.workloads.filter((w: Settings) => w.createNamespace !== false).map((w: Settings) => w.namespace));
    const retained = scope.namespaces.filter((n) => n !== injectorNs && !created.has(n) && before.get(`k8s namespace ${n}`) !== "absent");

    await d.up(d.edit((x) => (x.kv = { ...(x.kv ?? {}), protect: false })));
    const result = await d.runner.run(d.settings, { operation: "destroy" });
    checks.equal("destroyed top-down, one stage at a time",
        result.stages.filter((r) => r.status === "done").map((r) => r.stage), ["workloads", "vault-auth", "injector", "cluster"]);

    for (const ns of scope.namespaces.filter((n) => !retained.includes(n))) {
        await checks.attempt(`namespace ${ns} is gone`, async () => {
            await waitFor(`namespace ${ns} to be deleted`, () => (d.kube.get("namespace", ns) === undefined ? true : undefined), 120000);
        });
    }
    for (const ns of retained) {
        const key = `k8s namespace ${ns}`;
        const now = d.kube.get("namespace", ns);
        const uid = now === undefined ? "absent" : `uid ${now.metadata.uid}`;
        checks.equal(`retained namespace ${ns} is still there (same uid)`, uid, before.get(key));
        const left = [...d.kube.list("serviceaccount", ns), ...d.kube.list("deployment", ns)].map((o) => `${o.kind}/${o.metadata.name}`)
            .filter((n) => n !== "ServiceAccount/default");
        checks.equal(`nothing of the stack left in ${ns}`, left, []);
    }
    const webhook = d.kube.get("mutatingwebhookconfiguration", `${release}-agent-injector-cfg`);
    checks.that("no webhook configuration is left", webhook === undefined);
    const crbs = d.kube.list("clusterrolebinding")
        .filter((b) => b.roleRef?.name === "system:auth-delegator" && b.metadata.name !== "system:auth-delegator");
    checks.equal("no auth-delegator binding is left", crbs.map((b) => b.metadata.name), []);
    const auths = Object.keys((await d.vault.read("sys/auth")).data);
    checks.that(`auth mount ${s.kubernetesAuth.path}/ is gone`, !auths.includes(`${s.kubernetesAuth.path}/`), auths.join(", "));
    const mounts = Object.keys((await d.vault.read("sys/mounts")).data);
    checks.that(`KV mount ${scope.kvMount}/ is gone (unprotected on purpose)`, !mounts.includes(`${scope.kvMount}/`), mounts.join(", "));
    const policies: string[] = (await d.vault.read("sys/policies/acl?list=true")).data.keys;
    checks.equal("only Vault's own policies are left", policies.filter((p) => p !== "default" && p !== "root"), []);
    // The retained namespace is the operator's now (docs/data-safety.md): removed by hand here.
    for (const ns of retained) d.kube.run(["delete", "namespace", ns, "--wait=false"]);
}
