/**
 * The fixtures step of the upstream suite (test/upstream/README.md): evaluates stacks under
 * Pulumi's mock runtime (the same mock cloud the TypeScript tests use) and writes what the program
 * sends to each system, as recorded by the mock (the inputs that would reach the providers), as
 * JSON into `$UPSTREAM_FIXTURES/<stack>/`. The Go oracles in this folder read them.
 *
 *   UPSTREAM_FIXTURES=/tmp/fx npx ts-node --transpile-only test/upstream/export.ts
 *
 * Secret values in the fixtures are the mock's (test/support/run.ts), never real ones.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { SETTINGS_KEYS } from "../../src/config/configKeys";
import { Settings } from "../../src/config/schema";
import { parseSettings } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { OPERATOR_POLICY_NAME, operatorPolicyParams, renderOperatorPolicy } from "../../scripts/operatorPolicy";
import { CloudMock, RecordedResource, secretAt } from "../support/cloud";
import { providerName, settle, stackConfig, useCloud, valueOf } from "../support/harness";
import { secretInputs } from "../support/run";
import { generateStacks } from "./property";

/** The stacks the oracles judge: name -> stack file (relative to the repository root). */
export const STACKS: Record<string, string> = {
    dev: "Pulumi.dev.yaml",
    "dev-jwt": "Pulumi.jwt.yaml",
    tenants: "test/upstream/stacks/tenants.yaml",
    jwt: "test/upstream/stacks/jwt.yaml",
};

/**
 * The property test's generated stacks (property.ts; acl/property_test.go judges them): written
 * with their fixtures under `$UPSTREAM_FIXTURES/property/` (the stack files as `<id>.yaml`, the
 * fixtures in `<id>/`), from this seed, in this many groups of stacks sharing one Vault.
 * `UPSTREAM_PROPERTY_SEED` and `UPSTREAM_PROPERTY_GROUPS` override them; with `UPSTREAM_STACKS`
 * they are generated only when it names `property`.
 */
export const PROPERTY_DIR = "property";
export const PROPERTY_SEED = 22;
export const PROPERTY_GROUPS = 4;

/** The format of the files below; bump it when a field changes meaning. */
export const FORMAT_VERSION = 2;

type Obj = Record<string, any>;

function rawSettings(file: string): Obj {
    const config = stackConfig(file);
    const raw: Obj = {};
    for (const key of SETTINGS_KEYS) if (config[key] !== undefined) raw[key] = config[key];
    return raw;
}

/** Input keys (dotted, top level or one below) that were sent as secrets. */
function secretKeys(r: RecordedResource): string[] {
    const keys: string[] = [];
    for (const [k, v] of Object.entries(r.rawInputs)) {
        if (secretAt(r.rawInputs, k).secret) { keys.push(k); continue; }
        if (typeof v === "object" && v !== null && !Array.isArray(v)) {
            for (const sub of Object.keys(v)) if (secretAt(r.rawInputs, `${k}.${sub}`).secret) keys.push(`${k}.${sub}`);
        }
    }
    return keys;
}

/** What one evaluated stack sent, as the fixture files. */
export function fixtureFiles(
    stack: string, stackFile: string, settings: Settings, cloud: CloudMock, outputs: unknown,
): Record<string, unknown> {
    const one = (type: string): Obj => cloud.one(type).inputs as Obj;
    const all = (type: string): RecordedResource[] => cloud.of(type);

    const vaultProvider = one("pulumi:providers:vault");
    const authBackends = all("vault:index/authBackend:AuthBackend");
    const authConfigs = all("vault:kubernetes/authBackendConfig:AuthBackendConfig");
    const release = cloud.one("kubernetes:helm.sh/v3:Release");
    const clusters = [...cloud.clusters.values()];
    if (clusters.length !== 1) throw new Error(`${stack}: expected one cluster, found ${clusters.length}`);
    const cluster = clusters[0];
    const authConfig = authConfigs.length === 1 ? authConfigs[0].inputs as Obj : undefined;
    const authMount = authBackends.find((b) => b.inputs.type === "kubernetes")?.inputs as Obj | undefined;
    // kubernetesAuth.method jwt: one resource mounts the JWT method and writes its config.
    const jwtMount = all("vault:jwt/authBackend:AuthBackend")[0]?.inputs as Obj | undefined;

    const stackJson = {
        formatVersion: FORMAT_VERSION,
        stack,
        // The stack file (relative to the repository root): the oracles read the user's intent
        // from it with their own YAML parser, never from this program's parse of it.
        stackFile,
        // The Pulumi project and stack the program ran as (the mock runtime's): generated
        // policy names derive from them.
        pulumiProject: pulumi.getProject(),
        pulumiStack: pulumi.getStack(),
        // What the cloud (mock) computed: the truth the program must have carried over.
        cluster: {
            name: cluster.name,
            resourceGroupName: cluster.resourceGroupName,
            location: cluster.location,
            fqdn: cluster.fqdn,
            apiServerUrl: `https://${cluster.fqdn}:443`,
            issuerUrl: cluster.issuerUrl,
            caCertPem: cluster.caCertPem,
        },
        // What the program sent: the Vault provider's address and namespace, the auth mount.
        vault: {
            address: vaultProvider.address,
            namespace: vaultProvider.namespace ?? null,
            skipTlsVerify: vaultProvider.skipTlsVerify ?? null,
        },
        auth: {
            method: authMount?.type ?? jwtMount?.type ?? null,
            path: authMount?.path ?? jwtMount?.path ?? null,
            kubernetesHost: authConfig?.kubernetesHost ?? null,
            kubernetesCaCert: authConfig?.kubernetesCaCert ?? null,
            issuer: authConfig?.issuer ?? jwtMount?.boundIssuer ?? null,
        },
    };

    const releaseInputs = release.inputs as Obj;
    const releaseJson = {
        name: releaseInputs.name,
        chart: releaseInputs.chart,
        version: releaseInputs.version,
        repository: (releaseInputs.repositoryOpts as Obj | undefined)?.repo ?? null,
        namespace: releaseInputs.namespace,
        values: releaseInputs.values,
        provider: providerName(release.provider, "kubernetes") ?? null,
    };

    const deploymentsJson = all("kubernetes:apps/v1:Deployment").map((d) => {
        const i = d.inputs as Obj;
        return {
            resource: d.name,
            name: i.metadata?.name,
            namespace: i.metadata?.namespace,
            serviceAccount: i.spec?.template?.spec?.serviceAccountName ?? null,
            replicas: i.spec?.replicas ?? null,
            template: i.spec?.template,
        };
    });

    const kubernetesJson = {
        namespaces: [
            ...all("kubernetes:core/v1:Namespace").map((n) => ({
                name: (n.inputs as Obj).metadata?.name,
                labels: (n.inputs as Obj).metadata?.labels ?? {},
                created: true,
            })),
            ...all("kubernetes:core/v1:NamespacePatch").map((n) => ({
                name: (n.inputs as Obj).metadata?.name,
                labels: (n.inputs as Obj).metadata?.labels ?? {},
                created: false,
            })),
        ],
        serviceAccounts: all("kubernetes:core/v1:ServiceAccount").map((s) => ({
            name: (s.inputs as Obj).metadata?.name,
            namespace: (s.inputs as Obj).metadata?.namespace,
            automountServiceAccountToken: (s.inputs as Obj).automountServiceAccountToken ?? null,
        })),
        clusterRoleBindings: all("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
            .concat(all("kubernetes:rbac/v1:ClusterRoleBinding"))
            .map((b) => ({
                name: (b.inputs as Obj).metadata?.name,
                roleRef: (b.inputs as Obj).roleRef,
                subjects: (b.inputs as Obj).subjects,
            })),
        // Reviewer token Secrets, with the JWT the token controller (mock) minted into each.
        reviewerTokens: all("kubernetes:core/v1:Secret")
            .filter((s) => (s.inputs as Obj).type === "kubernetes.io/service-account-token")
            .map((s) => {
                const m = (s.inputs as Obj).metadata as Obj;
                return {
                    name: m.name,
                    namespace: m.namespace,
                    serviceAccount: m.annotations?.["kubernetes.io/service-account.name"],
                    jwt: cloud.minted.get(`${m.namespace}/${m.name}`) ?? null,
                };
            }),
    };

    const vaultJson = {
        provider: { address: vaultProvider.address, namespace: vaultProvider.namespace ?? null },
        authBackends: authBackends.map((b) => ({ resource: b.name, ...(b.inputs as Obj) })),
        // Inputs exactly as registered (Pulumi names: kubernetesHost, kubernetesCaCert,
        // tokenReviewerJwt, issuer, disableIssValidation, disableLocalCaJwt, backend).
        authBackendConfigs: authConfigs.map((c) => ({ resource: c.name, ...(c.inputs as Obj), secretInputs: secretKeys(c) })),
        roles: all("vault:kubernetes/authBackendRole:AuthBackendRole").map((r) => ({ resource: r.name, ...(r.inputs as Obj) })),
        // kubernetesAuth.method jwt: the JWT mount (with its config) and roles, every input.
        jwtBackends: all("vault:jwt/authBackend:AuthBackend")
            .map((b) => ({ resource: b.name, ...(b.inputs as Obj), secretInputs: secretKeys(b) })),
        jwtRoles: all("vault:jwt/authBackendRole:AuthBackendRole").map((r) => ({ resource: r.name, ...(r.inputs as Obj) })),
        policies: all("vault:index/policy:Policy")
            .map((p) => ({ resource: p.name, name: (p.inputs as Obj).name, policy: (p.inputs as Obj).policy })),
        mounts: all("vault:index/mount:Mount").map((m) => ({ resource: m.name, ...(m.inputs as Obj) })),
        // The KV v2 mount the program creates, or (kv.existing) the one it adopts.
        kvMount: (all("vault:index/mount:Mount").find((m) => (m.inputs as Obj).type === "kv")?.inputs as Obj | undefined)?.path
            ?? settings.kv.path,
        seeds: all("vault:kv/secretV2:SecretV2").map((s) => {
            const i = s.inputs as Obj;
            return {
                resource: s.name,
                mount: i.mount,
                name: i.name,
                // `dataJson` as sent, and parsed: the KV v2 `data` the provider writes.
                dataJson: i.dataJson,
                data: JSON.parse(String(i.dataJson)) as Record<string, string>,
                secret: secretAt(s.rawInputs, "dataJson").secret,
            };
        }),
    };

    const resourcesJson = cloud.resources.map((r) => ({
        type: r.type,
        name: r.name,
        custom: r.custom,
        provider: r.provider ?? null,
        inputs: r.inputs,
        secretInputs: secretKeys(r),
    }));

    return {
        "stack.json": stackJson,
        "release.json": releaseJson,
        "deployments.json": deploymentsJson,
        "kubernetes.json": kubernetesJson,
        "vault.json": vaultJson,
        "outputs.json": outputs,
        "resources.json": resourcesJson,
        // The operator token's policy the program documents for this stack (deploy/vault-operator-policy.hcl is dev's).
        "operator.json": {
            name: OPERATOR_POLICY_NAME,
            policy: renderOperatorPolicy(operatorPolicyParams(settings, pulumi.getProject(), pulumi.getStack())),
        },
    };
}

/** Evaluates one stack file under the mock cloud, as Pulumi stack `pulumiStack`; returns its fixture files. */
export async function exportStack(stack: string, file: string, pulumiStack = "dev"): Promise<Record<string, unknown>> {
    const raw = rawSettings(file);
    const settings = parseSettings(structuredClone(raw));
    const cloud = await useCloud({ stack: pulumiStack });
    const outputs = buildProgram(settings, secretInputs());
    await settle(cloud);
    const resolved = await valueOf(pulumi.output(outputs));
    return fixtureFiles(stack, file, settings, cloud, resolved);
}

function writeFixtures(out: string, files: Record<string, unknown>): void {
    mkdirSync(out, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(out, name), `${JSON.stringify(content, null, 2)}\n`);
}

export async function main(): Promise<string> {
    const dir = process.env.UPSTREAM_FIXTURES || mkdtempSync(path.join(tmpdir(), "upstream-fixtures-"));
    const only = process.env.UPSTREAM_STACKS?.split(",").filter((s) => s !== "");
    for (const [stack, file] of Object.entries(STACKS)) {
        if (only !== undefined && !only.includes(stack)) continue;
        writeFixtures(path.join(dir, stack), await exportStack(stack, file));
    }
    if (only === undefined || only.includes(PROPERTY_DIR)) {
        const seed = Number(process.env.UPSTREAM_PROPERTY_SEED ?? PROPERTY_SEED);
        const groups = Number(process.env.UPSTREAM_PROPERTY_GROUPS ?? PROPERTY_GROUPS);
        const stacks = generateStacks(seed, groups);
        const base = path.join(dir, PROPERTY_DIR);
        mkdirSync(base, { recursive: true });
        for (const s of stacks) {
            // Absolute: the stack file lives beside its fixtures, not in the repository.
            const file = path.join(base, `${s.id}.yaml`);
            writeFileSync(file, s.yaml);
            try {
                writeFixtures(path.join(base, s.id), await exportStack(s.id, file, s.pulumiStack));
            } catch (err) {
                const why = err instanceof Error ? err.message : String(err);
                throw new Error(`generated stack ${file} (Pulumi stack ${s.pulumiStack}): ${why}`);
            }
        }
        // What was generated: the Go test judges every one, and fails when one is missing.
        writeFileSync(path.join(base, "manifest.json"),
            `${JSON.stringify({ seed, groups, stacks: stacks.map((s) => ({ id: s.id, pulumiStack: s.pulumiStack })) }, null, 2)}\n`);
    }
    return dir;
}

if (require.main === module) {
    main().then((dir) => {
        // The one line a caller needs: where the fixtures are.
        process.stdout.write(`${dir}\n`);
    }, (err: unknown) => {
        process.stderr.write(`upstream fixtures: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
    });
}
