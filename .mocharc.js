// Mocha config. TypeScript is stripped by sucrase (its register hook keeps line numbers as they are
// in the .ts source, so stack traces need no source maps). ts-node type-checked nothing here
// either (transpile-only), but it installed source-map-support, which rewrote every stack the
// Pulumi runtime captures (one per promise) and cost more CPU than the tests themselves; see
// BENCHMARKS.md "Test suite". Type errors are tsc's job: `npm run typecheck`.
//
// Mocha appends files named on the command line to `spec`, so the default spec applies only when
// none is named: `npx mocha` runs the suite, `npx mocha test/plan/plan.test.ts` runs one file.
"use strict";
const named = process.argv.slice(2).some((a) => /\.ts$/.test(a) && !a.startsWith("-"));
module.exports = {
    require: ["sucrase/register/ts"],
    extension: ["ts"],
    spec: named ? [] : ["test/**/*.test.ts"],
    timeout: 20000,
    recursive: true,
};
