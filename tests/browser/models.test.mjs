// The Models page: presets and stored models with their sizes, the backend in use, a model
// by same-origin address (with download progress) that becomes the active one and stays so
// after a reload, a non-GGUF file refused, a GGUF file from disk that loads and chats,
// deleting a stored copy, persistent storage. Nothing is fetched from another host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { TEST_QUERY, manifestModel, waitForModel, openFirstStarter, sendAndWatch } from './chat-page.mjs';
import { readStores } from './app-page.mjs';

// The CPU backend as the Models page names it: kindred serve makes the page cross-origin isolated,
// so the worker runs one thread a core (at most 8; engine-build.js).
async function cpuBackendText(page) {
  const n = await page.evaluate(() => (self.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 8) : 1));
  return `CPU (WebAssembly SIMD, ${n} thread${n === 1 ? '' : 's'})`;
}

const DEFAULT_FILE = join(REPO, 'models', 'gemma-3-270m-q4_k_m.gguf');
const BIN = process.env.KINDRED_BIN || join(REPO, 'target', 'release', 'kindred');
const QWEN_FILE = join(REPO, 'models', 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf');
const COPY_PATH = '/models/gemma-3-270m-q4_k_m.gguf?copy=1';

let server;
let browser;
let manifest;
let copyId;

before(async () => {
  server = await startServer({ model: 'test' });
  browser = await launchBrowser();
  manifest = JSON.parse(await readFile(join(REPO, 'models', 'manifest.json'), 'utf8'));
  copyId = `url:${server.origin}${COPY_PATH}`;
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The Models page's own reading of the model in use.
function current(page) {
  return page.evaluate(() => {
    const view = document.getElementById('view-models');
    // Right after a reload the page's modules may not have built the view yet.
    if (!view?.querySelector('.models-current-name')) return { name: '', state: 'absent', stateText: '', fields: {} };
    const fields = Object.fromEntries([...view.querySelectorAll('.models-details dd')].map((dd) => [dd.dataset.field, dd.textContent]));
    return {
      name: view.querySelector('.models-current-name').textContent,
      state: view.querySelector('.models-current-state').dataset.state,
      stateText: view.querySelector('.models-current-state').textContent,
      fields,
    };
  });
}

// id: the choice that must have become the active one (it is remembered once it is ready).
async function waitReady(page, name, id = null, timeout = 240_000) {
  await poll(async () => {
    const c = await current(page);
    if (c.state === 'error') throw new Error(`the model did not load: ${c.stateText}`);
    if (!(c.state === 'ready' && c.name === name && c.fields.Backend)) return false;
    return !id || (await activeChoice(page))?.id === id;
  }, { timeout, interval: 200, message: `${name} to be ready` });
  return current(page);
}

async function activeChoice(page) {
  const { settings } = await readStores(page, ['settings']);
  return settings.find((s) => s.key === 'model')?.value ?? null;
}

function chunkCount(page, modelId) {
  return page.evaluate((id) => new Promise((resolve, reject) => {
    const open = indexedDB.open('kindred');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const req = db.transaction('model-chunks', 'readonly').objectStore('model-chunks')
        .count(IDBKeyRange.bound([id, 0], [id, Infinity]));
      req.onsuccess = () => { db.close(); resolve(req.result); };
      req.onerror = () => reject(req.error);
    };
  }), modelId);
}

function storedIds(page) {
  return page.locator('.models-stored li[data-model-id]').evaluateAll((items) => items.map((li) => li.dataset.modelId));
}

async function gotoModels(page) {
  await page.evaluate(() => { location.hash = '#/models'; });
  await page.waitForFunction(() => document.body.dataset.view === 'models');
}

test('the Models page lists the presets, the stored default with its size, and the backend in use', { timeout: 300_000 }, async () => {
  const { page } = browser;
  const model = await manifestModel(server.origin);
  await page.goto(`${server.origin}/${TEST_QUERY}#/models`);
  await waitForModel(page);
  await page.getByRole('heading', { name: 'Models', level: 2 }).waitFor();
  const ready = await waitReady(page, model.name);
  assert.equal(ready.fields.Backend, await cpuBackendText(page));
  assert.ok(ready.fields['Chat format'], 'the chat format is named');
  assert.match(ready.fields['Prompt layout'], /^transcript: /, 'the base model chats in the transcript layout');
  assert.match(await page.locator(`li[data-model-id="${model.id}"] .models-item-why`).textContent(),
    /^The default\. Chosen by whoever serves this site/, 'the default says why (here: the server chose it)');
  assert.equal(ready.fields.Architecture, 'gemma3');
  // 18 layers of one 256-wide KV head, keys and values in f32: 36,864 bytes a token, 8,192 tokens.
  assert.match(ready.fields.Memory,
    /^253\.1 MB of weights \+ up to 302\.0 MB of KV cache at 8192 tokens = 555\.1 MB(; this device reports about [\d.]+ GB of memory)?$/);

  const presets = page.getByRole('list', { name: 'Presets' });
  const defaultItem = presets.locator(`li[data-model-id="${model.id}"]`);
  // The lists are drawn again once the stored model is listed, just after the model is ready.
  await poll(async () => /On this device \(253\.1 MB\)/.test(await defaultItem.textContent().catch(() => '')),
    { timeout: 10_000, message: 'the default preset shown as stored' });
  await poll(async () => / · in use/.test(await page.getByRole('list', { name: 'On this device' }).textContent()),
    { timeout: 10_000, message: 'the stored list' });
  for (const entry of manifest.models) {
    assert.ok(await presets.getByRole('heading', { name: entry.name, exact: true }).isVisible(), `${entry.name} is listed`);
  }
  assert.match(await defaultItem.textContent(), /On this device \(253\.1 MB\)/);
  assert.ok(await defaultItem.getByRole('button', { name: `${model.name} is in use` }).isDisabled());
  // A preset from another host says where it comes from, its size is approximate and unverified.
  const remote = manifest.models.find((m) => m.source.kind === 'url');
  const remoteText = await presets.locator(`li[data-model-id="${remote.id}"]`).textContent();
  assert.match(remoteText, /from huggingface\.co/);
  assert.match(remoteText, /about \d/);
  assert.match(remoteText, /Not verified/);
  assert.match(remoteText, /Not on this device/);

  const stored = page.getByRole('list', { name: 'On this device' });
  assert.deepEqual(await storedIds(page), [model.id]);
  assert.match(await stored.textContent(), new RegExp(`${model.name.replace(/[()]/g, '\\$&')} · 253\\.1 MB · in use`));
  assert.match(await page.locator('.models-usage').textContent(), /^This site uses [\d.]+ [KMG]?B of the [\d.]+ [KMG]?B the browser allows it\.$/);

  // Persistent storage: the page says what the browser answered.
  await page.getByRole('button', { name: 'Keep models when space runs low' }).click();
  // The request may still be pending right after the click: the page and the browser must come to agree.
  await poll(async () => {
    const granted = await page.evaluate(() => navigator.storage.persisted());
    return (await page.locator('.models-persist').textContent()).startsWith(
      granted ? 'Persistent storage: granted' : 'Persistent storage: not granted');
  }, { timeout: 10_000, message: 'the page to say what the browser answered about persistence' });
});

test('a same-origin address downloads with progress and becomes the active model', { timeout: 300_000 }, async () => {
  const { page } = browser;
  await page.evaluate(() => {
    window.__modelsProgress = [];
    const box = document.querySelector('#view-models .models-progress');
    const log = () => window.__modelsProgress.push({
      label: box.querySelector('.progress-label').textContent,
      text: box.querySelector('.progress-text').textContent,
      rate: box.querySelector('.progress-rate').textContent,
      visible: !box.hidden,
      cancel: !box.querySelector('button').hidden,
    });
    new MutationObserver(log).observe(box, { childList: true, characterData: true, subtree: true, attributes: true });
  });
  await page.getByRole('textbox', { name: /Address of a GGUF file/ }).fill('http://example.invalid/model.gguf');
  await page.getByRole('button', { name: 'Download and use', exact: true }).click();
  assert.equal(await page.locator('.models-choose-status').textContent(), 'The address must start with https:// or be on this site.');

  await page.getByRole('textbox', { name: /Address of a GGUF file/ }).fill(COPY_PATH);
  await page.getByRole('button', { name: 'Download and use', exact: true }).click();
  const ready = await waitReady(page, 'gemma-3-270m-q4_k_m.gguf', copyId);
  assert.match(ready.stateText, /^Ready, downloaded\./);
  assert.equal(ready.fields.Backend, await cpuBackendText(page));
  assert.ok(browser.requests.some((u) => u === `${server.origin}${COPY_PATH}`), 'the address was fetched');

  const log = await page.evaluate(() => window.__modelsProgress);
  const downloading = log.filter((e) => e.label === 'Downloading' && e.visible);
  assert.ok(downloading.length > 0, 'download progress was shown');
  assert.ok(downloading.some((e) => /^[\d.]+ [KMG]?B of 253\.1 MB · \d+%$/.test(e.text)), `bytes of the total: ${downloading.map((e) => e.text).slice(0, 3)}`);
  assert.ok(downloading.some((e) => e.text.endsWith('· 100%')), 'the download reached 100 %');
  assert.ok(downloading.every((e) => e.cancel), 'Cancel is offered while downloading');
  const rates = downloading.map((e) => e.rate).filter(Boolean);
  assert.ok(rates.length > 0, 'a speed was shown');
  assert.ok(rates.every((r) => /^[\d.]+ [KMG]?B\/s( · .+ left)?$/.test(r)), rates.join(' | '));

  const choice = await activeChoice(page);
  assert.equal(choice.id, copyId);
  assert.equal(choice.kind, 'url');
  assert.equal(await chunkCount(page, copyId), Math.ceil(253113024 / (8 * 1024 * 1024)));

  // The next visit loads the chosen model from this device, downloading nothing.
  const before = browser.requests.length;
  await page.reload();
  const again = await waitReady(page, 'gemma-3-270m-q4_k_m.gguf');
  assert.match(again.stateText, /^Ready, loaded from this device\./);
  assert.ok(!browser.requests.slice(before).some((u) => u.includes('.gguf')), 'no model request after the reload');
  assert.deepEqual((await storedIds(page)).sort(), [copyId, (await manifestModel(server.origin)).id].sort());
});

test('a download can be cancelled: the previous model comes back and nothing is kept', { timeout: 180_000 }, async () => {
  const { page } = browser;
  // A slow line (the worker's requests follow the page's network conditions) leaves time to cancel.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 5 * 1024 * 1024, uploadThroughput: -1 });
  const slowId = `url:${server.origin}/models/gemma-3-270m-q4_k_m.gguf?copy=2`;
  try {
    await page.getByRole('textbox', { name: /Address of a GGUF file/ }).fill('/models/gemma-3-270m-q4_k_m.gguf?copy=2');
    await page.getByRole('button', { name: 'Download and use', exact: true }).click();
    await poll(async () => /^[\d.]+ MB of 253\.1 MB/.test(await page.locator('.models-progress .progress-text').textContent()),
      { timeout: 60_000, message: 'the slow download to start' });
    // The speed needs two progress reports, so it can lag the first bytes shown.
    const RATE = /^[\d.]+ [KM]?B\/s · .+ left$/;
    await poll(async () => RATE.test(await page.locator('.models-progress .progress-rate').textContent()),
      { timeout: 30_000, message: 'a speed and the time left' });
    await page.evaluate(() => document.getElementById('view-models').scrollTo(0, 0));
    await screenshots(page, 'models-download');
    await page.getByRole('button', { name: 'Cancel the download' }).click();
    const back = await waitReady(page, 'gemma-3-270m-q4_k_m.gguf');
    assert.match(back.stateText, /^Ready, loaded from this device\./);
    assert.equal(await page.locator('.models-choose-status').textContent(), 'Cancelled. Going back to gemma-3-270m-q4_k_m.gguf.');
  } finally {
    // A failure above must not leave the download running into the next tests.
    const cancel = page.getByRole('button', { name: 'Cancel the download' });
    if (await cancel.isVisible().catch(() => false)) {
      await cancel.click().catch(() => {});
      await waitReady(page, 'gemma-3-270m-q4_k_m.gguf').catch(() => {});
    }
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
  }
  assert.equal((await activeChoice(page)).id, copyId, 'the cancelled model did not become the active one');
  assert.equal(await chunkCount(page, slowId), 0, 'no chunk of the cancelled download is kept');
  assert.ok(!(await storedIds(page)).includes(slowId));
});

test('a file that is not a GGUF model is refused clearly', { timeout: 60_000 }, async () => {
  const { page } = browser;
  const fileInput = page.getByLabel('Open a GGUF file…');
  await fileInput.setInputFiles({ name: 'notes.gguf', mimeType: 'application/octet-stream', buffer: Buffer.from('just some notes, not a model') });
  // The status still holds the cancelled download's words until the file's first bytes are read.
  await poll(async () => (await page.locator('.models-choose-status').textContent()).startsWith('“notes.gguf”'),
    { timeout: 10_000, message: 'the refusal' });
  assert.equal(await page.locator('.models-choose-status').textContent(),
    '“notes.gguf” is not a GGUF model file. Pick a file ending in .gguf, as published for llama.cpp.');
  const c = await current(page);
  assert.equal(c.state, 'ready', 'the model in use is untouched');
  assert.equal((await activeChoice(page)).id, copyId);
});

// A model file whose own chat template cannot render a chat (here: a loop that never ends)
// would fail every reply: it is refused from its header with the template's error, before the
// model in use is let go, which stays loaded and chosen.
test('a model whose chat template cannot render is refused and the model in use stays', { timeout: 120_000 }, async () => {
  const { page } = browser;
  const dir = await mkdtemp(join(tmpdir(), 'kindred-template-'));
  try {
    const template = join(dir, 'spin.jinja');
    const file = join(dir, 'spinning.gguf');
    await writeFile(template, '{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}');
    // The CLI saves the tiny model first, then fails to load it for the same reason.
    const made = spawnSync(BIN, ['bench', '--synthetic', 'tiny-qwen3', '--save-synthetic', file, '--chat-template', template], { encoding: 'utf8' });
    assert.match(made.stderr, /template cannot render a chat/, made.stderr);
    await page.getByLabel('Open a GGUF file…').setInputFiles(file);
    const status = page.locator('.models-choose-status');
    let lastStatus = '';
    await poll(async () => /cannot render/.test(lastStatus = await status.textContent()), { timeout: 60_000, message: () => `the refusal (the page says: ${lastStatus})` });
    assert.match(await status.textContent(), /^“spinning\.gguf” is not a model the page can run: chat template: the model's own template cannot render a chat: runs too long/);
    await status.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    await screenshots(page, 'models-template-refused');
    const c = await current(page);
    assert.equal(c.state, 'ready', 'the model in use is untouched');
    assert.equal((await activeChoice(page)).id, copyId);
    assert.ok(!(await storedIds(page)).some((id) => id.includes('spinning')), 'the refused file is not kept');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a GGUF file from disk loads, becomes active and a chat reply streams', { timeout: 420_000 }, async () => {
  const { page } = browser;
  const size = (await stat(DEFAULT_FILE)).size;
  await page.getByLabel('Open a GGUF file…').setInputFiles(DEFAULT_FILE);
  const fileId = `file:gemma-3-270m-q4_k_m.gguf:${size}`;
  const ready = await waitReady(page, 'gemma-3-270m-q4_k_m.gguf', fileId);
  assert.match(ready.stateText, /^Ready, read from a file\./);
  const choice = await activeChoice(page);
  assert.equal(choice.kind, 'file');
  assert.equal(choice.id, fileId);
  assert.equal(choice.url, 'local:gemma-3-270m-q4_k_m.gguf');
  await poll(async () => (await storedIds(page)).includes(choice.id), { timeout: 10_000, message: 'the file kept on this device' });

  await page.evaluate(() => { location.hash = '#/'; });
  await openFirstStarter(page);
  const { reply, lengths } = await sendAndWatch(page, 'Hello! How are you today?');
  assert.equal(reply.role, 'assistant');
  assert.ok(reply.text.trim().length > 0, 'the reply has text');
  assert.ok(lengths.length > 1, `the reply streamed (${lengths})`);
});

test('deleting a stored model frees its space and the list updates', { timeout: 120_000 }, async () => {
  const { page } = browser;
  await gotoModels(page);
  await poll(async () => (await storedIds(page)).includes(copyId), { timeout: 10_000, message: 'the stored list' });
  const usageBefore = Number(await page.locator('.models-usage').getAttribute('data-usage'));
  const item = page.locator(`.models-stored li[data-model-id="${copyId}"]`);
  await item.getByRole('button', { name: 'Delete gemma-3-270m-q4_k_m.gguf from this device' }).click();
  await poll(async () => !(await storedIds(page)).includes(copyId), { timeout: 20_000, message: 'the list to drop the copy' });
  assert.match(await page.locator('.models-storage-status').textContent(), /^Deleted gemma-3-270m-q4_k_m\.gguf \(253\.1 MB\)\.$/);
  assert.equal(await chunkCount(page, copyId), 0, 'its chunks are gone');
  assert.equal((await storedIds(page)).length, 2, 'the other copies stay');
  // Storage use is the browser's own figure and may lag a moment behind the deletion.
  await poll(async () => {
    await page.evaluate(() => { location.hash = '#/'; });
    await gotoModels(page);
    const after = Number(await page.locator('.models-usage').getAttribute('data-usage'));
    return after < usageBefore - 200_000_000;
  }, { timeout: 30_000, interval: 1000, message: 'the storage use to drop by the copy\'s size' });
  await page.evaluate(() => document.getElementById('view-models').scrollTo(0, 0));
  await screenshots(page, 'models');
});

test('a model that is not the default chats in its own chat format (Qwen2.5-Coder 1.5B)', { timeout: 600_000 }, async (t) => {
  const present = await stat(QWEN_FILE).then(() => true, () => false);
  if (!present) {
    console.log('SKIPPED: models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf is absent; fetch it with '
      + 'python3 scripts/fetch-model.py qwen2.5-coder-1.5b-instruct-q4_k_m');
    t.skip('the Qwen model file is absent');
    return;
  }
  const { page } = browser;
  const entry = manifest.models.find((m) => m.id === 'qwen2.5-coder-1.5b-instruct-q4_k_m');
  await page.getByRole('button', { name: `Download and use: ${entry.name}` }).click();
  const ready = await waitReady(page, entry.name, entry.id, 540_000);
  assert.equal(ready.fields.Architecture, 'qwen2');
  assert.notEqual(ready.fields['Chat format'], 'Gemma turns');
  assert.doesNotMatch(ready.fields['Chat format'], /^plain transcript/);
  assert.equal((await activeChoice(page)).id, entry.id);
  await page.evaluate(() => { location.hash = '#/'; });
  await openFirstStarter(page);
  const { reply, lengths } = await sendAndWatch(page, 'Say hello in five words.', 540_000);
  assert.ok(reply.text.trim().length > 0, 'the reply has text');
  assert.ok(lengths.length > 1, 'the reply streamed');
  assert.doesNotMatch(reply.text, /<\|im_(start|end)\|>/, 'no template markers leak into the reply');
});

test('no request left the page\'s origin and nothing failed', () => {
  const foreign = browser.requests.filter((url) => !url.startsWith('blob:') && new URL(url).origin !== server.origin);
  assert.deepEqual(foreign, []);
  assert.deepEqual(browser.pageErrors, []);
});
