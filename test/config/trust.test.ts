/**
 * Issue 10's attacks on the config, each refused before any resource is registered, naming the
 * setting and the fix: another team's paths, seeds over their data, extra capabilities on shared
 * paths, foreign and root policies, code in the agent, credentials in URLs, '.'/'..' segments.
 */
import assert from "node:assert/strict";
import { parseSettings } from "../../src/config/validate";
import type { SettingsProblem } from "../../src/config/problem";
import { problemsOf } from "../support/problems";
import { kvAccess } from "../../src/config/access";
import { labRaw } from "../support/fixtures";

/** The lab plus a `payments` team that owns payments/db (seeded) and a `mallory` workload. */
function tenants(mallory: Record<string, unknown> = {}, payments: Record<string, unknown> = {}): Record<string, any> {
    const raw = labRaw();
    raw.workloads.push({
        name: "payments",
        namespace: "payments",
        serviceAccount: "payments",
        secrets: [{ file: "db", path: "payments/db", key: "password" }],
        seed: [{ path: "payments/db", values: { password: { random: { length: 32 } } } }],
        ...payments,
    });
    raw.workloads.push({
        name: "mallory",
        namespace: "mallory",
        serviceAccount: "mallory",
        secrets: [{ file: "own", path: "mallory/app", key: "token" }],
        ...mallory,
    });
    return raw;
}

/** Exactly one problem names `key`, and its expectation matches `pattern`. */
function refusedAt(raw: unknown, key: string, pattern: RegExp): SettingsProblem {
    const problems = problemsOf(raw);
    const p = problems.filter((x) => x.key === key);
    assert.equal(p.length, 1, `expected one problem at ${key}; got ${JSON.stringify(problems, null, 1)}`);
    assert.match(p[0].expected, pattern);
    return p[0];
}

describe("trust: who reads which KV path", () => {
    it("accepts the tenants stack as is (each reads and seeds only its own paths)", () => {
        assert.deepEqual(problemsOf(tenants()), []);
    });

    it("refuses another team's path read without a grant, naming the owner and the grant syntax", () => {
        const raw = tenants({ secrets: [{ file: "db", path: "payments/db", key: "password" }] });
        refusedAt(
            raw,
            "workloads[2].secrets[0].path",
            /belongs to workload payments .*payments adds mallory to sharedWith .*from: payments/,
        );
    });

    it("refuses a `from` the owner never granted", () => {
        const raw = tenants({ secrets: [{ file: "db", path: "payments/db", key: "password", from: "payments" }] });
        refusedAt(raw, "workloads[2].secrets[0].path", /a grant from its owner: payments lists mallory in sharedWith/);
    });

    it("refuses a `from` naming a workload that does not own the path", () => {
        const raw = tenants({ secrets: [{ file: "db", path: "payments/db", key: "password", from: "busybox" }] });
        refusedAt(raw, "workloads[2].secrets[0].from", /the owner of payments\/db: it belongs to payments/);
    });

    it("refuses a grant the reader writes for itself (sharedWith on a path it reads from another)", () => {
        const raw = tenants({ secrets: [{ file: "db", path: "payments/db", key: "password", from: "payments", sharedWith: ["mallory"] }] });
        refusedAt(raw, "workloads[2].secrets[0].sharedWith", /only the owner shares a path/);
    });

    it("accepts a read the owner granted in its own config, read-only", () => {
        const raw = tenants(
            {
                secrets: [
                    { file: "own", path: "mallory/app", key: "token" },
                    { file: "db", path: "payments/db", key: "password", from: "payments" },
                ],
                extraCapabilities: ["update"],
            },
            { seed: [{ path: "payments/db", sharedWith: ["mallory"], values: { password: { random: { length: 32 } } } }] },
        );
        assert.deepEqual(problemsOf(raw), []);
        const s = parseSettings(raw);
        const access = kvAccess(s.workloads, s.kv.external);
        assert.deepEqual([...(access.readable.get("mallory") ?? [])].sort(), ["mallory/app", "payments/db"]);
        assert.deepEqual([...(access.owned.get("mallory") ?? [])], ["mallory/app"]);
    });

    it("refuses a seed on another team's path (it would overwrite their data)", () => {
        const raw = tenants({ seed: [{ path: "payments/db", values: { password: { value: "owned" } } }] });
        refusedAt(raw, "workloads[2].seed[0].path", /belongs to workload payments.*only its owner seeds it/);
    });

    it("refuses a second owner even when the attacker is listed first", () => {
        const raw = tenants();
        const mallory = raw.workloads.pop();
        mallory.secrets.push({ file: "db", path: "payments/db", key: "password" });
        raw.workloads.splice(1, 0, mallory);
        // Either claim may be reported; the config is refused and the conflict named at the later one.
        refusedAt(raw, "workloads[2].secrets[0].path", /belongs to workload mallory .*a path has one owner/);
    });

    it("refuses extraCapabilities when the workload owns none of the paths it reads", () => {
        const raw = tenants(
            { secrets: [{ file: "db", path: "payments/db", key: "password", from: "payments" }], extraCapabilities: ["update", "delete"] },
            { seed: [{ path: "payments/db", sharedWith: ["mallory"], values: { password: { random: { length: 32 } } } }] },
        );
        refusedAt(raw, "workloads[2].extraCapabilities", /only to paths the workload owns/);
    });

    it("refuses list on an owned path that holds another team's paths under it", () => {
        const raw = tenants({ secrets: [{ file: "own", path: "payments", key: "token" }], extraCapabilities: ["list"] });
        refusedAt(raw, "workloads[2].extraCapabilities", /would list payments's path payments\/db/);
    });

    it("names external paths once at the stack level, readable only by the readers listed there", () => {
        const raw = tenants({ secrets: [{ file: "legacy", path: "legacy/api", key: "token" }] });
        raw.kv.external = [{ path: "legacy/api", readers: ["busybox"] }];
        refusedAt(raw, "workloads[2].secrets[0].path", /kv.external\[0\] lists readers busybox/);
        raw.kv.external[0].readers.push("mallory");
        assert.deepEqual(problemsOf(raw), []);
    });

    it("refuses a seed on an external path, and external readers that are no workload", () => {
        const raw = tenants({ seed: [{ path: "legacy/api", values: { token: { random: { length: 32 } } } }] });
        raw.kv.external = [{ path: "legacy/api", readers: ["busybox", "nobody"] }];
        refusedAt(raw, "workloads[2].seed[0].path", /kv.external\[0\] names legacy\/api as data kept outside this program/);
        refusedAt(raw, "kv.external[0].readers[1]", /the name of a workload of this stack/);
    });

    it("refuses '.' and '..' segments in secret paths, seeds, mounts, auth path, Vault namespace and external paths", () => {
        const raw = tenants({
            secrets: [{ file: "db", path: "mallory/../payments/db", key: "password" }],
            seed: [{ path: "./x", values: { a: { random: {} } } }],
        });
        raw.kv.path = "secret/..";
        raw.kubernetesAuth.path = "./aks";
        raw.vault.namespace = "team/..";
        raw.kv.external = [{ path: "a/./b", readers: ["busybox"] }];
        const keys = problemsOf(raw).filter((p) => /'\.' or '\.\.' segments/.test(p.expected)).map((p) => p.key).sort();
        assert.deepEqual(keys, [
            "kubernetesAuth.path", "kv.external[0].path", "kv.path", "vault.namespace",
            "workloads[2].secrets[0].path", "workloads[2].seed[0].path",
        ]);
    });
});

describe("trust: the policies a role carries", () => {
    it("refuses another team's or any named policy outside vault.allowedPolicies", () => {
        const raw = tenants({ policies: ["default", "payments", "admin"] });
        refusedAt(raw, "workloads[2].policies[1]", /one of vault.allowedPolicies \(default\)/);
        refusedAt(raw, "workloads[2].policies[2]", /one of vault.allowedPolicies/);
    });

    it("refuses root however it is written, even when allow-listed", () => {
        for (const root of ["root", " root", "Root", "ROOT\t"]) {
            refusedAt(tenants({ policies: [root] }), "workloads[2].policies[0]", /never holds root/);
        }
        const raw = tenants();
        raw.vault.allowedPolicies = ["default", " Root "];
        refusedAt(raw, "vault.allowedPolicies[1]", /not root/);
    });

    it("compares allow-listed names as Vault stores them (trimmed, lower-case)", () => {
        const raw = tenants({ policies: [" Default", "Team-Read "] });
        raw.vault.allowedPolicies = ["default", "team-read"];
        assert.deepEqual(problemsOf(raw), []);
    });

    it("refuses allow-listing a policy this stack generates (every workload could carry it)", () => {
        const raw = tenants();
        raw.vault.policyPrefix = "team-a.";
        raw.vault.allowedPolicies = ["default", "team-a.payments"];
        refusedAt(raw, "vault.allowedPolicies[1]", /a policy made outside this stack/);
    });

    it("tells a workload listing its own policy to drop it (the generated one is always attached)", () => {
        refusedAt(
            tenants({ policies: ["default", "mallory"] }),
            "workloads[2].policies[1]",
            /generated policy .*mallory\) is always attached; remove it/,
        );
    });

    it("refuses a policy prefix Vault would store differently (upper case)", () => {
        const raw = tenants();
        raw.vault.policyPrefix = "Team-A-";
        refusedAt(raw, "vault.policyPrefix", /lower-case/);
    });
});

describe("trust: templates and prefixes run inside the agent", () => {
    const template = (t: string) => tenants({ secrets: [{ file: "own", path: "mallory/app", template: t }] });

    for (const [what, text] of [
        ["env", '{{ env "VAULT_TOKEN" }}'],
        ["file", '{{ file "/var/run/secrets/kubernetes.io/serviceaccount/token" }}'],
        ["auth/token/lookup-self", '{{ with secret "auth/token/lookup-self" }}{{ .Data.data.id }}{{ end }}'],
    ] as const) {
        it(`refuses a prefix running ${what}, without echoing it`, () => {
            const raw = tenants({ secrets: [{ file: "own", path: "mallory/app", key: "token", prefix: text }] });
            const p = refusedAt(raw, "workloads[2].secrets[0].prefix", /plain text without '\{\{'/);
            assert.ok(!p.found.includes("VAULT_TOKEN") && !p.found.includes("serviceaccount"));
        });
    }

    it("refuses a prefix closing the block early to open another path", () => {
        const raw = tenants({
            secrets: [{ file: "own", path: "mallory/app", key: "token", prefix: '{{- end }}{{ with secret "secret/data/payments/db" }}' }],
        });
        refusedAt(raw, "workloads[2].secrets[0].prefix", /plain text/);
    });

    it("refuses a template reading another team's path, and one using env", () => {
        const raw = template('{{ with secret "secret/data/payments/db" }}{{ .Data.data.password }}{{ env "HOME" }}{{ end }}');
        const problems = problemsOf(raw).filter((p) => p.key === "workloads[2].secrets[0].template").map((p) => p.expected);
        assert.equal(problems.length, 2, JSON.stringify(problems));
        assert.match(problems[0], /no `env`/);
        assert.match(problems[1], /own or granted paths \(secret\/data\/mallory\/app\), not "secret\/data\/payments\/db"/);
    });

    it("refuses a template whose .Data.data is only in a comment", () => {
        refusedAt(
            template('{{ with secret "secret/data/mallory/app" }}{{ .Data }}{{ end }}{{/* .Data.data */}}'),
            "workloads[2].secrets[0].template",
            /a comment does not count/,
        );
    });

    it("accepts a template reading a granted path", () => {
        const raw = tenants(
            {
                secrets: [{
                    file: "own",
                    path: "payments/db",
                    from: "payments",
                    template: '{{ with secret "secret/data/payments/db" }}{{ .Data.data.password }}{{ end }}',
                }],
            },
            { seed: [{ path: "payments/db", sharedWith: ["mallory"], values: { password: { random: {} } } }] },
        );
        assert.deepEqual(problemsOf(raw), []);
    });

    it("refuses a secret file with neither key nor template (the injector's raw map form)", () => {
        refusedAt(tenants({ secrets: [{ file: "own", path: "mallory/app" }] }), "workloads[2].secrets[0].key", /raw map\[\.\.\.\] form/);
    });
});

describe("trust: credentials in URLs", () => {
    it("refuses user:password@ in vault.address and never echoes it, in any problem", () => {
        const raw = tenants();
        raw.vault.address = "http://admin:s3cr3t-pass@vault.example.com:8200"; // also http without allowHttp
        const problems = problemsOf(raw);
        assert.ok(
            problems.some((p) => p.key === "vault.address" &&
                /without user:password@; .*pulumi config set --secret vaultToken/.test(p.expected)),
            JSON.stringify(problems),
        );
        const text = JSON.stringify(problems);
        assert.ok(!text.includes("s3cr3t-pass") && !text.includes("admin:"), text);
    });

    it("refuses credentials in the chart repository URL", () => {
        const raw = tenants();
        raw.injector.chartRepository = "https://user:tok3n@charts.example.com";
        refusedAt(raw, "injector.chartRepository", /without user:password@/);
        assert.ok(!JSON.stringify(problemsOf(raw)).includes("tok3n"));
    });
});

describe("trust: renames", () => {
    it("refuses a formerName that is the current name or another workload's", () => {
        refusedAt(tenants({ formerName: "mallory" }), "workloads[2].formerName", /the previous name, not the current one/);
        refusedAt(tenants({ formerName: "payments" }), "workloads[2].formerName", /a name no current workload has/);
    });
});

describe("trust: names as the system holding them compares them (issue 22)", () => {
    it("refuses two roles Vault's Kubernetes auth stores as one (Busybox is busybox), naming the first", () => {
        refusedAt(
            tenants({ role: "Busybox" }),
            "workloads[2].role",
            /used once, compared lower-cased as Vault stores it \(workloads\[0\] has it\)/,
        );
        assert.deepEqual(problemsOf(tenants({ role: "Mallory-Role" })), []);
    });

    it("refuses two workloads' seeds whose Pulumi names coincide (<workload>-seed-<path>)", () => {
        const raw = tenants({ name: "mallory-seed-x", seed: [{ path: "y", values: { k: { random: {} } } }] });
        raw.workloads[1].seed.push({ path: "x-seed-y", values: { k: { random: {} } } });
        raw.workloads[1].name = "mallory";
        raw.workloads[1].namespace = "mallory2";
        raw.workloads[1].serviceAccount = "mallory2";
        const p = refusedAt(
            raw,
            "workloads[2].seed[0].path",
            /Pulumi name that no other entry gives: mallory-seed-x-seed-y is also workloads\[1\]\.seed\[1\]\.path's/,
        );
        assert.equal(p.found, '"y"');
    });

    it("refuses two generated values of one workload whose Pulumi names coincide (path a-b key c, path a key b-c)", () => {
        const raw = tenants({
            secrets: [{ file: "own", path: "a", key: "b-c" }, { file: "two", path: "a-b", key: "c" }],
            seed: [{ path: "a-b", values: { c: { random: {} } } }, { path: "a", values: { "b-c": { random: {} } } }],
        });
        refusedAt(raw, "workloads[2].seed[1].values", /mallory-seed-a-b-c is also workloads\[2\]\.seed\[0\]\.values's/);
    });

    it("refuses two auth-delegator bindings with one cluster-wide name (clientJwt: a-b/c and a/b-c)", () => {
        const raw = tenants({ namespace: "a", serviceAccount: "b-c" }, { namespace: "a-b", serviceAccount: "c" });
        raw.kubernetesAuth.reviewer = "clientJwt";
        refusedAt(
            raw,
            "workloads[2].serviceAccount",
            /ClusterRoleBinding name .* a-b-c-auth-delegator is also workloads\[1\]\.serviceAccount's/,
        );
        raw.kubernetesAuth.reviewer = "serviceAccountToken"; // no bindings: nothing to collide
        assert.deepEqual(problemsOf(raw), []);
    });

    it("refuses mounts over Vault's own (sys, auth, identity, ...) and auth/token", () => {
        const raw = tenants();
        raw.kv.path = "sys/kv";
        raw.kubernetesAuth.path = "token";
        refusedAt(raw, "kv.path", /outside Vault's own mounts/);
        refusedAt(raw, "kubernetesAuth.path", /auth\/token is Vault's own token method/);
    });
});

describe("trust: generated policy names (issue 22)", () => {
    it("refuses a policy prefix that does not end in '.', unless the stack keeps legacy names", () => {
        const raw = tenants();
        raw.vault.policyPrefix = "team-a-";
        refusedAt(raw, "vault.policyPrefix", /a prefix ending in '\.' .*or vault\.policyNaming: legacy/);
        raw.vault.policyNaming = "legacy";
        assert.deepEqual(problemsOf(raw), []);
    });
});

describe("trust: reserved namespaces (issue 22)", () => {
    for (const [ns, why] of [
        ["default", /not default \(every pod without a namespace/],
        ["kube-system", /not a kube- namespace/],
        ["kube-anything", /not a kube- namespace/],
        ["vault", /not the injector's namespace/],
    ] as const) {
        it(`refuses ${ns}, created or not`, () => {
            refusedAt(tenants({ namespace: ns, createNamespace: false }), "workloads[2].namespace", why);
        });
    }

    it("refuses the namespaces the platform reserves, and only from the platform block", () => {
        const raw = tenants({ namespace: "ingress" });
        assert.deepEqual(problemsOf(raw), []);
        raw.platform = { reservedNamespaces: ["ingress"] };
        refusedAt(raw, "workloads[2].namespace", /not a namespace the platform reserves \(platform\.reservedNamespaces\)/);
        // A workload entry has no such key: it cannot unreserve (or reserve) anything.
        const own = tenants({ namespace: "ingress", platform: { reservedNamespaces: [] } });
        own.platform = { reservedNamespaces: ["ingress"] };
        assert.ok(problemsOf(own).some((p) => p.key === "workloads[2].platform"), JSON.stringify(problemsOf(own)));
    });
});

describe("trust: a grantee cannot widen what it was given (issue 22)", () => {
    const granted = (mallory: Record<string, unknown>) => tenants(
        { secrets: [{ file: "db", path: "payments/db", key: "password", from: "payments" }], ...mallory },
        { seed: [{ path: "payments/db", sharedWith: ["mallory"], values: { password: { random: { length: 32 } } } }] },
    );

    it("accepts the grant to the pods the owner named (mallory/mallory)", () => {
        assert.deepEqual(problemsOf(granted({})), []);
    });

    it("refuses '*' on the grantee's own entry: allowWildcard is not the platform's exemption", () => {
        const raw = granted({ namespace: "*", createNamespace: false, allowWildcard: true });
        refusedAt(raw, "workloads[2].namespace", /needs the platform's exemption \(platform\.wildcardWorkloads listing mallory\)/);
        const sa = granted({ serviceAccount: "*", allowWildcard: true });
        refusedAt(sa, "workloads[2].serviceAccount", /platform\.wildcardWorkloads listing mallory/);
    });

    it("refuses a grant to a workload the platform exempted: the grant would reach pods no one named", () => {
        const raw = granted({ namespace: "*", createNamespace: false, allowWildcard: true });
        raw.platform = { wildcardWorkloads: ["mallory"] };
        refusedAt(
            raw,
            "workloads[1].seed[0].sharedWith[0]",
            /mallory's role admits \*\/mallory, so the grant would reach pods no one named/,
        );
        // Without the grant, the platform's exemption is the platform's call.
        raw.workloads[1].seed[0].sharedWith = [];
        raw.workloads[2].secrets = [{ file: "own", path: "mallory/app", key: "token" }];
        assert.deepEqual(problemsOf(raw), []);
    });
});

describe("trust: stack config secrets have owners (issue 22)", () => {
    const fromConfig = (key: string) => ({ seed: [{ path: "mallory/app", values: { token: { secretConfig: key } } }] });
    const at = "workloads[2].seed[0].values.token.secretConfig";

    it("accepts a key only this workload reads, as often as it likes", () => {
        const values = { a: { secretConfig: "malloryToken" }, b: { secretConfig: "malloryToken" } };
        const raw = tenants({ seed: [{ path: "mallory/app", values }] });
        assert.deepEqual(problemsOf(raw), []);
    });

    it("refuses the operator's Vault token, the kubeconfig, the service principal's secret, and the settings keys", () => {
        refusedAt(tenants(fromConfig("vaultToken")), at, /vaultToken is the program's Vault token, the platform's/);
        refusedAt(tenants(fromConfig("kubeconfig")), at, /the cluster's kubeconfig, the platform's/);
        refusedAt(tenants(fromConfig("workloads")), at, /the settings key aks-vault:workloads/);
        const existing = tenants(fromConfig("clusterKc"));
        existing.cluster = { mode: "existing", name: "lab", kubeconfigConfig: "clusterKc", oidcIssuerUrl: "https://issuer.example.com/" };
        refusedAt(existing, at, /clusterKc is the cluster's kubeconfig \(cluster\.kubeconfigConfig\), the platform's/);
        const spn = tenants(fromConfig("spnSecret"));
        spn.cluster.credentials = {
            mode: "kubelogin", login: "spn", clientId: "72f988bf-86f1-41af-91ab-2d7cd011db47", clientSecretConfig: "spnSecret",
        };
        spn.cluster.entraId = { adminGroupObjectIds: [] };
        refusedAt(spn, at, /spnSecret is the service principal's secret/);
    });

    it("refuses a key the platform lists as its own (platform.secretConfigKeys)", () => {
        const raw = tenants(fromConfig("registryPassword"));
        assert.deepEqual(problemsOf(raw), []);
        raw.platform = { secretConfigKeys: ["registryPassword"] };
        refusedAt(raw, at, /registryPassword is a platform secret \(platform\.secretConfigKeys\)/);
    });

    it("refuses another workload's key, naming its owner and the sharing syntax, never the value", () => {
        const raw = tenants(fromConfig("paymentsDb"), {
            seed: [{ path: "payments/db", values: { password: { secretConfig: "paymentsDb" } } }],
        });
        const p = refusedAt(
            raw,
            at,
            /paymentsDb is read by workload payments \(workloads\[1\]\.seed\[0\]\.values\.password\.secretConfig\); .*sharedWith/,
        );
        assert.equal(p.found, "<secret>");
    });
});
