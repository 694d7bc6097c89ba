/**
 * Which Pulumi backend a run uses when none is given: the one the Pulumi CLI itself would use,
 * so `pulumi login …` then this CLI (or doctor) find the same stacks. The order is the CLI's own
 * (pulumi/pulumi pkg/workspace/creds.go `GetCurrentCloudURLWithSource`):
 *
 * 1. `PULUMI_BACKEND_URL` in the environment;
 * 2. `backend.url` in the project's Pulumi.yaml;
 * 3. `current` in the credentials file `pulumi login` writes:
 *    `$PULUMI_CREDENTIALS_PATH/credentials.json`, else `$PULUMI_HOME/credentials.json`, else
 *    `~/.pulumi/credentials.json` (sdk/go/common/workspace/creds.go `getCredsFilePath`,
 *    `GetPulumiHomeDir`).
 *
 * Not logged in anywhere, the Pulumi CLI would ask to log in to Pulumi Cloud; this project keeps
 * its own default instead: a file backend in `<project>/.pulumi-state`, no account needed.
 */
import { existsSync, readFileSync } from "fs";
import { homedir } from "os";
import * as path from "path";
import { parse } from "yaml";
import { RunConfigurationError } from "../errors";

export type BackendSource = "option" | "env" | "project" | "login" | "default";

export interface Backend {
    url: string;
    source: BackendSource;
    /** Where it came from, for the user: `pulumi login (~/.pulumi/credentials.json)`. */
    from: string;
}

export interface BackendLookup {
    /** `--backend-url` / `RunOptions.backendUrl`. */
    backendUrl?: string;
    /** Environment to read PULUMI_BACKEND_URL, PULUMI_CREDENTIALS_PATH, PULUMI_HOME and HOME from. */
    env: NodeJS.ProcessEnv;
    /** Folder with Pulumi.yaml. */
    projectDir: string;
}

/** The local default: a file backend inside the project. */
export function localBackendDir(projectDir: string): string {
    return path.join(projectDir, ".pulumi-state");
}

/** The credentials file `pulumi login` writes, for this environment. */
export function credentialsFile(env: NodeJS.ProcessEnv): string {
    const folder =
        nonEmpty(env.PULUMI_CREDENTIALS_PATH) ??
        nonEmpty(env.PULUMI_HOME) ??
        path.join(nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? homedir(), ".pulumi");
    return path.join(folder, "credentials.json");
}

function nonEmpty(v: string | undefined): string | undefined {
    return v === undefined || v === "" ? undefined : v;
}

/** `https://user:pass@host` never reaches a message. */
export function displayUrl(url: string): string {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, "$1[redacted]@");
}

function projectBackend(projectDir: string): string | undefined {
    const file = path.join(projectDir, "Pulumi.yaml");
    if (!existsSync(file)) return undefined;
    try {
        const doc = parse(readFileSync(file, "utf8")) as { backend?: { url?: unknown } } | null;
        return typeof doc?.backend?.url === "string" ? nonEmpty(doc.backend.url) : undefined;
    } catch {
        // A broken Pulumi.yaml is reported by the Pulumi CLI itself, with its position.
        return undefined;
    }
}

/** The backend a run uses, and where that choice came from. */
export function resolveBackend(lookup: BackendLookup): Backend {
    const given = nonEmpty(lookup.backendUrl);
    if (given !== undefined) return { url: given, source: "option", from: "--backend-url" };
    const env = nonEmpty(lookup.env.PULUMI_BACKEND_URL);
    if (env !== undefined) return { url: env, source: "env", from: "PULUMI_BACKEND_URL" };
    const project = projectBackend(lookup.projectDir);
    if (project !== undefined) return { url: project, source: "project", from: "backend.url in Pulumi.yaml" };
    const file = credentialsFile(lookup.env);
    let current: string | undefined;
    try {
        const creds = JSON.parse(readFileSync(file, "utf8")) as { current?: unknown } | null;
        current = typeof creds?.current === "string" ? nonEmpty(creds.current) : undefined;
    } catch (err) {
        if ((err as { code?: unknown }).code !== "ENOENT") {
            const reason = err instanceof SyntaxError ? "not JSON" : String((err as { code?: unknown }).code ?? "unreadable");
            throw new RunConfigurationError(
                `cannot read the Pulumi credentials file ${file} (${reason}): run \`pulumi login\` again, or pass --backend-url`,
            );
        }
    }
    if (current !== undefined) return { url: current, source: "login", from: `pulumi login (${file})` };
    return {
        url: `file://${localBackendDir(lookup.projectDir)}`,
        source: "default",
        from: "not logged in: the project's local file backend",
    };
}
