import * as pulumi from "@pulumi/pulumi";
import * as vault from "@pulumi/vault";
import { TYPE_PREFIX } from "./typePrefix";

export interface VaultKvArgs {
    /** Vault provider (required). */
    provider: vault.Provider;
    /** Mount path, e.g. `secret`. */
    path: string;
    /** Mount description. */
    description?: string;
    /** The mount already exists (adopt it, do not create it). */
    existing: boolean;
    /**
     * Protect the mount (`protect`): deleting a KV mount deletes every secret in it, with no undo.
     * Default true. `pulumi destroy` then stops at the mount until it is unprotected on purpose.
     */
    protect?: boolean;
    /**
     * Paths in the mount that exist outside this program, with the workloads that may read them.
     * Nothing is written for them; they are registered on the component so the policy pack knows
     * them. Default none.
     */
    external?: ReadonlyArray<{ path: string; readers: readonly string[] }>;
}

/**
 * The KV v2 mount that all workloads' static secrets live in: shared by every WorkloadBinding,
 * so it has its own component rather than belonging to any one workload.
 */
export class VaultKv extends pulumi.ComponentResource {
    /** Mount path, e.g. `secret`. */
    public readonly path: pulumi.Output<string>;

    constructor(name: string, args: VaultKvArgs, opts?: pulumi.ComponentResourceOptions) {
        const external = (args.external ?? []).map((e) => ({ path: e.path, readers: [...e.readers] }));
        super(`${TYPE_PREFIX}:VaultKv`, name, { mount: args.path, external }, opts);
        if (args.existing) {
            this.path = pulumi.output(args.path);
        } else {
            const mount = new vault.Mount(`${name}-mount`, {
                path: args.path,
                type: "kv",
                options: { version: "2" },
                description: args.description,
            }, { parent: this, provider: args.provider, protect: args.protect ?? true });
            this.path = mount.path;
        }
        this.registerOutputs({ path: this.path, mount: args.path, external });
    }
}
