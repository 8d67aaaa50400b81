// The page's pure modules, run directly in Node: prompt building, stop strings, card
// checking, address hooks, sampling options and formatting. No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMessages, stopStrings, substituteNames, systemText, greetingText } from '../../www/js/prompt.js';
import { visibleText, finalText } from '../../www/js/stop-text.js';
import { characterFromCard, sameOriginUrl } from '../../www/js/characters.js';
import { readSettings } from '../../www/js/settings.js';
import { sanitizeOptions, fitToContext } from '../../www/js/generation-options.js';
import { formatBytes, formatPercent, formatDuration } from '../../www/js/format.js';

const card = {
  spec: 'chara_card_v3',
  spec_version: '3.0',
  data: {
    name: 'Ada',
    description: '{{char}} is a lighthouse keeper who writes letters to {{user}}.',
    personality: 'patient',
    scenario: '',
    first_mes: 'Hello {{user}}, I am {{Char}}.',
    tags: ['calm', 7, 'sea'],
    system_prompt: '',
  },
};

test('names are substituted in every spelling', () => {
  assert.equal(substituteNames('{{char}}/{{ CHAR }}/<BOT> and {{user}}/<user>', 'Ada', 'Sam'), 'Ada/Ada/Ada and Sam/Sam');
  assert.equal(substituteNames(undefined, 'Ada', 'Sam'), '');
});

test('a V3 card becomes a character with checked fields', () => {
  const c = characterFromCard(card, { id: 'ada' });
  assert.equal(c.id, 'ada');
  assert.equal(c.name, 'Ada');
  assert.deepEqual(c.tags, ['calm', 'sea']);
  assert.equal(c.data.scenario, '');
  assert.equal(c.data.mes_example, '');
  assert.throws(() => characterFromCard({ data: { name: 42 } }), /no name/);
  assert.throws(() => characterFromCard(null), /not a JSON object/);
  const long = characterFromCard({ name: 'V1', description: 'x'.repeat(100_000) });
  assert.equal(long.data.description.length, 32 * 1024);
});

test('card files and avatars must be on the page\'s origin', () => {
  const base = 'http://127.0.0.1:8000/characters/index.json';
  assert.equal(sameOriginUrl('ada.png', base), 'http://127.0.0.1:8000/characters/ada.png');
  assert.equal(sameOriginUrl('https://evil.example/x.png', base), null);
  assert.equal(sameOriginUrl('//evil.example/x.png', base), null);
  assert.equal(sameOriginUrl('javascript:alert(1)', base), null);
  assert.equal(sameOriginUrl(7, base), null);
});

test('the message list starts with system text, a user opener, then the greeting', () => {
  const c = characterFromCard(card, { id: 'ada' });
  const history = [
    { role: 'user', content: 'Hi!' },
    { role: 'assistant', content: '' },
    { role: 'user', content: 'Still there?' },
    { role: 'assistant', content: 'Yes.' },
    { role: 'system', content: 'ignored' },
  ];
  const list = buildMessages(c, history, 'Sam');
  assert.deepEqual(list.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
  assert.match(list[0].content, /^Write Ada's next reply in a fictional chat between Ada and Sam\./);
  assert.match(list[0].content, /Ada is a lighthouse keeper who writes letters to Sam\./);
  assert.match(list[0].content, /Ada's personality: patient/);
  assert.ok(!list[0].content.includes('Scenario'), 'empty fields are left out');
  assert.equal(list[1].content, '(Sam enters the conversation.)');
  assert.equal(list[2].content, 'Hello Sam, I am Ada.');
  assert.equal(list[3].content, 'Hi!\n\nStill there?', 'an empty reply between two user turns merges them');
  assert.equal(list[4].content, 'Yes.');
  assert.equal(greetingText(c, 'Sam'), 'Hello Sam, I am Ada.');
});

test('a card\'s own system prompt replaces the default and can include it', () => {
  const c = characterFromCard({ data: { ...card.data, system_prompt: 'Rules first. {{original}}' } });
  assert.match(systemText(c, 'Sam'), /^Rules first\. Write Ada's next reply/);
});

test('stop strings cover the user\'s name and a "User:" line', () => {
  assert.deepEqual(stopStrings('Sam'), ['Sam:', '\nSam:', '\nUser:']);
  assert.deepEqual(stopStrings('User'), ['User:', '\nUser:']);
});

test('streamed text holds back what could become a stop string', () => {
  const stops = ['\nUser:', 'User:'];
  assert.equal(visibleText('Hello there', stops), 'Hello there');
  assert.equal(visibleText('Hello\nUs', stops), 'Hello');
  assert.equal(visibleText('Hello\n', stops), 'Hello');
  assert.equal(visibleText('Hello\nUser: hi', stops), 'Hello');
  assert.equal(visibleText('I said U', stops), 'I said ');
  assert.equal(finalText('Hello\nUs', stops), 'Hello\nUs');
  assert.equal(finalText('  Hi!\nUser: more', stops), 'Hi!');
});

test('the address hooks accept only sane values and same-origin models', () => {
  const base = 'http://127.0.0.1:9000/';
  assert.deepEqual(readSettings(base), { modelUrl: null, maxTokens: 120, seed: null });
  const s = readSettings(`${base}?model=/models/x.gguf&max_tokens=16&seed=7`);
  assert.equal(s.modelUrl, 'http://127.0.0.1:9000/models/x.gguf');
  assert.equal(s.maxTokens, 16);
  assert.equal(s.seed, 7);
  assert.equal(readSettings(`${base}?max_tokens=0`).maxTokens, 120);
  assert.equal(readSettings(`${base}?max_tokens=1e9`).maxTokens, 120);
  assert.equal(readSettings(`${base}?model=http://other.example/m.gguf`).modelUrl, null);
  assert.equal(readSettings(`${base}?model=http://other.example/m.gguf`).invalid, 'The ?model= address must be on this site.');
});

test('sampling options are clamped and stop strings filtered', () => {
  const o = sanitizeOptions({ max_tokens: 5000, temperature: -1, top_p: 'x', seed: 3.6, stop: ['a', 4, '', 'b'.repeat(65), 'c'] });
  assert.equal(o.max_tokens, 2048);
  assert.equal(o.temperature, 0);
  assert.equal(o.top_p, 0.95);
  assert.equal(o.seed, 4);
  assert.deepEqual(o.stop, ['a', 'c']);
  assert.equal(sanitizeOptions(null).max_tokens, 120);
});

test('old turns are dropped in pairs until the prompt fits', () => {
  // A counting engine: one token per character of the joined contents.
  const engine = {
    render_chat: (list) => list.map((m) => m.content).join(''),
    count_tokens: (text) => text.length,
  };
  const list = [
    { role: 'system', content: 'SSSS' },
    { role: 'user', content: 'u1u1' },
    { role: 'assistant', content: 'a1a1' },
    { role: 'user', content: 'u2u2' },
    { role: 'assistant', content: 'a2a2' },
    { role: 'user', content: 'u3u3' },
    { role: 'tool', content: 'dropped' },
  ];
  const fitted = fitToContext(engine, list, 20, 8);
  assert.deepEqual(fitted.map((m) => m.content), ['SSSS', 'u3u3']);
  assert.deepEqual(fitToContext(engine, list, 26, 8).map((m) => m.content), ['SSSS', 'u2u2', 'a2a2', 'u3u3']);
  assert.equal(fitToContext(engine, list, 1000, 8).length, 6);
});

test('sizes, percentages and durations read well', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(253_113_024), '253.1 MB');
  assert.equal(formatBytes(1_117_320_768), '1.1 GB');
  assert.equal(formatPercent(1, 3), '33%');
  assert.equal(formatPercent(2, 3), '66%');
  assert.equal(formatPercent(3, 3), '100%');
  assert.equal(formatPercent(5, 0), '');
  assert.equal(formatDuration(4.2), '5 s');
  assert.equal(formatDuration(125), '2 min 5 s');
  assert.equal(formatDuration(Infinity), '');
});
