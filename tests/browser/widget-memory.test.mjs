// The <kindred-chat> widget answers as the app does: with the visitor's settings from the app
// on the same site (here a 512-token context), rolling summaries of the turns that left the
// context, and the card's lorebook with its sticky entries kept across turns and a reload.
// A chat saved before widgets kept memory (no ids, no summaries) is taken up as it is.
// Real model, real Chromium, real IndexedDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshots, poll } from './harness.mjs';
import { session } from './session.mjs';
import { readStores, setContextSize } from './app-page.mjs';
import { replyAfter } from './chat-page.mjs';
import { STICKY_LORE_CARD as CARD } from './lore-card.mjs';

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; base-uri 'none'">
  <title>Mara</title>
  <script type="module" src="kindred-widget.js"></script>
</head>
<body><kindred-chat card="mara.json" max-tokens="8" seed="5"></kindred-chat></body>
</html>`;

// The greeting, then 40 messages: more than a 512-token context holds. Stored as the widget
// stored chats before it kept memory: no ids.
const OLD_MESSAGES = [
  { role: 'assistant', text: 'Hello {{user}}.', status: 'greeting' },
  ...Array.from({ length: 40 }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    text: `We talked about the ships that passed the lighthouse, part ${i + 2}.`,
    status: 'done',
  })),
];

const it = session();

async function openWidget(page) {
  // The app's service worker would answer for the page and card routed below from the
  // network (routes do not see its requests).
  await page.evaluate(async () => {
    for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
  });
  await page.goto(`${it.server.origin}/embed/mara.html`);
  let status = '';
  await poll(async () => {
    [status] = await page.evaluate(() => {
      const w = document.querySelector('kindred-chat');
      return [`${w?.dataset.modelState}: ${w?.shadowRoot.querySelector('.status')?.textContent}`];
    });
    return status.startsWith('ready');
  }, { timeout: 300_000, interval: 250, message: () => `the model ready (${status})` });
  await poll(() => page.evaluate(() => document.querySelector('kindred-chat').shadowRoot.querySelectorAll('li.message').length > 1),
    { timeout: 30_000, message: 'the saved chat shown' });
}

// Sends `text` through the widget; returns the lorebook entries its reply's prompt held.
async function send(page, text) {
  const widget = page.locator('kindred-chat');
  await widget.getByRole('textbox', { name: 'Message' }).fill(text);
  await replyAfter(page, () => widget.getByRole('button', { name: 'Send' }).click(), { timeout: 480_000, selector: 'kindred-chat' });
  return page.evaluate(() => document.querySelector('kindred-chat').dataset.lore);
}

async function saved(page, key) {
  const { settings = [] } = await readStores(page, ['settings']);
  return settings.find((r) => r.key === key)?.value;
}

test('a widget keeps summaries and sticky lorebook entries, with the visitor\'s context size', { timeout: 1_200_000 }, async () => {
  const { page } = it.browser;
  const origin = it.server.origin;
  const key = `widget-chat:${origin}/embed/mara.json`;
  await page.route(`${origin}/embed/mara.html`, (route) => route.fulfill({ contentType: 'text/html', body: PAGE }));
  await page.route(`${origin}/embed/mara.json`, (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify(CARD) }));

  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await setContextSize(page, 512);
  await page.evaluate(async ({ k, messages, card }) => {
    const { openDb } = await import('/js/db.js');
    const db = await openDb();
    await db.put('settings', { key: k, value: { card, messages, savedAt: Date.now() } });
  }, { k: key, messages: OLD_MESSAGES, card: `${origin}/embed/mara.json` });

  await openWidget(page);
  assert.equal(await send(page, 'Is that a zelkova tree by the door?'), 'Zelkova', 'the card\'s lorebook fires in the widget');
  let record = await saved(page, key);
  assert.equal(record.messages.length, 43);
  assert.deepEqual(record.messages.slice(0, 2).map((m) => m.id), ['m1', 'm2'], 'an old chat\'s messages get ids');
  assert.equal(new Set(record.messages.map((m) => m.id)).size, 43, 'every id once');
  assert.equal(Object.keys(record.loreState?.entries || {}).length, 1, `the activation is kept: ${JSON.stringify(record.loreState)}`);
  // The 512-token context (the app's setting) cuts the history; a 2,048 one would not.
  assert.ok(record.memory.summaries.length >= 1, 'the turns that left the context are summarised');
  const ids = new Set(record.messages.map((m) => m.id));
  assert.ok(record.memory.summaries.every((s) => s.messageIds.length && s.messageIds.every((id) => ids.has(id))), 'each summary names the chat\'s messages');
  assert.ok(record.memory.summaries.at(-1).text.length > 0);

  // A new document, a fresh worker: the activation and the summary come from the record.
  await openWidget(page);
  const before = record.memory.summaries.length;
  assert.equal(await send(page, 'Good night.'), 'Zelkova', 'still in the prompt one turn later (sticky), after a reload');
  await screenshots(page, 'widget-memory');
  assert.equal(await send(page, 'See you tomorrow.'), '', 'and gone once its sticky turns are over');
  record = await saved(page, key);
  assert.ok(record.memory.summaries.length >= before, 'summaries are kept across the reload');
  assert.equal(record.messages.length, 47);

  // New chat: memory and lorebook state go with the messages.
  await page.locator('kindred-chat').getByRole('button', { name: 'New chat' }).click();
  await poll(async () => !(await saved(page, key)), { timeout: 5000, message: 'the saved chat removed' });
  assert.deepEqual(it.browser.pageErrors, []);
});
