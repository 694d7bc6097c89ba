/** Where Helm fetches the vault chart from: an https index, or the chart reference itself for OCI. */
import assert from "node:assert/strict";
import { runLab } from "../support/run";

async function releaseInputs(repository?: string): Promise<Record<string, unknown>> {
    const run = await runLab((raw) => {
        if (repository !== undefined) raw.injector.chartRepository = repository;
    });
    return run.cloud.one("kubernetes:helm.sh/v3:Release").inputs;
}

describe("vault chart source", () => {
    it("an https repository: chart vault from that index", async () => {
        const rel = await releaseInputs();
        assert.equal(rel.chart, "vault");
        assert.deepEqual(rel.repositoryOpts, { repo: "https://helm.releases.hashicorp.com" });
        assert.equal(rel.version, "0.34.1");
    });

    it("an OCI registry: the chart reference is oci://<path>/vault, with no repository option", async () => {
        for (const repo of ["oci://myregistry.azurecr.io/helm", "oci://myregistry.azurecr.io/helm/"]) {
            const rel = await releaseInputs(repo);
            assert.equal(rel.chart, "oci://myregistry.azurecr.io/helm/vault", repo);
            // Helm would treat a repo option as an index URL and fail on an OCI registry.
            assert.equal(rel.repositoryOpts, undefined, repo);
            assert.equal(rel.version, "0.34.1");
        }
    });
});
