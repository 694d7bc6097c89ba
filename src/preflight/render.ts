/**
 * The report as text (the doctor's layout: one line per finding, cause and fix indented under a
 * failure, then the summary) or JSON. Every string goes through `scrub`, which the caller passes
 * (the CLI: the doctor's `clean`, control characters out, then credentials): Vault's and the API
 * server's messages are quoted in the details.
 */
import { Finding, FindingStatus, PreflightReport } from "./types";

const MARK: Record<FindingStatus, string> = { pass: "PASS", fail: "FAIL", warn: "WARN", skip: "SKIP" };

export type Scrub = (text: string) => string;

function cleaned(f: Finding, scrub: Scrub): Finding {
    const out: Finding = { id: scrub(f.id), target: scrub(f.target), status: f.status, detail: scrub(f.detail) };
    if (f.workload !== undefined) out.workload = scrub(f.workload);
    if (f.path !== undefined) out.path = scrub(f.path);
    if (f.cause !== undefined) out.cause = scrub(f.cause);
    if (f.fix !== undefined) out.fix = scrub(f.fix);
    if (f.ref !== undefined && f.ref.length > 0) out.ref = f.ref.map(scrub);
    return out;
}

/** `preflight: <K>/<N> workloads can read every path they render`. */
export function summaryLine(report: PreflightReport): string {
    return `preflight: ${report.workloads.green}/${report.workloads.total} workloads can read every path they render`;
}

export function renderText(report: PreflightReport, scrub: Scrub, opts: { showPassing?: boolean } = {}): string {
    const lines: string[] = [];
    for (const raw of report.findings) {
        if (raw.status === "pass" && opts.showPassing === false) continue;
        const f = cleaned(raw, scrub);
        lines.push(`${MARK[f.status]}  ${f.id.padEnd(20)} ${f.target}: ${f.detail}`);
        if (f.status === "pass" || f.status === "skip") continue;
        if (f.cause !== undefined) lines.push(`      cause: ${f.cause}`);
        if (f.fix !== undefined) lines.push(`      fix:   ${f.fix}`);
        if (f.ref !== undefined) lines.push(`      see:   ${f.ref.join(", ")}`);
    }
    const s = report.summary;
    lines.push("", `${s.pass} passed, ${s.fail} failed, ${s.warn} warnings, ${s.skip} skipped`, summaryLine(report));
    return `${lines.join("\n")}\n`;
}

export function renderJson(report: PreflightReport, scrub: Scrub): string {
    return `${JSON.stringify({
        ok: report.ok, summary: report.summary, workloads: report.workloads, findings: report.findings.map((f) => cleaned(f, scrub)),
    }, null, 2)}\n`;
}
