// The character editor's pure code, run directly in Node: list fields, the definition's
// token-count request and its description, and the Rust profile functions the editor calls
// (the built www/pkg module, loaded without a browser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './harness.mjs';
import { splitList, splitLines } from '../../www/js/editor-dom.js';
import { definitionRequest, describeCount } from '../../www/js/editor-tokens.js';

async function wasm() {
  const mod = await import('../../www/pkg/kindred_web.js');
  mod.initSync({ module: await readFile(join(REPO, 'www', 'pkg', 'kindred_web_bg.wasm')) });
  return mod;
}

test('comma and line lists drop blanks and trim', () => {
  assert.deepEqual(splitList(' sea, pirate ,, ship '), ['sea', 'pirate', 'ship']);
  assert.deepEqual(splitList(''), []);
  assert.deepEqual(splitList(undefined), []);
  assert.deepEqual(splitLines('old charts\n\n  weather lore \n'), ['old charts', 'weather lore']);
});

test('the definition is counted without history or persona text', () => {
  const card = { name: 'Mira', description: 'A captain.' };
  const req = definitionRequest(card, 'Sam');
  assert.deepEqual(req.history, []);
  assert.deepEqual(req.persona, { name: 'Sam', description: '' });
  assert.equal(req.settings.reply_reserve, 0);
  assert.equal(definitionRequest(card, '').persona.name, 'User');
  const d = describeCount({ total: 1234, character: 1000, examples: 0, system: 30, lore: 4, post_history: 0 });
  assert.equal(d.total, 1234);
  assert.deepEqual(d.parts, ['description and personality 1,000', 'system prompt 30', 'lorebook 4']);
});

test('the definition count grows with the card, with the same assembly as a prompt', async () => {
  const mod = await wasm();
  const count = (card) => JSON.parse(mod.assemble_prompt(JSON.stringify(definitionRequest(card, 'Sam')))).tokens;
  const small = count({ name: 'Mira', description: 'A captain.' });
  const big = count({ name: 'Mira', description: 'A captain.', mes_example: '<START>\n{{user}}: Hi\n{{char}}: Ahoy there, sailor, welcome aboard.' });
  assert.ok(big.examples > 0 && small.examples === 0);
  assert.ok(big.total > small.total);
  const lore = count({
    name: 'Mira',
    character_book: { entries: [{ keys: ['x'], content: 'The Gull has red sails.', constant: true }] },
  });
  assert.ok(lore.lore > 0, 'an always-on lorebook entry is part of the definition');
});

test('profiles compile, store in a card and read back through Rust', async () => {
  const mod = await wasm();
  const profile = { attributes: { identity: 'a captain', interests: ['charts'] }, traits: ['I never give up.', 'Brave.'] };
  const out = JSON.parse(mod.compile_profile(JSON.stringify(profile)));
  assert.equal(out.description, '{{char}} is a captain.\nInterests: charts.');
  assert.match(out.personality, /- I never give up\./);
  assert.deepEqual(out.issues, ['Trait 2 should be in the character\'s own words ("I ...", "My ...").']);
  const card = { name: 'Mira', description: 'mine', extensions: { kindred: { keep: 1 }, other: { x: 2 } } };
  const kept = JSON.parse(mod.store_card_profile(JSON.stringify(card), JSON.stringify(profile), false));
  assert.equal(kept.description, 'mine');
  assert.equal(kept.extensions.kindred.keep, 1);
  assert.deepEqual(kept.extensions.other, { x: 2 });
  const written = JSON.parse(mod.store_card_profile(JSON.stringify(card), JSON.stringify(profile), true));
  assert.equal(written.description, out.description);
  assert.deepEqual(JSON.parse(mod.read_card_profile(JSON.stringify(written))).traits, profile.traits);
  assert.equal(mod.read_card_profile(JSON.stringify({ name: 'A' })), 'null');
  assert.throws(() => mod.compile_profile('{'), /profile/);
  assert.throws(() => mod.store_card_profile('[]', 'null', true));
});

test('a check puts the character\'s adapter on the model and keeps its results apart', async () => {
  const { startCheck } = await import('../../www/js/check-panel.js');
  const calls = [];
  const engine = { check: (request, options, model) => { calls.push({ request, options, model }); return calls.length; } };
  const prefs = { persona: { name: 'Sam' } };
  const adapter = { id: 'adapter-1', name: 'mara-lora.gguf', scale: 1 };
  startCheck(engine, { card: { name: 'Mara' }, lorebooks: [], prefs, options: {}, model: 'Gemma', adapter });
  startCheck(engine, { card: { name: 'Mara' }, lorebooks: [], prefs, options: {}, model: 'Gemma' });
  assert.deepEqual(calls[0].request.adapter, adapter);
  assert.equal(calls[0].model, 'Gemma + mara-lora.gguf');
  assert.equal(calls[1].request.adapter, undefined);
  assert.equal(calls[1].model, 'Gemma');
  assert.equal(calls[0].options.seed, 1);
});
