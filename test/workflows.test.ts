/**
 * The GitHub workflows: valid against the workflow schema (@action-validator/core, the schema
 * GitHub's own editor tooling publishes), and saying what CI and the preview gate promise.
 */
import assert from "node:assert/strict";
import { readFileSync } from "fs";
import * as path from "path";
import { parse } from "yaml";
import { validateWorkflow } from "@action-validator/core";
import { ROOT } from "./support/harness";

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Workflow = {
    on: Record<string, unknown>;
    permissions?: Record<string, string>;
    jobs: Record<string, { env?: Record<string, string>; steps: Step[]; strategy?: { matrix?: { node?: string[] } } }>;
};

const text = (name: string) => readFileSync(path.join(ROOT, ".github", "workflows", name), "utf8");
const load = (name: string) => parse(text(name)) as Workflow;
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps);
const action = (wf: Workflow, prefix: string) => {
    const found = steps(wf).filter((s) => s.uses?.startsWith(`${prefix}@`));
    assert.equal(found.length, 1, `one ${prefix} step`);
    return found[0];
};

describe("GitHub workflows", () => {
    for (const name of ["ci.yml", "preview.yml"]) {
        it(`${name} is a valid workflow`, () => {
            assert.deepEqual(validateWorkflow(text(name)).errors, []);
        });
    }

    it("the validator rejects a broken workflow (so the checks above can fail)", () => {
        const broken = text("preview.yml").replace("id-token: write", "id-token: writ").replace("runs-on:", "runs-onn:");
        const errors = validateWorkflow(broken).errors.map((e) => ("path" in e ? e.path : e.title));
        assert.deepEqual(errors.sort(), ["/jobs/preview", "/permissions"]);
    });

    it("ci.yml installs from the lockfile, type-checks, lints and tests on Node 20 and 22", () => {
        const wf = load("ci.yml");
        assert.ok("pull_request" in wf.on && "push" in wf.on);
        assert.deepEqual(wf.jobs.test.strategy?.matrix?.node, ["20", "22"]);
        const runs = steps(wf).flatMap((s) => (s.run === undefined ? [] : [s.run.split(" ").slice(0, 3).join(" ")]));
        assert.deepEqual(runs, ["npm ci --no-audit", "npm run typecheck", "npm run lint", "npm test"]);
    });

    it("preview.yml previews pull requests with the policy pack and comments on the PR", () => {
        const wf = load("preview.yml");
        assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
        const pulumi = action(wf, "pulumi/actions");
        assert.equal(pulumi.with?.command, "preview");
        assert.equal(pulumi.with?.policyPacks, "policies");
        // The pack config derived from the stack's config (allowWildcard roles) goes with it.
        const configStep = steps(wf).find((st) => st.run?.startsWith("npm run -s policy:config"));
        assert.equal(configStep?.run, 'npm run -s policy:config -- "$STACK" > "$RUNNER_TEMP/policy-config.json"');
        assert.equal(pulumi.with?.policyPackConfigs, "${{ runner.temp }}/policy-config.json");
        assert.equal(pulumi.with?.["comment-on-pr"], true);
        // The pack runs from the program's own install: npm ci comes before the preview.
        const order = steps(wf).map((s) => s.uses ?? s.run ?? "");
        assert.ok(order.findIndex((s) => s.startsWith("npm ci")) < order.findIndex((s) => s.startsWith("pulumi/actions@")));
    });

    it("preview.yml logs in to Azure by OIDC federated credential, never a client secret, and takes Vault's token from a secret", () => {
        const wf = load("preview.yml");
        assert.equal(wf.permissions?.["id-token"], "write");
        assert.equal(wf.permissions?.["pull-requests"], "write");
        const login = action(wf, "azure/login");
        assert.deepEqual(login.with, {
            "client-id": "${{ secrets.AZURE_CLIENT_ID }}",
            "tenant-id": "${{ secrets.AZURE_TENANT_ID }}",
            "subscription-id": "${{ secrets.AZURE_SUBSCRIPTION_ID }}",
        });
        const env = wf.jobs.preview.env ?? {};
        assert.equal(env.ARM_USE_OIDC, "true");
        assert.equal(env.VAULT_TOKEN, "${{ secrets.VAULT_TOKEN }}");
        assert.ok(!/client-secret|ARM_CLIENT_SECRET|creds:/.test(text("preview.yml")), "no client secret in the workflow");
    });
});
