// No browser: the widget's saved chat, as written (plain fields, bounded) and as read back
// (checked; a reply cut off mid-stream marked interrupted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatKey, checkMessages, storedMessages, MAX_MESSAGES } from '../../www/embed/widget-store.js';

test('a chat is stored under its card address, as plain fields', () => {
  assert.equal(chatKey('https://site.example/characters/wren.json'), 'widget-chat:https://site.example/characters/wren.json');
  const node = { nodeType: 1 };
  const stored = storedMessages([
    { role: 'assistant', text: 'Hello {{user}}', status: 'greeting', node },
    { role: 'user', text: 'Hi', status: 'done', node },
    { role: 'assistant', text: 'Oops', status: 'error', note: 'Failed: boom', node },
  ]);
  assert.deepEqual(stored, [
    { role: 'assistant', text: 'Hello {{user}}', status: 'greeting' },
    { role: 'user', text: 'Hi', status: 'done' },
    { role: 'assistant', text: 'Oops', status: 'error', note: 'Failed: boom' },
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
    { role: 'assistant', text: 'Hello', status: 'greeting' },
    null,
    { role: 'user', text: 42, status: 'done' },
    { role: 'system', text: '<b>odd</b>', status: 'whatever', note: 7 },
    { role: 'user', text: 'Hi', status: 'done' },
    { role: 'assistant', text: 'Half a rep', status: 'streaming' },
  ]), [
    { role: 'assistant', text: 'Hello', status: 'greeting' },
    { role: 'assistant', text: '<b>odd</b>', status: 'done' },
    { role: 'user', text: 'Hi', status: 'done' },
    { role: 'assistant', text: 'Half a rep', status: 'interrupted' },
  ]);
});

test('widget chats travel in the backup file, checked on the way in', async () => {
  const { checkSettings } = await import('../../www/js/backup.js');
  const settings = checkSettings([
      { key: chatKey('https://site.example/wren.json'), value: { messages: [{ role: 'user', text: 'Hi', status: 'streaming' }], savedAt: 5 } },
      { key: chatKey('https://site.example/empty.json'), value: { messages: 'junk' } },
      { key: 'unknown', value: { anything: true } },
  ]);
  assert.deepEqual(settings, [
    {
      key: 'widget-chat:https://site.example/wren.json',
      value: { card: 'https://site.example/wren.json', messages: [{ role: 'user', text: 'Hi', status: 'interrupted' }], savedAt: 5 },
    },
  ]);
});
