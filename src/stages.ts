/**
 * The program's ordered stages, and the stack config key that cuts the graph after one of them.
 * Imports nothing: the config (which accepts the key), the program, the library and the CLI all
 * name stages. Which stage a resource in the state belongs to is the program's knowledge
 * (src/program/stages.ts).
 */

/** Ordered stages; each includes everything before it. The one list of them. */
export const STAGES = ["cluster", "injector", "vault-auth", "workloads"] as const;
export type Stage = (typeof STAGES)[number];

export function stageIndex(stage: Stage): number {
    return STAGES.indexOf(stage);
}

/** The stack config key that cuts the graph (`aks-vault:stage`); read only through `configuredStage`. */
export const STAGE_KEY = "stage";

/**
 * The stage a stack's config asks for, `undefined` when it sets none. `get` reads one key of the
 * project namespace (`pulumi.Config.get`, or a parsed stack file). Throws a RangeError saying what
 * was found and what is expected.
 */
export function configuredStage(get: (key: string) => unknown): Stage | undefined {
    const value = get(STAGE_KEY);
    if (value === undefined) return undefined;
    const found = (STAGES as readonly unknown[]).indexOf(value);
    if (found < 0) throw new RangeError(`found ${JSON.stringify(value)}; expected one of ${STAGES.join(", ")}`);
    return STAGES[found];
}

/** Validates a user-supplied stage name. */
export function parseStage(value: string): Stage {
    const found = (STAGES as readonly string[]).indexOf(value);
    if (found < 0) throw new RangeError(`unknown stage "${value}"; expected one of ${STAGES.join(", ")}`);
    return STAGES[found];
}
