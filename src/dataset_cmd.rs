//! `kindred dataset export`: a backup from the app (Settings, "Export
//! everything") as training data. Chats become OpenAI chat fine-tuning or
//! TRL conversational SFT lines; rated swipes become TRL preference, OpenAI
//! DPO or KTO lines (crates/characters/src/chat/dataset, which says how each
//! is built: the system message from the card, 1-2 stars a bad reply, 3-4 a
//! good one). Each chat is seen from its character; rooms are left out.
//! `kindred dataset import-qa`: question/answer pairs (a spreadsheet saved as
//! CSV, or JSONL) as a card's example dialogues.

use kindred_characters::card::{self, CardSpec, Format};
use kindred_characters::chat::dataset::backup::{self, FORMATS};
use kindred_characters::chat::dataset::{import_examples, ImportFormat};

use crate::args::Args;

pub fn run(argv: &[String]) -> Result<(), String> {
    match argv.first().map(String::as_str) {
        Some("export") => export(&argv[1..]),
        Some("import-qa") => import_qa(&argv[1..]),
        _ => Err(format!(
            "usage: kindred dataset export --backup FILE --format {} [--character ID] [--leave-out CHAT,CHAT] --out FILE.jsonl\n       \
             kindred dataset import-qa FILE.csv|FILE.jsonl --character CARD --out CARD [--replace]",
            FORMATS.join("|")
        )),
    }
}

fn export(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &[])?;
    let path = a.required("backup")?;
    let format = a.required("format")?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let backup: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON ({e})"))?;
    let leave_out: Vec<String> = a.get("leave-out").map(|l| l.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default();
    let done = backup::export(&backup, format, a.get("character"), &leave_out).map_err(|e| format!("{path}: {e}"))?;
    let out = a.required("out")?;
    std::fs::write(out, &done.text).map_err(|e| format!("{out}: {e}"))?;
    println!("{} {format} lines from {} chats with {} characters in {out}", done.lines, done.chats, done.characters);
    Ok(())
}

/// Pairs from FILE (the first argument) as `<START>` example dialogues of
/// the card, after its own (or in their place with `--replace`); the card is
/// written in the format OUT's extension names.
fn import_qa(argv: &[String]) -> Result<(), String> {
    let (file, rest) = argv.split_first().filter(|(f, _)| !f.starts_with("--")).ok_or("import-qa: the CSV or JSONL file first")?;
    let a = Args::parse(rest, &["replace"])?;
    let (card_path, out) = (a.required("character")?, a.required("out")?);
    let format = Format::from_extension(out).ok_or_else(|| format!("{out}: unknown extension; use .json, .png or .charx"))?;
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let examples = import_examples(&text, ImportFormat::detect(&text)).map_err(|e| format!("{file}: {e}"))?;
    let bytes = std::fs::read(card_path).map_err(|e| format!("{card_path}: {e}"))?;
    let mut imported = card::read_any(&bytes).map_err(|e| format!("{card_path}: {e}"))?;
    let mut blocks: Vec<String> = examples.iter().map(|e| e.text.clone()).collect();
    let own = imported.card.mes_example.trim();
    if !a.has("replace") && !own.is_empty() {
        blocks.insert(0, own.to_string());
    }
    imported.card.mes_example = blocks.join("\n");
    let written = card::write_as(&imported.card, imported.avatar.as_deref(), format, CardSpec::V3).map_err(|e| format!("{out}: {e}"))?;
    std::fs::write(out, written).map_err(|e| format!("{out}: {e}"))?;
    println!("{} example dialogues from {file} in {out}", examples.len());
    Ok(())
}

