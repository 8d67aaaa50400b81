// No browser: the widget's saved chat, as written (plain fields, bounded) and as read back
// (checked; a reply cut off mid-stream marked interrupted; ids kept or given; summaries of
// messages no longer there dropped; lorebook state kept only as an object).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatKey, checkMessages, checkWidgetChat, storedChat, storedMessages, MAX_MESSAGES } from '../../www/embed/widget-store.js';

test('a chat is stored under its card address, as plain fields', () => {
  assert.equal(chatKey('https://site.example/characters/wren.json'), 'widget-chat:https://site.example/characters/wren.json');
  const node = { nodeType: 1 };
  const stored = storedMessages([
    { id: 'm1', role: 'assistant', text: 'Hello {{user}}', status: 'greeting', node },
    { id: 'm2', role: 'user', text: 'Hi', status: 'done', node },
    { id: 'm3', role: 'assistant', text: 'Oops', status: 'error', note: 'Failed: boom', node },
  ]);
  assert.deepEqual(stored, [
    { id: 'm1', role: 'assistant', text: 'Hello {{user}}', status: 'greeting' },
    { id: 'm2', role: 'user', text: 'Hi', status: 'done' },
    { id: 'm3', role: 'assistant', text: 'Oops', status: 'error', note: 'Failed: boom' },
  ]);
  const many = Array.from({ length: MAX_MESSAGES + 5 }, (_, i) => ({ role: 'user', text: String(i), status: 'done' }));
  const kept = storedMessages(many);
  assert.equal(kept.length, MAX_MESSAGES);
  assert.equal(kept[kept.length - 1].text, String(MAX_MESSAGES + 4), 'the newest are kept');
});

test('a saved chat read back is checked', () => {
  assert.deepEqual(checkMessages(null), []);
  assert.deepEqual(checkMessages({ messages: [] }), []);
  assert.deepEqual(checkMessages([
    { id: 'm1', role: 'assistant', text: 'Hello', status: 'greeting' },
    null,
    { role: 'user', text: 42, status: 'done' },
    { id: '<b>', role: 'system', text: '<b>odd</b>', status: 'whatever', note: 7 },
    { id: 'm1', role: 'user', text: 'Hi', status: 'done' },
    { id: 'm4', role: 'assistant', text: 'Half a rep', status: 'streaming' },
  ]), [
    { id: 'm1', role: 'assistant', text: 'Hello', status: 'greeting' },
    { id: 'm5', role: 'assistant', text: '<b>odd</b>', status: 'done' },
    { id: 'm6', role: 'user', text: 'Hi', status: 'done' },
    { id: 'm4', role: 'assistant', text: 'Half a rep', status: 'interrupted' },
  ], 'a missing, odd or repeated id is replaced by a new one');
});

test('memory and lorebook state read back are checked', () => {
  const messages = [{ id: 'm1', role: 'assistant', text: 'Hello', status: 'greeting' }, { id: 'm2', role: 'user', text: 'Hi', status: 'done' }];
  const chat = checkWidgetChat({
    messages,
    memory: {
      summaries: [{ text: 'They met.', messageIds: ['m1', 'm2'] }, { text: 'Gone.', messageIds: ['m7'] }, { text: 5 }],
      pinned: [{ id: 'p1', text: 'a pin' }],
    },
    loreState: { entries: { Lamp: { started_at: 1, sticky: 2, first_match: 1 } } },
  });
  assert.deepEqual(chat.memory.summaries.map((s) => s.text), ['They met.'], 'a summary of messages no longer there is dropped');
  assert.deepEqual(chat.memory.pinned, [], 'the widget has no pins');
  assert.deepEqual(Object.keys(chat.loreState.entries), ['Lamp']);
  for (const loreState of ['junk', [1], { entries: 3 }, null]) {
    assert.equal(checkWidgetChat({ messages, loreState }).loreState, null, JSON.stringify(loreState));
  }
  assert.deepEqual(checkWidgetChat('junk'), { messages: [], memory: checkWidgetChat({}).memory, loreState: null });
  const written = storedChat('https://site.example/wren.json', chat);
  assert.deepEqual(checkWidgetChat(JSON.parse(JSON.stringify(written))).memory.summaries, chat.memory.summaries, 'a summary survives a write and a read');
});

test('widget chats travel in the backup file, checked on the way in', async () => {
  const { checkSettings } = await import('../../www/js/backup.js');
  const settings = checkSettings([
      { key: chatKey('https://site.example/wren.json'), value: { messages: [{ role: 'user', text: 'Hi', status: 'streaming' }], savedAt: 5, loreState: 'junk' } },
      { key: chatKey('https://site.example/empty.json'), value: { messages: 'junk' } },
      { key: 'unknown', value: { anything: true } },
  ]);
  assert.deepEqual(settings, [
    {
      key: 'widget-chat:https://site.example/wren.json',
      value: {
        card: 'https://site.example/wren.json',
        messages: [{ id: 'm1', role: 'user', text: 'Hi', status: 'interrupted' }],
        memory: { summaries: [] },
        loreState: null,
        savedAt: 5,
      },
    },
  ]);
});
