// An engine worker that ends mid-reply without a word (killed for memory, crashed: here it
// closes itself) fires no event; the page still learns of it, says so, keeps the reply's text
// as far as it was shown, and Try again starts a new worker that answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, screenshots } from './harness.mjs';
import { session } from './session.mjs';
import { waitForModel, messages, openFirstStarter, sendAndWatch } from './chat-page.mjs';

const it = session();

const replyAt = (page, i) => page.evaluate((n) => {
  const li = document.querySelectorAll('#messages > li.message')[n];
  return li ? { status: li.dataset.status, text: li.querySelector('.text').dataset.source, note: li.querySelector('.note').textContent } : null;
}, i);

test('a worker that dies mid-reply is noticed, the shown text is kept, and a new worker answers', { timeout: 300_000 }, async () => {
  const { page } = it.browser;
  // The scripted model, a token every 150 ms: the reply is still going when the worker ends.
  await page.goto(`${it.server.origin}/?max_tokens=200&seed=11&step_ms=150`);
  assert.equal((await waitForModel(page)).state, 'ready');
  await openFirstStarter(page);

  const index = (await messages(page)).length + 1;
  await page.getByRole('textbox', { name: 'Message' }).fill('Tell me a long story about the sea.');
  await page.keyboard.press('Enter');
  await poll(async () => (await replyAt(page, index))?.text.length > 10, { timeout: 180_000, interval: 25, message: 'the reply to stream' });
  const engine = page.workers().find((w) => new URL(w.url()).pathname === '/js/worker.js');
  assert.ok(engine, `the engine worker is among ${page.workers().map((w) => w.url())}`);
  const shown = (await replyAt(page, index)).text;
  await engine.evaluate(() => { setTimeout(() => self.close(), 0); });

  await page.waitForFunction(() => document.body.dataset.modelState === 'error', null, { timeout: 30_000 });
  const failed = await waitForModel(page);
  assert.match(failed.error, /^The engine stopped unexpectedly \(its worker ended/);
  await page.waitForFunction(() => document.body.dataset.generating === 'false');
  const cut = await replyAt(page, index);
  assert.equal(cut.status, 'error');
  assert.match(cut.note, /^Failed: the engine stopped\.$/);
  assert.ok(cut.text.startsWith(shown), `what was shown (${JSON.stringify(shown)}) is kept: ${JSON.stringify(cut.text)}`);
  assert.ok(await page.getByRole('button', { name: 'Send' }).isDisabled(), 'nothing is sent to a dead engine');
  await screenshots(page, 'worker-crash');

  await page.getByRole('button', { name: 'Try again' }).click();
  const again = await waitForModel(page);
  assert.equal(again.state, 'ready', `the new worker failed: ${again.error}`);
  assert.equal(again.source, 'cache');
  const run = await sendAndWatch(page, 'Are you still there?');
  assert.equal(run.reply.role, 'assistant');
  assert.ok(['done', 'stopped'].includes(run.reply.status), `the new worker answered (${run.reply.status})`);
  assert.ok((await replyAt(page, index)).text.startsWith(shown), 'the cut reply is still there');
  assert.deepEqual(it.browser.pageErrors, []);
});
