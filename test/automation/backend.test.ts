/**
 * The default backend is the one the Pulumi CLI would use (pulumi/pulumi pkg/workspace/creds.go
 * `GetCurrentCloudURLWithSource`): PULUMI_BACKEND_URL, then Pulumi.yaml `backend.url`, then
 * `current` in the credentials file `pulumi login` wrote; the project's file backend only when
 * it is logged in nowhere. Every case runs against a fake HOME.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { RunConfigurationError } from "../../src/errors";
import { credentialsFile, displayUrl, resolveBackend } from "../../src/automation/backend";
import { ROOT } from "../support/harness";

describe("default backend: where `pulumi login` left the Pulumi CLI", () => {
    let work: string;
    let home: string;
    let projectDir: string;
    const login = (dir: string, current: string) => {
        mkdirSync(dir, { recursive: true });
        // The shape `pulumi login` writes (sdk/go/common/workspace/creds.go `Credentials`).
        writeFileSync(
            path.join(dir, "credentials.json"),
            JSON.stringify({ current, accessTokens: { [current]: "pul-0123456789abcdef" }, accounts: {} }, null, 4),
        );
    };

    beforeEach(() => {
        work = mkdtempSync(path.join(tmpdir(), "backend-"));
        home = path.join(work, "home");
        projectDir = path.join(work, "project");
        mkdirSync(home);
        mkdirSync(projectDir);
        copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(projectDir, "Pulumi.yaml"));
    });
    afterEach(() => rmSync(work, { recursive: true, force: true }));

    it("not logged in (no credentials file, or `current` empty after `pulumi logout`): the project's .pulumi-state", () => {
        const local = { url: `file://${path.join(projectDir, ".pulumi-state")}`, source: "default" };
        assert.deepEqual({ ...resolveBackend({ env: { HOME: home }, projectDir }), from: undefined }, { ...local, from: undefined });
        login(path.join(home, ".pulumi"), "");
        assert.equal(resolveBackend({ env: { HOME: home }, projectDir }).source, "default");
    });

    it("logged in: ~/.pulumi/credentials.json `current`, and says so", () => {
        login(path.join(home, ".pulumi"), "https://api.pulumi.com");
        assert.deepEqual(resolveBackend({ env: { HOME: home }, projectDir }), {
            url: "https://api.pulumi.com", source: "login", from: `pulumi login (${path.join(home, ".pulumi", "credentials.json")})`,
        });
        login(path.join(home, ".pulumi"), "azblob://pulumi-state");
        assert.equal(resolveBackend({ env: { HOME: home }, projectDir }).url, "azblob://pulumi-state");
    });

    it("PULUMI_HOME and PULUMI_CREDENTIALS_PATH move the credentials file, as for the CLI", () => {
        login(path.join(home, ".pulumi"), "https://api.pulumi.com");
        login(path.join(work, "pulumi-home"), "file://~");
        login(path.join(work, "creds"), "s3://bucket/state");
        assert.equal(resolveBackend({ env: { HOME: home, PULUMI_HOME: path.join(work, "pulumi-home") }, projectDir }).url, "file://~");
        const both = { HOME: home, PULUMI_HOME: path.join(work, "pulumi-home"), PULUMI_CREDENTIALS_PATH: path.join(work, "creds") };
        assert.equal(credentialsFile(both), path.join(work, "creds", "credentials.json"));
        assert.equal(resolveBackend({ env: both, projectDir }).url, "s3://bucket/state");
    });

    it("PULUMI_BACKEND_URL beats Pulumi.yaml backend.url beats the login; --backend-url beats all", () => {
        login(path.join(home, ".pulumi"), "https://api.pulumi.com");
        writeFileSync(path.join(projectDir, "Pulumi.yaml"), "name: aks-vault\nruntime: nodejs\nbackend:\n  url: gs://project-state\n");
        assert.deepEqual(
            resolveBackend({ env: { HOME: home }, projectDir }),
            { url: "gs://project-state", source: "project", from: "backend.url in Pulumi.yaml" },
        );
        assert.equal(resolveBackend({ env: { HOME: home, PULUMI_BACKEND_URL: "azblob://env" }, projectDir }).source, "env");
        assert.deepEqual(
            resolveBackend({ backendUrl: "file:///tmp/x", env: { HOME: home, PULUMI_BACKEND_URL: "azblob://env" }, projectDir }),
            { url: "file:///tmp/x", source: "option", from: "--backend-url" },
        );
    });

    it("a credentials file that is not JSON is named, with the fix; its content is not echoed", () => {
        mkdirSync(path.join(home, ".pulumi"));
        writeFileSync(
            path.join(home, ".pulumi", "credentials.json"),
            '{"current": "https://api.pulumi.com", "accessTokens": {"x": "pul-secret-token"',
        );
        assert.throws(() => resolveBackend({ env: { HOME: home }, projectDir }), (e: unknown) => {
            assert.ok(e instanceof RunConfigurationError);
            assert.match(e.message, /credentials\.json \(not JSON\): run `pulumi login` again, or pass --backend-url$/);
            assert.ok(!e.message.includes("pul-secret-token"));
            return true;
        });
    });

    it("a URL's user and password are not shown", () => {
        assert.equal(displayUrl("https://me:pw@state.example.com/api"), "https://[redacted]@state.example.com/api");
        assert.equal(displayUrl("azblob://pulumi-state"), "azblob://pulumi-state");
    });
});
