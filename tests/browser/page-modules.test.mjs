// The page's pure modules, run directly in Node: Markdown parsing, stop strings, starter
// index checks, address hooks, sampling options, settings, record upgrades and formatting.
// No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO } from './harness.mjs';
import { parse, inline, safeHref, plainText } from '../../www/js/markdown.js';
import { sameOriginUrl, indexEntries } from '../../www/js/starters.js';
import { readSettings } from '../../www/js/settings.js';
import { formatBytes, formatPercent, formatDuration } from '../../www/js/format.js';
import { substituteNames, chatSeed, fileStem } from '../../www/js/names.js';
import { checkPrefs, DEFAULT_PREFS, promptSettings, SAMPLING } from '../../www/js/prefs.js';
import { currentSwipe, editSwipe } from '../../www/js/chat-store.js';
import { matches } from '../../www/js/library.js';
import { toBase64, fromBase64 } from '../../www/js/backup.js';

test('names are substituted in every spelling', () => {
  assert.equal(substituteNames('{{char}}/{{ CHAR }}/<BOT> and {{user}}/<user>', 'Ada', 'Sam'), 'Ada/Ada/Ada and Sam/Sam');
  assert.equal(substituteNames(undefined, 'Ada', 'Sam'), '');
});

test('starter files must be on the page\'s origin and index ids are checked', () => {
  const base = 'http://127.0.0.1:8000/characters/index.json';
  assert.equal(sameOriginUrl('ada.png', base), 'http://127.0.0.1:8000/characters/ada.png');
  assert.equal(sameOriginUrl('https://evil.example/x.png', base), null);
  assert.equal(sameOriginUrl('//evil.example/x.png', base), null);
  assert.equal(sameOriginUrl('javascript:alert(1)', base), null);
  assert.equal(sameOriginUrl(7, base), null);
  const entries = indexEntries({ characters: [
    { id: 'ada', file: 'ada.json' }, { id: '../x', file: 'x.json' }, { id: 'bo' }, null, { id: 'cy', file: 'cy.json' },
  ] });
  assert.deepEqual(entries.map((e) => e.id), ['ada', 'cy']);
});

test('Markdown: emphasis, strong, code, lists, quotes and code blocks', () => {
  const blocks = parse('Hi *waves* and **bold** `a<b>` snake_case_name\n- one\n- two\n\n> said\n\n```js\nx <y>\n```\n3. three\n4. four');
  assert.deepEqual(blocks.map((b) => b.type), ['p', 'ul', 'quote', 'code', 'ol']);
  const p = blocks[0].inlines;
  assert.deepEqual(p.map((n) => n.type), ['text', 'em', 'text', 'strong', 'text', 'code', 'text']);
  assert.equal(p[5].text, 'a<b>');
  assert.equal(p[6].text, ' snake_case_name', 'underscores inside words are not emphasis');
  assert.equal(blocks[3].text, 'x <y>');
  assert.equal(blocks[3].lang, 'js');
  assert.equal(blocks[4].start, 3);
  assert.equal(plainText(blocks), 'Hi waves and bold a<b> snake_case_name\n\none\ntwo\n\nsaid\n\nx <y>\n\nthree\nfour');
  // A fence still open while a reply streams runs to the end.
  assert.deepEqual(parse('```\nlet a').map((b) => [b.type, b.text]), [['code', 'let a']]);
});

test('Markdown: only http(s) links get an address, images are never loaded, HTML is text', () => {
  const nodes = inline('[ok](https://example.org/a) [bad](javascript:alert) [rel](/x) ![pic](https://t.example/p.png) <img src=x onerror=alert(1)>');
  const links = nodes.filter((n) => n.type === 'link');
  assert.deepEqual(links.map((l) => l.href), ['https://example.org/a', null, null]);
  assert.deepEqual(nodes.filter((n) => n.type === 'image').map((n) => n.alt), ['pic']);
  assert.equal(nodes[nodes.length - 1].text, ' <img src=x onerror=alert(1)>');
  assert.equal(safeHref('data:text/html,x'), null);
  assert.equal(safeHref('HTTP://EXAMPLE.ORG'), 'http://example.org/');
  assert.equal(safeHref('vbscript:x'), null);
});

test('the address hooks accept only sane values and same-origin models', () => {
  const base = 'http://127.0.0.1:9000/';
  assert.deepEqual(readSettings(base), { modelUrl: null, maxTokens: null, seed: null, backend: null, loseGpuAfter: null, threads: null });
  assert.equal(readSettings(`${base}?threads=2`).threads, 2);
  assert.equal(readSettings(`${base}?threads=0`).threads, null);
  assert.equal(readSettings(`${base}?threads=1.5`).threads, null);
  const s = readSettings(`${base}?model=/models/x.gguf&max_tokens=16&seed=7`);
  assert.equal(s.modelUrl, 'http://127.0.0.1:9000/models/x.gguf');
  assert.equal(s.maxTokens, 16);
  assert.equal(s.seed, 7);
  assert.equal(readSettings(`${base}?max_tokens=0`).maxTokens, null);
  assert.equal(readSettings(`${base}?max_tokens=1e9`).maxTokens, null);
  assert.equal(readSettings(`${base}?model=http://other.example/m.gguf`).modelUrl, null);
  assert.equal(readSettings(`${base}?model=http://other.example/m.gguf`).invalid, 'The ?model= address must be on this site.');
  assert.equal(readSettings(`${base}?step_ms=40`).stepMs, 40);
  for (const bad of ['0', '1001', '2.5', 'x']) assert.equal(readSettings(`${base}?step_ms=${bad}`).stepMs, undefined, bad);
});

// The worker's check of a page's options is the engine's (crates/engine/src/reply_settings.rs,
// tested there); this is the built module's surface the worker and the Settings form call.
test('reply options and the form\'s ranges come from the engine\'s one table', async () => {
  const mod = await import('../../www/pkg/kindred_web.js');
  mod.initSync({ module: await readFile(join(REPO, 'www', 'pkg', 'kindred_web_bg.wasm')) });
  const o = mod.check_options({ max_tokens: 5000, temperature: -1, top_p: 'x', seed: 3.6, stop: ['a', 4, '', 'b'.repeat(65), 'c'] });
  assert.equal(o.max_tokens, 2048);
  assert.equal(o.temperature, 0);
  assert.equal(Number(o.top_p.toPrecision(6)), 0.95, 'not a number: the default');
  assert.equal(o.seed, 4);
  assert.deepEqual(o.stop, ['a', 'c']);
  assert.ok(o.dry_multiplier > 0, 'the engine\'s other defaults come along (DRY)');
  const defaults = mod.check_options({});
  assert.deepEqual(mod.check_options(undefined), defaults, 'no options: every default');
  const table = mod.reply_settings();
  assert.deepEqual(table.map((s) => s.name), SAMPLING, 'the form\'s settings, in its order');
  for (const s of table) {
    assert.equal(defaults[s.name], s.default, `${s.name}: nothing set is the default`);
    assert.ok(s.min <= s.default && s.default <= s.max);
  }
  assert.equal(table.find((s) => s.name === 'temperature').max, 2);
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

test('settings read back are checked: clamped, or for sampling kept as numbers', () => {
  assert.deepEqual(checkPrefs(null), JSON.parse(JSON.stringify(DEFAULT_PREFS)));
  const p = checkPrefs({
    persona: { name: '  ', description: 7 }, sampling: { temperature: 9, top_k: 3.7, max_tokens: 'x' }, context: 10, theme: 'neon',
  });
  assert.equal(p.persona.name, 'User');
  assert.equal(p.persona.description, '');
  assert.deepEqual(p.sampling, { temperature: 9, top_k: 3.7 }, 'numbers kept as set (the engine holds them to range), others dropped');
  assert.deepEqual(checkPrefs({ sampling: { temperature: Infinity, min_p: null, junk: 1 } }).sampling, {});
  assert.equal(p.context, 256);
  assert.equal(p.theme, 'system');
  assert.equal(checkPrefs({ persona: { name: 'Sam' }, theme: 'dark' }).persona.name, 'Sam');
  assert.equal(p.keepScripts, true, 'the script guard is on by default');
  assert.equal(checkPrefs({ keepScripts: 'no' }).keepScripts, true);
  const off = checkPrefs({ keepScripts: false });
  assert.equal(off.keepScripts, false);
  assert.deepEqual(promptSettings(off, 7), { context_tokens: 4096, chat_seed: 7, keep_scripts: false });
});

test('swipes: the chosen one is current, edits keep what was there', () => {
  const m = { swipes: [{ text: 'a', status: 'done' }, { text: 'b', status: 'done' }], chosen: 1 };
  assert.equal(currentSwipe(m).text, 'b');
  editSwipe(m, 'B');
  assert.equal(currentSwipe(m).text, 'B');
  assert.equal(currentSwipe(m).edits[0].previous, 'b');
  assert.equal(currentSwipe({ swipes: [{ text: 'x' }], chosen: 9 }).text, 'x', 'a bad index falls back to the last');
});

test('library search looks at names, descriptions and tags; the tag filter is exact', () => {
  const c = { card: { name: 'Ada', description: 'Keeps a lighthouse', tags: ['Calm', 'sea'] } };
  assert.ok(matches(c, '', ''));
  assert.ok(matches(c, 'LIGHT', ''));
  assert.ok(matches(c, 'sea', 'calm'));
  assert.ok(!matches(c, 'storm', ''));
  assert.ok(!matches(c, '', 'se'));
});

test('chat seeds are stable, file names are tame, base64 round-trips', () => {
  assert.equal(chatSeed('chat-1'), chatSeed('chat-1'));
  assert.notEqual(chatSeed('chat-1'), chatSeed('chat-2'));
  assert.equal(fileStem('Séraphina <the> Guardian/../'), 'Seraphina-the-Guardian');
  assert.equal(fileStem('***'), 'character');
  const bytes = new Uint8Array(70_000).map((_, i) => i % 251);
  assert.deepEqual(new Uint8Array(fromBase64(toBase64(bytes.buffer))), bytes);
});

test('the engine build takes one thread a core, at most eight, or what was asked', async () => {
  const { threadTarget } = await import('../../www/js/engine-build.js');
  assert.equal(threadTarget(null, 2), 2);
  assert.equal(threadTarget(null, 32), 8);
  assert.equal(threadTarget(3, 2), 3);
  assert.equal(threadTarget(1, 16), 1);
  assert.equal(threadTarget(0, 4), 4);
  assert.equal(threadTarget(null, undefined), 1);
});
