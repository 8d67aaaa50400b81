// A real backup of the December 2026 data format (exported by chat-tools.test.mjs: a persona,
// settings, an imported character, a chat with swipes, ratings, an edit, a branch and a pinned
// memory) imported into a fresh app: every chat, message, swipe, rating, memory and setting in
// it is there and the chats open with their messages. The fixture is frozen: when the records
// change shape, this says whether chats from today still come through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './harness.mjs';
import { session } from './session.mjs';
import { messages } from './chat-page.mjs';
import { readStores } from './app-page.mjs';

const FIXTURE = join(REPO, 'tests', 'browser', 'fixtures', 'backup-2026-12.json');

const it = session();

const swipeTexts = (m) => m.swipes.map((s) => s.text);

test('a backup from December 2026 imports without loss and its chats open', { timeout: 180_000 }, async () => {
  const { page } = it.browser;
  const bytes = await readFile(FIXTURE);
  const backup = JSON.parse(bytes);
  assert.ok(backup.chats.length > 0 && backup.messages.length > 0 && backup.memories.length > 0, 'the fixture holds chats, messages and memories');

  await page.goto(`${it.server.origin}/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.locator('#import-all').setInputFiles({ name: 'backup-2026-12.json', mimeType: 'application/json', buffer: bytes });
  await page.waitForFunction(() => /^Imported /.test(document.getElementById('data-status').textContent), null, { timeout: 60_000 });

  const stored = await readStores(page, ['characters', 'chats', 'messages', 'settings', 'memories']);
  for (const c of backup.characters.filter((x) => x.origin === 'imported')) {
    const got = stored.characters.find((x) => x.id === c.id);
    assert.ok(got, `character ${c.card.name} is back`);
    assert.equal(got.card.name, c.card.name);
    assert.equal(got.card.description, c.card.description);
  }
  for (const chat of backup.chats) {
    const got = stored.chats.find((x) => x.id === chat.id);
    assert.ok(got, `chat ${chat.title} is back`);
    assert.deepEqual([got.characterId, got.title, got.parent ?? null, got.loreState ?? null], [chat.characterId, chat.title, chat.parent ?? null, chat.loreState ?? null]);
  }
  assert.equal(stored.messages.length, backup.messages.length, 'every message');
  for (const m of backup.messages) {
    const got = stored.messages.find((x) => x.id === m.id);
    assert.ok(got, `message ${m.id}`);
    assert.deepEqual([got.chatId, got.role, got.chosen, swipeTexts(got)], [m.chatId, m.role, m.chosen, swipeTexts(m)], `message ${m.id}`);
    assert.deepEqual(got.swipes.map((s) => s.rating ?? null), m.swipes.map((s) => s.rating ?? null), `message ${m.id}'s ratings`);
  }
  for (const mem of backup.memories) {
    const got = stored.memories.find((x) => x.chatId === mem.chatId);
    assert.deepEqual(got?.pinned.map((p) => p.text), mem.pinned.map((p) => p.text), `the memories of ${mem.chatId}`);
  }
  const prefs = (rows) => rows.find((r) => r.key === 'prefs')?.value;
  assert.deepEqual(prefs(stored.settings).personas, prefs(backup.settings).personas, 'the personas');
  assert.equal(prefs(stored.settings).context, prefs(backup.settings).context);
  assert.equal(await page.getByLabel('Name').inputValue(), prefs(backup.settings).personas.find((p) => p.id === prefs(backup.settings).defaultPersona).name);

  // Each chat opens with its messages, the chosen swipe shown.
  for (const chat of backup.chats) {
    // From one chat to another the page stays "chat ready": marked not ready here, it says
    // ready again once the new chat is open.
    await page.evaluate((id) => {
      document.body.dataset.chatReady = 'false';
      location.hash = `#/chat/${encodeURIComponent(id)}`;
    }, chat.id);
    await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 60_000 });
    const want = backup.messages.filter((m) => m.chatId === chat.id).sort((a, b) => a.pos - b.pos);
    const shown = await messages(page);
    assert.equal(shown.length, want.length, `${chat.title}: every message shown`);
    assert.deepEqual(shown.map((m) => m.role), want.map((m) => m.role));
    want.forEach((m, i) => {
      const text = m.swipes[m.chosen].text;
      // Names in braces are put in when shown; the rest is shown as stored.
      if (!text.includes('{{')) assert.equal(shown[i].text, text, `${chat.title}: message ${i + 1}`);
    });
  }
  assert.deepEqual(it.browser.pageErrors, []);
});
