//! Training data for the page (Settings, "Training data"): the app's backup
//! object in, JSON lines and their counts out, by the same rule as `kindred
//! dataset export` (`kindred_characters::chat::dataset::backup`).

use kindred_characters::chat::dataset::{backup, StudioResult};
use wasm_bindgen::prelude::*;

use crate::js::to_js;

/// Example dialogues proposed from `character`'s best-rated replies in the
/// backup (`backup::suggested_examples`): `[{text, rating, source: {kind,
/// chat_id, message_id}, tokens}]`, tokens estimated at four bytes each
/// (the page's tools have no model tokenizer).
#[wasm_bindgen]
pub fn suggested_examples(backup_json: &str, character: &str) -> Result<JsValue, JsError> {
    let value: serde_json::Value = serde_json::from_str(backup_json).map_err(|e| JsError::new(&format!("backup: {e}")))?;
    let done = backup::suggested_examples(&value, character, &|text| text.len().div_ceil(4)).map_err(|e| JsError::new(&e))?;
    to_js(&done)
}

/// Example dialogues from question/answer pairs (a spreadsheet saved as
/// CSV, or JSONL), as `kindred dataset import-qa` reads them: `[{text,
/// source: {kind: "import", row}, tokens}]` (tokens estimated), or an error
/// naming the line that is wrong.
#[wasm_bindgen]
pub fn import_examples(text: &str) -> Result<JsValue, JsError> {
    use kindred_characters::chat::dataset::import::{import_examples, ImportFormat};
    let mut found = import_examples(text, ImportFormat::detect(text)).map_err(|e| JsError::new(&e.to_string()))?;
    for e in &mut found {
        e.tokens = e.text.len().div_ceil(4);
    }
    to_js(&found)
}

/// `backup_json`: what the app's "Export everything" writes; `format`: one
/// of `backup::FORMATS`; `character`: only that character's chats;
/// `leave_out`: chat ids left out. Returns `{text, lines, chats, characters}`.
#[wasm_bindgen]
pub fn dataset_export(backup_json: &str, format: &str, character: Option<String>, leave_out: Option<Vec<String>>) -> Result<JsValue, JsError> {
    let value: serde_json::Value = serde_json::from_str(backup_json).map_err(|e| JsError::new(&format!("backup: {e}")))?;
    let done = backup::export(&value, format, character.as_deref(), &leave_out.unwrap_or_default()).map_err(|e| JsError::new(&e))?;
    to_js(&done)
}

/// How many example dialogues a card's `mes_example` holds (its `<START>`
/// blocks with something in them, as the prompt splits them): what the
/// editor's Check shows beside a score and the one before it.
#[wasm_bindgen]
pub fn example_count(mes_example: &str) -> usize {
    kindred_characters::macros::split_examples(mes_example).len()
}

/// The trait studio's result as the person reviewed it (`StudioResult` as
/// JSON text: the items they kept, each ranking with their pick first):
/// the best replies as example dialogues, traits taken in turn, at most 8
/// and about 1,600 tokens together (tokens estimated).
#[wasm_bindgen]
pub fn studio_examples(result_json: &str) -> Result<JsValue, JsError> {
    let result: StudioResult = serde_json::from_str(result_json).map_err(|e| JsError::new(&format!("result: {e}")))?;
    to_js(&result.example_dialogues(8, 1_600, &|text| text.len().div_ceil(4)))
}

/// The same result as preference pairs (the pick preferred over each other
/// reply, the card's system message and the question as the prompt), as
/// `format`: `trl-preference` or `openai-dpo` JSON lines. Returns `{text,
/// lines}`.
#[wasm_bindgen]
pub fn studio_preferences(card_json: &str, result_json: &str, format: &str) -> Result<JsValue, JsError> {
    let card: kindred_characters::Card = serde_json::from_str(card_json).map_err(|e| JsError::new(&format!("card: {e}")))?;
    let result: StudioResult = serde_json::from_str(result_json).map_err(|e| JsError::new(&format!("result: {e}")))?;
    let pairs = result.preference_pairs(&kindred_characters::chat::ChatCharacter::from_card("studio", &card));
    let text = kindred_characters::chat::dataset::preference_jsonl(format, &pairs)
        .ok_or_else(|| JsError::new(&format!("unknown format {format:?}: trl-preference or openai-dpo")))?
        .map_err(|e| JsError::new(&e.to_string()))?;
    #[derive(serde::Serialize)]
    struct Done {
        text: String,
        lines: usize,
    }
    to_js(&Done { text, lines: pairs.len() })
}
