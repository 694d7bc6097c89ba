/**
 * The report never carries a credential: agent logs can hold a JWT (a login request echoed at
 * trace level), a Vault token (`hvs.`…), or a base64 blob (a kubeconfig or token Secret's data).
 * Everything the doctor prints passes through `redact` first.
 */

const RULES: readonly [RegExp, string][] = [
    // JWS compact form: three base64url segments, the first a JSON header (`{"` = `eyJ`).
    [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[redacted-jwt]"],
    // Vault service/batch/recovery tokens: `hvs.`, `hvb.`, `hvr.`, and the pre-1.10 `s.`/`b.`/`r.`.
    [/\b(hv[sbr]|[sbr])\.[A-Za-z0-9_-]{20,}/g, "[redacted-token]"],
    // `X-Vault-Token: …`, `token=…`, `Authorization: Bearer …` with whatever follows.
    [/\b(x-vault-token|authorization|token|jwt|client_token)(["']?\s*[:=]\s*["']?)(bearer\s+)?[^\s"',}[]{8,}/gi, "$1$2[redacted]"],
];

/**
 * Any other long run in the base64 or base64url alphabet that mixes upper case, lower case and
 * digits: certificate or Secret data, keys, opaque tokens. Names, paths and hex digests (one
 * case only, or broken up by `-`, `.`, `:`) are left readable.
 */
const LONG_BASE64 = [/[A-Za-z0-9+/]{40,}={0,2}/g, /[A-Za-z0-9_-]{40,}={0,2}/g];

function looksRandom(run: string): boolean {
    return /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run);
}

export function redact(text: string): string {
    let out = text;
    for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
    for (const pattern of LONG_BASE64) out = out.replace(pattern, (run) => (looksRandom(run) ? "[redacted]" : run));
    return out;
}
