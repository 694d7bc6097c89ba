/**
 * The gate's second judgement: a failing finding about a piece this `up` itself rewrites does not
 * stop the `up`. The preflight compares the plan with what is live; a live role, policy or mount
 * that differs because the stack file changed on purpose, or because a drift was refreshed into
 * the state, is what the `up` replaces, and refusing it would refuse the change or the repair
 * (docs/preflight.md, "The gate before `up`"). What the `up` changes is the engine's own word: the
 * resources its preview does not leave `same` (src/automation/runner.ts). Pure; loads no client,
 * so the runner (imported by the CLI at start-up) stays light.
 */
import { childNames } from "../config/names";
import { AUTH_MOUNT, KV_MOUNT, POLICY, ROLE, stateKey } from "./deployed";
import type { Finding, PreflightReport } from "./types";

type Piece = "role" | "policy" | "auth mount" | "KV mount";

/**
 * The pieces whose rewrite answers a finding. A login is the role's (bindings, audience); what a
 * token may read is the role's `token_policies` and the policy's rules. A token request, a failed
 * capabilities call, a reviewer Secret or an unreachable system are nobody's here: they still fail.
 */
const ANSWERED_BY: Readonly<Record<string, readonly Piece[]>> = {
    "workload.role": ["role"],
    "workload.login": ["role"],
    "path.read": ["role", "policy"],
    "path.foreign": ["role", "policy"],
    "path.extra": ["role", "policy"],
    "path.kv-v1": ["KV mount"],
    "vault.auth-mount": ["auth mount"],
    "vault.kv-mount": ["KV mount"],
};

/** Whether some failing finding could be answered by a change of this `up` (else no preview is worth running). */
export function settleable(report: PreflightReport): boolean {
    return report.findings.some((f) => f.status === "fail" && ANSWERED_BY[f.id] !== undefined);
}

function rewritten(piece: Piece, f: Finding, keys: ReadonlySet<string>): boolean {
    const named = (types: readonly string[], name: string) => types.some((t) => keys.has(`${t}::${name}`));
    const any = (types: readonly string[]) => [...keys].some((k) => types.some((t) => k.startsWith(`${t}::`)));
    switch (piece) {
        case "role":
            return f.workload !== undefined && named(ROLE, childNames.role(f.workload));
        case "policy":
            return f.workload !== undefined && named(POLICY, childNames.policy(f.workload));
        case "auth mount":
            return any(AUTH_MOUNT);
        case "KV mount":
            return any(KV_MOUNT);
    }
}

/** `This up rewrites the Vault role of workload busybox: judged against the deployed one it replaces.` */
function sentence(pieces: Piece[], f: Finding): string {
    const mount = pieces.find((p) => p === "auth mount" || p === "KV mount");
    const what = mount !== undefined
        ? `the ${mount}`
        : `the Vault ${pieces.join(" and ")} of workload ${f.workload ?? "?"}`;
    return `This up rewrites ${what}: judged against the deployed ${pieces.length > 1 ? "ones" : "one"} it replaces.`;
}

/**
 * The report, with each failing finding whose piece this `up` changes (`changed`: the URNs its
 * preview does not leave `same` or `read`) turned into a warning whose cause says so first. The
 * report itself when nothing changes.
 */
export function settle(report: PreflightReport, changed: readonly string[]): PreflightReport {
    const keys = new Set(changed.map(stateKey));
    let settled = 0;
    const findings = report.findings.map((f): Finding => {
        if (f.status !== "fail") return f;
        const pieces = (ANSWERED_BY[f.id] ?? []).filter((p) => rewritten(p, f, keys));
        if (pieces.length === 0) return f;
        settled++;
        const first = sentence(pieces, f);
        return { ...f, status: "warn", cause: f.cause === undefined ? first : `${first} ${f.cause}` };
    });
    if (settled === 0) return report;
    const summary = { ...report.summary, fail: report.summary.fail - settled, warn: report.summary.warn + settled };
    return { ...report, ok: summary.fail === 0, summary, findings };
}
