//! A backup from the app (its "Export everything" file) as training data:
//! the one rule the CLI (`kindred dataset export`) and the page (Settings,
//! "Training data") both use. Each one-character chat is seen from its
//! character; rooms are left out.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Value};

use super::adaptive_examples::{adaptive_examples, AdaptiveConfig};
use super::example::ExampleDialogue;
use super::{kto_examples, preference_jsonl, preference_pairs, sft_messages, to_kto_jsonl, to_openai_chat_jsonl, DatasetContext};
use crate::card::Card;
use crate::chat::{Author, Chat, ChatCharacter, Message, Names, Rating, Swipe};

/// The formats, as the CLI's `--format` and the page name them.
pub const FORMATS: [&str; 5] = ["openai-chat", "trl-sft", "trl-preference", "openai-dpo", "kto"];

/// JSON lines, and what they came from.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub text: String,
    pub lines: usize,
    pub chats: usize,
    pub characters: usize,
}

/// The backup's chats (of character `only`, when given; none of `leave_out`)
/// in `format`.
pub fn export(backup: &Value, format: &str, only: Option<&str>, leave_out: &[String]) -> Result<Exported, String> {
    if !FORMATS.contains(&format) {
        return Err(format!("format {format}: one of {}", FORMATS.join(", ")));
    }
    if backup["format"] != "kindred-backup" {
        return Err("not a Kindred backup (the app's Settings, \"Export everything\", writes one)".into());
    }
    let mut chats = chats(backup, only);
    chats.retain(|(chat, _)| !leave_out.contains(&chat.id));
    if let Some(id) = only {
        if !backup["characters"].as_array().is_some_and(|cs| cs.iter().any(|c| c["id"] == id)) {
            return Err(format!("no character {id} in the backup"));
        }
    }
    let user = user_name(backup);
    let names: Vec<Names> = chats.iter().map(|(_, c)| Names::new(user.clone()).with_character(c.id.clone(), c.name.clone())).collect();
    let views: Vec<(&Chat, DatasetContext)> =
        chats.iter().zip(&names).map(|((chat, character), names)| (chat, DatasetContext { character, names })).collect();
    let text = match format {
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
            // This arm names only preference formats: `None` cannot come.
            preference_jsonl(format, &pairs).unwrap_or_else(|| Ok(String::new()))
        }
        _ => to_kto_jsonl(&views.iter().flat_map(|(c, x)| kto_examples(c, x)).collect::<Vec<_>>()),
    }
    .map_err(|e| e.to_string())?;
    // A branch is a chat of its own holding copies of the messages it grew from, ratings
    // included: the same pair, or the same conversation, would otherwise weigh twice.
    let mut seen = BTreeSet::new();
    let text: String = text.lines().filter(|l| seen.insert(*l)).map(|l| format!("{l}\n")).collect();
    let characters: BTreeSet<&str> = chats.iter().map(|(_, c)| c.id.as_str()).collect();
    Ok(Exported { lines: text.lines().count(), chats: chats.len(), characters: characters.len(), text })
}

/// Example dialogues proposed from the best-rated replies of `character`
/// in the backup's chats (`adaptive_examples`, its default bounds), each
/// with the chat and message it came from, for the person to take or leave.
pub fn suggested_examples(backup: &Value, character: &str, count: &dyn Fn(&str) -> usize) -> Result<Vec<ExampleDialogue>, String> {
    if backup["format"] != "kindred-backup" {
        return Err("not a Kindred backup".into());
    }
    let chats = chats(backup, Some(character));
    let chats: Vec<&Chat> = chats.iter().map(|(c, _)| c).collect();
    Ok(adaptive_examples(&chats, character, &AdaptiveConfig::default(), count))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_examples_are_the_best_rated_replies_with_what_they_answered() {
        let swipe = |text: &str, rating: Option<u8>| json!({ "text": text, "rating": rating });
        let backup = json!({
            "format": "kindred-backup",
            "characters": [
                { "id": "c1", "card": { "name": "Mara" } },
                { "id": "c2", "card": { "name": "Rook" } },
            ],
            "chats": [{ "id": "k1", "characterId": "c1" }, { "id": "k2", "characterId": "c2" }],
            "messages": [
                { "id": 1, "chatId": "k1", "pos": 1, "role": "assistant", "swipes": [swipe("Hello {{user}}.", None)], "chosen": 0 },
                { "id": 2, "chatId": "k1", "pos": 2, "role": "user", "swipes": [swipe("What is the lamp?", None)], "chosen": 0 },
                { "id": 3, "chatId": "k1", "pos": 3, "role": "assistant",
                  "swipes": [swipe("Dunno.", Some(2)), swipe("A lens, polished daily.", Some(4))], "chosen": 0 },
                { "id": 4, "chatId": "k1", "pos": 4, "role": "user", "swipes": [swipe("And the storm?", None)], "chosen": 0 },
                { "id": 5, "chatId": "k1", "pos": 5, "role": "assistant", "swipes": [swipe("We ride it out.", Some(3))], "chosen": 0 },
                { "id": 6, "chatId": "k2", "pos": 1, "role": "assistant", "swipes": [swipe("Check.", Some(4))], "chosen": 0 },
            ],
        });
        let count = |t: &str| t.len().div_ceil(4);
        let got = suggested_examples(&backup, "c1", &count).unwrap();
        let texts: Vec<&str> = got.iter().map(|e| e.text.as_str()).collect();
        // Four stars are the top of the app's scale; three are not enough, two never.
        assert_eq!(texts, ["<START>\n{{user}}: What is the lamp?\n{{char}}: A lens, polished daily."]);
        assert_eq!(got[0].rating, Some(4));
        assert!(matches!(&got[0].source, crate::chat::dataset::example::ExampleSource::Chat { chat_id, message_id } if chat_id == "k1" && message_id == "3"));
        assert!(suggested_examples(&json!({}), "c1", &count).is_err(), "not a backup");
        assert!(suggested_examples(&backup, "nobody", &count).unwrap().is_empty());
    }
}
