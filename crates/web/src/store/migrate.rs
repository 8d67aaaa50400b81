//! Data migrations, run inside the upgrade's own transaction: if one fails the
//! transaction aborts, the whole upgrade is rolled back and the old data stays
//! as it was (the page then says storage is unavailable rather than lose it).
//!
//! Version 1 -> 2: version 1 kept one chat per starter character, with the id
//! "character:<id>" and its greeting not stored, and messages
//! `{id, chatId, role, content, status, createdAt}`. Each message becomes one
//! with a single swipe, and each chat id a chat record that asks for its
//! greeting to be added when it is opened.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use super::error::js;
use super::tx::Tx;

/// What a version-1 message record said, read leniently.
#[derive(Debug, Clone, PartialEq)]
pub struct OldMessage {
    pub id: f64,
    pub chat_id: String,
    pub role: String,
    pub content: Option<String>,
    pub status: Option<String>,
    /// `None` when missing, zero or not a number.
    pub created_at: Option<f64>,
    /// A record that already has swipes is left as it is.
    pub upgraded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Swipe {
    pub text: String,
    pub status: String,
    pub rating: Option<u8>,
    pub created_at: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: f64,
    pub chat_id: String,
    pub pos: f64,
    pub role: &'static str,
    pub swipes: Vec<Swipe>,
    pub chosen: u32,
    pub created_at: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Chat {
    pub id: String,
    pub character_id: String,
    pub title: &'static str,
    pub created_at: f64,
    pub updated_at: f64,
    pub needs_greeting: bool,
}

pub fn upgraded_message(old: &OldMessage, now: f64) -> Message {
    let created_at = old.created_at.unwrap_or(now);
    Message {
        id: old.id,
        chat_id: old.chat_id.clone(),
        pos: old.id,
        role: if old.role == "user" { "user" } else { "assistant" },
        swipes: vec![Swipe {
            text: old.content.clone().unwrap_or_default(),
            status: old.status.clone().unwrap_or_else(|| "done".into()),
            rating: None,
            created_at,
        }],
        chosen: 0,
        created_at,
    }
}

/// The records version 2 wants from version 1's messages: the upgraded
/// messages and one chat per chat id, spanning its messages' times.
pub fn plan_v1(old: &[OldMessage], now: f64) -> (Vec<Message>, Vec<Chat>) {
    let messages = old.iter().filter(|m| !m.upgraded).map(|m| upgraded_message(m, now)).collect();
    let mut chats: Vec<Chat> = Vec::new();
    for m in old {
        let at = m.created_at.unwrap_or(now);
        match chats.iter_mut().find(|c| c.id == m.chat_id) {
            Some(chat) => {
                chat.created_at = chat.created_at.min(at);
                chat.updated_at = chat.updated_at.max(at);
            }
            None => chats.push(Chat {
                id: m.chat_id.clone(),
                character_id: m.chat_id.strip_prefix("character:").unwrap_or(&m.chat_id).to_string(),
                title: "Chat",
                created_at: at,
                updated_at: at,
                needs_greeting: true,
            }),
        }
    }
    (messages, chats)
}

/// Runs the version 1 -> 2 migration in the upgrade transaction `tx`.
pub async fn v1_messages(tx: &Tx, now: f64) -> Result<(), JsValue> {
    let messages = tx.store("messages")?;
    let chats = tx.store("chats")?;
    let rows = messages.get_all(None, None).map_err(js)?.await.map_err(js)?;
    let old: Vec<OldMessage> = rows.iter().filter_map(|r| read_old(&r)).collect();
    let (upgraded, new_chats) = plan_v1(&old, now);
    // Requests queue on the transaction; its commit (or abort) reports them.
    for m in &upgraded {
        messages.put(&to_js(m)?, None).map_err(js)?;
    }
    for c in &new_chats {
        chats.put(&to_js(c)?, None).map_err(js)?;
    }
    Ok(())
}

fn read_old(row: &JsValue) -> Option<OldMessage> {
    let get = |key: &str| js_sys::Reflect::get(row, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    let id = get("id").as_f64()?;
    let chat_id = get("chatId");
    let chat_id = match (chat_id.as_string(), chat_id.as_f64()) {
        (Some(s), _) => s,
        (None, Some(n)) => format!("{n}"),
        _ => String::new(),
    };
    let created_at = get("createdAt").as_f64().filter(|t| t.is_finite() && *t != 0.0);
    Some(OldMessage {
        id,
        chat_id,
        role: get("role").as_string().unwrap_or_default(),
        content: get("content").as_string(),
        status: get("status").as_string(),
        created_at,
        upgraded: js_sys::Array::is_array(&get("swipes")),
    })
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    let out = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    value.serialize(&out).map_err(|e| JsValue::from(JsError::new(&format!("migration: {e}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn old(id: f64, chat: &str, role: &str, content: Option<&str>, at: Option<f64>) -> OldMessage {
        OldMessage {
            id,
            chat_id: chat.into(),
            role: role.into(),
            content: content.map(Into::into),
            status: None,
            created_at: at,
            upgraded: false,
        }
    }

    #[test]
    fn a_message_becomes_one_swipe_at_its_old_place() {
        let m = upgraded_message(&old(7.0, "character:ada", "user", Some("Hello"), Some(100.0)), 999.0);
        assert_eq!((m.id, m.pos, m.role, m.chosen, m.created_at), (7.0, 7.0, "user", 0, 100.0));
        assert_eq!(m.swipes, vec![Swipe { text: "Hello".into(), status: "done".into(), rating: None, created_at: 100.0 }]);
    }

    #[test]
    fn odd_fields_get_safe_values() {
        let mut o = old(3.0, "c", "system", None, None);
        o.status = Some("streaming".into());
        let m = upgraded_message(&o, 42.0);
        assert_eq!(m.role, "assistant", "anything but user is the character's");
        assert_eq!(m.swipes[0].text, "");
        assert_eq!(m.swipes[0].status, "streaming", "the page turns a cut-off reply into Interrupted");
        assert_eq!(m.created_at, 42.0, "no time: the migration's");
    }

    #[test]
    fn one_chat_per_chat_id_spanning_its_messages() {
        let rows = [
            old(1.0, "character:ada", "assistant", Some("a"), Some(50.0)),
            old(2.0, "character:rook", "user", Some("b"), Some(10.0)),
            old(3.0, "character:ada", "user", Some("c"), Some(20.0)),
            old(4.0, "character:ada", "assistant", Some("d"), Some(80.0)),
        ];
        let (messages, chats) = plan_v1(&rows, 1000.0);
        assert_eq!(messages.len(), 4);
        assert_eq!(chats.len(), 2);
        let ada = chats.iter().find(|c| c.id == "character:ada").unwrap();
        assert_eq!((ada.character_id.as_str(), ada.created_at, ada.updated_at), ("ada", 20.0, 80.0));
        assert!(ada.needs_greeting);
        let rook = chats.iter().find(|c| c.id == "character:rook").unwrap();
        assert_eq!(rook.character_id, "rook");
    }

    #[test]
    fn already_upgraded_messages_are_left_alone_but_keep_their_chat() {
        let mut done = old(5.0, "character:wren", "user", Some("x"), Some(5.0));
        done.upgraded = true;
        let (messages, chats) = plan_v1(&[done], 9.0);
        assert!(messages.is_empty());
        assert_eq!(chats.len(), 1);
    }
}
