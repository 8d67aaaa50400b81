//! `kindred eval`: the character-quality harness. Runs the probe
//! conversation of each character on each model in each prompt layout,
//! scores every reply (kindred_characters::eval) and prints one table side
//! by side, with the worst transcripts; `--judge MODEL` adds an instruct
//! model's ratings, reported apart.

use std::path::Path;

use kindred_characters::eval::judge::{self, Judgement};
use kindred_characters::eval::{markdown, summaries, CharacterRun, ProbeRun, ProbeSet};
use kindred_characters::prompt::PromptStyle;
use kindred_characters::Card;
use kindred_engine::reply_settings::REPLY_TOKENS;
use kindred_engine::{GenerateOptions, SamplerOptions, Session};

use crate::args::Args;
use crate::turn::reply;

pub const USAGE: &str = "kindred eval --model PATH[,PATH] (--character CARD | --characters DIR) [--probes FILE]
              [--style auto|story|roleplay|transcript[,...]] [--turns N] [--seed 1] [--max-tokens 120]
              [--temperature T] [--top-k K] [--min-p P] [--repeat-penalty R] [--user Sam] [--judge MODEL]
              [--format markdown|json] [--out FILE] [--quiet]
kindred eval --report RESULTS.json [--format markdown|json]   (a saved --format json run, reported again)";

pub fn run(argv: &[String]) -> Result<(), String> {
    let started = std::time::Instant::now();
    let a = Args::parse(argv, &["quiet"])?;
    let json = match a.get("format").unwrap_or("markdown") {
        "json" => true,
        "markdown" | "md" => false,
        f => return Err(format!("--format {f}: expected markdown or json")),
    };
    if let Some(path) = a.get("report") {
        return report(path, json);
    }
    let cards = load_cards(&a)?;
    let set = match a.get("probes") {
        Some(p) => ProbeSet::parse(&std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?).map_err(|e| format!("{p}: {e}"))?,
        None => ProbeSet::shipped(),
    };
    let styles: Vec<PromptStyle> = a
        .get("style")
        .unwrap_or("auto")
        .split(',')
        .map(|s| PromptStyle::parse(s.trim()).ok_or(format!("--style {s}: expected auto, story, roleplay or transcript")))
        .collect::<Result<_, _>>()?;
    let turns = a.get("turns").map(|t| t.parse::<usize>().map_err(|_| format!("--turns {t}: not a number"))).transpose()?;
    let user = a.get("user").unwrap_or("Sam").to_string();
    let seed: u64 = a.num("seed", 1)?;
    // The app's sampling defaults; every sampler flag of `kindred generate` overrides them.
    let mut opts = crate::generate_cmd::options(&a)?;
    opts.sampler.seed = seed;
    opts.max_tokens = a.num("max-tokens", REPLY_TOKENS)?;
    let quiet = a.has("quiet") || json;

    let mut runs: Vec<CharacterRun> = Vec::new();
    for model_path in a.required("model")?.split(',') {
        let mut session = crate::load_session(model_path)?;
        let model = model_name(model_path);
        for style in &styles {
            let layout = style.resolve(Some(session.template.is_instruct())).name();
            for (_, card) in &cards {
                let mut probe = ProbeRun::new(card, &set, &user, turns, &model, layout);
                if !quiet {
                    eprintln!("== {} · {model} · {layout}", probe.record.character);
                }
                while let Some(p) = probe.next_probe().cloned() {
                    let req = crate::turn::request(card, &user, probe.history(), *style, seed);
                    let out = reply(&mut session, req, &opts, |_| true)?;
                    let rec = probe.record_reply(&out.raw, out.ending, out.tokens, out.ms).ok_or("probe run out of step")?;
                    if !quiet {
                        let failed: Vec<&str> = rec.checks.iter().filter(|c| !c.pass).map(|c| c.check.as_str()).collect();
                        eprintln!("  {} > {}\n  < {}\n    [{:?}, {} tokens, {} ms] {}", user, p.text, rec.shown.replace('\n', " "), rec.ending, rec.tokens, rec.ms,
                            if failed.is_empty() { "all checks pass".to_string() } else { format!("fails: {}", failed.join(", ")) });
                    }
                }
                runs.push(probe.record);
            }
        }
    }
    let judged = match a.get("judge") {
        Some(path) => Some(judge_all(path, &runs, &cards, seed)?),
        None => None,
    };
    let seconds = started.elapsed().as_secs_f64();
    let text = if json {
        let mut v = serde_json::json!({ "seconds": seconds, "summaries": summaries(&runs), "runs": runs });
        if let Some(j) = &judged {
            v["judge"] = serde_json::json!({ "model": model_name(a.get("judge").unwrap_or_default()), "note": "a model's judgement, not part of the deterministic scores", "ratings": j });
        }
        serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
    } else {
        let mut md = markdown(&runs, seconds);
        if let Some(j) = &judged {
            md.push_str(&judge_markdown(a.get("judge").unwrap_or_default(), &runs, j));
        }
        md
    };
    match a.get("out") {
        Some(path) => std::fs::write(path, text + "\n").map_err(|e| format!("{path}: {e}"))?,
        None => println!("{text}"),
    }
    Ok(())
}

/// A saved `--format json` run, reported again (Markdown, or its summaries).
fn report(path: &str, json: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    let runs: Vec<CharacterRun> = serde_json::from_value(v["runs"].clone()).map_err(|e| format!("{path}: runs: {e}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summaries(&runs)).map_err(|e| e.to_string())?);
    } else {
        println!("{}", markdown(&runs, v["seconds"].as_f64().unwrap_or(0.0)));
    }
    Ok(())
}

fn model_name(path: &str) -> String {
    Path::new(path).file_stem().map_or(path.to_string(), |s| s.to_string_lossy().into_owned())
}

/// `--character CARD` or every card in `--characters DIR` (JSON, PNG,
/// CHARX; the starters' index.json is skipped), sorted by file name.
fn load_cards(a: &Args) -> Result<Vec<(String, Card)>, String> {
    let mut paths = Vec::new();
    if let Some(p) = a.get("character") {
        paths.push(std::path::PathBuf::from(p));
    }
    if let Some(dir) = a.get("characters") {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{dir}: {e}"))?;
        let mut found: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n != "index.json"))
            .filter(|p| p.extension().is_some_and(|x| ["json", "png", "charx"].contains(&x.to_string_lossy().to_lowercase().as_str())))
            .collect();
        found.sort();
        paths.extend(found);
    }
    if paths.is_empty() {
        return Err(format!("--character CARD or --characters DIR is required\n{USAGE}"));
    }
    paths
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
            let card = kindred_characters::read_any(&bytes).map_err(|e| format!("{}: {e}", p.display()))?.card;
            Ok((p.display().to_string(), card))
        })
        .collect()
}

/// Every reply rated by the judge model, greedy and short; keyed like the
/// runs (run index, reply index).
fn judge_all(path: &str, runs: &[CharacterRun], cards: &[(String, Card)], seed: u64) -> Result<Vec<Vec<Judgement>>, String> {
    let mut session: Session = crate::load_session(path)?;
    let opts = GenerateOptions { sampler: SamplerOptions { seed, ..SamplerOptions::greedy() }, max_tokens: 24, ..Default::default() };
    let mut out = Vec::new();
    for run in runs {
        let card = cards.iter().map(|(_, c)| c).find(|c| c.display_name().trim() == run.character);
        let about = card.map(|c| format!("{} {}", c.description, c.personality)).unwrap_or_default();
        let about = about.replace("{{char}}", &run.character).replace("{{user}}", &run.user_name);
        let mut ratings = Vec::new();
        for rec in &run.replies {
            let text = session
                .render_chat(&[kindred_engine::ChatMessage::new("user", &judge::prompt(&run.character, &about, rec))])
                .map_err(|e| e.to_string())?;
            let ids = session.encode_prompt(&text).map_err(|e| e.to_string())?;
            let answer = session.generate(&ids, opts.clone(), |_| true).map_err(|e| e.to_string())?;
            ratings.push(judge::parse(&answer.text));
        }
        out.push(ratings);
    }
    Ok(out)
}

fn judge_markdown(judge_path: &str, runs: &[CharacterRun], ratings: &[Vec<Judgement>]) -> String {
    use kindred_characters::eval::Dimension;
    let mut s = format!(
        "\n## A model's judgement ({})\n\nMean rating 1-5 given by the judge model with a rubric; not part of the scores above.\n\n| model | format | character | consistency | human-likeness | engagement | unparsed |\n| --- | --- | --- | --- | --- | --- | --- |\n",
        model_name(judge_path)
    );
    for (run, js) in runs.iter().zip(ratings) {
        s.push_str(&format!("| {} | {} | {} |", run.model, run.format, run.character));
        for d in Dimension::ALL {
            let v: Vec<f32> = js.iter().filter_map(|j| j.get(d)).map(f32::from).collect();
            s.push_str(&if v.is_empty() { " – |".to_string() } else { format!(" {:.1} |", v.iter().sum::<f32>() / v.len() as f32) });
        }
        let unparsed = js.iter().filter(|j| Dimension::ALL.iter().all(|d| j.get(*d).is_none())).count();
        s.push_str(&format!(" {unparsed} |\n"));
    }
    s
}
