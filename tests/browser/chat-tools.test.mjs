// The chat's message tools against the real model, on a small card so turns are quick:
// persona, context size, sampling, the script guard and theme from the settings page, the context-cut marker,
// swipes with a counter (a new reply is a new swipe, the arrows step between them), 1–4 stars,
// continue, edit, branch, delete with undo, token speed; then export everything, delete
// everything (the model too), import: the same data, a pinned memory included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel, messages, openCharacter, sendAndWatch } from './chat-page.mjs';
import { readStores, importCards, downloadFrom, gotoLibrary } from './app-page.mjs';

const CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: {
    name: 'Pip',
    description: '{{char}} is a cheerful robot who answers {{user}} in one short sentence.',
    first_mes: 'Beep! Hello {{user}}, I am **Pip**.',
    tags: ['robot'],
  },
};

const LONG = 'Tell me about the weather, the sea, the mountains, the forests, the rivers, the towns, the roads, '
  + 'the markets, the bakeries, the libraries, the gardens and the old lighthouse on the northern cliff. '
  + 'Then tell me about the ships in the harbour, their sails, their crews, their cargo and where they sail to.';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const { page } = browser;
  page.on('dialog', (d) => d.dismiss().catch(() => {}));
  await page.goto(`${server.origin}/?max_tokens=8&seed=21`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await importCards(page, { name: 'pip.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const item = (page, i) => page.locator('#messages > li.message').nth(i);

async function waitIdle(page) {
  await page.waitForFunction(() => document.body.dataset.generating === 'false', null, { timeout: 240_000 });
}

test('settings: persona, context size, sampling and theme are saved and applied', async () => {
  const { page } = browser;
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByLabel('Name').fill('Sam');
  await page.getByLabel('About you').fill('{{user}} is a sailor.');
  await page.getByLabel('Context size (tokens)').fill('256');
  await page.waitForFunction(() => document.getElementById('settings-form').dataset.samplingReady === 'true');
  // The ranges and defaults are the engine's.
  assert.deepEqual(await page.getByLabel('Temperature', { exact: true }).evaluate((i) => [i.min, i.max, i.value]), ['0', '2', '0.8']);
  assert.equal(await page.getByLabel('Longest reply (tokens)').inputValue(), '120');
  // Values other than the defaults (0.8 and 40), so reading back the defaults cannot pass.
  const temperature = page.getByLabel('Temperature', { exact: true });
  const topK = page.getByLabel('Top K', { exact: true });
  await temperature.fill('0.65');
  await topK.fill('32');
  const keepScripts = page.getByLabel("Keep replies in the chat's alphabets");
  assert.equal(await keepScripts.isChecked(), true, 'the script guard is on by default');
  await keepScripts.uncheck();
  await page.getByLabel('Dark').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForFunction(() => document.getElementById('settings-saved').textContent === 'Saved.');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  const prefs = async () => (await readStores(page, ['settings'])).settings.find((r) => r.key === 'prefs').value;
  const saved = await prefs();
  assert.equal(saved.sampling.temperature, 0.65);
  assert.equal(saved.sampling.top_k, 32);
  assert.equal(saved.keepScripts, false);
  assert.equal(await keepScripts.isChecked(), false, 'the form shows the guard off');
  assert.deepEqual([await temperature.inputValue(), await topK.inputValue()], ['0.65', '32'], 'the form shows what was saved');
  await screenshots(page, 'settings');
  await keepScripts.scrollIntoViewIfNeeded();
  await screenshots(page, 'settings-replies');
  await page.getByLabel('Light').check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  const { settings } = await readStores(page, ['settings']);
  assert.deepEqual(settings[0].value.persona, { name: 'Sam', description: '{{user}} is a sailor.' });
  assert.equal(settings[0].value.context, 256);
  // "System" leaves the colours to the browser: no data-theme attribute at all.
  await page.getByLabel('System', { exact: true }).check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await poll(async () => (await prefs()).theme === 'system', { timeout: 10_000, message: 'the System theme stored' });
  assert.equal(await page.evaluate(() => document.documentElement.hasAttribute('data-theme')), false);
  // The replies in the rest of this file run with the default sampling again.
  await temperature.fill('0.8');
  await topK.fill('40');
  await keepScripts.check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await poll(async () => (await prefs()).sampling.top_k === 40 && (await prefs()).keepScripts, { timeout: 10_000, message: 'the default sampling stored' });
});

test('a long chat in a small context shows where the model\'s memory ends', { timeout: 400_000 }, async () => {
  const { page } = browser;
  const loaded = await waitForModel(page, 300_000);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  await gotoLibrary(page);
  await openCharacter(page, 'Pip');
  const [greeting] = await messages(page);
  assert.equal(greeting.text, 'Beep! Hello Sam, I am **Pip**.', 'names come from the persona');
  assert.equal(await item(page, 0).locator('.text strong').textContent(), 'Pip', 'Markdown is rendered');
  for (let i = 0; i < 3; i++) await sendAndWatch(page, `${i}: ${LONG}`);
  const marker = page.locator('#messages > li.cut-marker');
  assert.equal(await marker.count(), 1, 'the cut marker shows');
  assert.match(await marker.textContent(), /no longer fit in Pip's memory/);
  // The marker follows the last message left out, which is older than the latest turn.
  const before = await marker.evaluate((m) => [...m.parentElement.children].indexOf(m));
  assert.ok(before >= 2 && before < 6, `marker position ${before}`);
  const stats = await item(page, 6).locator('.stats').textContent();
  assert.match(stats, /^\d+ tokens · \d+\.\d tokens\/s · first token \d+\.\d s$/, 'token speed and the wait for the first token are shown');
  await screenshots(page, 'chat');
});

test('swipe, rate and continue', { timeout: 400_000 }, async () => {
  const { page } = browser;
  const last = () => item(page, 6);
  const first = (await messages(page))[6].text;
  await last().getByRole('button', { name: 'New reply' }).click();
  await waitIdle(page);
  assert.equal(await last().locator('.swipe-count').textContent(), '2/2');
  const second = (await messages(page))[6].text;
  assert.ok(second.length > 0);
  await last().getByRole('button', { name: 'Rate 3 stars' }).click();
  assert.equal(await last().getByRole('button', { name: 'Rate 3 stars' }).getAttribute('aria-pressed'), 'true');
  await last().getByRole('button', { name: 'Previous reply' }).click();
  assert.equal(await last().locator('.swipe-count').textContent(), '1/2');
  assert.equal((await messages(page))[6].text, first);
  assert.equal(await last().locator('.star.on').count(), 0, 'ratings belong to a swipe');
  await last().getByRole('button', { name: 'Rate 1 star' }).click();
  await last().getByRole('button', { name: 'Continue this reply' }).click();
  await waitIdle(page);
  const continued = (await messages(page))[6].text;
  assert.ok(continued.startsWith(first) && continued.length > first.length, `continued: ${JSON.stringify(continued)}`);
  // The page saves the reply just after it says it is done.
  const lastReply = async () => {
    const { messages: stored } = await readStores(page, ['messages']);
    return stored.filter((m) => m.role === 'assistant').sort((a, b) => a.pos - b.pos).pop();
  };
  await poll(async () => (await lastReply()).swipes[0].text === continued, { timeout: 10_000, message: 'the continued reply saved' });
  const record = await lastReply();
  assert.deepEqual(record.swipes.map((s) => s.rating), [1, 3]);
  assert.equal(record.swipes[0].text, continued);
  assert.equal(record.chosen, 0);
});

test('after a regenerate the swipe arrows step between the replies; a reply has four stars', { timeout: 400_000 }, async () => {
  const { page } = browser;
  const last = () => item(page, 6);
  const count = () => last().locator('.swipe-count').textContent();
  const [, total] = (await count()).split('/').map(Number);
  await last().getByRole('button', { name: 'Previous reply' }).waitFor();
  // Move to the newest swipe first (the arrow is "Next reply" until the last, then "New reply").
  while ((await count()) !== `${total}/${total}`) await last().getByRole('button', { name: 'Next reply' }).click();
  await last().getByRole('button', { name: 'New reply' }).click();
  await waitIdle(page);
  const n = total + 1;
  assert.equal(await count(), `${n}/${n}`, 'the regenerated reply is a new, shown swipe');
  const newest = (await messages(page))[6].text;
  await last().getByRole('button', { name: 'Previous reply' }).click();
  assert.equal(await count(), `${n - 1}/${n}`);
  const { messages: stored } = await readStores(page, ['messages']);
  const record = stored.filter((m) => m.role === 'assistant').sort((a, b) => a.pos - b.pos).pop();
  assert.equal((await messages(page))[6].text, record.swipes[n - 2].text, 'the previous swipe\'s text shows');
  assert.equal(await last().getByRole('button', { name: 'New reply' }).count(), 0, 'not at the end: the arrow only moves');
  await last().getByRole('button', { name: 'Next reply' }).click();
  assert.equal(await count(), `${n}/${n}`);
  assert.equal((await messages(page))[6].text, newest);
  const stars = last().getByRole('group', { name: 'Rating' }).getByRole('button');
  assert.deepEqual(await stars.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label'))),
    ['Rate 1 star', 'Rate 2 stars', 'Rate 3 stars', 'Rate 4 stars']);
  for (const name of ['Rate 1 star', 'Rate 2 stars', 'Rate 3 stars', 'Rate 4 stars']) {
    assert.equal(await last().getByRole('button', { name, exact: true }).count(), 1, `one "${name}" button`);
  }
  assert.equal(await last().getByRole('button', { name: /^Rate \d stars?$/ }).count(), 4, 'exactly four stars');
  assert.equal(await item(page, 0).getByRole('button', { name: /^Rate / }).count(), 0, 'the greeting is not rated');
});

test('edit, branch and delete', { timeout: 120_000 }, async () => {
  const { page } = browser;
  await item(page, 1).getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('textbox', { name: 'Edit the text' }).fill('An *edited* question.');
  await page.getByRole('button', { name: 'Save' }).click();
  assert.equal((await messages(page))[1].text, 'An *edited* question.');
  assert.equal(await item(page, 1).locator('.text em').textContent(), 'edited');

  const chatUrl = page.url();
  const all = await messages(page);
  await item(page, 2).getByRole('button', { name: 'Branch from here' }).click();
  await page.waitForFunction((url) => location.href !== url && document.body.dataset.chatReady === 'true', chatUrl);
  await page.waitForFunction(() => document.querySelectorAll('#messages > li.message').length === 3);
  assert.deepEqual(await messages(page), all.slice(0, 3), 'the branch shares the history up to that message');

  await page.goto(chatUrl);
  await page.waitForFunction((n) => document.querySelectorAll('#messages > li.message').length === n, all.length);
  await item(page, 4).getByRole('button', { name: 'Delete' }).click();
  assert.equal((await messages(page)).length, all.length - 1);
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('#messages > li.message').length === n, all.length);
  assert.deepEqual(await messages(page), all, 'undo puts it back in place');
  await item(page, 4).getByRole('button', { name: 'Delete' }).click();
  // The Undo offer appears once the deletion is committed to IndexedDB.
  await page.getByRole('button', { name: 'Undo' }).waitFor({ state: 'visible' });
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  const left = await messages(page);
  assert.deepEqual(left, [...all.slice(0, 4), ...all.slice(5)], 'the deletion is stored');
  const { chats } = await readStores(page, ['chats']);
  assert.equal(chats.filter((c) => c.parent).length, 1, 'the branch is its own chat, linked to its parent');
});

test('export everything, delete everything (the model too), import: the same data', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const STORES = ['characters', 'chats', 'messages', 'settings', 'memories', 'models', 'model-chunks'];
  // A memory to carry: pin a message of the open chat through its own button.
  const chatId = await page.evaluate(() => decodeURIComponent(location.hash.split('/').pop()));
  const pinnedText = (await messages(page))[1].text;
  await item(page, 1).getByRole('button', { name: 'Pin to memory' }).click();
  const pinned = async () => (await readStores(page, ['memories'])).memories.find((m) => m.chatId === chatId);
  await poll(async () => (await pinned())?.pinned.length > 0, { timeout: 10_000, message: 'the pinned memory stored' });
  assert.deepEqual((await pinned()).pinned.map((p) => p.text), [pinnedText]);
  const before = await readStores(page, STORES);
  assert.ok(before.models.length === 1 && before['model-chunks'].length > 0, 'the model is stored');
  await page.getByRole('link', { name: 'All characters' }).click();
  await page.getByRole('link', { name: 'Settings' }).click();
  const file = await downloadFrom(page, page.getByRole('button', { name: 'Export everything' }));
  assert.match(file.name, /^kindred-backup-\d{4}-\d\d-\d\d\.json$/);
  const backup = JSON.parse(file.bytes);
  // Kept as an artifact: a real backup of today's format (tests/browser/fixtures/ holds one).
  await writeFile(join(REPO, 'tests', 'output', 'backup-export.json'), file.bytes);
  assert.equal(backup.format, 'kindred-backup');
  assert.equal(backup.messages.length, before.messages.length);
  assert.equal(backup.memories.length, before.memories.length);
  assert.ok(backup.memories.some((m) => m.chatId === chatId && m.pinned.length > 0), 'the pinned memory is in the file');

  await page.getByRole('button', { name: 'Delete everything' }).click();
  assert.match(await page.locator('#data-status').textContent(), /Type DELETE/);
  await page.getByLabel('Also delete the downloaded model').check();
  await page.getByLabel('Type DELETE to confirm').fill('DELETE');
  await page.getByRole('button', { name: 'Delete everything' }).click();
  await page.waitForFunction(() => /^Everything was deleted/.test(document.getElementById('data-status').textContent));
  const empty = await readStores(page, STORES);
  assert.deepEqual([empty.chats, empty.messages, empty.settings, empty.memories, empty.models, empty['model-chunks']], [[], [], [], [], [], []]);
  assert.ok(!empty.characters.some((c) => c.origin === 'imported'), 'imported characters are gone');

  await page.locator('#import-all').setInputFiles({ name: file.name, mimeType: 'application/json', buffer: file.bytes });
  await page.waitForFunction(() => /^Imported /.test(document.getElementById('data-status').textContent));
  const after = await readStores(page, STORES);
  for (const store of ['characters', 'chats', 'messages', 'settings', 'memories']) {
    // Memories are keyed by their chat.
    const key = (r) => String(r.id ?? r.key ?? r.chatId);
    const sort = (rows) => [...rows].sort((a, b) => key(a).localeCompare(key(b)));
    assert.deepEqual(sort(after[store]), sort(before[store]), `${store} are back as they were`);
  }
  assert.equal(await page.getByLabel('Name').inputValue(), 'Sam', 'the settings page shows the restored persona');
});

test('every request stayed on the page\'s origin', () => {
  const foreign = browser.requests.filter((url) => new URL(url).origin !== server.origin);
  assert.deepEqual(foreign, []);
  assert.deepEqual(browser.pageErrors, []);
});
