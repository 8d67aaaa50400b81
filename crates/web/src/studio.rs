//! The trait studio in the app (the editor's "Trait studio"): the engine
//! worker walks a `StudioRun`, asking the model each step's prompt (an
//! instruction kept to the step's JSON Schema, or a chat reply in
//! character) and handing its answer back; the page shows progress and the
//! result. Steps, parsing, retries and skips are
//! `kindred_characters::chat::dataset::studio_run`.

use kindred_characters::chat::dataset::{StudioConfig, StudioRun as Run, TraitSpec};
use kindred_characters::chat::ChatCharacter;
use kindred_characters::Card;
use wasm_bindgen::prelude::*;

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen]
pub struct StudioRun {
    run: Run,
}

#[wasm_bindgen]
impl StudioRun {
    /// `card_json`: the V3 card `data`; `traits_json`: `[{name,
    /// description?}]`; `questions` per trait (1-10) and `candidates` per
    /// question (2-5), brought within those bounds.
    #[wasm_bindgen(constructor)]
    pub fn new(card_json: &str, traits_json: &str, questions: usize, candidates: usize) -> Result<StudioRun, JsError> {
        let card: Card = serde_json::from_str(card_json).map_err(|e| js_err(format!("card: {e}")))?;
        let traits: Vec<TraitSpec> = serde_json::from_str(traits_json).map_err(|e| js_err(format!("traits: {e}")))?;
        let config = StudioConfig::for_page(questions, candidates);
        let run = Run::new(ChatCharacter::from_card("studio", &card), &traits, config).map_err(js_err)?;
        Ok(StudioRun { run })
    }

    /// The next step (`StudioStep` as JSON text), or `null` when the run is over.
    pub fn next(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.run.next()).map_err(js_err)
    }

    /// The model's answer to the step `next` gave.
    pub fn answer(&mut self, text: &str) {
        self.run.answer(text);
    }

    /// `[answers taken, answers planned]`.
    pub fn progress(&self) -> Vec<u32> {
        let (done, planned) = self.run.progress();
        vec![done as u32, planned as u32]
    }

    /// The items and issues so far (`StudioResult` as JSON text).
    pub fn result(&self) -> Result<String, JsError> {
        serde_json::to_string(self.run.result()).map_err(js_err)
    }
}
