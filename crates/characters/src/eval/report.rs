//! Summaries of probe runs: per check and per dimension, for each model,
//! prompt format and character, side by side; and the worst transcripts.

use serde::{Deserialize, Serialize};

use super::run::{CharacterRun, ReplyRecord};
use super::score::{dimension_of, Dimension, CHECKS};

/// Pass rates (0-100) of one group of replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub model: String,
    pub format: String,
    /// A character's name, or "all".
    pub character: String,
    pub replies: usize,
    /// (check, pass rate, replies it applied to), in `CHECKS` order.
    pub checks: Vec<(String, f32, usize)>,
    /// (dimension, mean pass rate of its checks).
    pub dimensions: Vec<(Dimension, f32)>,
}

impl Summary {
    pub fn rate(&self, check: &str) -> Option<f32> {
        self.checks.iter().find(|(c, _, n)| c == check && *n > 0).map(|(_, r, _)| *r)
    }

    /// Replies that failed `check`.
    pub fn failed(&self, check: &str) -> usize {
        self.checks.iter().find(|(c, _, _)| c == check).map_or(0, |(_, r, n)| ((100.0 - r) / 100.0 * *n as f32).round() as usize)
    }
}

pub fn summarize(model: &str, format: &str, character: &str, replies: &[&ReplyRecord]) -> Summary {
    let mut checks = Vec::new();
    for (name, _) in CHECKS {
        let applied: Vec<bool> = replies.iter().flat_map(|r| r.checks.iter().filter(|c| c.check == *name).map(|c| c.pass)).collect();
        let rate = if applied.is_empty() { 0.0 } else { 100.0 * applied.iter().filter(|p| **p).count() as f32 / applied.len() as f32 };
        checks.push((name.to_string(), rate, applied.len()));
    }
    let dimensions = Dimension::ALL
        .iter()
        .map(|d| {
            let rates: Vec<f32> = checks.iter().filter(|(c, _, n)| *n > 0 && dimension_of(c) == Some(*d)).map(|(_, r, _)| *r).collect();
            (*d, if rates.is_empty() { 0.0 } else { rates.iter().sum::<f32>() / rates.len() as f32 })
        })
        .collect();
    Summary { model: model.into(), format: format.into(), character: character.into(), replies: replies.len(), checks, dimensions }
}

/// One row per model, format and character, then an "all" row for each
/// model and format.
pub fn summaries(runs: &[CharacterRun]) -> Vec<Summary> {
    let mut out = Vec::new();
    let mut groups: Vec<(String, String)> = Vec::new();
    for r in runs {
        let key = (r.model.clone(), r.format.clone());
        if !groups.contains(&key) {
            groups.push(key);
        }
    }
    for (model, format) in &groups {
        let group: Vec<&CharacterRun> = runs.iter().filter(|r| &r.model == model && &r.format == format).collect();
        for r in &group {
            out.push(summarize(model, format, &r.character, &r.replies.iter().collect::<Vec<_>>()));
        }
        let all: Vec<&ReplyRecord> = group.iter().flat_map(|r| r.replies.iter()).collect();
        out.push(summarize(model, format, "all", &all));
    }
    out
}

/// The `n` replies with the most failed checks, with their runs.
pub fn worst(runs: &[CharacterRun], n: usize) -> Vec<(&CharacterRun, &ReplyRecord)> {
    let mut all: Vec<(&CharacterRun, &ReplyRecord)> = runs.iter().flat_map(|r| r.replies.iter().map(move |x| (r, x))).collect();
    all.sort_by_key(|(_, x)| std::cmp::Reverse(x.failures()));
    all.into_iter().filter(|(_, x)| x.failures() > 0).take(n).collect()
}

fn pct(v: Option<f32>) -> String {
    v.map_or("–".into(), |r| format!("{r:.0}"))
}

/// The report as Markdown: the side-by-side table (pass rates in percent),
/// then the worst transcripts with the text that failed them.
pub fn markdown(runs: &[CharacterRun], seconds: f64) -> String {
    let mut s = String::from("# Character quality\n\n");
    s.push_str("Pass rates in percent; dimensions are the mean of their checks (CharacterGLM's consistency, human-likeness, engagement).\n\n");
    s.push_str("| model | format | character | replies | consistency | human-likeness | engagement |");
    for (c, _) in CHECKS {
        s.push_str(&format!(" {c} |"));
    }
    s.push('\n');
    s.push_str(&"| --- ".repeat(7 + CHECKS.len()));
    s.push_str("|\n");
    for sum in summaries(runs) {
        let bold = |t: String| if sum.character == "all" { format!("**{t}**") } else { t };
        s.push_str(&format!("| {} | {} | {} | {} |", sum.model, sum.format, bold(sum.character.clone()), sum.replies));
        for (_, r) in &sum.dimensions {
            s.push_str(&format!(" {} |", bold(format!("{r:.0}"))));
        }
        for (c, _) in CHECKS {
            s.push_str(&format!(" {} |", pct(sum.rate(c))));
        }
        s.push('\n');
    }
    let worst = worst(runs, 3);
    if !worst.is_empty() {
        s.push_str("\n## Worst replies\n");
        for (run, rec) in worst {
            s.push_str(&format!(
                "\n**{}** ({}, {}), {}: *{}*\n\n> {}\n\n",
                run.character,
                run.model,
                run.format,
                rec.probe.kind.name(),
                rec.probe.text,
                quote(&rec.shown)
            ));
            for c in rec.checks.iter().filter(|c| !c.pass) {
                s.push_str(&format!("- {}: {}\n", c.check, c.evidence));
            }
        }
    }
    s.push_str(&format!("\nRan in {seconds:.1} s.\n"));
    s
}

fn quote(text: &str) -> String {
    if text.trim().is_empty() {
        return "(empty)".into();
    }
    text.trim().replace('\n', "\n> ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::Card;
    use crate::eval::probes::ProbeSet;
    use crate::eval::run::ProbeRun;
    use crate::reply::Ending;

    fn run(model: &str, reply: &str) -> CharacterRun {
        let card: Card = serde_json::from_value(serde_json::json!({"name": "Wren", "description": "Wren keeps the lighthouse."})).unwrap();
        let mut r = ProbeRun::new(&card, &ProbeSet::shipped(), "Sam", Some(3), model, "roleplay");
        while r.next_probe().is_some() {
            r.record_reply(reply, Ending::Eos, 3, 1);
        }
        r.record
    }

    #[test]
    fn summaries_and_markdown_show_each_model_side_by_side() {
        let runs = vec![run("good", "Evening! The lighthouse keeps me busy. And you?"), run("bad", "As an AI language model I cannot.\nSam: ok")];
        let rows = summaries(&runs);
        assert_eq!(rows.len(), 4);
        let good = rows.iter().find(|r| r.model == "good" && r.character == "all").unwrap();
        let bad = rows.iter().find(|r| r.model == "bad" && r.character == "all").unwrap();
        assert_eq!(good.rate("persona"), Some(100.0));
        assert_eq!(bad.rate("persona"), Some(0.0));
        assert_eq!(bad.failed("persona"), 3);
        assert!(good.dimensions[0].1 > bad.dimensions[0].1);
        let md = markdown(&runs, 1.5);
        assert!(md.contains("| good | roleplay | **all** | 3 |"), "{md}");
        assert!(md.contains("steps out of character"), "{md}");
        assert!(md.contains("Ran in 1.5 s."));
    }
}
