/**
 * `npm run test:upstream:mutations`: proves the upstream oracles bite. Copies the repository to a
 * temp dir (node_modules symlinked), then for each realistic wrong rendering below replaces one
 * anchored piece of the program's TypeScript in the copy, runs the fixtures step and `go test` of
 * test/upstream there, and expects the suite to fail, in the oracle the mutation names (at least).
 * One line per mutation: `mutation <name>: caught by <package>.<Test> (<stacks>)`, or `SURVIVED`.
 * Exits non-zero when a mutation survives, is caught only by another oracle than the one named,
 * makes the program itself fail to evaluate (not a rendering), or its anchor text is not found
 * exactly once in the program's sources (someone moved or changed the code: update the anchor).
 *
 * Not part of CI (it runs the suite once per mutation); run it after changing an oracle.
 *
 *   npm run test:upstream:mutations              # all
 *   npm run test:upstream:mutations -- NAME ...  # some
 *   npm run test:upstream:mutations -- --anchors # only check that every anchor is found once
 */
import { execFileSync, spawnSync } from "child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";

interface Mutation {
    name: string;
    /** The Go package (oracle) that must catch it. */
    oracle: "injector" | "kubeauth" | "jwtauth" | "templates" | "acl" | "kv";
    /** What goes wrong in a real cluster or Vault. */
    why: string;
    /** Program source text that must occur exactly once (outside test/ and node_modules). */
    anchor: string;
    replacement: string;
}

export const MUTATIONS: Mutation[] = [
    {
        name: "namespace-label-value",
        oracle: "injector",
        why: "workload namespaces get the opt-in label with another value: the webhook never sees their pods, which start without secrets",
        anchor: "const injectionLabels = { [INJECTION_LABEL]: INJECTION_LABEL_VALUE };",
        replacement: "const injectionLabels = { [INJECTION_LABEL]: \"true\" };",
    },
    {
        name: "webhook-every-namespace",
        oracle: "injector",
        why: "the webhook's namespaceSelector loses the opt-in label: with failurePolicy Fail an injector outage blocks pods cluster-wide",
        anchor: "            matchLabels: { [INJECTION_LABEL]: INJECTION_LABEL_VALUE },\n",
        replacement: "",
    },
    {
        name: "init-only-runs-sidecar",
        oracle: "injector",
        why: "init-only workloads get a resident agent sidecar (agent-pre-populate-only false)",
        anchor: "if (injection.mode === \"init-only\") a[ANNOTATION.prePopulateOnly] = \"true\";",
        replacement: "if (injection.mode === \"init-only\") a[ANNOTATION.prePopulateOnly] = \"false\";",
    },
    {
        name: "jwt-agent-reads-pod-token",
        oracle: "injector",
        why: "method jwt: the agent logs in with the pod's default token (API server audience), which the JWT role refuses",
        anchor: "return `${INJECTOR_TOKEN_MOUNT}/${JWT_TOKEN_FILE}`;",
        replacement: "return \"/var/run/secrets/kubernetes.io/serviceaccount/token\";",
    },
    {
        name: "issuer-validation-off",
        oracle: "kubeauth",
        why: "Vault stops checking the tokens' iss claim (disable_iss_validation true)",
        anchor: "disableIssValidation: !args.validateIssuer,",
        replacement: "disableIssValidation: true,",
    },
    {
        name: "parse-validate-issuer-default",
        oracle: "kubeauth",
        why: "a parsing bug: an omitted kubernetesAuth.validateIssuer turns issuer validation on (the documented default is off)",
        anchor: "const KUBERNETES_METHOD_DEFAULTS = { validateIssuer: false,",
        replacement: "const KUBERNETES_METHOD_DEFAULTS = { validateIssuer: true,",
    },
    {
        name: "role-any-namespace",
        oracle: "kubeauth",
        why: "the Kubernetes role admits the service account name from any namespace",
        anchor: "boundServiceAccountNamespaces: [namespace],",
        replacement: "boundServiceAccountNamespaces: [\"*\"],",
    },
    {
        name: "role-without-audience",
        oracle: "kubeauth",
        why: "the Kubernetes role binds no audience: any token the API server accepts logs in "
            + "(the pod's default token, one minted for another relying party)",
        anchor: "        audience: auth.audience,\n        tokenTtl: args.tokenTtl,",
        replacement: "        tokenTtl: args.tokenTtl,",
    },
    {
        name: "no-reviewer-jwt",
        oracle: "kubeauth",
        why: "the auth config loses the reviewer JWT: Vault reviews with each pod's own token, which may not call TokenReview",
        anchor: "tokenReviewerJwt: args.tokenReviewerJwt === undefined ? undefined : pulumi.secret(args.tokenReviewerJwt),",
        replacement: "tokenReviewerJwt: undefined,",
    },
    {
        name: "jwt-bound-issuer-trimmed",
        oracle: "jwtauth",
        why: "bound_issuer without AKS's trailing slash: every pod token is refused (Azure/azure-workload-identity#1700)",
        anchor: "boundIssuer: args.issuer,",
        replacement: "boundIssuer: pulumi.output(args.issuer).apply((u) => u.replace(/\\/$/, \"\")),",
    },
    {
        name: "jwt-role-without-subject",
        oracle: "jwtauth",
        why: "the JWT role binds no subject: any service account with a token for the audience logs in",
        anchor: "boundSubject: pulumi.all([namespace, serviceAccountName]).apply(([ns, sa]) => serviceAccountSubject(ns, sa)),",
        replacement: "",
    },
    {
        name: "template-reads-data",
        oracle: "templates",
        why: "key templates read .Data.<key> instead of KV v2's .Data.data.<key>: files render `<no value>`",
        anchor: "return GO_IDENTIFIER.test(key) ? `.Data.data.${key}`",
        replacement: "return GO_IDENTIFIER.test(key) ? `.Data.${key}`",
    },
    {
        name: "template-drops-prefix",
        oracle: "templates",
        why: "a key file loses its declared prefix (the blog's `token value stored on path secret/devops is `)",
        anchor: "${s.prefix ?? \"\"}{{ ${keyExpression(s.key)} }}",
        replacement: "{{ ${keyExpression(s.key)} }}",
    },
    {
        name: "seed-cas-top-level",
        oracle: "kv",
        why: "seeds use the provider's top-level cas, which the KV engine ignores: the next up overwrites a rotated value",
        anchor: "...(writeOnce ? { options: { cas: \"0\" } } : {})",
        replacement: "...(writeOnce ? { cas: 0 } : {})",
    },
    {
        name: "parse-write-once-default",
        oracle: "kv",
        why: "a parsing bug: an omitted seed writeOnce means false (the documented default is true): seeds overwrite",
        anchor: "        writeOnce: z\n            .boolean()\n            .default(true)",
        replacement: "        writeOnce: z\n            .boolean()\n            .default(false)",
    },
    {
        name: "seed-default-mount",
        oracle: "kv",
        why: "seeds are written to `secret` whatever kv.path says: Vault refuses them, or they land in another team's mount",
        anchor: "{ mount: args.kvMount, name: s.path, dataJson,",
        replacement: "{ mount: \"secret\", name: s.path, dataJson,",
    },
    {
        name: "kv-mount-version-1",
        oracle: "kv",
        why: "the KV mount is created as version 1: no versions, no check-and-set, seeds stored under a literal data/ key",
        anchor: "options: { version: \"2\" },",
        replacement: "options: { version: \"1\" },",
    },
    {
        name: "policy-writes-acl-policies",
        oracle: "acl",
        why: "every workload policy may also write sys/policies/acl/*: a workload can grant itself anything",
        anchor: "    return blocks.join(\"\\n\");",
        replacement: "    return [...blocks, 'path \"sys/policies/acl/*\" {\\n  capabilities = [\"create\", \"update\"]\\n}\\n']"
            + ".join(\"\\n\");",
    },
    {
        name: "policy-path-glob",
        oracle: "acl",
        why: "policy paths end in a glob: a workload reads every secret whose name starts with its own",
        anchor: "`path \"${kvDataPath(mount, p)}\" {",
        replacement: "`path \"${kvDataPath(mount, p)}*\" {",
    },
    {
        name: "list-on-granted-paths",
        oracle: "acl",
        why: "list goes on paths shared with the workload too, not only its own",
        anchor: "for (const p of unique) if (owned.has(p)) blocks.push(",
        replacement: "for (const p of unique) blocks.push(",
    },
    {
        name: "policy-prefix-case-collision",
        oracle: "acl",
        why: "the default policy prefix keeps upper case: Vault lower-cases policy names, "
            + "so stack Qa's policies replace stack qa's on a shared Vault",
        anchor: "const escape = (s: string) => s.replace(/[A-Z]/g, (c) => `~${c.toLowerCase()}`);",
        replacement: "const escape = (s: string) => s;",
    },
    {
        name: "policy-prefix-dashes",
        oracle: "acl",
        why: "the default policy prefix goes back to <project>-<stack>-: "
            + "workload eu-web of stack dev and web of stack dev-eu share one policy",
        anchor: "return `${escape(project)}.${escape(stack)}.`;",
        replacement: "return `${escape(project)}-${escape(stack)}-`;",
    },
];

const ROOT = path.resolve(__dirname, "..", "..");
const SKIP = new Set(["node_modules", ".git", "dist", "bin", "out"]);

/** The program's TypeScript sources in a tree: every .ts outside test/, node_modules and build output. */
function programSources(root: string): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const e of readdirSync(dir, { withFileTypes: true })) {
            if (SKIP.has(e.name)) continue;
            const p = path.join(dir, e.name);
            if (e.isDirectory()) {
                if (path.relative(root, p) !== "test") walk(p);
            } else if (e.name.endsWith(".ts")) {
                out.push(p);
            }
        }
    };
    walk(root);
    return out;
}

function occurrences(text: string, anchor: string): number {
    let n = 0;
    for (let i = text.indexOf(anchor); i >= 0; i = text.indexOf(anchor, i + anchor.length)) n++;
    return n;
}

/** Where the anchor is: exactly one file holding it exactly once, else a reason. */
function locate(root: string, anchor: string): { file: string } | { error: string } {
    const hits = programSources(root).map((f) => ({ f, n: occurrences(readFileSync(f, "utf8"), anchor) })).filter((h) => h.n > 0);
    if (hits.length === 0) return { error: "anchor not found" };
    const total = hits.reduce((s, h) => s + h.n, 0);
    if (total > 1) return { error: `anchor found ${total} times (${hits.map((h) => path.relative(root, h.f)).join(", ")})` };
    return { file: hits[0].f };
}

/** Copies the repository (without node_modules, .git and build output) and links node_modules and ../shared. */
function copyRepository(): { dir: string; copy: string } {
    const dir = mkdtempSync(path.join(tmpdir(), "upstream-mutations-"));
    const copy = path.join(dir, "repo");
    cpSync(ROOT, copy, { recursive: true, filter: (src) => !SKIP.has(path.basename(src)) || src === ROOT });
    symlinkSync(realpathSync(path.join(ROOT, "node_modules")), path.join(copy, "node_modules"));
    const shared = path.join(ROOT, "..", "shared");
    if (existsSync(shared)) symlinkSync(realpathSync(shared), path.join(dir, "shared"));
    return { dir, copy };
}

interface SuiteResult {
    /** The fixtures step failed: the program did not evaluate. */
    exportError?: string;
    /** `<package>.<Test>` -> the first-level subtests (stacks) that failed. */
    failed: Map<string, Set<string>>;
}

function runSuite(copy: string, fixtures: string): SuiteResult {
    rmSync(fixtures, { recursive: true, force: true });
    const env = { ...process.env, UPSTREAM_FIXTURES: fixtures };
    const tsNode = path.join(copy, "node_modules", "ts-node", "dist", "bin.js");
    const exp = spawnSync(process.execPath, [tsNode, "--transpile-only", "test/upstream/export.ts"], { cwd: copy, env, encoding: "utf8" });
    if (exp.status !== 0) return { exportError: (exp.stderr || exp.stdout).trim().split("\n").slice(-3).join(" | "), failed: new Map() };
    const go = spawnSync("go", ["test", "-count=1", "-json", "./..."],
        { cwd: path.join(copy, "test", "upstream"), env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
    const failed = new Map<string, Set<string>>();
    const packageFailed = new Set<string>();
    for (const line of go.stdout.split("\n")) {
        if (!line.startsWith("{")) continue;
        const ev = JSON.parse(line) as { Action?: string; Package?: string; Test?: string };
        if (ev.Action !== "fail" || ev.Package === undefined) continue;
        const pkg = ev.Package.replace(/^aksvault\/upstream\//, "");
        if (ev.Test === undefined) {
            packageFailed.add(pkg);
            continue;
        }
        const [test, sub] = ev.Test.split("/");
        const key = `${pkg}.${test}`;
        if (!failed.has(key)) failed.set(key, new Set());
        if (sub !== undefined) failed.get(key)?.add(sub);
    }
    // A package that failed without a failing test did not build (or its TestMain failed).
    for (const pkg of packageFailed) {
        if (![...failed.keys()].some((k) => k.startsWith(`${pkg}.`))) failed.set(`${pkg}.(build)`, new Set());
    }
    if (go.status !== 0 && failed.size === 0) failed.set("go test", new Set([(go.stderr || "").trim().split("\n").slice(-1)[0] ?? ""]));
    return { failed };
}

function describe(failed: Map<string, Set<string>>): string {
    return [...failed].map(([t, subs]) => (subs.size > 0 ? `${t} (${[...subs].sort().join(", ")})` : t)).join(", ");
}

function main(): number {
    const args = process.argv.slice(2);
    if (args.includes("--anchors")) {
        // Only check that every anchor is found exactly once in this tree's program sources.
        let missing = 0;
        for (const m of MUTATIONS) {
            const where = locate(ROOT, m.anchor);
            if ("error" in where) missing++;
            process.stdout.write(`mutation ${m.name}: ${"error" in where ? where.error : path.relative(ROOT, where.file)}\n`);
        }
        return missing === 0 ? 0 : 1;
    }
    const only = args;
    const unknown = only.filter((n) => !MUTATIONS.some((m) => m.name === n));
    if (unknown.length > 0) {
        process.stderr.write(`unknown mutations: ${unknown.join(", ")}\n`);
        return 2;
    }
    const chosen = MUTATIONS.filter((m) => only.length === 0 || only.includes(m.name));
    try {
        execFileSync("go", ["version"], { stdio: "ignore" });
    } catch {
        process.stderr.write("test:upstream:mutations needs Go on the PATH\n");
        return 2;
    }
    const { dir, copy } = copyRepository();
    process.stdout.write(`mutations: repository copied to ${copy}\n`);
    let bad = 0;
    try {
        const started = Date.now();
        const baseline = runSuite(copy, path.join(dir, "fixtures"));
        if (baseline.exportError !== undefined || baseline.failed.size > 0) {
            process.stdout.write(`baseline: the suite fails on the unmutated copy: ${baseline.exportError ?? describe(baseline.failed)}\n`);
            return 1;
        }
        process.stdout.write(`baseline: the suite passes on the unmutated copy (${Math.round((Date.now() - started) / 1000)} s)\n`);
        for (const m of chosen) {
            const where = locate(copy, m.anchor);
            if ("error" in where) {
                process.stdout.write(`mutation ${m.name}: ${where.error}\n`);
                bad++;
                continue;
            }
            const original = readFileSync(where.file, "utf8");
            writeFileSync(where.file, original.replace(m.anchor, () => m.replacement));
            try {
                const t0 = Date.now();
                const r = runSuite(copy, path.join(dir, "fixtures"));
                const secs = `${Math.round((Date.now() - t0) / 1000)} s`;
                if (r.exportError !== undefined) {
                    process.stdout.write(`mutation ${m.name}: the program no longer evaluates (not a rendering): ${r.exportError}\n`);
                    bad++;
                } else if (r.failed.size === 0) {
                    process.stdout.write(`mutation ${m.name}: SURVIVED (${m.why})\n`);
                    bad++;
                } else if (![...r.failed.keys()].some((k) => k.startsWith(`${m.oracle}.`))) {
                    process.stdout.write(`mutation ${m.name}: caught by ${describe(r.failed)}, but not by ${m.oracle} [${secs}]\n`);
                    bad++;
                } else {
                    process.stdout.write(`mutation ${m.name}: caught by ${describe(r.failed)} [${secs}]\n`);
                }
            } finally {
                writeFileSync(where.file, original);
            }
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    process.stdout.write(`${chosen.length - bad} passed, ${bad} failed\n`);
    return bad === 0 ? 0 : 1;
}

if (require.main === module) process.exitCode = main();
