/**
 * The report never carries a credential: agent logs can hold a JWT (a login request echoed at
 * trace level), a Vault token (`hvs.`…), a password or client secret in a key=value pair, a
 * basic-auth header or URL, a seeded random value, or a base64 blob (a kubeconfig or token
 * Secret's data). Everything the doctor prints passes through `redact` and `sanitize` first.
 */

/** Names whose value is a credential wherever they appear as `name=value` / `name: value` / `"name":"value"`. */
const SECRET_KEYS = [
    "x-vault-token", "authorization", "proxy-authorization", "token", "jwt", "client_token", "access_token", "refresh_token", "id_token",
    "password", "passwd", "pwd", "passphrase", "secret", "secret_id", "client_secret", "client-secret", "clientsecret",
    "azure_client_secret", "aad_service_principal_client_secret", "arm_client_secret", "api_key", "apikey", "private_key",
].join("|");

const RULES: readonly [RegExp, string][] = [
    // JWS compact form: three base64url segments, the first a JSON header (`{"` = `eyJ`).
    [/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, "[redacted-jwt]"],
    // Vault service/batch/recovery tokens: `hvs.`, `hvb.`, `hvr.`, and the pre-1.10 `s.`/`b.`/`r.`.
    [/\b(hv[sbr]|[sbr])\.[A-Za-z0-9_-]{20,}/g, "[redacted-token]"],
    // Entra ID (Azure AD) client secrets since 2021: 3 characters, a digit, `Q~`, then 31-34 more
    // (the format Microsoft's credential scanners key on; see
    // https://learn.microsoft.com/purview/sit-defn-client-secret-api-key).
    [/(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/g, "[redacted-client-secret]"],
    // Credentials in a URL: `https://user:password@host`.
    [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/:@"']+:[^\s/@"']+@/gi, "$1[redacted]@"],
    // `Authorization: Basic …` / `Bearer …` (also the scheme alone after `Authorization`).
    [/\b(basic|bearer|negotiate|digest)\s+[A-Za-z0-9+/._~=-]{6,}/gi, "$1 [redacted]"],
    // `name=value`, `name: value`, `"name":"value"`, `name="value with spaces"` for credential names.
    [
        new RegExp(
            `\\b(${SECRET_KEYS})(["']?\\s*[:=]\\s*)` +
                `(?:"[^"\\n]*"|'[^'\\n]*'|(?!\\[redacted|(?:basic|bearer|negotiate|digest)\\s)[^\\s"',}\\]]+)`,
            "gi",
        ),
        "$1$2[redacted]",
    ],
];

/**
 * Any other long run in the base64 or base64url alphabet that mixes upper case, lower case and
 * digits: certificate or Secret data, keys, opaque tokens. Names, paths and hex digests (one
 * case only, or broken up by `-`, `.`, `:`) are left readable. 32 characters is what
 * `@pulumi/random` RandomPassword generates for a seed by default (src/config/schema.ts
 * `random.length`), upper, lower and digits unless `special` is set.
 */
const LONG_BASE64 = [/[A-Za-z0-9+/]{32,}={0,2}/g, /[A-Za-z0-9_-]{32,}={0,2}/g];
/**
 * RandomPassword with `special: true`: its default special set is `!@#$%&*()-_=+[]{}<>:?`
 * (pulumi-random `resource_password.go`, overrideSpecial's default).
 */
const LONG_WITH_SPECIALS = /[A-Za-z0-9!@#$%&*()\-_=+[\]{}<>:?]{32,}/g;

function looksRandom(run: string): boolean {
    const upper = (run.match(/[A-Z]/g) ?? []).length;
    const lower = (run.match(/[a-z]/g) ?? []).length;
    if (upper === 0 || lower === 0) return false;
    if (/[0-9]/.test(run)) return true;
    // Letters only: random text switches case about every other character, a CamelCase
    // identifier (`ServiceAccountTokenVolumeProjection`) only at word starts.
    const switches = (run.match(/[a-z](?=[A-Z])|[A-Z](?=[a-z])/g) ?? []).length;
    return upper >= run.length / 5 && lower >= run.length / 5 && switches >= run.length / 3;
}

export function redact(text: string): string {
    let out = text;
    for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
    for (const pattern of LONG_BASE64) out = out.replace(pattern, (run) => (looksRandom(run) ? "[redacted]" : run));
    out = out.replace(LONG_WITH_SPECIALS, (run) => {
        const specials = (run.match(/[!@#$%&*()\-_=+[\]{}<>:?]/g) ?? []).length;
        return /[A-Z]/.test(run) && /[a-z]/.test(run) && specials >= 2 && (specials >= 3 || /[0-9]/.test(run)) ? "[redacted]" : run;
    });
    return out;
}

/**
 * Control characters (C0, DEL, C1), and the Unicode format characters that reorder or hide text
 * (bidi overrides and isolates, zero-width marks, line/paragraph separators), become `?`; with
 * `keepNewlines` a `\n` survives (multi-line messages). An annotation or a log line then cannot
 * move the cursor, clear the line or start a new one that reads like `PASS  ...`.
 */
export function sanitize(text: string, keepNewlines = false): string {
    const out = text.replace(/\r\n/g, "\n");
    return keepNewlines
        ? out.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, "?")
        : out.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, "?");
}

/** What the doctor prints: without control characters, then without credentials. */
export function clean(text: string, keepNewlines = false): string {
    return redact(sanitize(text, keepNewlines));
}
