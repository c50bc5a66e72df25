#!/usr/bin/env node
// The installed entry point; the build writes dist/ (npm run build). main.js loads the commands
// itself, after the compile cache is on, so that they are compiled from the cache.
const { main, reexecForLongRun, startCompileCache } = await import("../dist/cli/main.js");
reexecForLongRun();
startCompileCache();
await main();
