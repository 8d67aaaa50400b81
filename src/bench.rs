//! `kindred bench`: load time, prefill and decode speed, time to first
//! token and peak memory, as figures (never as a pass/fail test).

use std::time::Instant;

use kindred_engine::sampler::argmax;
use kindred_engine::synthetic::{self, Spec};
use kindred_engine::Session;
use serde_json::json;

use crate::args::Args;

const TEXT: &str = "Once upon a time, in a village between the mountains and the sea, there lived a \
    young cartographer who drew maps of places nobody had ever visited. Every morning she walked to \
    the harbour, listened to the sailors' stories, and turned their words into coastlines, rivers and \
    forests. ";

pub fn run(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &["no-ahead", "no-shift"])?;
    if let Some(card) = a.get("chat") {
        return crate::chat_bench::run(&a, card);
    }
    let backend = a.get("backend").unwrap_or("cpu");
    if !matches!(backend, "cpu" | "gpu") {
        return Err(format!("--backend {backend}: expected cpu or gpu"));
    }
    let n_prompt: usize = a.num("prompt-tokens", 128)?;
    let n_decode: usize = a.num("decode-tokens", 128)?;
    let t0 = Instant::now();
    let (bytes, source) = match (a.get("model"), a.get("synthetic")) {
        (Some(p), None) => (std::fs::read(p).map_err(|e| format!("{p}: {e}"))?, p.to_string()),
        (None, Some(name)) => {
            let mut spec = Spec::named(name)
                .ok_or_else(|| format!("--synthetic {name}: expected one of {}", Spec::NAMES.join(", ")))?;
            // A template to try in the page on a tiny model (saved before it is loaded here).
            if let Some(path) = a.get("chat-template") {
                spec.chat_template = Some(std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?);
            }
            let bytes = synthetic::write(&spec).map_err(|e| e.to_string())?;
            // Writing the 1.5B shapes takes a minute: keep them for the next run.
            if let Some(path) = a.get("save-synthetic") {
                std::fs::write(path, &bytes).map_err(|e| format!("{path}: {e}"))?;
            }
            (bytes, format!("synthetic {name}"))
        }
        _ => return Err("give exactly one of --model PATH or --synthetic NAME".into()),
    };
    let read_s = t0.elapsed().as_secs_f64();
    // A random LoRA adapter of the model (tests: against llama.cpp, in the page).
    if let Some(path) = a.get("save-adapter") {
        let model = kindred_engine::Gguf::from_bytes(bytes.clone()).map_err(|e| e.to_string())?;
        let adapter = synthetic::write_adapter(&model, a.num("adapter-rank", 8)?, 16.0, 8).map_err(|e| e.to_string())?;
        std::fs::write(path, adapter).map_err(|e| format!("{path}: {e}"))?;
    }
    if backend == "gpu" {
        let bw = match a.get("bandwidth-gbs") {
            Some(v) => Some(v.parse::<f64>().map_err(|_| format!("--bandwidth-gbs {v}: expected a number"))?),
            None => None,
        };
        let chunk = match a.get("prefill-chunk") {
            Some(v) => Some(v.parse::<usize>().map_err(|_| format!("--prefill-chunk {v}: expected a number"))?),
            None => None,
        };
        let runs = GpuRuns { n_prompt, n_decode, prefill_chunk: chunk, ahead: !a.has("no-ahead") };
        let lora = match a.get("lora") {
            Some(path) => Some((std::fs::read(path).map_err(|e| format!("{path}: {e}"))?, a.num("lora-scale", 1.0f32)?)),
            None => None,
        };
        return bench_gpu(bytes, lora, &source, read_s, &runs, bw, a.get("format") == Some("json"));
    }
    let t1 = Instant::now();
    let mut session = Session::load(bytes).map_err(|e| e.to_string())?;
    if let Some(path) = a.get("lora") {
        let adapter = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        session.set_adapter(Some((adapter, a.num("lora-scale", 1.0f32)?))).map_err(|e| format!("{path}: {e}"))?;
    }
    let load_s = t1.elapsed().as_secs_f64();

    let mut prompt = session.encode_prompt(&TEXT.repeat(1 + n_prompt / 40)).map_err(|e| e.to_string())?;
    prompt.truncate(n_prompt.max(1));
    let model = &session.model;
    let mut cache = model.new_cache();
    let t2 = Instant::now();
    let mut logits = model.forward(&prompt, &mut cache).map_err(|e| e.to_string())?;
    let prefill_s = t2.elapsed().as_secs_f64();
    let mut next = argmax(&logits);
    let ttft_s = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    for _ in 0..n_decode {
        logits = model.forward(&[next], &mut cache).map_err(|e| e.to_string())?;
        next = argmax(&logits);
    }
    let decode_s = t3.elapsed().as_secs_f64();
    let c = model.config();
    let report = json!({
        "model": source,
        "architecture": c.architecture,
        "backend": "cpu",
        "threads": kindred_engine::par::threads(),
        "file_bytes": model.gguf().file_len(),
        "read_seconds": round(read_s),
        "load_seconds": round(load_s),
        "prompt_tokens": prompt.len(),
        "prefill_tokens_per_second": round(prompt.len() as f64 / prefill_s),
        "time_to_first_token_seconds": round(ttft_s),
        "decode_tokens": n_decode,
        "decode_tokens_per_second": round(n_decode as f64 / decode_s),
        "kv_cache_bytes": cache.bytes(),
        "peak_resident_bytes": peak_rss(),
    });
    match a.get("format").unwrap_or("text") {
        "json" => println!("{report}"),
        _ => println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
    }
    Ok(())
}

/// What a GPU bench runs.
struct GpuRuns {
    n_prompt: usize,
    n_decode: usize,
    prefill_chunk: Option<usize>,
    /// Each decode step queues the next before reading its token back, as
    /// a chat does (`--no-ahead`: one step at a time, for comparison).
    ahead: bool,
}

/// The same figures through the wgpu backend: the prompt in prefill chunks
/// of the tiled mat-mul (`prefill_chunk` in the report), decode reading
/// back only the argmax.
#[allow(clippy::too_many_arguments)]
fn bench_gpu(
    bytes: Vec<u8>,
    lora: Option<(Vec<u8>, f32)>,
    source: &str,
    read_s: f64,
    runs: &GpuRuns,
    bandwidth_gbs: Option<f64>,
    json_out: bool,
) -> Result<(), String> {
    use kindred_engine::gpu::{GpuModel, Pick, SampleParams};
    use kindred_engine::Tokenizer;
    let GpuRuns { n_prompt, n_decode, prefill_chunk, ahead } = *runs;
    let t1 = Instant::now();
    // The session holds the file, with the adapter on it when one is given.
    let mut session = Session::load(bytes).map_err(|e| e.to_string())?;
    session.set_adapter(lora).map_err(|e| format!("--lora: {e}"))?;
    let g = session.model.gguf();
    let tok = Tokenizer::from_gguf(g).map_err(|e| e.to_string())?;
    let opts = kindred_engine::gpu::GpuModelOptions { prefill_chunk, ..Default::default() };
    let mut model = GpuModel::load_with(g, &opts).map_err(|e| e.to_string())?;
    let load_s = t1.elapsed().as_secs_f64();
    let mut prompt = tok.encode(&TEXT.repeat(1 + n_prompt / 40), true).map_err(|e| e.to_string())?;
    prompt.truncate(n_prompt.max(1));
    let t2 = Instant::now();
    let logits = model.forward(&prompt).map_err(|e| e.to_string())?;
    let prefill_s = t2.elapsed().as_secs_f64();
    let mut next = argmax(&logits);
    let ttft_s = t2.elapsed().as_secs_f64();
    let prefill_profile = model.profile().map(|p| profile_json(p, prompt.len()));
    model.reset_profile();
    let t3 = Instant::now();
    let ids = model.decode_greedy(next, n_decode, ahead).map_err(|e| e.to_string())?;
    next = ids.last().copied().unwrap_or(next);
    let decode_s = t3.elapsed().as_secs_f64();
    let decode_profile = model.profile().map(|p| profile_json(p, n_decode));
    // A chat's step: the default sampler's settings (penalties, top-k,
    // top-p, min-p, a draw) on the GPU, one token id read back.
    model.reset_profile();
    let opts = kindred_engine::sampler::SamplerOptions::default();
    let mut recent: Vec<u32> = prompt.clone();
    recent.push(next);
    let draw = |i: usize| ((i * 7919) % 1000) as f32 / 1000.0;
    let t4 = Instant::now();
    for i in 0..n_decode {
        let params = (!model.has_ahead(&[next])).then(|| SampleParams::new(&opts, &recent, draw(i)));
        let queued = (ahead && i + 1 < n_decode).then(|| SampleParams::after_pending(&opts, &recent, draw(i + 1)));
        next = model.decode(&[next], params.as_ref().map(Pick::Sample), queued.as_ref().map(Pick::Sample)).map_err(|e| e.to_string())?;
        recent.push(next);
    }
    let sampled_s = t4.elapsed().as_secs_f64();
    let sampled_profile = model.profile().map(|p| profile_json(p, n_decode));
    // The memory-bandwidth bound: every weight is read once per decoded token.
    let bound = bandwidth_gbs.map(|bw| round(bw * 1e9 / model.weight_bytes() as f64));
    let report = json!({
        "model": source,
        "architecture": model.config().architecture,
        "backend": "gpu",
        "adapter": model.report(),
        "read_seconds": round(read_s),
        "load_seconds": round(load_s),
        "prompt_tokens": prompt.len(),
        "prefill_chunk": model.prefill_chunk(),
        "prefill_tokens_per_second": round(prompt.len() as f64 / prefill_s),
        "time_to_first_token_seconds": round(ttft_s),
        "decode_tokens": n_decode,
        "decode_queued_ahead": ahead,
        "decode_tokens_per_second": round(n_decode as f64 / decode_s),
        "decode_ms_per_token": round(decode_s * 1e3 / n_decode.max(1) as f64),
        "sampled_decode_tokens_per_second": round(n_decode as f64 / sampled_s),
        "weight_bytes_per_token": model.weight_bytes(),
        "bandwidth_gb_per_second": bandwidth_gbs,
        "bandwidth_bound_tokens_per_second": bound,
        "gpu_bytes": model.gpu_bytes(),
        "peak_resident_bytes": peak_rss(),
        "profile_prefill_us_per_token": prefill_profile,
        "profile_decode_us_per_token": decode_profile,
        "profile_sampled_us_per_token": sampled_profile,
    });
    if json_out {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    }
    Ok(())
}

/// GPU microseconds per token for each (section, kernel), the largest
/// first, with the total (`KINDRED_GPU_PROFILE` runs only).
fn profile_json(p: &std::collections::BTreeMap<(String, String), (f64, u64)>, tokens: usize) -> serde_json::Value {
    let per = tokens.max(1) as f64;
    let mut rows: Vec<_> = p.iter().collect();
    rows.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    let total: f64 = p.iter().filter(|(k, _)| k.0 != "cpu").map(|(_, v)| v.0).sum();
    let kernels: Vec<serde_json::Value> = rows
        .iter()
        .map(|((section, kernel), (ns, calls))| {
            json!({"section": section, "kernel": kernel, "us": round(ns / 1e3 / per), "dispatches": round(*calls as f64 / per)})
        })
        .collect();
    json!({"gpu_total_us": round(total / 1e3 / per), "kernels": kernels})
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Peak resident set size (VmHWM) on Linux; null elsewhere.
fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
