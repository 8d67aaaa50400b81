// The rooms' pure page code, run directly in Node: which chats are rooms, authors' names,
// the messages handed to the Rust room functions, and the speaker's name taken off a reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoom, authorName, roomMessages, withoutName, memberOf, checkRoom } from '../../www/js/room-store.js';

const room = {
  members: [
    { character_id: 'wren', name: 'Wren', talkativeness: 0.5, muted: false },
    { character_id: 'juni', name: 'Juni', talkativeness: 0.5, muted: true },
  ],
  narrator: { name: 'Rook' },
};

test('a room is a chat with members; one-to-one chats are not rooms', () => {
  assert.equal(isRoom({ id: 'c', room }), true);
  assert.equal(isRoom({ id: 'c', characterId: 'wren' }), false);
  assert.equal(isRoom({ id: 'c', room: { members: 'no' } }), false);
  assert.equal(isRoom(null), false);
});

test('a room from a backup keeps only well-formed members, and needs two', () => {
  assert.deepEqual(checkRoom(room), room);
  const junk = { ...room, members: [...room.members, null, { character_id: 7, name: 'x' }, { character_id: 'y' }] };
  assert.deepEqual(checkRoom(junk).members, room.members);
  assert.equal(checkRoom({ members: [room.members[0]] }), null);
  assert.equal(checkRoom('room'), null);
  assert.equal(checkRoom({ members: {} }), null);
});

test('authors are named from the room: members, the narrator, and someone unknown', () => {
  assert.equal(authorName(room, { kind: 'character', id: 'juni' }), 'Juni');
  assert.equal(authorName(room, { kind: 'narrator' }), 'Rook');
  assert.equal(authorName({ members: [] }, { kind: 'narrator' }), 'Narrator');
  assert.equal(authorName(room, { kind: 'character', id: 'gone' }), 'Someone');
  assert.equal(memberOf(room, 'wren').name, 'Wren');
  assert.equal(memberOf(room, 'x'), null);
});

test('messages go to the room functions with string ids, authors and the chosen text', () => {
  const out = roomMessages([
    { id: 17, role: 'assistant', author: { kind: 'character', id: 'wren' }, swipes: [{ text: 'a' }, { text: 'b' }], chosen: 1 },
    { id: 18, role: 'user', author: { kind: 'user' }, swipes: [{ text: 'hi' }], chosen: 0 },
    { id: 19, role: 'assistant', author: { kind: 'narrator' }, swipes: [{ text: 'Thunder.' }], chosen: 0 },
    { id: 20, role: 'assistant', swipes: [{ text: 'old' }], chosen: 0 },
  ]);
  assert.deepEqual(out, [
    { id: '17', author: { kind: 'character', id: 'wren' }, text: 'b' },
    { id: '18', author: { kind: 'user' }, text: 'hi' },
    { id: '19', author: { kind: 'narrator' }, text: 'Thunder.' },
    { id: '20', author: { kind: 'character', id: '' }, text: 'old' },
  ]);
});

test('a reply loses the speaker name it starts with, and only that', () => {
  assert.equal(withoutName('Wren: Hello there.', 'Wren'), 'Hello there.');
  assert.equal(withoutName('  wren:  Hello', 'Wren'), 'Hello');
  assert.equal(withoutName('Juni: Hello', 'Wren'), 'Juni: Hello');
  assert.equal(withoutName('Wrenna: Hi', 'Wren'), 'Wrenna: Hi');
  assert.equal(withoutName('Hello, Wren: hi', 'Wren'), 'Hello, Wren: hi');
  assert.equal(withoutName('Wre', 'Wren'), 'Wre');
  assert.equal(withoutName('', 'Wren'), '');
  assert.equal(withoutName(' Hello there.', 'Wren'), 'Hello there.', 'the space after the primed name goes');
  assert.equal(withoutName('Text', ''), 'Text');
});
