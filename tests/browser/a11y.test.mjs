// Accessibility audit with axe-core (injected through the browser's debugging protocol, so
// the page's Content-Security-Policy stays as strict as it ships): the library, a
// character's page, a chat with a finished reply and with its Memory panel open, settings
// (the delete confirmation showing), the editor with every section open, the Models page,
// the New room form and a room, and the embeddable widget's example page, each in light and
// dark colours, have no WCAG 2.x A/AA violation (colour contrast included) and no contrast
// axe could not measure except over an image. The chat's controls carry the names the tests
// and screen readers use, and a finished reply is announced through a polite live region.
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
let roomHash = null;

before(async () => {
  axeSource = await readFile(join(REPO, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Runs axe on the page as it is; returns the violations, and the contrast checks axe could
// not finish, in a form that reads well in a failed assertion.
async function audit(page) {
  if (!await page.evaluate(() => typeof window.axe === 'object')) await page.evaluate(axeSource);
  const result = await page.evaluate((tags) => window.axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations', 'incomplete'],
  }), TAGS);
  // The audit really ran: contrast was measured on something.
  const ran = [...result.passes, ...result.violations, ...result.incomplete].map((r) => r.id);
  assert.ok(ran.includes('color-contrast'), `axe ran its contrast rule (ran: ${ran.join(' ')})`);
  assert.ok(result.passes.length >= 10, `axe checked the page (${result.passes.length} rules passed)`);
  const violations = result.violations.map((v) => ({
    rule: v.id,
    impact: v.impact,
    nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 220)}`),
  }));
  const incomplete = result.incomplete.find((r) => r.id === 'color-contrast')?.nodes || [];
  const unmeasured = await page.evaluate(remeasure, incomplete.map((n) => ({
    target: n.target, reason: n.any[0]?.data?.messageKey || 'unknown', html: n.html.slice(0, 120),
  })));
  return { violations, unmeasured };
}

// Runs in the page. Contrast axe left undecided is measured another way, and what stays
// undecided is returned: text partly scrolled out of its view, or under a sticky bar, is
// scrolled into the middle of it and checked again; a glyph-only control (the rating stars)
// must reach 3:1 against what is behind it (WCAG 1.4.11); an empty text box has no text to
// measure, but its placeholder must reach 4.5:1.
async function remeasure(nodes) {
  const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const behind = (el) => {
    for (let e = el; e; e = e.parentElement || e.getRootNode().host) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
      if (c.length === 4 && c[3] > 0) return null; // translucent: not decidable here
    }
    return [255, 255, 255];
  };
  const left = [];
  for (const n of nodes) {
    const el = n.target.length === 1 && typeof n.target[0] === 'string' ? document.querySelector(n.target[0]) : null;
    const keep = (why) => left.push({ target: n.target.join(' '), reason: n.reason, why, html: n.html });
    if (!el) { keep('not found'); continue; }
    if (n.reason === 'elmPartiallyObscured' || n.reason === 'bgOverlap') {
      const scrolled = [];
      for (let e = el.parentElement; e; e = e.parentElement) scrolled.push([e, e.scrollTop]);
      el.scrollIntoView({ block: 'center' });
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const again = await window.axe.run(el, { runOnly: { type: 'rule', values: ['color-contrast'] }, resultTypes: ['violations', 'incomplete'] });
      for (const [e, top] of scrolled) e.scrollTop = top;
      const bad = [...again.violations, ...again.incomplete].flatMap((r) => r.nodes);
      if (bad.length) keep(bad.map((b) => (b.failureSummary || b.any[0]?.message || '').replace(/\s+/g, ' ').slice(0, 200)).join('; '));
      continue;
    }
    const bg = behind(el);
    if (n.reason === 'nonBmp' && bg) {
      const r = ratio(rgb(getComputedStyle(el).color), bg);
      if (r < 3) keep(`glyph contrast ${r.toFixed(2)}:1 < 3:1`);
      continue;
    }
    if (n.reason === 'emptyValue' && bg) {
      const ph = el.getAttribute('placeholder') ? rgb(getComputedStyle(el, '::placeholder').color) : null;
      if (ph && ph.length === 4 && ph[3] < 1) keep('translucent placeholder');
      else if (ph && ratio(ph.slice(0, 3), bg) < 4.5) keep(`placeholder contrast ${ratio(ph.slice(0, 3), bg).toFixed(2)}:1 < 4.5:1`);
      continue;
    }
    keep('undecided');
  }
  return left;
}

async function settle(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  await page.waitForTimeout(300); // transitions end before contrast is measured
}

// The app's views scroll inside themselves: the page never does (were it to, a wheel or a
// focused control could carry the header out of sight).
async function pageOverflow(page) {
  return page.evaluate(() => document.scrollingElement.scrollHeight - document.scrollingElement.clientHeight);
}

async function checkBothThemes(page, name, { app = true } = {}) {
  if (app) assert.ok(await pageOverflow(page) <= 1, `${name}: the page itself scrolls by ${await pageOverflow(page)} px`);
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
    await settle(page);
    const { violations, unmeasured } = await audit(page);
    assert.deepEqual(violations, [], `${name} (${scheme}) has accessibility violations:\n${JSON.stringify(violations, null, 2)}`);
    assert.deepEqual(unmeasured, [], `${name} (${scheme}) has contrast axe could not measure:\n${JSON.stringify(unmeasured, null, 2)}`);
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

test('the chat with its Memory panel open has no violations in either theme', { timeout: 120_000 }, async () => {
  const { page } = browser;
  assert.ok(chatHash, 'the chat test ran first');
  // A pinned reply gives the panel a memory to show, with its own tools.
  await page.locator('#messages li.message').last().getByRole('button', { name: 'Pin to memory' }).click();
  await page.getByRole('button', { name: 'Memory', exact: true }).click();
  const panel = page.getByRole('complementary', { name: 'Memory' });
  await panel.locator('#memory-pinned li').first().waitFor();
  await checkBothThemes(page, 'memory panel');
  await page.getByRole('button', { name: 'Close memory' }).click();
  assert.deepEqual(browser.pageErrors, []);
});

test('the library, a character\'s page, settings, Models and Check have no violations in either theme', { timeout: 240_000 }, async () => {
  const { page } = browser;
  const { id } = await firstStarter();
  for (const [name, hash, ready] of [
    ['library', '#/', '#character-grid .character-card'],
    ['character', `#/character/${id}`, '#character-title:not(:empty)'],
    ['settings', '#/settings', '#view-settings:not([hidden])'],
    ['models', '#/models', '#view-models .models-current-name'],
    ['check', '#/check', '#view-check .check-table tbody tr'],
  ]) {
    await page.goto(`${server.origin}/${TEST_QUERY}${hash}`);
    await page.waitForSelector(ready);
    await checkBothThemes(page, name);
  }
  // Settings' "Your data" with the delete confirmation asking for DELETE (nothing deleted).
  await page.goto(`${server.origin}/${TEST_QUERY}#/settings`);
  await page.waitForSelector('#view-settings:not([hidden])');
  await page.getByRole('button', { name: 'Delete everything' }).click();
  await page.locator('#data-status', { hasText: 'Type DELETE' }).waitFor();
  await page.getByLabel('Also delete the downloaded model').check();
  await checkBothThemes(page, 'settings, delete confirmation');
  await page.evaluate(() => { const v = document.getElementById('view-settings'); v.scrollTop = v.scrollHeight; });
  await screenshots(page, 'settings-data');
  await page.getByLabel('Also delete the downloaded model').uncheck();
  assert.ok(chatHash, 'the chat test ran first');
  await page.goto(`${server.origin}/${TEST_QUERY}${chatHash}`);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshots(page, 'a11y-chat-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(browser.pageErrors, []);
});

test('the editor, with every section open and a list item of each kind, has no violations in either theme', { timeout: 120_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/${TEST_QUERY}#/new`);
  await page.waitForSelector('#view-editor:not([hidden]) summary');
  await page.evaluate(() => { for (const d of document.querySelectorAll('#view-editor details')) d.open = true; });
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Ada');
  for (const add of ['Add alternate greeting', 'Add entry']) await page.getByRole('button', { name: add }).first().click();
  await checkBothThemes(page, 'editor');
  // Leaving with unsaved changes shows the editor's own question; it is audited too.
  await page.evaluate(() => { location.hash = '#/'; });
  await page.getByRole('button', { name: 'Discard changes' }).waitFor();
  await checkBothThemes(page, 'editor, leave question');
  await page.getByRole('button', { name: 'Discard changes' }).click();
  await page.waitForFunction(() => document.body.dataset.view === 'library');
  assert.deepEqual(browser.pageErrors, []);
});

test('the New room form and a room have no violations in either theme', { timeout: 120_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/${TEST_QUERY}#/`);
  await page.waitForSelector('#character-grid .character-card');
  await page.getByRole('button', { name: 'New room' }).click();
  await page.getByRole('textbox', { name: 'Room title' }).fill('Tea party');
  await page.getByRole('checkbox', { name: 'Wren', exact: true }).check();
  await page.getByRole('checkbox', { name: 'Juni', exact: true }).check();
  await checkBothThemes(page, 'new room');
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true' && !document.getElementById('room-panel').hidden);
  await page.waitForSelector('#messages li.message[data-author]');
  const details = page.locator('#room-panel details');
  if (!(await details.evaluate((d) => d.open))) await page.locator('#room-panel summary').click();
  await checkBothThemes(page, 'room');
  roomHash = new URL(page.url()).hash;
  assert.deepEqual(browser.pageErrors, []);
});

// Runs in the page: controls and headings that stick out of the screen (outside a strip
// that scrolls sideways by design), text that overflows its box, and form fields squeezed
// too narrow to type in.
function reflowProblems() {
  const problems = [];
  const sideways = (e) => {
    for (let a = e.parentElement; a; a = a.parentElement) {
      if (['auto', 'scroll'].includes(getComputedStyle(a).overflowX) && a.scrollWidth > a.clientWidth) return true;
    }
    return false;
  };
  const name = (e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} "${(e.getAttribute('aria-label') || e.textContent || e.placeholder || '').trim().slice(0, 30)}"`;
  for (const e of document.querySelectorAll('button, a, label, summary, legend, h1, h2, h3, h4, input, select, textarea')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || getComputedStyle(e).visibility === 'hidden' || e.closest('.visually-hidden')) continue;
    if (['checkbox', 'radio', 'file'].includes(e.type)) continue;
    if ((r.right > innerWidth + 1 || r.left < -1) && !sideways(e)) problems.push(`${name(e)} sticks out (${Math.round(r.left)}..${Math.round(r.right)} px)`);
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(e.tagName)) {
      if (r.width < (e.type === 'number' ? 48 : 120)) problems.push(`${name(e)} is ${Math.round(r.width)} px wide`);
    } else if (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).textOverflow !== 'ellipsis') {
      problems.push(`${name(e)} overflows its box (${e.scrollWidth} > ${e.clientWidth} px)`);
    }
  }
  const d = document.scrollingElement;
  if (d.scrollWidth > d.clientWidth + 1) problems.push(`the page scrolls sideways (${d.scrollWidth} > ${d.clientWidth} px)`);
  return problems;
}

test('at a phone\'s width and at 320 px (WCAG reflow) nothing sticks out, overflows or is squeezed', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const { id } = await firstStarter();
  assert.ok(chatHash && roomHash, 'the chat and room tests ran first');
  const views = [
    ['library', '#/', '#character-grid .character-card'],
    ['character', `#/character/${id}`, '#character-title:not(:empty)'],
    ['chat', chatHash, 'body[data-chat-ready="true"] #messages li.message'],
    ['room', roomHash, 'body[data-chat-ready="true"] #room-panel:not([hidden])'],
    ['settings', '#/settings', '#view-settings:not([hidden])'],
    ['editor', '#/new', '#view-editor:not([hidden]) summary'],
    ['models', '#/models', '#view-models .models-current-name'],
    ['check', '#/check', '#view-check .check-table tbody tr'],
  ];
  const found = [];
  for (const width of [390, 320]) {
    await page.setViewportSize({ width, height: 800 });
    for (const [name, hash, ready] of views) {
      await page.goto(`${server.origin}/${TEST_QUERY}${hash}`);
      await page.waitForSelector(ready);
      await page.evaluate(() => { for (const d of document.querySelectorAll('main details, #room-panel details')) d.open = true; });
      await settle(page);
      for (const p of await page.evaluate(reflowProblems)) found.push(`${name} at ${width} px: ${p}`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  assert.deepEqual(found, []);
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
  await checkBothThemes(page, 'widget demo', { app: false });
});
