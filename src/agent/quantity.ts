/**
 * Kubernetes resource quantities (`250m`, `0.5`, `64Mi`, `1.5Gi`, `1e3`) as plain numbers.
 *
 * Hand-written because `@kubernetes/client-node`'s `quantityToScalar` rejects fractional binary
 * quantities (`1.5Gi` goes through `BigInt`), mixes `number` and `bigint` results, and would pull
 * the whole client into the program's start-up. The grammar is apimachinery's
 * (`k8s.io/apimachinery/pkg/api/resource/quantity.go`): a signed decimal number followed by a
 * binary-SI suffix, a decimal-SI suffix, or a decimal exponent.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** True if Kubernetes would accept `text` as a quantity. */
export function isQuantity(text: string): boolean {
    return QUANTITY.test(text);
}

/** The quantity's value in base units (cores for CPU, bytes for memory). Throws on a bad quantity. */
function parseQuantity(text: string): number {
    const m = QUANTITY.exec(text);
    if (m === null) throw new Error(`"${text}" is not a Kubernetes quantity (e.g. 250m, 0.5, 64Mi, 1Gi)`);
    const [, number, suffix = ""] = m;
    const value = Number(number);
    if (suffix in BINARY) return value * BINARY[suffix];
    if (suffix in DECIMAL) return value * DECIMAL[suffix];
    return value * 10 ** Number(suffix.slice(1)); // exponent form, e.g. 1e3
}

/** A CPU quantity in millicores. */
export function cpuMillicores(text: string): number {
    // Rounded to the nanocore: `0.1` cores must read as exactly 100m, not 100.00000000000001.
    return Math.round(parseQuantity(text) * 1e3 * 1e6) / 1e6;
}

/** A memory quantity in MiB. */
export function memoryMiB(text: string): number {
    return Math.round((parseQuantity(text) / 2 ** 20) * 1e6) / 1e6;
}
