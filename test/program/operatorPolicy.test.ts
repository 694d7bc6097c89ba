/**
 * The operator's Vault policy covers every API call the Vault provider makes for what the program
 * registers (deploy/vault-provider-calls.json, read from the provider's source), and grants
 * nothing those calls do not need. The ACL check here is a simple one (exact paths, `*` suffix
 * globs, exact before glob, deny wins); the real check with Vault's ACL engine is in the Go suite.
 */
import assert from "node:assert/strict";
import { readFileSync } from "fs";
import * as path from "path";
import { parseSettings } from "../../src/config/validate";
import {
    OperatorPolicyParams,
    operatorPolicyParams,
    renderOperatorPolicy,
    renderOperatorPolicyFile,
} from "../../scripts/operatorPolicy";
import { labRaw } from "../support/fixtures";
import { PROJECT, ROOT } from "../support/harness";
import { runLab } from "../support/run";
import { RecordedResource } from "../support/cloud";

interface Call {
    id: string;
    pulumiType: string;
    method: string;
    path: string;
    operation: string;
    capabilities: string[];
    unauthenticated?: boolean;
}
const CALLS = (JSON.parse(readFileSync(path.join(ROOT, "deploy", "vault-provider-calls.json"), "utf8")) as { calls: Call[] }).calls;
const SHIPPED = readFileSync(path.join(ROOT, "deploy", "vault-operator-policy.hcl"), "utf8");

type Rules = Map<string, Set<string>>;

/** `path "X" { capabilities = [...] }` blocks; comments dropped. */
export function parsePolicy(hcl: string): Rules {
    const rules: Rules = new Map();
    const text = hcl.replace(/^\s*#.*$/gm, "");
    const block = /path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g;
    for (const m of text.matchAll(block)) {
        const caps = [...m[2].matchAll(/"([^"]+)"/g)].map((c) => c[1]);
        assert.ok(!rules.has(m[1]), `path ${m[1]} appears twice`);
        rules.set(m[1], new Set(caps));
    }
    // Nothing else may hide in the file (a typo would silently grant nothing).
    assert.equal(text.replace(block, "").trim(), "", "the policy holds something that is not a path block");
    return rules;
}

/** The rule Vault would apply: an exact path first, else the longest `*` prefix. */
function ruleFor(rules: Rules, p: string): { path: string; caps: Set<string> } | undefined {
    const exact = rules.get(p);
    if (exact !== undefined) return { path: p, caps: exact };
    let best: { path: string; caps: Set<string> } | undefined;
    for (const [rp, caps] of rules) {
        if (rp.endsWith("*") && p.startsWith(rp.slice(0, -1)) && (best === undefined || rp.length > best.path.length)) {
            best = { path: rp, caps };
        }
    }
    return best;
}

function allowed(rules: Rules, p: string, caps: string[]): boolean {
    const r = ruleFor(rules, p);
    return r !== undefined && !r.caps.has("deny") && caps.every((c) => r.caps.has(c));
}

interface Concrete { id: string; path: string; capabilities: string[] }

/** Parameters of a recorded resource's calls, read from what the program sent. */
function paramsOf(r: RecordedResource): Record<string, string> {
    const s = (k: string) => String(r.inputs[k]);
    switch (r.type) {
        case "vault:index/authBackend:AuthBackend":
        case "vault:jwt/authBackend:AuthBackend":
            return { authPath: s("path") };
        case "vault:kubernetes/authBackendConfig:AuthBackendConfig":
            return { authPath: s("backend") };
        case "vault:kubernetes/authBackendRole:AuthBackendRole":
        case "vault:jwt/authBackendRole:AuthBackendRole":
            return { authPath: s("backend"), role: s("roleName") };
        case "vault:index/mount:Mount":
            return { kvPath: s("path") };
        case "vault:kv/secretV2:SecretV2":
            return { kvPath: s("mount"), secretPath: s("name") };
        case "vault:index/policy:Policy":
            return { policy: s("name") };
        default:
            return {};
    }
}

/** Every authenticated call the provider makes for the Vault resources (and the provider) recorded. */
function concreteCalls(resources: RecordedResource[]): Concrete[] {
    const out: Concrete[] = [];
    for (const r of resources.filter((x) => x.type.startsWith("vault:") || x.type === "pulumi:providers:vault")) {
        const calls = CALLS.filter((c) => c.pulumiType === r.type);
        assert.ok(calls.length > 0, `deploy/vault-provider-calls.json lists no call for ${r.type}: read the provider's source for it`);
        const params = paramsOf(r);
        for (const c of calls.filter((x) => !x.unauthenticated)) {
            const p = c.path.replace(/\{(\w+)\}/g, (_, k: string) => {
                assert.ok(params[k] !== undefined && params[k] !== "undefined", `${r.type} ${r.name}: no value for {${k}}`);
                return params[k];
            });
            out.push({ id: `${c.id} (${r.name})`, path: p, capabilities: c.capabilities });
        }
    }
    return out;
}

function uncovered(rules: Rules, calls: Concrete[]): string[] {
    return calls.filter((c) => !allowed(rules, c.path, c.capabilities)).map((c) => `${c.id}: ${c.capabilities.join("+")} on ${c.path}`);
}

/** Rule capabilities no call needs: over-grants. */
function unused(rules: Rules, calls: Concrete[]): string[] {
    const needed = new Map<string, Set<string>>();
    for (const c of calls) {
        const r = ruleFor(rules, c.path);
        if (r === undefined) continue;
        const set = needed.get(r.path) ?? new Set<string>();
        c.capabilities.forEach((x) => set.add(x));
        needed.set(r.path, set);
    }
    const out: string[] = [];
    for (const [p, caps] of rules) for (const c of caps) if (!needed.get(p)?.has(c)) out.push(`${c} on ${p}`);
    return out;
}

describe("operator Vault policy", () => {
    it("the shipped file is the one rendered for the dev stack", () => {
        const expected = renderOperatorPolicyFile(
            operatorPolicyParams(parseSettings(labRaw()), PROJECT, "dev"),
            "the dev stack (Pulumi.dev.yaml)",
        );
        assert.equal(SHIPPED, expected, "deploy/vault-operator-policy.hcl is stale: npm run generate:operator-policy");
    });

    it("covers every call the provider makes for the dev stack, and grants nothing else", async () => {
        const run = await runLab();
        const calls = concreteCalls(run.cloud.resources);
        // The calls that failed with the README's old policy are among them.
        const paths = calls.map((c) => `${c.capabilities.join("+")} ${c.path}`);
        for (const p of [
            "update auth/token/create", "read sys/mounts/auth/aks/tune", "read sys/mounts/auth/aks", "update+sudo sys/auth/aks",
            "read secret/metadata/devops",
        ]) {
            assert.ok(paths.includes(p), `expected the call ${p}`);
        }
        const rules = parsePolicy(SHIPPED);
        assert.deepEqual(uncovered(rules, calls), []);
        assert.deepEqual(unused(rules, calls), []);
    });

    it("covers a stack with other paths, several workloads and an existing KV mount", async () => {
        const mutate = (raw: Record<string, any>) => {
            raw.kubernetesAuth = { path: "teams/aks-prod" };
            raw.kv = { path: "kv-apps", existing: true };
            raw.workloads.push({
                name: "api",
                namespace: "api",
                serviceAccount: "api-sa",
                role: "api-reader",
                secrets: [{ file: "db", path: "api/db", key: "password" }],
                seed: [{ path: "api/db", values: { password: { random: { length: 24 } } } }],
            });
        };
        const run = await runLab(mutate);
        assert.equal(run.cloud.of("vault:index/mount:Mount").length, 0);
        const raw = labRaw();
        mutate(raw);
        const settings = parseSettings(raw);
        const params = operatorPolicyParams(settings, PROJECT, "dev");
        assert.deepEqual(params, {
            authPath: "teams/aks-prod",
            kvPath: "kv-apps",
            manageKvMount: false,
            roles: ["api-reader", "busybox"],
            policies: ["aks-vault.dev.api", "aks-vault.dev.busybox"],
            secretPaths: ["api/db", "devops"],
        } satisfies OperatorPolicyParams);
        const rules = parsePolicy(renderOperatorPolicy(params));
        const calls = concreteCalls(run.cloud.resources);
        assert.deepEqual(uncovered(rules, calls), []);
        assert.deepEqual(unused(rules, calls), []);
        assert.ok(
            ![...rules.keys()].some((p) => p.startsWith("sys/mounts/kv-apps")),
            "an existing KV mount is not the operator's to change",
        );
    });

    it("the check fails when a needed grant is missing (the README's old policy)", async () => {
        const run = await runLab();
        const calls = concreteCalls(run.cloud.resources);
        const old = parsePolicy(`
path "sys/auth/aks"        { capabilities = ["create", "read", "update", "delete", "sudo"] }
path "sys/auth"            { capabilities = ["read"] }
path "sys/mounts/secret"   { capabilities = ["create", "read", "update", "delete"] }
path "sys/mounts"          { capabilities = ["read"] }
path "sys/policies/acl/*"  { capabilities = ["create", "read", "update", "delete"] }
path "auth/aks/*"          { capabilities = ["create", "read", "update", "delete"] }
path "secret/data/*"       { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/*"   { capabilities = ["read", "delete"] }
`);
        const missing = uncovered(old, calls);
        assert.ok(missing.some((m) => m.startsWith("provider.child-token")), missing.join("\n"));
        assert.ok(missing.some((m) => m.startsWith("auth.tune-read")), missing.join("\n"));
        assert.ok(missing.some((m) => m.startsWith("auth.read")), missing.join("\n"));
        // And a rule without sudo does not enable an auth method.
        const noSudo = parsePolicy(SHIPPED.replace(`["update", "delete", "sudo"]`, `["update", "delete"]`));
        assert.ok(uncovered(noSudo, calls).some((m) => m.startsWith("auth.enable")));
    });

    it("every call names its source, operation and capabilities consistently", () => {
        for (const c of CALLS) {
            assert.ok(["read", "create", "update", "delete", "list"].includes(c.operation), c.id);
            if (c.unauthenticated) assert.deepEqual(c.capabilities, [], c.id);
            else assert.equal(c.capabilities[0], c.operation, c.id);
            assert.match((c as unknown as { source: string }).source, /^[\w/.]+\.go:\d+.*@[0-9a-f]{12}$/, c.id);
            // Vault maps GET to read, DELETE to delete, PUT/POST to create or update.
            const byMethod: Record<string, string[]> = {
                GET: ["read"], DELETE: ["delete"], PUT: ["create", "update"], POST: ["create", "update"], LIST: ["list"],
            };
            assert.ok(byMethod[c.method].includes(c.operation), `${c.id}: ${c.method} is not ${c.operation}`);
        }
    });
});
