// Stopping a reply (Esc and the Stop button) ends it promptly and keeps its text; closing
// the page mid-reply keeps what had been shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, poll } from './harness.mjs';
import { waitForModel, messages, openFirstStarter } from './chat-page.mjs';
import { allowEngineCut, ENGINE_CUT } from './engine-cut.mjs';

// Long enough that a reply is still going when the test interrupts it: the scripted model,
// a token every 150 ms.
const LONG = '?max_tokens=200&seed=11&step_ms=150';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await allowEngineCut(browser.page);
  await browser.page.goto(`${server.origin}/${LONG}`);
  const loaded = await waitForModel(browser.page);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  await openFirstStarter(browser.page);
}, { timeout: 240_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Sends a message and waits until its reply has grown at least twice, returning the reply's
// index and the text shown at that moment.
async function sendAndWaitForGrowth(page, text) {
  const index = (await messages(page)).length + 1;
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.keyboard.press('Enter');
  const lengths = [];
  let shown = '';
  await poll(async () => {
    const s = await page.evaluate((i) => ({
      text: document.querySelectorAll('#messages > li.message')[i]?.querySelector('.text').dataset.source ?? '',
      generating: document.body.dataset.generating === 'true',
    }), index);
    assert.ok(s.generating || lengths.length >= 2, `the reply ended before it could be interrupted: ${JSON.stringify(s.text)}`);
    if (s.text.length > 0 && lengths[lengths.length - 1] !== s.text.length) lengths.push(s.text.length);
    shown = s.text;
    return lengths.length >= 2;
  }, { timeout: 180_000, interval: 25, message: 'the reply to grow' });
  return { index, shown };
}

async function stopWith(page, action) {
  const { index, shown } = await sendAndWaitForGrowth(page, 'Tell me a long story about the sea.');
  const started = Date.now();
  await action();
  await page.waitForFunction(() => document.body.dataset.generating === 'false', null, { timeout: 30_000 });
  const elapsed = Date.now() - started;
  const reply = await page.evaluate((i) => {
    const li = document.querySelectorAll('#messages > li.message')[i];
    return {
      status: li.dataset.status,
      text: li.querySelector('.text').dataset.source,
      note: li.querySelector('.note').textContent,
      tokens: Number(li.dataset.tokens),
    };
  }, index);
  return { shown, elapsed, reply };
}

function assertStoppedPromptly({ shown, elapsed, reply }) {
  assert.equal(reply.status, 'stopped');
  assert.equal(reply.note, 'Stopped');
  assert.ok(reply.text.startsWith(shown.trim()), 'the text shown before stopping is kept');
  assert.ok(reply.tokens > 0 && reply.tokens < 200, `stopped well before max_tokens (${reply.tokens})`);
  // One token is in flight when the stop arrives; a few seconds covers that on a slow CPU.
  assert.ok(elapsed < 10_000, `stopped within 10 s (took ${elapsed} ms)`);
}

test('Esc stops a streaming reply promptly and keeps its text', { timeout: 240_000 }, async () => {
  const { page } = browser;
  assertStoppedPromptly(await stopWith(page, () => page.keyboard.press('Escape')));
  assert.ok(await page.getByRole('button', { name: 'Send' }).isVisible());
});

test('the Stop button stops a streaming reply', { timeout: 240_000 }, async () => {
  const { page } = browser;
  assertStoppedPromptly(await stopWith(page, () => page.getByRole('button', { name: 'Stop' }).click()));
});

// The newest message as IndexedDB holds it: {status, text} of its current swipe.
function savedLast(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('kindred');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = open.result.transaction('messages').objectStore('messages').getAll();
      req.onsuccess = () => {
        open.result.close();
        const last = req.result.sort((a, b) => a.id - b.id).pop();
        const swipe = last?.swipes?.[last.chosen] || {};
        resolve({ status: swipe.status, text: swipe.text || '' });
      };
    };
  }));
}

test('closing the page mid-reply keeps what was shown', { timeout: 300_000 }, async () => {
  const { page } = browser;
  // Cut the page off from the engine while the reply streams (the tab "closed" at that
  // instant), wait for the part shown to be saved, and reload. A reply that ends before it
  // grows is followed by another message.
  const asks = ['And what happened next?', 'Tell me the whole story, slowly, from the beginning.', 'What else do you remember?'];
  let index = -1;
  let shown = '';
  for (const ask of asks) {
    ({ index } = await sendAndWaitForGrowth(page, ask));
    const cut = await page.evaluate(({ i, flag }) => {
      if (document.body.dataset.generating !== 'true') return null;
      window[flag] = true;
      return document.querySelectorAll('#messages > li.message')[i].querySelector('.text').dataset.source;
    }, { i: index, flag: ENGINE_CUT });
    if (cut) {
      shown = cut;
      await poll(async () => {
        const saved = await savedLast(page);
        return saved.status === 'streaming' && saved.text.length > 0;
      }, { timeout: 10_000, interval: 20, message: 'a part of the reply to be saved' });
      break;
    }
    index = -1;
  }
  assert.ok(index >= 0, 'a reply was still streaming once part of it was saved');
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  const after = await messages(page);
  assert.equal(after.length, index + 1);
  const kept = after[index];
  assert.equal(kept.status, 'interrupted');
  assert.ok(kept.text.length > 0, 'some of the reply was saved');
  assert.ok(shown.startsWith(kept.text) || kept.text.startsWith(shown),
    `saved text ${JSON.stringify(kept.text)} is part of what was shown ${JSON.stringify(shown)}`);
  const stored = await page.evaluate(() => [...document.querySelectorAll('#messages > li.message')].pop().querySelector('.note').textContent);
  assert.equal(stored, 'Interrupted');
  assert.deepEqual(browser.pageErrors, []);
  assert.deepEqual(browser.requests.filter((u) => new URL(u).origin !== server.origin), []);
});

test('New chat starts a fresh chat and keeps the old one', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const before = await messages(page);
  assert.ok(before.length > 1, 'there is a conversation');
  const oldUrl = page.url();
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.waitForFunction((url) => location.href !== url && document.body.dataset.chatReady === 'true'
    && document.querySelectorAll('#messages > li.message').length === 1, oldUrl);
  assert.deepEqual((await messages(page)).map((m) => m.status), ['greeting']);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  assert.deepEqual((await messages(page)).map((m) => m.status), ['greeting'], 'the new chat is kept');
  await page.goto(oldUrl);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  await page.waitForFunction((n) => document.querySelectorAll('#messages > li.message').length === n, before.length);
  assert.deepEqual(await messages(page), before, 'the old chat is untouched');
});
