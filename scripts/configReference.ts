/**
 * docs/configuration.md, rendered from the zod schema (keys, types, defaults, descriptions) so the
 * two cannot drift: `npm run generate:config-docs` writes it, test/config/reference.test.ts fails
 * when the file differs. Walks zod's own JSON Schema of the input (`z.toJSONSchema`), not zod's
 * internals.
 */
import { isDeepStrictEqual } from "util";
import { parseDocument } from "yaml";
import { z } from "zod";
import { STAGE_KEY, STAGES } from "../src/stages";
import { PROJECT_NAME } from "../src/config/configKeys";
import { VAULT_TOKEN_KEY, settingsSchema } from "../src/config/schema";

export const CONFIG_DOCS_PATH = "docs/configuration.md";
export const PROJECT_FILE = "Pulumi.yaml";
export const CONFIG_DOCS_COMMAND = "npm run generate:config-docs";
/** The `stage` key's description in Pulumi.yaml and docs/configuration.md (the key is not in the schema). */
const STAGE_KEY_DESCRIPTION =
    "Build the graph only up to this stage. With plain `pulumi up`, lowering it deletes the later stages: " +
    "prefer the CLI's `--stage`, which refuses that.";

/** The subset of JSON Schema zod emits for this schema. */
interface Node {
    type?: string;
    const?: unknown;
    enum?: unknown[];
    description?: string;
    default?: unknown;
    properties?: Record<string, Node>;
    required?: string[];
    items?: Node;
    additionalProperties?: Node | boolean;
    oneOf?: Node[];
    anyOf?: Node[];
    minimum?: number;
    maximum?: number;
    format?: string;
}

/** One documented key: its path (`workloads[].secrets[].file`), type, and the default the schema declares. */
export interface ConfigKey {
    path: string;
    type: string;
    required: boolean;
    /** Present when the schema declares a default (`.default`/`.prefault`). */
    default?: unknown;
    description: string;
}
type Row = ConfigKey;

const code = (text: string) => `\`${text}\``;
const literal = (v: unknown) => code(JSON.stringify(v));

function typeOf(node: Node): string {
    if (node.const !== undefined) return literal(node.const);
    if (node.enum !== undefined) return node.enum.map(literal).join(" \\| ");
    const variants = node.oneOf ?? node.anyOf;
    if (variants !== undefined) return [...new Set(variants.map(typeOf))].join(" or ");
    switch (node.type) {
        case "integer":
        case "number": {
            const name = node.type === "integer" ? "integer" : "number";
            const max = node.maximum !== undefined && node.maximum < Number.MAX_SAFE_INTEGER ? node.maximum : undefined;
            if (node.minimum !== undefined && max !== undefined) return `${name} ${node.minimum}–${max}`;
            if (node.minimum !== undefined) return `${name} ≥ ${node.minimum}`;
            return name;
        }
        case "array":
            return node.items === undefined ? "list" : `list of ${plural(typeOf(node.items))}`;
        case "object":
            if (node.properties === undefined && typeof node.additionalProperties === "object") {
                return `map of ${plural(typeOf(node.additionalProperties))}`;
            }
            return "object";
        case "string":
            return node.format === "uri" ? "URL" : "string";
        default:
            return node.type ?? "any";
    }
}

function plural(type: string): string {
    return /^(string|object|integer|number|boolean|URL)$/.test(type) ? `${type}s` : type;
}

/** Variants of a union told apart by one property holding a constant (`mode: create`). */
function discriminator(variants: Node[]): string | undefined {
    const first = variants[0]?.properties ?? {};
    return Object.keys(first).find((k) => variants.every((v) => v.properties?.[k]?.const !== undefined));
}

function rowsOf(key: string, node: Node, required: boolean, note = ""): Row[] {
    const description = note + (node.description ?? "");
    const own: Row = { path: key, type: typeOf(node), required: required && node.default === undefined, description };
    if (node.default !== undefined) own.default = node.default;

    const variants = node.oneOf ?? node.anyOf;
    if (variants !== undefined && variants.every((v) => v.type === "object" && v.properties !== undefined)) {
        const disc = discriminator(variants);
        return [{ ...own, type: "object" }, ...unionRows(key, variants, disc)];
    }
    if (node.type === "object" && node.properties !== undefined) {
        return [own, ...objectRows(key, node)];
    }
    if (node.type === "object" && typeof node.additionalProperties === "object" && hasChildren(node.additionalProperties)) {
        return [own, ...rowsOf(`${key}.<KEY>`, node.additionalProperties, false).slice(1)];
    }
    if (node.type === "array" && node.items !== undefined && hasChildren(node.items)) {
        return [own, ...rowsOf(`${key}[]`, node.items, false).slice(1)];
    }
    return [own];
}

function hasChildren(node: Node): boolean {
    return node.properties !== undefined || (node.oneOf ?? node.anyOf)?.some((v) => v.properties !== undefined) === true;
}

function objectRows(key: string, node: Node): Row[] {
    const required = new Set(node.required ?? []);
    return Object.entries(node.properties ?? {}).flatMap(([name, child]) => rowsOf(`${key}.${name}`, child, required.has(name)));
}

/**
 * A union of objects: with a discriminator, one row for it (its values described together) and
 * each other property once, noting the variants it belongs to; without, each variant's properties.
 */
function unionRows(key: string, variants: Node[], disc: string | undefined): Row[] {
    if (disc === undefined) {
        // Forms of one value (`{secretConfig}`, `{random}`, `{value}`): exactly one is given.
        const forms = variants.flatMap((v) => Object.keys(v.properties ?? {}));
        const note = `*One of ${forms.map(code).join(", ")}.* `;
        return variants.flatMap((v) =>
            objectRows(key, v).map((r) =>
                r.path.split(".").length === key.split(".").length + 1 ? { ...r, required: false, description: note + r.description } : r,
            ),
        );
    }
    const valueOf = (v: Node) => v.properties?.[disc]?.const;
    const labelled = (v: Node, d: string) => (d.startsWith(code(String(valueOf(v)))) ? d : `${code(String(valueOf(v)))}: ${d}`);
    const discRow: Row = {
        path: `${key}.${disc}`,
        type: variants.map((v) => literal(valueOf(v))).join(" \\| "),
        required: true,
        description: variants.map((v) => labelled(v, v.properties?.[disc]?.description ?? "")).join(" "),
    };
    const rows: Row[] = [discRow];
    const seen = new Set<string>([disc]);
    for (const variant of variants) {
        for (const name of Object.keys(variant.properties ?? {})) {
            if (seen.has(name)) continue;
            seen.add(name);
            const holders = variants.filter((v) => v.properties?.[name] !== undefined);
            const note = holders.length === variants.length ? "" : `*${disc} ${holders.map((v) => String(valueOf(v))).join(", ")} only.* `;
            const child = { ...(variant.properties?.[name] as Node) };
            // The same key described differently per variant (created or existing resource group).
            const descriptions = new Set(holders.map((v) => v.properties?.[name]?.description));
            if (descriptions.size > 1) {
                child.description = holders
                    .map((v) => `*${disc} ${String(valueOf(v))}:* ${v.properties?.[name]?.description ?? ""}`)
                    .join(" ");
            }
            rows.push(...rowsOf(`${key}.${name}`, child, holders.every((v) => v.required?.includes(name)), note));
        }
    }
    return rows;
}

function table(rows: Row[]): string {
    const cell = (text: string) => text.replace(/\|(?<!\\\|)/g, "\\|").replace(/\n/g, " ");
    return [
        "| key | type | default | description |",
        "| --- | --- | --- | --- |",
        ...rows.map((r) => {
            const defaultCell = "default" in r ? literal(r.default) : r.required ? "required" : "—";
            return `| ${code(r.path)} | ${r.type} | ${defaultCell} | ${cell(r.description)} |`;
        }),
    ].join("\n");
}

/** Keys the program reads besides the settings object. */
const OTHER_CONFIG_KEYS: Row[] = [
    {
        path: VAULT_TOKEN_KEY,
        type: "secret string",
        required: false,
        description:
            "Vault token for this program (`pulumi config set --secret vaultToken`). Unset: the `VAULT_TOKEN` environment variable.",
    },
    {
        path: STAGE_KEY,
        type: STAGES.map(literal).join(" \\| "),
        required: false,
        default: STAGES[STAGES.length - 1],
        description: STAGE_KEY_DESCRIPTION,
    },
];

function settingsRoot(): Node {
    return z.toJSONSchema(settingsSchema, { io: "input", unrepresentable: "any" }) as Node;
}

/** Every key of the settings object, as documented. */
export function settingsKeys(): ConfigKey[] {
    const root = settingsRoot();
    const required = new Set(root.required ?? []);
    return Object.entries(root.properties ?? {}).flatMap(([name, node]) => rowsOf(name, node, required.has(name)));
}

/** The whole of docs/configuration.md. */
export function renderConfigDocs(): string {
    const root = settingsRoot();
    const required = new Set(root.required ?? []);
    const sections = Object.entries(root.properties ?? {}).map(([name, node]) => {
        const rows = rowsOf(name, node, required.has(name));
        return [
            `## ${name}${required.has(name) ? " (required)" : ""}`,
            "",
            node.description ?? "",
            "",
            table(rows.slice(1).length > 0 ? rows.slice(1) : rows),
        ].join("\n");
    });
    const others = table(OTHER_CONFIG_KEYS);
    return [
        "# Configuration reference",
        "",
        `<!-- Generated from src/config/schema.ts by \`${CONFIG_DOCS_COMMAND}\`; do not edit by hand. -->`,
        "",
        `Every key lives in the project namespace: \`${PROJECT_NAME}:<key>\` in \`Pulumi.<stack>.yaml\`. A portal passes`,
        "the same settings as one object to the library API. The program validates all of them before it",
        "registers a resource and reports every problem at once, each naming the key, the value found and",
        "what is expected. `—` in the default column: unset unless given (the description says what that means).",
        "`Pulumi.dev.yaml` is a working example (the blog's lab).",
        "",
        ...sections.flatMap((s) => [s, ""]),
        "## Other keys",
        "",
        "Read outside the settings object.",
        "",
        others,
        "",
    ].join("\n");
}

/** The one key Pulumi.yaml declares (Pulumi project config cannot declare objects): `stage`. */
export function declaredStage(): { type: string; description: string; default: string } {
    return { type: "string", description: STAGE_KEY_DESCRIPTION, default: STAGES[STAGES.length - 1] };
}

/** Pulumi.yaml with the `stage` declaration brought in step; everything else as it was. */
export function pulumiYamlInStep(text: string): string {
    const doc = parseDocument(text);
    const key = `${PROJECT_NAME}:${STAGE_KEY}`;
    const current = (doc.toJS() as { config?: Record<string, unknown> } | null)?.config?.[key];
    if (isDeepStrictEqual(current, declaredStage())) return text;
    doc.setIn(["config", key], doc.createNode(declaredStage()));
    return doc.toString({ lineWidth: 0 });
}
