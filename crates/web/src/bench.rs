//! The browser bench page's figures for the CPU backend, measured the way
//! `kindred bench` measures them natively (src/bench.rs): the same prompt
//! text, greedy decoding that ignores end-of-turn, one forward pass per
//! prompt. Figures only; nothing here is a pass/fail test.

use kindred_engine::sampler::argmax;
use kindred_engine::{GenerateOptions, Session};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

fn err(e: kindred_engine::Error) -> JsError {
    JsError::new(&e.to_string())
}

pub(crate) const TEXT: &str = "Once upon a time, in a village between the mountains and the sea, there lived a \
    young cartographer who drew maps of places nobody had ever visited. Every morning she walked to \
    the harbour, listened to the sailors' stories, and turned their words into coastlines, rivers and \
    forests. ";

#[derive(Deserialize)]
#[serde(default)]
pub(crate) struct BenchOptions {
    /// Prompt lengths to prefill, each from an empty cache.
    pub prompt_tokens: Vec<usize>,
    pub decode_tokens: usize,
    /// New tokens of the second turn, read after the first prompt's cache.
    pub second_turn_tokens: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions { prompt_tokens: vec![128, 1024], decode_tokens: 128, second_turn_tokens: 24 }
    }
}

#[derive(Serialize)]
pub(crate) struct Prefill {
    pub prompt_tokens: usize,
    pub seconds: f64,
    pub tokens_per_second: f64,
    pub time_to_first_token_seconds: f64,
}

#[derive(Serialize)]
struct Report {
    architecture: String,
    backend: &'static str,
    threads: usize,
    load_seconds: f64,
    prefill: Vec<Prefill>,
    decode_tokens: usize,
    decode_tokens_per_second: f64,
    second_turn_prompt_tokens: usize,
    second_turn_reused_tokens: usize,
    second_turn_time_to_first_token_seconds: f64,
    kv_cache_bytes: usize,
    /// The wasm memory's size at the end: its peak, as wasm memory never shrinks.
    wasm_memory_bytes: f64,
}

pub(crate) fn wasm_memory_bytes() -> f64 {
    let memory = wasm_bindgen::memory();
    js_sys::Reflect::get(&memory, &"buffer".into())
        .and_then(|buffer| js_sys::Reflect::get(&buffer, &"byteLength".into()))
        .ok()
        .and_then(|n| n.as_f64())
        .unwrap_or(f64::NAN)
}

pub(crate) fn seconds(now: &js_sys::Function, since: f64) -> Result<f64, JsError> {
    Ok((clock(now)? - since) / 1000.0)
}

/// `now` is the page's `performance.now` (milliseconds).
pub(crate) fn clock(now: &js_sys::Function) -> Result<f64, JsError> {
    now.call0(&JsValue::NULL)
        .ok()
        .and_then(|v| v.as_f64())
        .ok_or_else(|| JsError::new("the clock function did not return a number"))
}

pub(crate) fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Loads the model from `bytes` and measures load, prefill at each prompt
/// length, decode and the time to first token of a second turn that reuses
/// the first turn's cache. Returns the figures as JSON text.
#[wasm_bindgen(js_name = benchCpu)]
pub fn bench_cpu(bytes: &js_sys::Uint8Array, options: &str, now: &js_sys::Function) -> Result<String, JsError> {
    let opts: BenchOptions = serde_json::from_str(options).map_err(|e| JsError::new(&format!("bench options: {e}")))?;
    let len = bytes.length() as usize;
    let mut buf: Vec<u8> = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| JsError::new("the model does not fit in this tab's memory"))?;
    buf.resize(len, 0);
    bytes.copy_to(&mut buf);

    let t = clock(now)?;
    let mut session = Session::load(buf).map_err(err)?;
    let load_seconds = seconds(now, t)?;
    let longest = opts.prompt_tokens.iter().copied().max().unwrap_or(128).max(1);
    let mut text_ids = session.encode_prompt(&TEXT.repeat(2 + longest / 40)).map_err(err)?;
    text_ids.truncate(longest + opts.second_turn_tokens.max(1));

    let model = &session.model;
    let mut prefill = Vec::new();
    for &n in &opts.prompt_tokens {
        let prompt = text_ids.get(..n.max(1)).unwrap_or(&text_ids);
        let mut cache = model.new_cache();
        let t = clock(now)?;
        let logits = model.forward(prompt, &mut cache).map_err(err)?;
        let s = seconds(now, t)?;
        let _first = argmax(&logits);
        let ttft = seconds(now, t)?;
        prefill.push(Prefill {
            prompt_tokens: prompt.len(),
            seconds: round(s),
            tokens_per_second: round(prompt.len() as f64 / s),
            time_to_first_token_seconds: round(ttft),
        });
    }

    // Decode after the shortest prompt, greedy, end-of-turn ignored.
    let short = opts.prompt_tokens.iter().copied().min().unwrap_or(128).max(1);
    let prompt = text_ids.get(..short).unwrap_or(&text_ids);
    let mut cache = model.new_cache();
    let mut next = argmax(&model.forward(prompt, &mut cache).map_err(err)?);
    let t = clock(now)?;
    for _ in 0..opts.decode_tokens {
        next = argmax(&model.forward(&[next], &mut cache).map_err(err)?);
    }
    let decode_s = seconds(now, t)?;
    let kv_cache_bytes = cache.bytes();

    // A second turn: the session has read `first`; the next prompt extends it.
    let first = text_ids.get(..short).unwrap_or(&text_ids).to_vec();
    let second = text_ids.get(..short + opts.second_turn_tokens.max(1)).unwrap_or(&text_ids).to_vec();
    let greedy = GenerateOptions { max_tokens: 1, ..GenerateOptions::default() };
    session.start(&first, greedy.clone()).map_err(err)?;
    session.next().map_err(err)?;
    let t = clock(now)?;
    let info = session.begin(&second, greedy).map_err(err)?;
    loop {
        let step = session.next().map_err(err)?;
        if step.token.is_some() || step.done {
            break;
        }
    }
    let second_ttft = seconds(now, t)?;

    let report = Report {
        architecture: session.model.config().architecture.clone(),
        backend: "cpu",
        threads: kindred_engine::par::threads(),
        load_seconds: round(load_seconds),
        prefill,
        decode_tokens: opts.decode_tokens,
        decode_tokens_per_second: round(opts.decode_tokens as f64 / decode_s),
        second_turn_prompt_tokens: info.n_prompt,
        second_turn_reused_tokens: info.n_reused,
        second_turn_time_to_first_token_seconds: round(second_ttft),
        kv_cache_bytes,
        wasm_memory_bytes: wasm_memory_bytes(),
    };
    serde_json::to_string(&report).map_err(|e| JsError::new(&e.to_string()))
}
