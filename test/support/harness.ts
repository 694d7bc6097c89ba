/**
 * Shared test plumbing: install the cloud mock, wait for the program to finish registering,
 * read Outputs (value, known, secret), and load a stack config file into the runtime.
 */
import { existsSync, readFileSync } from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { CloudMock, CloudMockOptions } from "./cloud";

export const PROJECT = "aks-vault";
export const ROOT = path.resolve(__dirname, "..", "..");
/** The upstream facts beside the project (what CI here lays out); the source of truth. */
export const SHARED_REFERENCE = path.resolve(ROOT, "..", "shared", "reference");
/** A snapshot of them in the repository, for runners without ../shared (GitHub Actions). */
export const VENDORED_REFERENCE = path.resolve(ROOT, "test", "reference");
export const REFERENCE = existsSync(SHARED_REFERENCE) ? SHARED_REFERENCE : VENDORED_REFERENCE;

// `waitForRPCs` is how the Pulumi runtime itself knows a program has finished registering.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeSettings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

/** Installs a fresh cloud mock (as Pulumi stack `stack`, default dev); returns it for assertions. */
export async function useCloud(
    opts: CloudMockOptions & { config?: Record<string, unknown>; stack?: string } = {},
): Promise<CloudMock> {
    const cloud = new CloudMock(opts);
    await pulumi.runtime.setMocks(cloud, PROJECT, opts.stack ?? "dev", opts.preview ?? false);
    setConfig(opts.config ?? {});
    return cloud;
}

/** Replaces the runtime's config with these project-namespace keys (objects as JSON). */
export function setConfig(values: Record<string, unknown>, secretKeys: string[] = []): void {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) {
        const key = k.includes(":") ? k : `${PROJECT}:${k}`;
        all[key] = typeof v === "string" ? v : JSON.stringify(v);
    }
    pulumi.runtime.setAllConfig(all, secretKeys.map((k) => (k.includes(":") ? k : `${PROJECT}:${k}`)));
}

/** The `config:` map of a stack file (relative to the repository root, or absolute), keys without the project prefix. */
export function stackConfig(file = "Pulumi.dev.yaml"): Record<string, unknown> {
    const doc = parse(readFileSync(path.resolve(ROOT, file), "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k.replace(`${PROJECT}:`, ""), v]));
}

/** Waits until every resource registration and invoke the program started has completed. */
export async function settle(cloud: CloudMock): Promise<void> {
    await runtimeSettings.waitForRPCs();
    if (cloud.unexpected.length > 0) throw new Error(`the program made calls the cloud does not know:\n${cloud.unexpected.join("\n")}`);
}

interface OutputInternals<T> {
    promise(withUnknowns?: boolean): Promise<T>;
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
}

/** The resolved value of an Output (undefined if unknown). */
export function valueOf<T>(o: pulumi.Output<T>): Promise<T> {
    return (o as unknown as OutputInternals<T>).promise();
}

export async function stateOf<T>(o: pulumi.Output<T>): Promise<{ value: T; known: boolean; secret: boolean }> {
    const internals = o as unknown as OutputInternals<T>;
    const [value, known, secret] = await Promise.all([internals.promise(), internals.isKnown, internals.isSecret]);
    return { value, known, secret };
}

/** Reads a JSON file from ../shared/reference. */
export function reference<T>(rel: string): T {
    return JSON.parse(readFileSync(path.join(REFERENCE, rel), "utf8")) as T;
}

export function referenceText(rel: string): string {
    return readFileSync(path.join(REFERENCE, rel), "utf8");
}

/** The logical name of the `pulumi:providers:<pkg>` a provider reference (`urn::id`) points at. */
export function providerName(ref: string | undefined, pkg: string): string | undefined {
    return ref === undefined ? undefined : new RegExp(`pulumi:providers:${pkg}::([^:]+)::`).exec(ref)?.[1];
}
