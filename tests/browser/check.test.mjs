// The quality check in the app, end to end: the editor's Check panel runs the probe
// conversation of a starter in the engine worker (on the scripted model, a base model's chat
// format, so the transcript layout), shows progress and a verdict with its text for every reply,
// can be stopped, and keeps its last result over a reload; #/check runs one character on two
// stored models in one go (the second a scripted model in an instruct model's format, so the
// role-play layout) and loads the model in use back. The harness on the app's real default model is tested natively (`kindred eval` in
// tests/cli.rs), its verdicts' rules in crates/characters (eval).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCRIPTED_CHATML, ensureScripted, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel, manifestModel } from './chat-page.mjs';

const PROBES = 10; // the shipped set (9) plus Wren's example question
// Replies of at most 48 tokens, 20 ms a token at least: the scripted model's run can be
// stopped after its first reply.

test('the editor\'s Check scores a starter, stops, and keeps its result', { timeout: 1_200_000 }, async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const { page } = browser;
    const model = await manifestModel(server.origin);
    await page.goto(`${server.origin}/?max_tokens=48&seed=7&step_ms=20#/edit/wren`);
    const loaded = await waitForModel(page, 600_000);
    assert.equal(loaded.state, 'ready', `model failed to load: ${loaded.error}`);
    assert.ok(loaded.info.startsWith(`${model.name} · `), loaded.info);

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
    assert.match(status, new RegExp(`^Checked ${PROBES} replies in [\\d.]+ s on .+ \\(transcript layout\\)\\.$`), status);
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
    assert.equal(await panel.locator('.check-before').count(), 0, 'the first whole run has nothing before it');

    // An example dialogue added (as an accepted suggestion would be), the check run again: each
    // dimension beside the run before, and how many example dialogues the card had then and has now.
    const examples = page.getByLabel('Example dialogues', { exact: true });
    const original = await examples.inputValue();
    const had = original.split(/<START>/i).filter((b) => b.trim()).length;
    await examples.fill(`${original}\n<START>\n{{user}}: Any news from the harbour?\n{{char}}: *sets down the kettle* The ferry's late again.`);
    await run.click();
    await poll(async () => /^Checked \d+ replies/.test(await panel.locator('.check-status').textContent()),
      { timeout: 900_000, interval: 500, message: 'the second check finished' });
    const plural = (n) => `${n} example ${n === 1 ? 'dialogue' : 'dialogues'}`;
    await poll(async () => (await panel.locator('.check-compare').count()) === 1, { message: 'the comparison' });
    assert.match(await panel.locator('.check-compare').textContent(),
      new RegExp(`^Before: the check of .+ on this model, ${plural(had)} then; ${plural(had + 1)} now\\.$`));
    const befores = await panel.locator('.check-before').allTextContents();
    assert.equal(befores.length, 3);
    for (const [i, v] of befores.entries()) assert.equal(v, `before ${dims[i][1]}`, 'the first whole run\'s rates');
    await panel.locator('.check-summary').scrollIntoViewIfNeeded();
    await screenshots(page, 'editor-check-before-after');
    await examples.fill(original); // the editor left with nothing unsaved

    // #/check lists the kept result beside every other.
    await page.goto(`${server.origin}/?max_tokens=48&seed=7&step_ms=20#/check`);
    assert.equal((await waitForModel(page, 600_000)).state, 'ready');
    const view = page.locator('#view-check');
    const wrenOn = (name) => view.locator(`tr[data-character="wren"][data-model="${name}"]`);
    await poll(async () => (await wrenOn(model.name).count()) === 1, { message: 'Wren\'s kept row' });
    const row = await wrenOn(model.name).evaluate((tr) => [...tr.children].map((c) => c.textContent));
    assert.equal(row[0], 'Wren');
    assert.equal(row[1], model.name);
    assert.equal(row[2], 'transcript');
    for (const v of row.slice(3, 6)) assert.match(v, /^\d{1,3}%$/);
    assert.match(row[6], new RegExp(`^\\d+ of ${PROBES}$`));

    // A second model on the device (a scripted model in an instruct model's format, by its
    // address on the Models page), then Wren checked on both in one run: the other model
    // loaded for its turn and the model in use loaded back at the end.
    ensureScripted(SCRIPTED_CHATML);
    const small = { name: SCRIPTED_CHATML };
    await page.evaluate(() => { location.hash = '#/models'; });
    await page.getByRole('textbox', { name: /Address of a GGUF file/ }).fill(`/models/${SCRIPTED_CHATML}`);
    await page.getByRole('button', { name: 'Download and use', exact: true }).click();
    const onSmall = () => page.evaluate((name) => document.body.dataset.modelState === 'ready'
      && document.getElementById('model-info').textContent.startsWith(`${name} · `), small.name);
    await poll(onSmall, { timeout: 600_000, message: `${small.name} loaded` });
    await page.evaluate(() => { location.hash = '#/check'; });
    const models = view.getByRole('group', { name: 'Models' });
    await poll(async () => (await models.getByRole('checkbox').count()) === 3, { message: 'both stored models and "every" listed' });
    assert.ok(await models.getByRole('checkbox', { name: small.name }).isChecked(), 'the model in use is chosen');
    assert.ok(!(await models.getByRole('checkbox', { name: model.name }).isChecked()), 'another stored model is not, at first');
    await models.getByRole('checkbox', { name: model.name }).check();
    const characters = view.getByRole('group', { name: 'Characters' });
    await characters.getByRole('checkbox', { name: 'Every character' }).uncheck();
    await characters.getByRole('checkbox', { name: 'Wren', exact: true }).check();
    const start = view.getByRole('button', { name: 'Check the chosen characters on the chosen models' });
    await poll(async () => !(await start.isDisabled()), { timeout: 60_000, message: 'the view can start' });
    await start.click();
    await poll(async () => /^Checking Wren \(1 of 1\) on .+ \(model 2 of 2\): [1-9]\d* of \d+ replies\.$/.test(await view.locator('.check-status').textContent()),
      { timeout: 600_000, interval: 500, message: 'the second model\'s first scored reply' });
    assert.ok((await page.locator('#model-info').textContent()).startsWith(model.name), 'the second model is the one loaded now');
    await screenshots(page, 'check-view');
    await poll(async () => /^Checked 1 character on 2 models \(/.test(await view.locator('.check-status').textContent()),
      { timeout: 900_000, interval: 500, message: 'both models checked' });
    await poll(onSmall, { timeout: 300_000, message: 'the model in use loaded back' });
    assert.equal(await wrenOn(small.name).count(), 1, 'a row for the second model');
    const smallRow = await wrenOn(small.name).evaluate((tr) => [...tr.children].map((c) => c.textContent));
    assert.equal(smallRow[2], 'roleplay', 'an instruct model\'s chat format: the role-play layout');
    assert.equal(await wrenOn(model.name).count(), 1, 'and the first model\'s, now new');
    await screenshots(page, 'check-view-done');

    // Every character, stopped during the first: the earlier results stay, no other model loads.
    await characters.getByRole('checkbox', { name: 'Every character' }).check();
    await start.click();
    await poll(async () => /^Checking .+ \(1 of \d+\) on .+ \(model 1 of 2\): [1-9]\d* of \d+ replies\.$/.test(await view.locator('.check-status').textContent()),
      { timeout: 300_000, message: 'the first character\'s first scored reply' });
    await view.getByRole('button', { name: 'Stop checking' }).click();
    await poll(async () => (await view.locator('.check-status').textContent()) === 'Stopped.', { timeout: 120_000, message: 'stopped' });
    assert.ok(await onSmall(), 'the model in use stays loaded');
    assert.equal(await view.locator('tr[data-character="wren"]').count(), 2, 'a stopped run keeps the earlier results');
  } finally {
    await browser.close();
    await server.stop();
  }
});
