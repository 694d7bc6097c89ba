// The policy pack's entry for Pulumi's policy runtime (package.json `main`): the pack compiled by
// `npm run build` (dist/policies/index.js) when it is current, else index.ts, which the runtime
// compiles with ts-node and type-checks (8.5 CPU s to load, against 1.2 s). Both construct the same
// PolicyPack; this folder stays the pack (PulumiPolicy.yaml, package.json, the platform config).
"use strict";
const path = require("path");
const { compiledIsCurrent } = require("../compiled");

require(compiledIsCurrent() ? path.join(__dirname, "..", "dist", "policies", "index.js") : "./index.ts");
