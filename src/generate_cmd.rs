//! `kindred generate`: one prompt in, one completion out; with
//! `--format json` a machine-checkable record (prompt ids, ids, text).

use std::io::Write;

use kindred_engine::{GenerateOptions, SamplerOptions};

use crate::args::Args;

pub fn run(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &[])?;
    let mut session = crate::load_session(a.required("model")?)?;
    let prompt = a.required("prompt")?;
    let opts = options(&a)?;
    let json = match a.get("format").unwrap_or("text") {
        "json" => true,
        "text" => false,
        f => return Err(format!("--format {f}: expected json or text")),
    };
    let ids = session.encode_prompt(prompt).map_err(|e| e.to_string())?;
    let out = session
        .generate(&ids, opts, |piece| {
            if !json {
                print!("{piece}");
                std::io::stdout().flush().ok();
            }
            true
        })
        .map_err(|e| e.to_string())?;
    if json {
        let record = serde_json::json!({
            "prompt_ids": ids,
            "ids": out.ids,
            "text": out.text,
            "stop_reason": out.stop_reason,
        });
        println!("{record}");
    } else {
        println!();
    }
    Ok(())
}

pub fn options(a: &Args) -> Result<GenerateOptions, String> {
    let d = SamplerOptions::default();
    let temperature = a.num("temperature", d.temperature)?;
    let sampler = SamplerOptions {
        temperature,
        top_k: a.num("top-k", d.top_k)?,
        top_p: a.num("top-p", d.top_p)?,
        min_p: a.num("min-p", d.min_p)?,
        // Greedy means the raw argmax unless a penalty is asked for.
        repeat_penalty: a.num("repeat-penalty", if temperature == 0.0 { 1.0 } else { d.repeat_penalty })?,
        frequency_penalty: a.num("frequency-penalty", d.frequency_penalty)?,
        presence_penalty: a.num("presence-penalty", d.presence_penalty)?,
        penalty_last_n: a.num("penalty-last-n", d.penalty_last_n)?,
        seed: a.num("seed", d.seed)?,
    };
    sampler.validate().map_err(|e| e.to_string())?;
    Ok(GenerateOptions {
        sampler,
        max_tokens: a.num("max-tokens", 64)?,
        stop: a.get("stop").map(|s| vec![s.to_string()]).unwrap_or_default(),
    })
}
