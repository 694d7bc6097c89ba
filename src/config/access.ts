/**
 * Who owns each KV path of the stack and who may read it: computed here once, from the settings,
 * and passed along. Validation (trust.ts) judges the config against it, the program hands each
 * `WorkloadBinding` its workload's part (registered on the component as `access`, which the policy
 * pack reads), and the preflight plans its probes from it. Pure.
 *
 * The grant syntax, kept small on purpose (docs/security.md, "Who reads what"):
 * - a workload owns every path it seeds and every path it lists in `secrets` without `from`;
 *   a path has one owner;
 * - the owner shares a path by listing readers in `sharedWith` on its own secret or seed entry;
 * - a reader lists the path in `secrets` with `from: <owner>`;
 * - paths written outside this program are named once, in `kv.external: [{path, readers}]`.
 */

/** A workload's KV entries, as the ownership rule reads them (settings, or a WorkloadBinding's args). */
interface KvClaims {
    name: string;
    secrets: ReadonlyArray<{ path: string; from?: string; sharedWith?: readonly string[] }>;
    seed: ReadonlyArray<{ path: string; sharedWith?: readonly string[] }>;
}

/** A path written outside this program, with the workloads that may read it (`kv.external`). */
interface External {
    path: string;
    readers: readonly string[];
}

/** What each workload owns and may read, by KV path inside the mount. */
export interface KvAccess {
    /** Path -> owning workload (first claimer; validation refuses a second). */
    owner: Map<string, string>;
    /** Workload -> paths it owns. */
    owned: Map<string, Set<string>>;
    /** Workload -> paths it may read: owned, granted to it, external naming it. */
    readable: Map<string, Set<string>>;
    /** Owned path -> the workloads its owner lists in `sharedWith`. */
    sharedWith: Map<string, Set<string>>;
}

/** One workload's part of `KvAccess`, each list sorted: what its `WorkloadBinding` takes and registers. */
export interface WorkloadAccess {
    /** Paths this workload owns (seeds, or reads without `from`). */
    owned: string[];
    /** Paths it may read: owned, shared with it, or external paths naming it. */
    readable: string[];
    /** Owned path -> the workloads it is shared with (paths shared with no one are left out). */
    sharedWith: Record<string, string[]>;
}

/** The entries by which a workload claims a path: its seeds and the secrets it reads without `from`. */
function ownClaims(w: KvClaims): ReadonlyArray<{ path: string; sharedWith?: readonly string[] }> {
    return [...w.secrets.filter((s) => s.from === undefined), ...w.seed];
}

/** Who owns and who may read each path; the single answer validation, the program and the preflight share. */
export function kvAccess(workloads: readonly KvClaims[], external: readonly External[]): KvAccess {
    const externalPaths = new Set(external.map((e) => e.path));
    const owner = new Map<string, string>();
    const owned = new Map<string, Set<string>>();
    const readable = new Map<string, Set<string>>();
    const sharedWith = new Map<string, Set<string>>();
    for (const w of workloads) {
        owned.set(w.name, new Set());
        readable.set(w.name, new Set());
    }
    for (const w of workloads) {
        for (const { path: p, sharedWith: readers = [] } of ownClaims(w)) {
            if (externalPaths.has(p)) continue;
            if (!owner.has(p)) owner.set(p, w.name);
            if (owner.get(p) !== w.name) continue;
            owned.get(w.name)?.add(p);
            readable.get(w.name)?.add(p);
            const shared = sharedWith.get(p) ?? new Set<string>();
            for (const r of readers) shared.add(r);
            sharedWith.set(p, shared);
        }
    }
    for (const w of workloads) {
        for (const s of w.secrets) {
            if (s.from === undefined || owner.get(s.path) !== s.from) continue;
            if (sharedWith.get(s.path)?.has(w.name) === true) readable.get(w.name)?.add(s.path);
        }
    }
    for (const e of external) for (const r of e.readers) readable.get(r)?.add(e.path);
    return { owner, owned, readable, sharedWith };
}

/** `name`'s part of `access`, each list sorted. */
export function workloadAccess(access: KvAccess, name: string): WorkloadAccess {
    const owned = [...(access.owned.get(name) ?? [])].sort();
    const sharedWith = Object.fromEntries(owned.flatMap((p) => {
        const readers = [...(access.sharedWith.get(p) ?? [])].sort();
        return readers.length > 0 ? [[p, readers]] : [];
    }));
    return { owned, readable: [...(access.readable.get(name) ?? [])].sort(), sharedWith };
}
