// ESLint flat config: typescript-eslint's recommended rules, plus @pulumi/eslint-plugin, whose
// rules need type information (they ask the checker whether a template literal's expression is an
// Output: it would render as a warning string, not the value; use pulumi.interpolate).
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

/**
 * The line-length rule for TypeScript and JavaScript alike (see the TypeScript block). Its one
 * exemption, `ignorePattern`: a line that holds a single regular-expression literal (flags
 * included) and nothing else but indentation, an optional `name: ` prefix (an identifier) and an
 * optional trailing `,`. ESLint compiles the pattern with the `u` flag, as this literal has.
 */
const MAX_LEN = {
    code: 140,
    ignorePattern: /^\s*(?:[\w$]+: )?\/(?![*/])(?:[^/\\[\n]|\\.|\[(?:[^\]\\\n]|\\.)*\])+\/[dgimsuvy]*,?$/u.source,
};

export default defineConfig(
    { ignores: ["node_modules/**", "bin/**", "dist/**"] },
    tseslint.configs.recommended,
    {
        // The JavaScript that runs without a build (cli.js, compiled.js, the pack's entry, mocha's
        // config): CommonJS under Node, with the same line length as the TypeScript.
        files: ["**/*.js"],
        languageOptions: {
            sourceType: "commonjs",
            globals: { require: "readonly", module: "writable", __dirname: "readonly", process: "readonly", console: "readonly" },
        },
        rules: {
            "@typescript-eslint/no-require-imports": "off",
            "max-len": ["error", MAX_LEN],
        },
    },
    {
        files: ["**/*.ts"],
        languageOptions: {
            parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
        },
        plugins: { "@pulumi": pulumi },
        rules: {
            // `_`-prefixed names and rest siblings: the project's idiom for "unused on purpose"
            // (`const { secret: _, ...rest } = x`), as tsc's noUnusedLocals/Parameters accept.
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
            // Line length, checked in CI through `npm run lint`: no line over 140 characters,
            // strings, template literals and URLs included (split a long string or template into
            // concatenated pieces outside `${...}`, keeping every character). The only exemption is
            // a line consisting of one regular-expression literal (see MAX_LEN): a regular
            // expression cannot be split without changing it, so one too long to fit stands on a
            // line of its own, with at most a `name: ` before it and a `,` after. Chosen over a
            // formatter, which would not split strings either, so that branches in flight merge
            // without a whole-tree reformat. Core rule, deprecated for @stylistic/max-len, kept
            // until ESLint 11.
            "max-len": ["error", MAX_LEN],
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
        },
    },
    {
        // Tests reach into recorded inputs (`Record<string, any>`); the cast stays inside the test.
        files: ["test/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
);
