//! Golden files of prompt assembly: a chat with a lorebook scan, memories,
//! author's note, examples and post-history instructions goes through scan
//! + assembly, and the message list (what the engine then renders with the
//! model's own chat template) must equal the file under tests/golden/.
//! Regenerate on purpose with `UPDATE_GOLDEN=1`.

use std::path::PathBuf;

use kindred_characters::book::CharacterBook;
use kindred_characters::card::Card;
use kindred_characters::lorebook::{scan, Lorebook, ScanContext, ScanSettings, TimedState};
use kindred_characters::persona::Persona;
use kindred_characters::prompt::{
    assemble, Author, HistoryMessage, Memory, Prompt, PromptInput, PromptSettings,
};
use serde_json::json;

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("golden file {} unreadable ({e}); run with UPDATE_GOLDEN=1", path.display()));
    assert!(
        actual == expected,
        "output differs from {}\n--- expected ---\n{expected}\n--- actual ---\n{actual}\n(rerun with UPDATE_GOLDEN=1 if the change is intended)",
        path.display()
    );
}

fn card() -> Card {
    let book: CharacterBook = serde_json::from_value(json!({
        "name": "Harbour",
        "entries": [
            {"id": 1, "keys": ["lamp"], "content": "The lamp is a Fresnel lens from 1890.", "insertion_order": 10},
            {"id": 2, "keys": ["storm"], "content": "@@depth 2\n@@role system\nStorms here last three days.",
             "insertion_order": 20},
            {"id": 3, "keys": [], "constant": true, "content": "@@position after_desc\n{{char}} never leaves the tower at night.",
             "insertion_order": 5},
            {"id": 4, "keys": ["ferry"], "content": "The ferry runs on Sundays.", "insertion_order": 30}
        ]
    }))
    .expect("book");
    Card {
        name: "Mira".into(),
        description: "{{char}} keeps the lighthouse on Gull Rock.".into(),
        personality: "calm, dry humour, protective".into(),
        scenario: "{{user}} shelters from a storm in the lighthouse.".into(),
        first_mes: "Evening, {{user}}. Shut the door, the wind bites.".into(),
        mes_example: "<START>\n{{user}}: Is it always this loud?\n{{char}}: Only when the sea has opinions.\n\
                      <START>\n{{user}}: Do you get lonely?\n{{char}}: The gulls talk. I rarely answer."
            .into(),
        post_history_instructions: "Stay in character as {{char}}.".into(),
        character_book: Some(book),
        ..Card::default()
    }
}

fn history() -> Vec<HistoryMessage> {
    let mut hidden = HistoryMessage::new(Author::System, "", "(debug note, never sent)");
    hidden.hidden = true;
    vec![
        HistoryMessage::char("Evening, {{user}}. Shut the door, the wind bites."),
        HistoryMessage::user("Thanks. Is the lamp still working in this storm?"),
        hidden,
        HistoryMessage::char("It has not failed in forty years. Sit by the stove."),
        HistoryMessage::user("What happens if the lamp goes out in a storm?"),
    ]
}

fn build(settings: &PromptSettings, history: &[HistoryMessage]) -> Prompt {
    let cards = vec![card()];
    let book = cards[0].character_book.as_ref().map(|b| Lorebook::from_book(b, "card")).expect("book");
    let visible: Vec<&str> = history.iter().filter(|m| !m.hidden).map(|m| m.text.as_str()).collect();
    let ctx = ScanContext { chat_length: history.len() as u64, character_turns: 2, ..ScanContext::default() };
    let lore = scan(&[book], &visible, &ctx, &ScanSettings::default(), &TimedState::default(), &words);
    let persona = Persona::new("Sam", "{{user}} is a travelling botanist.");
    let memories = vec![
        Memory::new("{{user}} arrived soaked and cheerful.", true),
        Memory::new("{{user}} likes strong tea.", false),
    ];
    assemble(
        &PromptInput {
            characters: &cards,
            speaker: 0,
            persona: &persona,
            history,
            lore: &lore.hits,
            disabled_prompts: &lore.disabled_ui_prompts,
            memories: &memories,
            settings,
        },
        &words,
    )
    .expect("assembles")
}

fn settings() -> PromptSettings {
    PromptSettings {
        authors_note: "Mira is tired but hides it.".into(),
        authors_note_depth: 1,
        ..PromptSettings::default()
    }
}

#[test]
fn golden_messages_json() {
    // The structured result the UI gets: roles, parts, cut, token counts.
    let p = build(&settings(), &history());
    let json = serde_json::to_string_pretty(&p).expect("serialises") + "\n";
    golden("prompt_messages.json", &json);
}

#[test]
fn golden_trimmed_under_budget() {
    let mut h = history();
    for i in 0..12 {
        h.push(HistoryMessage::char(format!("Turn {i}: the wind keeps howling outside.")));
        h.push(HistoryMessage::user(format!("Reply {i}: I hear it too.")));
    }
    let s = PromptSettings { context_tokens: 330, reply_reserve: 60, ..settings() };
    let p = build(&s, &h);
    assert!(!p.cut.is_empty(), "this chat must be trimmed");
    assert!(p.tokens.total <= p.budget);
    let mut text: String = p.messages.iter().map(|m| format!("[{:?}]\n{}\n", m.role, m.content)).collect();
    text.push_str(&format!("\n---\ncut: {:?}\nexamples: {}/{}\n", p.cut, p.examples_used, p.examples_total));
    golden("prompt_trimmed.txt", &text);
}
