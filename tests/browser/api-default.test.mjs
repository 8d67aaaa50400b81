// The developers' API on the app's real default model (Qwen2.5-Coder 0.5B Instruct), as a
// developer's page would call it: both call shapes, streamed chunks that join to the whole
// reply for one seed, and replies kept to three JSON Schemas that parse and fit them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { session } from './session.mjs';

const it = session({ server: { model: 'default' } });

const SCHEMAS = {
  cat: {
    type: 'object',
    properties: { name: { type: 'string', maxLength: 20 }, age: { type: 'integer' }, colour: { enum: ['black', 'white', 'ginger', 'grey'] } },
    required: ['name', 'age', 'colour'],
  },
  list: { type: 'array', items: { type: 'string', minLength: 2, maxLength: 24 }, minItems: 2, maxItems: 4 },
  booking: {
    type: 'object',
    properties: {
      guests: { type: 'integer' }, vegetarian: { type: 'boolean' }, day: { enum: ['friday', 'saturday', 'sunday'] },
      notes: { type: ['string', 'null'], maxLength: 60 },
    },
    required: ['guests', 'vegetarian', 'day', 'notes'],
  },
};

test('both call shapes and three schemas on the real default model', { timeout: 420_000 }, async () => {
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/examples/api.html`);
  const out = await page.evaluate(`(async () => {
    const api = await import('/kindred.js');
    const engine = await api.createEngine();
    const messages = [{ role: 'user', content: 'Name three things to see in Lisbon, in one sentence.' }];
    const whole = await engine.chat.completions.create({ messages, seed: 11, max_tokens: 40 });
    let streamed = '';
    let chunks = 0;
    for await (const c of await engine.chat.completions.create({ messages, seed: 11, max_tokens: 40, stream: true })) {
      streamed += c.choices[0]?.delta?.content ?? '';
      chunks += 1;
    }
    const asks = {
      cat: 'Invent a cat with a name, an age and a colour.',
      list: 'List a few fruits.',
      booking: 'Book a table for four on Saturday; one of us is vegetarian.',
    };
    const schemas = ${JSON.stringify(SCHEMAS)};
    const json = {};
    for (const [k, ask] of Object.entries(asks)) {
      const r = await engine.chat.completions.create({
        messages: [{ role: 'user', content: ask + ' Answer in JSON.' }], seed: 3, max_tokens: 120,
        response_format: { type: 'json_schema', json_schema: { name: k, schema: schemas[k] } },
      });
      json[k] = { content: r.choices[0].message.content, finish: r.choices[0].finish_reason };
    }
    return { info: engine.info(), whole, streamed, chunks, json };
  })()`);
  console.log(JSON.stringify({ whole: out.whole.choices[0].message.content, json: out.json }, null, 1));
  assert.match(out.info.name, /qwen/i);
  const content = out.whole.choices[0].message.content;
  assert.ok(content.trim().split(/\s+/).length >= 5, content);
  assert.equal(out.streamed, content, 'the chunks join to the whole reply');
  assert.ok(out.chunks > 5);
  assert.ok(out.whole.usage.completion_tokens > 0 && out.whole.usage.prompt_tokens > 10);

  const cat = JSON.parse(out.json.cat.content);
  assert.ok(typeof cat.name === 'string' && [...cat.name].length <= 20 && Number.isInteger(cat.age), out.json.cat.content);
  assert.ok(['black', 'white', 'ginger', 'grey'].includes(cat.colour), out.json.cat.content);
  const list = JSON.parse(out.json.list.content);
  assert.ok(Array.isArray(list) && list.length >= 2 && list.length <= 4, out.json.list.content);
  assert.ok(list.every((x) => typeof x === 'string' && [...x].length >= 2 && [...x].length <= 24), out.json.list.content);
  const booking = JSON.parse(out.json.booking.content);
  assert.ok(Number.isInteger(booking.guests) && typeof booking.vegetarian === 'boolean', out.json.booking.content);
  assert.ok(['friday', 'saturday', 'sunday'].includes(booking.day), out.json.booking.content);
  assert.ok(booking.notes === null || (typeof booking.notes === 'string' && [...booking.notes].length <= 60), out.json.booking.content);
  for (const k of Object.keys(SCHEMAS)) assert.equal(out.json[k].finish, 'stop', `${k} ended with its value`);
  assert.deepEqual(it.browser.pageErrors, []);
});
