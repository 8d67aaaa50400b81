#!/usr/bin/env node
// wllama (llama.cpp compiled to wasm, an npm dev dependency) measured in the same headless
// Chromium as Kindred's bench page (scripts/bench-browser.mjs), the same way, so the two can sit in
// one table. Figures only, never pass/fail. wllama stays out of the site: a throwaway server on
// 127.0.0.1 serves a blank page, wllama's module and wasm from node_modules, and the model from
// models/, with the COOP/COEP headers wllama needs for threads.
//   node scripts/bench-wllama.mjs [--threads 1,2] [--model /models/FILE.gguf] [--prompts 128,1024] [--decode 128]
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { launchBrowser, REPO } from '../tests/browser/harness.mjs';

const WLLAMA = join(REPO, 'node_modules', '@wllama', 'wllama');
const MODELS = join(REPO, 'models');

// The prompt text of Kindred's bench (crates/web/src/bench.rs, TEXT), repeated and cut to length.
const TEXT = 'Once upon a time, in a village between the mountains and the sea, there lived a '
  + 'young cartographer who drew maps of places nobody had ever visited. Every morning she walked to '
  + "the harbour, listened to the sailors' stories, and turned their words into coastlines, rivers and "
  + 'forests. ';
const SECOND_TURN_TOKENS = 24;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const ints = (list) => list.split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 1);
const threads = ints(arg('threads', '1,2'));
const prompts = ints(arg('prompts', '128,1024'));
const decode = ints(arg('decode', '128'))[0] ?? 128;

// Accepts the bench page's form (/models/FILE.gguf) as well as models/FILE.gguf or FILE.gguf;
// only files directly in models/ are served.
async function modelFile() {
  const given = arg('model', null);
  let name = given ? basename(given) : null;
  if (!name) {
    const manifest = JSON.parse(await readFile(join(MODELS, 'manifest.json'), 'utf8'));
    name = (manifest.models.find((m) => m.id === manifest.default) || manifest.models[0]).file;
  }
  if (!/^[\w.-]+\.gguf$/.test(name)) throw new Error(`not a .gguf file name: ${given}`);
  const info = await stat(join(MODELS, name)).catch(() => null);
  if (!info?.isFile()) throw new Error(`models/${name} is missing (scripts/fetch-model.py fetches the manifest's models)`);
  return name;
}

const ISOLATED = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

const ROUTES = {
  '/': { type: 'text/html; charset=utf-8', body: '<!doctype html><meta charset="utf-8"><title>wllama bench</title>' },
  '/favicon.ico': { type: 'image/x-icon', body: '' },
  '/wllama/index.js': { type: 'text/javascript', file: join(WLLAMA, 'esm', 'index.js') },
  '/wllama/wllama.wasm': { type: 'application/wasm', file: join(WLLAMA, 'esm', 'wasm', 'wllama.wasm') },
};

async function serve(req, res) {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  let route = ROUTES[path];
  const model = /^\/models\/([\w.-]+\.gguf)$/.exec(path);
  if (!route && model) route = { type: 'application/octet-stream', file: join(MODELS, model[1]) };
  const info = route?.file ? await stat(route.file).catch(() => null) : null;
  if (!route || (route.file && !info?.isFile()) || req.method !== 'GET') {
    res.writeHead(404, ISOLATED).end();
    return;
  }
  if (route.body !== undefined) {
    res.writeHead(200, { ...ISOLATED, 'Content-Type': route.type }).end(route.body);
    return;
  }
  res.writeHead(200, { ...ISOLATED, 'Content-Type': route.type, 'Content-Length': info.size });
  createReadStream(route.file).pipe(res);
}

// Runs in the page. What each figure includes (all timed with performance.now() around wllama's
// public calls, as wllama 3 has no tokenize/decode/sampling calls of its own any more):
// - load_seconds: loadModel on the model already in memory as a Blob: starting wllama's worker
//   and compiling its wasm, copying the weights in, creating the context and llama.cpp's warm-up
//   pass. read_seconds is the model's fetch from the local server, apart.
// - prefill: one completion of max_tokens 1 from an empty cache (cache_prompt false), so it
//   covers tokenizing the text, the forward pass over the prompt, sampling the first token and
//   the worker's message round trip; it is also that prompt's time to first token.
// - decode: a streamed greedy completion after the shortest prompt, end-of-generation ignored,
//   of decode_tokens + 1 tokens: the time from the first streamed token to the end of the stream
//   covers decode_tokens forward passes, each with its sampling and its message to the page.
// - second turn: about the shortest prompt is read (kept in the cache), then a prompt about 24
//   tokens longer that extends it; the time of that second call is its time to first token.
// llama_* fields are llama.cpp's own timings of the same calls, without wllama's messaging.
async function measure({ threads, model, prompts, decode, secondTurn, text }) {
  const round = (x) => Math.round(x * 1000) / 1000;
  const say = (line) => console.info(`[bench] ${line}`);
  const { Wllama } = await import('/wllama/index.js');

  let t = performance.now();
  const response = await fetch(`/models/${model}`);
  if (!response.ok) throw new Error(`/models/${model}: HTTP ${response.status}`);
  const blob = await response.blob();
  const readSeconds = (performance.now() - t) / 1000;

  const longest = Math.max(...prompts);
  const short = Math.min(...prompts);
  const nCtx = Math.ceil((Math.max(longest, short + decode, short + secondTurn) + 8) / 256) * 256;
  const quiet = { debug() {}, log() {}, warn: console.warn, error: console.error };
  const wllama = new Wllama({ default: '/wllama/wllama.wasm' }, { suppressNativeLog: true, logger: quiet });
  say(`loading ${model} on ${threads} thread(s)`);
  t = performance.now();
  // n_gpu_layers 0: the CPU path only (wllama would otherwise offload every layer to WebGPU).
  await wllama.loadModel([blob], { n_threads: threads, n_gpu_layers: 0, n_ctx: nCtx });
  const loadSeconds = (performance.now() - t) / 1000;

  // Token counts without a tokenize call (wllama 3 has none): a request that overflows the
  // context is refused before anything is evaluated, with its length in tokens in the message.
  // Each text is followed by a run of one special token, which the tokenizer keeps whole and
  // which splits the text from it, so the text's own count is the total less the run.
  async function refusedLength(prompt) {
    try {
      await wllama.createCompletion({ prompt, max_tokens: 1, temperature: 0 });
    } catch (err) {
      const m = /request \((\d+) tokens\) exceeds/.exec(err?.message || '');
      if (m) return Number(m[1]);
      throw err;
    }
    throw new Error('an over-long request was not refused, so tokens cannot be counted');
  }
  const RUN = 2 * nCtx;
  let special = null;
  for (const candidate of ['<end_of_turn>', '<eos>', '<|endoftext|>', '<|im_end|>', '<|eot_id|>', '</s>']) {
    const once = await refusedLength(candidate.repeat(RUN));
    if (await refusedLength(candidate.repeat(2 * RUN)) - once === RUN) {
      special = { run: candidate.repeat(RUN), tokens: RUN };
      break;
    }
  }
  if (!special) throw new Error('no special token found to count tokens with');
  const countTokens = async (prefix) => await refusedLength(prefix + special.run) - special.tokens;
  const source = text.repeat(2 + Math.ceil((longest + secondTurn) / 40));
  // The longest prefix of the text that is at most n tokens (begin-of-text included, as the
  // model adds it), cut at a word's end and then, if exact, grown a character at a time to n.
  const ends = [...source.matchAll(/ /g)].map((m) => m.index);
  async function cut(n, exact = true) {
    let lo = 0;
    let hi = ends.length - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (await countTokens(source.slice(0, ends[mid])) <= n) lo = mid;
      else hi = mid - 1;
    }
    let end = ends[lo];
    let count = await countTokens(source.slice(0, end));
    for (let next = end + 1; exact && count < n && next < source.length; next++) {
      const c = await countTokens(source.slice(0, next));
      if (c > n) break;
      [end, count] = [next, c];
    }
    return { prompt: source.slice(0, end), tokens: count };
  }

  const timings = (r) => r?.timings || {};
  const prefill = [];
  for (const n of prompts) {
    const { prompt, tokens } = await cut(n);
    say(`prefill of ${tokens} tokens`);
    t = performance.now();
    const r = await wllama.createCompletion({ prompt, max_tokens: 1, temperature: 0, cache_prompt: false });
    const s = (performance.now() - t) / 1000;
    const read = r.usage?.prompt_tokens ?? tokens;
    if (timings(r).cache_n) throw new Error(`prefill reused ${timings(r).cache_n} cached tokens`);
    prefill.push({
      prompt_tokens: read,
      seconds: round(s),
      tokens_per_second: round(read / s),
      time_to_first_token_seconds: round(s),
      llama_tokens_per_second: round(timings(r).prompt_per_second),
    });
  }

  say(`decode of ${decode} tokens`);
  const first = await cut(short);
  const stamps = [];
  let last = null;
  await wllama.createCompletion({
    prompt: first.prompt,
    max_tokens: decode + 1,
    temperature: 0,
    ignore_eos: true,
    cache_prompt: false,
    stream: true,
    onData: (chunk) => {
      stamps.push(performance.now());
      last = chunk;
    },
  });
  const decodeEnd = performance.now();
  const generated = timings(last).predicted_n ?? stamps.length;
  const decoded = generated - 1;
  const decodeSeconds = (decodeEnd - stamps[0]) / 1000;

  // Both turns end at a word, as a chat turn does, so the first is a prefix of the second in
  // tokens too (a cut inside a word would be tokenized differently once the word goes on).
  say('second turn');
  const base = await cut(short, false);
  const second = await cut(base.tokens + secondTurn, false);
  await wllama.createCompletion({ prompt: base.prompt, max_tokens: 1, temperature: 0, cache_prompt: true });
  t = performance.now();
  const turn = await wllama.createCompletion({ prompt: second.prompt, max_tokens: 1, temperature: 0, cache_prompt: true });
  const secondSeconds = (performance.now() - t) / 1000;

  const report = {
    threads: wllama.getNumThreads(),
    multithread: wllama.isMultithread(),
    libllama: Wllama.getLibllamaVersion(),
    model_bytes: blob.size,
    model_source: 'network',
    read_seconds: round(readSeconds),
    backend: 'cpu',
    n_ctx: nCtx,
    load_seconds: round(loadSeconds),
    prefill,
    decode_tokens: decoded,
    decode_tokens_per_second: round(decoded / decodeSeconds),
    llama_decode_tokens_per_second: round(timings(last).predicted_per_second),
    second_turn_prompt_tokens: turn.usage?.prompt_tokens ?? second.tokens,
    second_turn_reused_tokens: timings(turn).cache_n ?? null,
    second_turn_time_to_first_token_seconds: round(secondSeconds),
    user_agent: navigator.userAgent,
    hardware_concurrency: navigator.hardwareConcurrency,
    cross_origin_isolated: self.crossOriginIsolated,
  };
  await wllama.exit();
  return report;
}

const version = JSON.parse(await readFile(join(WLLAMA, 'package.json'), 'utf8')).version;
const model = await modelFile();
const server = createServer((req, res) => {
  serve(req, res).catch(() => { if (!res.headersSent) res.writeHead(500).end(); else res.destroy(); });
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = await launchBrowser();
try {
  const { page } = browser;
  page.on('console', (msg) => {
    const text = msg.text();
    // The refusals that count tokens are expected; other errors are worth seeing.
    if (text.startsWith('[bench] ') || (msg.type() === 'error' && !text.includes('exceed_context_size_error'))) console.error(text);
  });
  for (const n of threads) {
    await page.goto(`${origin}/`);
    try {
      const report = await page.evaluate(measure, {
        threads: n, model, prompts, decode, secondTurn: SECOND_TURN_TOKENS, text: TEXT,
      });
      console.log(JSON.stringify({ requested_threads: n, engine: `wllama ${version}`, model, ...report }));
    } catch (err) {
      console.error(`wllama on ${n} thread(s) failed: ${err.message}`);
      process.exitCode = 1;
    }
  }
  // Everything must have come from this server (or from blobs wllama made of it): no CDN.
  const elsewhere = browser.requests.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:'));
  if (elsewhere.length) {
    console.error(`requests left 127.0.0.1: ${[...new Set(elsewhere)].join(', ')}`);
    process.exitCode = 1;
  }
  if (browser.pageErrors.length) console.error(`page errors: ${browser.pageErrors.join('; ')}`);
} finally {
  await browser.close();
  await new Promise((ok) => server.close(ok));
}
