// ESLint flat config: typescript-eslint's recommended rules, plus @pulumi/eslint-plugin, whose
// rules need type information (they ask the checker whether a template literal's expression is an
// Output: it would render as a warning string, not the value; use pulumi.interpolate).
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

/** The line-length rule for TypeScript and JavaScript alike (see the TypeScript block). */
const MAX_LEN = { code: 140, ignoreUrls: true, ignoreRegExpLiterals: true };

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
            // strings and template literals included (split a long one into concatenated pieces,
            // keeping every character). Only a line holding a URL or a regular expression, which
            // cannot be split without changing it, may be longer. Chosen over a formatter, which
            // would not split strings either, so that branches in flight merge without a
            // whole-tree reformat. Core rule, deprecated for @stylistic/max-len, kept until ESLint 11.
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
