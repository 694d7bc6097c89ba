/**
 * Validation wording: every problem reads `<key>: found <value>; expected <what>`, where <what> is
 * the phrase a person would write after "expected", never zod's own text.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { parseSettings, SettingsError } from "../../src/config/validate";
import type { SettingsProblem } from "../../src/config/problem";
import { oneOf, settingsErrorMap } from "../../src/config/wording";
import { labRaw, setAt } from "../support/fixtures";

/** zod's default phrasing, or a sentence that restates the key ("x must be ..."). */
const NOT_A_PHRASE = /Invalid|Too (small|big)|received|\ba object|\bexpected\b|must be|Expected|\bnan\b|undefined/;

function problemsOf(mutate: (raw: Record<string, any>) => void): SettingsProblem[] {
    const raw = labRaw();
    mutate(raw);
    try {
        parseSettings(raw);
    } catch (err) {
        if (err instanceof SettingsError) return err.problems;
        throw err;
    }
    return [];
}

/** Every path in the lab config, leaves and branches. */
function pathsOf(v: unknown, prefix = ""): string[] {
    if (Array.isArray(v)) return [prefix, ...v.flatMap((x, i) => pathsOf(x, `${prefix}[${i}]`))];
    if (typeof v === "object" && v !== null) {
        return [...(prefix ? [prefix] : []), ...Object.entries(v).flatMap(([k, x]) => pathsOf(x, prefix ? `${prefix}.${k}` : k))];
    }
    return [prefix];
}

describe("config validation wording", () => {
    it("words zod's issues as what is expected", () => {
        const schema = z.object({
            count: z.number().int().min(1).max(10),
            mode: z.enum(["Fail", "Ignore"]),
            level: z.enum(["a", "b", "c"]),
            name: z.string().min(1),
            tags: z.array(z.string()),
            nested: z.object({ on: z.boolean() }),
        });
        const { error } = schema.safeParse({ count: 0, mode: "fail", level: "d", name: "", tags: {} }, { error: settingsErrorMap });
        const byKey = Object.fromEntries((error?.issues ?? []).map((i) => [i.path.join("."), i.message]));
        assert.deepEqual(byKey, {
            count: "a number of at least 1",
            mode: '"Fail" or "Ignore"',
            level: 'one of "a", "b" or "c"',
            name: "a non-empty string",
            tags: "a list",
            nested: "a map of settings (this setting is required)",
        });
        assert.equal(schema.safeParse({ count: 11 }, { error: settingsErrorMap }).error?.issues[0].message, "a number of at most 10");
    });

    it("lists alternatives as a person would", () => {
        assert.equal(oneOf(["x"]), '"x"');
        assert.equal(oneOf(["x", "y"]), '"x" or "y"');
        assert.equal(oneOf(["x", "y", 3]), 'one of "x", "y" or 3');
    });

    it("keeps a message the schema words itself", () => {
        const problems = problemsOf((raw) => setAt(raw, "injector.chartVersion", "^0.34"));
        assert.deepEqual(problems.map((p) => p.expected), ["an exact chart version such as 0.34.1 (no ranges)"]);
    });

    it("words a missing required setting", () => {
        const problems = problemsOf((raw) => setAt(raw, "vault", undefined));
        assert.deepEqual(problems, [{ key: "vault", found: "nothing", expected: "a map of settings (this setting is required)" }]);
    });

    // Each setting of the lab config replaced by values of the wrong type, shape and range: every
    // problem it causes reads as a phrase. Catches a new schema check that keeps zod's default text.
    const WRONG = ["", "BAD value/", -1, 0, 1e9, 2.5, true, [], {}, [1], { x: 1 }, null];
    for (const path of pathsOf(labRaw())) {
        it(`words every problem with ${path}`, () => {
            for (const value of WRONG) {
                for (const p of problemsOf((raw) => setAt(raw, path, value))) {
                    assert.doesNotMatch(p.expected, NOT_A_PHRASE, `${path} = ${JSON.stringify(value)}: ${p.key}: expected ${p.expected}`);
                    assert.match(p.expected, /^[a-z0-9"'({-]|^Entra|^Regular/, `${p.key}: expected ${p.expected}`);
                }
            }
        });
    }
});
