//! The model layer: a classifier the app may supply (a small moderation
//! model, a browser API). Without one the report says "not run", so the UI
//! never implies a check that did not happen.

use serde::{Deserialize, Serialize};

use super::rules::{Category, Direction};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierFlag {
    pub category: Category,
    /// 0..1, higher is more confident.
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ClassifierReport {
    NotRun,
    Ran { flags: Vec<ClassifierFlag> },
    Failed { reason: String },
}

pub trait Classifier {
    fn classify(&mut self, text: &str, direction: Direction) -> ClassifierReport;
}

/// The default classifier: runs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoClassifier;

impl Classifier for NoClassifier {
    fn classify(&mut self, _text: &str, _direction: Direction) -> ClassifierReport {
        ClassifierReport::NotRun
    }
}
