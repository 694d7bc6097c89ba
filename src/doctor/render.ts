/**
 * The report as text (one line per check, the cause and fix indented under a failure) or JSON.
 * Every string goes through `redact` here too, whatever the diagnosis already did.
 */
import { redact } from "./redact";
import { Check, CheckStatus, DoctorReport } from "./types";

const MARK: Record<CheckStatus, string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" };

function clean(c: Check): Check {
    const out: Check = { id: c.id, target: redact(c.target), status: c.status, detail: redact(c.detail) };
    if (c.cause !== undefined) out.cause = redact(c.cause);
    if (c.fix !== undefined) out.fix = redact(c.fix);
    if (c.ref !== undefined && c.ref.length > 0) out.ref = [...c.ref];
    return out;
}

export interface TextOptions {
    /** Also print passing checks (default true). */
    showPassing?: boolean;
}

export function renderText(report: DoctorReport, opts: TextOptions = {}): string {
    const lines: string[] = [];
    for (const raw of report.checks) {
        if (raw.status === "pass" && opts.showPassing === false) continue;
        const c = clean(raw);
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
    return `${JSON.stringify({ ok: report.ok, summary: report.summary, checks: report.checks.map(clean) }, null, 2)}\n`;
}
