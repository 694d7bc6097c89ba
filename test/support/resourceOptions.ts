/**
 * Records the resource options the program sends with each registration (protect, ignoreChanges,
 * deleteBeforeReplace, retainOnDelete). Pulumi's mock monitor drops them before `newResource`, so
 * this reads them from the very RegisterResourceRequest the engine would receive.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mocks = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } };

export interface SentOptions {
    type: string;
    name: string;
    protect: boolean;
    ignoreChanges: string[];
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    /** URN of the parent ("" for the stack). */
    parent: string;
    /** Aliases as sent: `{ urn }` or `{ spec: { name, type, parenturn, ... } }` (the engine expands specs). */
    aliases: Array<{ urn?: string; spec?: { name?: string; type?: string; parenturn?: string } }>;
    /** URNs the registration depends on (explicit dependsOn and Input dependencies). */
    dependencies: string[];
    /** customTimeouts as sent; undefined when none. */
    customTimeouts?: { create?: string; update?: string; delete?: string };
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getProtect(): boolean;
    getIgnorechangesList(): string[];
    getDeletebeforereplace(): boolean;
    getRetainondelete(): boolean;
    getParent(): string;
    getAliasesList(): Array<{ toObject(): { urn?: string; spec?: { name?: string; type?: string; parenturn?: string } } }>;
    getDependenciesList(): string[];
    getCustomtimeouts(): { toObject(): { create?: string; update?: string; delete?: string } } | undefined;
}

export const sentOptions: SentOptions[] = [];
let installed = false;

/** Starts recording (once per process); `sentOptions` is cleared by the caller between runs. */
export function recordResourceOptions(): SentOptions[] {
    if (!installed) {
        const original = mocks.MockMonitor.prototype.registerResource as (this: unknown, req: RegisterRequest, cb: unknown) => unknown;
        mocks.MockMonitor.prototype.registerResource = function (this: unknown, req: RegisterRequest, cb: unknown) {
            sentOptions.push({
                type: req.getType(),
                name: req.getName(),
                protect: req.getProtect(),
                ignoreChanges: req.getIgnorechangesList(),
                deleteBeforeReplace: req.getDeletebeforereplace(),
                retainOnDelete: req.getRetainondelete(),
                parent: req.getParent(),
                aliases: req.getAliasesList().map((a) => a.toObject()),
                dependencies: req.getDependenciesList(),
                customTimeouts: req.getCustomtimeouts()?.toObject(),
            });
            return original.call(this, req, cb);
        };
        installed = true;
    }
    sentOptions.length = 0;
    return sentOptions;
}
