#!/usr/bin/env node
// The `aks-vault` command. It runs the compiled JavaScript in dist/ (`npm run build`, which
// `npm ci` and `npm install` run through `prepare`): starting from TypeScript cost about 2 s of
// CPU per start. When dist/ is missing, or older than a source file (an edited checkout), it
// runs the TypeScript through ts-node (transpile only) as before, so an edit never runs stale code.
"use strict";
const fs = require("fs");
const path = require("path");

/** The newest modification time under `dir` among .ts files (0 when there are none). */
function newestSource(dir) {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
        newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
    return newest;
}

function compiledIsCurrent() {
    let built;
    try {
        built = fs.statSync(path.join(__dirname, "dist", ".tsbuildinfo")).mtimeMs;
    } catch {
        return false;
    }
    return ["src", "policies"].every((d) => newestSource(path.join(__dirname, d)) <= built);
}

let cli;
if (compiledIsCurrent()) {
    cli = require("./dist/src/cli");
} else {
    require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "tsconfig.json") });
    cli = require("./src/cli");
}
cli.main(process.argv).then((code) => { process.exitCode = code; });
