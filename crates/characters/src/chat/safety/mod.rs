//! Safety in two configurable layers: editable word rules, and an optional
//! classifier supplied by the app. Persona-break detection lives here too.

pub mod classifier;
pub mod persona_break;
pub mod rules;
pub mod words;

use serde::{Deserialize, Serialize};

pub use classifier::{Classifier, ClassifierFlag, ClassifierReport, NoClassifier};
pub use persona_break::{detect_persona_break, PersonaBreak, PhraseHit};
pub use rules::{
    Action, Category, CategoryRules, Direction, Finding, Level, RuleVerdict, SafetyError,
    SafetyRules,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafetyConfig {
    pub rules: SafetyRules,
    /// Classifier scores at or above this count as a flag.
    pub classifier_threshold: f32,
}

impl Default for SafetyConfig {
    fn default() -> Self {
        Self {
            rules: SafetyRules::default(),
            classifier_threshold: 0.5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafetyReport {
    pub rules: RuleVerdict,
    pub model: ClassifierReport,
    /// The strongest action of both layers.
    pub action: Option<Action>,
    /// The text to show or send (masked where the rules masked).
    pub text: String,
}

/// Run both layers. A classifier flag takes its category's action at the
/// current level, except that it cannot mask (it has no span), so a mask
/// becomes a warning.
pub fn check(
    config: &SafetyConfig,
    classifier: &mut dyn Classifier,
    text: &str,
    direction: Direction,
) -> SafetyReport {
    let rules = config.rules.check(text, direction);
    let active = config.rules.level != Level::Off && config.rules.applies_to(direction);
    let model = if active {
        classifier.classify(text, direction)
    } else {
        ClassifierReport::NotRun
    };
    let model_action = match &model {
        ClassifierReport::Ran { flags } => flags
            .iter()
            .filter(|f| f.score >= config.classifier_threshold)
            .filter_map(|f| config.rules.action_for(f.category))
            .map(|a| if a == Action::Mask { Action::Warn } else { a })
            .max(),
        _ => None,
    };
    let action = rules.action.max(model_action);
    SafetyReport {
        text: rules.text.clone(),
        rules,
        model,
        action,
    }
}
