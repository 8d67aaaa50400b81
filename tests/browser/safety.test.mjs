// Safety in the page against the real model: the level and word lists in Settings (kept
// across a reload), user input blocked at the strict level with a clear message and nothing
// sent, masked at the standard level, let through at level off; a reply with a listed word
// masked (standard) or emptied (strict); a reply that steps out of character ("As an AI
// language model…", made deterministic by editing the reply and continuing it, since the
// check runs on the finished reply) is flagged with a Regenerate offer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel, messages, openCharacter, sendAndWatch } from './chat-page.mjs';
import { readStores, importCards, gotoLibrary } from './app-page.mjs';

const CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: { name: 'Moss', description: '{{char}} is a calm gardener who answers in one short sentence.', first_mes: 'Hello {{user}}.' },
};

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const { page } = browser;
  await page.goto(`${server.origin}/?max_tokens=6&seed=5`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await importCards(page, { name: 'moss.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const item = (page, i) => page.locator('#messages > li.message').nth(i);

async function setLevel(page, level) {
  // The chat's header has no main navigation: go by address.
  await page.evaluate(() => { location.hash = '#/settings'; });
  await page.waitForFunction(() => document.body.dataset.view === 'settings');
  await page.getByRole('radiogroup', { name: 'Safety level' }).getByLabel(level).check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForFunction(() => document.getElementById('settings-saved').textContent === 'Saved.');
}

async function openMoss(page) {
  await gotoLibrary(page);
  await openCharacter(page, 'Moss');
}

async function storedUserTexts(page) {
  const { messages: stored } = await readStores(page, ['messages']);
  return stored.filter((m) => m.role === 'user').map((m) => m.swipes[m.chosen].text);
}

test('the level and an edited word list are saved and survive a reload', async () => {
  const { page } = browser;
  await page.getByRole('link', { name: 'Settings' }).click();
  const level = page.getByRole('radiogroup', { name: 'Safety level' });
  assert.equal(await level.getByLabel('Standard').isChecked(), true, 'standard is the default');
  await level.getByLabel('Strict (for minors)').check();
  await page.getByText('Word lists').click();
  const words = page.getByRole('textbox', { name: 'Sexual content words', exact: true });
  assert.match(await words.inputValue(), /porn/, 'the built-in list is shown');
  await words.fill(`${await words.inputValue()}\npineapple`);
  await page.getByRole('textbox', { name: 'Hate words, strict only' }).fill('go back to your country\nvermin\n???');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForFunction(() => /^Saved, without/.test(document.getElementById('settings-saved').textContent));
  assert.match(await page.locator('#settings-saved').textContent(), /\?\?\?/, 'a term with no letters is named, not kept');
  // The settings view is its own scroller.
  await page.evaluate(() => { const view = document.getElementById('view-settings'); view.scrollTop = document.querySelector('#safety-settings').closest('fieldset').offsetTop - view.offsetTop; });
  await screenshots(page, 'safety-settings');

  await page.reload();
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await page.getByRole('link', { name: 'Settings' }).click();
  assert.equal(await page.getByRole('radiogroup', { name: 'Safety level' }).getByLabel('Strict (for minors)').isChecked(), true);
  await page.getByText('Word lists').click();
  assert.match(await page.getByRole('textbox', { name: 'Sexual content words', exact: true }).inputValue(), /^pineapple$/m);
  const { settings } = await readStores(page, ['settings']);
  const safety = settings.find((s) => s.key === 'prefs').value.safety;
  assert.equal(safety.level, 'strict');
  assert.ok(safety.lists.sexual.terms.includes('pineapple'));
  assert.deepEqual(safety.lists.hate.strict_terms, ['go back to your country', 'vermin']);
  assert.equal(safety.lists.violence, undefined, 'untouched lists follow the built-in ones');
});

test('strict blocks a listed word in what the user sends: nothing is sent', { timeout: 400_000 }, async () => {
  const { page } = browser;
  const loaded = await waitForModel(page, 300_000);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  await openMoss(page);
  const before = await messages(page);
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Do you grow PINEAPPLE here?');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => !document.getElementById('toast').hidden);
  assert.match(await page.locator('#toast-text').textContent(), /^Not sent: .*safety settings block \(sexual content\)/);
  assert.deepEqual(await messages(page), before, 'no message was added');
  assert.equal(await box.inputValue(), 'Do you grow PINEAPPLE here?', 'the text stays to be changed');
  assert.equal(await page.evaluate(() => document.body.dataset.generating), 'false', 'no reply was started');
  assert.deepEqual(await storedUserTexts(page), []);
  await screenshots(page, 'safety-blocked');
});

test('standard masks the word and sends the rest', { timeout: 300_000 }, async () => {
  const { page } = browser;
  await setLevel(page, 'Standard');
  await openMoss(page);
  const { sent, reply } = await sendAndWatch(page, 'Do you grow pineapple here?');
  assert.equal(sent.text, 'Do you grow ••••••••• here?');
  assert.equal(reply.role, 'assistant');
  assert.deepEqual(await storedUserTexts(page), ['Do you grow ••••••••• here?'], 'the masked text is what is stored');
  assert.match(await page.locator('#toast-text').textContent(), /masked by the safety settings/);
});

test('a reply out of character is flagged with a Regenerate offer', { timeout: 300_000 }, async () => {
  const { page } = browser;
  const last = () => page.locator('#messages > li.message').last();
  await last().getByRole('button', { name: 'Edit' }).click();
  await page.getByRole('textbox', { name: 'Edit the text' }).fill('As an AI language model, I');
  await page.getByRole('button', { name: 'Save' }).click();
  assert.equal(await last().locator('.persona-break').count(), 0, 'an edit by the user is not flagged');
  await last().getByRole('button', { name: 'Continue this reply' }).click();
  await page.waitForFunction(() => document.body.dataset.generating === 'false', null, { timeout: 240_000 });
  const flag = last().locator('.persona-break');
  assert.match(await flag.textContent(), /steps out of character/);
  // The page saves the reply just after it says it is done.
  const lastReply = async () => {
    const { messages: stored } = await readStores(page, ['messages']);
    return stored.filter((m) => m.role === 'assistant').sort((a, b) => a.pos - b.pos).pop();
  };
  await poll(async () => (await lastReply()).swipes.some((s) => s.personaBreak), { timeout: 10_000, message: 'the flagged reply saved' });
  const record = await lastReply();
  assert.equal(record.swipes[record.chosen].personaBreak, 'out of character', 'the flag is stored with the reply');
  await screenshots(page, 'safety-persona-break');
  await flag.getByRole('button', { name: 'Regenerate' }).click();
  await page.waitForFunction(() => document.body.dataset.generating === 'false', null, { timeout: 240_000 });
  assert.equal(await last().locator('.swipe-count').textContent(), '2/2', 'the new reply is a new swipe');
  await last().getByRole('button', { name: 'Previous reply' }).click();
  assert.match(await last().locator('.persona-break').textContent(), /steps out of character/, 'the flag stays on its swipe');
  assert.equal(await item(page, 1).locator('.text').getAttribute('data-source'), 'Do you grow ••••••••• here?');
});

// The check runs on the finished reply: an edited start with a listed word, continued by the
// model, makes it deterministic.
test('a reply with a listed word is masked at standard and emptied at strict, the reason noted', { timeout: 400_000 }, async () => {
  const { page } = browser;
  const last = () => page.locator('#messages > li.message').last();
  const lastSwipe = async () => {
    const { messages: stored } = await readStores(page, ['messages']);
    const m = stored.filter((x) => x.role === 'assistant').sort((a, b) => a.pos - b.pos).pop();
    return m.swipes[m.chosen];
  };
  const continueWith = async (text) => {
    await last().getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('textbox', { name: 'Edit the text' }).fill(text);
    await page.getByRole('button', { name: 'Save' }).click();
    await last().getByRole('button', { name: 'Continue this reply' }).click();
    await page.waitForFunction(() => document.body.dataset.generating === 'false', null, { timeout: 240_000 });
  };
  await continueWith('I grow pineapple and');
  const shown = await last().locator('.text').getAttribute('data-source');
  assert.ok(shown.startsWith('I grow ••••••••• and'), `masked in the reply: ${shown}`);
  await poll(async () => (await lastSwipe()).safety === 'mask', { timeout: 10_000, message: 'the masked reply saved' });
  assert.ok(!(await lastSwipe()).text.toLowerCase().includes('pineapple'), 'the stored reply is the masked one');
  assert.match(await last().textContent(), /mask/i, 'the reply says it was masked');

  await setLevel(page, 'Strict (for minors)');
  await openMoss(page);
  await continueWith('I grow pineapple and');
  await poll(async () => (await lastSwipe()).safety === 'block', { timeout: 10_000, message: 'the blocked reply saved' });
  assert.equal((await lastSwipe()).text, '', 'nothing of a blocked reply is kept');
  assert.ok(!(await last().textContent()).toLowerCase().includes('pineapple'), 'nor shown');
  assert.match(await last().textContent(), /safety/i, 'the reply says why it is empty');
  await screenshots(page, 'safety-reply-blocked');
});

test('level off lets everything through', { timeout: 300_000 }, async () => {
  const { page } = browser;
  await setLevel(page, 'Off');
  await openMoss(page);
  const { sent } = await sendAndWatch(page, 'pineapple porn, go back to your country');
  assert.equal(sent.text, 'pineapple porn, go back to your country');
  assert.deepEqual((await storedUserTexts(page)).slice(-1), ['pineapple porn, go back to your country']);
});
