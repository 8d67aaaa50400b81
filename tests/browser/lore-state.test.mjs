// A sticky lorebook entry keeps its place in the prompt for the turns after it fired, even
// after a reload: the chat keeps the activations its last reply's prompt left (loreState in
// the chat record) and sends them back with the next request. Real model, real Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshots } from './harness.mjs';
import { session } from './session.mjs';
import { waitForModel, replyAfter } from './chat-page.mjs';
import { readStores, importCards, seedChat } from './app-page.mjs';
import { STICKY_LORE_CARD as CARD } from './lore-card.mjs';

const CHAT_ID = 'chat-lore';

const it = session();

async function openChat(page) {
  await page.goto('about:blank');
  await page.goto(`${it.server.origin}/?max_tokens=8&seed=5`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await page.evaluate((id) => { location.hash = `#/chat/${id}`; }, CHAT_ID);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 60_000 });
  assert.equal((await waitForModel(page, 300_000)).state, 'ready');
}

// Sends `text` and returns the lorebook entries its reply's prompt held.
async function send(page, text) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await replyAfter(page, () => page.getByRole('button', { name: 'Send' }).click(), { timeout: 300_000 });
  return page.evaluate(() => document.body.dataset.lore);
}

test('a sticky lorebook entry stays for its turns, across a reload', { timeout: 900_000 }, async () => {
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await importCards(page, { name: 'mara.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
  const { characters } = await readStores(page, ['characters']);
  await seedChat(page, { chatId: CHAT_ID, characterId: characters.find((c) => c.card.name === 'Mara').id, title: 'Lore', texts: ['Hello {{user}}.'] });
  await openChat(page);

  assert.equal(await send(page, 'Is that a zelkova tree by the door?'), 'Zelkova', 'the key fires the entry');
  const { chats } = await readStores(page, ['chats']);
  const stored = chats.find((c) => c.id === CHAT_ID)?.loreState;
  assert.ok(stored && Object.keys(stored.entries || {}).length === 1, `the chat keeps the activation: ${JSON.stringify(stored)}`);

  // A new document, a fresh worker: the activation comes from the chat record.
  await openChat(page);
  assert.equal(await send(page, 'Good night.'), 'Zelkova', 'still in the prompt one turn later (sticky)');
  await screenshots(page, 'chat-lore-sticky');
  assert.equal(await send(page, 'See you tomorrow.'), '', 'and gone once its sticky turns are over');
});
