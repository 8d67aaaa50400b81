//! From assembled prompt messages to turns every chat template accepts.
//!
//! Chat templates such as Gemma's know no system role past the first
//! message and insist that turns alternate, starting with the user's. So:
//! the context block stays the leading system message; notes and lore that
//! sit inside the history join the user side; neighbouring turns of one
//! side merge; and when the character speaks first (the greeting), a short
//! user opener goes before it.

use kindred_characters::prompt::{Part, PromptMessage, Role};
use serde::Serialize;

/// One message for the engine's `render_chat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Turn {
    pub role: &'static str,
    pub content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Turn {
    fn new(role: &'static str, content: String, name: Option<String>) -> Self {
        Self { role, content, name }
    }
}

/// `user` names the opener's speaker, as the history's own user turns are
/// named (a transcript shows it).
pub fn chat_turns(messages: &[PromptMessage], opener: &str, user: &str) -> Vec<Turn> {
    let opener_turn = || Turn::new("user", opener.to_string(), (!user.is_empty()).then(|| user.to_string()));
    let mut out: Vec<Turn> = Vec::new();
    let mut rest = messages;
    if let Some((first, tail)) = messages.split_first() {
        if first.part == Part::Context {
            out.push(Turn::new("system", first.content.clone(), None));
            rest = tail;
        }
    }
    let start = out.len();
    let mut in_history = false;
    for m in rest {
        if m.content.trim().is_empty() {
            continue;
        }
        let role = match m.role {
            Role::Assistant => "assistant",
            Role::User | Role::System => "user",
        };
        if !in_history && matches!(m.part, Part::History(_)) {
            in_history = true;
            // Example dialogues as turns end with the character; a greeting
            // after them needs the user's opener between, or the two merge.
            let after_examples = out.len() > start && out.last().is_some_and(|t| t.role == "assistant");
            if role == "assistant" && after_examples && !opener.trim().is_empty() {
                out.push(opener_turn());
            }
        }
        let merges = out.len() > start;
        match out.last_mut() {
            Some(last) if merges && last.role == role => {
                last.content.push_str("\n\n");
                last.content.push_str(&m.content);
            }
            _ => out.push(Turn::new(role, m.content.clone(), m.name.clone())),
        }
    }
    let first_is_user = out.get(start).is_some_and(|t| t.role == "user");
    if !first_is_user && !opener.trim().is_empty() {
        out.insert(start, opener_turn());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(role: Role, content: &str, part: Part) -> PromptMessage {
        PromptMessage { role, content: content.into(), name: None, part }
    }

    fn roles(turns: &[Turn]) -> Vec<&str> {
        turns.iter().map(|t| t.role).collect()
    }

    #[test]
    fn greeting_first_gets_an_opener() {
        let turns = chat_turns(
            &[
                m(Role::System, "ctx", Part::Context),
                m(Role::Assistant, "Hello!", Part::History(0)),
                m(Role::User, "Hi", Part::History(1)),
            ],
            "(Sam enters the conversation.)",
            "Sam",
        );
        assert_eq!(roles(&turns), ["system", "user", "assistant", "user"]);
        assert_eq!(turns[1].content, "(Sam enters the conversation.)");
        assert_eq!(turns[1].name.as_deref(), Some("Sam"), "the opener is the user's, named as the user's turns are");
        assert_eq!(turns[2].content, "Hello!");
    }

    #[test]
    fn notes_inside_the_history_join_the_user_side_and_turns_alternate() {
        let turns = chat_turns(
            &[
                m(Role::System, "ctx", Part::Context),
                m(Role::User, "u0", Part::History(0)),
                m(Role::Assistant, "a1", Part::History(1)),
                m(Role::Assistant, "", Part::History(2)),
                m(Role::Assistant, "a3", Part::History(3)),
                m(Role::System, "[note]", Part::AuthorsNote),
                m(Role::User, "u4", Part::History(4)),
                m(Role::System, "post", Part::PostHistory),
            ],
            "opener",
            "Sam",
        );
        assert_eq!(roles(&turns), ["system", "user", "assistant", "user"]);
        assert_eq!(turns[2].content, "a1\n\na3");
        assert_eq!(turns[3].content, "[note]\n\nu4\n\npost");
    }

    #[test]
    fn no_context_and_no_history_still_gives_a_user_turn() {
        let turns = chat_turns(&[], "opener", "");
        assert_eq!(turns, vec![Turn::new("user", "opener".into(), None)]);
        let turns = chat_turns(&[m(Role::User, "hi", Part::History(0))], "opener", "Sam");
        assert_eq!(roles(&turns), ["user"]);
        assert_eq!(turns[0].content, "hi");
    }
}
