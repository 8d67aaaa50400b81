// The WebGPU backend in the page, on headless Chromium's SwiftShader adapter: a software GPU
// whose compute runs tens of seconds a token on this shared machine, so the GPU only ever reads
// a 6-token prompt here. The engine the worker uses, driven directly, gives the CPU backend's
// greedy tokens on WebGPU up to the first near tie, reuses the cached prefix there, and hands a
// reply to the CPU when the device is destroyed after a streamed token. Through the page:
// ?backend=gpu runs the model on WebGPU and says so with SwiftShader's adapter and the limits;
// Automatic picks the CPU on SwiftShader and says why; a device destroyed as a reply starts
// (?gpu_lose_after=0) gives a notice, the CPU writes the reply, and the chat keeps its messages.
//
// Tolerance: the GPU kernels dot dequantized weights with f32 activations where the CPU backend
// quantizes activations to 8 bits first (as llama.cpp does), so logits differ a little: at most
// 0.8 anywhere in the vocabulary, in logits near zero, and about 0.1 among the top ones
// (crates/engine/tests/gpu_model.rs; here the top-2 gaps of the two backends differ by under
// 0.2). Tokens are compared wherever the CPU's two best logits are NEAR_TIE apart or more.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, screenshots, poll, SCREENSHOTS, VIEWPORTS } from './harness.mjs';
import { waitForModel, messages, openCharacter, sendAndWatch, manifestModel } from './chat-page.mjs';
import { importCards } from './app-page.mjs';

const NEAR_TIE = 0.5;
const MAX_TOKENS = 6;
const QUERY = `max_tokens=${MAX_TOKENS}&seed=3`;
const MESSAGE = 'Hello! Who are you?';

// A tiny card: its whole prompt is read token by token on the software GPU.
const CARD = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: {
    name: 'Kit',
    description: '{{char}} is a friendly fox who answers in one short sentence.',
    first_mes: 'Hi, I am Kit.',
    tags: ['fox'],
  },
};

let server;
let browser;
let cpuReply = null;

async function openPage(query) {
  const { page } = browser;
  await page.goto(`${server.origin}/?${query}`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  const model = await waitForModel(page, 300_000);
  assert.equal(model.state, 'ready', `model did not load: ${model.error}`);
  return page.evaluate(() => ({
    backend: document.getElementById('model-status').dataset.backend || '',
    line: document.querySelector('#model-status .model-backend')?.textContent || '',
    info: document.getElementById('model-info').textContent,
  }));
}

// Kit's newest chat, then a fresh one, so every reply answers the same prompt.
async function freshChat(page) {
  await openCharacter(page, 'Kit');
  if ((await messages(page)).length > 1) {
    const before = page.url();
    await page.getByRole('button', { name: 'New chat' }).click();
    // The address changes before the new chat is drawn: wait for its single greeting.
    await poll(async () => page.url() !== before && (await messages(page)).length === 1,
      { timeout: 30_000, message: 'a fresh chat' });
  }
  assert.equal((await messages(page)).length, 1, 'a fresh chat holds only the greeting');
}

before(async () => {
  server = await startServer({ model: 'test' });
  browser = await launchBrowser();
  const { page } = browser;
  page.on('dialog', (d) => d.dismiss().catch(() => {}));
  await openPage(`backend=cpu&${QUERY}`);
  await importCards(page, { name: 'kit.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(CARD)) });
  // Greedy replies: the same on every run and comparable across backends.
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.waitForFunction(() => document.getElementById('settings-form').dataset.samplingReady === 'true');
  await page.getByLabel('Temperature').fill('0');
  await page.getByLabel('Repeat penalty').fill('1');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.waitForFunction(() => document.getElementById('settings-saved').textContent === 'Saved.');
}, { timeout: 400_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the engine on WebGPU: the CPU\'s greedy tokens, prefix reuse, and the CPU taking over a lost device', { timeout: 1_200_000 }, async () => {
  const { page } = browser;
  const entry = await manifestModel(server.origin);
  // A page of the site without the app, so no worker loads a model beside this one.
  await page.goto(`${server.origin}/models/manifest.json`);
  const result = await page.evaluate(async ({ file, n }) => {
    const mod = await import('/pkg/kindred_web.js');
    await mod.default();
    const response = await fetch(`/models/${file}`);
    const engine = mod.Engine.load(new Uint8Array(await response.arrayBuffer()));
    // Clear first tokens on the CPU (top-2 gaps 1.4-2.7), as short as the old French prompt.
    const prompt = 'Monday, Tuesday, Wednesday,';
    // -> {start, tokens: [{token, margin}], fallback}; loseAfter: destroy the device after that many tokens.
    const greedy = async (loseAfter = -1) => {
      // The raw argmax: no penalty, no DRY (the chat's default), so steps queue ahead.
      const start = engine.start(prompt, { temperature: 0, repeat_penalty: 1, dry_multiplier: 0, max_tokens: n });
      const tokens = [];
      let fallback = null;
      for (;;) {
        if (tokens.length === loseAfter) engine.lose_gpu();
        const margin = engine.top2_margin();
        const step = await engine.step();
        fallback ||= step.fallback || null;
        if (step.prefill_left !== undefined && step.prefill_left !== null) continue;
        if (step.token !== undefined && step.token !== null) tokens.push({ token: step.token, margin });
        if (step.done) return { start, tokens, fallback };
      }
    };
    const cpu = await greedy();
    const cpuBackend = engine.backend();
    const summary = await engine.use_gpu(64);
    const gpuBackend = engine.backend();
    const gpu = await greedy();
    const gpuInfo = engine.info();
    // Again: the GPU's cache keeps all but the last prompt token; destroyed after one token.
    const lost = await greedy(1);
    return { cpu, gpu, lost, cpuBackend, gpuBackend, summary, gpuInfo, after: engine.backend(), info: engine.info() };
  }, { file: entry.file, n: 3 });
  assert.equal(result.cpuBackend, 'cpu');
  assert.equal(result.gpuBackend, 'webgpu');
  assert.equal(result.summary.software, true, 'SwiftShader is a fallback adapter');
  assert.equal(result.summary.context, 64);
  assert.ok(result.summary.max_storage_binding_mib >= 128, JSON.stringify(result.summary));
  assert.ok(result.summary.gpu_mib > 100, 'the weights are on the GPU');
  const cpuIds = result.cpu.tokens.map((t) => t.token);
  assert.equal(result.gpu.tokens.length, cpuIds.length);
  let compared = 0;
  for (const [i, { token, margin }] of result.cpu.tokens.entries()) {
    if (!(margin >= NEAR_TIE)) break;
    assert.equal(result.gpu.tokens[i].token, token, `token ${i}: GPU ${result.gpu.tokens[i].token}, CPU ${token} (CPU top-2 gap ${margin})`);
    compared += 1;
  }
  // The prompt is chosen for a confident continuation, so this cannot pass by comparing nothing.
  assert.ok(compared >= 2, `only ${compared} tokens before a near tie: ${JSON.stringify(result.cpu.tokens)}`);
  // Each step queued the next before its token came back: the second and third tokens came from queued steps.
  assert.equal(result.gpuInfo.gpu.steps_queued, 2, JSON.stringify(result.gpuInfo.gpu));
  assert.equal(result.gpu.start.n_reused, 0, 'moving to the GPU starts from an empty cache');
  assert.equal(result.lost.start.n_reused, result.lost.start.n_prompt - 1, 'the second run reuses the GPU\'s cache');
  assert.match(result.lost.fallback || '', /GPU/, 'the step after the loss says why the GPU was given up');
  assert.equal(result.after, 'cpu');
  assert.equal(result.info.backend, 'cpu');
  // One token from the GPU, the rest from the CPU: greedy, so the CPU's own reply.
  assert.deepEqual(result.lost.tokens.map((t) => t.token), cpuIds);
});

test('the CPU backend, chosen in the address, answers greedily', { timeout: 600_000 }, async () => {
  const { page } = browser;
  const status = await openPage(`backend=cpu&${QUERY}`);
  assert.equal(status.backend, 'cpu');
  assert.equal(status.line, 'CPU · CPU chosen in the address');
  await freshChat(page);
  const { reply } = await sendAndWatch(page, MESSAGE, 300_000);
  assert.equal(reply.role, 'assistant');
  assert.ok(reply.text.trim().length > 0, 'the CPU reply has text');
  cpuReply = reply.text;
});

test('?backend=gpu runs the model on WebGPU and says so: SwiftShader, fallback, limits', { timeout: 300_000 }, async () => {
  const status = await openPage(`backend=gpu&${QUERY}`);
  assert.equal(status.backend, 'webgpu', status.line);
  assert.match(status.line, /^WebGPU · WebGPU chosen in the address: google swiftshader \(fallback adapter\); bindings up to \d+ MiB, KV cache 4096 tokens, \d+ MiB on the GPU/);
  assert.match(status.info, /backend: webgpu/);
  // The model panel stays in view in a chat.
  await openCharacter(browser.page, 'Kit');
  await screenshots(browser.page, 'webgpu-status');
});

test('Automatic picks the CPU on SwiftShader and says why', { timeout: 300_000 }, async () => {
  const { page } = browser;
  const status = await openPage(QUERY);
  assert.equal(status.backend, 'cpu');
  assert.equal(status.line, 'CPU · Automatic: google swiftshader (fallback adapter) is a software renderer, slower than the CPU backend');
  await page.getByRole('link', { name: 'Settings' }).click();
  assert.equal(await page.getByRole('radio', { name: 'Automatic' }).isChecked(), true);
  await screenshots(page, 'webgpu-settings');
  // The Backend group itself, at both sizes (it sits below the first screen on a phone).
  for (const [kind, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    await page.getByRole('group', { name: 'Backend' }).screenshot({ path: join(SCREENSHOTS, `webgpu-settings-backend-${kind}.png`) });
  }
  await page.setViewportSize(VIEWPORTS.desktop);
});

test('a GPU lost as a reply starts: a notice, the reply written on the CPU, the chat intact', { timeout: 600_000 }, async () => {
  const { page } = browser;
  const status = await openPage(`backend=gpu&gpu_lose_after=0&${QUERY}`);
  assert.equal(status.backend, 'webgpu');
  await freshChat(page);
  const chatUrl = page.url();
  const { reply, all } = await sendAndWatch(page, MESSAGE, 500_000);
  const after = await page.evaluate(() => ({
    notice: document.getElementById('model-notice').hidden ? '' : document.getElementById('model-notice').textContent,
    backend: document.getElementById('model-status').dataset.backend,
    line: document.querySelector('#model-status .model-backend').textContent,
  }));
  assert.match(after.notice, /^The GPU stopped working \(.+\)\. The chat goes on on the CPU\.$/);
  assert.equal(after.backend, 'cpu');
  assert.match(after.line, /^CPU · the GPU failed during a reply \(.+\): CPU$/);
  assert.notEqual(reply.status, 'error');
  // Greedy, and the CPU read the whole prompt again: the CPU's reply.
  assert.equal(reply.text, cpuReply);
  assert.deepEqual(all.map((m) => m.role), ['assistant', 'user', 'assistant']);
  await screenshots(page, 'webgpu-fallback');
  // Stored: a reload shows the same chat.
  await page.goto(`${server.origin}/?backend=cpu&${QUERY}${new URL(chatUrl).hash}`);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 120_000 });
  assert.deepEqual(await messages(page), all);
});
