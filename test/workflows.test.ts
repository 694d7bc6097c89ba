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

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = {
    env?: Record<string, string>;
    environment?: string | { name: string };
    permissions?: Record<string, string>;
    steps: Step[];
    strategy?: { matrix?: { node?: string[] } };
};
type Workflow = {
    on: Record<string, unknown>;
    permissions?: Record<string, string> | string;
    env?: Record<string, string>;
    jobs: Record<string, Job>;
};

/** The secrets a step references (`${{ secrets.X }}` in its env or with), sorted. */
const secretsOf = (st: Step | Job | Workflow): string[] => [...new Set([
    ...JSON.stringify({ env: (st as Step).env ?? {}, with: (st as Step).with ?? {} }).matchAll(/secrets\.([A-Za-z0-9_]+)/g),
].map((m) => m[1]))].sort();

/**
 * What would hand a pull request's code more than read-only credentials (issue 10, item 5): an
 * empty list for the shipped preview workflow; the mutants in the test below each break one rule.
 */
function problems(wf: Workflow): string[] {
    const out: string[] = [];
    if ("pull_request_target" in wf.on) out.push("runs on pull_request_target: the base repository's secrets with the PR's code");
    if (wf.permissions !== undefined && !(typeof wf.permissions === "object" && Object.keys(wf.permissions).length === 0)) {
        out.push("workflow-level permissions are not {} (grant per job)");
    }
    if (Object.keys(wf.env ?? {}).length > 0 && secretsOf({ env: wf.env } as Step).length > 0) out.push("workflow env holds secrets");
    for (const [name, job] of Object.entries(wf.jobs)) {
        if (job.environment === undefined) out.push(`job ${name} has no environment (its read-only secrets and approval rule live there)`);
        if (secretsOf({ env: job.env } as Step).length > 0) {
            out.push(`job ${name} env holds secrets: every step (npm ci scripts too) would see them`);
        }
        for (const st of job.steps) {
            const label = st.uses ?? st.run ?? "?";
            if (st.uses !== undefined && !/@[0-9a-f]{40}$/.test(st.uses)) out.push(`${st.uses} is not pinned to a commit SHA`);
            if (st.uses?.startsWith("actions/checkout@") && st.with?.["persist-credentials"] !== false) {
                out.push("checkout keeps the GITHUB_TOKEN in .git/config (persist-credentials must be false)");
            }
            const secrets = secretsOf(st);
            if (st.run !== undefined && secrets.length > 0) {
                out.push(`step ${label} gets secrets ${secrets.join(", ")}: scripts from the PR never do`);
            }
            for (const s of secrets) {
                if (s !== "GITHUB_TOKEN" && !s.startsWith("PREVIEW_")) {
                    out.push(`secret ${s} is not a PREVIEW_* secret (production secrets never reach a PR)`);
                }
            }
        }
    }
    return out;
}

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
        assert.ok(errors.length > 0 && errors.every((p) => p.startsWith("/jobs/preview")), JSON.stringify(errors));
    });

    it("ci.yml installs from the lockfile, type-checks, lints, tests and loads the compiled policy pack on Node 20 and 22", () => {
        const wf = load("ci.yml");
        assert.ok("pull_request" in wf.on && "push" in wf.on);
        assert.deepEqual(wf.jobs.test.strategy?.matrix?.node, ["20", "22"]);
        const runs = steps(wf).flatMap((s) => (s.run === undefined ? [] : [s.run.split(" ").slice(0, 3).join(" ")]));
        assert.deepEqual(runs, ["npm ci --no-audit", "npm run typecheck", "npm run lint", "npm test", "npm run policy:smoke"]);
    });

    it("preview.yml previews pull requests with the policy pack and comments on the PR", () => {
        const wf = load("preview.yml");
        const pulumi = action(wf, "pulumi/actions");
        assert.equal(pulumi.with?.command, "preview");
        // The pack and the platform's pack config come from the base branch's checkout, so a pull
        // request cannot edit its own guardrails or exemptions and be judged by the edit.
        const base = steps(wf).find((st) => st.uses?.startsWith("actions/checkout@") && st.with?.path === "guardrails");
        assert.equal(base?.with?.ref, "${{ github.event.pull_request.base.sha }}");
        assert.equal(base?.with?.["persist-credentials"], false);
        assert.equal(pulumi.with?.policyPacks, "guardrails/policies");
        const configStep = steps(wf).find((st) => st.run?.includes("policyPackConfig.ts"));
        assert.equal(
            configStep?.run,
            'npx ts-node --transpile-only guardrails/scripts/policyPackConfig.ts "$STACK" > "$RUNNER_TEMP/policy-config.json"',
        );
        assert.equal(pulumi.with?.policyPackConfigs, "${{ runner.temp }}/policy-config.json");
        assert.equal(pulumi.with?.["comment-on-pr"], true);
        // The pack runs from the program's own install: npm ci comes before the preview.
        const order = steps(wf).map((s) => s.uses ?? s.run ?? "");
        assert.ok(order.findIndex((s) => s.startsWith("npm ci")) < order.findIndex((s) => s.startsWith("pulumi/actions@")));
    });

    it("preview.yml logs in to Azure by OIDC federated credential, never a client secret", () => {
        const wf = load("preview.yml");
        assert.equal(wf.jobs.preview.permissions?.["id-token"], "write");
        assert.equal(wf.jobs.preview.permissions?.["pull-requests"], "write");
        const login = action(wf, "azure/login");
        assert.deepEqual(login.with, {
            "client-id": "${{ secrets.PREVIEW_AZURE_CLIENT_ID }}",
            "tenant-id": "${{ secrets.PREVIEW_AZURE_TENANT_ID }}",
            "subscription-id": "${{ secrets.PREVIEW_AZURE_SUBSCRIPTION_ID }}",
        });
        const pulumi = action(wf, "pulumi/actions");
        assert.equal(pulumi.env?.ARM_USE_OIDC, "true");
        assert.equal(pulumi.env?.VAULT_TOKEN, "${{ secrets.PREVIEW_VAULT_TOKEN }}");
        assert.ok(!/client-secret|ARM_CLIENT_SECRET|creds:/.test(text("preview.yml")), "no client secret in the workflow");
    });

    describe("preview.yml runs the pull request's code with read-only credentials only", () => {
        it("in the pr-preview environment (which can require approval), on pull_request, never pull_request_target", () => {
            const wf = load("preview.yml");
            assert.deepEqual(Object.keys(wf.on), ["pull_request"]);
            assert.equal(wf.jobs.preview.environment, "pr-preview");
            assert.deepEqual(problems(wf), []);
        });

        it("each step gets only the secrets it uses: none for install and scripts, the preview set for the preview", () => {
            const wf = load("preview.yml");
            const used = steps(wf).map((st) =>
                `${st.uses?.split("@")[0] ?? st.run?.split(" ").slice(0, 3).join(" ")}: ${secretsOf(st).join(" ")}`);
            assert.deepEqual(used, [
                "actions/checkout: ",
                "actions/checkout: ",
                "actions/setup-node: ",
                "npm ci --no-audit: ",
                "npx ts-node --transpile-only: ",
                "azure/login: PREVIEW_AZURE_CLIENT_ID PREVIEW_AZURE_SUBSCRIPTION_ID PREVIEW_AZURE_TENANT_ID",
                "pulumi/actions: GITHUB_TOKEN PREVIEW_AZURE_CLIENT_ID PREVIEW_AZURE_SUBSCRIPTION_ID PREVIEW_AZURE_TENANT_ID " +
                    "PREVIEW_PULUMI_ACCESS_TOKEN PREVIEW_PULUMI_CONFIG_PASSPHRASE PREVIEW_VAULT_TOKEN",
            ]);
        });

        it("the checks catch each way back to production credentials (so they can fail)", () => {
            const base = text("preview.yml");
            const mutants: Array<[string, string, RegExp]> = [
                ["job env", base.replace(
                    "      STACK: ${{ vars.PULUMI_STACK || 'dev' }}",
                    "      STACK: ${{ vars.PULUMI_STACK || 'dev' }}\n      VAULT_TOKEN: ${{ secrets.VAULT_TOKEN }}",
                ), /job preview env holds secrets/],
                ["production name", base.replace("secrets.PREVIEW_VAULT_TOKEN", "secrets.VAULT_TOKEN"),
                    /secret VAULT_TOKEN is not a PREVIEW_\* secret/],
                ["no environment", base.replace("    environment: pr-preview\n", ""), /job preview has no environment/],
                ["tag", base.replace(/pulumi\/actions@[0-9a-f]{40} # v6\.6\.1/, "pulumi/actions@v6"), /pulumi\/actions@v6 is not pinned/],
                ["secret to a script", base.replace(
                    '      - run: npm ci --no-audit --no-fund',
                    '      - run: npm ci --no-audit --no-fund\n        env:\n          T: ${{ secrets.PREVIEW_VAULT_TOKEN }}',
                ), /step npm ci .* gets secrets/],
                ["pull_request_target", base.replace("  pull_request:\n", "  pull_request_target:\n"), /pull_request_target/],
                ["checkout token", base.replace("persist-credentials: false", "persist-credentials: true"), /persist-credentials/],
                ["workflow permissions", base.replace("permissions: {}\n", "permissions: write-all\n"), /workflow-level permissions/],
            ];
            for (const [what, mutated, expected] of mutants) {
                assert.notEqual(mutated, base, what);
                assert.match(problems(parse(mutated) as Workflow).join("\n"), expected, what);
            }
        });
    });

    it("the preview's Vault policy (docs/ci.md) only reads, besides the provider's child token, and never reads secret data", () => {
        const doc = readFileSync(path.join(ROOT, "docs", "ci.md"), "utf8");
        const hcl = /```hcl\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
        const rules = [...hcl.matchAll(/path "([^"]+)" \{\s*capabilities = \[([^\]]*)\]\s*\}/g)].map((m) => ({
            path: m[1],
            caps: m[2].split(",").map((c) => c.trim().replace(/"/g, "")),
        }));
        // Every path block was understood (none hides in an unparsed form).
        assert.equal(rules.length, (hcl.match(/^path /gm) ?? []).length);
        assert.ok(rules.length >= 3);
        const grants = rules.map((r) => `${r.path} ${r.caps.join(",")}`);
        // The provider's setup calls (terraform-provider-vault internal/provider/meta.go) are covered.
        assert.ok(grants.includes("auth/token/lookup-self read") && grants.includes("auth/token/create update"), grants.join("\n"));
        for (const r of rules) {
            if (r.path === "auth/token/create") continue;
            assert.deepEqual(r.caps, ["read"], `${r.path}: ${r.caps.join(",")}`);
            assert.ok(!/\/data\/|^sys\/(raw|auth|remount)|^\*|^auth\/token\/(create|root)/.test(r.path), `${r.path} is not for a preview`);
        }
    });

    it("the preview's Vault policy reads exactly what the dev stack manages (from the offline plan's Vault resources)", async () => {
        const { readStackFile } = await import("../src/plan/stackFile");
        const { evaluatePlan } = await import("../src/plan/plan");
        const plan = await evaluatePlan(readStackFile(ROOT, "dev").settings, "dev");
        const str = (v: unknown) => String(v);
        // The reads the provider makes to refresh each resource (see docs/vault-operator.md for the calls).
        const reads: Record<string, (i: Record<string, unknown>) => string[]> = {
            "vault:index/authBackend:AuthBackend": (i) => [`sys/mounts/auth/${str(i.path)}`, `sys/mounts/auth/${str(i.path)}/tune`],
            "vault:kubernetes/authBackendConfig:AuthBackendConfig": (i) => [`auth/${str(i.backend)}/config`],
            "vault:index/mount:Mount": (i) => [`sys/mounts/${str(i.path)}`],
            "vault:index/policy:Policy": (i) => [`sys/policies/acl/${str(i.name)}`],
            "vault:kubernetes/authBackendRole:AuthBackendRole": (i) => [`auth/${str(i.backend)}/role/${str(i.roleName)}`],
            "vault:kv/secretV2:SecretV2": (i) => [`${str(i.mount)}/metadata/${str(i.name)}`],
        };
        const vaultNodes = plan.nodes.filter((n) => n.type.startsWith("vault:") && n.custom);
        const expected = vaultNodes.flatMap((n) => {
            const read = reads[n.type];
            assert.ok(read !== undefined, `no read listed for ${n.type}: add it here and to docs/ci.md`);
            return read(n.inputs ?? {});
        });
        const doc = readFileSync(path.join(ROOT, "docs", "ci.md"), "utf8");
        const granted = [...(/```hcl\n([\s\S]*?)```/.exec(doc)?.[1] ?? "").matchAll(/path "([^"]+)"/g)]
            .map((m) => m[1])
            .filter((p) => !p.startsWith("auth/token/"));
        assert.deepEqual([...granted].sort(), [...new Set(expected)].sort());
    });

    it("every action in every workflow is pinned to a full commit SHA with its version in a comment", () => {
        for (const name of ["ci.yml", "preview.yml"]) {
            const uses = [...text(name).matchAll(/uses:\s*(\S+)(.*)$/gm)];
            assert.ok(uses.length > 0);
            for (const [, ref, rest] of uses) {
                assert.match(ref, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${name}: ${ref}`);
                assert.match(rest, /^ # v\d+\.\d+\.\d+$/, `${name}: ${ref} needs a # vX.Y.Z comment`);
            }
        }
    });
});
