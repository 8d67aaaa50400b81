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
    let a = Args::parse(argv, &[])?;
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
            let spec = match name {
                "gemma3-270m" => Spec::gemma3_270m(),
                "qwen2-1.5b" => Spec::qwen2_1_5b(),
                n => return Err(format!("--synthetic {n}: expected gemma3-270m or qwen2-1.5b")),
            };
            (synthetic::write(&spec).map_err(|e| e.to_string())?, format!("synthetic {name}"))
        }
        _ => return Err("give exactly one of --model PATH or --synthetic NAME".into()),
    };
    let read_s = t0.elapsed().as_secs_f64();
    if backend == "gpu" {
        return bench_gpu(bytes, &source, read_s, n_prompt, n_decode, a.get("format") == Some("json"));
    }
    let t1 = Instant::now();
    let session = Session::load(bytes).map_err(|e| e.to_string())?;
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

/// The same figures through the wgpu backend: the prompt in prefill chunks
/// of the tiled mat-mul (`prefill_chunk` in the report), decode reading
/// back only the argmax.
fn bench_gpu(bytes: Vec<u8>, source: &str, read_s: f64, n_prompt: usize, n_decode: usize, json_out: bool) -> Result<(), String> {
    use kindred_engine::gpu::GpuModel;
    use kindred_engine::{Gguf, Tokenizer};
    let t1 = Instant::now();
    let g = Gguf::from_bytes(bytes).map_err(|e| e.to_string())?;
    let tok = Tokenizer::from_gguf(&g).map_err(|e| e.to_string())?;
    let mut model = GpuModel::load(&g).map_err(|e| e.to_string())?;
    let load_s = t1.elapsed().as_secs_f64();
    let mut prompt = tok.encode(&TEXT.repeat(1 + n_prompt / 40), true).map_err(|e| e.to_string())?;
    prompt.truncate(n_prompt.max(1));
    let t2 = Instant::now();
    let logits = model.forward(&prompt).map_err(|e| e.to_string())?;
    let prefill_s = t2.elapsed().as_secs_f64();
    let mut next = argmax(&logits);
    let ttft_s = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    for _ in 0..n_decode {
        next = model.forward_argmax(&[next]).map_err(|e| e.to_string())?;
    }
    let decode_s = t3.elapsed().as_secs_f64();
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
        "decode_tokens_per_second": round(n_decode as f64 / decode_s),
        "gpu_bytes": model.gpu_bytes(),
        "peak_resident_bytes": peak_rss(),
    });
    if json_out {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    }
    Ok(())
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
