// The library with real cards: a SillyTavern PNG imported, chatted with, exported as PNG,
// JSON (V2, V3) and CHARX and imported again unchanged; search and tag filter; a World Info
// lorebook attached; nothing requested from another origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots } from './harness.mjs';
import { waitForModel, sendAndWatch, openCharacter, firstStarter } from './chat-page.mjs';
import { fixture, characters, importCards, downloadFrom, openDetails, gotoLibrary } from './app-page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  await browser.page.goto(`${server.origin}/?max_tokens=8&seed=5`);
  await browser.page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const seraphina = () => characters(browser.page).then((all) => all.filter((c) => c.card.name === 'Seraphina'));

test('the starters are in the library with their avatars', async () => {
  const { page } = browser;
  const starter = await firstStarter();
  const cards = page.locator('#character-grid .character-card');
  assert.ok(await cards.count() >= 12, 'the twelve starter characters are listed');
  assert.equal(await cards.first().locator('.name').textContent(), starter.name);
  const img = cards.first().locator('img.avatar');
  assert.match(await img.getAttribute('src'), /^blob:/);
  await page.waitForFunction(() => document.querySelector('#character-grid img.avatar')?.naturalWidth > 0);
  await screenshots(page, 'library');
});

test('a SillyTavern PNG card imports with its avatar; search and tags find it', async () => {
  const { page } = browser;
  const status = await importCards(page, { name: 'seraphina.png', mimeType: 'image/png', buffer: await fixture('sillytavern-seraphina-v2.png') });
  assert.equal(status, 'Imported Seraphina.');
  const [record] = await seraphina();
  assert.equal(record.spec, 'v2');
  assert.equal(record.avatarMime, 'image/png');
  assert.ok(record.avatar > 1000, 'the image is kept');
  assert.match(record.card.first_mes, /\S/);

  await page.getByRole('searchbox', { name: 'Search characters' }).fill('seraph');
  assert.deepEqual(await page.locator('#character-grid .character-card .name').allTextContents(), ['Seraphina']);
  await page.getByRole('searchbox', { name: 'Search characters' }).fill('');
  const starter = await firstStarter();
  const tag = starter.card.tags[0].toLowerCase();
  await page.locator('#tag-filter button').filter({ hasText: new RegExp(`^${tag}$`) }).click();
  const names = await page.locator('#character-grid .character-card .name').allTextContents();
  assert.ok(names.includes(starter.name), `tag ${tag} shows ${starter.name} (${names})`);
  assert.ok(!names.includes('Seraphina'), 'the tag filter hides characters without the tag');
  const all = await characters(page);
  const tagged = all.filter((c) => (c.card.tags || []).some((t) => t.toLowerCase() === tag)).length;
  assert.equal(names.length, tagged);
  await page.locator('#tag-filter button', { hasText: 'All' }).click();
});

test('a card dropped on the page is imported', async () => {
  const { page } = browser;
  await page.evaluate(() => { delete document.body.dataset.lastImport; });
  const json = JSON.stringify({ spec: 'chara_card_v2', spec_version: '2.0', data: { name: 'Dropped Dora', first_mes: 'Hi!' } });
  const transfer = await page.evaluateHandle((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dora.json', { type: 'application/json' }));
    return dt;
  }, json);
  await page.dispatchEvent('#character-grid', 'dragover', { dataTransfer: transfer });
  await page.dispatchEvent('#character-grid', 'drop', { dataTransfer: transfer });
  await page.waitForFunction(() => document.body.dataset.lastImport !== undefined);
  assert.equal(await page.locator('#import-status').textContent(), 'Imported Dropped Dora.');
  assert.equal((await characters(page)).filter((c) => c.card.name === 'Dropped Dora').length, 1);
});

test('a broken file is refused with a clear message', async () => {
  const { page } = browser;
  const status = await importCards(page, { name: 'junk.png', mimeType: 'image/png', buffer: Buffer.from('\x89PNG\r\n\x1a\nnot really', 'latin1') });
  assert.match(status, /^Could not import junk\.png: PNG is/);
  assert.equal((await seraphina()).length, 1);
});

test('exports in every format import back as the same card', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const [original] = await seraphina();
  await openDetails(page, 'Seraphina');
  await screenshots(page, 'character');
  // Each round exports the newest copy (the one just imported), so the images are compared
  // before the JSON rounds, which carry none.
  const formats = [
    ['Export PNG', 'Seraphina.png', (b) => b.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))],
    ['Export CHARX', 'Seraphina.charx', (b) => b.subarray(0, 4).toString('latin1') === 'PK\x03\x04'],
    ['Export JSON', 'Seraphina.json', (b) => JSON.parse(b).spec === 'chara_card_v3'],
    ['Export JSON (V2)', 'Seraphina.json', (b) => JSON.parse(b).spec === 'chara_card_v2'],
  ];
  for (const [label, fileName, looksRight] of formats) {
    const file = await downloadFrom(page, page.getByRole('button', { name: label, exact: true }));
    assert.equal(file.name, fileName);
    assert.ok(looksRight(file.bytes), `${label} wrote the expected format`);
    if (label === 'Export PNG') {
      const text = file.bytes.toString('latin1');
      assert.ok(text.includes('tEXtchara\0') && text.includes('tEXtccv3\0'), 'the PNG carries both V2 and V3 chunks');
    }
    await gotoLibrary(page);
    const status = await importCards(page, { name: fileName, mimeType: 'application/octet-stream', buffer: file.bytes });
    assert.equal(status, 'Imported Seraphina.', label);
    const all = await seraphina();
    const copy = all.sort((a, b) => b.createdAt - a.createdAt)[0];
    assert.notEqual(copy.id, original.id);
    assert.deepEqual(copy.card, original.card, `${label}: the card is unchanged`);
    if (!label.startsWith('Export JSON')) assert.equal(copy.avatar, original.avatar, `${label}: same image`);
    await openDetails(page, 'Seraphina');
  }
});

test('a World Info lorebook attaches to a character', async () => {
  const { page } = browser;
  await openDetails(page, 'Seraphina');
  await page.locator('#lorebook-file').setInputFiles({
    name: 'eldoria.json', mimeType: 'application/json', buffer: await fixture('sillytavern-eldoria-worldinfo.json'),
  });
  await page.waitForFunction(() => /^Attached /.test(document.getElementById('character-status').textContent));
  const items = await page.locator('#character-books li.book').allTextContents();
  assert.equal(items.length, 1);
  assert.match(items[0], /\d+ entries/);
  const withBook = (await seraphina()).find((c) => c.lorebooks.length === 1);
  assert.ok(withBook.lorebooks[0].book.entries.length > 0);
});

test('chatting with the imported character streams a reply', { timeout: 400_000 }, async () => {
  const { page } = browser;
  const loaded = await waitForModel(page, 300_000);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  await gotoLibrary(page);
  await page.getByRole('searchbox', { name: 'Search characters' }).fill('seraphina');
  await openCharacter(page, 'Seraphina');
  const run = await sendAndWatch(page, 'Hello, where am I?', 300_000);
  assert.equal(run.all[0].status, 'greeting');
  assert.equal(run.reply.role, 'assistant');
  assert.ok(['done', 'stopped'].includes(run.reply.status), run.reply.status);
  assert.ok(run.reply.text.length > 0);
  await gotoLibrary(page);
  await page.waitForFunction(() => !document.getElementById('recent').hidden);
  const recent = await page.locator('#recent-list .chat-title').allTextContents();
  assert.ok(recent.some((t) => t.startsWith('Seraphina')), `recent chats list her (${recent})`);
});

test('every request stayed on the page\'s origin and nothing broke', () => {
  const foreign = browser.requests.filter((url) => new URL(url).origin !== server.origin);
  assert.deepEqual(foreign, []);
  assert.deepEqual(browser.pageErrors, []);
  const csp = browser.consoleErrors.filter((text) => /Content Security Policy/i.test(text));
  assert.deepEqual(csp, []);
});
