//! The quality harness in the app (the editor's Check): the engine worker
//! walks a character's probe conversation with `EvalRun`, assembling and
//! generating each reply as for a chat, and hands the scored replies to the
//! page. Probes, turn discipline and scoring are `kindred_characters::eval`,
//! as in `kindred eval`.

use kindred_characters::eval::report::summarize;
use kindred_characters::eval::{ProbeRun, ProbeSet};
use kindred_characters::prompt::PromptStyle;
use kindred_characters::reply::Ending;
use kindred_characters::Card;
use wasm_bindgen::prelude::*;

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen]
pub struct EvalRun {
    run: ProbeRun,
}

#[wasm_bindgen]
impl EvalRun {
    /// `card_json`: the V3 card `data`; `limit`: at most this many probes
    /// (0: all); `style`: the prompt settings' style (`auto` by default),
    /// resolved with `instruct` as prompts resolve it, to name the layout.
    #[wasm_bindgen(constructor)]
    pub fn new(card_json: &str, user_name: &str, limit: usize, model: &str, style: &str, instruct: bool) -> Result<EvalRun, JsError> {
        let card: Card = serde_json::from_str(card_json).map_err(|e| js_err(format!("card: {e}")))?;
        let layout = PromptStyle::parse(style).unwrap_or_default().resolve(Some(instruct));
        let user = if user_name.trim().is_empty() { "You" } else { user_name.trim() };
        let limit = (limit > 0).then_some(limit);
        Ok(EvalRun { run: ProbeRun::new(&card, &ProbeSet::shipped(), user, limit, model, layout.name()) })
    }

    pub fn total(&self) -> usize {
        self.run.total()
    }

    pub fn done(&self) -> bool {
        self.run.next_probe().is_none()
    }

    /// The chat so far, ending with the next probe, as prompt-request
    /// history (JSON text).
    pub fn history(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.run.history()).map_err(js_err)
    }

    /// Records the raw reply to the current probe; returns the scored reply
    /// (JSON text), or an error when every probe has its reply.
    pub fn record(&mut self, raw: &str, stop_reason: &str, tokens: usize, ms: f64) -> Result<String, JsError> {
        let rec = self.run.record_reply(raw, Ending::parse(stop_reason), tokens, ms.max(0.0) as u64).ok_or_else(|| js_err("the check is over"))?;
        serde_json::to_string(rec).map_err(js_err)
    }

    /// The run so far (`CharacterRun` as JSON text).
    pub fn result(&self) -> Result<String, JsError> {
        serde_json::to_string(&self.run.record).map_err(js_err)
    }

    /// Replies scored so far.
    pub fn answered(&self) -> usize {
        self.run.record.replies.len()
    }

    /// Pass rates per check and per dimension of the replies so far
    /// (`kindred_characters::eval::Summary` as JSON text): the page shows
    /// these, it does not compute them.
    pub fn summary(&self) -> Result<String, JsError> {
        let r = &self.run.record;
        serde_json::to_string(&summarize(&r.model, &r.format, &r.character, &r.replies.iter().collect::<Vec<_>>())).map_err(js_err)
    }
}
