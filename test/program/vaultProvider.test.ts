/** The Vault provider: address from config, token from secret config or VAULT_TOKEN, never in clear. */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { loadFromConfig } from "../../src/config/load";
import { buildProgram } from "../../src/program/program";
import { secretAt } from "../support/cloud";
import { setConfig, settle, stackConfig, useCloud } from "../support/harness";

describe("Vault provider", () => {
    it("takes the token from secret config, as a secret", async () => {
        const cloud = await useCloud();
        setConfig({ ...stackConfig(), vaultToken: "hvs.from-secret-config" }, ["vaultToken"]);
        const { settings, secrets } = loadFromConfig(new pulumi.Config());
        buildProgram(settings, secrets, { stage: "vault-auth" });
        await settle(cloud);
        const p = cloud.one("pulumi:providers:vault");
        assert.equal(p.inputs.address, "https://vault.mydomain.com:8200");
        const token = secretAt(p.rawInputs, "token");
        assert.equal(token.secret, true);
        assert.equal(token.value, "hvs.from-secret-config");
        // Provider inputs travel as strings (provider config is string-encoded on the wire).
        assert.equal(p.inputs.maxLeaseTtlSeconds, "3600");
    });

    it("leaves the token to VAULT_TOKEN when no secret config is set", async () => {
        const cloud = await useCloud({ config: stackConfig() });
        const { settings, secrets } = loadFromConfig(new pulumi.Config());
        buildProgram(settings, secrets, { stage: "vault-auth" });
        await settle(cloud);
        assert.equal(cloud.one("pulumi:providers:vault").inputs.token, undefined);
    });
});
