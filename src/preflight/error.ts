/**
 * The gate's failure, apart from the rest of the preflight so the runner (and the CLI that imports
 * it at start-up) load no Kubernetes client, components or Pulumi SDK for it.
 */
import { ClassifiedError, EXIT } from "../exitCodes";
import type { PreflightReport } from "./types";

/** Thrown by the runner's gate when a finding fails; carries the report. Nothing was applied. */
export class PreflightError extends ClassifiedError {
    /** The CLI's exit code for it: a check failed on the live deployment. */
    readonly exitCode = EXIT.checksFailed;
    constructor(public readonly report: PreflightReport) {
        super(
            `preflight: ${report.workloads.total - report.workloads.green} of ${report.workloads.total} workload(s) cannot read ` +
                `what they render; ` +
                `${report.summary.fail} finding(s) failed: ` +
                `${report.findings.filter((f) => f.status === "fail").map((f) => `${f.id} ${f.target}`).join(", ")} ` +
                "(nothing was applied; fix them, or pass --no-preflight)",
        );
        this.name = "PreflightError";
    }
}

