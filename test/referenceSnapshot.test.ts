/**
 * test/reference is a snapshot of ../shared/reference for runners that do not have it (GitHub
 * Actions). Where ../shared/reference exists, it is the source of truth and the snapshot must be
 * byte-identical to it, so the tests never silently run against stale upstream facts.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "fs";
import * as path from "path";
import { REFERENCE, SHARED_REFERENCE, VENDORED_REFERENCE } from "./support/harness";

function files(dir: string, base = dir): string[] {
    return readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        return statSync(full).isDirectory() ? files(full, base) : [path.relative(base, full)];
    }).sort();
}

describe("reference data snapshot", () => {
    it("test/reference matches ../shared/reference file for file (refresh: cp -r ../shared/reference/. test/reference/)", function () {
        if (!existsSync(SHARED_REFERENCE)) this.skip();
        assert.equal(REFERENCE, SHARED_REFERENCE, "the shared facts win when present");
        assert.deepEqual(files(VENDORED_REFERENCE), files(SHARED_REFERENCE));
        for (const f of files(SHARED_REFERENCE)) {
            assert.ok(
                readFileSync(path.join(VENDORED_REFERENCE, f)).equals(readFileSync(path.join(SHARED_REFERENCE, f))),
                `${f} differs from ../shared/reference`,
            );
        }
    });
});
