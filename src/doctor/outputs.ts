/**
 * The doctor's input: a stack's outputs, as `src/program/program.ts` exports them and as the Automation API's
 * `stack.outputs()` returns them (`{ value, secret }` per key). Plain values are accepted too.
 */
import { z } from "zod";
import { ClassifiedError, EXIT } from "../exitCodes";
import { stackOutputsSchema } from "../program/outputs";
import { settingsErrorMap } from "../config/wording";
import type { InjectionMode } from "../agent/vocabulary";
import { Expectations } from "./types";

/** The program's own output definition; the doctor needs the injector's namespace. */
const outputsSchema = stackOutputsSchema.extend({ injectorNamespace: z.string().min(1) });

/** One output as the Automation API returns it. */
interface OutputValue {
    value: unknown;
    secret?: boolean;
}
export type OutputMap = Record<string, OutputValue | unknown>;

export class DoctorInputError extends ClassifiedError {
    /** The CLI's exit code for it: invalid settings (a missing output or flag). */
    readonly exitCode = EXIT.settings;
    constructor(message: string) {
        super(message);
        this.name = "DoctorInputError";
    }
}

function unwrap(outputs: OutputMap): Record<string, unknown> {
    return Object.fromEntries(Object.entries(outputs).map(([k, v]) => {
        const wrapped =
            typeof v === "object" && v !== null && "value" in v && Object.keys(v).every((key) => key === "value" || key === "secret");
        return [k, wrapped ? (v as OutputValue).value : v];
    }));
}

interface DoctorInput {
    /** Secret: only ever handed to the Kubernetes client. Absent when not required and not in the outputs. */
    kubeconfig?: string;
    expectations: Expectations;
}

/**
 * Reads the outputs the doctor needs. A stack deployed only up to an earlier stage lacks some of
 * them; the error names the output and the stage that creates it, never a value.
 */
export function expectationsFromOutputs(outputs: OutputMap, modes: Record<string, InjectionMode> = {}, needKubeconfig = true): DoctorInput {
    const values = unwrap(outputs);
    if (needKubeconfig && (values.kubeconfig === undefined || values.kubeconfig === "")) {
        throw new DoctorInputError("stack output `kubeconfig`: missing (run `up` through the cluster stage, or pass --kubeconfig)");
    }
    const parsed = outputsSchema.safeParse(values, { error: settingsErrorMap });
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const key = issue.path.map(String).join(".");
        const stage: Record<string, string> = { kubeconfig: "cluster", injectorNamespace: "injector" };
        const hint = stage[key] !== undefined ? ` (run \`up\` through the ${stage[key]} stage)` : "";
        throw new DoctorInputError(`stack output \`${key}\`: expected ${issue.message}${hint}`);
    }
    const o = parsed.data;
    return {
        kubeconfig: o.kubeconfig,
        expectations: {
            injectorNamespace: o.injectorNamespace,
            authPath: o.vaultAuthPath,
            apiServerUrl: o.apiServerUrl,
            oidcIssuerUrl: o.oidcIssuerUrl,
            // Only a JWT stack exports these; a Kubernetes-auth stack's expectations stay as they were.
            ...(o.vaultAuthMethod === undefined ? {} : { authMethod: o.vaultAuthMethod }),
            ...(o.vaultJwtAudience === undefined ? {} : { jwtAudience: o.vaultJwtAudience }),
            ...(o.reviewerTokenSecret === undefined ? {} : {
                reviewerTokenSecret: {
                    namespace: o.injectorNamespace, name: o.reviewerTokenSecret,
                    ...(o.reviewerTokenSecretUid === undefined ? {} : { uid: o.reviewerTokenSecretUid }),
                },
            }),
            workloads: Object.entries(o.workloads).map(([name, w]) => ({
                name, namespace: w.namespace, serviceAccount: w.serviceAccount, role: w.role, files: w.files, mode: modes[name],
                ...(w.deployment === false ? { deployment: false as const } : {}),
            })),
        },
    };
}

/**
 * The offline plan's outputs (src/plan/plan.ts) as doctor input: values only a real deployment
 * knows are placeholders there (`⟨ManagedCluster …: fqdn⟩`, `[secret]`) and are left out, so the
 * checks that compare with them do not run against made-up values.
 */
export function plannedOutputs(planned: Record<string, unknown>): OutputMap {
    const placeholder = (v: unknown) => typeof v === "string" && (v.includes("⟨") || v === "[secret]");
    return Object.fromEntries(Object.entries(planned).filter(([key, v]) => key !== "kubeconfig" && !placeholder(v)));
}
