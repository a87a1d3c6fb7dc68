import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { projectRoot } from '../../infra/paths.js';

/** Debian's Chromium (the tests drive it through playwright-core; no browser download). */
export const CHROMIUM = process.env.FABRICA_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Where browser tests write their screenshots. */
export const ARTIFACTS_DIR = path.join(projectRoot, 'test-artifacts');

/** Launches headless Chromium (`--no-sandbox` when running as root, where its sandbox cannot start). */
export async function launchBrowser(): Promise<Browser> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...(root ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** What went wrong in a page: console errors, uncaught exceptions, failed requests, responses with status ≥ 400. */
export interface PageProblems {
  problems: string[];
  /** Forgets what was collected so far. */
  reset(): void;
}

/**
 * Listens to a page's `console` (errors), `pageerror`, `requestfailed` and `response` (status ≥ 400) events;
 * `allow` skips the expected ones (e.g. a deliberate 401).
 */
export function watchPage(page: Page, allow: (problem: string) => boolean = () => false): PageProblems {
  const w: PageProblems = {
    problems: [],
    reset() {
      w.problems.length = 0;
    },
  };
  const add = (p: string) => {
    if (!allow(p)) w.problems.push(p);
  };
  page.on('console', (m) => {
    if (m.type() === 'error') add(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => add(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A navigation away (hash routes re-render) may abort a request in flight: that is not a failure of the page.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    add(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) add(`response: ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return w;
}

/** A full-page screenshot under `test-artifacts/<dir>/<name>.png`; returns its path. */
export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const out = path.join(ARTIFACTS_DIR, dir);
  mkdirSync(out, { recursive: true });
  const file = path.join(out, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** A fresh browser context (own cookies) and page of size 1400×900. */
export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  return { context, page: await context.newPage() };
}
