// The chat page in real Chromium against `kindred serve` and the real model: first visit
// (download with progress, greeting, streamed reply), reload (chat kept, model from
// IndexedDB, no model request), and no request to any other origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots } from './harness.mjs';
import {
  TEST_QUERY, manifestModel, expectedGreeting, recordProgress, waitForModel, messages, sendAndWatch, openFirstStarter,
} from './chat-page.mjs';

let server;
let browser;
let model;
let firstReply = null;
let requestsBeforeReload = -1;

before(async () => {
  server = await startServer({ model: 'default' });
  model = await manifestModel(server.origin);
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const isModelFile = (url) => new URL(url).pathname.endsWith('.gguf');

test('first visit downloads the model with progress, greets, and streams a reply', { timeout: 360_000 }, async () => {
  const { page } = browser;
  await recordProgress(page);
  await page.goto(`${server.origin}/${TEST_QUERY}`);
  // The download as it shows, if it is still going once the bar is up (a fast disk may finish
  // first; the shot is then skipped, the progress log below still checked).
  const downloading = await page.waitForFunction(() => {
    const bar = document.getElementById('model-progress');
    if (document.body.dataset.modelState !== 'loading') return 'done';
    const shown = document.getElementById('model-status').dataset.phase === 'download' && bar.getBoundingClientRect().width > 0;
    return shown && bar.value > 0 ? 'downloading' : false;
  }, null, { timeout: 180_000, polling: 'raf' }).then((h) => h.jsonValue());
  if (downloading === 'downloading') await screenshots(page, 'first-visit-downloading');
  else console.log('SKIPPED: the first-visit-downloading shot, the download finished before the bar showed');

  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  assert.equal(loaded.source, 'download');
  assert.match(loaded.info, /Downloaded/);
  assert.match(loaded.info, /backend: cpu/);
  assert.ok(browser.requests.some(isModelFile), 'the .gguf file was requested');

  const log = await page.evaluate(() => window.__progressLog);
  const downloads = log.filter((e) => e.phase === 'download');
  const total = `${mb(model.bytes)}`;
  assert.ok(downloads.some((e) => e.visible), 'the progress bar was visible while downloading');
  const partial = downloads.find((e) => /^[\d.]+ [KMG]?B of /.test(e.text) && !e.text.endsWith('100%'));
  assert.ok(partial, `an intermediate progress state was shown; saw ${JSON.stringify(log.slice(0, 5))}`);
  assert.match(partial.text, new RegExp(`of ${total.replace('.', '\\.')} · \\d{1,2}%$`));
  const last = downloads[downloads.length - 1];
  assert.equal(last.text, `${total} of ${total} · 100%`);
  assert.equal(last.value, model.bytes);
  assert.equal(last.max, model.bytes);

  await openFirstStarter(page);
  const greeting = await expectedGreeting();
  const shown = await messages(page);
  assert.deepEqual(shown[0], { role: 'assistant', status: 'greeting', text: greeting });

  const run = await sendAndWatch(page, 'Hello! Who are you?');
  assert.deepEqual(run.sent, { role: 'user', status: 'done', text: 'Hello! Who are you?' });
  assert.ok(run.lengths.length >= 2, `reply grew across several lengths, saw ${JSON.stringify(run.lengths)}`);
  assert.ok(run.typingSeen, 'the typing indicator showed');
  assert.ok(run.stopSeen, 'the Stop button showed while generating');
  assert.equal(run.reply.role, 'assistant');
  assert.equal(run.reply.status, 'done');
  assert.ok(run.reply.text.length > 0);
  assert.ok(!run.reply.text.includes('User:'), 'stop strings are cut from the reply');
  await page.waitForFunction(
    (text) => document.getElementById('announcer').textContent.endsWith(text), run.reply.text, { timeout: 5000 },
  );
  firstReply = run.reply.text;

  await screenshots(page, 'first-visit');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshots(page, 'first-visit-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(browser.pageErrors, []);
});

test('after a reload the chat is kept and the model comes from IndexedDB', { timeout: 360_000 }, async (t) => {
  if (firstReply === null) return t.skip('needs the first-visit test');
  const { page } = browser;
  requestsBeforeReload = browser.requests.length;
  await page.reload();

  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  assert.equal(loaded.source, 'cache');
  assert.match(loaded.info, /Loaded from this device/);
  const after = browser.requests.slice(requestsBeforeReload);
  assert.ok(after.length > 0, 'requests after the reload were recorded');
  assert.deepEqual(after.filter(isModelFile), [], 'no request for the model file after the reload');

  await page.waitForFunction(() => document.body.dataset.chatReady === 'true');
  assert.match(page.url(), /#\/chat\//, 'the address names the chat');
  const kept = await messages(page);
  assert.equal(kept.length, 3);
  assert.deepEqual(kept[1], { role: 'user', status: 'done', text: 'Hello! Who are you?' });
  assert.deepEqual(kept[2], { role: 'assistant', status: 'done', text: firstReply });

  // Typed markup is text, never HTML.
  const typed = 'Tell me about <b>this</b> place. <img src=x>';
  const run = await sendAndWatch(page, typed);
  assert.equal(run.sent.text, typed);
  assert.equal(await page.locator('#messages b, #messages img[src="x"]').count(), 0);
  assert.ok(run.lengths.length >= 2, `reply grew across several lengths, saw ${JSON.stringify(run.lengths)}`);
  assert.equal(run.reply.status, 'done');
  assert.ok(run.reply.text.length > 0);
  assert.equal((await messages(page)).length, 5);
  assert.deepEqual(browser.requests.slice(requestsBeforeReload).filter(isModelFile), []);

  await screenshots(page, 'reload');
  assert.deepEqual(browser.pageErrors, []);
});

test('every request went to the page\'s own origin', () => {
  assert.ok(browser.requests.length > 10, `requests were recorded (${browser.requests.length})`);
  const foreign = browser.requests.filter((url) => new URL(url).origin !== server.origin);
  assert.deepEqual(foreign, []);
  const csp = browser.consoleErrors.filter((text) => /Content Security Policy/i.test(text));
  assert.deepEqual(csp, [], 'nothing on the page broke its Content-Security-Policy');
});
