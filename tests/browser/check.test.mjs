// The quality check in the app, end to end on the app's real default model (an instruct
// model, so the role-play layout): the editor's Check panel runs the probe conversation of a
// starter in the engine worker, shows progress and a verdict with its text for every reply,
// can be stopped, and keeps its last result over a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel, manifestModel } from './chat-page.mjs';

const PROBES = 10; // the shipped set (9) plus Wren's example question

test('the editor\'s Check scores a starter on the default model, stops, and keeps its result', { timeout: 1_200_000 }, async () => {
  const server = await startServer({ realDefault: true });
  const browser = await launchBrowser();
  try {
    const { page } = browser;
    const model = await manifestModel({ realDefault: true });
    await page.goto(`${server.origin}/?max_tokens=48&seed=7#/edit/wren`);
    const loaded = await waitForModel(page, 600_000);
    assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
    assert.match(loaded.info, /qwen2/i, `the app's default is ${model.id}: ${loaded.info}`);

    const panel = page.getByRole('region', { name: 'Check' });
    const run = panel.getByRole('button', { name: 'Run check on this character' });
    await poll(async () => !(await run.isDisabled()), { timeout: 60_000, message: 'the check can start' });

    // Stopped after the first scored reply: it says so and keeps what it has.
    await run.click();
    await poll(async () => (await panel.locator('.check-reply').count()) >= 1, { timeout: 300_000, message: 'a first scored reply' });
    await panel.getByRole('button', { name: 'Stop the quality check' }).click();
    await poll(async () => /^Stopped after \d+ repl/.test(await panel.locator('.check-status').textContent()),
      { timeout: 120_000, message: 'the check stopped' });
    const stoppedAt = await panel.locator('.check-reply').count();
    assert.ok(stoppedAt >= 1 && stoppedAt < PROBES, `stopped early: ${stoppedAt}`);

    // A whole run: progress, then every probe answered and judged with its evidence.
    await run.click();
    await poll(async () => (await panel.locator('progress').isVisible()), { timeout: 30_000, message: 'progress shown' });
    await poll(async () => /^Checked \d+ replies/.test(await panel.locator('.check-status').textContent()),
      { timeout: 900_000, interval: 500, message: 'the check finished' });
    const status = await panel.locator('.check-status').textContent();
    assert.match(status, new RegExp(`^Checked ${PROBES} replies in [\\d.]+ s on .+ \\(roleplay layout\\)\\.$`), status);
    const replies = await panel.locator('.check-reply').evaluateAll((items) => items.map((li) => ({
      probe: li.querySelector('.check-probe').textContent,
      shown: li.querySelector('.check-shown').textContent,
      shownChildren: li.querySelector('.check-shown').children.length,
      verdicts: [...li.querySelectorAll('.check-verdicts li')].map((v) => ({ check: v.dataset.check, pass: v.className === 'pass', text: v.textContent })),
    })));
    assert.equal(replies.length, PROBES);
    assert.equal(replies[0].probe, 'Hi! Tell me a little about yourself.');
    for (const r of replies) {
      assert.equal(r.shownChildren, 0, 'model text is set as text, never as HTML');
      assert.ok(r.verdicts.length >= 9, JSON.stringify(r));
      for (const v of r.verdicts) assert.match(v.text, /^[✓✗].+: .+/, `a verdict with its evidence: ${v.text}`);
      assert.ok(!/<\|im_(start|end)\|>/.test(r.shown), `no template text shown: ${r.shown}`);
    }
    const recall = replies.find((r) => r.probe === 'Do you remember what my dog is called?');
    assert.ok(recall.verdicts.some((v) => v.check === 'recall'), 'the recall probe is scored on recall');
    const dims = await panel.locator('.check-dimension').evaluateAll((boxes) => boxes.map((b) => [b.dataset.dimension, b.querySelector('dd').textContent]));
    assert.deepEqual(dims.map(([d]) => d), ['consistency', 'human_likeness', 'engagement']);
    for (const [, v] of dims) assert.match(v, /^\d{1,3}%$/);
    await screenshots(page, 'editor-check');

    // The result is kept: the editor shows it again after a reload.
    await page.reload();
    await poll(async () => /^Last check: /.test(await panel.locator('.check-status').textContent().catch(() => '')),
      { timeout: 60_000, message: 'the kept result' });
    assert.equal(await panel.locator('.check-reply').count(), PROBES);

    // #/check lists the kept result beside every other, and checks every character on request.
    await page.goto(`${server.origin}/?max_tokens=48&seed=7#/check`);
    assert.equal((await waitForModel(page, 600_000)).state, 'ready');
    const view = page.locator('#view-check');
    await poll(async () => (await view.locator('tr[data-character="wren"]').count()) === 1, { message: 'Wren\'s kept row' });
    const row = await view.locator('tr[data-character="wren"]').evaluate((tr) => [...tr.children].map((c) => c.textContent));
    assert.equal(row[0], 'Wren');
    assert.equal(row[1], model.name);
    assert.equal(row[2], 'roleplay');
    for (const v of row.slice(3, 6)) assert.match(v, /^\d{1,3}%$/);
    assert.match(row[6], new RegExp(`^\\d+ of ${PROBES}$`));
    const all = view.getByRole('button', { name: 'Check every character' });
    await poll(async () => !(await all.isDisabled()), { timeout: 60_000, message: 'the view can start' });
    await all.click();
    await poll(async () => /^Checking .+ \(1 of \d+\): [1-9]\d* of \d+ replies\.$/.test(await view.locator('.check-status').textContent()),
      { timeout: 300_000, message: 'the first character\'s first scored reply' });
    await screenshots(page, 'check-view');
    await view.getByRole('button', { name: 'Stop checking' }).click();
    await poll(async () => (await view.locator('.check-status').textContent()) === 'Stopped.', { timeout: 120_000, message: 'stopped' });
    assert.equal(await view.locator('tr[data-character="wren"]').count(), 1, 'a stopped run keeps the earlier results');
  } finally {
    await browser.close();
    await server.stop();
  }
});
