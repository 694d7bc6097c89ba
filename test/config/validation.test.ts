/**
 * Config validation: a corpus of bad configs, each refused with a problem that names the key, the
 * value found and what is expected; every problem reported in one run; nothing registered.
 */
import assert from "node:assert/strict";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { problemsOf } from "../support/problems";
import { loadFromConfig } from "../../src/config/load";
import { labRaw, secondWorkload, setAt } from "../support/fixtures";
import { setConfig, useCloud } from "../support/harness";

type Mutation = (raw: Record<string, any>) => void;
const set = (path: string, value: unknown): Mutation => (raw) => setAt(raw, path, value);
const all = (...ms: Mutation[]): Mutation => (raw) => ms.forEach((m) => m(raw));
const addWorkload = (w: Record<string, unknown>): Mutation => (raw) => { raw.workloads.push(w); };

/** [what is wrong, how to break the lab config, the key the problem must name, what that problem says is expected] */
const CORPUS: Array<[what: string, mutate: Mutation, key: string, expected: string]> = [
    [
        "namespace with upper case", set("workloads[0].namespace", "BusyBox"), "workloads[0].namespace",
        "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit), or '*' with allowWildcard",
    ],
    [
        "namespace with underscore", set("workloads[0].namespace", "busy_box"), "workloads[0].namespace",
        "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit), or '*' with allowWildcard",
    ],
    [
        "namespace of 64 characters", set("workloads[0].namespace", "a".repeat(64)), "workloads[0].namespace",
        "at most 63 characters",
    ],
    [
        "service account ending in '-'", set("workloads[0].serviceAccount", "busybox-"), "workloads[0].serviceAccount",
        "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit), or '*' with allowWildcard",
    ],
    [
        "service account '*' without allowWildcard", set("workloads[0].serviceAccount", "*"), "workloads[0].serviceAccount",
        "a DNS-1123 label; '*' lets any pod log in as this role, set allowWildcard: true if that is really meant",
    ],
    [
        "namespace '*' without allowWildcard",
        all(set("workloads[0].namespace", "*"), set("workloads[0].createNamespace", false), set("workloads[0].deployment", undefined)),
        "workloads[0].namespace",
        "a DNS-1123 label; '*' lets any pod log in as this role, set allowWildcard: true if that is really meant",
    ],
    [
        "'*' with a deployment even when allowed",
        all(
            set("workloads[0].serviceAccount", "*"),
            set("workloads[0].allowWildcard", true),
            set("platform.wildcardWorkloads", ["busybox"]),
        ),
        "workloads[0].deployment",
        "no deployment when namespace or serviceAccount is '*' (it needs one concrete identity)",
    ],
    [
        "injector namespace not DNS-1123", set("injector.namespace", "Vault"), "injector.namespace",
        "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
    ],
    [
        "reviewer service account not DNS-1123",
        set("injector.reviewerServiceAccount", "vault.reviewer"),
        "injector.reviewerServiceAccount",
        "a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)",
    ],
    [
        "auth path with a leading slash", set("kubernetesAuth.path", "/aks"), "kubernetesAuth.path",
        "a Vault path without a leading or trailing '/' (such as secret or team/kv)",
    ],
    [
        "auth path with a trailing slash", set("kubernetesAuth.path", "aks/"), "kubernetesAuth.path",
        "a Vault path without a leading or trailing '/' (such as secret or team/kv)",
    ],
    [
        "KV mount with a leading slash", set("kv.path", "/secret"), "kv.path",
        "a Vault path without a leading or trailing '/' (such as secret or team/kv)",
    ],
    [
        "KV mount with an empty segment", set("kv.path", "secret//v2"), "kv.path",
        "a Vault path without a leading or trailing '/' (such as secret or team/kv)",
    ],
    [
        "secret file with a slash", set("workloads[0].secrets[0].file", "dir/token"), "workloads[0].secrets[0].file",
        "letters, digits, '_', '.' or '-', starting and ending with a letter or digit",
    ],
    [
        "secret file starting with '.'", set("workloads[0].secrets[0].file", ".token"), "workloads[0].secrets[0].file",
        "letters, digits, '_', '.' or '-', starting and ending with a letter or digit",
    ],
    [
        "secret file too long for an annotation name", set("workloads[0].secrets[0].file", "t".repeat(42)), "workloads[0].secrets[0].file",
        "at most 41 characters (the file name ends an annotation name)",
    ],
    [
        "secret path with a trailing slash", set("workloads[0].secrets[0].path", "devops/"), "workloads[0].secrets[0].path",
        "a Vault path without a leading or trailing '/' (such as secret or team/kv)",
    ],
    [
        "http:// Vault without allowHttp", set("vault.address", "http://vault.mydomain.com:8200"), "vault.address",
        "an https:// URL (set vault.allowHttp: true to accept http:// for a lab)",
    ],
    [
        "Vault address that is not a URL", set("vault.address", "vault.mydomain.com"), "vault.address",
        "an https:// URL such as https://vault.example.com:8200",
    ],
    [
        "Vault address with another scheme", set("vault.address", "ftp://vault.mydomain.com"), "vault.address",
        "an https:// URL such as https://vault.example.com:8200",
    ],
    [
        "chart version range", set("injector.chartVersion", "^0.34.1"), "injector.chartVersion",
        "an exact chart version such as 0.34.1 (no ranges)",
    ],
    [
        "chart version without patch", set("injector.chartVersion", "0.34"), "injector.chartVersion",
        "an exact chart version such as 0.34.1 (no ranges)",
    ],
    [
        "zero injector replicas", set("injector.replicas", 0), "injector.replicas",
        "at least 2: one injector is a single point of failure whatever the failure policy " +
            "(the guardrail vault-injector-high-availability requires 2)",
    ],
    [
        "one injector replica with failurePolicy Fail", set("injector.replicas", 1), "injector.replicas",
        "at least 2: one injector is a single point of failure whatever the failure policy " +
            "(the guardrail vault-injector-high-availability requires 2)",
    ],
    [
        "negative token TTL", set("workloads[0].tokenTtl", -1), "workloads[0].tokenTtl",
        "a number above 0",
    ],
    [
        "zero token TTL", set("workloads[0].tokenTtl", 0), "workloads[0].tokenTtl",
        "a number above 0",
    ],
    [
        "token TTL over 31 days", set("workloads[0].tokenTtl", 32 * 24 * 3600), "workloads[0].tokenTtl",
        "at most 86400 seconds (24 h, the limit of the guardrail vault-role-token-ttl)",
    ],
    [
        "max TTL below TTL", set("workloads[0].tokenMaxTtl", 60), "workloads[0].tokenMaxTtl",
        "at least tokenTtl (3600)",
    ],
    [
        "TTL as a string", set("workloads[0].tokenTtl", "1h"), "workloads[0].tokenTtl",
        "a number",
    ],
    [
        "autoscaling min above max", set("cluster.userPools[0].minCount", 6), "cluster.userPools[0].minCount",
        "at most maxCount (5)",
    ],
    [
        "system pool min above max", set("cluster.systemPool.minCount", 9), "cluster.systemPool.minCount",
        "at most maxCount (5)",
    ],
    [
        "duplicate workload name", addWorkload(secondWorkload({ name: "busybox", role: "other" })), "workloads[1].name",
        "a workload name used once",
    ],
    [
        "duplicate Vault role", addWorkload(secondWorkload({ role: "busybox" })), "workloads[1].role",
        "a Vault role name used once, compared lower-cased as Vault stores it (workloads[0] has it)",
    ],
    [
        "duplicate namespace and service account",
        addWorkload(secondWorkload({ namespace: "busybox", serviceAccount: "busybox", createNamespace: false })),
        "workloads[1].serviceAccount",
        "one workload per namespace and service account",
    ],
    [
        "namespace created twice", addWorkload(secondWorkload({ namespace: "busybox" })), "workloads[1].createNamespace",
        "false: namespace busybox is already created by another workload",
    ],
    [
        "duplicate secret file (case-insensitive)",
        (raw) => raw.workloads[0].secrets.push({ file: "DEVOPS_TOKEN", path: "other", key: "x" }),
        "workloads[0].secrets[1].file",
        "a file name used once per workload",
    ],
    [
        "unknown key (typo)", set("injector.replica", 2), "injector.replica",
        "did you mean `injector.replicas`? (only the keys in docs/configuration.md)",
    ],
    [
        "kubelogin spn without client ID and secret",
        set("cluster.credentials", { mode: "kubelogin", login: "spn" }),
        "cluster.credentials.clientId",
        "the service principal's client ID (a GUID) for login spn",
    ],
    [
        "kubelogin with an unknown login",
        set("cluster.credentials", { mode: "kubelogin", login: "devicecode" }),
        "cluster.credentials.login",
        'one of "spn", "msi" or "azurecli"',
    ],
    [
        "reviewer rotation with clientJwt reviewer",
        all(set("kubernetesAuth.reviewer", "clientJwt"), set("injector.reviewerTokenRotation", "2026-01")),
        "injector.reviewerTokenRotation",
        "unset with kubernetesAuth.reviewer clientJwt (there is no reviewer token to rotate)",
    ],
    [
        "unknown reviewer mode", set("kubernetesAuth.reviewer", "jwt"), "kubernetesAuth.reviewer",
        '"serviceAccountToken" or "clientJwt"',
    ],
    [
        "caCertPem that is not PEM", set("vault.caCertPem", "MIIB..."), "vault.caCertPem",
        "one or more PEM certificates (-----BEGIN CERTIFICATE----- ...)",
    ],
    [
        "Spot system pool", all(set("cluster.systemPool.priority", "Spot")), "cluster.systemPool.priority",
        "Regular (AKS refuses Spot system pools)",
    ],
    [
        "missing cluster", set("cluster", undefined), "cluster",
        "a map of settings (this setting is required)",
    ],
    [
        "cluster name with a space", set("cluster.name", "aks vault"), "cluster.name",
        "1-63 letters, digits, '-' or '_', starting and ending with a letter or digit (Azure's rule for cluster names)",
    ],
    [
        "resource group ending in '.'", set("cluster.resourceGroupName", "rg-aks."), "cluster.resourceGroupName",
        "letters, digits, '_', '-', '.', '(' or ')', not ending in '.' (Azure's rule for resource group names)",
    ],
    [
        "chart repository over http", set("injector.chartRepository", "http://helm.releases.hashicorp.com"), "injector.chartRepository",
        "an https:// or oci:// URL",
    ],
    [
        "Vault namespace with a trailing slash", set("vault.namespace", "admin/"), "vault.namespace",
        "a Vault path without a leading or trailing '/' (such as secret or team/kv)",
    ],
    [
        "local accounts off with admin credentials",
        all(set("cluster.disableLocalAccounts", true), set("cluster.entraId", {})),
        "cluster.credentials.mode",
        "kubelogin when disableLocalAccounts is true (Azure refuses admin credentials)",
    ],
    [
        "local accounts off without Entra ID",
        all(set("cluster.disableLocalAccounts", true), set("cluster.credentials", { mode: "kubelogin", login: "azurecli" })),
        "cluster.entraId",
        "Entra ID settings when disableLocalAccounts is true (no one could log in otherwise)",
    ],
    [
        "Entra admin group that is not a GUID",
        set("cluster.entraId", { adminGroupObjectIds: ["aks-admins"] }),
        "cluster.entraId.adminGroupObjectIds[0]",
        "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47",
    ],
    // Found in review: accepted here, refused later by Azure, Vault or the injector.
    [
        "kubelogin credentials on a created cluster without Entra ID",
        set("cluster.credentials", { mode: "kubelogin", login: "azurecli" }),
        "cluster.entraId",
        "Entra ID settings when credentials.mode is kubelogin (without Entra ID, AKS hands out no kubelogin credentials)",
    ],
    [
        "a workload in kube-system (the webhook never sees it)",
        all(set("workloads[0].namespace", "kube-system"), set("workloads[0].createNamespace", false)),
        "workloads[0].namespace",
        "a namespace of its own, not a kube- namespace (Kubernetes reserves the prefix; the webhook never sees kube-system)",
    ],
    [
        "a workload in the injector's namespace",
        all(set("workloads[0].namespace", "vault"), set("workloads[0].createNamespace", false)),
        "workloads[0].namespace",
        "a namespace of its own, not the injector's namespace (its webhook never sees it)",
    ],
    [
        "the root policy written ' Root' (Vault trims and lower-cases names)",
        set("workloads[0].policies", ["default", " Root"]),
        "workloads[0].policies[1]",
        "not root (compared as Vault does, ignoring case and spaces): a workload never holds root",
    ],
    [
        "the root policy on a role", set("workloads[0].policies", ["default", "root"]), "workloads[0].policies[1]",
        "not root (compared as Vault does, ignoring case and spaces): a workload never holds root",
    ],
    [
        "a role name with '/'", set("workloads[0].role", "team/busybox"), "workloads[0].role",
        "letters, digits, '_', '.' or '-' (a Vault role name has no '/')",
    ],
    [
        "a cluster name that is no DNS prefix, and no dnsPrefix", set("cluster.name", "aks_vault_dev"), "cluster.dnsPrefix",
        "a DNS prefix (1-54 letters, digits or '-'): the default, the cluster name \"aks_vault_dev\", is not one",
    ],
    [
        "a pod CIDR that is not a CIDR", set("cluster.network.podCidr", "10.244.0.0"), "cluster.network.podCidr",
        "an IPv4 CIDR such as 10.244.0.0/16",
    ],
    [
        "a DNS service IP outside the service CIDR", set("cluster.network.dnsServiceIp", "10.1.0.10"), "cluster.network.dnsServiceIp",
        "an address inside serviceCidr 10.0.0.0/16",
    ],
    [
        "overlapping pod and service CIDRs", set("cluster.network.serviceCidr", "10.244.128.0/17"), "cluster.network.serviceCidr",
        "a range that does not overlap podCidr 10.244.0.0/16",
    ],
    [
        "a system pool with fewer than 30 max pods", set("cluster.systemPool.maxPods", 20), "cluster.systemPool.maxPods",
        "at least 30 (AKS requires it of system pools)",
    ],
    [
        "a tenant for login msi (only spn takes one)",
        all(
            set("cluster.entraId", {}),
            set("cluster.credentials", { mode: "kubelogin", login: "msi", tenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47" }),
        ),
        "cluster.credentials.tenantId",
        "unset for login msi (only spn takes a tenant; the others use their identity's)",
    ],
    [
        "a Spot max price of 0",
        all(set("cluster.userPools[0].priority", "Spot"), set("cluster.userPools[0].spotMaxPrice", 0)),
        "cluster.userPools[0].spotMaxPrice",
        "-1 (the on-demand price) or a price above 0",
    ],
];

describe("config validation: a corpus of bad configs", () => {
    it("the lab config itself is valid", () => {
        const s = parseSettings(labRaw());
        assert.equal(s.workloads[0].name, "busybox");
        assert.equal(s.kv.protect, true);
        assert.equal(s.injector.failurePolicy, "Fail");
    });

    it(`holds at least 30 bad configs (${CORPUS.length})`, () => assert.ok(CORPUS.length >= 30));

    /** The problems at `key` when `mutate` breaks the lab config. */
    const problemsAt = (mutate: Mutation, key: string) => {
        const raw = labRaw();
        mutate(raw);
        return problemsOf(raw).filter((x) => x.key.split(", ").includes(key));
    };

    for (const [what, mutate, key, expected] of CORPUS) {
        it(`refuses ${what}, naming ${key}: expected ${expected}`, () => {
            const atKey = problemsAt(mutate, key);
            const hits = atKey.filter((p) => p.expected === expected);
            assert.equal(hits.length, 1, `no one problem at ${key} expects exactly that; got ${JSON.stringify(atKey)}`);
            assert.ok(hits[0].found.length > 0, "found is stated");
        });
    }
});

describe("config validation: every problem at once", () => {
    it("reports schema and cross-field problems of different parts in one error", () => {
        const raw = labRaw();
        setAt(raw, "cluster.location", undefined); // schema: required
        setAt(raw, "cluster.userPools[0].minCount", 7); // cross-field, in a cluster that fails its schema
        setAt(raw, "vault.address", "http://vault:8200"); // cross-field
        setAt(raw, "kubernetesAuth.path", "/aks"); // schema
        raw.workloads.push(secondWorkload({ name: "busybox", namespace: "Bad" })); // schema + (name) duplicate on a workload that fails
        raw.workloads.push(secondWorkload({ name: "other", role: "busybox" })); // cross-field duplicate role
        const keys = problemsOf(raw).map((p) => p.key);
        for (const k of [
            "cluster.location", "cluster.userPools[0].minCount", "vault.address", "kubernetesAuth.path",
            "workloads[1].namespace", "workloads[2].role",
        ]) {
            assert.ok(keys.includes(k), `${k} missing from ${JSON.stringify(keys)}`);
        }
    });

    it("names key, found value and expectation in the message, one line each", () => {
        const raw = labRaw();
        setAt(raw, "injector.chartVersion", "~0.34");
        setAt(raw, "workloads[0].tokenTtl", -5);
        let message = "";
        try { parseSettings(raw); } catch (err) { message = (err as Error).message; }
        assert.match(message, /^invalid stack settings \(2 problems\):/);
        assert.match(message, /- injector\.chartVersion: found "~0\.34"; expected an exact chart version such as 0\.34\.1/);
        assert.match(message, /- workloads\[0\]\.tokenTtl: found -5; expected /);
    });

    it("never echoes a seeded literal value, even when it is the thing that is wrong", () => {
        const raw = labRaw();
        raw.workloads[0].seed[0].values.token = { value: 12345678901 };
        raw.workloads[0].seed[0].values.other = { value: "hunter2-do-not-print", extra: true };
        let message = "";
        try { parseSettings(raw); } catch (err) { message = (err as Error).message; }
        assert.ok(message.length > 0);
        assert.ok(!message.includes("12345678901"));
        assert.ok(!message.includes("hunter2-do-not-print"));
    });

    it("stops before registering any resource (loadFromConfig throws, nothing reaches the cloud)", async () => {
        const cloud = await useCloud();
        const raw = labRaw();
        setAt(raw, "kv.path", "/secret/");
        setConfig(raw);
        assert.throws(
            () => loadFromConfig(),
            (err: unknown) => err instanceof SettingsError && err.problems.some((p) => p.key === "kv.path"),
        );
        assert.equal(cloud.resources.length, 0);
    });

    it("accepts '*' only when allowWildcard says so and the platform exempts the workload, without a deployment", () => {
        const raw = labRaw();
        Object.assign(raw.workloads[0], { serviceAccount: "*", allowWildcard: true });
        delete raw.workloads[0].deployment;
        // The workload's own switch is not enough (issue 22): the exemption is the platform's.
        assert.throws(
            () => parseSettings(raw),
            (e: unknown) => e instanceof SettingsError && e.problems.some((p) =>
                p.key === "workloads[0].serviceAccount" && /platform\.wildcardWorkloads listing busybox/.test(p.expected)),
        );
        raw.platform = { wildcardWorkloads: ["busybox"] };
        assert.equal(parseSettings(raw).workloads[0].serviceAccount, "*");
    });
});
