/** What every browser journey needs: a built web app, Debian Chromium, an offline page, sign-in, screenshots. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const shotsDir = join(repoRoot, 'test-results');

/** Builds web/dist when it is missing or older than any file under web/src (the server serves it). */
export function ensureWebBuild(): void {
  const index = join(repoRoot, 'web/dist/index.html');
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((entry) => (entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs)));
  const sources = Math.max(newest(join(repoRoot, 'web/src')), statSync(join(repoRoot, 'web/index.html')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
}

/** Debian's Chromium, headless; never a downloaded browser. */
export function launchChromium(): Promise<Browser> {
  mkdirSync(shotsDir, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A fresh browser context that may only talk to our server: the map must work offline, and the
 * NHS web font (served from assets.nhs.uk) falls back to Arial instead of waiting on the network.
 */
export async function openPage(browser: Browser, serverUrl: string): Promise<{ context: BrowserContext; page: Page; errors: Error[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  await context.route('**/*', (route) => (route.request().url().startsWith(serverUrl) ? route.continue() : route.abort('internetdisconnected')));
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: Error[] = [];
  page.on('pageerror', (error) => errors.push(error));
  // Anything the server's Content-Security-Policy blocks is a fault of the page, like an uncaught error.
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) errors.push(new Error(message.text()));
  });
  return { context, page, errors };
}

/**
 * Signs in through the form and waits for the person's home (web/src/roles.ts) to show its heading: the
 * area overview's for those whose home is the area; patient search, My patients, their PCN or the audit
 * review for the others.
 */
export async function signIn(page: Page, serverUrl: string, who: { email: string; password: string }, areaName: string): Promise<void> {
  await page.goto(`${serverUrl}/signin`);
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  // `/` sends each role to its home (no heading while it does); the area overview is the home of some.
  await page.locator('main h1').first().waitFor();
  if (new URL(page.url()).pathname === '/') await page.getByRole('heading', { level: 1, name: areaName }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

/** Re-reads until the value is acceptable, as the page settles after navigation or a change. */
export async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 5_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > until) assert.fail(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}
