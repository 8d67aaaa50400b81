// Ratings that teach: in the character editor, "Suggest from your ratings" proposes the
// character's four-star replies (a non-chosen swipe too), each with the message it
// answered, as example dialogues; three stars and fewer are not proposed. One added joins
// the example dialogues field and is saved with the card, and is in the prompt of the
// character's next reply; one left out goes. Question/answer
// pairs from a CSV file are offered the same way, and a broken file names its line. Real
// IndexedDB, the page's Rust tools, real Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshots } from './harness.mjs';
import { session } from './session.mjs';
import { readStores, importCards, seedChat, gotoLibrary } from './app-page.mjs';
import { waitForModel, openCharacter, sendAndWatch, lastPrompt } from './chat-page.mjs';

const card = (name) => ({ spec: 'chara_card_v3', spec_version: '3.0', data: { name, description: `${name} keeps the lighthouse.`, first_mes: 'Hello {{user}}.' } });

const it = session();

// Gives message `id` of chat `chatId` these swipes ([text, stars]), the first shown.
function rate(page, chatId, id, swipes) {
  return page.evaluate(({ chatId: chat, id: key, swipes: all }) => new Promise((resolve, reject) => {
    const req = indexedDB.open('kindred');
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction('messages', 'readwrite');
      const store = tx.objectStore('messages');
      const get = store.get(key);
      get.onsuccess = () => {
        const m = get.result;
        if (m?.chatId !== chat) return reject(new Error(`no message ${key} in ${chat}`));
        m.swipes = all.map(([text, rating]) => ({ text, status: 'done', rating, createdAt: Date.now() }));
        m.chosen = 0;
        store.put(m);
      };
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
    req.onerror = () => reject(req.error);
  }), { chatId, id, swipes });
}

async function openEditor(page, id) {
  await page.evaluate((key) => { location.hash = `#/edit/${key}`; }, id);
  await page.waitForFunction(() => document.body.dataset.view === 'editor');
}

test('four-star replies are proposed as example dialogues, added and saved with the card', { timeout: 300_000 }, async () => {
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await importCards(page, [
    { name: 'mara.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(card('Mara'))) },
    { name: 'rook.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(card('Rook'))) },
  ]);
  const { characters } = await readStores(page, ['characters']);
  const mara = characters.find((c) => c.card.name === 'Mara').id;
  const rook = characters.find((c) => c.card.name === 'Rook').id;
  await seedChat(page, {
    chatId: 'chat-rated', characterId: mara,
    texts: ['Hello {{user}}.', 'What is the lamp?', 'Dunno.', 'And the storm?', 'We ride it out.'],
  });
  await rate(page, 'chat-rated', 3, [['Dunno.', 2], ['A lens, polished daily.', 4]]);
  await rate(page, 'chat-rated', 5, [['We ride it out.', 3]]);

  await openEditor(page, mara);
  await page.getByRole('button', { name: 'Suggest from your ratings' }).click();
  const list = page.getByRole('list', { name: 'Suggested example dialogues' });
  await list.locator('li').first().waitFor();
  assert.equal(await list.locator('li').count(), 1, 'only the four-star reply');
  const block = '<START>\n{{user}}: What is the lamp?\n{{char}}: A lens, polished daily.';
  assert.equal(await list.locator('.ed-suggest-text').textContent(), block);
  assert.match(await list.locator('li .ed-hint').textContent(), /^★★★★ · from a chat, message 3 · about \d+ tokens$/);
  await list.locator('li').scrollIntoViewIfNeeded();
  await screenshots(page, 'editor-suggestions');
  await list.getByRole('button', { name: 'Add to example dialogues' }).click();
  assert.equal(await list.locator('li').count(), 0, 'taken off the list once added');
  assert.equal(await page.getByLabel('Example dialogues', { exact: true }).inputValue(), block);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForFunction(() => document.body.dataset.view === 'character');
  const saved = (await readStores(page, ['characters'])).characters.find((c) => c.id === mara);
  assert.equal(saved.card.mes_example, block, 'saved with the card');

  // Accepted, it is in the prompt of the character's next reply (its chat shows the other swipe).
  assert.equal((await waitForModel(page)).state, 'ready');
  await gotoLibrary(page);
  await openCharacter(page, 'Mara');
  await sendAndWatch(page, 'Tell me about the lamp.');
  const prompt = await lastPrompt(page);
  assert.ok(prompt.text.includes('A lens, polished daily.'), `the example is in the prompt: ${prompt.text}`);

  // A character with no rated reply gets none, and says why.
  await openEditor(page, rook);
  await page.getByRole('button', { name: 'Suggest from your ratings' }).click();
  await page.waitForFunction(() => /No reply of this character is rated four stars yet/.test(document.querySelector('.ed-suggest .ed-hint').textContent));
  assert.equal(await page.getByRole('list', { name: 'Suggested example dialogues' }).locator('li').count(), 0);
});

test('question/answer pairs from a CSV file are shown to add, and a broken file names its line', { timeout: 300_000 }, async () => {
  const { page } = it.browser;
  const { characters } = await readStores(page, ['characters']);
  const rook = characters.find((c) => c.card.name === 'Rook').id;
  await openEditor(page, rook);
  const pick = page.getByLabel('Import question/answer pairs');
  const csv = 'question,answer\nWhat is a fork?,"One piece attacking two, at once."\nYour best opening?,The Italian.\n';
  await pick.setInputFiles({ name: 'faq.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const list = page.getByRole('list', { name: 'Suggested example dialogues' });
  await list.locator('li').nth(1).waitFor();
  assert.match(await page.locator('.ed-suggest > .ed-hint').textContent(), /^2 pairs from faq\.csv/);
  assert.match(await list.locator('li .ed-hint').first().textContent(), /^row 1 of the file · about \d+ tokens$/);
  await list.locator('li').nth(1).getByRole('button', { name: 'Add to example dialogues' }).click();
  assert.equal(await page.getByLabel('Example dialogues', { exact: true }).inputValue(),
    '<START>\n{{user}}: Your best opening?\n{{char}}: The Italian.');
  await screenshots(page, 'editor-import-pairs');

  await pick.setInputFiles({ name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from('question,answer\nA?,B.\n"C?,D.\n') });
  await page.waitForFunction(() => /was not imported/.test(document.querySelector('.ed-suggest > .ed-hint').textContent));
  assert.equal(await page.locator('.ed-suggest > .ed-hint').textContent(), 'broken.csv was not imported: line 3: a quoted field is never closed');
  assert.equal(await list.locator('li').count(), 0);
});
