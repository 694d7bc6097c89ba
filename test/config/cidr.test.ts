/** The authorized-IP-range parser (src/config/cidr.ts): what AKS takes, each refusal's message, linear time. */
import assert from "node:assert/strict";
import { CIDR_EXPECTED, cidrProblem } from "../../src/config/cidr";

describe("authorized IP ranges: IPv4 CIDR blocks", () => {
    it("accepts network addresses with a prefix, /32 for one address, and 0.0.0.0/32", () => {
        // 137.117.106.88/29 is the example in the azure-native ManagedClusterAPIServerAccessProfile docs.
        for (const ok of ["137.117.106.88/29", "203.0.113.7/32", "10.0.0.0/8", "0.0.0.0/0", "0.0.0.0/32", "255.255.255.255/32"]) {
            assert.equal(cidrProblem(ok), undefined, ok);
        }
    });

    it("refuses what is not a.b.c.d/n, with the same message", () => {
        const bad = [
            "203.0.113.7", "203.0.113.0/33", "256.0.0.0/8", "203.0.113/24", "203.0.113.0.0/24", "203.0.113.0/", "/24",
            "203.0.113.0/24/1", "010.0.0.0/8", "10.0.0.0/08", "2001:db8::/32", " 10.0.0.0/8", "10.0.0.0/8 ", "10.0.0.0/8,10.1.0.0/16",
            "1000.0.0.0/8", "", "a.b.c.d/8", "10..0.0/8",
        ];
        for (const b of bad) assert.equal(cidrProblem(b), CIDR_EXPECTED, JSON.stringify(b));
    });

    it("refuses host bits, naming the network address to write instead", () => {
        assert.equal(cidrProblem("203.0.113.7/24"), `${CIDR_EXPECTED}: 203.0.113.0/24, or /32 for the address itself`);
        assert.equal(cidrProblem("137.117.106.89/29"), `${CIDR_EXPECTED}: 137.117.106.88/29, or /32 for the address itself`);
        assert.equal(cidrProblem("1.2.3.4/0"), `${CIDR_EXPECTED}: 0.0.0.0/0, or /32 for the address itself`);
    });

    it("answers a megabyte of input at once (one pass, no regular expression)", () => {
        const start = process.hrtime.bigint();
        for (const s of ["1".repeat(1 << 20), `${"1.".repeat(1 << 19)}/8`, `10.0.0.0/${"9".repeat(1 << 20)}`]) {
            assert.equal(cidrProblem(s), CIDR_EXPECTED);
        }
        assert.ok(process.hrtime.bigint() - start < 2_000_000_000n, "linear, not backtracking");
    });
});
