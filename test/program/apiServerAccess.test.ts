/**
 * cluster.apiServerAuthorizedIpRanges: validated at the edge, sent to Azure as the ManagedCluster's
 * apiServerAccessProfile.authorizedIPRanges exactly as the stack file lists them.
 */
import assert from "node:assert/strict";
import { parseSettings, SettingsError } from "../../src/config/validate";
import { CIDR_EXPECTED } from "../../src/config/cidr";
import { labRaw, setAt } from "../support/fixtures";
import { runLab } from "../support/run";

const MC = "azure-native:containerservice:ManagedCluster";
const KEY = "cluster.apiServerAuthorizedIpRanges";

function problems(ranges: unknown): string[] {
    const raw = labRaw();
    setAt(raw, KEY, ranges);
    try {
        parseSettings(raw);
    } catch (e) {
        if (e instanceof SettingsError) return e.problems.map((p) => `${p.key}: ${p.expected}`);
        throw e;
    }
    return [];
}

describe("cluster.apiServerAuthorizedIpRanges", () => {
    it("sends the ranges the stack file lists to the ManagedCluster", async () => {
        const ranges = ["203.0.113.7/32", "198.51.100.0/24"];
        const run = await runLab((raw) => setAt(raw, KEY, ranges));
        assert.deepEqual(run.cloud.one(MC).inputs.apiServerAccessProfile, { authorizedIPRanges: ranges });
    });

    it("sends an empty list as no restriction, and nothing at all when the key is absent (existing stacks unchanged)", async () => {
        const open = await runLab((raw) => setAt(raw, KEY, []));
        assert.deepEqual(open.cloud.one(MC).inputs.apiServerAccessProfile, { authorizedIPRanges: [] });
        const lab = await runLab();
        assert.equal(lab.cloud.one(MC).inputs.apiServerAccessProfile, undefined);
    });

    it("refuses a range that is not an IPv4 CIDR block, naming its index", () => {
        assert.deepEqual(problems(["203.0.113.7/32", "203.0.113.7", "2001:db8::/32"]), [
            `${KEY}[1]: ${CIDR_EXPECTED}`,
            `${KEY}[2]: ${CIDR_EXPECTED}`,
        ]);
        assert.deepEqual(problems(["203.0.113.7/24"]), [`${KEY}[0]: ${CIDR_EXPECTED}: 203.0.113.0/24, or /32 for the address itself`]);
    });

    it("refuses a range listed twice, and more than AKS's 200", () => {
        assert.deepEqual(problems(["10.0.0.0/8", "10.0.0.0/8"]), [`${KEY}: each range once`]);
        const many = Array.from({ length: 201 }, (_, i) => `10.0.${i}.0/24`);
        assert.deepEqual(problems(many), [`${KEY}: at most 200 ranges (AKS's limit)`]);
        assert.deepEqual(problems(many.slice(0, 200)), []);
    });
});
