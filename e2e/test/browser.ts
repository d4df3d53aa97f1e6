/**
 * A real headless browser for the admin pages: the machine's Chromium (Debian's `chromium`)
 * driven by playwright-core, which downloads nothing. Tests skip, saying why, only when no
 * Chromium binary is found.
 */
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium(): string | undefined {
  for (const path of CANDIDATES) {
    if (!path) continue;
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not there: try the next one
    }
  }
  return undefined;
}

export const NO_CHROMIUM = `no Chromium binary found (looked in CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser): install Debian's chromium package (apt-get install chromium) or set CHROMIUM_PATH`;

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
}
