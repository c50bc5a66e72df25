// Builds the web UI into dist/ui/, which the agent serves at / (src/agent/http/ui.ts).
// Run from the repository root: `npm run build:ui`.
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/** The most JavaScript and CSS the UI may ship, gzipped (issue 14's budget). */
const budgetBytes = 300 * 1024;

/** Gzipped size of some text, with the web CompressionStream (in Node since 18) so no Node types are needed. */
async function gzipSize(text: string | Uint8Array): Promise<number> {
  const stream = new Blob([typeof text === "string" ? text : new Uint8Array(text)]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

/** Prints the gzipped size of the JS and CSS the browser loads and fails the build over the budget. */
function bundleBudget(): Plugin {
  return {
    name: "gitward-bundle-budget",
    apply: "build",
    async generateBundle(_options, bundle) {
      let total = 0;
      for (const file of Object.values(bundle)) {
        if (!/\.(js|css)$/.test(file.fileName)) continue;
        total += await gzipSize(file.type === "chunk" ? file.code : file.source);
      }
      const kb = (total / 1024).toFixed(1);
      if (total > budgetBytes) this.error(`UI bundle is ${kb} kB gzipped, over the ${budgetBytes / 1024} kB budget`);
      this.info(`UI bundle: ${kb} kB gzipped (JS + CSS; budget ${budgetBytes / 1024} kB)`);
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  plugins: [react(), bundleBudget()],
  build: {
    outDir: "../dist/ui",
    emptyOutDir: true,
    // Hashed file names under assets/ are what the agent caches for a year.
    assetsDir: "assets",
    sourcemap: false,
    target: "es2022",
  },
  server: {
    // `npx vite --config ui/vite.config.ts` against an agent on :8080 while developing.
    proxy: { "/api": "http://127.0.0.1:8080", "/auth": "http://127.0.0.1:8080" },
  },
});
