// Settings, "Training data": a chat with two replies rated 4 and 1 stars becomes a preference
// pair (the better reply chosen, the worse rejected), KTO lines for both, a chat line; what
// a file will hold is said before the download; a chat can be left out; a character without
// chats gives nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshots, poll } from './harness.mjs';
import { session } from './session.mjs';
import { waitForModel, openCharacter, sendAndWatch, messages } from './chat-page.mjs';
import { downloadFrom } from './app-page.mjs';

const it = session();

const note = (page) => page.locator('#dataset-note').textContent();

test('rated replies download as preference, KTO and chat lines, counted first', { timeout: 240_000 }, async () => {
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/?max_tokens=24&step_ms=5`);
  assert.equal((await waitForModel(page)).state, 'ready');
  await openCharacter(page, 'Wren');
  await sendAndWatch(page, 'Hello Wren, what is on the menu?');
  const reply = page.locator('#messages > li.message').last();
  await reply.getByRole('button', { name: 'Rate 4 stars' }).click();
  const better = (await messages(page)).at(-1).text;
  // Another reply, until one differs (the scripted model's replies share sentences).
  let worse = better;
  for (let n = 2; worse === better && n <= 6; n++) {
    await reply.getByRole('button', { name: 'New reply' }).click();
    await poll(async () => (await reply.locator('.swipe-count').textContent()) === `${n}/${n}`
      && (await page.evaluate(() => document.body.dataset.generating)) === 'false', { message: `reply ${n}` });
    worse = (await messages(page)).at(-1).text;
  }
  assert.notEqual(better, worse);
  await reply.getByRole('button', { name: 'Rate 1 star' }).click();

  await page.goto(`${it.server.origin}/#/settings`);
  await page.locator('#dataset-format').selectOption('trl-preference');
  await poll(async () => /^1 line from \d+ chats?\. For each message/.test(await note(page)), { message: 'the pair counted' });
  const pairs = await downloadFrom(page, page.getByRole('button', { name: 'Download training data' }));
  assert.match(pairs.name, /^kindred-trl-preference-\d{4}-\d{2}-\d{2}\.jsonl$/);
  const [pair, ...more] = pairs.bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(more.length, 0);
  assert.equal(pair.chosen[0].content, better);
  assert.equal(pair.rejected[0].content, worse);
  assert.equal(pair.prompt.at(-1).content, 'Hello Wren, what is on the menu?');
  assert.match(pair.prompt[0].content, /Wren/, 'the system message from the card');
  await page.locator('#dataset-note').scrollIntoViewIfNeeded();
  await screenshots(page, 'training-data');

  await page.locator('#dataset-format').selectOption('kto');
  await poll(async () => /^2 lines from/.test(await note(page)), { message: 'both rated replies' });
  const kto = (await downloadFrom(page, page.getByRole('button', { name: 'Download training data' }))).bytes.toString('utf8');
  const labels = kto.trim().split('\n').map((l) => JSON.parse(l)).map((l) => [l.completion[0].content, l.label]);
  assert.deepEqual(labels.sort(), [[better, true], [worse, false]].sort());

  await page.locator('#dataset-format').selectOption('openai-chat');
  await poll(async () => /^1 line from 1 chat\. One chat a line/.test(await note(page)), { message: 'the chat counted' });

  // One character's chats are listed, each ticked; one unticked is left out of the file.
  await page.locator('#dataset-character').selectOption({ label: 'Wren' });
  const chats = page.getByRole('group', { name: 'Chats in the file' });
  await chats.getByRole('checkbox').first().waitFor();
  assert.equal(await chats.getByRole('checkbox').count(), 1);
  await chats.getByRole('checkbox').first().uncheck();
  await poll(async () => /^0 lines from 0 chats/.test(await note(page)), { message: 'the chat left out' });
  await screenshots(page, 'training-data-chats');
  await chats.getByRole('checkbox').first().check();
  await poll(async () => /^1 line from 1 chat\./.test(await note(page)), { message: 'the chat back in' });

  // A character without chats: nothing to download.
  await page.locator('#dataset-character').selectOption({ label: 'Rook' });
  await poll(async () => /^0 lines from 0 chats/.test(await note(page)), { message: 'nothing for Rook' });
  assert.equal(await page.getByRole('button', { name: 'Download training data' }).isDisabled(), true);
  assert.deepEqual(it.browser.pageErrors, []);
});
