// A chat that has outgrown its context: each reply leaves older turns out (and folds them
// into a summary), yet the turns it keeps are not read again. The summary's own prompt is
// read beside the chat's cache, not over it, and the reply keeps the cached turns after the
// summary (the engine's context shift). Real model, real Chromium, real IndexedDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshots } from './harness.mjs';
import { session } from './session.mjs';
import { waitForModel } from './chat-page.mjs';
import { readStores, importCards, seedChat, setContextSize } from './app-page.mjs';

const CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: { name: 'Mara', description: '{{char}} is a lighthouse keeper.', first_mes: 'Hello {{user}}.' },
};
const CHAT_ID = 'chat-shift';

const it = session();

// Greeting (id 1), then 40 messages: more than a 512-token context holds.
const TEXTS = ['Hello {{user}}.', ...Array.from({ length: 40 }, (_, i) => `We talked about the ships that passed the lighthouse, part ${i + 2}.`)];

const warmReads = (page) => page.evaluate(() => Number(document.body.dataset.warmReads) || 0);

// The engine worker's messages to the page, in order, by kind (a summary by the number of
// messages it covers): a summary written for a reply comes before that reply's "done"; one
// after it is the next read-ahead's.
function watchEngine(page) {
  return page.addInitScript(() => {
    window.__engineEvents = [];
    const Native = window.Worker;
    window.Worker = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (e) => window.__engineEvents.push(e.data?.type === 'summary'
          ? `summary of ${e.data.message_ids?.length}` : e.data?.type));
      }
    };
  });
}
const engineEvents = (page) => page.evaluate(() => window.__engineEvents.length);
const eventsSince = (page, n) => page.evaluate((from) => window.__engineEvents.slice(from), n);

// Sends `text`, waits for the reply, and returns its prompt figures and how many read-aheads
// had finished before Send.
async function send(page, text) {
  const reads = await warmReads(page);
  const mark = await engineEvents(page);
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  // The engine said the reply is done and the page has finished it (a short reply can come
  // and go between two polls of "generating").
  await page.waitForFunction((m) => window.__engineEvents.slice(m).includes('done')
    && document.body.dataset.generating === 'false', mark, { timeout: 480_000 });
  const last = page.locator('#messages > li.message').last();
  const [reused, prompt] = ((await last.getAttribute('data-reused')) || '').split('/').map(Number);
  const shifted = Number(await last.getAttribute('data-shifted'));
  const events = await eventsSince(page, mark);
  const summarised = events.slice(0, events.indexOf('done')).filter((e) => e.startsWith('summary'))
    .map((e) => Number(e.split(' ').pop()));
  return { reads, reused, prompt, shifted, text: await last.locator('.bubble').textContent(), summarised };
}

test('a chat past its context keeps its cached turns across the cut and the summary', { timeout: 900_000 }, async () => {
  const { page } = it.browser;
  await watchEngine(page);
  await page.goto(`${it.server.origin}/?max_tokens=8&seed=5`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await importCards(page, { name: 'mara.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
  await setContextSize(page, 512);
  const { characters } = await readStores(page, ['characters']);
  await seedChat(page, { chatId: CHAT_ID, characterId: characters.find((c) => c.card.name === 'Mara').id, title: 'Long talk', texts: TEXTS });
  await page.evaluate((id) => { location.hash = `#/chat/${id}`; }, CHAT_ID);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 60_000 });
  assert.equal((await waitForModel(page)).state, 'ready');

  // The first reply reads the chat (the summary of the cut history written by the warm-up,
  // or before the reply should Send come first).
  let turn = await send(page, 'Which ship did you like best?');
  assert.ok(turn.prompt > 300, `the prompt fills the context: ${turn.prompt}`);
  // Each later reply cuts more old messages. While the person types, the warm-up folds them
  // into the summary (its prompt read aside) and reads the chat's prompt, keeping the turns
  // after the summary where they are cached, moved into place; Send then reads little more.
  let shiftedInAll = 0;
  for (const text of ['Tell me about the storm.', 'And the winter after it?']) {
    await page.waitForFunction((n) => (Number(document.body.dataset.warmReads) || 0) > n, turn.reads, { timeout: 300_000 });
    const warm = page.locator('#model-warm');
    const [read, shifted] = [Number(await warm.getAttribute('data-read')), Number(await warm.getAttribute('data-shifted'))];
    const { summaries } = await memoryOf(page);
    turn = await send(page, text);
    console.log(`read-ahead: read ${read}, kept ${shifted} past the cut; reply: ${turn.reused}/${turn.prompt} cached, ${turn.shifted} of them kept past the cut; summaries before it ${summaries.length}`);
    assert.ok(read < turn.prompt / 2, `the read-ahead did not read the chat again: ${read} of ${turn.prompt}`);
    assert.ok(summaries.length >= 2, 'the warm-up wrote a summary of the newly cut turns');
    // What the reply may still summarise is what its own message pushed out (a turn or two),
    // not the turns the read-ahead should have folded.
    assert.ok(turn.summarised.every((n) => n <= 2), `the reply summarised only what its message cut: ${turn.summarised}`);
    // The new message cuts one more old turn: the reply keeps the rest past it too, and reads
    // its message, the lines after it and the seam.
    assert.ok(turn.reused >= turn.prompt - 100, `only the new message's turn was read: ${turn.reused}/${turn.prompt}`);
    assert.ok(turn.text.trim().length > 0, 'a reply came');
    shiftedInAll += shifted + turn.shifted;
  }
  assert.ok(shiftedInAll > 300, `cached turns were kept past the cuts: ${shiftedInAll} tokens`);
  await screenshots(page, 'chat-context-shift');
});

async function memoryOf(page) {
  const { memories } = await readStores(page, ['memories']);
  return memories.find((m) => m.chatId === CHAT_ID) || { summaries: [] };
}
