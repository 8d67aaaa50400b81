// Accessibility audit with axe-core (injected through the browser's debugging protocol, so
// the page's Content-Security-Policy stays as strict as it ships): the library, a
// character's page, a chat with a finished reply, settings, and the embeddable widget's
// example page, each in light and dark colours, have no WCAG 2.x A/AA violation (colour
// contrast included). The chat's controls carry the names the tests and screen readers use,
// and a finished reply is announced through a polite live region.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots } from './harness.mjs';
import { TEST_QUERY, waitForModel, sendAndWatch, openFirstStarter, firstStarter } from './chat-page.mjs';

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

let server;
let browser;
let axeSource;
let chatHash = null;

before(async () => {
  axeSource = await readFile(join(REPO, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Runs axe on the page as it is; returns the violations in a form that reads well in a
// failed assertion.
async function audit(page) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(axeSource);
  const result = await page.evaluate((tags) => window.axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations'],
  }), TAGS);
  // The audit really ran: contrast was measured on something.
  const ran = [...result.passes, ...result.violations, ...result.incomplete].map((r) => r.id);
  assert.ok(ran.includes('color-contrast'), `axe ran its contrast rule (ran: ${ran.join(' ')})`);
  assert.ok(result.passes.length >= 10, `axe checked the page (${result.passes.length} rules passed)`);
  return result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 220)}`),
  }));
}

async function settle(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForTimeout(300); // transitions end before contrast is measured
}

async function checkBothThemes(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
    await settle(page);
    const violations = await audit(page);
    assert.deepEqual(violations, [], `${name} (${scheme}) has accessibility violations:\n${JSON.stringify(violations, null, 2)}`);
  }
  await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
}

test('the chat: named controls, a polite live region, and no violations', { timeout: 360_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/${TEST_QUERY}`);
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', loaded.error);
  await openFirstStarter(page);
  chatHash = new URL(page.url()).hash;

  const box = page.getByRole('textbox', { name: 'Message', exact: true });
  assert.equal(await box.count(), 1, 'one box is named "Message"');
  assert.equal(await page.getByRole('button', { name: 'Send', exact: true }).count(), 1);
  // Stop is out of sight until a reply streams.
  assert.equal(await page.getByRole('button', { name: 'Stop', exact: true, includeHidden: true }).count(), 1);
  const live = await page.locator('#announcer').evaluate((el) => ({ live: el.getAttribute('aria-live'), atomic: el.getAttribute('aria-atomic') }));
  assert.deepEqual(live, { live: 'polite', atomic: 'true' });

  // From the keyboard: focus the box, type, Enter sends; the reply is announced.
  await box.focus();
  const run = await sendAndWatch(page, 'Hi there!');
  assert.equal(run.reply.status, 'done');
  await page.waitForFunction((t) => document.getElementById('announcer').textContent.endsWith(t), run.reply.text, { timeout: 5000 });
  // A rated reply: the lit stars are measured too.
  await page.getByRole('button', { name: 'Rate 3 stars' }).last().click();
  await page.waitForSelector('#messages li.message:last-child .star.on');
  await checkBothThemes(page, 'chat');
  assert.deepEqual(browser.pageErrors, []);
});

test('the library, a character\'s page and settings have no violations in either theme', { timeout: 240_000 }, async () => {
  const { page } = browser;
  const { id } = await firstStarter();
  for (const [name, hash, ready] of [
    ['library', '#/', '#character-grid .character-card'],
    ['character', `#/character/${id}`, '#character-title:not(:empty)'],
    ['settings', '#/settings', '#view-settings:not([hidden])'],
  ]) {
    await page.goto(`${server.origin}/${TEST_QUERY}${hash}`);
    await page.waitForSelector(ready);
    await checkBothThemes(page, name);
  }
  assert.ok(chatHash, 'the chat test ran first');
  await page.goto(`${server.origin}/${TEST_QUERY}${chatHash}`);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshots(page, 'a11y-chat-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(browser.pageErrors, []);
});

test('the widget\'s example page has no violations in either theme', { timeout: 240_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/embed/demo.html`);
  await page.waitForFunction(() => document.querySelector('kindred-chat')?.dataset.modelState === 'ready', null, { timeout: 120_000 });
  const widget = page.locator('kindred-chat');
  assert.equal(await widget.getByRole('textbox', { name: 'Message', exact: true }).count(), 1);
  assert.equal(await widget.getByRole('button', { name: 'Send', exact: true }).count(), 1);
  assert.equal(await widget.getByRole('button', { name: 'Stop', exact: true }).count(), 1);
  assert.equal(await widget.locator('[aria-live="polite"]').count(), 1);
  await checkBothThemes(page, 'widget demo');
});
