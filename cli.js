#!/usr/bin/env node
// The `aks-vault` command. TypeScript runs through ts-node (transpile only), as Pulumi runs index.ts.
"use strict";
require("ts-node").register({ transpileOnly: true, project: require("path").join(__dirname, "tsconfig.json") });
require("./src/cli")
    .main(process.argv)
    .then((code) => { process.exitCode = code; });
