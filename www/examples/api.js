// The API example: a streamed reply with Stop, and a reply kept to a JSON Schema. The model's
// text is only ever set as text.
import { createEngine } from '../kindred.js';

const $ = (id) => document.getElementById(id);
const CAT = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 20 },
    age: { type: 'integer' },
    colour: { enum: ['black', 'white', 'ginger', 'grey'] },
    toys: { type: 'array', items: { type: 'string', maxLength: 20 }, maxItems: 3 },
  },
  required: ['name', 'age', 'colour', 'toys'],
};
$('schema').value = JSON.stringify(CAT, null, 2);

// ?model= picks the model: a manifest id or a .gguf address on this site (default: the site's).
const model = new URLSearchParams(location.search).get('model') || undefined;
let engine = null;
let streaming = null;

function showError(el, err) {
  el.textContent = `${err.code ? `[${err.code}] ` : ''}${err.message}`;
  el.classList.add('error');
}

function progressText(p) {
  const mb = (n) => `${Math.round(n / 1e6)} MB`;
  if (p.phase === 'download') return `Downloading the model: ${mb(p.loaded)} of ${mb(p.total)}`;
  if (p.phase === 'cache') return `Reading the model from this device: ${mb(p.loaded)}`;
  if (p.phase === 'verify') return 'Checking the download…';
  return 'Starting the engine…';
}

async function send() {
  $('send').disabled = true;
  $('stop').disabled = false;
  $('reply').textContent = '';
  $('reply-meta').textContent = '';
  $('reply-meta').classList.remove('error');
  const started = performance.now();
  try {
    const stream = await engine.chat.completions.create({
      messages: [{ role: 'user', content: $('prompt').value }],
      stream: true, stream_options: { include_usage: true }, max_tokens: 200,
    });
    streaming = stream[Symbol.asyncIterator]();
    let finish = null;
    let usage = null;
    for (;;) {
      const { value: chunk, done } = await streaming.next();
      if (done) break;
      $('reply').textContent += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    const s = ((performance.now() - started) / 1000).toFixed(1);
    $('reply-meta').textContent = finish
      ? `finish_reason: ${finish} · ${usage?.completion_tokens ?? '?'} tokens after a ${usage?.prompt_tokens ?? '?'}-token prompt · ${s} s`
      : `stopped · ${s} s`;
  } catch (err) {
    showError($('reply-meta'), err);
  } finally {
    streaming = null;
    $('send').disabled = false;
    $('stop').disabled = true;
  }
}

async function askJson() {
  $('json').disabled = true;
  $('json-out').textContent = '';
  $('json-meta').textContent = 'Writing…';
  $('json-meta').classList.remove('error');
  try {
    let schema;
    try {
      schema = JSON.parse($('schema').value);
    } catch (err) {
      throw Object.assign(new Error(`The schema is not JSON: ${err.message}`), { code: 'invalid_request' });
    }
    const reply = await engine.chat.completions.create({
      messages: [{ role: 'user', content: $('ask').value }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
      max_tokens: 500,
    });
    const content = reply.choices[0].message.content;
    let shown = content;
    try { shown = JSON.stringify(JSON.parse(content), null, 2); } catch { /* shown as written */ }
    $('json-out').textContent = shown;
    $('json-meta').textContent = `finish_reason: ${reply.choices[0].finish_reason} · ${reply.usage.completion_tokens} tokens`;
  } catch (err) {
    showError($('json-meta'), err);
  } finally {
    $('json').disabled = false;
  }
}

$('send').addEventListener('click', send);
$('stop').addEventListener('click', () => streaming?.return());
$('json').addEventListener('click', askJson);

try {
  engine = await createEngine({ model, onProgress: (p) => { $('status').textContent = progressText(p); } });
  const i = engine.info();
  $('status').textContent = 'Ready.';
  $('info').textContent = `${i.name} (${i.architecture}) on the ${i.backend === 'gpu' ? 'GPU' : `CPU, ${i.threads} thread${i.threads === 1 ? '' : 's'}`}, a ${i.context}-token context`;
  $('send').disabled = false;
  $('json').disabled = false;
} catch (err) {
  showError($('status'), err);
}
