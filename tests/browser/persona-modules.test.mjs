// The persona and safety settings' pure parts, in Node: old settings migrate into the persona
// list, a chat's persona falls back to the default, stored safety settings are checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkPersonas, chatPersona, newPersonaId } from '../../www/js/personas.js';
import { checkPrefs } from '../../www/js/prefs.js';
import { checkSafety, parseTerms } from '../../www/js/safety.js';

test('the single persona of old settings becomes the default of the list', () => {
  const p = checkPrefs({ persona: { name: ' Sam ', description: '{{user}} sails.' } });
  assert.deepEqual(p.personas, [{ id: 'default', name: 'Sam', description: '{{user}} sails.' }]);
  assert.equal(p.defaultPersona, 'default');
  assert.deepEqual(p.persona, { name: 'Sam', description: '{{user}} sails.' });
});

test('the persona list is checked: ids unique, names never empty, the default exists', () => {
  const { personas, defaultPersona } = checkPersonas({
    personas: [{ id: 'a', name: 'Ann' }, { id: 'a', name: '  ' }, { name: 7 }, 'junk'],
    defaultPersona: 'missing',
  });
  assert.deepEqual(personas.map((p) => p.name), ['Ann', 'User', 'User', 'User']);
  assert.equal(new Set(personas.map((p) => p.id)).size, 4);
  assert.equal(defaultPersona, 'a');
  const prefs = checkPrefs({ personas: [{ id: 'a', name: 'Ann' }, { id: 'b', name: 'Bo' }], defaultPersona: 'b' });
  assert.deepEqual(prefs.persona, { name: 'Bo', description: '' }, '`persona` is the default one');
  assert.equal(chatPersona(prefs, 'a').name, 'Ann');
  assert.equal(chatPersona(prefs, 'gone').name, 'Bo', 'a deleted persona falls back to the default');
  assert.equal(chatPersona(prefs, undefined).name, 'Bo');
  assert.ok(!['a', 'b'].includes(newPersonaId(prefs.personas)));
});

test('stored safety settings are checked', () => {
  assert.deepEqual(checkSafety(null), { level: 'standard', lists: {} });
  assert.deepEqual(checkSafety({ level: 'max', lists: { sexual: { terms: ['a', 3], strict_terms: 'x' }, evil: {} } }), {
    level: 'standard', lists: { sexual: { terms: ['a'], strict_terms: [] } },
  });
  assert.equal(checkSafety({ level: 'off' }).level, 'off');
  assert.deepEqual(parseTerms(' porn, nudes\n\n kill myself \n'), ['porn', 'nudes', 'kill myself']);
});
