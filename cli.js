#!/usr/bin/env node
// The `aks-vault` command. It runs the compiled JavaScript in dist/ when it is current, else the
// TypeScript through ts-node (transpile only), so an edit never runs stale code (compiled.js).
"use strict";
const path = require("path");
const { compiledIsCurrent } = require("./compiled");

let cli;
if (compiledIsCurrent()) {
    cli = require("./dist/src/cli");
} else {
    require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "tsconfig.json") });
    cli = require("./src/cli");
}
cli.main(process.argv).then((code) => { process.exitCode = code; });
