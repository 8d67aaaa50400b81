//! The browser bench page's figures for the WebGPU backend (`?backend=gpu`),
//! measured as `benchCpu` measures the CPU and `kindred bench --backend gpu`
//! measures natively: prefill at each prompt length (the tiled mat-mul in
//! chunks), greedy decode reading back only the argmax, and the time to
//! first token of a second turn that reuses the first turn's cache.

use kindred_engine::gpu::{GpuModel, GpuModelOptions};
use kindred_engine::Session;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::bench::{clock, round, seconds, wasm_memory_bytes, BenchOptions, Prefill, TEXT};

fn gpu_err(e: kindred_engine::gpu::GpuError) -> JsError {
    JsError::new(&e.to_string())
}

#[derive(Serialize)]
struct Report {
    architecture: String,
    backend: &'static str,
    adapter: kindred_engine::gpu::GpuReport,
    /// Parsing the file into the CPU-side model (tokenizer, tensor table).
    parse_seconds: f64,
    /// Uploading the weights and compiling the kernels.
    load_seconds: f64,
    prefill_chunk: usize,
    prefill: Vec<Prefill>,
    decode_tokens: usize,
    decode_tokens_per_second: f64,
    second_turn_prompt_tokens: usize,
    second_turn_reused_tokens: usize,
    second_turn_time_to_first_token_seconds: f64,
    /// Weights and KV cache on the GPU.
    gpu_bytes: u64,
    wasm_memory_bytes: f64,
}

/// Loads the model from `bytes` onto WebGPU and measures it; resolves to
/// the figures as JSON text (rejects when there is no usable adapter).
#[wasm_bindgen(js_name = benchGpu)]
pub async fn bench_gpu(bytes: js_sys::Uint8Array, options: String, now: js_sys::Function) -> Result<String, JsError> {
    let opts: BenchOptions = serde_json::from_str(&options).map_err(|e| JsError::new(&format!("bench options: {e}")))?;
    let len = bytes.length() as usize;
    let mut buf: Vec<u8> = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| JsError::new("the model does not fit in this tab's memory"))?;
    buf.resize(len, 0);
    bytes.copy_to(&mut buf);

    let t = clock(&now)?;
    let session = Session::load(buf).map_err(|e| JsError::new(&e.to_string()))?;
    let parse_seconds = seconds(&now, t)?;
    let longest = opts.prompt_tokens.iter().copied().max().unwrap_or(128).max(1);
    let short = opts.prompt_tokens.iter().copied().min().unwrap_or(128).max(1);
    let second_n = opts.second_turn_tokens.max(1);
    let mut text_ids = session.encode_prompt(&TEXT.repeat(2 + longest / 40)).map_err(|e| JsError::new(&e.to_string()))?;
    text_ids.truncate(longest.max(short + second_n));
    let context = (longest.max(short + opts.decode_tokens).max(short + second_n) + 8).next_multiple_of(256);

    let t = clock(&now)?;
    let gpu_opts = GpuModelOptions { context: Some(context), ..Default::default() };
    let mut gpu = GpuModel::load_async(session.model.gguf(), &gpu_opts).await.map_err(gpu_err)?;
    let load_seconds = seconds(&now, t)?;

    let mut prefill = Vec::new();
    for &n in &opts.prompt_tokens {
        let prompt = text_ids.get(..n.max(1)).unwrap_or(&text_ids);
        gpu.truncate(0);
        let t = clock(&now)?;
        gpu.forward_argmax_async(prompt).await.map_err(gpu_err)?;
        let s = seconds(&now, t)?;
        prefill.push(Prefill {
            prompt_tokens: prompt.len(),
            seconds: round(s),
            tokens_per_second: round(prompt.len() as f64 / s),
            time_to_first_token_seconds: round(s),
        });
    }

    // Decode after the shortest prompt, greedy, end-of-turn ignored.
    let prompt = text_ids.get(..short).unwrap_or(&text_ids);
    gpu.truncate(0);
    let next = gpu.forward_argmax_async(prompt).await.map_err(gpu_err)?;
    let t = clock(&now)?;
    // Each step queues the next before its token is read back, as a chat does.
    gpu.decode_greedy_async(next, opts.decode_tokens, true).await.map_err(gpu_err)?;
    let decode_s = seconds(&now, t)?;

    // A second turn: the cache holds the first prompt; the next one extends it.
    let first = text_ids.get(..short).unwrap_or(&text_ids);
    let second = text_ids.get(short..short + second_n).unwrap_or(&[]);
    gpu.truncate(0);
    gpu.forward_argmax_async(first).await.map_err(gpu_err)?;
    let t = clock(&now)?;
    if !second.is_empty() {
        gpu.forward_argmax_async(second).await.map_err(gpu_err)?;
    }
    let second_ttft = seconds(&now, t)?;

    let report = Report {
        architecture: gpu.config().architecture.clone(),
        backend: "webgpu",
        adapter: gpu.report().clone(),
        parse_seconds: round(parse_seconds),
        load_seconds: round(load_seconds),
        prefill_chunk: gpu.prefill_chunk(),
        prefill,
        decode_tokens: opts.decode_tokens,
        decode_tokens_per_second: round(opts.decode_tokens as f64 / decode_s),
        second_turn_prompt_tokens: first.len() + second.len(),
        second_turn_reused_tokens: first.len(),
        second_turn_time_to_first_token_seconds: round(second_ttft),
        gpu_bytes: gpu.gpu_bytes(),
        wasm_memory_bytes: wasm_memory_bytes(),
    };
    serde_json::to_string(&report).map_err(|e| JsError::new(&e.to_string()))
}
