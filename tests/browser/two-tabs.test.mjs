// Two tabs with the same chat open, each sending a message at the same time: every message and
// reply is its own record, so neither tab's writes erase the other's, and the chat opened again
// holds both exchanges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { session } from './session.mjs';
import { waitForModel, messages, openFirstStarter, sendAndWatch } from './chat-page.mjs';

const it = session();

test('two tabs writing the same chat at once lose no message', { timeout: 300_000 }, async () => {
  const { page: first, context } = it.browser;
  await first.goto(`${it.server.origin}/?max_tokens=4&seed=3`);
  assert.equal((await waitForModel(first)).state, 'ready');
  await openFirstStarter(first);
  const url = first.url();

  const second = await context.newPage();
  second.on('pageerror', (err) => it.browser.pageErrors.push(err.message));
  await second.goto(url);
  assert.equal((await waitForModel(second)).state, 'ready');
  await second.waitForFunction(() => document.body.dataset.chatReady === 'true');

  const [a, b] = await Promise.all([
    sendAndWatch(first, 'Hello from the first tab.'),
    sendAndWatch(second, 'Hello from the second tab.'),
  ]);
  for (const run of [a, b]) assert.ok(['done', 'stopped'].includes(run.reply.status), `each tab's reply finished (${run.reply.status})`);
  await second.close();

  await first.reload();
  await first.waitForFunction(() => document.body.dataset.chatReady === 'true');
  const texts = (await messages(first)).map((m) => m.text);
  assert.equal(texts.length, 5, `greeting and both exchanges: ${JSON.stringify(texts)}`);
  for (const run of [a, b]) {
    const at = texts.indexOf(run.sent.text);
    assert.ok(at > 0, `${JSON.stringify(run.sent.text)} is kept`);
    assert.ok(texts.includes(run.reply.text), `its reply ${JSON.stringify(run.reply.text)} is kept`);
  }
  assert.deepEqual(it.browser.pageErrors, []);
});
