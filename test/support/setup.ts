/**
 * Loaded by mocha before any test (.mocharc.js `require`): settings of the test process.
 *
 * The Pulumi SDK captures a stack trace for every promise its runtime makes
 * (`debuggablePromise` in @pulumi/pulumi runtime/debuggable.js stores `new Error().stack`, used
 * only in its report of promises still pending at exit). The suite makes several hundred
 * thousand, and mocha sets `Error.stackTraceLimit = Infinity` (mocha lib/cli/cli.js), so each
 * capture walked the whole stack: about 3 s of the suite's CPU (BENCHMARKS.md "Feedback
 * speed"). Here those promises get an empty trace: the SDK still tracks
 * them as it does (ids, leak candidates, the exit report), and every other error, a failing
 * assertion's included, keeps its whole stack. The SDK calls the function through its module's
 * exports (`debuggable_1.debuggablePromise(...)`), so replacing the export reaches every caller.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> };

const original = debuggable.debuggablePromise;
if (typeof original !== "function") {
    throw new Error("@pulumi/pulumi runtime/debuggable no longer exports debuggablePromise: update test/support/setup.ts");
}
debuggable.debuggablePromise = function debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T> {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return original(p, ctx);
    } finally {
        Error.stackTraceLimit = limit;
    }
};
