/**
 * What the real systems hold, flattened to `key -> value` so two moments can be compared byte for
 * byte: every KV v2 version (metadata and data) of the stack's mount, the Kubernetes objects of the
 * namespaces the stack touches (by uid, Secrets by content too), and Vault's auth mounts, policies
 * and roles. Read from the API server and Vault directly, never from Pulumi's state.
 */
import { createHash } from "crypto";
import { Kube, Vault } from "../systems";

export type Snapshot = Map<string, string>;

export interface Scope {
    kvMount: string;
    authPaths: string[];
    /** Namespaces whose objects are recorded (a missing one is recorded as absent). */
    namespaces: string[];
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

/** Every KV v2 path under `mount`, depth first (`metadata/?list=true`). */
async function kvPaths(vault: Vault, mount: string, prefix = ""): Promise<string[]> {
    const r = await vault.call("LIST", `${mount}/metadata/${prefix}`);
    if (r.status === 404) return [];
    if (r.status !== 200) throw new Error(`vault list ${mount}/metadata/${prefix}: ${r.status} ${r.error}`);
    const out: string[] = [];
    for (const k of r.body.data.keys as string[]) {
        if (k.endsWith("/")) out.push(...(await kvPaths(vault, mount, `${prefix}${k}`)));
        else out.push(`${prefix}${k}`);
    }
    return out;
}

/**
 * `kv <mount>/<path> v<N>` holds `created_time deletion_time destroyed` and the version's data as
 * Vault returns it (JSON), or `deleted` for a soft-deleted version.
 */
async function kvSnapshot(vault: Vault, mount: string, snap: Snapshot): Promise<void> {
    const mounts = (await vault.read("sys/mounts")).data;
    const m = mounts[`${mount}/`];
    snap.set(`vault mount ${mount}/`, m === undefined ? "absent" : `${m.type} v${m.options?.version} ${m.accessor}`);
    if (m === undefined) return;
    for (const p of await kvPaths(vault, mount)) {
        const meta = (await vault.read(`${mount}/metadata/${p}`)).data;
        for (const [v, info] of Object.entries(meta.versions as Record<string, any>)) {
            const data = await vault.call("GET", `${mount}/data/${p}?version=${v}`);
            const value = data.status === 200 ? JSON.stringify(data.body.data.data) : `status ${data.status}`;
            const state = `${info.created_time} deleted=${info.deletion_time || "-"} destroyed=${info.destroyed}`;
            snap.set(`kv ${mount}/${p} v${v}`, `${state} ${value}`);
        }
    }
}

async function vaultSnapshot(vault: Vault, scope: Scope, snap: Snapshot): Promise<void> {
    const auths = (await vault.read("sys/auth")).data;
    for (const p of scope.authPaths) {
        const a = auths[`${p}/`];
        snap.set(`vault auth ${p}/`, a === undefined ? "absent" : `${a.type} ${a.accessor}`);
        if (a === undefined) continue;
        const roles = await vault.call("LIST", `auth/${p}/role`);
        for (const r of (roles.body.data?.keys ?? []) as string[]) {
            snap.set(`vault role ${p}/${r}`, JSON.stringify((await vault.read(`auth/${p}/role/${r}`)).data));
        }
    }
    const policies: string[] = (await vault.read("sys/policies/acl?list=true")).data.keys;
    for (const name of policies.filter((n) => n !== "root" && n !== "default")) {
        snap.set(`vault policy ${name}`, (await vault.read(`sys/policies/acl/${name}`)).data.policy);
    }
}

function kubeSnapshot(kube: Kube, scope: Scope, snap: Snapshot): void {
    for (const ns of scope.namespaces) {
        const n = kube.get("namespace", ns);
        snap.set(`k8s namespace ${ns}`, n === undefined ? "absent" : `uid ${n.metadata.uid}`);
        if (n === undefined) continue;
        for (const kind of ["serviceaccount", "deployment", "secret", "rolebinding"]) {
            for (const o of kube.list(kind, ns)) {
                const name: string = o.metadata.name;
                // The API server's own and Helm's bookkeeping: not data this stack keeps.
                if (kind === "serviceaccount" && name === "default") continue;
                if (kind === "secret" && (o.metadata.labels?.owner === "helm" || o.type === "kubernetes.io/dockerconfigjson")) continue;
                const extra = kind === "secret" ? ` data ${sha(JSON.stringify(o.data ?? {}))}` : "";
                snap.set(`k8s ${kind} ${ns}/${name}`, `uid ${o.metadata.uid}${extra}`);
            }
        }
    }
    for (const b of kube.list("clusterrolebinding").filter((b) => b.roleRef?.name === "system:auth-delegator")) {
        if (b.metadata.name === "system:auth-delegator") continue;
        snap.set(`k8s clusterrolebinding ${b.metadata.name}`, `uid ${b.metadata.uid}`);
    }
}

export async function snapshot(kube: Kube, vault: Vault, scope: Scope): Promise<Snapshot> {
    const snap: Snapshot = new Map();
    await kvSnapshot(vault, scope.kvMount, snap);
    await vaultSnapshot(vault, scope, snap);
    kubeSnapshot(kube, scope, snap);
    return snap;
}

export interface Diff {
    /** Keys in both, with another value. */
    changed: string[];
    /** Keys only before. */
    gone: string[];
    /** Keys only after. */
    added: string[];
}

export function diff(before: Snapshot, after: Snapshot): Diff {
    const d: Diff = { changed: [], gone: [], added: [] };
    for (const [k, v] of before) {
        if (!after.has(k)) d.gone.push(k);
        else if (after.get(k) !== v) d.changed.push(k);
    }
    for (const k of after.keys()) if (!before.has(k)) d.added.push(k);
    return d;
}

/**
 * What a scenario expects to differ, each a key pattern; whatever is not named must be equal
 * byte for byte (or an `absent` namespace stays absent).
 */
export interface Expected {
    changed?: RegExp[];
    gone?: RegExp[];
    added?: RegExp[];
}

/** The keys that differ without the scenario expecting it, as `gone: k`, `changed: k (old -> new)`. */
export function unexpected(before: Snapshot, after: Snapshot, expected: Expected): string[] {
    const d = diff(before, after);
    const allowed = (k: string, res: RegExp[] | undefined) => (res ?? []).some((re) => re.test(k));
    const clip = (s: string | undefined) => (s === undefined ? "" : s.length > 80 ? `${s.slice(0, 77)}...` : s);
    return [
        ...d.gone.filter((k) => !allowed(k, expected.gone)).map((k) => `lost ${k}`),
        ...d.changed.filter((k) => !allowed(k, expected.changed))
            .map((k) => `changed ${k} (${clip(before.get(k))} -> ${clip(after.get(k))})`),
        ...d.added.filter((k) => !allowed(k, expected.added)).map((k) => `new ${k}`),
    ];
}
