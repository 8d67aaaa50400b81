// A file that is not a model, and a model address on another host: the page explains what
// went wrong, keeps working, and never crashes or reaches outside its origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots } from './harness.mjs';
import { expectedGreeting, waitForModel, messages, openFirstStarter } from './chat-page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a corrupt model file shows a clear error and nothing crashes', { timeout: 180_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/?model=/models/manifest.json`);
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'error');
  assert.match(loaded.error, /^This file is not a model the page can run: \S/);
  assert.ok(await page.getByRole('alert').isVisible(), 'the error is shown in an alert');
  assert.ok(browser.requests.some((u) => new URL(u).pathname === '/models/manifest.json'));
  assert.ok(!browser.requests.some((u) => u.endsWith('.gguf')), 'the default model was not fetched');

  // The rest of the page still works: the greeting is there, typing works, Send stays off.
  await openFirstStarter(page);
  assert.equal((await messages(page))[0].text, await expectedGreeting());
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Anyone there?');
  assert.equal(await box.inputValue(), 'Anyone there?');
  assert.ok(await page.getByRole('button', { name: 'Send' }).isDisabled());
  await box.press('Enter');
  assert.equal((await messages(page)).length, 1, 'nothing is sent without a model');
  await box.press('Shift+Enter');
  await box.pressSequentially('Hello?');
  assert.equal(await box.inputValue(), 'Anyone there?\nHello?', 'Shift+Enter adds a line');

  // The broken copy is not kept: trying again fetches it again and fails the same way.
  const before = browser.requests.length;
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.waitForFunction(() => document.body.dataset.modelState === 'error'
    && document.getElementById('model-status').dataset.phase === 'init', null, { timeout: 60_000 });
  assert.ok(browser.requests.slice(before).some((u) => new URL(u).pathname === '/models/manifest.json'));

  await screenshots(page, 'corrupt-model');
  assert.deepEqual(browser.pageErrors, []);
});

test('a model address on another host is refused without any request to it', { timeout: 60_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/?model=${encodeURIComponent('http://example.invalid/m.gguf')}`);
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'error');
  assert.equal(loaded.error, 'The ?model= address must be on this site.');
  assert.deepEqual(browser.pageErrors, []);
});

test('no request left the page\'s origin', () => {
  const foreign = browser.requests.filter((url) => new URL(url).origin !== server.origin);
  assert.deepEqual(foreign, []);
});
