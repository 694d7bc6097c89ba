/**
 * The report as text (one line per check, the cause and fix indented under a failure) or JSON.
 * Every string goes through `clean` here (control characters out, then `redact`), whatever the
 * diagnosis already did: pod names, annotations and log lines come from the cluster, and a `\n`
 * or `\r` in them could otherwise print a line of its own (`PASS  ...`).
 */
import { clean as scrub } from "./redact";
import { Check, CheckStatus, DoctorReport } from "./types";

const MARK: Record<CheckStatus, string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" };

/** A check as printed: every string without control characters and credentials. */
export function cleanCheck(c: Check): Check {
    const out: Check = { id: scrub(c.id), target: scrub(c.target), status: c.status, detail: scrub(c.detail) };
    if (c.cause !== undefined) out.cause = scrub(c.cause);
    if (c.fix !== undefined) out.fix = scrub(c.fix);
    if (c.ref !== undefined && c.ref.length > 0) out.ref = c.ref.map((r) => scrub(r));
    return out;
}

interface TextOptions {
    /** Also print passing checks (default true). */
    showPassing?: boolean;
}

export function renderText(report: DoctorReport, opts: TextOptions = {}): string {
    const lines: string[] = [];
    for (const raw of report.checks) {
        if (raw.status === "pass" && opts.showPassing === false) continue;
        const c = cleanCheck(raw);
        lines.push(`${MARK[c.status]}  ${c.id.padEnd(28)} ${c.target}: ${c.detail}`);
        if (c.status === "pass" || c.status === "skip") continue;
        if (c.cause !== undefined) lines.push(`      cause: ${c.cause}`);
        if (c.fix !== undefined) lines.push(`      fix:   ${c.fix}`);
        if (c.ref !== undefined) lines.push(`      see:   ${c.ref.join(", ")}`);
    }
    const s = report.summary;
    lines.push("", `${s.pass} passed, ${s.fail} failed, ${s.warn} warnings, ${s.skip} skipped`);
    return `${lines.join("\n")}\n`;
}

export function renderJson(report: DoctorReport): string {
    return `${JSON.stringify({ ok: report.ok, summary: report.summary, checks: report.checks.map(cleanCheck) }, null, 2)}\n`;
}
