/** Timing of a real deploy: the reviewer token Secret is waited for, boundedly, with a clear error. */
import assert from "node:assert/strict";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { buildProgram } from "../../src/program/program";
import { labRaw } from "../support/fixtures";
import { settle, stateOf, useCloud } from "../support/harness";
import { recordResourceOptions } from "../support/resourceOptions";
import { runLab, secretInputs } from "../support/run";

describe("timing of a real deploy", () => {
    it("the reviewer token Secret is awaited for up to 5 minutes (customTimeouts), then its JWT reaches Vault", async () => {
        const run = await runLab();
        const opts = run.optionsOf("kubernetes:core/v1:Secret", "vault-injector-reviewer-token");
        assert.equal(opts.customTimeouts?.create, "5m");
        assert.equal(opts.customTimeouts?.update, "5m");
        const jwt = run.cloud.minted.get("vault/vault-token-reviewer-token");
        assert.ok(jwt !== undefined);
        assert.equal(run.cloud.one("vault:kubernetes/authBackendConfig:AuthBackendConfig").inputs.tokenReviewerJwt, jwt);
    });

    it("a token controller that never fills the Secret fails the run naming the Secret and what to check", async () => {
        const cloud = await useCloud({ tokenControllerDown: true });
        recordResourceOptions();
        const failures: unknown[] = [];
        const onRejection = (err: unknown) => failures.push(err);
        process.on("unhandledRejection", onRejection);
        let err: unknown;
        try {
            const outputs = buildProgram(parseSettings(labRaw()), secretInputs(), { stage: "vault-auth" });
            await stateOf(outputs.vaultAuthPath as never).catch((e: unknown) => { err = e; });
            await settle(cloud).catch((e: unknown) => { err ??= e; });
        } finally {
            process.off("unhandledRejection", onRejection);
        }
        const message = String((err ?? failures[0]) instanceof Error ? ((err ?? failures[0]) as Error).message : err ?? failures[0]);
        assert.match(
            message,
            /the token controller did not fill Secret vault\/vault-token-reviewer-token \(type kubernetes\.io\/service-account-token\) within 5m: check that service account vault-token-reviewer exists/,
        );
    });

    describe("injector replicas never wait for the autoscaler (preferred anti-affinity, not the chart's required one)", () => {
        const problemsOf = (edit: (raw: Record<string, any>) => void) => {
            const raw = labRaw();
            edit(raw);
            try {
                parseSettings(raw);
                return [];
            } catch (e) {
                assert.ok(e instanceof SettingsError, String(e));
                return e.problems.filter((p) => p.key === "injector.replicas");
            }
        };

        it("accepts the dev stack's 3 replicas on the nodes its pools start with, and more replicas than nodes", () => {
            const s = parseSettings(labRaw());
            assert.ok(s.cluster.mode === "create");
            const start = s.cluster.systemPool.minCount + s.cluster.userPools.reduce((n, p) => n + p.minCount, 0);
            assert.ok(s.injector.replicas > start, `${s.injector.replicas} replicas on ${start} nodes: the case the chart's rule blocked`);
            assert.deepEqual(problemsOf((raw) => {
                raw.injector.replicas = 3;
                raw.cluster.systemPool.maxCount = 1;
                raw.cluster.userPools[0].maxCount = 1;
            }), []);
        });

        it("refuses only when no pool can run the injector (tainted, or outside injector.nodeSelector)", () => {
            const tainted = problemsOf((raw) => {
                raw.cluster.systemPool.taints = ["CriticalAddonsOnly=true:NoSchedule"];
                raw.cluster.userPools[0].taints = ["dedicated=batch:NoSchedule"];
            });
            assert.match(tainted[0]?.expected ?? "", /^a pool the injector can run on/);
            const none = problemsOf((raw) => { raw.injector.nodeSelector = { team: "nobody" }; });
            assert.match(none[0]?.expected ?? "", /^a pool the injector can run on/);
            // The AKS label every Linux node carries matches every pool.
            assert.deepEqual(problemsOf((raw) => { raw.injector.nodeSelector = { "kubernetes.io/os": "linux" }; }), []);
        });
    });
});
