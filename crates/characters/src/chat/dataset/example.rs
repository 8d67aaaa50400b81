//! Example dialogues in the card format (`<START>` blocks), produced from
//! rated replies, the trait studio or imported question/answer pairs, and
//! returned for the user to review before they join a card.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExampleSource {
    Chat { chat_id: String, message_id: String },
    TraitStudio { trait_name: String },
    Import { row: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleDialogue {
    /// `<START>\n{{user}}: …\n{{char}}: …`
    pub text: String,
    #[serde(default)]
    pub rating: Option<u8>,
    pub source: ExampleSource,
    #[serde(default)]
    pub tokens: usize,
}

/// The `<START>` block for one exchange; without a user line, only the
/// character's.
pub fn format_example(user: Option<&str>, reply: &str) -> String {
    let mut out = String::from("<START>\n");
    if let Some(q) = user.map(str::trim).filter(|q| !q.is_empty()) {
        out.push_str("{{user}}: ");
        out.push_str(q);
        out.push('\n');
    }
    out.push_str("{{char}}: ");
    out.push_str(reply.trim());
    out
}
