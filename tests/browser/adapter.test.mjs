// A character trained elsewhere, brought back: a LoRA adapter (GGUF) of the model in use,
// added in the character editor, checked by the engine (an adapter of another model is
// refused with the reason), kept on the device, and put on the model for that character's
// replies, which then differ from the model's own; removed, the replies are the model's own
// again. A chat can leave its character's adapter out or take a kept one of its own. On
// WebGPU the same, on the GPU. The adapters are random (`kindred bench
// --save-adapter`), the model real (Gemma 3 270M; on WebGPU the scripted one), the browser real.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, TEST_MODEL, SCRIPTED_MODEL, ensureScripted, startServer, launchBrowser, screenshots } from './harness.mjs';
import { session } from './session.mjs';
import { waitForModel, replyAfter, messages } from './chat-page.mjs';
import { readStores, importCards, seedChat } from './app-page.mjs';

const BIN = process.env.KINDRED_BIN || join(REPO, 'target', 'release', 'kindred');
const CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: { name: 'Mara', description: '{{char}} keeps the lighthouse.', first_mes: 'Hello {{user}}.' },
};

const it = session({ server: { model: 'test' } });
let dir;
let adapter;
let foreign;

// A random rank-4 adapter of the model `args` name, written to `out`.
function writeAdapter(args, out) {
  const run = spawnSync(BIN, ['bench', ...args, '--save-adapter', out, '--adapter-rank', '4', '--prompt-tokens', '1', '--decode-tokens', '1', '--format', 'json']);
  assert.equal(run.status, 0, `writing ${out}: ${run.stderr}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kindred-adapter-'));
  writeAdapter(['--model', join(REPO, 'models', `${TEST_MODEL}.gguf`)], join(dir, 'mara-lora.gguf'));
  writeAdapter(['--synthetic', 'tiny-llama'], join(dir, 'llama-lora.gguf'));
  adapter = await readFile(join(dir, 'mara-lora.gguf'));
  foreign = await readFile(join(dir, 'llama-lora.gguf'));
}, { timeout: 120_000 });

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// A new chat with Mara, one message sent; returns the reply. `adapter`: the chat's own choice
// to make first (the Adapter list's label), if any.
async function replyInNewChat(page, characterId, chatId, adapter = null) {
  await seedChat(page, { chatId, characterId, title: chatId, texts: ['Hello {{user}}.'] });
  await page.evaluate((id) => { location.hash = `#/chat/${id}`; }, chatId);
  await page.waitForFunction((id) => document.body.dataset.chatReady === 'true' && location.hash === `#/chat/${id}`, chatId);
  if (adapter) await page.getByRole('combobox', { name: 'Adapter' }).selectOption({ label: adapter });
  await page.getByRole('textbox', { name: 'Message' }).fill('Good evening. What do you keep up here?');
  await replyAfter(page, () => page.getByRole('button', { name: 'Send' }).click(), { timeout: 300_000 });
  const all = await messages(page);
  return all[all.length - 1].text;
}

async function openAdapterSection(page, characterId) {
  await page.evaluate((id) => { location.hash = `#/edit/${id}`; }, characterId);
  await page.waitForFunction(() => document.body.dataset.view === 'editor');
  // Open already when the character has one.
  const section = page.locator('details', { has: page.locator('summary', { hasText: 'Trained adapter (LoRA)' }) });
  if (!(await section.evaluate((d) => d.open))) await section.locator('summary').click();
}

const status = (page) => page.locator('.ed-adapter-current').textContent();

test('an adapter of the model is added in the editor, changes the character\'s replies, and comes off', { timeout: 900_000 }, async () => {
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/?max_tokens=8&seed=5`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  assert.equal((await waitForModel(page, 300_000)).state, 'ready');
  await importCards(page, { name: 'mara.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
  const { characters } = await readStores(page, ['characters']);
  const id = characters.find((c) => c.card.name === 'Mara').id;

  const base = await replyInNewChat(page, id, 'chat-base');
  assert.ok(base.trim().length > 0, 'the model replies');

  await openAdapterSection(page, id);
  assert.match(await status(page), /No adapter/);
  await page.getByLabel('Choose adapter file').setInputFiles({ name: 'llama-lora.gguf', mimeType: 'application/octet-stream', buffer: foreign });
  await page.waitForFunction(() => /was not added/.test(document.querySelector('.ed-adapter-current').textContent));
  assert.match(await status(page), /llama-lora\.gguf was not added: .*made for llama, and this model is gemma3/);
  await page.getByLabel('Choose adapter file').setInputFiles({ name: 'mara-lora.gguf', mimeType: 'application/octet-stream', buffer: adapter });
  await page.waitForFunction(() => /adapts \d+ matrices/.test(document.querySelector('.ed-adapter-current').textContent));
  assert.match(await status(page), /^mara-lora\.gguf: adapts 126 matrices, /, '18 layers of 7 matrices');
  assert.equal(await page.getByLabel('Strength').inputValue(), '1');
  await page.locator('.ed-adapter').scrollIntoViewIfNeeded();
  await screenshots(page, 'editor-adapter');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForFunction(() => document.body.dataset.view === 'character');

  const stored = await readStores(page, ['characters', 'models']);
  const record = stored.characters.find((c) => c.id === id);
  assert.equal(record.adapter?.name, 'mara-lora.gguf');
  assert.equal(record.adapter.scale, 1);
  const kept = stored.models.find((m) => m.id === record.adapter.id);
  assert.ok(kept && kept.kind === 'adapter' && kept.complete && kept.bytes === adapter.length, `the adapter is kept: ${JSON.stringify(kept)}`);

  const adapted = await replyInNewChat(page, id, 'chat-adapted');
  assert.notEqual(adapted, base, 'the adapter writes another reply');
  assert.equal(await page.locator('.model-adapter').textContent(), 'LoRA adapter: mara-lora.gguf, strength 1');
  const picker = page.getByRole('combobox', { name: 'Adapter' });
  assert.deepEqual(await picker.locator('option').allTextContents(), ['The character\'s (mara-lora.gguf)', 'None'], 'the chat follows the character');
  await screenshots(page, 'chat-with-adapter');

  // One chat leaves the adapter out: the model's own reply there, kept with the chat.
  assert.equal(await replyInNewChat(page, id, 'chat-without', 'None'), base, 'this chat without the adapter');
  assert.ok(await page.locator('.model-adapter').isHidden(), 'no adapter line in that chat');
  const without = (await readStores(page, ['chats'])).chats.find((c) => c.id === 'chat-without');
  assert.equal(without.adapter, null, 'the choice is kept with the chat');
  await page.evaluate(() => { location.hash = '#/chat/chat-adapted'; });
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true' && location.hash === '#/chat/chat-adapted');
  assert.equal(await picker.inputValue(), '', 'another chat still follows the character');

  await openAdapterSection(page, id);
  await page.getByRole('button', { name: 'Remove adapter' }).click();
  assert.match(await status(page), /No adapter/);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForFunction(() => document.body.dataset.view === 'character');
  assert.equal(await replyInNewChat(page, id, 'chat-plain'), base, 'without it, the model\'s own reply again');
  assert.ok(await page.locator('.model-adapter').isHidden(), 'no adapter line');
  // A chat can still take a kept adapter on its own.
  assert.equal(await replyInNewChat(page, id, 'chat-own', 'mara-lora.gguf'), adapted, 'this chat with the kept adapter');
  assert.equal(await page.locator('.model-adapter').textContent(), 'LoRA adapter: mara-lora.gguf, strength 1');

  // The Models page lists the kept file as an adapter, with its size, to delete.
  await page.evaluate(() => { location.hash = '#/models'; });
  await page.waitForFunction(() => [...document.querySelectorAll('.models-stored-item')].some((li) => /mara-lora\.gguf · .* · LoRA adapter/.test(li.textContent)));
  await page.locator('.models-stored-item', { hasText: 'LoRA adapter' }).scrollIntoViewIfNeeded();
  await screenshots(page, 'models-adapter-stored');
});

// On WebGPU (SwiftShader here) the adapter runs on the GPU: the model is uploaded again with
// the adapter's matrices, the page stays on WebGPU, the reply changes, and with the adapter
// removed the GPU writes the model's own reply again. On the scripted model (a Gemma 3 reply
// takes SwiftShader two minutes), with an adapter of it; the GPU's products with an adapter are
// checked against the CPU's natively (crates/engine/tests/gpu_fused.rs).
test('on WebGPU the adapter goes on the GPU and comes off', { timeout: 600_000 }, async () => {
  ensureScripted();
  const scripted = join(dir, 'scripted-lora.gguf');
  writeAdapter(['--model', join(REPO, 'models', SCRIPTED_MODEL)], scripted);
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const { page } = browser;
    await page.goto(`${server.origin}/?backend=gpu&max_tokens=8&seed=5`);
    await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
    assert.equal((await waitForModel(page, 300_000)).state, 'ready');
    const backend = () => page.evaluate(() => ({
      backend: document.getElementById('model-status').dataset.backend,
      notice: document.getElementById('model-notice').hidden ? '' : document.getElementById('model-notice').textContent,
    }));
    assert.deepEqual(await backend(), { backend: 'webgpu', notice: '' });
    await importCards(page, { name: 'mara.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
    const { characters } = await readStores(page, ['characters']);
    const id = characters.find((c) => c.card.name === 'Mara').id;

    const base = await replyInNewChat(page, id, 'gpu-base');
    await openAdapterSection(page, id);
    await page.getByLabel('Choose adapter file').setInputFiles({ name: 'scripted-lora.gguf', mimeType: 'application/octet-stream', buffer: await readFile(scripted) });
    await page.waitForFunction(() => /adapts \d+ matrices/.test(document.querySelector('.ed-adapter-current').textContent));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForFunction(() => document.body.dataset.view === 'character');

    const adapted = await replyInNewChat(page, id, 'gpu-adapted');
    assert.deepEqual(await backend(), { backend: 'webgpu', notice: '' }, 'still on the GPU');
    assert.equal(await page.locator('.model-adapter').textContent(), 'LoRA adapter: scripted-lora.gguf, strength 1');
    assert.notEqual(adapted, base, 'the adapter writes another reply on the GPU');
    await screenshots(page, 'chat-with-adapter-webgpu');

    await openAdapterSection(page, id);
    await page.getByRole('button', { name: 'Remove adapter' }).click();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForFunction(() => document.body.dataset.view === 'character');
    assert.equal(await replyInNewChat(page, id, 'gpu-plain'), base, 'without it, the GPU writes the model\'s own reply again');
    assert.deepEqual(await backend(), { backend: 'webgpu', notice: '' });
    assert.deepEqual(browser.pageErrors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});
