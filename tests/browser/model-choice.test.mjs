// The Models page's pure rules, run in Node: which addresses the page may fetch a model
// from, the manifest's presets, stored choices read back, the GGUF signature, and how the
// backend and chat format read. No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './harness.mjs';
import {
  isGguf, modelAddress, choiceFromAddress, choiceFromFile, presetsFromManifest, checkChoice, backendText, templateText,
} from '../../www/js/model-choice.js';
import { RateMeter } from '../../www/js/rate-meter.js';

const PAGE = 'http://127.0.0.1:8080/index.html#/models';
const MANIFEST = 'http://127.0.0.1:8080/models/manifest.json';

test('a model address is https or on the page\'s own site, nothing else', () => {
  assert.equal(modelAddress('/models/a.gguf', PAGE).href, 'http://127.0.0.1:8080/models/a.gguf');
  assert.equal(modelAddress(' https://example.org/m.gguf#x ', PAGE).href, 'https://example.org/m.gguf');
  for (const [bad, why] of [
    ['http://example.org/m.gguf', /https/],
    ['javascript:alert(1)', /https/],
    ['data:application/octet-stream,GGUF', /https/],
    ['blob:http://127.0.0.1:8080/x', /https/],
    ['', /Type the address/],
    ['https://user:pw@example.org/m.gguf', /user name or password/],
    ['http://[bad', /not a valid address/],
  ]) {
    assert.throws(() => modelAddress(bad, PAGE), why, bad);
  }
  const choice = choiceFromAddress('https://example.org/dir/My%20Model.gguf', PAGE);
  assert.deepEqual(choice, {
    id: 'url:https://example.org/dir/My%20Model.gguf', name: 'My Model.gguf', url: 'https://example.org/dir/My%20Model.gguf',
    bytes: 0, sha256: null, kind: 'url',
  });
});

test('a picked file is named by its name and size and is never fetched', () => {
  const choice = choiceFromFile({ name: 'tiny.gguf', size: 1234 });
  assert.deepEqual(choice, { id: 'file:tiny.gguf:1234', name: 'tiny.gguf', url: 'local:tiny.gguf', bytes: 1234, sha256: null, kind: 'file' });
});

test('the GGUF signature is the first four bytes', () => {
  assert.ok(isGguf(new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0])));
  assert.ok(!isGguf(new Uint8Array([0x47, 0x47, 0x55])));
  assert.ok(!isGguf(new TextEncoder().encode('{"default":')));
  assert.ok(!isGguf(new TextEncoder().encode('ggufish')), 'case matters');
  assert.ok(!isGguf([0x47, 0x47, 0x55, 0x46]), 'only bytes');
});

test('the project\'s manifest gives the bundled default and https presets', async () => {
  const manifest = JSON.parse(await readFile(join(REPO, 'models', 'manifest.json'), 'utf8'));
  const presets = presetsFromManifest(manifest, MANIFEST);
  assert.equal(presets.length, manifest.models.length, 'every entry is usable');
  const def = presets.find((p) => p.isDefault);
  assert.equal(def.id, manifest.default);
  assert.equal(def.url, 'http://127.0.0.1:8080/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf');
  assert.equal(def.bytes, 491400064);
  assert.match(def.defaultReason, /instruct/, 'the Models page says why it is the default');
  assert.equal(presets.find((p) => p.id === 'gemma-3-270m-q4_k_m').defaultReason, '');
  assert.match(def.sha256, /^[0-9a-f]{64}$/);
  // The engine's list, where it is kept.
  const hparams = await readFile(join(REPO, 'crates', 'engine', 'src', 'models', 'hparams.rs'), 'utf8');
  const runs = [...hparams.match(/pub const ARCHITECTURES: &\[&str\] = &\[([^\]]*)\]/)[1].matchAll(/"([a-z0-9]+)"/g)].map((m) => m[1]);
  const remote = presets.filter((p) => p.url.startsWith('https://huggingface.co/'));
  assert.ok(remote.length >= 6, 'SmolLM2, Qwen2.5, Llama 3.2 and Gemma 3 presets');
  for (const p of remote) {
    assert.match(p.url, /^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/main\/[^/]+\.gguf$/, p.id);
    assert.equal(p.bytes, 0, `${p.id}: an approximate size is not used to check the download`);
    assert.ok(p.approxBytes > 100_000_000, p.id);
    assert.equal(p.sha256, null);
    assert.ok(p.licence && p.architecture && p.quant, p.id);
    assert.ok(runs.includes(p.architecture), `${p.id}: an architecture the engine runs (${runs})`);
  }
  for (const family of ['SmolLM2', 'Qwen2.5 ', 'Qwen3.5 ', 'Llama 3.2', 'Gemma 3 1B']) {
    assert.ok(remote.some((p) => p.name.startsWith(family)), family);
  }
});

test('manifest entries that break the rules are left out', () => {
  const presets = presetsFromManifest({
    default: 'a',
    models: [
      { id: 'a', name: 'A', file: 'a.gguf', bytes: 10, sha256: 'zz' },
      { id: 'b', source: { kind: 'url', url: 'http://plain.example/b.gguf' } },
      { id: 'c', file: 'https://elsewhere.example/c.gguf' },
      { id: 'd', source: { kind: 'url', url: 'https://ok.example/d.gguf', page: 'javascript:alert(1)' } },
      { name: 'no id', file: 'x.gguf' },
      null,
    ],
  }, MANIFEST);
  assert.deepEqual(presets.map((p) => p.id), ['a', 'd']);
  assert.equal(presets[0].sha256, null, 'a malformed checksum is not trusted');
  assert.equal(presets[1].page, '', 'only an https page link is kept');
});

test('a stored choice is checked again when read back', () => {
  const ok = { id: 'url:https://x.example/m.gguf', name: 'm', url: 'https://x.example/m.gguf', bytes: 5, sha256: null, kind: 'url' };
  assert.deepEqual(checkChoice(ok, PAGE), ok);
  assert.equal(checkChoice({ ...ok, url: 'http://x.example/m.gguf' }, PAGE), null);
  assert.equal(checkChoice({ ...ok, id: '' }, PAGE), null);
  assert.equal(checkChoice('nope', PAGE), null);
  assert.deepEqual(checkChoice({ id: 'file:a:1', name: 'a', url: 'local:a', bytes: 1, kind: 'file' }, PAGE),
    { id: 'file:a:1', name: 'a', url: 'local:a', bytes: 1, sha256: null, kind: 'file' });
  assert.equal(checkChoice({ id: 'file:a:1', url: 'https://x.example/a', kind: 'file' }, PAGE), null);
  assert.equal(checkChoice({ ...ok, bytes: -3, sha256: 'abc' }, PAGE).bytes, 0);
});

test('the backend reads from the worker\'s report, whichever fields it has', () => {
  assert.deepEqual(backendText({ info: { backend: 'cpu', threads: 1 } }), { name: 'CPU (WebAssembly SIMD, 1 thread)', reason: '' });
  assert.deepEqual(backendText({ info: { backend: 'cpu', threads: 4 } }).name, 'CPU (WebAssembly SIMD, 4 threads)');
  assert.deepEqual(backendText({ backend: 'webgpu', backendReason: 'hardware adapter', adapter: { name: 'Example GPU' }, info: {} }),
    { name: 'WebGPU (Example GPU)', reason: 'hardware adapter' });
  assert.equal(backendText({ backend: 'gpu' }).name, 'WebGPU');
  assert.equal(backendText({ backend: 'cpu', backendReason: 'software adapter only' }).reason, 'software adapter only');
  assert.equal(backendText({ backend: 'something-new' }).name, 'something-new');
  assert.equal(templateText('chatml'), 'ChatML');
  assert.equal(templateText('jinja'), 'the file’s own chat template');
  assert.equal(templateText('other'), 'other');
});

test('download speed and time left come from the last few seconds', () => {
  let now = 0;
  const meter = new RateMeter(3000, () => now);
  assert.equal(meter.text(0, 100_000_000), '');
  now = 1000;
  assert.equal(meter.text(10_000_000, 100_000_000), '10.0 MB/s · 9 s left');
  now = 2000;
  assert.equal(meter.text(20_000_000, 20_000_000), '10.0 MB/s');
  meter.reset();
  assert.equal(meter.text(20_000_000, 0), '');
});
