// The character editor, end to end: a character made from scratch (fields, greetings, a
// profile trait, a lorebook entry, an uploaded avatar), its live token count, a "Try it"
// reply streamed from the engine, saving, the library and a chat, a PNG export that imports
// back as the same card, and edits that persist over a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, crc32 } from 'node:zlib';
import { startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { TEST_QUERY, waitForModel, messages, firstStarter } from './chat-page.mjs';
import { characters, importCards, downloadFrom } from './app-page.mjs';

// A wide RGB PNG (a gradient), so the editor has something to scale down.
function pngImage(width, height) {
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])), 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const at = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      rows[at + 1 + x * 3] = (x * 255) / width;
      rows[at + 2 + x * 3] = (y * 255) / height;
      rows[at + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const CARD_FIELDS = ['name', 'nickname', 'description', 'personality', 'scenario', 'first_mes', 'alternate_greetings',
  'mes_example', 'system_prompt', 'post_history_instructions', 'creator_notes', 'tags', 'creator', 'character_version'];

const pick = (card) => Object.fromEntries(CARD_FIELDS.map((k) => [k, card[k]]));
const entryFields = (e) => ({
  name: e.name, keys: e.keys, secondary_keys: e.secondary_keys, content: e.content, enabled: e.enabled,
  constant: e.constant, insertion_order: e.insertion_order, priority: e.priority, selective: e.selective,
});

async function tokenState(page) {
  return page.evaluate(() => {
    const t = document.getElementById('editor-tokens');
    return { state: t.dataset.state, total: Number(t.dataset.total), text: t.textContent };
  });
}

test('character editor: create, count, try, save, chat, export, edit', { timeout: 900_000 }, async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const { page } = browser;
  try {
    await page.goto(`${server.origin}/${TEST_QUERY}`);
    await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 120_000 });
    const before = await characters(page);

    // From the library to an empty editor.
    await page.getByRole('link', { name: 'New character' }).click();
    await page.waitForFunction(() => document.body.dataset.view === 'editor');
    await page.getByRole('heading', { name: 'New character' }).waitFor();
    const early = await poll(async () => {
      const s = await tokenState(page);
      return s.state && s.state !== 'counting' ? { ...s, model: await page.evaluate(() => document.body.dataset.modelState) } : null;
    }, { message: 'a first token count' });
    if (early.model === 'loading') {
      assert.equal(early.state, 'estimate', 'before the model loads, the count is an estimate');
      assert.match(early.text, /≈ \d+ tokens \(estimate until the model has loaded\)/);
    }

    // A name is required.
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('A name is required.').waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Name', exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.body.dataset.view), 'editor');

    // The card's fields.
    const box = (name) => page.getByRole('textbox', { name, exact: true });
    await box('Name').fill('Mira Vale');
    assert.equal(await page.getByText('A name is required.').count(), 0, 'the reminder goes once a name is typed');
    assert.equal(await box('Name').getAttribute('aria-invalid'), null);
    await box('Nickname').fill('Captain Mira');
    await box('Tags').fill('pirate, sea, pirate');
    await box('Creator').fill('Editor Test');
    await box('Version').fill('1.2');
    await box('Description').fill('{{char}} captains the schooner Gull.');
    await box('Personality').fill('Bold and loyal.');
    await box('Scenario').fill('The Gull is at anchor off a foggy island.');
    await box('First message').fill('Ahoy, {{user}}! Welcome aboard the Gull.');
    await page.getByRole('button', { name: 'Add alternate greeting' }).click();
    await box('Alternate greeting 1').fill('Second greeting: the storm has passed.');
    await page.getByRole('button', { name: 'Add alternate greeting' }).click();
    await box('Alternate greeting 2').fill('First greeting: fog again.');
    await page.getByRole('button', { name: 'Move alternate greeting 2 up' }).click();
    assert.equal(await box('Alternate greeting 1').inputValue(), 'First greeting: fog again.');
    assert.equal(await box('Alternate greeting 2').inputValue(), 'Second greeting: the storm has passed.');
    await box('Example dialogues').fill('<START>\n{{user}}: Where are we headed?\n{{char}}: Wherever the wind is kind.');
    await page.locator('summary', { hasText: 'Prompts' }).click();
    await box('System prompt').fill('{{original}} Speak like a sea captain.');
    await box('Post-history instructions').fill('Keep it to two sentences.');
    await page.locator('summary', { hasText: 'Creator notes' }).click();
    await box('Creator notes').fill('Made in the editor test.');

    // The structured profile with a trait; its compiled text shows and can become the card's.
    await page.locator('summary', { hasText: 'Structured profile and traits' }).click();
    await box('Identity').fill('a weathered schooner captain in her forties');
    await box('Interests').fill('old charts\nweather lore');
    await page.getByRole('button', { name: 'Add trait' }).click();
    await box('Trait 1').fill('I never leave a crew member behind.');
    const compiled = page.getByLabel('Compiled profile text');
    await poll(async () => (await compiled.textContent()).includes('I never leave a crew member behind.'),
      { message: 'the compiled profile text' });
    assert.match(await compiled.textContent(), /\{\{char\}\} is a weathered schooner captain in her forties\./);
    const useProfile = page.getByRole('checkbox', { name: 'Write the description and personality from this profile' });
    await useProfile.check();
    await poll(async () => (await box('Description').inputValue()).startsWith('{{char}} is a weathered schooner captain'),
      { message: 'the description written from the profile' });
    assert.equal(await box('Description').getAttribute('readonly'), '');
    await useProfile.uncheck();
    await poll(async () => (await box('Description').inputValue()) === '{{char}} captains the schooner Gull.',
      { message: 'the hand-written description back' });
    await useProfile.check();
    await poll(async () => (await box('Personality').inputValue()).includes('I never leave a crew member behind.'),
      { message: 'the personality written from the profile' });

    // A lorebook entry.
    await page.locator('summary', { hasText: 'Lorebook' }).click();
    await page.getByRole('button', { name: 'Add entry' }).click();
    const entry = page.getByRole('group', { name: 'Entry 1' });
    await entry.getByRole('textbox', { name: 'Name' }).fill('The ship');
    await entry.getByRole('textbox', { name: 'Keys', exact: true }).fill('Gull, schooner');
    await entry.getByRole('textbox', { name: 'Secondary keys' }).fill('deck');
    await entry.getByRole('textbox', { name: 'Content' }).fill('The Gull is a three-masted schooner with red sails.');
    await entry.getByRole('checkbox', { name: 'Always included' }).check();
    await entry.getByRole('spinbutton', { name: 'Insertion order' }).fill('50');
    await entry.getByRole('spinbutton', { name: 'Priority' }).fill('5');
    // The lorebook section near the top at both widths: the sections above it folded for the
    // shot, then opened again as they were.
    const folded = await page.evaluate(() => {
      const all = [...document.querySelectorAll('#view-editor details.ed-section')];
      const open = all.map((d) => d.open);
      const book = all.findIndex((d) => d.querySelector(':scope > summary').textContent === 'Lorebook');
      all.forEach((d, i) => { if (i < book) d.open = false; });
      document.getElementById('view-editor').scrollTop = 0;
      return open;
    });
    await screenshots(page, 'editor-lorebook');
    await page.evaluate((open) => {
      document.querySelectorAll('#view-editor details.ed-section').forEach((d, i) => { d.open = open[i]; });
    }, folded);

    // An avatar, scaled down to 512 pixels a side.
    await page.getByLabel('Upload avatar').setInputFiles({ name: 'mira.png', mimeType: 'image/png', buffer: pngImage(1024, 640) });
    await page.getByText('Avatar set (512 × 320).').waitFor();
    assert.match(await page.locator('.ed-avatar img').getAttribute('src'), /^blob:/);

    // The count with the model's tokenizer, and it follows the typing.
    await waitForModel(page);
    const exact = await poll(async () => {
      const s = await tokenState(page);
      return s.state === 'exact' ? s : null;
    }, { timeout: 120_000, message: 'an exact token count' });
    assert.match(exact.text, /\d+ tokens \(the model's tokenizer\)/);
    assert.ok(exact.total > 40, `the definition has some tokens: ${exact.text}`);
    await box('Scenario').pressSequentially(' Gulls circle the masts, and the crew sings while they mend the sails.');
    // The count trails the typing (debounced, counted in the worker): wait for the whole sentence.
    let last = exact;
    await poll(async () => {
      last = await tokenState(page);
      return last.state === 'exact' && last.total - exact.total >= 10;
    }, { timeout: 60_000, message: () => `the count to grow by the sentence: ${exact.total} -> ${last.total}` });

    // Try it: the greeting, then a reply streamed from the engine; nothing stored.
    const tryChat = page.getByRole('region', { name: 'Try it' });
    await tryChat.getByRole('button', { name: 'Restart the test chat' }).click();
    await poll(async () => (await tryChat.locator('.try-message').first().textContent()).includes('Ahoy, User! Welcome aboard the Gull.'),
      { message: 'the greeting in the test chat' });
    await tryChat.getByRole('textbox', { name: 'Test message' }).fill('Where are we sailing today?');
    await tryChat.getByRole('button', { name: 'Send test message' }).click();
    const lengths = [];
    await poll(async () => {
      const s = await page.evaluate(() => {
        const items = document.querySelectorAll('.try-message');
        const last = items[items.length - 1];
        return { n: items.length, text: last?.querySelector('.text').textContent || '', busy: document.querySelector('.try-chat').dataset.busy };
      });
      if (s.n === 3 && s.text && lengths[lengths.length - 1] !== s.text.length) lengths.push(s.text.length);
      return s.n === 3 && s.busy === 'false';
    }, { timeout: 300_000, interval: 25, message: 'the test reply' });
    assert.ok(lengths.length >= 2, `the reply streamed in pieces: ${lengths}`);
    const chatsAfterTry = (await page.evaluate(() => new Promise((resolve) => {
      const open = indexedDB.open('kindred');
      open.onsuccess = () => {
        const req = open.result.transaction('chats').objectStore('chats').count();
        req.onsuccess = () => { open.result.close(); resolve(req.result); };
      };
    })));
    assert.equal(chatsAfterTry, 0, 'the test chat is not stored');
    assert.equal((await characters(page)).length, before.length, 'nothing saved before Save');

    await page.evaluate(() => { document.getElementById('view-editor').scrollTop = 0; });
    await screenshots(page, 'editor');
    await page.evaluate(() => document.querySelector('.ed-profile').scrollIntoView());
    await screenshots(page, 'editor-profile');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('button', { name: 'Try and check', exact: true }).click();
    await screenshots(page, 'editor-try');

    // Save: to the character page, stored with everything.
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForFunction(() => document.body.dataset.view === 'character'
      && document.getElementById('character-title').textContent === 'Captain Mira');
    const saved = (await characters(page)).find((c) => c.card.name === 'Mira Vale');
    assert.ok(saved, 'the character is stored');
    assert.equal(saved.origin, 'created');
    assert.equal(saved.avatarMime, 'image/png');
    assert.ok(saved.avatar > 1000, 'the avatar bytes are stored');
    const card = saved.card;
    assert.deepEqual(card.alternate_greetings, ['First greeting: fog again.', 'Second greeting: the storm has passed.']);
    assert.deepEqual(card.tags, ['pirate', 'sea']);
    assert.equal(card.nickname, 'Captain Mira');
    assert.equal(card.creator, 'Editor Test');
    assert.equal(card.character_version, '1.2');
    assert.match(card.scenario, /crew sings while they mend the sails\.$/);
    assert.match(card.description, /^\{\{char\}\} is a weathered schooner captain in her forties\./);
    assert.match(card.personality, /- I never leave a crew member behind\./);
    assert.equal(card.system_prompt, '{{original}} Speak like a sea captain.');
    assert.equal(card.post_history_instructions, 'Keep it to two sentences.');
    assert.equal(card.creator_notes, 'Made in the editor test.');
    assert.deepEqual(card.extensions.kindred.profile.traits, ['I never leave a crew member behind.']);
    assert.deepEqual(card.extensions.kindred.profile.attributes.interests, ['old charts', 'weather lore']);
    assert.deepEqual(entryFields(card.character_book.entries[0]), {
      name: 'The ship', keys: ['Gull', 'schooner'], secondary_keys: ['deck'],
      content: 'The Gull is a three-masted schooner with red sails.', enabled: true, constant: true,
      insertion_order: 50, priority: 5, selective: true,
    });

    // In the library with its avatar; a chat opens with its greeting.
    await page.evaluate(() => { location.hash = '#/'; });
    const tile = page.locator('#character-grid .character-card', { hasText: 'Captain Mira' });
    await tile.waitFor();
    assert.match(await tile.locator('img.avatar-card').getAttribute('src'), /^blob:/);
    await tile.locator('.open').click();
    await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 60_000 });
    const shown = await messages(page);
    assert.equal(shown[0].role, 'assistant');
    assert.equal(shown[0].text, 'Ahoy, User! Welcome aboard the Gull.');

    // Export as PNG and import the export: the same card, profile and lorebook included.
    await page.evaluate((id) => { location.hash = `#/character/${id}`; }, saved.id);
    await page.waitForFunction(() => document.body.dataset.view === 'character');
    const file = await downloadFrom(page, page.getByRole('button', { name: 'Export PNG' }));
    await page.evaluate(() => { location.hash = '#/'; });
    await page.waitForFunction(() => document.body.dataset.view === 'library');
    const status = await importCards(page, [{ name: file.name, mimeType: 'image/png', buffer: file.bytes }]);
    assert.match(status, /Imported Captain Mira/);
    const again = (await characters(page)).find((c) => c.card.name === 'Mira Vale' && c.id !== saved.id);
    assert.ok(again, 'the export imports');
    assert.deepEqual(pick(again.card), pick(card));
    assert.deepEqual(again.card.extensions.kindred.profile, card.extensions.kindred.profile);
    assert.deepEqual(again.card.character_book.entries.map(entryFields), card.character_book.entries.map(entryFields));
    assert.ok(again.avatar > 1000, 'the image came along');

    // Edit it from its page: leaving with unsaved changes asks first; the saved edit persists.
    await page.evaluate((id) => { location.hash = `#/character/${id}`; }, saved.id);
    await page.waitForFunction(() => document.body.dataset.view === 'character');
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await page.getByRole('heading', { name: 'Edit Captain Mira' }).waitFor();
    assert.equal(await box('Alternate greeting 2').inputValue(), 'Second greeting: the storm has passed.');
    assert.equal(await page.getByRole('checkbox', { name: 'Write the description and personality from this profile' }).isChecked(), true);
    await box('Scenario').fill('The Gull rides out a storm in the harbour.');
    await page.getByRole('button', { name: 'Remove alternate greeting 2' }).click();
    await page.getByRole('link', { name: 'Characters', exact: true }).click();
    await page.getByText('You have unsaved changes.').waitFor();
    assert.equal(await page.evaluate(() => document.body.dataset.view), 'editor');
    assert.equal(await page.evaluate(() => location.hash), `#/edit/${saved.id}`);
    await page.getByRole('button', { name: 'Keep editing' }).click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForFunction(() => document.body.dataset.view === 'character');
    await page.reload();
    await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 120_000 });
    const edited = (await characters(page)).find((c) => c.id === saved.id);
    assert.equal(edited.card.scenario, 'The Gull rides out a storm in the harbour.');
    assert.deepEqual(edited.card.alternate_greetings, ['First greeting: fog again.']);
    assert.deepEqual(edited.card.extensions.kindred.profile.traits, ['I never leave a crew member behind.']);
    await page.evaluate((id) => { location.hash = `#/edit/${id}`; }, saved.id);
    await page.getByRole('heading', { name: 'Edit Captain Mira' }).waitFor();
    assert.equal(await box('Scenario').inputValue(), 'The Gull rides out a storm in the harbour.');

    // A starter is kept as it is: saving makes the user's own copy.
    const starter = await firstStarter();
    await page.evaluate((id) => { location.hash = `#/edit/${id}`; }, starter.id);
    await page.getByText('A starter character: saving keeps the original').waitFor();
    await box('Scenario').fill('A quiet afternoon in the study.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForFunction(() => document.body.dataset.view === 'character');
    const all = await characters(page);
    const original = all.find((c) => c.id === starter.id);
    const copy = all.find((c) => c.copiedFrom === starter.id);
    assert.notEqual(original.card.scenario, 'A quiet afternoon in the study.');
    assert.equal(copy.card.scenario, 'A quiet afternoon in the study.');
    assert.equal(copy.card.name, original.card.name);

    assert.deepEqual(browser.pageErrors, []);
    const foreign = browser.requests.filter((u) => !u.startsWith(server.origin) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(foreign, [], 'every request stays on the page\'s origin');
  } finally {
    await browser.close();
    await server.stop();
  }
});
