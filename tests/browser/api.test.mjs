// The developers' API (/kindred.js) in a real page, on the scripted model in an instruct
// model's format: OpenAI's completion and chunk shapes, usage, streaming that matches the
// whole reply, leaving a stream stops it, max_tokens, replies kept to JSON and to a schema,
// every error code, abort and unload; and the example page (/examples/api.html) a developer
// starts from. (A real model kept to a schema: crates/engine/tests/json_output.rs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCRIPTED_CHATML, ensureScripted, screenshots, poll } from './harness.mjs';
import { session } from './session.mjs';

const MODEL = `/models/${SCRIPTED_CHATML}`;
const it = session();

// Runs `body` (an async function of the kindred.js module and the model address, or its
// source) in a page of the site and returns what it returns. Given as source, so the page's
// Content-Security-Policy (no eval) does not apply to the test's own code.
async function inPage(body) {
  const { page } = it.browser;
  if (!page.url().startsWith(it.server.origin)) await page.goto(`${it.server.origin}/examples/api.html?model=${MODEL}`);
  return page.evaluate(`(async () => (${body})(await import('/kindred.js'), ${JSON.stringify(MODEL)}))()`);
}

test('a completion, whole and streamed: OpenAI shapes, usage, the same text for the same seed', { timeout: 180_000 }, async () => {
  ensureScripted(SCRIPTED_CHATML);
  const out = await inPage(async (api, model) => {
    const engine = await api.createEngine({ model });
    const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say something.' }];
    const whole = await engine.chat.completions.create({ messages, seed: 5, max_tokens: 40 });
    const chunks = [];
    for await (const c of await engine.chat.completions.create({ messages, seed: 5, max_tokens: 40, stream: true, stream_options: { include_usage: true } })) chunks.push(c);
    const short = await engine.chat.completions.create({ messages, seed: 5, max_tokens: 3 });
    // Parts as OpenAI also takes them.
    const parts = await engine.chat.completions.create({ messages: [{ role: 'user', content: [{ type: 'text', text: 'Say ' }, { type: 'text', text: 'something.' }] }], seed: 5, max_tokens: 40 });
    return { whole, chunks, short, parts, info: engine.info() };
  });
  const { whole, chunks, short, parts, info } = out;
  assert.equal(whole.object, 'chat.completion');
  assert.match(whole.id, /^chatcmpl-/);
  assert.equal(whole.model, `url:${MODEL}`);
  assert.equal(whole.choices.length, 1);
  assert.equal(whole.choices[0].message.role, 'assistant');
  const content = whole.choices[0].message.content;
  assert.ok(content.trim().length > 0, 'a reply');
  assert.ok(['stop', 'length'].includes(whole.choices[0].finish_reason));
  assert.ok(whole.usage.prompt_tokens > 5, JSON.stringify(whole.usage));
  assert.ok(whole.usage.completion_tokens > 0);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + whole.usage.completion_tokens);

  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id));
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  const withChoice = chunks.filter((c) => c.choices.length);
  assert.ok(withChoice.length >= 3, 'the reply came in pieces');
  const streamed = withChoice.map((c) => c.choices[0].delta.content ?? '').join('');
  assert.equal(streamed, content, 'streamed and whole agree for one seed');
  assert.equal(withChoice.at(-1).choices[0].finish_reason, whole.choices[0].finish_reason);
  assert.ok(withChoice.slice(0, -1).every((c) => c.choices[0].finish_reason === null));
  assert.deepEqual(chunks.at(-1).usage, whole.usage, 'include_usage: a last chunk with the usage');

  assert.equal(short.choices[0].finish_reason, 'length');
  assert.equal(short.usage.completion_tokens, 3);
  assert.equal(parts.choices[0].message.content.length > 0, true);
  assert.equal(info.backend, 'cpu');
  assert.ok(info.context > 0 && info.threads >= 1, JSON.stringify(info));
});

test('JSON output: any object, and a schema with types, enums, lengths and arrays', { timeout: 180_000 }, async () => {
  const schema = {
    type: 'object',
    properties: {
      mood: { enum: ['calm', 'cross', 'curious'] },
      open: { type: 'boolean' },
      guests: { type: 'integer' },
      sign: { type: 'string', minLength: 2, maxLength: 8 },
      dishes: { type: 'array', items: { enum: ['tea', 'scone', 'soup'] }, minItems: 1, maxItems: 2 },
      owner: { type: 'object', properties: { name: { type: 'string', maxLength: 6 } }, required: ['name'] },
    },
    required: ['mood', 'open', 'guests', 'sign', 'dishes', 'owner'],
  };
  const out = await inPage((async (api, model) => {
    const engine = await api.createEngine({ model });
    const messages = [{ role: 'user', content: 'Describe the tea room as JSON.' }];
    const results = [];
    for (const seed of [1, 2, 3]) {
      results.push(await engine.chat.completions.create({ messages, seed, max_tokens: 500, response_format: { type: 'json_schema', json_schema: { name: 'room', schema: window.SCHEMA } } }));
    }
    const object = await engine.chat.completions.create({ messages, seed: 4, max_tokens: 200, response_format: { type: 'json_object' } });
    return { results, object };
  }).toString().replace('window.SCHEMA', JSON.stringify(schema)));
  for (const r of out.results) {
    const text = r.choices[0].message.content;
    const v = JSON.parse(text);
    assert.equal(r.choices[0].finish_reason, 'stop', `ended with the value: ${text}`);
    assert.ok(['calm', 'cross', 'curious'].includes(v.mood), text);
    assert.equal(typeof v.open, 'boolean', text);
    assert.ok(Number.isInteger(v.guests), text);
    assert.ok([...v.sign].length >= 2 && [...v.sign].length <= 8, text);
    assert.ok(v.dishes.length >= 1 && v.dishes.length <= 2 && v.dishes.every((d) => ['tea', 'scone', 'soup'].includes(d)), text);
    assert.ok(typeof v.owner.name === 'string' && [...v.owner.name].length <= 6, text);
    assert.deepEqual(Object.keys(v).sort(), Object.keys(schema.properties).sort(), text);
  }
  // The scripted model writes any token it may, so an object open to any key can run to the
  // length limit inside a string; it is an object's start, and JSON whenever it ended by itself.
  const o = out.object.choices[0].message.content;
  assert.ok(o.trimStart().startsWith('{'), o);
  if (out.object.choices[0].finish_reason === 'stop') assert.equal(typeof JSON.parse(o), 'object');
});

test('errors carry a code; a stream left early stops; abort and unload', { timeout: 180_000 }, async () => {
  const out = await inPage(async (api, model) => {
    const codeOf = (p) => p.then(() => 'resolved', (e) => `${e.code}: ${e.message}`);
    const engine = await api.createEngine({ model });
    const messages = [{ role: 'user', content: 'Hello.' }];
    const errors = {
      empty: await codeOf(engine.chat.completions.create({ messages: [] })),
      role: await codeOf(engine.chat.completions.create({ messages: [{ role: 'wizard', content: 'x' }] })),
      schema: await codeOf(engine.chat.completions.create({ messages, response_format: { type: 'json_schema', json_schema: { schema: { type: 'array', minItems: 3, maxItems: 1 } } } })),
      format: await codeOf(engine.chat.completions.create({ messages, response_format: { type: 'yaml' } })),
      long: await codeOf(engine.chat.completions.create({ messages: [{ role: 'user', content: 'word '.repeat(40000) }] })),
      unknown: await codeOf(api.createEngine({ model: 'no-such-model' })),
      missing: await codeOf(api.createEngine({ model: '/models/missing.gguf' })),
      notModel: await codeOf(api.createEngine({ model: '/characters/wren.json' })),
      foreign: await codeOf(api.createEngine({ model: 'https://example.com/m.gguf' })),
      backend: await codeOf(api.createEngine({ model, backend: 'tpu' })),
    };
    // Leaving a stream after two chunks stops that reply; the next request is answered.
    let seen = 0;
    for await (const c of await engine.chat.completions.create({ messages, seed: 1, max_tokens: 200, stream: true })) {
      seen += c.choices.length;
      if (seen >= 2) break;
    }
    const after = await engine.chat.completions.create({ messages, seed: 1, max_tokens: 5 });
    const controller = new AbortController();
    const aborted = codeOf(engine.chat.completions.create({ messages, max_tokens: 200 }, { signal: controller.signal }));
    controller.abort();
    errors.aborted = await aborted;
    const queued = engine.chat.completions.create({ messages, max_tokens: 200 });
    engine.unload();
    errors.unloaded = await codeOf(queued);
    errors.afterUnload = await codeOf(engine.chat.completions.create({ messages }));
    return { errors, seen, after: after.usage.completion_tokens };
  });
  const { errors } = out;
  const code = (k) => errors[k].split(':')[0];
  assert.equal(code('empty'), 'invalid_request', errors.empty);
  assert.equal(code('role'), 'invalid_request', errors.role);
  assert.equal(code('schema'), 'invalid_request', errors.schema);
  assert.match(errors.schema, /response schema/);
  assert.equal(code('format'), 'invalid_request', errors.format);
  assert.equal(code('long'), 'context_length_exceeded', errors.long);
  assert.equal(code('unknown'), 'model_not_found', errors.unknown);
  assert.equal(code('missing'), 'model_not_found', errors.missing);
  assert.equal(code('notModel'), 'unsupported_model', errors.notModel);
  assert.equal(code('foreign'), 'invalid_request', errors.foreign);
  assert.equal(code('backend'), 'invalid_request', errors.backend);
  assert.equal(code('aborted'), 'aborted', errors.aborted);
  assert.equal(code('unloaded'), 'aborted', errors.unloaded);
  assert.equal(code('afterUnload'), 'aborted', errors.afterUnload);
  assert.equal(out.seen, 2);
  assert.equal(out.after, 5, 'answered after a stream was left');
  assert.deepEqual(it.browser.pageErrors, []);
});

test('the example page: a streamed reply with Stop, and a reply kept to its schema', { timeout: 180_000 }, async () => {
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/examples/api.html?model=${MODEL}`);
  await poll(async () => (await page.locator('#status').textContent()) === 'Ready.', { timeout: 120_000, message: 'the model loaded' });
  assert.match(await page.locator('#info').textContent(), /a \d+-token context/);
  await page.getByRole('button', { name: 'Send' }).click();
  await poll(async () => /finish_reason: (stop|length)/.test(await page.locator('#reply-meta').textContent()), { message: 'the streamed reply' });
  assert.ok((await page.locator('#reply').textContent()).trim().length > 0);
  await page.getByRole('button', { name: 'Ask' }).click();
  await poll(async () => /finish_reason/.test(await page.locator('#json-meta').textContent()), { message: 'the JSON reply' });
  const cat = JSON.parse(await page.locator('#json-out').textContent());
  assert.deepEqual(Object.keys(cat).sort(), ['age', 'colour', 'name', 'toys']);
  assert.ok(['black', 'white', 'ginger', 'grey'].includes(cat.colour));
  await screenshots(page, 'api-example');
  // A schema that is not JSON is said so, with the code.
  await page.locator('#schema').fill('{ not json');
  await page.getByRole('button', { name: 'Ask' }).click();
  await poll(async () => /\[invalid_request\] The schema is not JSON/.test(await page.locator('#json-meta').textContent()), { message: 'the schema error' });
  assert.deepEqual(it.browser.pageErrors, []);
});
