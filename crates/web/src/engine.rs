//! `Engine`: load a GGUF from bytes, render chats, stream a reply token by
//! token. Synchronous by design: it runs in a worker, and the worker yields
//! to its event loop between `next()` calls so "stop" is heard.

use kindred_engine::{ChatMessage, GenerateOptions, Session};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Engine {
    session: Session,
}

#[derive(Serialize)]
struct Info<'a> {
    architecture: &'a str,
    name: &'a str,
    n_vocab: usize,
    context_length: usize,
    n_layers: usize,
    d_model: usize,
    backend: &'static str,
    threads: usize,
    template: &'static str,
    file_bytes: usize,
}

fn err(e: kindred_engine::Error) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

#[wasm_bindgen]
impl Engine {
    /// Parses and prepares a model from the whole GGUF file.
    pub fn load(bytes: Vec<u8>) -> Result<Engine, JsError> {
        let session = Session::load(bytes).map_err(err)?;
        Ok(Engine { session })
    }

    pub fn info(&self) -> Result<JsValue, JsError> {
        let c = self.session.model.config();
        to_js(&Info {
            architecture: &c.architecture,
            name: &c.name,
            n_vocab: c.n_vocab,
            context_length: self.session.context(),
            n_layers: c.n_layers,
            d_model: c.d_model,
            backend: "cpu",
            threads: kindred_engine::par::threads(),
            template: self.session.template.name(),
            file_bytes: self.session.model.gguf().file_len(),
        })
    }

    /// Caps the context (tokens) to bound the KV cache's memory.
    pub fn set_context(&mut self, n: usize) {
        self.session.set_context(n);
    }

    /// `[{role, content, name?}]` -> the prompt in the model's chat format,
    /// ending with the opener of the assistant's turn.
    pub fn render_chat(&self, messages: JsValue) -> Result<String, JsError> {
        let messages: Vec<ChatMessage> =
            serde_wasm_bindgen::from_value(messages).map_err(|e| JsError::new(&format!("messages: {e}")))?;
        self.session.render_chat(&messages).map_err(err)
    }

    pub fn count_tokens(&self, text: &str) -> Result<usize, JsError> {
        self.session.encode_prompt(text).map(|v| v.len()).map_err(err)
    }

    /// Prefills the prompt (reusing the cached prefix); `{n_prompt, n_reused}`.
    pub fn start(&mut self, prompt: &str, options: JsValue) -> Result<JsValue, JsError> {
        let opts: GenerateOptions = if options.is_undefined() || options.is_null() {
            GenerateOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options).map_err(|e| JsError::new(&format!("options: {e}")))?
        };
        let ids = self.session.encode_prompt(prompt).map_err(err)?;
        let info = self.session.start(&ids, opts).map_err(err)?;
        to_js(&info)
    }

    /// One token: `{piece, done, stop_reason}`.
    pub fn next(&mut self) -> Result<JsValue, JsError> {
        let step = self.session.next().map_err(err)?;
        to_js(&step)
    }

    pub fn cancel(&mut self) {
        self.session.cancel();
    }
}
