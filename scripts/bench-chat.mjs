#!/usr/bin/env node
// The chat bench in the browser: the real app in headless Chromium (as in the browser tests),
// a starter character, a new chat, three messages, timed as a person waits for them. Prints
// one JSON line per turn, figures only:
//   read_ahead  the chat opened and its prompt read (the app's read-ahead) before Send;
//               open_to_ready_ms: how long that read took after the chat opened
//   restored    the page reloaded (a fresh engine) and that chat reopened: its prompt comes
//               from the prefix kept on the device; open_to_ready_ms, restored_tokens, then
//               one more message
//   typed       a new chat, read ahead, each message typed before Send: the page reads the draft
//               after a pause in the typing, so Send reads only its last token
//   cold        a fresh page with ?warm=0: turn 1 reads the whole prompt, later turns find
//               only the turn before cached (the app before read-ahead and kept prompts)
//   node scripts/bench-chat.mjs [--character Wren] [--threads 2] [--default]
// --default serves the app's own default model (else the browser tests' Gemma 3 270M).
import { startServer, launchBrowser } from '../tests/browser/harness.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const character = arg('character', 'Wren');
const threads = Number(arg('threads', '2'));
const MESSAGES = ['Hi! Tell me a little about yourself.', 'What do you care about most, and why?', 'I had a rough day at work today.'];

const server = await startServer({ realDefault: process.argv.includes('--default') });
const browser = await launchBrowser();
const { page } = browser;

async function openApp(query) {
  await page.goto(`${server.origin}/?seed=1&threads=${threads}${query}`);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.modelState), null, { timeout: 900_000 });
  const state = await page.evaluate(() => document.body.dataset.modelState);
  if (state !== 'ready') throw new Error(`the model did not load: ${await page.locator('#model-error-text').textContent()}`);
  return page.locator('#model-info').textContent();
}

// Opens the character's newest chat (a first open makes one), or a new chat when `fresh`.
async function openChat(fresh) {
  // A new document (a URL differing only in its hash would not reload): a fresh engine.
  await page.goto('about:blank');
  await page.goto(`${server.origin}/?seed=1&threads=${threads}${fresh ? '&warm=0' : ''}#/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true' && document.body.dataset.modelState === 'ready',
    null, { timeout: 900_000 });
  await page.locator('#character-grid .character-card .open', { hasText: character }).first().click();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 60_000 });
  if (fresh) {
    await page.getByRole('button', { name: 'New chat' }).click();
    await page.waitForFunction(() => document.body.dataset.chatReady === 'true'
      && document.querySelectorAll('#messages > li.message').length === 1);
  }
  return performance.now();
}

// typed: the message is typed and read ahead (the page reads a draft after a pause in the
// typing) before Send, as when a person types; else it is pasted and sent at once.
async function send(text, typed = false) {
  const before = await page.locator('#messages > li.message').count();
  const box = page.getByRole('textbox', { name: 'Message' });
  if (typed) {
    const seen = await reads();
    await box.pressSequentially(text, { delay: 20 });
    await nextRead(seen);
  } else {
    await box.fill(text);
  }
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('#messages > li.message').length >= n + 2
    && document.body.dataset.generating === 'false', before, { timeout: 900_000 });
  const li = page.locator('#messages > li.message').last();
  const [reused, prompt] = ((await li.getAttribute('data-reused')) || '0/0').split('/').map(Number);
  return {
    first_token_ms: Number(await li.getAttribute('data-first-ms')),
    reused_tokens: reused,
    prompt_tokens: prompt,
    decode_tokens_per_second: Number(await li.getAttribute('data-tokens-per-second')),
  };
}

// Waits for the next read-ahead to finish (the page counts them).
const reads = () => page.evaluate(() => Number(document.body.dataset.warmReads) || 0);
async function nextRead(after) {
  await page.waitForFunction((n) => (Number(document.body.dataset.warmReads) || 0) > n, after, { timeout: 900_000 });
}

try {
  const model = (await openApp('')).split(' · ')[0];
  // Read ahead first, on a profile with no chat yet: the first open makes the new chat.
  let seen = 0;
  const opened = await openChat(false);
  for (const [i, text] of MESSAGES.entries()) {
    await nextRead(seen);
    seen = await reads();
    const open_to_ready_ms = i === 0 ? Math.round(performance.now() - opened) : undefined;
    console.log(JSON.stringify({ mode: 'read_ahead', character, model, threads, turn: i + 1, open_to_ready_ms, ...await send(text) }));
  }
  const reopened = await openChat(false);
  await nextRead(0);
  const open_to_ready_ms = Math.round(performance.now() - reopened);
  const restored_tokens = await page.locator('#model-warm').getAttribute('data-restored');
  console.log(JSON.stringify({
    mode: 'restored', character, model, threads, turn: MESSAGES.length + 1, open_to_ready_ms, restored_tokens,
    ...await send('Thank you for listening.'),
  }));
  // Typed: a new chat read ahead, each message typed (and so read as it is typed) before Send.
  await openChat(false);
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true'
    && document.querySelectorAll('#messages > li.message').length === 1);
  for (const [i, text] of MESSAGES.entries()) {
    // The read-ahead of the opened chat (or after the last reply) ends before the typing starts.
    await page.waitForTimeout(1500);
    await page.waitForFunction(() => document.body.dataset.warm === 'idle', null, { timeout: 900_000 });
    console.log(JSON.stringify({ mode: 'typed', character, model, threads, turn: i + 1, ...await send(text, true) }));
  }
  await openChat(true);
  for (const [i, text] of MESSAGES.entries()) {
    console.log(JSON.stringify({ mode: 'cold', character, model, threads, turn: i + 1, ...await send(text) }));
  }
} finally {
  await browser.close();
  await server.stop();
}
