// Reading aloud. In Node: the stored settings are checked, the voice per character falls
// back to the default, Markdown marks are not read out. In Chromium: with no voice on the
// device (headless Chromium has none) every control is disabled and says why; with voices
// (a page-side stand-in for speechSynthesis that records what it is asked to say) the
// settings and a character's voice are stored and shown again after a reload, a message's
// Speak button and each finished reply are read with the character's voice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { TEST_QUERY, waitForModel, messages, sendAndWatch, openCharacter, firstStarter } from './chat-page.mjs';
import { readStores } from './app-page.mjs';
import { checkVoicePrefs, withCharacterVoice } from '../../www/js/voice-prefs.js';
import { voiceFor, spokenText, unavailableReason, voiceList } from '../../www/js/voice.js';

const VOICES = [
  { uri: 'test-alto', name: 'Alto', lang: 'en-GB', isDefault: false },
  { uri: 'test-bass', name: 'Bass', lang: 'en-US', isDefault: true },
];

test('voice settings read back checked, and a character\'s voice falls back to the default', () => {
  assert.deepEqual(checkVoicePrefs(null), { enabled: false, voice: '', characters: {} });
  assert.deepEqual(checkVoicePrefs({ enabled: 'yes', voice: 7, characters: { a: 'test-alto', b: 3, c: '' } }),
    { enabled: false, voice: '', characters: { a: 'test-alto' } });
  const prefs = withCharacterVoice(checkVoicePrefs({ enabled: true, voice: 'test-bass' }), 'wren', 'test-alto');
  assert.equal(voiceFor(prefs, 'wren', VOICES), 'test-alto');
  assert.equal(voiceFor(prefs, 'theo', VOICES), 'test-bass');
  assert.equal(voiceFor(withCharacterVoice(prefs, 'wren', ''), 'wren', VOICES), 'test-bass');
  assert.equal(voiceFor({ ...prefs, voice: 'gone' }, 'theo', VOICES), '', 'a voice the device lost: the browser picks');
  assert.equal(voiceFor(prefs, 'wren', []), '');
});

test('what is spoken is the words, not the Markdown', () => {
  assert.equal(spokenText('*Wren smiles.* There you are, **friend**.\n\n- one\n- `two`'), 'Wren smiles. There you are, friend. one two');
  assert.equal(spokenText(''), '');
  assert.match(unavailableReason(null, []), /cannot read text aloud/);
  assert.match(unavailableReason({}, []), /No voices/);
  assert.equal(unavailableReason({}, VOICES), null);
  const api = { synth: { getVoices: () => [{ voiceURI: 'x', name: 'X', lang: 'de-DE', default: true }, { name: 'no uri' }] } };
  assert.deepEqual(voiceList(api), [{ uri: 'x', name: 'X', lang: 'de-DE', isDefault: true }]);
});

let server;
let browser;
let character;

before(async () => {
  character = await firstStarter();
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function voiceRow(page) {
  return (await readStores(page, ['settings'])).settings.find((r) => r.key === 'voice')?.value;
}

test('without voices every control is disabled and says why', { timeout: 120_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/${TEST_QUERY}#/settings`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  const voices = await page.evaluate(() => speechSynthesis.getVoices().length);
  if (voices > 0) return; // a browser with voices: the stand-in test below covers it
  const enabled = page.getByRole('checkbox', { name: 'Read replies aloud' });
  assert.equal(await enabled.isDisabled(), true);
  assert.equal(await page.getByRole('combobox', { name: 'Default voice' }).isDisabled(), true);
  const reason = page.locator('#voice-reason');
  assert.match(await reason.textContent(), /No voices are installed/);
  assert.equal(await reason.isVisible(), true);
  assert.match(await enabled.evaluate((el) => el.getAttribute('aria-describedby')), /voice-reason/);
  await page.locator('#voice-settings').scrollIntoViewIfNeeded();
  await screenshots(page, 'voice-settings-none');

  await page.goto(`${server.origin}/${TEST_QUERY}#/character/${character.id}`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true');
  assert.equal(await page.getByRole('combobox', { name: 'Reads this character\'s replies' }).isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Hear the voice' }).isDisabled(), true);
  assert.equal(await page.locator('#character-voice-reason').isVisible(), true);

  await page.goto(`${server.origin}/${TEST_QUERY}#/`);
  await openCharacter(page, character.name);
  const speak = page.getByRole('button', { name: 'Speak this message' }).first();
  assert.equal(await speak.isDisabled(), true);
  assert.match(await speak.getAttribute('title'), /No voices/);
  assert.deepEqual(browser.pageErrors, []);
});

test('with voices: choices are stored, and messages and replies are read with the character\'s voice', { timeout: 360_000 }, async () => {
  const { page, context } = browser;
  await context.addInitScript(() => {
    window.__spoken = [];
    const voices = [
      { voiceURI: 'test-alto', name: 'Alto', lang: 'en-GB', default: false, localService: true },
      { voiceURI: 'test-bass', name: 'Bass', lang: 'en-US', default: true, localService: true },
    ];
    const synth = new EventTarget();
    synth.getVoices = () => voices;
    synth.speak = (u) => window.__spoken.push({ text: u.text, voice: u.voice ? u.voice.voiceURI : null, lang: u.lang });
    synth.cancel = () => {};
    Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
    window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; this.voice = null; this.lang = ''; } };
  });
  await page.goto(`${server.origin}/${TEST_QUERY}#/settings`);
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });

  const enabled = page.getByRole('checkbox', { name: 'Read replies aloud' });
  const voice = page.getByRole('combobox', { name: 'Default voice' });
  assert.equal(await enabled.isDisabled(), false);
  assert.equal(await page.locator('#voice-reason').isVisible(), false);
  assert.deepEqual(await voice.locator('option').allTextContents(), ['The browser\'s choice', 'Alto (en-GB)', 'Bass (en-US)']);
  await enabled.check();
  await voice.selectOption({ label: 'Bass (en-US)' });
  await page.getByRole('button', { name: 'Save settings' }).click();
  await poll(async () => (await voiceRow(page))?.voice === 'test-bass', { timeout: 10_000, message: 'the voice settings to be stored' });
  assert.deepEqual(await voiceRow(page), { enabled: true, voice: 'test-bass', characters: {} });
  await page.locator('#voice-settings').scrollIntoViewIfNeeded();
  await screenshots(page, 'voice-settings');

  await page.goto(`${server.origin}/${TEST_QUERY}#/character/${character.id}`);
  const own = page.getByRole('combobox', { name: 'Reads this character\'s replies' });
  await own.selectOption({ label: 'Alto (en-GB)' });
  await page.getByText('Voice saved.').waitFor();
  assert.deepEqual((await voiceRow(page)).characters, { [character.id]: 'test-alto' });
  await page.getByRole('button', { name: 'Hear the voice' }).click();
  // The click handler may finish after the click returns: wait for the utterance.
  await poll(() => page.evaluate(() => window.__spoken.length > 0), { timeout: 10_000, message: 'the sample to be spoken' });
  assert.deepEqual(await page.evaluate(() => window.__spoken.at(-1)),
    { text: `Hello, I am ${character.name}.`, voice: 'test-alto', lang: 'en-GB' });
  await page.locator('#character-voice').scrollIntoViewIfNeeded();
  await screenshots(page, 'voice-character');

  // Stored, and shown again after a reload.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.appReady === 'true');
  assert.equal(await own.inputValue(), 'test-alto');
  await page.goto(`${server.origin}/${TEST_QUERY}#/settings`);
  assert.equal(await enabled.isChecked(), true);
  assert.equal(await voice.inputValue(), 'test-bass');

  // The chat: the greeting read on request, then a reply read when it finishes.
  await page.goto(`${server.origin}/${TEST_QUERY}#/`);
  await openCharacter(page, character.name);
  const [greeting] = await messages(page);
  const spokenBefore = await page.evaluate(() => window.__spoken.length);
  await page.getByRole('button', { name: 'Speak this message' }).first().click();
  await poll(() => page.evaluate((n) => window.__spoken.length > n, spokenBefore), { timeout: 10_000, message: 'the greeting to be spoken' });
  assert.deepEqual(await page.evaluate(() => window.__spoken.at(-1)),
    { text: spokenText(greeting.text), voice: 'test-alto', lang: 'en-GB' });
  assert.ok(!spokenText(greeting.text).includes('*'), 'no Markdown marks are read');

  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', loaded.error);
  const before = await page.evaluate(() => window.__spoken.length);
  const run = await sendAndWatch(page, 'Good evening!');
  assert.equal(run.reply.status, 'done');
  await poll(() => page.evaluate((n) => window.__spoken.length > n, before), { timeout: 10_000, message: 'the reply to be read' });
  const said = await page.evaluate(() => window.__spoken.slice(-1)[0]);
  assert.deepEqual(said, { text: spokenText(run.reply.text), voice: 'test-alto', lang: 'en-GB' });
  assert.deepEqual(browser.pageErrors, []);
});
