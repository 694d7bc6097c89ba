// Which code runs: the compiled JavaScript in dist/ (`npm run build`, which `npm ci` and
// `npm install` run through `prepare`) when it is current, else the TypeScript sources. Used by
// cli.js and by the policy pack's entry (policies/index.js). Starting from TypeScript costs about
// 2 s of CPU per CLI start, and Pulumi's policy runtime type-checks a TypeScript pack on every
// preview (8.5 CPU s to load it, against 1.2 s compiled); see BENCHMARKS.md "Feedback speed".
//
// "Current" means `npm run build` finished after the last change to any .ts file under src/,
// components/ and policies/ (and index.ts): it writes dist/.built last, only when tsc succeeded.
// An edit, a checkout or a failed build therefore never runs stale compiled code.
"use strict";
const fs = require("fs");
const path = require("path");

const STAMP = path.join("dist", ".built");

/** The newest modification time among .ts files under `dir` (0 when there are none). */
function newestSource(dir) {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
        if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
        newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
    }
    return newest;
}

/**
 * True when `root`/dist was built after the last change to the TypeScript it is compiled from.
 * Anything it cannot read (no stamp, a source folder missing) means no: the TypeScript runs.
 */
function compiledIsCurrent(root = __dirname) {
    try {
        const built = fs.statSync(path.join(root, STAMP)).mtimeMs;
        const sources = Math.max(
            newestSource(path.join(root, "src")),
            newestSource(path.join(root, "components")),
            newestSource(path.join(root, "policies")),
            fs.statSync(path.join(root, "index.ts")).mtimeMs,
        );
        return sources <= built;
    } catch {
        return false;
    }
}

module.exports = { compiledIsCurrent };

// `node compiled.js --stamp`: the last step of `npm run build`.
if (require.main === module && process.argv[2] === "--stamp") {
    fs.writeFileSync(path.join(__dirname, STAMP), `${new Date().toISOString()}\n`);
}
