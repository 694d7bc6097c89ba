/**
 * Workload bindings at the edges found in review: a Vault Enterprise namespace, two workloads in
 * one namespace, a role bound to every namespace, and the injector's lower-cased file names.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { parseSettings } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { CloudMock } from "../support/cloud";
import { settle, stackConfig, stateOf, useCloud } from "../support/harness";

const secrets = { secretConfig: () => pulumi.secret("unused") };

async function run(mutate: (raw: Record<string, any>) => void): Promise<{ cloud: CloudMock; outputs: Record<string, unknown> }> {
    const raw = JSON.parse(JSON.stringify(stackConfig())) as Record<string, any>;
    mutate(raw);
    const cloud = await useCloud();
    const outputs = buildProgram(parseSettings(raw), secrets);
    await settle(cloud);
    return { cloud, outputs };
}

const annotationsOf = (cloud: CloudMock, name: string) =>
    (cloud.one("kubernetes:apps/v1:Deployment", `${name}-deploy`).inputs as Record<string, any>)
        .spec.template.metadata.annotations as Record<string, string>;

describe("workload bindings at the edges", () => {
    it("sends the Vault Enterprise namespace to the agents, where the auth mount lives", async () => {
        const { cloud } = await run((raw) => { raw.vault.namespace = "team-a"; });
        assert.equal(annotationsOf(cloud, "busybox")["vault.hashicorp.com/namespace"], "team-a");
        assert.equal(cloud.one("pulumi:providers:vault").inputs.namespace, "team-a");
    });

    it("sends no namespace annotation for the root namespace", async () => {
        const { cloud } = await run(() => undefined);
        assert.equal(annotationsOf(cloud, "busybox")["vault.hashicorp.com/namespace"], undefined);
    });

    it("lets a second workload share a namespace another creates: no patch, and it waits for the namespace", async () => {
        const { cloud } = await run((raw) => {
            // Listed first on purpose: the program registers the namespace's creator before it.
            raw.workloads.unshift({
                name: "sidekick",
                namespace: "busybox",
                serviceAccount: "sidekick",
                createNamespace: false,
                secrets: [{ file: "t", path: "sidekick/t", key: "token" }],
            });
        });
        assert.equal(cloud.of("kubernetes:core/v1:NamespacePatch").length, 0, "the creator already labelled it");
        assert.equal(cloud.of("kubernetes:core/v1:Namespace", "busybox-ns").length, 1);
        const creatorIndex = cloud.resources.findIndex((r) => r.name === "busybox-ns");
        const sharerSa = cloud.resources.findIndex((r) => r.name === "sidekick-sa");
        assert.ok(creatorIndex >= 0 && sharerSa > creatorIndex, "the sharing workload's resources come after the namespace exists");
        const role = cloud.one("vault:kubernetes/authBackendRole:AuthBackendRole", "sidekick-role").inputs;
        assert.deepEqual(role.boundServiceAccountNamespaces, ["busybox"]);
    });

    it("binds a wildcard role without patching a namespace named '*'", async () => {
        const { cloud } = await run((raw) => {
            raw.workloads.push({ name: "reader", namespace: "*", serviceAccount: "reader", createNamespace: false, allowWildcard: true });
            raw.platform = { wildcardWorkloads: ["reader"] };
        });
        assert.equal(cloud.of("kubernetes:core/v1:NamespacePatch").length, 0);
        assert.deepEqual(
            cloud.one("vault:kubernetes/authBackendRole:AuthBackendRole", "reader-role").inputs.boundServiceAccountNamespaces,
            ["*"],
        );
    });

    it("says in its outputs which workload has no Deployment (for the doctor), and nothing more for one that has", async () => {
        const { outputs } = await run((raw) => {
            raw.workloads.push({ name: "reader", namespace: "reader", serviceAccount: "reader",
                secrets: [{ file: "t", path: "reader/t", key: "token" }] });
        });
        const workloads = await stateOf(pulumi.output(outputs.workloads) as pulumi.Output<Record<string, Record<string, unknown>>>);
        assert.equal(workloads.value.reader.deployment, false);
        assert.ok(!("deployment" in workloads.value.busybox), "a stack with Deployments keeps its outputs unchanged");
    });

    it("reports the file paths the injector really writes (lower-cased)", async () => {
        const { outputs } = await run((raw) => { raw.workloads[0].secrets[0].file = "Devops_Token"; });
        const workloads = await stateOf(pulumi.output(outputs.workloads) as pulumi.Output<Record<string, { files: string[] }>>);
        assert.deepEqual(workloads.value.busybox.files, ["/vault/secrets/devops_token"]);
    });
});
