#!/usr/bin/env node
// The installed entry point; the build writes dist/ (npm run build).
const { main } = await import("../dist/cli/main.js");
await main();
