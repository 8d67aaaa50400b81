//! `kindred bench --chat CARD`: the wait for a reply's first token in a
//! real chat, three ways on the same prompts: cold (nothing cached), with
//! only the turn before cached (the app without read-ahead), and with the
//! prompt read ahead while the person types (the app now). Figures, not a
//! test: each turn's first-token time, prompt tokens found cached, the
//! read-ahead's own time, decode speed, and whether the replies agree.
//! With `--context N` small enough that the chat outgrows it, later turns
//! show the context shift: the turns after those left out stay cached.

use std::time::Instant;

use kindred_characters::prompt::{HistoryMessage, PromptStyle};
use kindred_engine::Session;
use serde_json::json;

use crate::args::Args;
use crate::turn::{self, TurnOut};

/// The newcomer's first three messages (the character-quality issue's
/// walk), then more of the same chat for runs with `--turns` above three.
const MESSAGES: [&str; 10] = [
    "Hi! Tell me a little about yourself.",
    "What do you care about most, and why?",
    "I had a rough day at work today.",
    "My manager took credit for a report I wrote.",
    "Do you think I should say something to her?",
    "What would you do in my place?",
    "Thanks. Can you tell me a story to take my mind off it?",
    "What happened next?",
    "Do you remember what I told you about my day?",
    "Good night, and thank you for listening.",
];

pub fn run(a: &Args, card_path: &str) -> Result<(), String> {
    let bytes = std::fs::read(card_path).map_err(|e| format!("{card_path}: {e}"))?;
    let card = kindred_characters::read_any(&bytes).map_err(|e| format!("{card_path}: {e}"))?.card;
    let model = a.required("model")?;
    let user = a.get("user").unwrap_or("User").to_string();
    let turns: usize = a.num("turns", MESSAGES.len())?;
    let mut opts = crate::generate_cmd::options(a)?;
    opts.context_shift = !a.has("no-shift");
    if !a.has("max-tokens") {
        opts.max_tokens = kindred_engine::reply_settings::REPLY_TOKENS;
    }
    let t0 = Instant::now();
    let mut cold = crate::load_session(model)?;
    let load_s = t0.elapsed().as_secs_f64();
    let mut before = crate::load_session(model)?;
    let mut ahead = crate::load_session(model)?;
    if a.has("context") {
        let n: usize = a.num("context", 0)?;
        for s in [&mut cold, &mut before, &mut ahead] {
            s.set_context(n);
        }
    }

    let mut history = vec![HistoryMessage::char(card.first_mes.clone())];
    let mut rows = Vec::new();
    for i in 0..turns.min(MESSAGES.len()) {
        let request = |h: &[HistoryMessage]| turn::request(&card, &user, h.to_vec(), PromptStyle::Auto, opts.sampler.seed);
        let t = Instant::now();
        let read = turn::warm(&mut ahead, request(&history), &opts)?;
        let read_ahead_s = t.elapsed().as_secs_f64();
        history.push(HistoryMessage::user(MESSAGES[i]));
        let req = request(&history);
        cold.reset();
        let c = turn::reply(&mut cold, req.clone(), &opts, |_| true)?;
        let b = turn::reply(&mut before, req.clone(), &opts, |_| true)?;
        let w = turn::reply(&mut ahead, req, &opts, |_| true)?;
        rows.push(json!({
            "turn": i + 1,
            "prompt_tokens": w.prompt_tokens,
            "cold": figures(&c),
            "turn_before_cached": figures(&b),
            "read_ahead": figures(&w),
            "read_ahead_tokens": read.n_prompt - read.n_reused,
            "read_ahead_seconds": round(read_ahead_s),
            "same_reply": c.raw == w.raw && b.raw == w.raw,
        }));
        history.push(HistoryMessage::char(w.shown));
    }
    let report = json!({
        "model": model,
        "character": card.display_name(),
        "threads": kindred_engine::par::threads(),
        "load_seconds": round(load_s),
        "turns": rows,
        "seconds": round(t0.elapsed().as_secs_f64()),
    });
    if a.get("format") == Some("json") {
        println!("{report}");
    } else {
        print_table(&report, &ahead);
    }
    Ok(())
}

fn figures(t: &TurnOut) -> serde_json::Value {
    let decode_s = t.ms.saturating_sub(t.first_ms.unwrap_or(0)) as f64 / 1000.0;
    json!({
        "first_token_seconds": t.first_ms.map(|ms| round(ms as f64 / 1000.0)),
        "reused_tokens": t.reused,
        "shifted_tokens": t.shifted,
        "decode_tokens_per_second": if decode_s > 0.0 { round(t.tokens.saturating_sub(1) as f64 / decode_s) } else { 0.0 },
    })
}

fn print_table(r: &serde_json::Value, session: &Session) {
    println!(
        "{} with {} ({} threads, {} in the cache now)",
        r["character"].as_str().unwrap_or(""),
        r["model"].as_str().unwrap_or(""),
        r["threads"],
        session.cached_tokens().len()
    );
    println!("first token (s): cold | turn before cached | read ahead; read-ahead time (s), done while the person types");
    println!("(reused: prompt tokens found cached; shifted: of those, kept past turns left out to fit the context)");
    println!("turn  prompt  cold   before  ahead  (reused)  (shifted)  read-ahead  decode tok/s  same reply");
    for row in r["turns"].as_array().into_iter().flatten() {
        let f = |k: &str| row[k]["first_token_seconds"].as_f64().map_or("-".into(), |v| format!("{v:.2}"));
        let cells = [
            row["turn"].to_string(),
            row["prompt_tokens"].to_string(),
            f("cold"),
            f("turn_before_cached"),
            f("read_ahead"),
            row["read_ahead"]["reused_tokens"].to_string(),
            row["read_ahead"]["shifted_tokens"].to_string(),
            format!("{:.2}", row["read_ahead_seconds"].as_f64().unwrap_or(0.0)),
            format!("{:.1}", row["read_ahead"]["decode_tokens_per_second"].as_f64().unwrap_or(0.0)),
            (if row["same_reply"].as_bool() == Some(true) { "yes" } else { "no" }).to_string(),
        ];
        let widths = [5, 7, 6, 7, 6, 9, 10, 11, 13, 0];
        let line: Vec<String> = cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", line.join(" ").trim_end());
    }
    println!("{:.1} s in all", r["seconds"].as_f64().unwrap_or(0.0));
}

fn round(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
