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

let chat = null;

// The chat's messages as the API has them (shown text only, never HTML).
function showChat() {
  const name = $('character').selectedOptions[0]?.textContent || 'Character';
  $('chat-log').replaceChildren(...chat.history().map((m) => {
    const li = document.createElement('li');
    li.className = m.role;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = m.role === 'user' ? 'You' : `${name}${m.swipes > 1 ? ` (${m.swipe + 1}/${m.swipes})` : ''}`;
    li.append(who, m.content);
    return li;
  }));
}

async function openChat() {
  $('chat-send').disabled = true;
  $('chat-swipe').disabled = true;
  try {
    chat = await engine.characters.chat($('character').value, { persona: { name: 'Visitor' } });
    showChat();
    $('chat-send').disabled = false;
  } catch (err) {
    showError($('chat-meta'), err);
  }
}

// `act` sends or swipes; the reply streams into its place in the log, then the log shows the
// chat as stored (the reply checked and trimmed as the app keeps it).
async function chatTurn(act) {
  $('chat-send').disabled = true;
  $('chat-swipe').disabled = true;
  $('chat-meta').textContent = '';
  $('chat-meta').classList.remove('error');
  try {
    const stream = await act();
    showChat();
    const text = $('chat-log').lastElementChild.appendChild(document.createTextNode(''));
    for await (const chunk of stream) {
      text.data += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.message) $('chat-meta').textContent = `finish_reason: ${chunk.choices[0].finish_reason}`;
    }
    showChat();
  } catch (err) {
    showError($('chat-meta'), err);
  } finally {
    $('chat-send').disabled = false;
    $('chat-swipe').disabled = false;
  }
}

$('send').addEventListener('click', send);
$('character').addEventListener('change', openChat);
$('chat-send').addEventListener('click', () => chatTurn(() => chat.send($('chat-text').value, { stream: true })));
$('chat-swipe').addEventListener('click', () => chatTurn(() => chat.swipe({ stream: true })));
$('stop').addEventListener('click', () => streaming?.return());
$('json').addEventListener('click', askJson);

try {
  engine = await createEngine({ model, onProgress: (p) => { $('status').textContent = progressText(p); } });
  const i = engine.info();
  $('status').textContent = 'Ready.';
  $('info').textContent = `${i.name} (${i.architecture}) on the ${i.backend === 'gpu' ? 'GPU' : `CPU, ${i.threads} thread${i.threads === 1 ? '' : 's'}`}, a ${i.context}-token context`;
  $('send').disabled = false;
  $('json').disabled = false;
  const characters = await engine.characters.list();
  $('character').replaceChildren(...characters.map((c) => Object.assign(document.createElement('option'), { value: c.id, textContent: c.name })));
  $('character').disabled = false;
  await openChat();
} catch (err) {
  showError($('status'), err);
}
