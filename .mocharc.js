// Mocha config. TypeScript is stripped by sucrase (its register hook keeps line numbers as they are
// in the .ts source, so stack traces need no source maps). ts-node type-checked nothing here
// either (transpile-only), but it installed source-map-support, which rewrote every stack the
// Pulumi runtime captures (one per promise) and cost more CPU than the tests themselves; see
// BENCHMARKS.md "Feedback speed". Type errors are tsc's job: `npm run typecheck`.
//
// Mocha appends files named on the command line to `spec`, so the default spec applies only when
// none is named: `npx mocha` runs the suite, `npx mocha test/plan/plan.test.ts` runs one file.
"use strict";
const named = process.argv.slice(2).some((a) => /\.ts$/.test(a) && !a.startsWith("-"));
module.exports = {
    // test/support/setup.ts: settings for the test process (the SDK's per-promise stack traces; see there).
    require: ["sucrase/register/ts", "./test/support/setup.ts"],
    extension: ["ts"],
    spec: named ? [] : ["test/**/*.test.ts"],
    timeout: 20000,
    // A larger young generation: the mock runtime allocates many short-lived objects, and with
    // V8's default (16 MiB) scavenges took about 2 of the suite's 16 CPU s (BENCHMARKS.md
    // "Feedback speed"). Mocha starts its worker node with this flag.
    "node-option": ["max-semi-space-size=64"],
    recursive: true,
};
