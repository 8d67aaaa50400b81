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
    /// Parses and prepares a model from the whole GGUF file. The bytes are
    /// copied into wasm memory with a fallible allocation, so a model too
    /// large for this tab is an error, not an aborted worker.
    pub fn load(bytes: &js_sys::Uint8Array) -> Result<Engine, JsError> {
        let len = bytes.length() as usize;
        let mut buf: Vec<u8> = Vec::new();
        buf.try_reserve_exact(len).map_err(|_| {
            JsError::new(&format!(
                "this model ({} MB) does not fit in the memory this tab can give the engine",
                len / 1_000_000
            ))
        })?;
        buf.resize(len, 0);
        bytes.copy_to(&mut buf);
        let session = Session::load(buf).map_err(err)?;
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

    /// Prepares a reply to the prompt (reusing the cached prefix):
    /// `{n_prompt, n_reused}`. The prompt is read by the following `next()`
    /// calls, a chunk each (`{piece: "", prefill_left}`), so the worker can
    /// stop a long prompt too.
    pub fn start(&mut self, prompt: &str, options: JsValue) -> Result<JsValue, JsError> {
        let opts: GenerateOptions = if options.is_undefined() || options.is_null() {
            GenerateOptions::default()
        } else {
            serde_wasm_bindgen::from_value(options).map_err(|e| JsError::new(&format!("options: {e}")))?
        };
        let ids = self.session.encode_prompt(prompt).map_err(err)?;
        let info = self.session.begin(&ids, opts).map_err(err)?;
        to_js(&info)
    }

    /// One step: a prompt chunk, or one token `{piece, done, stop_reason}`.
    pub fn next(&mut self) -> Result<JsValue, JsError> {
        let step = self.session.next().map_err(err)?;
        to_js(&step)
    }

    pub fn cancel(&mut self) {
        self.session.cancel();
    }
}
