// The app from the keyboard alone: in a chat with a reply, Tab and Shift+Tab reach the
// message box, Send and every tool of the reply (swipe arrows, stars, Continue, Edit, Branch,
// Pin, Delete); Space on a star stores the rating and keeps the focus on it; Enter on Edit
// opens the edit box and Escape closes it, back on Edit. In the editor, an alternate greeting
// is added and written without the mouse.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, poll } from './harness.mjs';
import { TEST_QUERY, waitForModel, sendAndWatch, openFirstStarter } from './chat-page.mjs';
import { readStores } from './app-page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

// What has the focus: its accessible name (aria-label, else its text), and whether it sits
// in the last message.
function focusNow(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    const items = document.querySelectorAll('#messages > li.message');
    return {
      id: a?.id || '',
      tag: a?.tagName.toLowerCase() || '',
      name: (a?.getAttribute('aria-label') || a?.textContent || '').trim().slice(0, 40),
      inLast: Boolean(a && items.length && items[items.length - 1].contains(a)),
      pressed: a?.getAttribute('aria-pressed') ?? null,
    };
  });
}

// Presses key until `want` holds for the focused element; fails listing where it went.
async function pressUntil(page, key, want, what, max = 80) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key);
    const f = await focusNow(page);
    seen.push(f.name || f.id || f.tag);
    if (want(f)) return { focus: f, seen };
  }
  return assert.fail(`${key} never reached ${what}; focus went through: ${seen.join(' | ')}`);
}

test('a chat\'s box, Send and a reply\'s tools are reached and used from the keyboard', { timeout: 480_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/${TEST_QUERY}`);
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', loaded.error);
  await openFirstStarter(page);
  const chatHash = new URL(page.url()).hash;
  await sendAndWatch(page, 'Hi there!');
  // A second swipe, so the reply has both arrows to reach (the first one is disabled alone).
  assert.equal(await page.locator('#messages li.message').last().locator('.swipe-count').textContent(), '1/1');
  await page.locator('#messages li.message').last().getByRole('button', { name: 'New reply' }).click();
  await page.waitForFunction(() => {
    const last = [...document.querySelectorAll('#messages > li.message')].pop();
    return document.body.dataset.generating === 'false' && last.querySelector('.swipe-count')?.textContent === '2/2';
  }, null, { timeout: 240_000 });

  // From the top of a freshly loaded page.
  assert.equal(new URL(page.url()).hash, chatHash);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  assert.equal((await waitForModel(page)).state, 'ready', 'Send needs the model');
  await pressUntil(page, 'Tab', (f) => f.id === 'message', 'the message box');
  await page.keyboard.type('Hello');
  await pressUntil(page, 'Tab', (f) => f.id === 'send', 'Send', 3);
  await pressUntil(page, 'Shift+Tab', (f) => f.id === 'message', 'the message box again', 3);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');

  // Backwards into the last reply, through every tool, to its first arrow.
  const walk = await pressUntil(page, 'Shift+Tab', (f) => f.inLast && f.name === 'Previous reply', 'the reply\'s Previous reply');
  const inReply = walk.seen.slice(walk.seen.indexOf('Delete'));
  for (const name of ['Delete', 'Pin to memory', 'Branch from here', 'Edit', 'Continue this reply',
    'Rate 4 stars', 'Rate 3 stars', 'Rate 2 stars', 'Rate 1 star', 'New reply', 'Previous reply']) {
    assert.ok(inReply.includes(name), `Shift+Tab reached "${name}" in the reply: ${inReply.join(' | ')}`);
  }

  // Space on a star: stored on the shown swipe, pressed, and the focus stays on it.
  await pressUntil(page, 'Tab', (f) => f.inLast && f.name === 'Rate 2 stars', 'Rate 2 stars', 6);
  await page.keyboard.press('Space');
  await page.waitForFunction(() => [...document.querySelectorAll('#messages > li.message')].pop()
    .querySelector('[data-action="rate"][data-stars="2"]')?.getAttribute('aria-pressed') === 'true');
  assert.deepEqual(await focusNow(page), { id: '', tag: 'button', name: 'Rate 2 stars', inLast: true, pressed: 'true' });
  const id = Number(await page.locator('#messages li.message').last().getAttribute('data-id'));
  // The rating is saved just after the star shows it.
  const storedReply = async () => (await readStores(page, ['messages'])).messages.find((m) => m.id === id);
  await poll(async () => (await storedReply()).swipes.some((s) => s.rating === 2), { timeout: 10_000, message: 'the rating saved' });
  const stored = await storedReply();
  assert.equal(stored.swipes[stored.chosen].rating, 2, 'the rating is stored on the shown swipe');

  // Enter on Edit opens the edit box with the focus in it; Escape closes it, back on Edit.
  await pressUntil(page, 'Tab', (f) => f.inLast && f.name === 'Edit', 'Edit', 8);
  await page.keyboard.press('Enter');
  assert.equal((await focusNow(page)).name, 'Edit the text', 'the edit box has the focus');
  assert.equal(await page.locator('#messages li.message').last().locator('.edit-box').count(), 1);
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('.edit-box').count(), 0, 'Escape closes the edit box');
  assert.equal((await focusNow(page)).name, 'Edit', 'the focus is back on Edit');
  assert.deepEqual(browser.pageErrors, []);
});

test('the editor: an alternate greeting added and written from the keyboard', { timeout: 120_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/${TEST_QUERY}#/new`);
  await page.waitForSelector('#view-editor:not([hidden]) summary');
  await pressUntil(page, 'Tab', (f) => f.name === 'Add alternate greeting', 'Add alternate greeting', 120);
  await page.keyboard.press('Enter');
  assert.equal((await focusNow(page)).tag, 'textarea', 'the new greeting\'s box has the focus');
  await page.keyboard.type('Back again, {{user}}?');
  const box = page.getByRole('textbox', { name: 'Alternate greeting 1' });
  assert.equal(await box.inputValue(), 'Back again, {{user}}?');
  assert.equal(await box.evaluate((el) => el === document.activeElement), true);
  assert.deepEqual(browser.pageErrors, []);
});
