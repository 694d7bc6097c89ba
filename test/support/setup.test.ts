/**
 * The test process's settings (test/support/setup.ts) still take hold: if an SDK update stopped
 * calling `debuggablePromise` through its module's exports, the suite would silently get slower.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { settle, useCloud } from "./harness";

type Traced = Promise<unknown> & { _debugStackTrace?: string };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: (p: Traced, ctx: unknown) => Promise<unknown> };

/** Any custom resource will do; the class is abstract. */
class Thing extends pulumi.CustomResource {
    constructor(name: string) {
        super("test:index:Thing", name, {});
    }
}

describe("test process settings", () => {
    it("the SDK's own promises carry an empty stack trace; other errors keep theirs", async () => {
        const cloud = await useCloud();
        const installed = debuggable.debuggablePromise;
        const seen: Traced[] = [];
        // Observes what the SDK's calls get, through whatever setup.ts installed.
        debuggable.debuggablePromise = (p, ctx) => {
            const out = installed(p, ctx);
            seen.push(p);
            return out;
        };
        try {
            new Thing("thing");
            await settle(cloud);
        } finally {
            debuggable.debuggablePromise = installed;
        }
        assert.ok(seen.length > 0, "registering a resource goes through debuggablePromise");
        for (const p of seen) assert.equal(p._debugStackTrace, "Error", "no frames captured");
        // Mocha sets Error.stackTraceLimit to Infinity; an ordinary error still gets its frames.
        const stack = (function inner() {
            return new Error("x").stack ?? "";
        })();
        assert.match(stack, /at inner .*\n\s+at /, "an ordinary error keeps its frames");
    });
});
