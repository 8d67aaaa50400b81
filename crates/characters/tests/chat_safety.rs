//! Safety: rule layer, classifier hook, persona-break detection.

use kindred_characters::chat::safety::{
    check, detect_persona_break, Action, Category, Classifier, ClassifierFlag, ClassifierReport,
    Direction, Level, NoClassifier, SafetyConfig, SafetyError, SafetyRules,
};

#[test]
fn whole_word_case_insensitive_matching() {
    let rules = SafetyRules::default();
    let v = rules.check("He began to TORTURE the poor lute.", Direction::Output);
    assert_eq!(v.findings.len(), 1);
    let f = &v.findings[0];
    assert_eq!(
        (f.category, f.term.as_str(), f.action),
        (Category::Violence, "torture", Action::Warn)
    );
    assert_eq!(
        &"He began to TORTURE the poor lute."[f.start..f.end],
        "TORTURE"
    );
    // Not inside other words.
    assert!(rules
        .check("The tortured poet wrote on.", Direction::Output)
        .findings
        .is_empty());
    assert!(rules
        .check("Pornography studies", Direction::Input)
        .findings
        .is_empty());
    // Multi-word terms across punctuation and spacing.
    let v = rules.check("I want to kill   myself.", Direction::Input);
    assert_eq!(v.findings.len(), 1);
    assert_eq!(v.findings[0].category, Category::SelfHarm);
    let v = rules.check("Talk of self harm here.", Direction::Input);
    assert_eq!(
        v.findings[0].term, "self-harm",
        "hyphen and space are the same separator"
    );
}

#[test]
fn masking_keeps_length() {
    let rules = SafetyRules::default();
    let text = "This is porn, plain porn; but Porno is not listed.";
    let v = rules.check(text, Direction::Output);
    assert_eq!(v.action, Some(Action::Mask));
    assert_eq!(v.text, "This is ****, plain ****; but Porno is not listed.");
    assert_eq!(v.text.len(), text.len());
    // Non-ASCII: same number of characters.
    let mut rules = SafetyRules::default();
    rules.add_term(Category::Hate, "völkisch", false).unwrap();
    let text = "Das völkisch Zeug.";
    let v = rules.check(text, Direction::Output);
    assert_eq!(v.text, "Das ******** Zeug.");
    assert_eq!(v.text.chars().count(), text.chars().count());
}

#[test]
fn levels_change_terms_and_actions() {
    let mut rules = SafetyRules::default();
    let text = "She drew a knife to stab the troll.";
    assert!(
        rules.check(text, Direction::Output).findings.is_empty(),
        "standard: 'stab' is a strict-only term"
    );
    rules.level = Level::Strict;
    let v = rules.check(text, Direction::Output);
    assert_eq!(v.action, Some(Action::Mask));
    assert_eq!(v.text, "She drew a knife to **** the troll.");
    let v = rules.check("Let's look at porn.", Direction::Input);
    assert_eq!(
        v.action,
        Some(Action::Block),
        "strict blocks sexual content"
    );
    rules.level = Level::Off;
    let v = rules.check("porn torture suicide", Direction::Input);
    assert!(v.findings.is_empty() && v.action.is_none());
    assert_eq!(v.text, "porn torture suicide");
}

#[test]
fn strongest_action_wins_and_directions_are_configurable() {
    let mut rules = SafetyRules::default();
    let v = rules.check("porn and torture", Direction::Output);
    assert_eq!(v.findings.len(), 2);
    assert_eq!(v.action, Some(Action::Mask));
    assert_eq!(v.text, "**** and torture", "warn findings are not masked");
    rules.check_output = false;
    assert!(rules.check("porn", Direction::Output).findings.is_empty());
    assert_eq!(rules.check("porn", Direction::Input).findings.len(), 1);
    rules.categories.get_mut(&Category::Sexual).unwrap().enabled = false;
    assert!(rules.check("porn", Direction::Input).findings.is_empty());
}

#[test]
fn user_edits_word_lists() {
    let mut rules = SafetyRules::default();
    assert!(rules
        .check("the goblin slur zorp", Direction::Input)
        .findings
        .is_empty());
    assert_eq!(rules.add_term(Category::Hate, "Zorp", false), Ok(true));
    assert_eq!(
        rules.add_term(Category::Hate, "zorp", false),
        Ok(false),
        "already there, any case"
    );
    let v = rules.check("the goblin slur ZORP", Direction::Input);
    assert_eq!(v.findings.len(), 1);
    assert_eq!(v.text, "the goblin slur ****");
    assert!(rules.remove_term(Category::Hate, "ZORP"));
    assert!(!rules.remove_term(Category::Hate, "zorp"));
    assert!(rules
        .check("the goblin slur zorp", Direction::Input)
        .findings
        .is_empty());
    assert_eq!(
        rules.add_term(Category::Hate, "  ", false),
        Err(SafetyError::InvalidTerm)
    );
    assert_eq!(
        rules.add_term(Category::Hate, "!!!", false),
        Err(SafetyError::InvalidTerm)
    );
    assert_eq!(
        rules.add_term(Category::Hate, &"x".repeat(65), false),
        Err(SafetyError::InvalidTerm)
    );
    // Removing a default term works too.
    assert!(rules.remove_term(Category::Violence, "torture"));
    assert!(rules
        .check("torture", Direction::Output)
        .findings
        .is_empty());
    // Lists survive JSON.
    let back: SafetyRules = serde_json::from_str(&serde_json::to_string(&rules).unwrap()).unwrap();
    assert_eq!(back, rules);
}

#[test]
fn contact_details_are_personal_data() {
    let mut rules = SafetyRules::default();
    let text = "Mail me at anna.berg@example.org or call +47 912 34 567, not on 2024-01-15.";
    let v = rules.check(text, Direction::Input);
    let found: Vec<(&str, &str)> = v
        .findings
        .iter()
        .map(|f| (f.term.as_str(), &text[f.start..f.end]))
        .collect();
    assert_eq!(
        found,
        [
            ("email address", "anna.berg@example.org"),
            ("phone number", "+47 912 34 567")
        ]
    );
    assert_eq!(v.action, Some(Action::Warn));
    rules.level = Level::Strict;
    let v = rules.check(text, Direction::Input);
    assert_eq!(
        v.text,
        "Mail me at ****.****@*******.*** or call +** *** ** ***, not on 2024-01-15."
    );
    rules.detect_contact_details = false;
    assert!(rules.check(text, Direction::Input).findings.is_empty());
    // Not e-mail: a handle, a bare '@'.
    rules.detect_contact_details = true;
    assert!(rules
        .check("@sam says hi @ noon, user@localhost", Direction::Input)
        .findings
        .is_empty());
}

struct Scripted(ClassifierReport, usize);
impl Classifier for Scripted {
    fn classify(&mut self, _text: &str, _d: Direction) -> ClassifierReport {
        self.1 += 1;
        self.0.clone()
    }
}

#[test]
fn classifier_layer_defaults_to_not_run() {
    let config = SafetyConfig::default();
    let r = check(
        &config,
        &mut NoClassifier,
        "a calm sentence",
        Direction::Output,
    );
    assert_eq!(r.model, ClassifierReport::NotRun);
    assert_eq!(r.action, None);

    let flags = vec![
        ClassifierFlag {
            category: Category::Violence,
            score: 0.3,
        },
        ClassifierFlag {
            category: Category::SelfHarm,
            score: 0.9,
        },
    ];
    let mut c = Scripted(ClassifierReport::Ran { flags }, 0);
    let r = check(&config, &mut c, "a calm sentence", Direction::Output);
    assert_eq!(
        r.action,
        Some(Action::Warn),
        "self-harm at standard warns; violence below threshold"
    );
    let mut strict = config.clone();
    strict.rules.level = Level::Strict;
    assert_eq!(
        check(&strict, &mut c, "x", Direction::Output).action,
        Some(Action::Block)
    );
    // A classifier flag cannot mask (no span): mask becomes warn.
    let mut c2 = Scripted(
        ClassifierReport::Ran {
            flags: vec![ClassifierFlag {
                category: Category::Sexual,
                score: 1.0,
            }],
        },
        0,
    );
    assert_eq!(
        check(&config, &mut c2, "x", Direction::Input).action,
        Some(Action::Warn)
    );
    // Level off: the classifier is not even asked.
    let mut off = config.clone();
    off.rules.level = Level::Off;
    let r = check(&off, &mut c, "x", Direction::Output);
    assert_eq!(r.model, ClassifierReport::NotRun);
    assert_eq!(c.1, 2);
    // The rule layer's masking shows through the combined report.
    let r = check(&config, &mut NoClassifier, "porn", Direction::Output);
    assert_eq!((r.text.as_str(), r.action), ("****", Some(Action::Mask)));
}

#[test]
fn persona_break_ai_disclaimers() {
    for text in [
        "As an AI language model, I cannot do that.",
        "Well... I am an AI, after all.",
        "I’m just a language model, so I don't have feelings.",
        "Sorry, but I'm an artificial intelligence.",
    ] {
        let pb = detect_persona_break(text, "Sam");
        assert!(pb.is_break(), "{text}");
        assert_eq!(
            pb.ai_disclaimers.len(),
            1,
            "{text}: {:?}",
            pb.ai_disclaimers
        );
        assert_eq!(pb.truncate_at, None);
    }
    let pb = detect_persona_break("As an AI language model, I", "Sam");
    assert_eq!(
        pb.ai_disclaimers[0].phrase, "as an ai language model",
        "longest phrase wins"
    );
    assert_eq!(
        (pb.ai_disclaimers[0].start, pb.ai_disclaimers[0].end),
        (0, 23)
    );
    for text in [
        "The aim is to train.",
        "As an aide, I serve the queen.",
        "I am an aimless wanderer.",
        "Sam walked in.",
    ] {
        assert!(!detect_persona_break(text, "Sam").is_break(), "{text}");
    }
}

#[test]
fn persona_break_speaking_for_the_user() {
    let text = "*She smiles.* Come in.\nSam: Thanks, I will.\nShe nods.";
    let pb = detect_persona_break(text, "Sam");
    assert!(pb.is_break());
    assert_eq!(pb.user_line_at, Some(23));
    assert_eq!(&text[..pb.truncate_at.unwrap()], "*She smiles.* Come in.");
    let text = "Fine.\n\n  **{{user}}:** no way";
    let pb = detect_persona_break(text, "Sam");
    assert_eq!(&text[..pb.truncate_at.unwrap()], "Fine.");
    let pb = detect_persona_break("sam : hello", "Sam");
    assert_eq!(pb.truncate_at, Some(0));
    // A name in the middle of a line, or without a colon, is fine.
    assert!(!detect_persona_break("I told Sam: no.\nSam nodded.", "Sam").is_break());
    assert!(!detect_persona_break("Samantha: hi", "Sam").is_break());
}
