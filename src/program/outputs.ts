/**
 * The stack outputs, defined once: `buildProgram` returns them (typed `ProgramOutputs`), the
 * doctor reads them back (`stackOutputsSchema`, through the Automation API or the offline plan).
 * A stack cut at an earlier stage lacks the later outputs, so every key is optional here; the
 * doctor states which ones it needs. Imports no Pulumi runtime (the doctor and CLI load it lazily).
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

const workloadOutputSchema = z.object({
    namespace: z.string().min(1),
    serviceAccount: z.string().min(1),
    role: z.string().min(1),
    /** Absent in stacks deployed before it was exported. */
    policy: z.string().optional(),
    /** The files the injector writes (`/vault/secrets/<file>`, lower-cased). */
    files: z.array(z.string()).default([]),
    /**
     * `false` when the workload has no Deployment (settings `deployment` omitted): the doctor then
     * expects no pods. Absent: it has one (stacks with a Deployment keep their outputs unchanged),
     * or the stack was deployed before this output existed.
     */
    deployment: z.literal(false).optional(),
});

export const stackOutputsSchema = z.object({
    // cluster
    clusterName: z.string().optional(),
    resourceGroupName: z.string().optional(),
    apiServerUrl: z.string().optional(),
    oidcIssuerUrl: z.string().optional(),
    /** Secret. */
    kubeconfig: z.string().min(1).optional(),
    // injector
    injectorNamespace: z.string().min(1).optional(),
    injectorChartVersion: z.string().optional(),
    /** Absent unless kubernetesAuth.reviewer is serviceAccountToken. */
    reviewerServiceAccount: z.string().optional(),
    /** The reviewer's token Secret, in `injectorNamespace`; absent unless kubernetesAuth.reviewer is serviceAccountToken. */
    reviewerTokenSecret: z.string().optional(),
    /** `metadata.uid` of that Secret as the last `up` read it: the Secret whose JWT Vault holds. */
    reviewerTokenSecretUid: z.string().optional(),
    // vault-auth
    vaultAuthPath: z.string().min(1).optional(),
    /** Only a JWT stack exports it (kubernetes stacks keep their outputs unchanged). */
    vaultAuthMethod: z.enum(["kubernetes", "jwt"]).optional(),
    vaultJwtAudience: z.string().optional(),
    vaultAuthAccessor: z.string().optional(),
    kvMountPath: z.string().optional(),
    // workloads
    workloads: z.record(z.string(), workloadOutputSchema).default({}),
});

/** The outputs as a stack holds them (resolved values). */
export type StackOutputs = z.input<typeof stackOutputsSchema>;

/** A value as the program produces it: plain, an Output, or an object of those. */
type Produced<T> = pulumi.Input<T> | (T extends readonly unknown[] ? never : T extends object ? { [K in keyof T]: Produced<T[K]> } : never);

/** What `buildProgram` returns: the same keys, each value possibly still an Output. */
export type ProgramOutputs = { [K in keyof StackOutputs]?: Produced<StackOutputs[K]> };
