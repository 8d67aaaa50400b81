//! Prompt assembly: section order, macros, prompts from the card and the
//! user, author's note and depth lore, groups, and the token budget.

use kindred_characters::card::Card;
use kindred_characters::lorebook::{HitReason, LoreHit, LoreRole, Position, UiPrompt};
use kindred_characters::persona::Persona;
use kindred_characters::prompt::{
    assemble, Author, HistoryMessage, Memory, Part, Prompt, PromptError, PromptInput, PromptSettings, Role,
};

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn card() -> Card {
    Card {
        name: "Mira".into(),
        description: "{{char}} is a lighthouse keeper who knows {{user}}.".into(),
        personality: "calm, dry humour".into(),
        scenario: "A stormy night at the lighthouse.".into(),
        first_mes: "Evening, {{user}}.".into(),
        mes_example: "<START>\n{{user}}: Cold?\n{{char}}: Always.\n<START>\n{{user}}: Tea?\n{{char}}: Two sugars.".into(),
        ..Card::default()
    }
}

fn hit(uid: &str, content: &str, position: Position) -> LoreHit {
    LoreHit {
        uid: uid.into(),
        label: String::new(),
        content: content.into(),
        position,
        insertion_order: 100,
        tokens: words(content),
        reason: HitReason::Keys,
        step: 0,
    }
}

struct Fixture {
    cards: Vec<Card>,
    persona: Persona,
    history: Vec<HistoryMessage>,
    lore: Vec<LoreHit>,
    memories: Vec<Memory>,
    settings: PromptSettings,
    disabled: Vec<UiPrompt>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            cards: vec![card()],
            persona: Persona::new("Sam", "{{user}} is a sailor."),
            history: vec![
                HistoryMessage::char("Evening, {{user}}."),
                HistoryMessage::user("Hi {{char}}, rough sea tonight."),
                HistoryMessage::char("The worst in years."),
                HistoryMessage::user("Can I stay until it passes?"),
            ],
            lore: Vec::new(),
            memories: Vec::new(),
            settings: PromptSettings::default(),
            disabled: Vec::new(),
        }
    }

    fn run(&self) -> Prompt {
        self.try_run().expect("assembles")
    }

    fn try_run(&self) -> Result<Prompt, PromptError> {
        assemble(
            &PromptInput {
                characters: &self.cards,
                speaker: 0,
                persona: &self.persona,
                history: &self.history,
                lore: &self.lore,
                disabled_prompts: &self.disabled,
                memories: &self.memories,
                settings: &self.settings,
            },
            &words,
        )
    }
}

fn context(p: &Prompt) -> &str {
    p.messages.iter().find(|m| m.part == Part::Context).map(|m| m.content.as_str()).unwrap_or("")
}

fn pos(hay: &str, needle: &str) -> usize {
    hay.find(needle).unwrap_or_else(|| panic!("{needle:?} missing from:\n{hay}"))
}

#[test]
fn context_sections_in_order_with_macros() {
    let mut f = Fixture::new();
    f.lore = vec![
        hit("a", "LORE-BEFORE about {{char}}", Position::BeforeChar),
        hit("b", "LORE-AFTER", Position::AfterChar),
        hit("c", "LORE-DESC-AFTER", Position::AfterDesc),
        hit("d", "LORE-EX-BEFORE", Position::BeforeExamples),
    ];
    f.memories = vec![Memory::new("{{user}} fixed the lamp once.", false)];
    let p = f.run();
    let ctx = context(&p);
    let order = [
        "Write Mira's next reply",
        "LORE-BEFORE about Mira",
        "Sam is a sailor.",
        "Mira is a lighthouse keeper who knows Sam.",
        "LORE-DESC-AFTER",
        "Mira's personality: calm, dry humour",
        "Scenario: A stormy night",
        "LORE-AFTER",
        "What Mira remembers:\n- Sam fixed the lamp once.",
        "LORE-EX-BEFORE",
        "Examples of how Mira talks:\nSam: Cold?\nMira: Always.\n\nSam: Tea?\nMira: Two sugars.",
    ];
    let at: Vec<usize> = order.iter().map(|n| pos(ctx, n)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "sections out of order: {at:?}\n{ctx}");
    assert!(!ctx.contains("{{"), "macros left in context");
    assert!(!ctx.contains("<START>"));

    assert_eq!(p.messages[0].role, Role::System);
    let roles: Vec<Role> = p.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, vec![Role::System, Role::Assistant, Role::User, Role::Assistant, Role::User]);
    assert_eq!(p.messages[1].content, "Evening, Sam.");
    assert_eq!(p.messages[2].content, "Hi Mira, rough sea tonight.");
    assert_eq!(p.messages[4].name.as_deref(), Some("Sam"));
    assert!(p.cut.is_empty());
    assert_eq!((p.examples_used, p.examples_total), (2, 2));
}

#[test]
fn authors_note_and_depth_lore_are_woven_in() {
    let mut f = Fixture::new();
    f.settings.authors_note = "Keep it tense.".into();
    f.settings.authors_note_depth = 1;
    f.lore = vec![
        hit("z", "DEPTH-ZERO", Position::AtDepth { depth: 0, role: LoreRole::Assistant }),
        hit("t", "AN-TOP", Position::AuthorsNoteTop),
        hit("d", "DEEP", Position::AtDepth { depth: 99, role: LoreRole::System }),
    ];
    f.settings.post_history = "Reply in one paragraph.".into();
    let p = f.run();
    let parts: Vec<(Part, Role, &str)> = p.messages.iter().map(|m| (m.part, m.role, m.content.as_str())).collect();
    assert_eq!(parts[1], (Part::Lore, Role::System, "DEEP"));
    assert_eq!(parts[2].0, Part::History(0));
    assert_eq!(parts[5], (Part::AuthorsNote, Role::System, "AN-TOP\nKeep it tense."));
    assert_eq!(parts[6].0, Part::History(3));
    assert_eq!(parts[7], (Part::Lore, Role::Assistant, "DEPTH-ZERO"));
    assert_eq!(parts[8], (Part::PostHistory, Role::System, "Reply in one paragraph."));
    assert_eq!(parts.len(), 9);
}

#[test]
fn system_prompt_precedence() {
    let mut f = Fixture::new();
    f.cards[0].system_prompt = "CARD PROMPT then {{original}}".into();
    f.settings.default_system_prompt = "APP DEFAULT for {{char}}".into();
    assert!(context(&f.run()).starts_with("CARD PROMPT then APP DEFAULT for Mira"));

    f.settings.use_card_prompts = false;
    assert!(context(&f.run()).starts_with("APP DEFAULT for Mira"));

    f.settings.use_card_prompts = true;
    f.settings.system_prompt = Some("USER OVERRIDE".into());
    assert!(context(&f.run()).starts_with("USER OVERRIDE"));

    f.settings.system_prompt = None;
    f.disabled = vec![UiPrompt::SystemPrompt];
    assert!(context(&f.run()).starts_with("CARD PROMPT then \n") || context(&f.run()).starts_with("CARD PROMPT then\n"));
}

#[test]
fn post_history_from_card_and_ui() {
    let mut f = Fixture::new();
    f.settings.post_history = "APP".into();
    f.cards[0].post_history_instructions = "{{original}} + CARD for {{char}}".into();
    let last = |p: &Prompt| p.messages.last().map(|m| (m.part, m.content.clone()));
    assert_eq!(last(&f.run()), Some((Part::PostHistory, "APP + CARD for Mira".to_string())));
    f.disabled = vec![UiPrompt::PostHistoryInstructions];
    assert_eq!(last(&f.run()), Some((Part::PostHistory, "+ CARD for Mira".to_string())));
    f.cards[0].post_history_instructions.clear();
    assert_eq!(last(&f.run()).map(|l| l.0), Some(Part::History(3)));
}

#[test]
fn hidden_messages_are_left_out_not_cut() {
    let mut f = Fixture::new();
    f.history[2].hidden = true;
    let p = f.run();
    assert!(p.messages.iter().all(|m| m.part != Part::History(2)));
    assert!(p.cut.is_empty());
}

fn long_chat(n: usize) -> Vec<HistoryMessage> {
    chat_of(n, |i| format!("message number {i} with some filler words here"))
}

fn chat_of(n: usize, text: impl Fn(usize) -> String) -> Vec<HistoryMessage> {
    let mut h = vec![HistoryMessage::char("Evening, {{user}}.")];
    for i in 1..n {
        let text = text(i);
        h.push(if i % 2 == 1 { HistoryMessage::user(text) } else { HistoryMessage::char(text) });
    }
    h
}

#[test]
fn budget_cuts_oldest_keeps_greeting_pinned_and_newest() {
    let mut f = Fixture::new();
    f.settings.context_tokens = 300;
    f.settings.reply_reserve = 50;
    f.history = long_chat(60);
    f.history[5].pinned = true;
    let p = f.run();
    assert!(!p.over_budget);
    assert!(p.tokens.total <= p.budget, "{} > {}", p.tokens.total, p.budget);
    assert_eq!(p.budget, 250);
    let kept: Vec<usize> =
        p.messages.iter().filter_map(|m| if let Part::History(i) = m.part { Some(i) } else { None }).collect();
    assert_eq!(kept[0], 0, "greeting stays");
    assert_eq!(kept[1], 5, "pinned stays");
    assert_eq!(*kept.last().unwrap(), 59, "newest stays");
    // The cut is one point: everything between the greeting/pinned and the
    // first kept recent message is cut, nothing after it.
    let first_recent = kept[2];
    let expected_cut: Vec<usize> = (1..first_recent).filter(|i| *i != 5).collect();
    assert_eq!(p.cut, expected_cut);
    assert!(kept[2..].windows(2).all(|w| w[1] == w[0] + 1));
    assert_eq!(p.examples_used, 0, "a long chat pushes the examples out");
    // Counts add up: history tokens are the kept messages' words.
    let hist_words: usize = kept.iter().map(|&i| words(&f.history[i].text.replace("{{user}}", "Sam"))).sum();
    assert_eq!(p.tokens.history, hist_words);
    assert_eq!(p.tokens.overhead, p.messages.len() * f.settings.message_overhead);
}

#[test]
fn examples_give_way_gradually_as_history_grows() {
    let mut f = Fixture::new();
    f.settings.context_tokens = 230;
    f.settings.reply_reserve = 0;
    let mut used = Vec::new();
    // One-word messages cost 5 tokens with overhead: the space left shrinks
    // in steps no larger than the second example, so there is a chat length
    // where exactly one example fits.
    for n in 1..60 {
        f.history = chat_of(n, |_| "ok".to_string());
        let p = f.run();
        assert!(p.tokens.total <= p.budget);
        used.push(p.examples_used);
    }
    assert_eq!(used.first(), Some(&2));
    assert_eq!(used.last(), Some(&0));
    assert!(used.windows(2).all(|w| w[0] >= w[1]), "examples never come back as history grows: {used:?}");
    assert!(used.contains(&1), "one example goes before the other: {used:?}");
}

#[test]
fn unpinned_memories_go_when_space_runs_out() {
    let mut f = Fixture::new();
    f.memories = vec![
        Memory::new("pinned memory stays always here", true),
        Memory::new("first loose memory with quite a few words in it", false),
        Memory::new("second loose memory", false),
    ];
    f.history = vec![HistoryMessage::user("hello")];
    f.cards[0].mes_example.clear();
    let roomy = f.run();
    assert!(roomy.memories_cut.is_empty());
    let base = roomy.tokens.total;
    f.settings.reply_reserve = 0;
    f.settings.context_tokens = base - 5;
    let tight = f.run();
    assert_eq!(tight.memories_cut, vec![1]);
    assert!(context(&tight).contains("pinned memory stays"));
    assert!(context(&tight).contains("second loose memory"));
    assert!(tight.tokens.total <= tight.budget);
}

#[test]
fn fixed_parts_over_budget_are_reported() {
    let mut f = Fixture::new();
    f.settings.context_tokens = 20;
    f.settings.reply_reserve = 0;
    let p = f.run();
    assert!(p.over_budget);
    assert!(p.messages.iter().any(|m| m.part == Part::History(3)), "newest message still sent");
}

#[test]
fn group_chat_names_characters() {
    let mut f = Fixture::new();
    let mut other = card();
    other.name = "Jonah".into();
    other.description = "{{char}} is the ferryman.".into();
    f.cards.push(other);
    f.history.push(HistoryMessage::new(Author::Char, "Jonah", "The ferry is late."));
    f.history.push(HistoryMessage::new(Author::Narrator, "", "Thunder rolls."));
    let p = f.run();
    assert!(context(&p).contains("[Jonah]\nJonah is the ferryman."));
    let n = p.messages.len();
    assert_eq!(p.messages[n - 2].content, "Jonah: The ferry is late.");
    assert_eq!(p.messages[n - 2].role, Role::Assistant);
    assert_eq!(p.messages[n - 1].role, Role::System);
    assert_eq!(p.messages[1].content, "Mira: Evening, Sam.");
}

#[test]
fn bad_speaker_is_an_error_and_output_is_deterministic() {
    let f = Fixture::new();
    let err = assemble(
        &PromptInput {
            characters: &f.cards,
            speaker: 3,
            persona: &f.persona,
            history: &f.history,
            lore: &[],
            disabled_prompts: &[],
            memories: &[],
            settings: &f.settings,
        },
        &words,
    );
    assert_eq!(err, Err(PromptError::NoSpeaker { index: 3, count: 1 }));
    let mut g = Fixture::new();
    g.cards[0].description = "{{char}} rolls {{roll:d20}} and says {{random:yes,no,maybe}}.".into();
    assert_eq!(g.run(), g.run());
}
