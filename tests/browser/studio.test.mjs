// The trait studio, end to end on the real model (Gemma 3 270M) in a real browser: the editor
// lists the character's traits, the engine worker writes messages that would show the one
// ticked (kept to a JSON Schema), answers each twice in character and ranks the answers; the
// review shows each message with its replies, the model's pick marked; the person picks another
// best, adds the kept ones to the example dialogues and downloads them as preference data; the
// result is kept over a reload; a run can be stopped. The steps' rules are tested in
// crates/characters (chat_trait_studio.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshots, poll } from './harness.mjs';
import { session } from './session.mjs';
import { waitForModel } from './chat-page.mjs';
import { downloadFrom } from './app-page.mjs';

const it = session({ server: { model: 'test' } });
const FIRST = 'I notice the small things people mention and I remember them.';

// The editor on Wren, the model loaded; `reload`: the page reloaded (a new document).
async function openStudio(page, reload = false) {
  if (reload) await page.reload();
  else await page.goto(`${it.server.origin}/?max_tokens=48#/edit/wren`);
  const loaded = await waitForModel(page, 600_000);
  assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
  return page.getByRole('region', { name: 'Trait studio', exact: true });
}

test('the trait studio ranks replies for a trait, takes the person\'s pick, and keeps the result', { timeout: 900_000 }, async () => {
  const { page } = it.browser;
  const panel = await openStudio(page);
  const traits = panel.getByRole('group', { name: 'Traits', exact: true });
  const boxes = traits.getByRole('checkbox');
  assert.equal(await boxes.count(), 4, 'Wren\'s four profile traits');
  assert.deepEqual(await boxes.evaluateAll((b) => b.map((x) => x.checked)), [true, true, true, false], 'three ticked');
  for (const k of [1, 2]) await boxes.nth(k).uncheck();
  await panel.getByLabel('Another trait').fill('Hums while working');
  await panel.getByRole('button', { name: 'Add', exact: true }).click();
  assert.equal(await boxes.count(), 5);
  assert.equal(await boxes.nth(4).isChecked(), true, 'an added trait is ticked');
  await boxes.nth(4).uncheck();
  await panel.getByLabel('Messages per trait').fill('2');
  await panel.getByLabel('Replies per message').fill('2');

  const run = panel.getByRole('button', { name: 'Run studio on this character' });
  await poll(async () => !(await run.isDisabled()), { timeout: 60_000, message: 'the studio can start' });
  await run.click();
  await poll(async () => /^Step \d+ of about \d+: /.test(await panel.locator('.check-status').textContent()),
    { timeout: 60_000, message: 'progress shown' });
  await poll(async () => /^Done in \d+ s: /.test(await panel.locator('.check-status').textContent()),
    { timeout: 600_000, interval: 500, message: 'the studio finished' });
  const status = await panel.locator('.check-status').textContent();
  const items = panel.getByRole('list', { name: 'Trait studio results' }).locator('.studio-item');
  const n = await items.count();
  assert.ok(n >= 1, `a ranked message: ${status}, issues: ${await panel.locator('.studio-issues').textContent()}`);
  assert.match(status, new RegExp(`: ${n} messages? with ranked replies\\.$`));
  const shown = await items.evaluateAll((lis) => lis.map((li) => ({
    trait: li.dataset.trait,
    question: li.querySelector('.check-probe').textContent,
    replies: [...li.querySelectorAll('.studio-reply')].map((r) => ({
      text: r.querySelector('.check-shown').textContent,
      children: r.querySelector('.check-shown').children.length,
      checked: r.querySelector('input').checked,
      pick: Boolean(r.querySelector('.studio-pick')),
    })),
  })));
  for (const item of shown) {
    assert.equal(item.trait, FIRST);
    assert.ok(item.question.length >= 8, item.question);
    assert.equal(item.replies.length, 2, JSON.stringify(item));
    assert.ok(item.replies.every((r) => r.text.trim() && r.children === 0), 'replies as text, never HTML');
    assert.notEqual(item.replies[0].text, item.replies[1].text);
    assert.deepEqual(item.replies.map((r) => [r.checked, r.pick]), [[true, true], [false, false]], 'the model\'s pick first and marked');
  }
  console.log(`# studio: ${status}\n${JSON.stringify(shown, null, 1)}`);

  // The person prefers the other reply to the first message.
  const first = items.first();
  await first.locator('.studio-reply input').nth(1).check();
  const picked = shown[0].replies[1].text;
  const other = shown[0].replies[0].text;
  // The editor's "Try and check" pane (the one a phone shows alone), scrolled to the review.
  await page.evaluate(() => document.querySelector('.ed-tabs [data-pane="try"]').click());
  await first.scrollIntoViewIfNeeded();
  await screenshots(page, 'editor-trait-studio');
  assert.equal(await panel.locator('.check-status').textContent(), status, 'a pick changes no status');
  assert.equal(await page.getByRole('region', { name: 'Check', exact: true }).locator('.check-status').textContent(), '',
    'the Check panel no longer says it waits for the model');

  const pairs = await downloadFrom(page, panel.getByRole('button', { name: 'Download preference data' }));
  assert.match(pairs.name, /^kindred-studio-Wren-trl-preference\.jsonl$/);
  const lines = pairs.bytes.toString('utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, n, 'one pair a message: its best over the other reply');
  assert.deepEqual(lines[0].prompt.map((m) => m.role), ['system', 'user']);
  assert.equal(lines[0].prompt[1].content, shown[0].question);
  assert.deepEqual([lines[0].chosen[0].content, lines[0].rejected[0].content], [picked, other], 'the person\'s pick is chosen');

  await panel.getByRole('button', { name: 'Add kept replies to example dialogues' }).click();
  const examples = await page.getByLabel('Example dialogues', { exact: true }).inputValue();
  assert.ok(examples.includes(`<START>\n{{user}}: ${shown[0].question}\n{{char}}: ${picked}`), examples);
  assert.match(await panel.locator('.check-status').textContent(), /^Added \d+ example dialogues?/);
  await panel.getByRole('button', { name: 'Add kept replies to example dialogues' }).click();
  assert.equal(await page.getByLabel('Example dialogues', { exact: true }).inputValue(), examples, 'not added twice');
  assert.equal(await panel.locator('.check-status').textContent(), 'These are in the example dialogues already.');

  // Kept over a reload, the pick included.
  const again = await openStudio(page, true);
  await poll(async () => /^Last run: /.test(await again.locator('.check-status').textContent()), { timeout: 30_000, message: 'the kept result' });
  const kept = again.locator('.studio-item').first().locator('.studio-reply');
  assert.equal(await kept.nth(0).locator('.check-shown').textContent(), picked, 'the person\'s pick first');
  assert.equal(await kept.nth(0).locator('input').isChecked(), true);
  assert.equal(await kept.nth(1).locator('.studio-pick').count(), 1, 'the model\'s pick still marked');

  // Stopped after its first answer: it says so.
  const start = again.getByRole('button', { name: 'Run studio on this character' });
  await poll(async () => !(await start.isDisabled()), { timeout: 60_000, message: 'the studio can start again' });
  await start.click();
  await poll(async () => /^Step 2 /.test(await again.locator('.check-status').textContent()), { timeout: 120_000, message: 'a second step' });
  await again.getByRole('button', { name: 'Stop the trait studio' }).click();
  await poll(async () => /^Stopped: \d+ messages? with ranked replies so far\.$/.test(await again.locator('.check-status').textContent()),
    { timeout: 120_000, message: 'the studio stopped' });
});
