//! `kindred generate`: one prompt in, one completion out; with
//! `--format json` a machine-checkable record (prompt ids, ids, text).

use std::io::Write;

use kindred_engine::{GenerateOptions, SamplerOptions};

use crate::args::Args;

pub fn run(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &["json"])?;
    let json = match a.get("format").unwrap_or("text") {
        "json" => true,
        "text" => false,
        f => return Err(format!("--format {f}: expected json or text")),
    };
    let opts = options(&a)?;
    let backend = match a.get("backend").unwrap_or("cpu") {
        "auto" => auto_backend(),
        b => b,
    };
    match backend {
        "cpu" => {}
        "gpu" if opts.json_schema.is_some() => return Err("--json and --json-schema run on the CPU backend".into()),
        "gpu" => return gpu_generate(&a, a.required("prompt")?, &opts, json),
        b => return Err(format!("--backend {b}: expected auto, cpu or gpu")),
    }
    let mut session = crate::load_model(&a)?;
    let prompt = a.required("prompt")?;
    let ids = session.encode_prompt(prompt).map_err(|e| e.to_string())?;
    // Decode speed: from the first piece (the prompt read and one token sampled) to the end.
    let mut first = None;
    let out = session
        .generate(&ids, opts, |piece| {
            first.get_or_insert_with(std::time::Instant::now);
            if !json {
                print!("{piece}");
                std::io::stdout().flush().ok();
            }
            true
        })
        .map_err(|e| e.to_string())?;
    let decode_s = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let decoded = out.ids.len().saturating_sub(1);
    if json {
        let record = serde_json::json!({
            "prompt_ids": ids,
            "ids": out.ids,
            "text": out.text,
            "stop_reason": out.stop_reason,
            "backend": "cpu",
            "decode_tokens_per_s": if decode_s > 0.0 { decoded as f64 / decode_s } else { 0.0 },
            "json_masked": out.json_masked,
        });
        println!("{record}");
    } else {
        println!();
    }
    Ok(())
}

/// `--backend auto`: the GPU only for a hardware adapter (a software one,
/// such as lavapipe, is slower than the CPU backend). Says which and why on
/// stderr.
fn auto_backend() -> &'static str {
    use kindred_engine::gpu::{Gpu, GpuOptions};
    let (pick, why) = match Gpu::new_blocking(&GpuOptions::default()) {
        Err(e) => ("cpu", e.to_string()),
        Ok(gpu) => {
            let r = &gpu.report;
            let adapter = format!("{} ({}, {})", r.adapter, r.device_type, r.backend);
            if !r.recommended {
                ("cpu", format!("{adapter}: {}", r.reason))
            } else {
                ("gpu", format!("{adapter}: {}", r.reason))
            }
        }
    };
    eprintln!("backend {pick}: {why}");
    pick
}

/// Generation on the wgpu backend: the prompt in prefill chunks, each token
/// sampled on the GPU with the CPU sampler's rule and seeded draws, so only
/// each chosen token id is read back. The model as `load_model` gives it,
/// with any `--lora` adapter on it.
fn gpu_generate(a: &Args, prompt: &str, opts: &GenerateOptions, json: bool) -> Result<(), String> {
    use kindred_engine::gpu::{GpuModel, SampleParams};
    use kindred_engine::sampler::Sampler;
    use kindred_engine::stream::TextStream;
    use kindred_engine::Tokenizer;
    let mut sampler = Sampler::new(opts.sampler.clone()).map_err(|e| e.to_string())?;
    let session = crate::load_model(a)?;
    let g = session.model.gguf();
    let tok = Tokenizer::from_gguf(g).map_err(|e| e.to_string())?;
    let mut model = GpuModel::load(g).map_err(|e| e.to_string())?;
    let ids = tok.encode(prompt, true).map_err(|e| e.to_string())?;
    let mut stream = TextStream::new(opts.stop.clone());
    let (mut out, mut text) = (Vec::new(), String::new());
    let mut history = ids.clone();
    // The penalties see the prompt and reply so far, as on the CPU.
    let mut step = |model: &mut GpuModel, tokens: &[u32], history: &[u32]| {
        let uniform = if opts.sampler.temperature > 0.0 { sampler.draw() } else { 0.0 };
        let params = SampleParams::new(&opts.sampler, history, uniform);
        model.forward_sample(tokens, &params).map_err(|e| e.to_string())
    };
    let mut next = if opts.max_tokens > 0 { Some(step(&mut model, &ids, &history)?) } else { None };
    while let Some(t) = next.take() {
        if tok.is_eog(t) {
            break;
        }
        out.push(t);
        let piece = stream.push(&tok, t).map_err(|e| e.to_string())?;
        if !json {
            print!("{}", piece.text);
            std::io::stdout().flush().ok();
        }
        text.push_str(&piece.text);
        if piece.stopped || out.len() >= opts.max_tokens {
            break;
        }
        history.push(t);
        next = Some(step(&mut model, &[t], &history)?);
    }
    let rest = stream.flush();
    text.push_str(&rest);
    if json {
        println!("{}", serde_json::json!({ "prompt_ids": ids, "ids": out, "text": text, "backend": "gpu", "adapter": model.report() }));
    } else {
        println!("{rest}");
    }
    Ok(())
}

pub fn options(a: &Args) -> Result<GenerateOptions, String> {
    let temperature = a.num("temperature", SamplerOptions::default().temperature)?;
    // Greedy means the raw argmax unless a penalty is asked for.
    let d = if temperature == 0.0 { SamplerOptions::greedy() } else { SamplerOptions::default() };
    let sampler = SamplerOptions {
        temperature,
        top_k: a.num("top-k", d.top_k)?,
        top_p: a.num("top-p", d.top_p)?,
        min_p: a.num("min-p", d.min_p)?,
        repeat_penalty: a.num("repeat-penalty", d.repeat_penalty)?,
        frequency_penalty: a.num("frequency-penalty", d.frequency_penalty)?,
        presence_penalty: a.num("presence-penalty", d.presence_penalty)?,
        penalty_last_n: a.num("penalty-last-n", d.penalty_last_n)?,
        dry_multiplier: a.num("dry-multiplier", d.dry_multiplier)?,
        dry_base: a.num("dry-base", d.dry_base)?,
        dry_allowed_length: a.num("dry-allowed-length", d.dry_allowed_length)?,
        dry_last_n: a.num("dry-last-n", d.dry_last_n)?,
        end_boost: a.num("end-boost", d.end_boost)?,
        end_boost_after: a.num("end-boost-after", d.end_boost_after)?,
        seed: a.num("seed", d.seed)?,
        suppress: Default::default(),
    };
    sampler.validate().map_err(|e| e.to_string())?;
    Ok(GenerateOptions {
        sampler,
        max_tokens: a.num("max-tokens", 64)?,
        stop: a.get("stop").map(|s| vec![s.to_string()]).unwrap_or_default(),
        context_shift: false,
        json_schema: json_schema(a)?,
    })
}

/// `--json`: the completion is a JSON object; `--json-schema FILE`: a value
/// that schema allows (crates/engine/src/json_output).
fn json_schema(a: &Args) -> Result<Option<serde_json::Value>, String> {
    if let Some(path) = a.get("json-schema") {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let schema = serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON: {e}"))?;
        kindred_engine::json_output::JsonOutput::new(&schema).map_err(|e| format!("{path}: {e}"))?;
        return Ok(Some(schema));
    }
    Ok(a.has("json").then(|| serde_json::json!({ "type": "object" })))
}
