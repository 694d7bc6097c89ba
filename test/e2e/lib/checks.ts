/** A list of named checks, each holding or not, with what was found when it does not. */
import { isDeepStrictEqual } from "util";

export interface CheckResult {
    name: string;
    ok: boolean;
    detail?: string;
}

export class Checks {
    readonly results: CheckResult[] = [];

    constructor(private readonly scope: string, private readonly log: (line: string) => void = (l) => console.log(l)) {}

    private record(name: string, ok: boolean, detail?: string): boolean {
        this.results.push({ name, ok, detail });
        if (!ok) this.log(`  FAIL ${this.scope}: ${name}${detail === undefined ? "" : `: ${detail}`}`);
        else if (process.env.E2E_VERBOSE === "1") this.log(`  ok   ${this.scope}: ${name}`);
        return ok;
    }

    equal(name: string, actual: unknown, expected: unknown): boolean {
        const ok = isDeepStrictEqual(actual, expected);
        return this.record(name, ok, ok ? undefined : `found ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
    }

    that(name: string, ok: boolean, detail?: string): boolean {
        return this.record(name, ok, ok ? undefined : detail);
    }

    /** Runs `fn`; a throw is a failed check with the error's message. */
    async attempt(name: string, fn: () => Promise<void> | void): Promise<boolean> {
        try {
            await fn();
            return true;
        } catch (err) {
            return this.record(name, false, (err as Error).message);
        }
    }

    get held(): number {
        return this.results.filter((r) => r.ok).length;
    }

    get failed(): CheckResult[] {
        return this.results.filter((r) => !r.ok);
    }
}

/** Polls `fn` until it returns a value other than undefined, or the deadline passes (then throws). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 60000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
        try {
            const v = await fn();
            if (v !== undefined) return v;
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
        }
        await new Promise((r) => setTimeout(r, delay));
    }
}
