// A file that is not a model, and a model address on another host: the page explains what
// went wrong, keeps working, and never crashes or reaches outside its origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { expectedGreeting, waitForModel, messages, openFirstStarter, recordProgress } from './chat-page.mjs';
import { readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

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
  await poll(async () => browser.requests.slice(before).some((u) => new URL(u).pathname === '/models/manifest.json')
    && (await waitForModel(page)).state === 'error', { timeout: 60_000, message: 'fetched again and refused again' });
  assert.equal((await waitForModel(page)).error, loaded.error);

  await screenshots(page, 'corrupt-model');
  assert.deepEqual(browser.pageErrors, []);
});

// A 253 MB file of an architecture the engine does not run (Gemma 3 270M with its architecture
// renamed, same length): refused from its header, after its first chunk, not its last.
test('a model the engine cannot run is refused from its first chunk, not after the whole download', { timeout: 180_000 }, async () => {
  const name = 'kindred-test-unsupported.gguf';
  const path = join(REPO, 'models', name);
  const bytes = await readFile(join(REPO, 'models', 'gemma-3-270m-q4_k_m.gguf'));
  const needle = Buffer.from('gemma3');
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) Buffer.from('mamba9').copy(bytes, at);
  await writeFile(path, bytes);
  try {
    const page = await browser.context.newPage();
    await recordProgress(page);
    await page.goto(`${server.origin}/?model=/models/${name}`);
    const loaded = await waitForModel(page);
    assert.equal(loaded.state, 'error');
    assert.match(loaded.error, /^This file is not a model the page can run: unsupported architecture `mamba9` \(supported: .*lfm2.*\)$/);
    const log = await page.evaluate(() => window.__progressLog);
    const seen = log.filter((p) => p.phase === 'download').map((p) => Number(p.value) || 0);
    assert.ok(seen.length > 0, 'the download began');
    const most = Math.max(...seen);
    console.log(`refused after ${most} of ${bytes.length} bytes`);
    assert.ok(most < bytes.length / 4, `stopped after ${most} of ${bytes.length} bytes`);
    await page.close();
  } finally {
    await rm(path, { force: true });
  }
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
