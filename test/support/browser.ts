/**
 * Headless Chromium for browser tests and the UI benchmark: Debian's `/usr/bin/chromium` (CI
 * installs it) driven by playwright-core, with the flags the issue names. Tests skip with
 * {@link chromiumMissing}'s message when the binary is absent, and only then.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Where Debian's chromium package puts the browser; GITWARD_CHROMIUM overrides. */
export const chromiumPath = process.env["GITWARD_CHROMIUM"] ?? "/usr/bin/chromium";

/** The flags every launch uses: headless, no sandbox (containers), no GPU, no background traffic. */
export const chromiumArgs = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"] as const;

/** Why browser tests cannot run here, or undefined when Chromium is installed. */
export function chromiumMissing(): string | undefined {
  return existsSync(chromiumPath)
    ? undefined
    : `${chromiumPath} is missing: install Debian's chromium package (apt-get install chromium), as .ci/run does, or set GITWARD_CHROMIUM`;
}

/** Launches headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs], headless: true });
}
