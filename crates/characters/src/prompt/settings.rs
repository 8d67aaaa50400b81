//! Prompt settings chosen by the user or the app.

use serde::{Deserialize, Serialize};

/// The system prompt used when neither the user nor the card sets one.
pub const DEFAULT_SYSTEM_PROMPT: &str =
    "Write {{char}}'s next reply in a fictional chat between {{char}} and {{user}}. \
     Stay in character and keep replies short.";

/// The system prompt of the role-play format for instruct models: the
/// character is the model's identity, not a story it writes.
pub const ROLEPLAY_SYSTEM_PROMPT: &str =
    "You are {{char}}, talking with {{user}}. Stay in character as {{char}} at all times: \
     speak in {{char}}'s voice, from {{char}}'s own life and knowledge. Never say you are an AI, \
     a model or an assistant, and never drop the role to do tasks such as writing code: answer \
     those as {{char}} would. Write only {{char}}'s next reply, a few sentences long, in your own \
     words, and never write {{user}}'s words or actions.";

/// The role-play layout's reminder after the chat, when neither the app nor
/// the card gives post-history instructions: small instruct models drift
/// back to an assistant's voice as the system turn recedes.
pub const ROLEPLAY_POST_HISTORY: &str = "[Reply as {{char}}, in character, in a few sentences.]";

/// How a chat is laid out for the model. Chosen per model kind by the
/// quality harness's scores (see README's Character quality).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStyle {
    /// Role-play for instruct models, transcript for base models.
    #[default]
    Auto,
    /// SillyTavern's default story string: a narrator's system prompt and
    /// the whole card, examples included, in one system message, then the
    /// chat in the model's template. The baseline.
    Story,
    /// For instruct models: the character as the system turn (who they
    /// are, in the second person), example dialogues as earlier turns, then
    /// the chat in the model's template.
    Roleplay,
    /// For base models: the story layout written as a plain `Name: text`
    /// transcript, ending with `{{char}}:`; stops at other names.
    Transcript,
}

impl PromptStyle {
    pub fn name(self) -> &'static str {
        match self {
            PromptStyle::Auto => "auto",
            PromptStyle::Story => "story",
            PromptStyle::Roleplay => "roleplay",
            PromptStyle::Transcript => "transcript",
        }
    }

    pub fn parse(s: &str) -> Option<PromptStyle> {
        [PromptStyle::Auto, PromptStyle::Story, PromptStyle::Roleplay, PromptStyle::Transcript].into_iter().find(|p| p.name() == s)
    }

    /// `Auto` made concrete: role-play when the model is instruct-tuned
    /// (its file carries a chat template), else the transcript; unknown
    /// models get the story layout.
    pub fn resolve(self, instruct: Option<bool>) -> PromptStyle {
        match (self, instruct) {
            (PromptStyle::Auto, Some(true)) => PromptStyle::Roleplay,
            (PromptStyle::Auto, Some(false)) => PromptStyle::Transcript,
            (PromptStyle::Auto, None) => PromptStyle::Story,
            (s, _) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PromptSettings {
    /// The model's context window, in tokens.
    pub context_tokens: usize,
    /// Tokens kept free for the reply.
    pub reply_reserve: usize,
    /// The user's system prompt; when set it beats the card's.
    pub system_prompt: Option<String>,
    /// Used when neither the user nor the card gives a system prompt, and
    /// for `{{original}}` in a card's system prompt.
    pub default_system_prompt: String,
    /// App post-history instructions; `{{original}}` in the card's refers to it.
    pub post_history: String,
    /// Use the card's `system_prompt` and `post_history_instructions`.
    pub use_card_prompts: bool,
    pub authors_note: String,
    /// Messages from the newest at which the author's note goes (0 = last).
    pub authors_note_depth: u32,
    /// The layout; `assemble` reads `Roleplay` (examples as turns), the
    /// other styles differ in the system prompt and the renderer.
    pub style: PromptStyle,
    /// Tokens each message adds for template markup (role headers, ends).
    pub message_overhead: usize,
    /// Fixed for a chat: seeds macros everywhere, so the prompt prefix stays
    /// the same from turn to turn and the KV cache can be reused.
    pub chat_seed: u64,
    /// Header before the memories block.
    pub memories_header: String,
    /// Header before the example dialogues.
    pub examples_header: String,
    /// Replies keep to the writing systems the prompt uses (the card's, the
    /// persona's, the messages'): tokens of any other script are never
    /// sampled.
    pub keep_scripts: bool,
}

impl Default for PromptSettings {
    fn default() -> Self {
        Self {
            context_tokens: 4096,
            reply_reserve: 512,
            system_prompt: None,
            default_system_prompt: DEFAULT_SYSTEM_PROMPT.to_string(),
            post_history: String::new(),
            use_card_prompts: true,
            authors_note: String::new(),
            authors_note_depth: 4,
            style: PromptStyle::Auto,
            message_overhead: 4,
            chat_seed: 0,
            memories_header: "What {{char}} remembers:".to_string(),
            examples_header: "Examples of how {{char}} talks:".to_string(),
            keep_scripts: true,
        }
    }
}

impl PromptSettings {
    /// Tokens available for the prompt itself.
    pub fn prompt_budget(&self) -> usize {
        self.context_tokens.saturating_sub(self.reply_reserve)
    }
}
