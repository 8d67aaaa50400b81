//! `kindred`: the native command line. The app itself is static files; this
//! binary serves them for development, runs the engine in a terminal, and
//! measures it.

mod args;
mod bench;
mod chat_bench;
mod build_site;
mod card_cli;
mod chat_cmd;
mod dataset_cmd;
mod eval_cmd;
mod generate_cmd;
mod scripted_cmd;
mod serve;
mod turn;

use std::path::PathBuf;

const USAGE: &str = "kindred: private AI characters, locally.

usage:
  kindred serve [--port 8080] [--root DIR] [--no-isolation] [--default-model MODEL_ID|FILE.gguf] [--model-rate MB_PER_S]
  kindred build --out DIR [--with-model]
  kindred generate --model PATH --prompt TEXT [--max-tokens 64] [--temperature 0] [--top-k 40]
                   [--top-p 0.95] [--min-p 0.05] [--repeat-penalty 1.1] [--dry-multiplier 0.8] [--dry-base 1.75]
                   [--dry-allowed-length 4] [--dry-last-n 1024] [--end-boost 0.15] [--end-boost-after 60]
                   [--seed 0] [--stop S] (the app's sampling; --temperature 0 is the raw argmax)
                   [--format json|text] [--threads N] [--backend cpu|gpu]
                   [--json | --json-schema FILE] (the completion kept to a JSON object, or to the schema's values)
                   [--lora FILE [--lora-scale 1]] (a LoRA adapter of the model, in GGUF)
  kindred chat --model PATH --character CARD [--user NAME] [--max-tokens 120] [--style auto|story|roleplay|transcript] [--threads N]
               [--lora FILE [--lora-scale 1]] (the character trained elsewhere, as a LoRA adapter of the model)
               [--context N] [--no-shift] (a chat that outgrows N tokens keeps its later turns cached: context shift)
               [--resume DIR] (the conversation and the read prompt kept in DIR, taken up again next run)
  kindred eval --model PATH[,PATH] (--character CARD | --characters DIR) [--probes FILE] [--style auto|story|roleplay|transcript[,...]]
               [--turns N] [--seed 1] [--max-tokens 120] [--user Sam] [--judge MODEL] [--format markdown|json] [--out FILE]
  kindred bench (--model PATH | --synthetic gemma3-270m|qwen2-1.5b|tiny-ARCH[-TYPE], e.g. tiny-qwen3-iq4_xs) [--backend cpu|gpu]
                [--threads N] [--prompt-tokens 128] [--decode-tokens 128] [--format json|text]
                [--save-synthetic PATH [--chat-template FILE]] [--save-adapter PATH [--adapter-rank 8]] (a random LoRA adapter of the model)
                [--lora FILE [--lora-scale 1]] [--bandwidth-gbs GB_PER_S] [--prefill-chunk 64] [--no-ahead]
                (KINDRED_GPU_PROFILE=1 adds GPU time per kernel to a --backend gpu run)
  kindred bench --chat CARD --model PATH [--turns 3 (up to 10)] [--context N] [--no-shift] [--user NAME] [--seed 0] [--max-tokens 120]
                [--threads N] [--format json|text]
                (first-token time per turn: cold, the turn before cached, the prompt read ahead)
  kindred scripted-model --tokenizer-from MODEL.gguf --out FILE.gguf [--say SENTENCE]
                (a model that answers in a few fixed sentences at once, or only SENTENCE, with that file's tokenizer: for tests of the page)
  kindred dataset export --backup FILE --format openai-chat|trl-sft|trl-preference|openai-dpo|kto [--character ID] [--leave-out CHAT,CHAT] --out FILE.jsonl
                (a backup from the app's Settings as training data: chats, or rated replies as preference pairs)
  kindred dataset import-qa FILE.csv|FILE.jsonl --character CARD --out CARD [--replace]
                (question/answer pairs as the card's example dialogues; OUT's extension picks .json, .png or .charx)
  kindred card show FILE
  kindred card convert IN OUT [--spec v2|v3]
  kindred fetch-model [MODEL_ID]";

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    // The whole command runs on a pool thread: the engine's parallel loops
    // then run inline in the pool instead of being handed over from outside
    // it for every matrix product.
    let result = thread_pool(&argv).and_then(|pool| pool.install(|| dispatch(&argv)));
    if let Err(e) = result {
        eprintln!("kindred: {e}");
        std::process::exit(1);
    }
}

fn dispatch(argv: &[String]) -> Result<(), String> {
    match argv.first().map(|s| s.as_str()) {
        Some("serve") => cmd_serve(&argv[1..]),
        Some("build") => build_site::run(&argv[1..], &site_root(None)),
        Some("generate") => generate_cmd::run(&argv[1..]),
        Some("chat") => chat_cmd::run(&argv[1..]),
        Some("eval") => eval_cmd::run(&argv[1..]),
        Some("bench") => bench::run(&argv[1..]),
        Some("card") => card_cli::run(&argv[1..]),
        Some("dataset") => dataset_cmd::run(&argv[1..]),
        Some("scripted-model") => scripted_cmd::run(&argv[1..]),
        Some("fetch-model") => fetch_model(&argv[1..]),
        Some("-h") | Some("--help") | Some("help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_string()),
    }
}

/// A rayon pool of `--threads N` threads (default: every core).
fn thread_pool(argv: &[String]) -> Result<rayon::ThreadPool, String> {
    let mut b = rayon::ThreadPoolBuilder::new();
    let flag = argv.iter().position(|a| a == "--threads").map(|i| argv.get(i + 1).cloned().unwrap_or_default());
    let eq = argv.iter().find_map(|a| a.strip_prefix("--threads=").map(String::from));
    if let Some(n) = flag.or(eq) {
        let n: usize = n.parse().map_err(|_| format!("--threads: `{n}` is not a number"))?;
        b = b.num_threads(n.max(1));
    }
    b.build().map_err(|e| e.to_string())
}

/// The repository root: where `www/` and `models/` are.
fn site_root(explicit: Option<&str>) -> PathBuf {
    if let Some(r) = explicit {
        return PathBuf::from(r);
    }
    let here = std::env::current_dir().unwrap_or_default();
    if here.join("www").is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cmd_serve(argv: &[String]) -> Result<(), String> {
    let a = args::Args::parse(argv, &["no-isolation"])?;
    let port = a.num("port", 8080u16)?;
    let model_rate = a.get("model-rate").map(|v| v.parse::<f64>().map_err(|_| format!("--model-rate {v}: a number of MB a second"))).transpose()?;
    let options = serve::Options {
        isolated: !a.has("no-isolation"),
        default_model: a.get("default-model"),
        model_rate: model_rate.map(|mb| (mb * 1e6) as u64),
    };
    serve::run(&site_root(a.get("root")), port, options)
}

fn fetch_model(argv: &[String]) -> Result<(), String> {
    let script = site_root(None).join("scripts/fetch-model.py");
    let status = std::process::Command::new("python3")
        .arg(script)
        .args(argv)
        .status()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("fetching the model failed".into())
    }
}

pub(crate) fn load_session(path: &str) -> Result<kindred_engine::Session, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    kindred_engine::Session::load(bytes).map_err(|e| format!("{path}: {e}"))
}

/// `--model PATH`, with `--lora FILE [--lora-scale 1]` put on it: a
/// character trained elsewhere (a LoRA adapter in GGUF of that model).
pub(crate) fn load_model(a: &args::Args) -> Result<kindred_engine::Session, String> {
    let mut session = load_session(a.required("model")?)?;
    if let Some(path) = a.get("lora") {
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        session.set_adapter(Some((bytes, a.num("lora-scale", 1.0f32)?))).map_err(|e| format!("{path}: {e}"))?;
    } else if a.has("lora-scale") {
        return Err("--lora-scale goes with --lora FILE".into());
    }
    Ok(session)
}
