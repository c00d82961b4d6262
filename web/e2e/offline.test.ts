/**
 * PCN Hub works with no internet: every request a page makes goes to PCN Hub's own server (scripts,
 * styles, icons, the map), no web font is asked for from anywhere, and a request to another server is
 * refused and fails the journey. (Every other journey fails on such a request too: harness.ts.)
 *
 *   PCN_TEST_ENGINE=pglite node --import tsx --test web/e2e/offline.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, journeyServer, openPage, screenshot, signIn } from './harness.ts';

const ADMIN = { email: 'admin@pcn-hub.example', password: 'correct horse battery staple' };

const running = journeyServer(ADMIN.password);

test('every request a page makes goes to PCN Hub itself; no web font is loaded; a request elsewhere is a fault', async () => {
  const { server, browser } = running;
  const { context, page, errors } = await openPage(browser, server.url);
  try {
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await signIn(page, server.url, ADMIN, 'Norfolk and Waveney (demo)');
    await page.getByTestId('map').locator('path.pcn-catchment').first().waitFor();
    await page
      .getByRole('table', { name: /PCNs in Norfolk and Waveney/ })
      .locator('tbody tr')
      .first()
      .waitFor();
    await page.goto(`${server.url}/pcns/U90001`);
    await page.getByRole('heading', { level: 1, name: 'Norwich City PCN' }).waitFor();
    await page.evaluate(() => document.fonts.ready);
    await screenshot(page, 'offline-pcn');

    const origin = new URL(server.url).origin;
    const fetched = requests.filter((url) => !url.startsWith('data:'));
    assert.deepEqual(
      fetched.filter((url) => new URL(url).origin !== origin),
      [],
      'no request left the server',
    );
    for (const kind of [/\/assets\/index-[\w-]+\.js$/, /\/assets\/index-[\w-]+\.css$/, /\/api\/areas\/Q99\/map$/]) {
      assert.ok(
        fetched.some((url) => kind.test(url)),
        `the page loaded ${kind} from the server: ${fetched.join(', ')}`,
      );
    }
    // No @font-face anywhere, so no font is fetched from anywhere; the text is set in the NHS fallback, Arial.
    const fontFaces = await page.evaluate(() => [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules].filter((rule) => rule instanceof CSSFontFaceRule).map((rule) => rule.cssText)));
    assert.deepEqual(fontFaces, []);
    assert.match(await page.evaluate(() => getComputedStyle(document.body).fontFamily), /arial/i);
    assert.deepEqual(
      errors.map((e) => e.message),
      [],
    );

    // The case that must fail: a page that asks another server is stopped, and the journey is told.
    await page.evaluate(() => {
      const image = document.createElement('img');
      image.alt = '';
      image.src = 'https://assets.nhs.uk/images/anything.png';
      document.body.append(image);
    });
    await eventually(
      async () => errors.map((e) => e.message).join('\n'),
      (messages) => /assets\.nhs\.uk/.test(messages),
      'the refused request reported as a fault',
    );
    await assert.rejects(screenshot(page, 'offline-refused'), /faults before the screenshot offline-refused/);
  } finally {
    await context.close();
  }
});
