/**
 * What a Consul Template (the Vault Agent's template language: Go's text/template plus Consul
 * Template's functions) would do when the agent renders it, found without running it. Pure.
 *
 * No npm package parses Go templates into something a checker can walk (the few that exist
 * execute templates, or format them for Prettier), so this is a small lexer written after Go's
 * own, `text/template/parse/lex.go`: actions between `{{` and `}}`, the `{{- ` / ` -}}` trim
 * markers, comments `{{/* *\/}}` that must end at the closing delimiter, quoted and raw strings
 * (in which `}}` does not end the action), character constants, variables, fields, numbers,
 * identifiers and punctuation. It is deliberately stricter than Go: whatever it does not
 * recognise is refused, so a template either lexes into tokens this module understands or is
 * rejected. The checks then work on tokens, never on the raw text, so a comment or a string
 * cannot satisfy or hide anything.
 */

type TokenKind = "string" | "raw" | "char" | "number" | "identifier" | "field" | "variable" | "dot" | "punct";

interface Token {
    kind: TokenKind;
    /** The token's text as written (strings with their quotes). */
    text: string;
}

interface Action {
    /** Tokens inside one `{{ }}` (comments have none). */
    tokens: Token[];
    comment: boolean;
}

export class TemplateSyntaxError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TemplateSyntaxError";
    }
}

const LEFT = "{{";
const RIGHT = "}}";
// Go: a trim marker is '-' next to the delimiter and separated from the action by ASCII space.
const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\r" || c === "\n";
const isAlnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** Splits a template into its actions. Throws `TemplateSyntaxError` on anything Go would not lex, or this lexer does not know. */
export function lexActions(text: string): Action[] {
    const actions: Action[] = [];
    let i = 0;
    for (;;) {
        const start = text.indexOf(LEFT, i);
        if (start < 0) return actions;
        i = start + LEFT.length;
        if (text[i] === "-" && isSpace(text[i + 1])) i += 2;
        // As lex.go: a comment starts right after the delimiter (and trim marker), nowhere else.
        if (text.startsWith("/*", i)) {
            // lex.go lexComment: the comment ends at the first `*/`, which must be followed by the
            // closing delimiter (optionally with a trim marker).
            const end = text.indexOf("*/", i + 2);
            if (end < 0) throw new TemplateSyntaxError("unclosed comment");
            i = end + 2;
            if (text.startsWith(" -" + RIGHT, i)) i += 2 + RIGHT.length;
            else if (text.startsWith(RIGHT, i)) i += RIGHT.length;
            else throw new TemplateSyntaxError("comment ends before closing delimiter");
            actions.push({ tokens: [], comment: true });
            continue;
        }
        const tokens: Token[] = [];
        for (;;) {
            if (i >= text.length) throw new TemplateSyntaxError("unclosed action");
            if (isSpace(text[i]) && text[i + 1] === "-" && text.startsWith(RIGHT, i + 2)) {
                i += 2 + RIGHT.length;
                break;
            }
            if (text.startsWith(RIGHT, i)) {
                i += RIGHT.length;
                break;
            }
            const c = text[i];
            if (isSpace(c)) {
                i++;
                continue;
            }
            const t = lexToken(text, i);
            tokens.push(t);
            i += t.text.length;
        }
        actions.push({ tokens, comment: false });
    }
}

function lexToken(text: string, i: number): Token {
    const c = text[i];
    const take = (re: RegExp, kind: TokenKind, what: string): Token => {
        re.lastIndex = i;
        const m = re.exec(text);
        if (m === null || m.index !== i) throw new TemplateSyntaxError(`malformed ${what}`);
        return { kind, text: m[0] };
    };
    if (c === '"') return take(/"(?:[^"\\\n]|\\.)*"/y, "string", "quoted string");
    if (c === "`") return take(/`[^`]*`/y, "raw", "raw string");
    if (c === "'") return take(/'(?:[^'\\\n]|\\.)+'/y, "char", "character constant");
    if (c === "$") return take(/\$[A-Za-z0-9_]*/y, "variable", "variable");
    if (c === ".") {
        if (/[0-9]/.test(text[i + 1] ?? "")) return take(/\.[0-9]+/y, "number", "number");
        return isAlnum(text[i + 1]) ? take(/\.[A-Za-z0-9_]+/y, "field", "field") : { kind: "dot", text: "." };
    }
    if (/[0-9+-]/.test(c)) return take(/[+-]?[0-9][0-9A-Za-z_.+-]*/y, "number", "number");
    if (/[A-Za-z_]/.test(c)) return take(/[A-Za-z_][A-Za-z0-9_]*/y, "identifier", "identifier");
    if (text.startsWith(":=", i)) return { kind: "punct", text: ":=" };
    if ("()|,=".includes(c)) return { kind: "punct", text: c };
    throw new TemplateSyntaxError(`unexpected character ${JSON.stringify(c)} in an action`);
}

/** Go template keywords and constants this checker accepts. `define`, `template` and `block` are refused. */
const KEYWORDS = new Set(["if", "else", "end", "range", "with", "true", "false", "nil"]);

/**
 * Functions a workload's template may call: `secret` (read one declared KV v2 path) and pure
 * formatting. Everything else is refused, notably Consul Template's `env`, `file`, `plugin`,
 * `executeTemplate`, `writeToFile`, `pkiCert`, `secrets`, `sockaddr` and Consul/Nomad lookups,
 * and Go's `call`.
 */
const ALLOWED_FUNCTIONS = [
    "secret",
    "index", "len", "print", "printf", "println",
    "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not",
    "base64Decode", "base64Encode", "base64URLDecode", "base64URLEncode",
    "toJSON", "toJSONPretty", "toLower", "toUpper", "trimSpace", "replaceAll", "split", "join", "contains", "indent",
] as const;
const ALLOWED = new Set<string>(ALLOWED_FUNCTIONS);

interface SecretRead {
    /** The path as written, query string removed (`secret/data/app`). */
    path: string;
}

interface TemplateFacts {
    /** Each `secret` call's path. */
    reads: SecretRead[];
    /** Identifiers used as functions or keywords that are not allowed. */
    refusedIdentifiers: string[];
    /** `secret` calls whose argument is not one string literal (computed paths, writes). */
    badSecretCalls: number;
    /** Whether an action (not a comment) reads a field of `.Data.data`. */
    readsKvV2Data: boolean;
}

/** A safe KV path string, optionally with `?version=N` (Consul Template's query form). */
const PATH_LITERAL = /^([A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)(\?version=[0-9]+)?$/;

/** The facts a policy decision needs. Throws `TemplateSyntaxError` when the text does not lex. */
export function templateFacts(text: string): TemplateFacts {
    const facts: TemplateFacts = { reads: [], refusedIdentifiers: [], badSecretCalls: 0, readsKvV2Data: false };
    for (const action of lexActions(text)) {
        const t = action.tokens;
        t.forEach((tok, k) => {
            if (tok.kind === "field" && tok.text === ".Data" && t[k + 1]?.kind === "field" && t[k + 1].text === ".data") {
                facts.readsKvV2Data = true;
            }
            if (tok.kind !== "identifier") return;
            if (KEYWORDS.has(tok.text)) return;
            if (!ALLOWED.has(tok.text)) {
                facts.refusedIdentifiers.push(tok.text);
                return;
            }
            if (tok.text !== "secret") return;
            // `secret "path"` alone reads; more arguments make Consul Template write to the path,
            // and a computed or piped path cannot be checked.
            const arg = t[k + 1];
            const after = t[k + 2];
            const endsCall = after === undefined || (after.kind === "punct" && (after.text === ")" || after.text === "|"));
            const path = arg === undefined ? undefined : literal(arg);
            const m = path === undefined ? null : PATH_LITERAL.exec(path);
            if (m === null || !endsCall) {
                facts.badSecretCalls++;
                return;
            }
            facts.reads.push({ path: m[1] });
        });
    }
    return facts;
}

/** The value of a string token written without escapes, else undefined. */
function literal(tok: Token): string | undefined {
    if (tok.kind === "raw") return tok.text.slice(1, -1);
    if (tok.kind === "string" && !tok.text.includes("\\")) return tok.text.slice(1, -1);
    return undefined;
}

interface TemplateRules {
    /** KV v2 mount. */
    kvMount: string;
    /** Paths inside the mount the workload may read (its own and those granted to it). */
    readable: ReadonlySet<string>;
}

/**
 * Why a template may not run in a workload's agent, one sentence each; empty when it may. Each
 * `secret` must read `<mount>/data/<path>` for a readable path, only allowed functions are used,
 * and an action reads `.Data.data` (KV v2 wraps the secret's keys in it).
 */
export function templateProblems(text: string, rules: TemplateRules): string[] {
    let facts: TemplateFacts;
    try {
        facts = templateFacts(text);
    } catch (err) {
        if (err instanceof TemplateSyntaxError) return [`a Go template this checker can read (${err.message})`];
        throw err;
    }
    const problems: string[] = [];
    for (const id of [...new Set(facts.refusedIdentifiers)]) {
        problems.push(`no \`${id}\`: templates may use only ${ALLOWED_FUNCTIONS.join(", ")} and if/else/range/with/end`);
    }
    if (facts.badSecretCalls > 0) {
        problems.push(
            "`secret` with one string literal path and no other argument " +
                '(`secret "<mount>/data/<path>"`; more arguments would write)',
        );
    }
    const prefix = `${rules.kvMount}/data/`;
    for (const { path } of facts.reads) {
        const first = path.split("/")[0];
        if (first === "auth" || first === "sys") {
            problems.push(`no read of ${JSON.stringify(path)}: auth/ and sys/ are Vault's own endpoints, not secrets`);
            continue;
        }
        const inner = path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
        if (inner === undefined || inner.split("/").some((s) => s === "." || s === "..") || !rules.readable.has(inner)) {
            const list = [...rules.readable].sort().map((p) => `${prefix}${p}`).join(", ") || "none";
            problems.push(`\`secret\` reads only the workload's own or granted paths (${list}), not ${JSON.stringify(path)}`);
        }
    }
    if (facts.reads.length === 0 && facts.badSecretCalls === 0) {
        problems.push('a template that reads a secret (`{{ with secret "<mount>/data/<path>" }}`)');
    }
    if (!facts.readsKvV2Data) problems.push("a template reading KV v2 data in an action (`.Data.data.<key>`; a comment does not count)");
    return problems;
}
