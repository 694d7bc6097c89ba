/** What `parseSettings` refuses, for the validation tests: the problems, or each as the one line a user reads. */
import assert from "node:assert/strict";
import { parseSettings, SettingsError } from "../../src/config/validate";
import type { SettingsProblem } from "../../src/config/problem";

/** The problems `parseSettings` reports for `raw`; none when it accepts it. Any other error fails the test. */
export function problemsOf(raw: unknown): SettingsProblem[] {
    try {
        parseSettings(raw);
    } catch (err) {
        assert.ok(err instanceof SettingsError, String(err));
        return err.problems;
    }
    return [];
}

/** Each problem as `key: found X; expected Y`. */
export function problemLines(raw: unknown): string[] {
    return problemsOf(raw).map((p) => `${p.key}: found ${p.found}; expected ${p.expected}`);
}
