/**
 * Test-side helpers over the pack runner in `policies/evaluate.ts` (moved there so the offline plan
 * can use it): re-exports it, and picks single resources out of a recording.
 */
import assert from "node:assert/strict";
import type { Fixture } from "../../policies/evaluate";

export {
    Fixture,
    RunNotes,
    defaultProvider,
    fromRecording,
    resourceViolations,
    runPack,
    stackViolations,
    urnOf,
} from "../../policies/evaluate";

export function only(resources: Fixture[], type: string): Fixture {
    const found = resources.filter((r) => r.type === type);
    assert.equal(found.length, 1, `expected one ${type}`);
    return found[0];
}

