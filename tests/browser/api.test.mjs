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

test("characters: the site's library, an import, and a chat the app runs and stores (send, stream, swipe, rate)", { timeout: 180_000 }, async () => {
  const out = await inPage(async (api, model) => {
    const codeOf = (p) => p.then(() => 'resolved', (e) => `${e.code}: ${e.message}`);
    const engine = await api.createEngine({ model });
    const list = await engine.characters.list();
    const wren = await engine.characters.get('wren');
    const card = { spec: 'chara_card_v2', spec_version: '2.0', data: { name: 'Pim', description: 'A lighthouse cat.', first_mes: 'Mrrp. *Pim blinks at you.*', tags: ['cat'] } };
    const imported = await engine.characters.import(new Blob([JSON.stringify(card)], { type: 'application/json' }));
    const after = (await engine.characters.list()).map((c) => c.name);
    const chat = await engine.characters.chat('wren', { persona: { name: 'Sam', description: 'A night-shift nurse.' } });
    const greeting = chat.history();
    const reply = await chat.send('Hello Wren, is the kettle on?');
    const chunks = [];
    for await (const c of await chat.send('What are you baking?', { stream: true })) chunks.push(c);
    const swiped = await chat.swipe();
    const rated = await chat.rate(3);
    const pim = await engine.characters.chat(imported.id);
    return {
      names: list.map((c) => c.name), wren: { name: wren.name, card: wren.card.name }, imported, after,
      chatId: chat.id, greeting, reply, chunks, swiped, rated, history: chat.history(), pim: pim.history(),
      errors: {
        unknown: await codeOf(engine.characters.chat('nobody')),
        empty: await codeOf(chat.send('  ')),
        notCard: await codeOf(engine.characters.import(new Blob(['not a card']))),
        rate: await codeOf(chat.rate(7)),
      },
    };
  });
  assert.ok(out.names.length >= 12 && out.names.includes('Wren'), out.names.join(', '));
  assert.deepEqual(out.wren, { name: 'Wren', card: 'Wren' });
  assert.equal(out.imported.name, 'Pim');
  assert.ok(out.after.includes('Pim'));
  assert.equal(out.greeting.length, 1);
  assert.ok(out.greeting[0].greeting && out.greeting[0].role === 'assistant');
  assert.ok(out.greeting[0].content.includes('There you are, Sam.'), `names filled in: ${out.greeting[0].content}`);
  const { reply } = out;
  assert.equal(reply.message.role, 'assistant');
  assert.ok(reply.message.content.trim().length > 0, JSON.stringify(reply));
  assert.ok(['stop', 'length'].includes(reply.finish_reason));
  assert.ok(reply.usage.prompt_tokens > 100, 'the card and greeting are in the prompt');
  // Streamed: the pieces as written, then the reply as stored on the last chunk.
  const last = out.chunks.at(-1);
  assert.ok(last.message && last.message.role === 'assistant', JSON.stringify(last));
  const streamed = out.chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.ok(streamed.trim().startsWith(last.message.content.slice(0, 10)), `${streamed} / ${last.message.content}`);
  assert.equal(out.swiped.message.swipes, 2, 'a second reply kept beside the first');
  assert.equal(out.rated, 3);
  const h = out.history;
  assert.deepEqual(h.map((m) => m.role), ['assistant', 'user', 'assistant', 'user', 'assistant']);
  assert.equal(h[1].content, 'Hello Wren, is the kettle on?');
  assert.equal(h.at(-1).rating, 3);
  assert.equal(h.at(-1).swipes, 2);
  assert.equal(out.pim[0].content, 'Mrrp. *Pim blinks at you.*');
  assert.match(out.errors.unknown, /^character_not_found/);
  assert.match(out.errors.empty, /^invalid_request/);
  assert.match(out.errors.notCard, /^invalid_request/);
  assert.match(out.errors.rate, /^invalid_request/);

  // The same chat in the app, from the same storage: the messages, the swipe counter, the stars.
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/#/chat/${encodeURIComponent(out.chatId)}`);
  await poll(async () => (await page.locator('#messages').textContent()).includes('Hello Wren, is the kettle on?'), { message: 'the API chat in the app' });
  const text = await page.locator('#messages').textContent();
  assert.ok(text.includes('What are you baking?'), text);
  assert.equal(await page.locator('.swipe-count').last().textContent(), '2/2', 'the swipe counter');
  await screenshots(page, 'api-chat-in-app');
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
  // A character chat: the greeting, a streamed reply, another one in its place.
  await poll(async () => (await page.locator('#chat-log li').count()) === 1, { message: 'the greeting' });
  await page.getByRole('button', { name: 'Say it' }).click();
  await poll(async () => /finish_reason/.test(await page.locator('#chat-meta').textContent()), { message: 'the character reply' });
  assert.equal(await page.locator('#chat-log li').count(), 3);
  assert.equal(await page.locator('#chat-log li.user').textContent(), 'YouHello! What is good today?');
  await page.getByRole('button', { name: 'Another reply' }).click();
  await poll(async () => /finish_reason/.test(await page.locator('#chat-meta').textContent())
    && /\(2\/2\)/.test(await page.locator('#chat-log li').last().textContent()), { message: 'the second reply' });
  assert.ok((await page.locator('#chat-log li').last().textContent()).length > 20);
  await page.locator('#chat-title').scrollIntoViewIfNeeded();
  await screenshots(page, 'api-example-chat');
  await page.locator('#json-out').scrollIntoViewIfNeeded();
  await screenshots(page, 'api-example');
  // A schema that is not JSON is said so, with the code.
  await page.locator('#schema').fill('{ not json');
  await page.getByRole('button', { name: 'Ask' }).click();
  await poll(async () => /\[invalid_request\] The schema is not JSON/.test(await page.locator('#json-meta').textContent()), { message: 'the schema error' });
  assert.deepEqual(it.browser.pageErrors, []);
});
