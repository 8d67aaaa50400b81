//! `kindred dataset export`: a backup from the app (Settings, "Export
//! everything") as training data. Chats become OpenAI chat fine-tuning or
//! TRL conversational SFT lines; rated swipes become TRL preference, OpenAI
//! DPO or KTO lines (crates/characters/src/chat/dataset, which says how each
//! is built: the system message from the card, 1-2 stars a bad reply, 3-4 a
//! good one). Each chat is seen from its character; rooms are left out.
//! `kindred dataset import-qa`: question/answer pairs (a spreadsheet saved as
//! CSV, or JSONL) as a card's example dialogues.

use std::collections::BTreeMap;

use kindred_characters::card::{self, Card, CardSpec, Format};
use kindred_characters::chat::dataset::{
    import_examples, ImportFormat, kto_examples, preference_pairs, sft_messages, to_kto_jsonl, to_openai_chat_jsonl, to_openai_dpo_jsonl, to_trl_jsonl, DatasetContext,
};
use kindred_characters::chat::{Author, Chat, ChatCharacter, Message, Names, Rating, Swipe};
use serde_json::{json, Value};

use crate::args::Args;

pub const FORMATS: [&str; 5] = ["openai-chat", "trl-sft", "trl-preference", "openai-dpo", "kto"];

pub fn run(argv: &[String]) -> Result<(), String> {
    match argv.first().map(String::as_str) {
        Some("export") => export(&argv[1..]),
        Some("import-qa") => import_qa(&argv[1..]),
        _ => Err(format!(
            "usage: kindred dataset export --backup FILE --format {} [--character ID] --out FILE.jsonl\n       \
             kindred dataset import-qa FILE.csv|FILE.jsonl --character CARD --out CARD [--replace]",
            FORMATS.join("|")
        )),
    }
}

fn export(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &[])?;
    let path = a.required("backup")?;
    let format = a.required("format")?;
    if !FORMATS.contains(&format) {
        return Err(format!("--format {format}: one of {}", FORMATS.join(", ")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let backup: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: not JSON ({e})"))?;
    if backup["format"] != "kindred-backup" {
        return Err(format!("{path}: not a Kindred backup (the app's Settings, \"Export everything\", writes one)"));
    }
    let chats = chats(&backup, a.get("character"));
    if let Some(id) = a.get("character") {
        if chats.is_empty() && !backup["characters"].as_array().is_some_and(|cs| cs.iter().any(|c| c["id"] == id)) {
            return Err(format!("--character {id}: no such character in the backup"));
        }
    }
    let names: Vec<Names> = chats.iter().map(|(_, c)| Names::new(user_name(&backup)).with_character(c.id.clone(), c.name.clone())).collect();
    let views: Vec<(&Chat, DatasetContext)> =
        chats.iter().zip(&names).map(|((chat, character), names)| (chat, DatasetContext { character, names })).collect();
    let lines = match format {
        "openai-chat" => to_openai_chat_jsonl(views.iter().map(|(c, x)| (*c, *x))),
        "trl-sft" => {
            // TRL's conversational form: OpenAI's without its per-turn weights.
            let rows = views.iter().filter_map(|(c, x)| sft_messages(c, x)).map(|ms| {
                json!({ "messages": ms.iter().map(|m| json!({ "role": m.role, "content": m.content })).collect::<Vec<_>>() })
            });
            Ok(rows.map(|r| format!("{r}\n")).collect())
        }
        "trl-preference" | "openai-dpo" => {
            let pairs: Vec<_> = views.iter().flat_map(|(c, x)| preference_pairs(c, x)).collect();
            if format == "trl-preference" {
                to_trl_jsonl(&pairs)
            } else {
                to_openai_dpo_jsonl(&pairs)
            }
        }
        _ => to_kto_jsonl(&views.iter().flat_map(|(c, x)| kto_examples(c, x)).collect::<Vec<_>>()),
    }
    .map_err(|e| e.to_string())?;
    let out = a.required("out")?;
    std::fs::write(out, &lines).map_err(|e| format!("{out}: {e}"))?;
    let characters: std::collections::BTreeSet<&str> = chats.iter().map(|(_, c)| c.id.as_str()).collect();
    println!(
        "{} {format} lines from {} chats with {} characters in {out}",
        lines.lines().count(),
        chats.len(),
        characters.len()
    );
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

/// The name the user goes by: the backup's default persona, else "User".
fn user_name(backup: &Value) -> String {
    let prefs = backup["settings"].as_array().and_then(|s| s.iter().find(|s| s["key"] == "prefs")).map(|s| &s["value"]);
    prefs.and_then(|p| p["persona"]["name"].as_str()).filter(|n| !n.trim().is_empty()).unwrap_or("User").to_string()
}

/// Each one-character chat of the backup (of `only`, when given) with its
/// character, messages in their order; chats whose character is gone are
/// left out.
fn chats(backup: &Value, only: Option<&str>) -> Vec<(Chat, ChatCharacter)> {
    let empty = Vec::new();
    let list = |k: &str| backup[k].as_array().unwrap_or(&empty);
    let characters: BTreeMap<String, ChatCharacter> = list("characters")
        .iter()
        .filter_map(|c| {
            let id = c["id"].as_str()?;
            let card: Card = serde_json::from_value(c["card"].clone()).ok()?;
            Some((id.to_string(), ChatCharacter::from_card(id, &card)))
        })
        .collect();
    let mut messages: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for m in list("messages") {
        messages.entry(key(&m["chatId"])).or_default().push(m);
    }
    let mut out = Vec::new();
    for c in list("chats") {
        let Some(character) = c["characterId"].as_str().and_then(|id| characters.get(id)) else { continue };
        if only.is_some_and(|o| o != character.id) {
            continue;
        }
        let Ok(mut chat) = Chat::new(key(&c["id"]), 0) else { continue };
        let mut ms = messages.remove(&key(&c["id"])).unwrap_or_default();
        ms.sort_by(|a, b| a["pos"].as_f64().unwrap_or(0.0).total_cmp(&b["pos"].as_f64().unwrap_or(0.0)).then(key(&a["id"]).cmp(&key(&b["id"]))));
        chat.messages = ms.into_iter().filter_map(|m| message(m, &character.id)).collect();
        out.push((chat, character.clone()));
    }
    out
}

fn key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A stored message (the app's record: role, swipes with their stars, the
/// one shown) as the chat domain's.
fn message(m: &Value, character: &str) -> Option<Message> {
    let author = match m["role"].as_str()? {
        "user" => Author::User,
        "assistant" => Author::character(character),
        _ => return None,
    };
    let swipes: Vec<Swipe> = m["swipes"]
        .as_array()?
        .iter()
        .filter_map(|s| {
            let mut swipe = Swipe::new(s["text"].as_str()?, 0);
            swipe.rating = s["rating"].as_u64().and_then(|r| Rating::new(u8::try_from(r).ok()?).ok());
            Some(swipe)
        })
        .collect();
    let chosen = m["chosen"].as_u64().unwrap_or(0) as usize;
    if swipes.is_empty() || chosen >= swipes.len() {
        return None;
    }
    let id = key(&m["id"]);
    Some(Message { id, author, swipes, chosen, hidden: false, created_at_ms: 0, updated_at_ms: 0 })
}
