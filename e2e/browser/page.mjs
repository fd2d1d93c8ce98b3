// Shared by the small single-purpose checks (lookup.mjs, seekback.mjs):
// open one page in headless Debian Chromium, run a check on it, print its
// result as ONE JSON line ({"error": "..."} and exit code 1 if it threw).
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// urlArg is the value of --url on the command line.
export function urlArg() {
  const args = process.argv.slice(2);
  const i = args.indexOf('--url');
  if (i < 0 || !args[i + 1]) throw new Error('--url is required');
  return args[i + 1];
}

// checkPage opens url and prints what check(page) returns.
export async function checkPage(url, check) {
  let browser;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30000 });
    console.log(JSON.stringify(await check(page)));
  } catch (err) {
    console.log(JSON.stringify({ error: String((err && err.message) || err) }));
    process.exitCode = 1;
  } finally {
    if (browser) await browser.close();
  }
}
