/**
 * vault-kv-mount-wide-read (issue 22): a glob over a whole KV mount is mandatory-refused, whatever
 * form it takes, unless the platform's pack config exempts the policy by name; narrower globs
 * and deny-only rules are left to vault-policy-least-privilege. Fixture style: a valid stack,
 * one property broken, the exact violation asserted.
 */
import assert from "node:assert/strict";
import { NAME, vaultKvMountWideRead } from "../../policies/vault-kv-mount-wide-read";
import { guardrailPolicies } from "../../policies/policies";
import { platformConfig } from "../../policies/platformConfig";
import { TYPES } from "../../policies/lib";
import { ROOT } from "../support/harness";
import { Fixture, stackViolations } from "../support/policyHarness";
import * as path from "path";

const kv = (mount: string): Fixture => ({ type: TYPES.vaultKv, name: "vault-kv", props: { mount, external: [] } });
const policy = (name: string, rules: string): Fixture => ({
    type: TYPES.vaultPolicy, name: `${name}-policy`, props: { name, policy: rules },
});
const rule = (p: string, caps = ["read"]) => `path "${p}" {\n  capabilities = [${caps.map((c) => `"${c}"`).join(", ")}]\n}\n`;

async function messages(resources: Fixture[], config: object = {}): Promise<string[]> {
    return (await stackViolations(vaultKvMountWideRead(), resources, config)).map((v) => v.message);
}

describe(NAME, () => {
    it("is in the pack, mandatory", () => {
        const p = guardrailPolicies().find((x) => x.name === NAME);
        assert.equal(p?.enforcementLevel, "mandatory");
    });

    it("passes the program's exact-path policies and a glob under one team's prefix", async () => {
        assert.deepEqual(await messages([kv("secret"), policy("aks-vault.dev.busybox", rule("secret/data/devops"))]), []);
        assert.deepEqual(await messages([kv("secret"), policy("team", rule("secret/data/team/*"))]), []);
        assert.deepEqual(await messages([kv("secret"), policy("apps", rule("secret/data/app*"))]), []);
        assert.deepEqual(await messages([kv("secret"), policy("deny-all", rule("secret/data/*", ["deny"]))]), []);
    });

    for (const p of ["secret/data/*", "secret/*", "+/data/*", "*", "secret/metadata/*", "secret/data/+/*"]) {
        it(`refuses "${p}" with the exact violation`, async () => {
            const found = await messages([kv("secret"), policy("backup", rule(p, ["read", "list"]))]);
            assert.equal(found.length, 1, JSON.stringify(found));
            assert.match(found[0], new RegExp(`^Vault policy "backup" grants read, list on "${p.replace(/[*+]/g, "\\$&")}", every secret`));
        });
    }

    it("names the policy, the rule, the mount and the platform's exemption", async () => {
        assert.deepEqual(await messages([kv("kv-apps"), policy("reader", rule("kv-apps/data/*"))]), [
            'Vault policy "reader" grants read on "kv-apps/data/*", every secret of the KV mount "kv-apps" ' +
                '(every team\'s, on a shared Vault). List the paths it needs, or ask the platform team to add "reader" ' +
                "to `exemptPolicies` for vault-kv-mount-wide-read in policies/platform-config.json.",
        ]);
    });

    it("exempts only what the platform's pack config names, compared as Vault stores names", async () => {
        const rs = [kv("secret"), policy("Backup ", rule("secret/data/*"))];
        assert.deepEqual(await messages(rs, { exemptPolicies: ["backup"] }), []);
        assert.equal((await messages(rs, { exemptPolicies: ["other"] })).length, 1);
        // The repository's platform file exempts nothing.
        assert.deepEqual(platformConfig(path.join(ROOT, "policies"), "dev")[NAME], { exemptPolicies: [] });
    });
});
