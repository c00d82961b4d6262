/**
 * What every browser journey needs: a built web app, Debian Chromium, an offline page, sign-in, and
 * screenshots that are also checkpoints (no fault so far, no accessibility violation, no sideways scroll).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AxeResults, RunOptions } from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_AREA } from '../../src/demo/demo-area.ts';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server.ts';
import { testDb } from '../../test/db.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const shotsDir = join(repoRoot, 'test-results');

/** Builds web/dist when it is missing or older than any file under web/src or the build's config (the server serves it). */
export function ensureWebBuild(): void {
  const index = join(repoRoot, 'web/dist/index.html');
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((entry) => (entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs)));
  const sources = Math.max(newest(join(repoRoot, 'web/src')), ...['web/index.html', 'web/vite.config.ts'].map((file) => statSync(join(repoRoot, file)).mtimeMs));
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

const originOf = (url: string): string | undefined => {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
};

/** A desktop browser window, and the narrow phone (an iPhone 12–15's CSS width) the reflow rule is checked at. */
export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/** Each context's faults so far (uncaught errors, CSP refusals, requests that tried to leave the server). */
const faultsOf = new WeakMap<BrowserContext, Error[]>();

/** The running server a journey drives (startServer's), on its own fresh database. */
export type JourneyServer = RunningServer;

/** How journeyServer starts the server: the administrator's password, and any of startServer's other settings. */
export type JourneyServerOptions = { adminPassword: string } & Omit<ServerOptions, 'port' | 'db' | 'seedDemo' | 'adminPassword'>;

export interface Journey {
  readonly server: JourneyServer;
  readonly browser: Browser;
  /** A fresh page on this server (openPage). */
  openPage(options?: Parameters<typeof openPage>[2]): ReturnType<typeof openPage>;
  /** Signs in on this server (signIn) and waits for the person's home in the demo area. */
  signIn(page: Page, who: { email: string; password: string }): Promise<void>;
}

/**
 * For a test file: one server on a fresh demo-seeded database (the engine chosen by PCN_TEST_ENGINE)
 * and one Chromium, started before its tests (then `ready`, to add people or patients) and stopped after.
 * The returned object is filled in once they are up.
 */
export function journeyServer(settings: string | JourneyServerOptions, ready?: (server: JourneyServer) => Promise<void>): Journey {
  const options = typeof settings === 'string' ? { adminPassword: settings } : settings;
  const running = {
    openPage: (pageOptions) => openPage(running.browser, running.server.url, pageOptions),
    signIn: (page, who) => signIn(page, running.server.url, who, DEMO_AREA.name),
  } as { -readonly [K in keyof Journey]: Journey[K] };
  before(async () => {
    ensureWebBuild();
    const db = await testDb();
    [running.server, running.browser] = await Promise.all([startServer({ ...options, port: 0, db, seedDemo: true }), launchChromium()]);
    await ready?.(running.server);
  });
  after(async () => {
    await running.browser?.close();
    await running.server?.close();
    await running.server?.db.close();
  });
  return running;
}

/**
 * A fresh browser context that may only talk to our server (and the `also` origins a journey needs, such as a
 * test identity provider): PCN Hub must work with no internet, so any request to another origin is refused and
 * is a fault of the page that fails the journey.
 */
export async function openPage(
  browser: Browser,
  serverUrl: string,
  options: { viewport?: { width: number; height: number }; also?: string[] } = {},
): Promise<{ context: BrowserContext; page: Page; errors: Error[] }> {
  const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, locale: 'en-GB' });
  const errors: Error[] = [];
  faultsOf.set(context, errors);
  const server = new URL(serverUrl).origin;
  const allowed = new Set([server, ...(options.also ?? []).map((origin) => new URL(origin).origin)]);
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (allowed.has(new URL(url).origin)) return route.continue();
    // Refused wherever it comes from; a fault when one of PCN Hub's pages asked (not, say, the test identity provider's).
    const asker = originOf(route.request().frame().url());
    if (asker === undefined || asker === server || !allowed.has(asker)) {
      errors.push(new Error(`The page asked for ${url}: every request must go to PCN Hub's own server (${server})`));
    }
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
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

/**
 * Saves test-results/<name>.png, then checks the state it shows: no fault so far, nothing wider than
 * the window (WCAG 1.4.10, reflow) and no accessibility violation. Every distinct state a journey
 * reaches gets a screenshot, so every one is checked.
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
  assert.deepEqual(
    (faultsOf.get(page.context()) ?? []).map((fault) => fault.message),
    [],
    `faults before the screenshot ${name}`,
  );
  await assertNoSidewaysScroll(page, name);
  await assertAccessible(page, name);
}

/** The page's own width fits its window: nothing makes the whole page scroll sideways. */
export async function assertNoSidewaysScroll(page: Page, where: string): Promise<void> {
  const { scrollWidth, clientWidth, widest } = await page.evaluate(() => {
    const root = document.documentElement;
    // Names the element that sticks out furthest (outside any box that scrolls or clips it), so a failure says where to look.
    let widest = '';
    let right = root.clientWidth;
    for (const element of document.body.querySelectorAll('*')) {
      const box = element.getBoundingClientRect();
      // Inside a box that scrolls or clips it, unless it is positioned out of that box. (No named helper
      // here: the test runner's transpiler would wrap it in a helper the page lacks.)
      let clipped = false;
      const escapes = /absolute|fixed/.test(getComputedStyle(element).position);
      for (let up = element.parentElement; up && up !== document.body && !clipped && !escapes; up = up.parentElement) clipped = getComputedStyle(up).overflowX !== 'visible';
      if (box.right > right + 0.5 && !clipped) {
        right = box.right;
        widest = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}${element.classList.length ? `.${[...element.classList].join('.')}` : ''}`;
      }
    }
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, widest };
  });
  assert.ok(scrollWidth <= clientWidth, `${where}: the page is ${scrollWidth}px wide in a ${clientWidth}px window, so it scrolls sideways (widest: ${widest || 'unknown'})`);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's WCAG 2.2 A and AA rules and its best practices, all of them. None is turned off: a
 * rule that fires is fixed in the app, not here.
 */
const AXE_OPTIONS: RunOptions = {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa', 'best-practice'] },
  resultTypes: ['violations'],
};

/** Runs axe-core in the page and fails with each violation's rule, impact, elements and help. */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  // Evaluated through the DevTools protocol, so the page's own CSP (no inline script) does not stop it.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async (options) => {
    const axe = (window as unknown as { axe: { run(context: Document, options: unknown): Promise<AxeResults> } }).axe;
    const results = await axe.run(document, options);
    return results.violations.map((v) => ({ id: v.id, impact: v.impact ?? 'unknown', help: v.help, helpUrl: v.helpUrl, targets: v.nodes.map((n) => n.target.join(' ')) }));
  }, AXE_OPTIONS);
  if (violations.length === 0) return;
  const lines = violations.map(
    (v) => `- ${v.id} (${v.impact}): ${v.help} [${v.helpUrl}]\n    ${v.targets.slice(0, 5).join('\n    ')}${v.targets.length > 5 ? `\n    … and ${v.targets.length - 5} more` : ''}`,
  );
  assert.fail(`${where}: ${violations.length} accessibility violation(s) found by axe-core:\n${lines.join('\n')}`);
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

/**
 * Makes one patient through the FHIR API, as an administrator: registered at `practiceOds`, with one
 * active problem so the record is not empty. Returns the patient's id.
 */
export async function createPatient(
  serverUrl: string,
  admin: { email: string; password: string },
  patient: { nhsNumber: string; family: string; given: string; birthDate: string; practiceOds: string; problem: string },
): Promise<string> {
  const login = await fetch(`${serverUrl}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(admin) });
  assert.equal(login.status, 200, 'the administrator signs in');
  const { token } = (await login.json()) as { token: string };
  const post = async (type: string, resource: object): Promise<{ id: string }> => {
    const response = await fetch(`${serverUrl}/fhir/${type}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ resourceType: type, ...resource }),
    });
    assert.equal(response.status, 201, `POST /fhir/${type}: ${await response.clone().text()}`);
    return (await response.json()) as { id: string };
  };
  const { id } = await post('Patient', {
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: patient.nhsNumber }],
    name: [{ use: 'official', family: patient.family, given: [patient.given] }],
    birthDate: patient.birthDate,
    generalPractitioner: [{ identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: patient.practiceOds } }],
  });
  await post('Condition', {
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { text: patient.problem },
    subject: { reference: `Patient/${id}` },
    recordedDate: '2015-03-02',
  });
  return id;
}
