// The memory record and the long-chat window, run directly in Node (no browser): pins,
// summary roll-back, backup checks, the prompt request's memory part, and which messages a
// windowed list puts in the page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyMemory, checkMemory, addPin, editPin, removePin, invalidate, addSummary, cleanSummary,
  memoryRequest, spanLabel, setLastUsed, MAX_PIN_CHARS,
} from '../../www/js/memory.js';
import { ListWindow } from '../../www/js/list-window.js';

test('pins are added, edited and removed, with fresh ids', () => {
  const mem = emptyMemory('c1');
  const a = addPin(mem, '  Zelinda keeps bees.  ', 12);
  const b = addPin(mem, 'x'.repeat(MAX_PIN_CHARS + 10));
  assert.deepEqual([a.id, a.text, a.sourceId], ['p1', 'Zelinda keeps bees.', '12']);
  assert.equal(b.text.length, MAX_PIN_CHARS);
  assert.throws(() => addPin(mem, '   '), /empty/);
  assert.equal(editPin(mem, 'p1', 'Zelinda keeps forty bees.'), true);
  assert.equal(editPin(mem, 'p1', '  '), false, 'an empty edit is refused');
  assert.equal(editPin(mem, 'p9', 'nothing'), false);
  assert.equal(mem.pinned[0].text, 'Zelinda keeps forty bees.');
  assert.equal(removePin(mem, 'p2'), true);
  assert.equal(removePin(mem, 'p2'), false);
  assert.equal(addPin(mem, 'another').id, 'p3', 'ids are not reused');
});

test('a summary is rolled back with every later one when a covered message changes', () => {
  const mem = emptyMemory('c1');
  assert.ok(addSummary(mem, { text: 'Summary: They met.', message_ids: [1, 2, 3] }));
  assert.ok(addSummary(mem, { text: 'They met and sailed.', message_ids: ['4', '5'] }));
  assert.equal(mem.summaries[0].text, 'They met.', 'the label is dropped');
  assert.deepEqual([mem.summaries[1].fromId, mem.summaries[1].toId], ['4', '5']);
  assert.equal(addSummary(mem, { text: 'again', message_ids: ['5', '6'] }), null, 'an overlapping span is refused');
  assert.equal(addSummary(mem, { text: '  ', message_ids: ['6'] }), null);
  assert.equal(invalidate(mem, 9), 0);
  assert.equal(invalidate(mem, 2), 2);
  assert.deepEqual(mem.summaries, []);
  assert.equal(cleanSummary('Updated summary:  A storm.'), 'A storm.');
});

test('the prompt request names the history and carries the newest summary', () => {
  const mem = emptyMemory('c1');
  addPin(mem, 'Fact one');
  addSummary(mem, { text: 'Old story.', message_ids: ['1', '2'] });
  addSummary(mem, { text: 'Newer story.', message_ids: ['3'] });
  const req = memoryRequest(mem, [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }]);
  assert.deepEqual(req, {
    message_ids: ['1', '2', '3', '4'],
    pinned: [{ id: 'p1', text: 'Fact one' }],
    summary: { text: 'Newer story.', to_id: '3' },
    summarise: true,
  });
  const msgs = [{ id: 1 }, { id: 2 }, { id: 3 }];
  assert.equal(spanLabel(mem.summaries[0], msgs), 'Messages 1–2');
  assert.equal(spanLabel(mem.summaries[1], msgs), 'Message 3');
  assert.equal(spanLabel(mem.summaries[0], []), '2 messages');
});

test('records from storage or a backup are checked', () => {
  assert.equal(checkMemory(null), null);
  assert.equal(checkMemory({ pinned: [] }), null, 'no chat id');
  const mem = checkMemory({
    chatId: 'c1',
    pinned: [{ id: 'p4', text: 'ok' }, { id: 5, text: 'bad id' }, { id: 'p6', text: '' }, 'junk'],
    summaries: [{ text: 'S', messageIds: [1, 2] }, { text: 'no ids', messageIds: [] }, { text: 7, messageIds: [1] }],
    lastUsed: { at: 3, items: [{ kind: 'pinned', id: 'p4', text: 'ok' }, { kind: '<script>', text: 'x' }] },
    nextPin: 'many',
  });
  assert.deepEqual(mem.pinned.map((p) => p.id), ['p4']);
  assert.equal(mem.nextPin, 4, 'new pins do not reuse an imported id');
  assert.deepEqual(mem.summaries.map((s) => [s.fromId, s.toId]), [['1', '2']]);
  assert.deepEqual(mem.lastUsed.items, [{ kind: 'pinned', id: 'p4', text: 'ok' }]);
  setLastUsed(mem, 'not a list');
  assert.deepEqual(mem.lastUsed.items, []);
});

test('a long list window covers the view plus a margin, with measured and guessed heights', () => {
  const w = new ListWindow(100);
  w.setKeys(Array.from({ length: 10_000 }, (_, i) => i));
  assert.equal(w.total(), 1_000_000);
  assert.deepEqual(w.range(0, 800, 200), [0, 11]);
  assert.deepEqual(w.range(500_000, 500_800, 200), [4998, 5011]);
  assert.deepEqual(w.tail(800, 200), [9990, 10_000]);
  // Measured heights move everything after them and become the guess for the rest.
  assert.equal(w.measure(0, 300), true);
  assert.equal(w.measure(0, 300), false);
  assert.equal(w.top(1), 300);
  assert.equal(w.total(), 300 * 10_000);
  w.measure(1, 100);
  assert.equal(w.top(2), 400);
  assert.equal(w.indexAt(399), 1);
  assert.equal(w.indexAt(-5), 0);
  assert.equal(w.indexAt(1e12), 9999);
  w.forget(0);
  assert.equal(w.top(1), 100);
  const empty = new ListWindow();
  assert.deepEqual(empty.range(0, 100, 10), [0, 0]);
});
