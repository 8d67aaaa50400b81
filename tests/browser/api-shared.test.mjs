// One engine for the pages of a site (/kindred.js over a SharedWorker, js/shared-host.js): two
// tabs load the model once and both get replies; leaving one tab's stream leaves the other's
// reply running to its end; a closed tab's reply is stopped and its waiting one dropped, and
// the other tab is answered; `shared: false` gives a page its own engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCRIPTED_CHATML, ensureScripted, poll, startServer } from './harness.mjs';
import { session } from './session.mjs';

const MODEL = `/models/${SCRIPTED_CHATML}`;
const it = session();

// A tab on the example page's site with an engine loaded in `window.engine` (shared, even
// where it runs fewer threads than the page's own would).
async function tab(options = { shared: true }) {
  const page = await it.browser.context.newPage();
  page.on('pageerror', (err) => it.browser.pageErrors.push(err.message));
  // Each token takes 40 ms (the first page's load sets it for the shared engine): a reply is
  // still being written when the test acts.
  await page.goto(`${it.server.origin}/examples/api.html?model=${MODEL}&step_ms=40`);
  await page.evaluate(`(async () => {
    const api = await import('/kindred.js');
    window.engine = await api.createEngine({ model: ${JSON.stringify(MODEL)}, ...${JSON.stringify(options)} });
  })()`);
  return page;
}

const info = (page) => page.evaluate('window.engine.info()');

test('two tabs share one engine: one load, both answered, one leaving its stream stops only its own', { timeout: 180_000 }, async () => {
  ensureScripted(SCRIPTED_CHATML);
  const a = await tab();
  const b = await tab();
  const ia = await info(a);
  const ib = await info(b);
  assert.ok(ia.shared && ib.shared, JSON.stringify([ia, ib]));
  assert.equal(ib.shared.loads, 1, 'the second tab found the model loaded');
  assert.ok(ib.shared.pages >= 2, JSON.stringify(ib.shared));
  console.log(JSON.stringify(ib));

  // The reply b gets when it is alone, for the same seed.
  const ask = `{ messages: [{ role: 'user', content: 'Tell me about the harbour.' }], seed: 9, max_tokens: 120 }`;
  const alone = await b.evaluate(`window.engine.chat.completions.create(${ask}).then((r) => r.choices[0].message.content)`);

  // a streams a long reply and leaves after two chunks; b asks meanwhile and is answered in full.
  await a.evaluate(`(async () => {
    window.left = (async () => {
      let n = 0;
      for await (const c of await window.engine.chat.completions.create({ messages: [{ role: 'user', content: 'Talk.' }], max_tokens: 400, stream: true })) {
        if (++n === 2) { await new Promise((r) => setTimeout(r, 30)); break; }
      }
      return n;
    })();
  })()`);
  const both = await b.evaluate(`window.engine.chat.completions.create(${ask}).then((r) => r.choices[0])`);
  assert.equal(await a.evaluate('window.left'), 2);
  assert.equal(both.message.content, alone, "b's reply is whole, and the same as alone");
  assert.equal(both.finish_reason, 'stop');

  // a is closed while its reply is being written: that reply stops, and b, waiting behind it,
  // is answered. (Kept to an open JSON object, the scripted model writes one string to the
  // token limit: 2,000 tokens, 80 s, were it not stopped.)
  await a.evaluate(`(() => {
    window.seen = 0;
    const ask = { messages: [{ role: 'user', content: 'Talk.' }], max_tokens: 2000, stream: true, response_format: { type: 'json_object' } };
    window.engine.chat.completions.create(ask).then(async (s) => { for await (const c of s) window.seen += 1; });
  })()`);
  await poll(async () => (await a.evaluate('window.seen')) >= 3, { message: "a's reply under way" });
  const after = b.evaluate(`window.engine.chat.completions.create(${ask}).then((r) => r.choices[0].message.content)`);
  await a.close();
  const answered = await Promise.race([after, new Promise((r) => setTimeout(() => r('not answered within 30 s'), 30_000))]);
  assert.equal(answered, alone, "answered once the closed tab's reply stopped");
  await poll(async () => (await info(b)).shared.pages >= 1, { message: 'the host still serving' });

  // A page that asks for its own engine gets one; by default ('auto') a page gets the shared
  // one only where that runs as many threads as its own (Chromium does not isolate
  // SharedWorkers: there the shared one runs one thread, and an isolated page runs its own).
  const own = await b.evaluate(`(async () => {
    const api = await import('/kindred.js');
    const e = await api.createEngine({ model: ${JSON.stringify(MODEL)}, shared: false });
    const r = await e.chat.completions.create(${ask});
    const auto = await api.createEngine({ model: ${JSON.stringify(MODEL)} });
    const out = { info: e.info(), auto: auto.info(), content: r.choices[0].message.content };
    e.unload();
    auto.unload();
    return out;
  })()`);
  console.log(JSON.stringify(own));
  assert.equal(own.info.shared, null);
  assert.equal(own.content, alone, 'the same reply from its own engine');
  assert.equal(own.auto.threads, own.info.threads, 'auto: no fewer threads than its own');
  if (ia.threads < own.info.threads) assert.equal(own.auto.shared, null, 'auto: its own, where the shared one runs fewer threads');
  await b.close();
  assert.deepEqual(it.browser.pageErrors, []);
});

test("on a site without cross-origin isolation (no threads anywhere) 'auto' shares the engine", { timeout: 120_000 }, async () => {
  const server = await startServer({ isolated: false });
  try {
    const page = await it.browser.context.newPage();
    await page.goto(`${server.origin}/examples/api.html?model=${MODEL}`);
    const infos = await page.evaluate(`(async () => {
      const api = await import('/kindred.js');
      const one = await api.createEngine({ model: ${JSON.stringify(MODEL)} });
      const two = await api.createEngine({ model: ${JSON.stringify(MODEL)} });
      const r = await two.chat.completions.create({ messages: [{ role: 'user', content: 'Hi.' }], max_tokens: 8 });
      return [self.crossOriginIsolated, one.info(), two.info(), r.usage.completion_tokens];
    })()`);
    const [isolated, one, two, tokens] = infos;
    assert.equal(isolated, false);
    assert.ok(one.shared && two.shared, JSON.stringify(infos));
    assert.equal(two.shared.loads, 1, 'one model load for both');
    assert.equal(tokens, 8);
    await page.close();
  } finally {
    await server.stop();
  }
});
