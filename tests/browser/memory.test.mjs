// The memory panel against the real model, in a small context so history leaves the prompt:
// a fact pinned from an early message shows in the panel and goes into the prompt of the
// next reply (the worker reports the memories it put in); a pinned memory is edited and
// deleted; a summary of the dropped history is written before the reply and rolled back
// when a message it covers is deleted; memories travel in the backup file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshots, poll } from './harness.mjs';
import { session } from './session.mjs';
import { waitForModel, openCharacter, replyAfter } from './chat-page.mjs';
import { readStores, importCards, downloadFrom, seedChat, setContextSize } from './app-page.mjs';

const CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: { name: 'Mara', description: '{{char}} is a lighthouse keeper.', first_mes: 'Hello {{user}}.' },
};
const FACT = 'My sister Zelinda keeps bees on the roof of the lighthouse.';
const EDITED = 'Zelinda keeps forty bees on the lighthouse roof.';
const CHAT_ID = 'chat-memory';

const it = session();

// Greeting (id 1), then 40 messages; message 3 holds the fact.
const TEXTS = Array.from({ length: 41 }, (_, k) => {
  const i = k + 1;
  return i === 1 ? 'Hello {{user}}.' : i === 3 ? FACT : `We talked about the weather for a while, part ${i}.`;
});

async function memoryRecord(page) {
  const { memories } = await readStores(page, ['memories']);
  return memories.find((m) => m.chatId === CHAT_ID);
}

const panel = (page) => page.getByRole('complementary', { name: 'Memory' });
const pinnedItems = (page) => panel(page).locator('#memory-pinned > li.memory-item');

test('pin from a message, edit it, and the next reply gets it with a summary of the dropped history', { timeout: 600_000 }, async () => {
  const { page } = it.browser;
  page.on('dialog', (d) => d.dismiss().catch(() => {}));
  await page.goto(`${it.server.origin}/?max_tokens=8&seed=11`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await importCards(page, { name: 'mara.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
  await setContextSize(page, 256);
  const { characters } = await readStores(page, ['characters']);
  const mara = characters.find((c) => c.card.name === 'Mara');
  await seedChat(page, { chatId: CHAT_ID, characterId: mara.id, title: 'Memories', texts: TEXTS });
  await page.evaluate((id) => { location.hash = `#/chat/${id}`; }, CHAT_ID);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 60_000 });
  assert.equal((await waitForModel(page)).state, 'ready');

  // Pin the early message; the panel lists it.
  await page.locator('#messages > li.message[data-id="3"]').getByRole('button', { name: 'Pin to memory' }).click();
  const toggle = page.getByRole('button', { name: 'Memory', exact: true });
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await pinnedItems(page).first().waitFor();
  assert.deepEqual(await pinnedItems(page).locator('.memory-text').allTextContents(), [FACT]);
  let mem = await memoryRecord(page);
  assert.deepEqual(mem.pinned.map((p) => [p.text, p.sourceId]), [[FACT, '3']]);

  // Edit it in the panel. The chat's memory changing meanwhile (another message pinned here,
  // as a summary written in the background does at any moment) leaves the edit as it is.
  await pinnedItems(page).first().getByRole('button', { name: 'Edit memory' }).click();
  const box = panel(page).getByRole('textbox', { name: 'Memory text' });
  await box.fill(EDITED);
  await page.locator('#messages > li.message[data-id="5"]').getByRole('button', { name: 'Pin to memory' }).click();
  await poll(async () => (await pinnedItems(page).count()) === 2, { message: 'a second pin listed' });
  assert.equal(await box.inputValue(), EDITED, 'the edit box kept what was typed');
  await panel(page).getByRole('button', { name: 'Save memory' }).click();
  await page.waitForFunction((t) => document.querySelector('#memory-pinned .memory-text')?.textContent === t, EDITED);
  await pinnedItems(page).nth(1).getByRole('button', { name: 'Delete memory' }).click();
  await poll(async () => (await pinnedItems(page).count()) === 1, { message: 'the second pin deleted' });
  mem = await memoryRecord(page);
  assert.deepEqual(mem.pinned.map((p) => p.text), [EDITED]);

  // The next reply: history is cut, so a summary is written first, and the prompt holds the
  // pinned fact (and recalls the early message the question is about).
  await page.getByRole('textbox', { name: 'Message' }).fill('What does Zelinda keep on the roof?');
  const reads = await page.evaluate(() => Number(document.body.dataset.warmReads) || 0);
  await replyAfter(page, () => page.getByRole('button', { name: 'Send' }).click(), { timeout: 480_000 });
  // After the reply the chat is read ahead again, and may fold more turns into the summary:
  // the record is read once that is over.
  await page.waitForFunction((n) => Number(document.body.dataset.warmReads) > n && document.body.dataset.warm === 'idle',
    reads, { timeout: 120_000 });
  mem = await memoryRecord(page);
  const used = mem.lastUsed?.items || [];
  assert.ok(used.some((u) => u.kind === 'pinned' && u.text === EDITED), `the pinned fact went in: ${JSON.stringify(used)}`);
  assert.ok(used.some((u) => u.kind === 'message' && u.id === '3' && u.text.includes('Zelinda keeps bees')),
    `the early message was recalled: ${JSON.stringify(used)}`);
  assert.ok(mem.summaries.length >= 1, 'a summary of the dropped history was stored');
  const summary = mem.summaries[0];
  assert.ok(summary.text.trim().length > 0);
  assert.equal(summary.fromId, '2', 'it starts with the oldest message after the greeting');
  assert.ok(summary.messageIds.length >= 1 && summary.messageIds.includes(summary.toId));
  const chat = (await readStores(page, ['chats'])).chats.find((c) => c.id === CHAT_ID);
  assert.ok(Number(chat.cutUntil) >= Number(summary.toId), 'the summary covers only history that left the prompt');

  // The panel shows all three parts.
  await page.waitForFunction(() => document.querySelectorAll('#memory-summaries > li.memory-item').length > 0);
  const range = await panel(page).locator('#memory-summaries > li.memory-item .memory-kind').first().textContent();
  assert.match(range, /^Messages? 2(–\d+)?$/);
  const usedKinds = await panel(page).locator('#memory-used > li.memory-item').evaluateAll((els) => els.map((e) => e.dataset.kind));
  assert.ok(usedKinds.includes('pinned') && usedKinds.includes('message'), usedKinds.join(','));
  assert.ok(await panel(page).getByText(EDITED).first().isVisible());
  await screenshots(page, 'memory-panel');

  // Memories travel in the backup file.
  await toggle.click();
  await page.getByRole('link', { name: 'All characters' }).click();
  await page.getByRole('link', { name: 'Settings' }).click();
  const file = await downloadFrom(page, page.getByRole('button', { name: 'Export everything' }));
  const backup = JSON.parse(file.bytes);
  const saved = backup.memories.find((m) => m.chatId === CHAT_ID);
  assert.deepEqual(saved.pinned.map((p) => p.text), [EDITED]);
  // Read-aheads may fold more turns in meanwhile (summaries are only added here): the backup
  // holds every summary stored before it, each as stored.
  const span = (s) => `${s.fromId}-${s.toId}: ${s.text}`;
  const storedNow = (await memoryRecord(page)).summaries.map(span);
  assert.ok(saved.summaries.length >= mem.summaries.length, `${saved.summaries.length} of ${mem.summaries.length}`);
  for (const s of saved.summaries) assert.ok(storedNow.includes(span(s)), `exported as stored: ${span(s)}`);
  await page.evaluate((id) => { location.hash = `#/chat/${id}`; }, CHAT_ID);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
});

test('deleting a covered message rolls the summary back; a pinned memory is deleted', { timeout: 120_000 }, async () => {
  const { page } = it.browser;
  let mem = await memoryRecord(page);
  const covered = mem.summaries[0].messageIds[0];
  await page.locator(`#messages > li.message[data-id="${covered}"]`).getByRole('button', { name: 'Delete', exact: true }).click();
  const deadline = Date.now() + 10_000;
  while ((await memoryRecord(page)).summaries.length && Date.now() < deadline) await page.waitForTimeout(100);
  mem = await memoryRecord(page);
  assert.deepEqual(mem.summaries, [], 'the summary that covered it is gone');

  const toggle = page.getByRole('button', { name: 'Memory', exact: true });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  assert.match(await panel(page).locator('#memory-summaries').textContent(), /No summaries yet/);
  await pinnedItems(page).first().getByRole('button', { name: 'Delete memory' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#memory-pinned > li.memory-item').length === 0);
  mem = await memoryRecord(page);
  assert.deepEqual(mem.pinned, []);

  // A fact added by hand, from the keyboard.
  await panel(page).getByRole('textbox', { name: 'New memory' }).fill('The lamp is blue.');
  await panel(page).getByRole('button', { name: 'Add memory' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#memory-pinned .memory-text')?.textContent === 'The lamp is blue.');
  assert.deepEqual((await memoryRecord(page)).pinned.map((p) => [p.text, p.sourceId]), [['The lamp is blue.', null]]);
  await page.keyboard.press('Escape');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.deepEqual(it.browser.pageErrors, []);
});
