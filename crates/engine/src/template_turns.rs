//! The chat reshaped for templates that take only alternating user and
//! assistant turns (Gemma's; Gemma 2's and Mistral's own templates refuse a
//! system turn or a chat that opens with the character's greeting): the
//! system text opens the first user turn, or is a user turn of its own
//! before a greeting, and turns of one role in a row become one.

use crate::template::ChatMessage;

pub fn alternating(messages: &[ChatMessage]) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(messages.len() + 1);
    let mut system = String::new();
    for m in messages {
        if m.role == "system" {
            system.push_str(&m.content);
            system.push_str("\n\n");
            continue;
        }
        let role = if m.role == "assistant" { "assistant" } else { "user" };
        let mut content = m.content.trim().to_string();
        if !system.is_empty() {
            if role == "user" {
                content = format!("{system}{content}");
            } else {
                // A greeting opens the chat: the instructions go first, as a user turn.
                push(&mut out, "user", std::mem::take(&mut system).trim_end().to_string());
            }
            system.clear();
        }
        push(&mut out, role, content);
    }
    if !system.is_empty() {
        push(&mut out, "user", system.trim_end().to_string());
    }
    out
}

fn push(out: &mut Vec<ChatMessage>, role: &str, content: String) {
    match out.last_mut() {
        Some(last) if last.role == role => {
            last.content.push_str("\n\n");
            last.content.push_str(&content);
        }
        _ => out.push(ChatMessage::new(role, &content)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: &str, text: &str) -> ChatMessage {
        ChatMessage::new(role, text)
    }

    fn turns(chat: &[ChatMessage]) -> Vec<(String, String)> {
        alternating(chat).into_iter().map(|t| (t.role, t.content)).collect()
    }

    #[test]
    fn system_text_opens_the_first_user_turn_or_comes_before_a_greeting() {
        let own = |r: &str, c: &str| (r.to_string(), c.to_string());
        assert_eq!(turns(&[m("system", "Be kind."), m("user", " Hi "), m("assistant", "Hello!")]), [own("user", "Be kind.\n\nHi"), own("assistant", "Hello!")]);
        assert_eq!(
            turns(&[m("system", "Be kind."), m("assistant", "Welcome!"), m("user", "Hi")]),
            [own("user", "Be kind."), own("assistant", "Welcome!"), own("user", "Hi")]
        );
        // A note in the middle joins the next message; one at the end is a turn.
        assert_eq!(
            turns(&[m("user", "A"), m("system", "Note."), m("user", "B"), m("assistant", "C"), m("system", "End.")]),
            [own("user", "A\n\nNote.\n\nB"), own("assistant", "C"), own("user", "End.")]
        );
    }

    #[test]
    fn the_roles_always_alternate_from_a_user_turn() {
        let chat = [m("assistant", "x"), m("assistant", "y"), m("user", "a"), m("system", "s"), m("user", "b"), m("assistant", "z")];
        let out = alternating(&chat);
        assert_eq!(out.first().map(|t| t.role.as_str()), Some("assistant"), "no system text: a greeting stays first");
        assert!(out.windows(2).all(|w| w[0].role != w[1].role), "{out:?}");
        let with_system = [&[m("system", "S")][..], &chat].concat();
        let out = alternating(&with_system);
        assert_eq!(out[0].role, "user");
        assert!(out.windows(2).all(|w| w[0].role != w[1].role), "{out:?}");
    }
}
