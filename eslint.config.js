// Lint: type-aware typescript-eslint, plus import rules that keep imports pointing down
// the pipeline (cli -> engine -> stages -> providers -> core).
import tseslint from "typescript-eslint";

const layer = (files, forbidden, why) => ({
  files,
  rules: {
    "no-restricted-imports": ["error", { patterns: [{ group: forbidden.map((d) => `**/${d}/**`), message: why }] }],
  },
});

export default tseslint.config(
  { ignores: ["bin/**", "dist/**", "node_modules/**", "bench/.work/**", ".tools/**", "eslint.config.js"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-restricted-syntax": ["error", { selector: "ExportDefaultDeclaration", message: "use named exports" }],
    },
  },
  layer(["src/core/**"], ["cli", "engine", "agent", "server", "config", "source", "render", "check", "plan", "providers", "store", "forge"], "core depends on nothing else"),
  layer(["src/source/**", "src/config/**"], ["cli", "engine", "agent", "server", "render", "check", "plan", "providers", "store", "forge"], "source and config are the first stages"),
  layer(["src/render/**"], ["cli", "engine", "agent", "server", "check", "plan", "providers", "store", "forge"], "render may use config and source only"),
  layer(["src/check/**"], ["cli", "engine", "agent", "server", "plan", "store", "forge"], "check may not reach back up the pipeline"),
  layer(["src/policy/**"], ["cli", "engine", "agent", "server", "plan", "render", "source", "providers", "store", "forge"], "policies judge objects; they know nothing of how they were made"),
  layer(["src/plan/**"], ["cli", "engine", "agent", "server", "store", "forge"], "plan may not reach back up the pipeline"),
  layer(["src/providers/**"], ["cli", "engine", "agent", "server", "render", "check", "plan", "store", "forge"], "providers know nothing of Git, rendering or policy"),
  layer(["src/engine/**"], ["cli", "agent", "server"], "the engine serves the CLI and the agent; it does not import them"),
  layer(["src/store/**"], ["cli", "engine", "agent", "server", "config", "source", "render", "check", "plan", "policy", "forge"], "the store knows core and the provider types only"),
  layer(["src/agent/**"], ["cli"], "the agent runs the engine; the CLI starts it"),
  {
    // The decision of a reconcile is a pure function of its input: no I/O, no other module.
    files: ["src/engine/decide.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["*", "**/*", "node:*"], message: "decide() is pure: everything it needs comes in its input" }] }] },
  },
  {
    // Vite reads its configuration from a default export.
    files: ["ui/vite.config.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    files: ["test/**", "bench/**", "scripts/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      // node:test's describe/it return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"] }] },
      ],
    },
  },
);
