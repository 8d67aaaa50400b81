// Every architecture the engine runs, in the page: a tiny random-weight GGUF of each (written
// by `kindred bench --synthetic tiny-ARCH --save-synthetic`), opened as a file under Models as
// a person opens one they downloaded, loads, names its architecture and backend, and gives a
// chat reply that streams and ends. The weights are random, so the words are not the point:
// the load, the forward pass of each architecture in wasm and the chat around it are.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel, openCharacter, sendAndWatch } from './chat-page.mjs';
import { importCards } from './app-page.mjs';

const BIN = process.env.KINDRED_BIN || join(REPO, 'target', 'release', 'kindred');
// The engine's own list, read from where it is kept, so a new architecture joins this test.
async function architectures() {
  const source = await readFile(join(REPO, 'crates', 'engine', 'src', 'models', 'hparams.rs'), 'utf8');
  const list = source.match(/pub const ARCHITECTURES: &\[&str\] = &\[([^\]]*)\]/);
  assert.ok(list, 'ARCHITECTURES in hparams.rs');
  return [...list[1].matchAll(/"([a-z0-9]+)"/g)].map((m) => m[1]);
}
let ARCHITECTURES = [];
// A short card, so that the prompt stays small in the tiny files' byte-level vocabularies.
const CARD = {
  spec: 'chara_card_v2',
  spec_version: '2.0',
  data: { name: 'Pip', description: 'Pip is a cheerful robot.', personality: 'kind', scenario: '', first_mes: 'Beep! Hello.', mes_example: '' },
};

let server;
let browser;
let dir;

before(async () => {
  ARCHITECTURES = await architectures();
  assert.ok(ARCHITECTURES.length >= 9, `${ARCHITECTURES}`);
  dir = await mkdtemp(join(tmpdir(), 'kindred-arch-'));
  for (const arch of ARCHITECTURES) {
    const out = join(dir, `tiny-${arch}.gguf`);
    const r = spawnSync(BIN, ['bench', '--synthetic', `tiny-${arch}`, '--save-synthetic', out, '--prompt-tokens', '4', '--decode-tokens', '1', '--format', 'json']);
    assert.equal(r.status, 0, `writing tiny-${arch}: ${r.stderr}`);
  }
  server = await startServer();
  browser = await launchBrowser();
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// The Models page's details of the model in use, once `name` is ready.
async function readyModel(page, name) {
  let fields = {};
  await poll(async () => {
    const s = await page.evaluate(() => {
      const view = document.getElementById('view-models');
      return {
        name: view.querySelector('.models-current-name')?.textContent,
        state: view.querySelector('.models-current-state')?.dataset.state,
        text: view.querySelector('.models-current-state')?.textContent,
        fields: Object.fromEntries([...view.querySelectorAll('.models-details dd')].map((dd) => [dd.dataset.field, dd.textContent])),
      };
    });
    if (s.state === 'error') throw new Error(`${name} did not load: ${s.text}`);
    fields = s.fields;
    return s.state === 'ready' && s.name === name && Boolean(s.fields.Backend);
  }, { timeout: 120_000, interval: 200, message: `${name} ready` });
  return fields;
}

test('a tiny file of every architecture loads from disk and chats in the page', { timeout: 900_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/?max_tokens=6&seed=3#/`);
  const loaded = await waitForModel(page, 300_000);
  assert.equal(loaded.state, 'ready', `the default model did not load: ${loaded.error}`);
  await importCards(page, { name: 'pip.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
  for (const arch of ARCHITECTURES) {
    const name = `tiny-${arch}.gguf`;
    await page.evaluate(() => { location.hash = '#/models'; });
    await page.getByLabel('Open a GGUF file…').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: await readFile(join(dir, name)) });
    const fields = await readyModel(page, name);
    assert.equal(fields.Architecture, arch, `${arch}: the Models view names it`);
    if (arch === 'gemma3') await screenshots(page, 'models-tiny-architecture');

    await page.evaluate(() => { location.hash = '#/'; });
    await openCharacter(page, 'Pip');
    await page.getByRole('button', { name: 'New chat' }).click();
    // The new chat shows its greeting alone (the last one's messages are gone).
    await page.waitForFunction(() => document.body.dataset.chatReady === 'true'
      && document.querySelectorAll('#messages > li.message').length === 1, null, { timeout: 60_000 });
    const { reply } = await sendAndWatch(page, 'Hello there!', 120_000).catch(async (e) => {
      await screenshots(page, `architecture-${arch}-failed`);
      throw e;
    });
    assert.equal(reply.role, 'assistant', arch);
    assert.notEqual(reply.status, 'error', `${arch}: the reply failed: ${reply.text}`);
  }
  assert.deepEqual(browser.pageErrors, []);
});

test('no request left the page\'s origin', () => {
  const foreign = browser.requests.filter((url) => !url.startsWith('blob:') && new URL(url).origin !== server.origin);
  assert.deepEqual(foreign, []);
});
