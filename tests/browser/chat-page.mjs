// What the tests know about the chat page: how to read its state, what it should greet
// with, and how to send a message while watching the reply stream.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, poll, screenshots } from './harness.mjs';

// Small and deterministic, because decoding in wasm on a shared CPU is slow; a token every
// 20 ms at least, so that the scripted model's replies are seen to stream.
export const TEST_QUERY = '?max_tokens=16&seed=7&step_ms=20';

// The manifest entry the page loads by default from this server (startServer's `model`), or
// the one named `id`.
export async function manifestModel(origin, id = null) {
  const manifest = await (await fetch(`${origin}/models/manifest.json`)).json();
  return manifest.models.find((m) => m.id === (id ?? manifest.default));
}

// The last reply's prompt as the chat's Memory panel shows it (what the model read), with
// the panel opened for it and closed again; `shot` names screenshots of it open.
export async function lastPrompt(page, shot = null) {
  const toggle = page.getByRole('button', { name: 'Memory', exact: true });
  await toggle.click();
  await page.locator('#memory-prompt').waitFor();
  await page.locator('#memory-prompt-summary').click();
  const text = await page.locator('#memory-prompt-text').textContent();
  const summary = await page.locator('#memory-prompt-summary').textContent();
  if (shot) await screenshots(page, shot);
  await page.locator('#memory-prompt-summary').click();
  await toggle.click();
  return { text, summary };
}

// The first starter character listed in www/characters/index.json: its name and its greeting
// as the page must show it (names filled in for the default persona "User").
export async function firstStarter() {
  const index = JSON.parse(await readFile(join(REPO, 'www', 'characters', 'index.json'), 'utf8'));
  const list = Array.isArray(index) ? index : index.characters;
  const entry = list.find((e) => e && typeof e.file === 'string');
  const raw = JSON.parse(await readFile(join(REPO, 'www', 'characters', entry.file), 'utf8'));
  const card = raw.data || raw;
  return { id: entry.id, name: card.name, card };
}

export async function expectedGreeting() {
  const { card } = await firstStarter();
  return card.first_mes
    .replace(/\{\{\s*char\s*\}\}|<BOT>/gi, card.name)
    .replace(/\{\{\s*user\s*\}\}|<USER>/gi, 'User')
    .trim();
}

// From the library, opens the named character's newest chat (or a new one).
export async function openCharacter(page, name) {
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  await page.locator('#character-grid .character-card .open', { hasText: name }).first().click();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 60_000 });
}

export async function openFirstStarter(page) {
  await openCharacter(page, (await firstStarter()).name);
}

// Installed before any page script runs: logs every text the download panel shows, with
// whether the panel was visible then, so a test can check the progress after the fact.
// The site at `url` with its model loaded, the first starter in a new chat, `text` sent: the
// model's load result ({state, info, error}, asserted ready) and the reply (see sendAndWatch).
export async function replyInNewChat(page, url, text) {
  await page.goto(url);
  const loaded = await waitForModel(page, 300_000);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  await openFirstStarter(page);
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true'
    && document.querySelectorAll('#messages > li.message').length === 1);
  const { reply } = await sendAndWatch(page, text);
  return { loaded, reply };
}

export async function recordProgress(page) {
  await page.addInitScript(() => {
    window.__progressLog = [];
    const watch = () => {
      const text = document.getElementById('model-progress-text');
      const bar = document.getElementById('model-progress');
      if (!text || !bar) return;
      const log = () => window.__progressLog.push({
        text: text.textContent,
        value: bar.value,
        max: bar.max,
        phase: document.getElementById('model-status').dataset.phase || '',
        visible: bar.getBoundingClientRect().width > 0,
      });
      new MutationObserver(log).observe(text, { childList: true, characterData: true, subtree: true });
    };
    document.addEventListener('DOMContentLoaded', watch);
  });
}

export async function waitForModel(page, timeout = 180_000) {
  await page.waitForFunction(() => document.body.dataset.modelState !== 'loading', null, { timeout });
  return page.evaluate(() => ({
    state: document.body.dataset.modelState,
    source: document.getElementById('model-status').dataset.source || '',
    info: document.getElementById('model-info').textContent,
    error: document.getElementById('model-error-text').textContent,
  }));
}

// Clicks (or presses) what starts a reply and waits until it has finished, by the count of
// finished replies the page keeps on `selector` (a short reply can start and end between two
// looks at its "generating" flag).
export async function replyAfter(page, start, { timeout = 240_000, selector = 'body' } = {}) {
  const count = (sel) => Number(document.querySelector(sel).dataset.replies || 0);
  const before = await page.evaluate(count, selector);
  await start();
  await page.waitForFunction(([sel, n]) => {
    const el = document.querySelector(sel);
    return Number(el.dataset.replies || 0) > n && el.dataset.generating === 'false';
  }, [selector, before], { timeout });
}

// The messages shown: role, status and the text as written (the element's data-source: the
// rendered Markdown's textContent lacks the markup).
export function messages(page) {
  return page.evaluate(() => [...document.querySelectorAll('#messages > li.message')].map((li) => ({
    role: li.dataset.role,
    status: li.dataset.status,
    text: li.querySelector('.text').dataset.source,
  })));
}

// Types and sends a message, then samples the reply as it streams until the page says it is
// done. Returns the distinct non-empty lengths seen, whether the typing indicator showed, and
// the finished reply.
export async function sendAndWatch(page, text, timeout = 240_000) {
  const before = (await messages(page)).length;
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  const lengths = [];
  let typingSeen = false;
  let stopSeen = false;
  await poll(async () => {
    const s = await page.evaluate((n) => {
      const items = document.querySelectorAll('#messages > li.message');
      const reply = items.length > n + 1 ? items[n + 1] : null;
      return {
        exists: reply !== null,
        text: reply ? reply.querySelector('.text').dataset.source : '',
        generating: document.body.dataset.generating === 'true',
        typing: !document.getElementById('typing').hidden,
        stop: document.getElementById('stop').getBoundingClientRect().width > 0,
      };
    }, before);
    if (s.text.length > 0 && lengths[lengths.length - 1] !== s.text.length) lengths.push(s.text.length);
    typingSeen ||= s.typing;
    stopSeen ||= s.stop;
    // send() adds the reply and sets the generating flag in one task, so a reply that exists
    // while the flag is down is a finished one.
    return s.exists && !s.generating;
  }, { timeout, interval: 25, message: 'the reply to finish' });
  const all = await messages(page);
  return { lengths, typingSeen, stopSeen, sent: all[before], reply: all[before + 1], all };
}
