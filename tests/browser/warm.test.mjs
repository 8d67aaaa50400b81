// Reading ahead: an open chat's prompt is read while the person types, so Send reads only
// the new message. Real model, real Chromium: the reply is the one a cold page gives with the
// same seed (warmed fully, or joined by an early Send), later turns reuse the turn before,
// and the model status says what is being prepared.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { TEST_QUERY, replyInNewChat, waitForModel, openFirstStarter, firstStarter, sendAndWatch } from './chat-page.mjs';

let server;
let browser;

before(async () => {
  // A real model: these tests are about reading a prompt ahead while it takes time (a reply
  // joining a read-ahead still going, the preparing line on screen), which the scripted
  // model's one layer reads at once.
  server = await startServer({ model: 'test' });
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const TEXT = 'Hi! Tell me a little about yourself.';
let coldReply = null; // the first test's cold reply to TEXT in a new chat

// The last message's prompt tokens found already read, of all it had: [reused, prompt].
async function reuse(page) {
  const value = await page.locator('#messages > li.message').last().getAttribute('data-reused');
  assert.match(value || '', /^\d+\/\d+$/, 'the reply keeps its prompt figures');
  return value.split('/').map(Number);
}

async function newChat(page) {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true'
    && document.querySelectorAll('#messages > li.message').length === 1);
}

test('an open chat is read ahead; the reply is the cold one, joined or not', { timeout: 600_000 }, async () => {
  const { page } = browser;
  const { name } = await firstStarter();

  // A first chat on a fresh engine: nothing cached, so its prompt takes a while to read.
  await page.goto(`${server.origin}/${TEST_QUERY}`);
  assert.equal((await waitForModel(page, 300_000)).state, 'ready');
  await openFirstStarter(page);
  // The status names the character while its prompt is read.
  await page.waitForFunction(() => document.body.dataset.warm === 'reading', null, { timeout: 60_000 });
  const shown = page.locator('#model-warm');
  assert.equal(await shown.textContent(), `Preparing ${name}…`);
  assert.ok(await shown.isVisible(), 'the preparing line is on screen');
  await screenshots(page, 'chat-preparing');
  // Sent while the read-ahead is still going: the reply joins it.
  await page.waitForTimeout(1000);
  const joined = await sendAndWatch(page, TEXT);
  const [joinedReused, joinedPrompt] = await reuse(page);
  assert.ok(joinedReused > 0, `the reply kept what the warm-up read: ${joinedReused}/${joinedPrompt}`);
  console.log(`joined: ${joinedReused} of ${joinedPrompt} prompt tokens read ahead`);

  // After the reply the chat is read again for the next turn (a short read: no line), and
  // that turn reads only its own message.
  await page.waitForFunction(() => document.body.dataset.warm === 'idle' && document.body.dataset.generating === 'false',
    null, { timeout: 120_000 });
  assert.ok(await shown.isHidden(), 'the line goes once the prompt is read');
  await sendAndWatch(page, 'What do you care about most, and why?');
  const [reused2, prompt2] = await reuse(page);
  assert.ok(prompt2 > joinedPrompt && reused2 >= prompt2 - 60, `a later turn reads only the new message: ${reused2}/${prompt2}`);
  const stats = await page.locator('#messages > li.message').last().locator('.stats').textContent();
  assert.match(stats, /first token \d+\.\d s$/, 'the wait for the first token is shown');

  // A new chat, its prompt read before Send.
  await newChat(page);
  await page.waitForFunction(() => document.body.dataset.warm === 'idle', null, { timeout: 120_000 });
  const warmed = await sendAndWatch(page, TEXT);
  const [reused, prompt] = await reuse(page);
  assert.equal(prompt, joinedPrompt, 'the same prompt as the first chat');
  // Only the person's turn and the lines after it were left to read.
  assert.ok(reused >= prompt - 60, `the read-ahead covered the prompt up to the new turn: ${reused}/${prompt}`);

  // A cold page (nothing read ahead, a fresh engine) gives the same replies with the same seed.
  const cold = await replyInNewChat(page, `${server.origin}/${TEST_QUERY}&warm=0`, TEXT);
  const [coldReused, coldPrompt] = await reuse(page);
  assert.equal(coldPrompt, prompt);
  assert.ok(coldReused <= 1, `nothing was read ahead on the cold page: ${coldReused}/${coldPrompt}`);
  assert.ok(cold.reply.text.length > 0, 'the cold page replied');
  assert.equal(warmed.reply.text, cold.reply.text, 'a warmed prompt gives the cold reply');
  assert.equal(joined.reply.text, cold.reply.text, 'a reply that joined the warm-up gives the cold reply');
  coldReply = cold.reply.text;
});

// The stored prompt prefixes in the page's own database: {count, bytes, chats}.
const stored = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const open = indexedDB.open('kindred');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const r = db.transaction('prefixes').objectStore('prefixes').getAll();
    r.onsuccess = () => {
      resolve({ count: r.result.length, bytes: r.result.reduce((n, e) => n + e.bytes, 0), chats: [...new Set(r.result.map((e) => e.chatId))] });
      db.close();
    };
  };
}));

// Flips one byte in the middle of every stored prefix's data.
const damage = (page) => page.evaluate(() => new Promise((resolve, reject) => {
  const open = indexedDB.open('kindred');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction('prefix-data', 'readwrite');
    const store = tx.objectStore('prefix-data');
    const r = store.getAll();
    r.onsuccess = () => {
      for (const entry of r.result) {
        const bytes = new Uint8Array(entry.data);
        bytes[bytes.length >> 1] ^= 0x40;
        store.put(entry);
      }
    };
    tx.oncomplete = () => { db.close(); resolve(r.result.length); };
    tx.onerror = () => reject(tx.error);
  };
}));

// Reloads the page (a fresh worker, nothing cached) and reopens the first starter's newest
// chat; returns what its read-ahead took from storage (tokens, or "refused").
async function reopened(page) {
  // A new document (a URL differing only in its hash would not reload): a fresh worker.
  await page.goto('about:blank');
  await page.goto(`${server.origin}/${TEST_QUERY}`);
  assert.equal((await waitForModel(page, 300_000)).state, 'ready');
  await openFirstStarter(page);
  await page.waitForFunction(() => document.body.dataset.warm === 'idle'
    && document.getElementById('model-warm').dataset.restored !== undefined, null, { timeout: 120_000 });
  return page.locator('#model-warm').getAttribute('data-restored');
}

test('a reloaded page restores a kept prompt; a damaged one is read again, never used', { timeout: 600_000 }, async () => {
  assert.ok(coldReply, 'the first test ran');
  const { page } = browser;
  const kept = await stored(page);
  assert.ok(kept.count >= 2 && kept.bytes > 0, `the replies kept their read prompts: ${JSON.stringify(kept)}`);

  // A fresh worker with an empty cache: the reopened chat's prompt comes from storage, and a
  // new chat's reply, read on top of it, is the cold one.
  const restored = Number(await reopened(page));
  assert.ok(restored >= 100, `a stored prefix was restored: ${restored} tokens`);
  await newChat(page);
  await page.waitForFunction(() => document.body.dataset.warm === 'idle', null, { timeout: 120_000 });
  const again = await sendAndWatch(page, TEXT);
  const [reused, prompt] = await reuse(page);
  assert.ok(reused >= prompt - 60, `only the new turn was read: ${reused}/${prompt}`);
  assert.equal(again.reply.text, coldReply, 'a reply read on a restored prefix is the cold one');

  // Shown, and clearable, on the Models page.
  await page.goto(`${server.origin}/${TEST_QUERY}#/models`);
  const line = page.locator('.models-prefixes p');
  await page.waitForFunction(() => Number(document.querySelector('.models-prefixes p')?.dataset.count) > 0);
  assert.match(await line.textContent(), /^Prompts kept ready: \d+ \([\d.]+ [KM]B of at most 160\.0 MB\)/);
  await line.scrollIntoViewIfNeeded();
  await screenshots(page, 'models-kept-prompts');

  // Damaged on disk: the engine refuses it, the entry goes, and the reply is still the cold one.
  assert.ok(await damage(page) > 0);
  assert.equal(await reopened(page), 'refused', 'the damaged prefix was refused');
  await newChat(page);
  await page.waitForFunction(() => document.body.dataset.warm === 'idle', null, { timeout: 120_000 });
  const after = await sendAndWatch(page, TEXT);
  assert.equal(after.reply.text, coldReply, 'the reply after a refused prefix is the cold one');

  await page.goto(`${server.origin}/${TEST_QUERY}#/models`);
  await page.waitForFunction(() => document.querySelector('.models-prefixes p')?.dataset.count !== undefined);
  await page.getByRole('button', { name: 'Clear kept prompts' }).click();
  await page.waitForFunction(() => document.querySelector('.models-prefixes p')?.dataset.count === '0');
  assert.equal((await stored(page)).count, 0, 'cleared');
});

test('a message is read as it is typed: Send reads only its last token, and the reply is the cold one', { timeout: 600_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/${TEST_QUERY}`);
  assert.equal((await waitForModel(page, 300_000)).state, 'ready');
  await openFirstStarter(page);
  const count = () => page.evaluate(() => ({ n: Number(document.body.dataset.warmReads) || 0, idle: document.body.dataset.warm === 'idle' }));
  const opened = (await count()).n;
  await newChat(page);
  // The new chat's own read-ahead has run and nothing else is reading: the count went up and
  // holds still for a second.
  await poll(async () => {
    const a = await count();
    if (a.n <= opened || !a.idle) return false;
    await page.waitForTimeout(1000);
    const b = await count();
    return b.n === a.n && b.idle;
  }, { timeout: 120_000, message: 'the new chat read ahead' });
  const reads = (await count()).n;
  // Typed, then a pause: the draft is read ahead as if it were sent.
  await page.getByRole('textbox', { name: 'Message' }).pressSequentially(TEXT, { delay: 10 });
  await page.waitForFunction((n) => Number(document.body.dataset.warmReads) > n && document.body.dataset.warm === 'idle', reads, { timeout: 120_000 });
  const draftRead = Number(await page.locator('#model-warm').getAttribute('data-read'));
  assert.ok(draftRead > 0 && draftRead < 60, `the draft read only its own turn: ${draftRead} tokens`);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => document.body.dataset.generating === 'false'
    && document.querySelectorAll('#messages > li.message').length === 3, null, { timeout: 240_000 });
  const [reused, prompt] = await reuse(page);
  assert.equal(reused, prompt - 1, `everything but the last token was read before Send: ${reused}/${prompt}`);
  const reply = await page.locator('#messages > li.message').last().locator('.text').getAttribute('data-source');
  if (coldReply !== null) assert.equal(reply, coldReply, 'a prompt read as it was typed gives the cold reply');
});
