/**
 * The preflight (src/preflight) on the real local stack: all green on the healthy deploy, then a
 * finding for each binding broken for real through Vault's API (a role bound to another namespace,
 * a role bound to another audience, the policy's path removed, a KV v1 mount where the template
 * points), each restored afterwards. Expected values come from the stack file the user wrote.
 */
import { parseSettings } from "../../../src/config/validate";
import { liveTokenIssuer } from "../../../src/automation/preflight";
import { preflight, renderText, vaultClient } from "../../../src/preflight";
import { summaryLine } from "../../../src/preflight/render";
import type { Finding, PreflightReport } from "../../../src/preflight/types";
import { Checks } from "./checks";
import { StackEnv, Vault } from "./systems";

const PROJECT = "aks-vault";

/** One preflight run with the stack's own kubeconfig and the dev server's token as the preflight's token. */
async function run(raw: Record<string, any>, stack: string, env: StackEnv): Promise<{ report: PreflightReport; ms: number }> {
    const settings = parseSettings(raw);
    const started = Date.now();
    const report = await preflight({
        settings, stack, project: PROJECT,
        deployed: { vaultAuth: true, workloads: true },
        k8s: await liveTokenIssuer({}, { kubeconfig: env.kubeconfig }),
        vault: vaultClient({ address: env.vaultAddr, operatorToken: env.vaultToken }),
    });
    return { report, ms: Date.now() - started };
}

const failing = (r: PreflightReport) => r.findings.filter((f) => f.status === "fail");
const find = (r: PreflightReport, id: string,
    target: string): Finding | undefined => r.findings.find((f) => f.id === id && f.target === target);

/** Writes some fields of a role, returning a function that writes their old values back. */
async function patchRole(vault: Vault, path: string, fields: Record<string, unknown>): Promise<() => Promise<void>> {
    const before = (await vault.read(path)).data as Record<string, unknown>;
    const put = async (body: Record<string, unknown>) => {
        const r = await vault.call("POST", path, body);
        if (r.status >= 300) throw new Error(`vault write ${path}: ${r.status} ${r.error}`);
    };
    // A JWT role write is checked whole: its type and user claim go with every write
    // (vault-plugin-auth-jwt path_role.go: "'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified").
    const keep = before.role_type === undefined ? {} : { role_type: before.role_type, user_claim: before.user_claim };
    await put({ ...keep, ...fields });
    return () => put({ ...keep, ...Object.fromEntries(Object.keys(fields).map((k) => [k, before[k]])) });
}

async function writePolicy(vault: Vault, name: string, text: string): Promise<void> {
    const r = await vault.call("PUT", `sys/policies/acl/${name}`, { policy: text });
    if (r.status >= 300) throw new Error(`vault policy write ${name}: ${r.status} ${r.error}`);
}

/**
 * Runs after the seed checks, on the deployed stack. Prints `preflight: K/N workloads can read
 * every path they render` for the healthy deploy; leaves every binding as it found it.
 */
export async function checkPreflight(raw: Record<string, any>, stack: string, env: StackEnv, vault: Vault, checks: Checks): Promise<void> {
    const w = raw.workloads[0];
    const role: string = w.role ?? w.name;
    const method: "kubernetes" | "jwt" = raw.kubernetesAuth?.method ?? "kubernetes";
    const authPath: string = raw.kubernetesAuth.path;
    const kv: string = raw.kv?.path ?? "secret";
    const dataPath = `${kv}/data/${w.secrets[0].path}`;
    const rolePath = `auth/${authPath}/role/${role}`;
    // The generated policy: the one the role carries besides those the stack file lists.
    const carried: string[] = (await vault.read(rolePath)).data.token_policies;
    const policy = carried.find((name) => !(w.policies ?? []).includes(name)) ?? `${PROJECT}.${stack}.${w.name}`;
    const p = (name: string) => `preflight: ${name}`;

    // Healthy. The login's tokens are revoked: no token of the run is left behind.
    const tokens = async () => ((await vault.call("LIST", "auth/token/accessors")).body.data?.keys ?? []).length as number;
    const tokensBefore = await tokens();
    const healthy = await run(raw, stack, env);
    checks.equal(p("the login's token is revoked after use"), await tokens(), tokensBefore);
    console.log(`    [${stack}] ${summaryLine(healthy.report)} (${healthy.ms} ms)`);
    checks.equal(p("all green on the healthy deploy"), failing(healthy.report).map((f) => `${f.id} ${f.target}`), []);
    checks.equal(p("every workload counted green"), healthy.report.workloads, { green: raw.workloads.length, total: raw.workloads.length });
    checks.equal(p(`${w.name} reads ${dataPath}`), find(healthy.report, "path.read", `${w.name}:${dataPath}`)?.status, "pass");
    checks.equal(p("no finding about revocation"), healthy.report.findings.filter((f) => f.id === "workload.revoke"), []);

    const broken = async (name: string, breakIt: () => Promise<() => Promise<void>>, expect: (r: PreflightReport) => void,
        settings: Record<string, any> = raw) => {
        const restore = await breakIt();
        try {
            const { report } = await run(settings, stack, env);
            checks.that(p(`${name}: the report fails`), !report.ok, renderText(report, (s) => s));
            checks.equal(p(`${name}: ${w.name} is not green`), report.workloads.green, raw.workloads.length - 1);
            expect(report);
            if (process.env.E2E_VERBOSE === "1") console.log(renderText(report, (s) => s, { showPassing: false }));
        } finally {
            await restore();
        }
    };

    // 1. The role bound to another namespace.
    const nsField = method === "jwt"
        ? { bound_subject: `system:serviceaccount:elsewhere:${w.serviceAccount}` }
        : { bound_service_account_namespaces: ["elsewhere"] };
    await broken("role bound to another namespace", () => patchRole(vault, rolePath, nsField), (r) => {
        const login = find(r, "workload.login", `vault:auth/${authPath}/login`);
        checks.equal(p("wrong namespace: login fails"), login?.status, "fail");
        checks.that(
            p("wrong namespace: Vault's refusal is named"),
            (method === "jwt" ? /invalid subject \(sub\) claim/ : /namespace not authorized/).test(login?.detail ?? ""),
            login?.detail,
        );
        const fix = method === "jwt"
            ? `Bind subject system:serviceaccount:${w.namespace}:${w.serviceAccount} in role ${role}.`
            : `Bind namespace ${w.namespace} in role ${role} (bound_service_account_namespaces), or deploy the workload into the ` +
                `bound namespace.`;
        checks.equal(p("wrong namespace: the fix"), login?.fix, fix);
        const live = find(r, "workload.role", `vault:${rolePath}`);
        checks.equal(p("wrong namespace: the role differs from the plan"), live?.detail, method === "jwt"
            ? `bound_subject is system:serviceaccount:elsewhere:${w.serviceAccount}, not ` +
                `system:serviceaccount:${w.namespace}:${w.serviceAccount}`
            : `bound_service_account_namespaces [elsewhere] does not include ${w.namespace}`);
    });

    // 2. The role bound to another audience.
    const other = "https://not-this-vault.example/v1/auth/x";
    await broken("role bound to another " +
        "audience", () => patchRole(vault, rolePath, method === "jwt" ? { bound_audiences: [other] } : { audience: other }), (r) => {
        const login = find(r, "workload.login", `vault:auth/${authPath}/login`);
        checks.equal(p("wrong audience: login fails"), login?.status, "fail");
        checks.that(p("wrong audience: Vault's refusal is " +
            "named"), /claim "aud" is invalid|invalid audience \(aud\) claim/.test(login?.detail ?? ""), login?.detail);
        const cause = login?.cause ?? "";
        checks.that(p("wrong audience: the cause names the planned audience"), cause.startsWith(`The pods' token is minted for ` +
            `audience ${raw.vault.address}/v1/auth/${authPath},`), cause);
    });

    // 3. The policy's path removed.
    const policyText = (await vault.read(`sys/policies/acl/${policy}`)).data.policy as string;
    await broken("policy without the rendered path", async () => {
        await writePolicy(vault, policy, `path "${kv}/data/unrelated" {\n  capabilities = ["read"]\n}\n`);
        return () => writePolicy(vault, policy, policyText);
    }, (r) => {
        const read = find(r, "path.read", `${w.name}:${dataPath}`);
        checks.equal(p("missing policy path: path.read fails"), read?.status, "fail");
        checks.equal(p("missing policy path: detail"), read?.detail,
            `no read: capabilities [deny]; the agent would fail rendering /vault/secrets/${w.secrets[0].file} with 403`);
        checks.equal(p("missing policy path: cause"), read?.cause, `Policy ${policy} grants no read on ${dataPath} (its rules ` +
            `differ from the stack file's).`);
        checks.equal(p("login still works"), find(r, "workload.login", `vault:auth/${authPath}/login`)?.status, "pass");
    });

    // 4. A KV v1 mount where the stack's kv.path (and so the template) points, the policy granting its paths.
    const v1 = "kv1";
    const v1Path = `${v1}/data/${w.secrets[0].path}`;
    const v1Settings = { ...raw, kv: { ...(raw.kv ?? {}), path: v1, existing: true } };
    await broken("KV v1 mount", async () => {
        const m = await vault.call("POST", `sys/mounts/${v1}`, { type: "kv", options: { version: "1" } });
        if (m.status >= 300) throw new Error(`mount ${v1}: ${m.status} ${m.error}`);
        await writePolicy(vault, policy, `${policyText}\npath "${v1Path}" {\n  capabilities = ["read"]\n}\n`);
        return async () => {
            await writePolicy(vault, policy, policyText);
            await vault.call("DELETE", `sys/mounts/${v1}`);
        };
    }, (r) => {
        const f = find(r, "path.kv-v1", `${w.name}:${v1Path}`);
        checks.equal(p("KV v1: path.kv-v1 fails"), f?.status, "fail");
        checks.equal(p("KV v1: detail"), f?.detail,
            `${v1}/ is a KV version 1 mount: the agent reads ${v1Path} as the secret named data/${w.secrets[0].path}, which the ` +
                `workload's seed never wrote`);
        checks.equal(p("KV v1: fix"), f?.fix, `Upgrade the mount: \`vault kv enable-versioning ${v1}/\`, or point kv.path at a KV ` +
            `v2 mount.`);
        checks.equal(p("KV v1: the mount itself"), find(r, "vault.kv-mount", `vault:${v1}`)?.detail, "KV version 1, not 2");
    }, v1Settings);

    // Restored: green again.
    const after = await run(raw, stack, env);
    checks.equal(p("green again after every restore"), failing(after.report).map((f) => `${f.id} ${f.target}`), []);
}
