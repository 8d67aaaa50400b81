// Personas in the page: two personas made in Settings (the first one's "Name" is the
// default persona's), a chat switched to the second one while another chat keeps the default;
// the greeting and the prompt request name the chat's persona; the choice survives a reload
// and an export, delete everything, import.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots } from './harness.mjs';
import { waitForModel, messages, openCharacter, sendAndWatch, lastPrompt } from './chat-page.mjs';
import { readStores, importCards, downloadFrom, gotoLibrary } from './app-page.mjs';

const CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: { name: 'Wren', description: '{{char}} is a friendly innkeeper who greets {{user}} in one sentence.', first_mes: 'Welcome, {{user}}!' },
};

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const { page } = browser;
  // What the page asks the engine worker for: the persona of every prompt request.
  await page.addInitScript(() => {
    window.__personas = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function watched(msg, ...rest) {
      if (msg && msg.type === 'generate') window.__personas.push(msg.request.persona);
      return post.call(this, msg, ...rest);
    };
  });
  await page.goto(`${server.origin}/?max_tokens=6&seed=3`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await importCards(page, { name: 'wren.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const greeting = async (page) => (await messages(page))[0].text;
const speakingAs = (page) => page.getByRole('combobox', { name: 'Speaking as' });
let firstChat;

async function prefsRecord(page) {
  const { settings } = await readStores(page, ['settings']);
  return settings.find((s) => s.key === 'prefs').value;
}

test('two personas are made in Settings; Name stays the default one\'s', async () => {
  const { page } = browser;
  await page.getByRole('link', { name: 'Settings' }).click();
  assert.equal(await page.getByLabel('Name').count(), 1, 'one control is labelled Name');
  await page.getByLabel('Name').fill('Ann');
  await page.getByRole('button', { name: 'New persona' }).click();
  await page.getByLabel('Name').fill('Bo');
  await page.getByLabel('About you').fill('{{user}} is a travelling pirate.');
  assert.equal(await page.getByLabel('Default for chats').isChecked(), false, 'a new persona is not the default');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForFunction(() => document.getElementById('settings-saved').textContent === 'Saved.');
  const persona = page.getByRole('combobox', { name: 'Persona' });
  assert.deepEqual(await persona.locator('option').allTextContents(), ['Ann (default)', 'Bo']);
  assert.equal(await page.getByLabel('Name').inputValue(), 'Ann', 'Settings opens on the default persona');
  // The settings view is its own scroller.
  await page.evaluate(() => { const view = document.getElementById('view-settings'); view.scrollTop = document.querySelector('#persona-pick').closest('fieldset').offsetTop - view.offsetTop; });
  await screenshots(page, 'personas-settings');
  const prefs = await prefsRecord(page);
  assert.deepEqual(prefs.personas.map((p) => p.name), ['Ann', 'Bo']);
  assert.equal(prefs.defaultPersona, prefs.personas[0].id);
  assert.deepEqual(prefs.persona, { name: 'Ann', description: '' }, 'the single persona of old stays readable');

  // A third one, deleted again: deleting works and the default stays.
  await page.getByRole('button', { name: 'New persona' }).click();
  await page.getByLabel('Name').fill('Cy');
  await page.getByLabel('Default for chats').check();
  await page.getByRole('button', { name: 'Delete persona' }).click();
  assert.deepEqual(await persona.locator('option').allTextContents(), ['Ann (default)', 'Bo']);
});

test('a chat speaks as the persona chosen for it; the greeting and the prompt use its name', { timeout: 400_000 }, async () => {
  const { page } = browser;
  const loaded = await waitForModel(page, 300_000);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  await gotoLibrary(page);
  await openCharacter(page, 'Wren');
  firstChat = page.url();
  assert.equal(await greeting(page), 'Welcome, Ann!');
  assert.equal(await speakingAs(page).inputValue(), (await prefsRecord(page)).personas[0].id);
  await speakingAs(page).selectOption({ label: 'Bo' });
  await page.waitForFunction(() => document.querySelector('#messages .text').dataset.source === 'Welcome, Bo!');
  await sendAndWatch(page, 'A room for the night, please.');
  const sent = await page.evaluate(() => window.__personas.at(-1));
  assert.deepEqual(sent, { name: 'Bo', description: '{{user}} is a travelling pirate.' });
  // The prompt the model read has the persona's description, its name filled in.
  const prompt = await lastPrompt(page, 'memory-prompt');
  assert.ok(prompt.text.includes('Bo is a travelling pirate.'), `the persona is in the prompt: ${prompt.text}`);
  assert.ok(prompt.text.includes('A room for the night, please.'));
  assert.ok(!/\bAnn\b/.test(prompt.text), 'the default persona is not');
  assert.match(prompt.summary, /^What the model read: \d+ tokens$/);
  await screenshots(page, 'personas-chat');

  // Another chat with Wren keeps the default.
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.waitForFunction((url) => location.href !== url && document.body.dataset.chatReady === 'true', firstChat);
  await page.waitForFunction(() => document.querySelectorAll('#messages > li.message').length === 1);
  assert.equal(await greeting(page), 'Welcome, Ann!');
  await sendAndWatch(page, 'Hello.');
  assert.equal((await page.evaluate(() => window.__personas.at(-1))).name, 'Ann');
  assert.ok(!(await lastPrompt(page)).text.includes('travelling pirate'), 'the other chat\'s persona is not in this one\'s prompt');
  const { chats } = await readStores(page, ['chats']);
  const bo = (await prefsRecord(page)).personas[1].id;
  assert.deepEqual(chats.map((c) => c.personaId ?? null).sort(), [bo, null].sort());
});

async function expectFirstChatAsBo(page) {
  await page.goto(firstChat);
  // Only the address's hash may change, and the other chat was ready already: wait for this
  // chat's own message, then read its greeting.
  const shown = await page.waitForFunction(() => {
    const items = document.querySelectorAll('#messages > li.message');
    const said = items[1]?.querySelector('.text').dataset.source;
    return said === 'A room for the night, please.' && items[0].querySelector('.text').dataset.source;
  }, null, { timeout: 60_000 });
  assert.equal(await shown.jsonValue(), 'Welcome, Bo!');
  assert.equal(await speakingAs(page).locator('option:checked').textContent(), 'Bo');
}

test('the choice survives a reload', async () => {
  const { page } = browser;
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await expectFirstChatAsBo(page);
});

test('personas and the chat\'s choice survive export, delete everything and import', { timeout: 120_000 }, async () => {
  const { page } = browser;
  await page.evaluate(() => { location.hash = '#/settings'; });
  await page.waitForFunction(() => document.body.dataset.view === 'settings');
  const file = await downloadFrom(page, page.getByRole('button', { name: 'Export everything' }));
  const backup = JSON.parse(file.bytes);
  assert.deepEqual(backup.settings.find((s) => s.key === 'prefs').value.personas.map((p) => p.name), ['Ann', 'Bo']);
  await page.getByLabel('Type DELETE to confirm').fill('DELETE');
  await page.getByRole('button', { name: 'Delete everything' }).click();
  await page.waitForFunction(() => document.getElementById('data-status').textContent === 'Everything was deleted.');
  assert.equal(await page.getByLabel('Name').inputValue(), 'User');
  assert.deepEqual(await page.getByRole('combobox', { name: 'Persona' }).locator('option').allTextContents(), ['User (default)']);
  await page.locator('#import-all').setInputFiles({ name: file.name, mimeType: 'application/json', buffer: file.bytes });
  await page.waitForFunction(() => /^Imported /.test(document.getElementById('data-status').textContent));
  assert.equal(await page.getByLabel('Name').inputValue(), 'Ann');
  await expectFirstChatAsBo(page);
});
