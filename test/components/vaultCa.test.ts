/** A Vault behind a private CA: the program's own Vault provider trusts the same CA as the agents. */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync } from "fs";
import * as os from "os";
import * as path from "path";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { writeVaultCaCertFile } from "../../components/caCertFile";
import { labRaw } from "../support/fixtures";
import { settle, useCloud } from "../support/harness";
import { secretInputs } from "../support/run";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUprivateCAforTestsOnly\n-----END CERTIFICATE-----\n";

function settingsWith(edit: (raw: Record<string, any>) => void) {
    const raw = labRaw();
    raw.vault.caCertPem = PEM;
    edit(raw);
    return parseSettings(raw);
}

describe("a Vault behind a private CA (vault.caCertPem)", () => {
    it("the Vault provider gets the CA as a file holding exactly the PEM, the injector as its env", async () => {
        const project = mkdtempSync(path.join(os.tmpdir(), "ca-test-"));
        const cloud = await useCloud();
        buildProgram(settingsWith(() => undefined), secretInputs(), { projectDir: project });
        await settle(cloud);
        const file = String(cloud.one("pulumi:providers:vault").inputs.caCertFile);
        // The engine starts the provider in the project root (pulumi/pulumi plugin.go `cmd.Dir = pwd`).
        const onDisk = path.resolve(project, file);
        assert.equal(readFileSync(onDisk, "utf8"), PEM);
        assert.equal(statSync(onDisk).mode & 0o777, 0o600);
        const values = cloud.one("kubernetes:helm.sh/v3:Release").inputs.values as any;
        assert.equal(values.injector.extraEnvironmentVars.AGENT_INJECT_VAULT_CACERT_BYTES, PEM);
    });

    it("records a path in state that is the same on every runner: relative, named by content, no temp directory or uid", async () => {
        const paths: string[] = [];
        // Two runners: different project checkouts, different temp directories.
        for (const prefix of ["runner-a-", "runner-b-"]) {
            const project = mkdtempSync(path.join(os.tmpdir(), prefix));
            const cloud = await useCloud();
            buildProgram(settingsWith(() => undefined), secretInputs(), { projectDir: project });
            await settle(cloud);
            paths.push(String(cloud.one("pulumi:providers:vault").inputs.caCertFile));
        }
        const [a, b] = paths;
        assert.equal(a, b, "refresh and destroy from another runner configure the provider from this value");
        assert.ok(!path.isAbsolute(a), a);
        assert.ok(!a.includes(os.tmpdir()), a);
        assert.match(a, /^\.vault-ca\/vault-ca-[0-9a-f]{16}\.pem$/);
        // Another CA, another file: a CA rotation is a provider change, not a rewrite in place.
        const other = await useCloud();
        buildProgram(settingsWith((raw) => { raw.vault.caCertPem = PEM.replace("Tests", "Other"); }), secretInputs(), {
            projectDir: mkdtempSync(path.join(os.tmpdir(), "runner-c-")),
        });
        await settle(other);
        assert.notEqual(String(other.one("pulumi:providers:vault").inputs.caCertFile), a);
    });

    it("the CLI writes the file before a destroy or refresh (no program run) where the state's path points", () => {
        const project = mkdtempSync(path.join(os.tmpdir(), "ca-destroy-"));
        const rel = writeVaultCaCertFile(PEM, project);
        assert.equal(readFileSync(path.resolve(project, rel), "utf8"), PEM);
        assert.equal(writeVaultCaCertFile(PEM, project), rel, "same content, same path");
    });

    it("without a CA the provider uses the system roots (no file)", async () => {
        const cloud = await useCloud();
        buildProgram(parseSettings(labRaw()), secretInputs());
        await settle(cloud);
        assert.equal(cloud.one("pulumi:providers:vault").inputs.caCertFile, undefined);
    });

    it("refuses a CA directory other users could write to", () => {
        const project = mkdtempSync(path.join(os.tmpdir(), "ca-open-"));
        mkdirSync(path.join(project, ".vault-ca"));
        chmodSync(path.join(project, ".vault-ca"), 0o777);
        assert.throws(() => writeVaultCaCertFile(PEM, project), /must be a directory owned by this user with mode 0700/);
    });

    it("refuses caCertPem with chart 0.25.0, whose injector (vault-k8s 1.2.1) ignores AGENT_INJECT_VAULT_CACERT_BYTES", () => {
        assert.throws(() => settingsWith((raw) => { raw.injector.chartVersion = "0.25.0"; }), (e: unknown) => {
            assert.ok(e instanceof SettingsError);
            const p = e.problems.find((x) => x.key === "injector.chartVersion");
            assert.ok(p !== undefined, e.message);
            assert.equal(p.found, '"0.25.0"');
            assert.match(p.expected, /^0\.26\.0 or later with vault\.caCertPem: .*vault-k8s 1\.3\.1/);
            return true;
        });
        // A newer injector image on the old chart understands it.
        assert.doesNotThrow(() => settingsWith((raw) => { raw.injector.chartVersion = "0.25.0"; raw.injector.imageTag = "1.3.1"; }));
        // Without a CA the old chart is fine.
        const raw = labRaw();
        raw.injector.chartVersion = "0.25.0";
        assert.doesNotThrow(() => parseSettings(raw));
    });
});
