/**
 * Chromium for the dashboard's browser tests, driven through `playwright-core` (no bundled
 * browser: Debian's `chromium` from `.ci/install-system-deps.sh`), plus what a test watches a page
 * for — console errors, uncaught exceptions, Content-Security-Policy violations — and PNG checks
 * for the screenshots it takes.
 */

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Launches headless Chromium, or fails — never skips — with how to install it.
 *
 * @example
 * const browser = await launchChromium();
 * const page = await browser.newPage();
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed (${CHROMIUM} is missing); the dashboard's browser test needs it: run \`bash .ci/install-system-deps.sh\` (as root or with sudo)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
}

/** What went wrong in a page while it was watched, each as one readable line. */
export interface PageProblems {
  readonly console: string[];
  readonly exceptions: string[];
  readonly csp: string[];
}

/**
 * Records console errors, uncaught exceptions and CSP violations of every page of `context`
 * (the violations through the DOM's `securitypolicyviolation` event, so none is missed when the
 * browser does not log it). Call before the first navigation. Console errors matching `allow` are
 * expected (a 401 the test provoked, say) and left out.
 */
export async function watchProblems(context: BrowserContext, allow: RegExp[] = []): Promise<PageProblems> {
  const problems: PageProblems = { console: [], exceptions: [], csp: [] };
  await context.exposeFunction('__reportCspViolation', (line: string) => problems.csp.push(line));
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as unknown as { __reportCspViolation(line: string): void }).__reportCspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`,
      ),
    );
  });
  const watch = (page: Page) => {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (/Content Security Policy/i.test(text)) problems.csp.push(text);
      else if (!allow.some((pattern) => pattern.test(text))) {
        const at = message.location();
        problems.console.push(`${text} (${at.url}:${at.lineNumber})`);
      }
    });
    page.on('pageerror', (error) => problems.exceptions.push(error.stack ?? String(error)));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return problems;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Saves a full-page screenshot as `<dir>/<name>.png` and returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** True when `file` exists and holds more than a PNG signature. */
export function isPng(file: string): boolean {
  if (!existsSync(file)) return false;
  const bytes = readFileSync(file);
  return bytes.length > PNG_SIGNATURE.length && bytes.subarray(0, 8).equals(PNG_SIGNATURE);
}
