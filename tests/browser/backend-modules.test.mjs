// The backend choice's pure parts, in Node: reading an adapter, telling software renderers from
// hardware, Automatic / WebGPU / CPU, the saved setting and the address hooks. No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeAdapter, isSoftwareAdapter, adapterLabel, chooseBackend, probeAdapter, gpuLimitsText,
} from '../../www/js/backend-choice.js';
import { checkPrefs } from '../../www/js/prefs.js';
import { readSettings } from '../../www/js/settings.js';

// What Chromium's GPUAdapter.info says for its SwiftShader adapter and for a real GPU.
const SWIFTSHADER = { info: { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true } };
const NVIDIA = { info: { vendor: 'nvidia', architecture: 'ada-lovelace', device: '', description: 'NVIDIA GeForce RTX 4070', isFallbackAdapter: false } };
const LAVAPIPE = { info: { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: '' } };

test('adapters are described and software ones recognised', () => {
  const swift = describeAdapter(SWIFTSHADER);
  assert.deepEqual(swift, { vendor: 'google', architecture: 'swiftshader', device: '', description: '', fallback: true });
  assert.equal(isSoftwareAdapter(swift), true);
  assert.equal(adapterLabel(swift), 'google swiftshader (fallback adapter)');
  const nvidia = describeAdapter(NVIDIA);
  assert.equal(isSoftwareAdapter(nvidia), false);
  assert.equal(adapterLabel(nvidia), 'nvidia ada-lovelace NVIDIA GeForce RTX 4070');
  // Not flagged as a fallback adapter, but named as a software rasteriser.
  const lava = describeAdapter(LAVAPIPE);
  assert.equal(lava.fallback, false);
  assert.equal(isSoftwareAdapter(lava), true);
  assert.match(adapterLabel(lava), /llvmpipe.*\(software\)$/);
  // Older Chromium put the flag on the adapter itself.
  assert.equal(describeAdapter({ info: { vendor: 'x' }, isFallbackAdapter: true }).fallback, true);
  assert.equal(describeAdapter(null), null);
  assert.equal(describeAdapter({ info: { vendor: 7 } }).vendor, '');
});

test('Automatic takes WebGPU only on hardware; WebGPU and CPU are obeyed and say why', () => {
  const swift = describeAdapter(SWIFTSHADER);
  const nvidia = describeAdapter(NVIDIA);
  const autoSwift = chooseBackend('auto', swift);
  assert.equal(autoSwift.backend, 'cpu');
  assert.match(autoSwift.reason, /^Automatic: google swiftshader \(fallback adapter\) is a software renderer/);
  const autoHw = chooseBackend('auto', nvidia);
  assert.equal(autoHw.backend, 'gpu');
  assert.match(autoHw.reason, /hardware adapter nvidia/);
  assert.equal(chooseBackend('auto', null).backend, 'cpu');
  assert.match(chooseBackend('auto', null).reason, /no WebGPU adapter/);
  const forced = chooseBackend('gpu', swift, 'the address');
  assert.equal(forced.backend, 'gpu');
  assert.equal(forced.reason, 'WebGPU chosen in the address: google swiftshader (fallback adapter)');
  assert.equal(chooseBackend('gpu', null).backend, 'cpu');
  assert.equal(chooseBackend('cpu', nvidia).backend, 'cpu');
  assert.equal(chooseBackend('cpu', nvidia).reason, 'CPU chosen in settings');
  // Anything else counts as Automatic.
  assert.equal(chooseBackend('quantum', nvidia).backend, 'gpu');
  assert.equal(chooseBackend('quantum', swift).backend, 'cpu');
});

test('probing the adapter never throws', async () => {
  assert.equal(await probeAdapter(undefined), null);
  assert.equal(await probeAdapter({ requestAdapter: async () => null }), null);
  assert.equal(await probeAdapter({ requestAdapter: async () => { throw new Error('blocked'); } }), null);
  let asked = null;
  const desc = await probeAdapter({ requestAdapter: async (opts) => { asked = opts; return NVIDIA; } });
  assert.equal(desc.vendor, 'nvidia');
  assert.deepEqual(asked, { powerPreference: 'high-performance' });
});

test('the GPU limits read as text', () => {
  assert.equal(gpuLimitsText({ max_storage_binding_mib: 1024, context: 4096, gpu_mib: 391, subgroups: false, shader_f16: false }),
    'bindings up to 1024 MiB, KV cache 4096 tokens, 391 MiB on the GPU');
  assert.match(gpuLimitsText({ max_storage_binding_mib: 'x', subgroups: true }), /^bindings up to 0 MiB.*subgroups$/);
  assert.equal(gpuLimitsText(null), '');
});

test('the backend setting is kept and checked, and the address can override it', () => {
  assert.equal(checkPrefs(null).backend, 'auto');
  assert.equal(checkPrefs({ backend: 'gpu' }).backend, 'gpu');
  assert.equal(checkPrefs({ backend: 'cpu' }).backend, 'cpu');
  assert.equal(checkPrefs({ backend: '<img>' }).backend, 'auto');
  const base = 'http://127.0.0.1:8000/';
  assert.equal(readSettings(`${base}?backend=gpu`).backend, 'gpu');
  assert.equal(readSettings(`${base}?backend=cpu`).backend, 'cpu');
  assert.equal(readSettings(`${base}?backend=auto`).backend, 'auto');
  assert.equal(readSettings(`${base}?backend=GPU`).backend, null);
  assert.equal(readSettings(`${base}?gpu_lose_after=3`).loseGpuAfter, 3);
  assert.equal(readSettings(`${base}?gpu_lose_after=0`).loseGpuAfter, 0);
  assert.equal(readSettings(`${base}?gpu_lose_after=-1`).loseGpuAfter, null);
  assert.equal(readSettings(`${base}?gpu_lose_after=2.5`).loseGpuAfter, null);
});
