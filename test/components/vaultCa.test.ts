/** A Vault behind a private CA: the program's own Vault provider trusts the same CA as the agents. */
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, statSync } from "fs";
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
        const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "ca-test-")), "ca");
        const cloud = await useCloud();
        buildProgram(settingsWith(() => undefined), secretInputs(), { vaultCaCertDir: dir });
        await settle(cloud);
        const file = String(cloud.one("pulumi:providers:vault").inputs.caCertFile);
        assert.ok(path.isAbsolute(file) && file.startsWith(dir), file);
        assert.equal(readFileSync(file, "utf8"), PEM);
        assert.equal(statSync(file).mode & 0o777, 0o600);
        const values = cloud.one("kubernetes:helm.sh/v3:Release").inputs.values as any;
        assert.equal(values.injector.extraEnvironmentVars.AGENT_INJECT_VAULT_CACERT_BYTES, PEM);
        // Same content, same path: a later run (or a destroy through the CLI) finds it again.
        assert.equal(writeVaultCaCertFile(PEM, dir), file);
    });

    it("without a CA the provider uses the system roots (no file)", async () => {
        const cloud = await useCloud();
        buildProgram(parseSettings(labRaw()), secretInputs());
        await settle(cloud);
        assert.equal(cloud.one("pulumi:providers:vault").inputs.caCertFile, undefined);
    });

    it("refuses a CA directory other users could write to", () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), "ca-open-"));
        chmodSync(dir, 0o777);
        assert.throws(() => writeVaultCaCertFile(PEM, dir), /must be a directory owned by this user with mode 0700/);
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
