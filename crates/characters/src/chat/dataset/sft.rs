//! Chats as OpenAI chat fine-tuning examples: one `{"messages": [...]}` line
//! per chat, the system message written from the card.

use serde_json::json;

use super::conversation::{is_room, push_merged, ChatMessage, DatasetContext};
use super::{jsonl, DatasetError};
use crate::chat::chat::Chat;

/// The training conversation of one chat: the shown swipes of the visible
/// messages. Assistant turns whose shown swipe was rated 1–2 stars get
/// weight 0 (kept as context, not learned). Trailing non-assistant turns are
/// dropped; `None` when no assistant turn is left.
pub fn sft_messages(chat: &Chat, ctx: &DatasetContext) -> Option<Vec<ChatMessage>> {
    let room = is_room(chat, ctx);
    let mut out = vec![ctx.system()];
    let mut any_weighted = false;
    for m in chat.visible() {
        let mut msg = ctx.render(m, room);
        if msg.role == "assistant" {
            let bad = m
                .chosen_swipe()
                .and_then(|s| s.rating)
                .is_some_and(|r| !r.is_good());
            msg.weight = Some(if bad { 0 } else { 1 });
            any_weighted |= bad;
        }
        push_merged(&mut out, msg);
    }
    while out.last().is_some_and(|m| m.role != "assistant") {
        out.pop();
    }
    if out.len() < 2 {
        return None;
    }
    if !any_weighted {
        for m in &mut out {
            m.weight = None;
        }
    }
    Some(out)
}

/// One line per chat that has at least one assistant turn.
pub fn to_openai_chat_jsonl<'a>(
    chats: impl IntoIterator<Item = (&'a Chat, DatasetContext<'a>)>,
) -> Result<String, DatasetError> {
    jsonl(
        chats
            .into_iter()
            .filter_map(|(chat, ctx)| sft_messages(chat, &ctx))
            .map(|messages| json!({ "messages": messages })),
    )
}
