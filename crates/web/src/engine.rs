//! `Engine`: load a GGUF from bytes, render chats, stream a reply token by
//! token. It runs in a worker, and the worker yields to its event loop
//! between steps so "stop" is heard.
//!
//! The model runs on the CPU backend, or on WebGPU once `use_gpu` has
//! uploaded it there; `step()` (a Promise) drives either. The CPU model
//! stays loaded beside the GPU one: its weights are the file's bytes, which
//! the tokenizer and the upload need anyway, and a GPU that fails mid-reply
//! hands the reply over to it without reading the file again.

use std::cell::RefCell;

use kindred_engine::gpu::{GpuModel, GpuModelOptions, GpuReport};
use kindred_engine::{ChatMessage, GenerateOptions, Session, Step};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::js::to_js;
use crate::prompt::PromptRequest;

#[wasm_bindgen]
pub struct Engine {
    // Borrowed across the GPU's awaits; a call that finds it borrowed gets
    // an error, never a panic.
    inner: RefCell<Inner>,
}

struct Inner {
    session: Session,
    gpu: Option<GpuModel>,
    /// The last prompt `prepare` made.
    prepared: Option<Ready>,
}

/// A prepared prompt: its tokens, whether it may be context-shifted, and
/// the tokens its reply may not use (of scripts the prompt does not use).
struct Ready {
    ids: Vec<u32>,
    shift: bool,
    suppress: std::sync::Arc<[u32]>,
}

/// What the page learns of the GPU it runs on (the numbers fit a JS number).
#[derive(Serialize)]
struct GpuSummary<'a> {
    adapter: &'a str,
    software: bool,
    max_storage_binding_mib: u64,
    max_buffer_mib: u64,
    subgroups: bool,
    shader_f16: bool,
    context: usize,
    gpu_mib: u64,
    /// Reply steps taken already queued, since the upload (`decode_async`).
    steps_queued: u64,
}

impl<'a> GpuSummary<'a> {
    fn new(r: &'a GpuReport, m: &GpuModel) -> Self {
        GpuSummary {
            adapter: &r.adapter,
            software: r.software,
            max_storage_binding_mib: r.max_storage_binding >> 20,
            max_buffer_mib: r.max_buffer >> 20,
            subgroups: r.subgroups,
            shader_f16: r.shader_f16,
            context: m.capacity(),
            gpu_mib: m.gpu_bytes() >> 20,
            steps_queued: m.taken_ahead(),
        }
    }
}

/// A step for the page; `fallback` says why the GPU was just given up.
#[derive(Serialize)]
struct StepOut<'a> {
    #[serde(flatten)]
    step: &'a Step,
    #[serde(skip_serializing_if = "Option::is_none")]
    fallback: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    gpu: Option<GpuSummary<'a>>,
    threads: usize,
    template: &'static str,
    /// Instruct-tuned (the file carries a chat template): the prompt layout's
    /// `auto` picks role-play for it, a transcript otherwise.
    instruct: bool,
    file_bytes: usize,
    /// Bytes of KV cache a position takes where the model runs (f32 on the
    /// CPU, f16 on the GPU): with `context_length`, the cache's most.
    kv_bytes_per_token: usize,
}

fn err(e: kindred_engine::Error) -> JsError {
    JsError::new(&e.to_string())
}

fn busy() -> JsError {
    JsError::new("the engine is busy with another call")
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
        Ok(Engine { inner: RefCell::new(Inner { session, gpu: None, prepared: None }) })
    }

    pub fn info(&self) -> Result<JsValue, JsError> {
        let st = self.inner.try_borrow().map_err(|_| busy())?;
        let session = &st.session;
        let c = session.model.config();
        to_js(&Info {
            architecture: &c.architecture,
            name: &c.name,
            n_vocab: c.n_vocab,
            context_length: session.context(),
            n_layers: c.n_layers,
            d_model: c.d_model,
            backend: if st.gpu.is_some() { "webgpu" } else { "cpu" },
            gpu: st.gpu.as_ref().map(|m| GpuSummary::new(m.report(), m)),
            threads: kindred_engine::par::threads(),
            template: session.template.name(),
            instruct: session.template.is_instruct(),
            file_bytes: session.model.gguf().file_len(),
            kv_bytes_per_token: c.cache_widths.iter().map(|(k, v)| k + v).sum::<usize>()
                * if st.gpu.is_some() { 2 } else { 4 },
        })
    }

    /// "webgpu" or "cpu": where the model runs now.
    pub fn backend(&self) -> String {
        match self.inner.try_borrow() {
            Ok(st) if st.gpu.is_some() => "webgpu".into(),
            _ => "cpu".into(),
        }
    }

    /// Caps the context (tokens) to bound the KV cache's memory; on the GPU
    /// also to the KV cache it was given at upload.
    pub fn set_context(&self, n: usize) -> Result<(), JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        let cap = st.gpu.as_ref().map_or(n, |m| m.capacity());
        st.session.set_context(n.min(cap));
        Ok(())
    }

    /// Uploads the model to the WebGPU adapter wgpu picks (high
    /// performance) with a KV cache for `context` tokens, and runs it
    /// there from now on. Resolves to what the GPU offers (`GpuSummary`);
    /// rejects, leaving the CPU backend in charge, when there is no adapter
    /// or the upload fails.
    // The borrow is held across the upload on purpose: the worker makes no
    // other call meanwhile, and one that came would be refused.
    #[allow(clippy::await_holding_refcell_ref)]
    pub async fn use_gpu(&self, context: usize) -> Result<JsValue, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        if st.gpu.is_some() {
            return Err(JsError::new("the model is already on the GPU"));
        }
        let opts = GpuModelOptions { context: Some(context.max(1)), ..Default::default() };
        let loaded = GpuModel::load_async(st.session.model.gguf(), &opts).await;
        let model = loaded.map_err(|e| JsError::new(&e.to_string()))?;
        // The CPU cache and the GPU one must hold the same tokens: start both empty.
        st.session.reset();
        let n = st.session.context().min(model.capacity());
        st.session.set_context(n);
        let summary = to_js(&GpuSummary::new(model.report(), &model))?;
        st.gpu = Some(model);
        Ok(summary)
    }

    /// Test hook: destroys the GPU device, as a driver reset would, so the
    /// next step meets a lost device. False when not on the GPU.
    pub fn lose_gpu(&self) -> bool {
        match self.inner.try_borrow() {
            Ok(st) => st.gpu.as_ref().map(|m| m.destroy_device()).is_some(),
            Err(_) => false,
        }
    }

    /// `[{role, content, name?}]` -> the prompt in the model's chat format,
    /// ending with the opener of the assistant's turn.
    /// `layout`: `"transcript"` renders `Name: text` lines instead of the
    /// model's template (the prompt reply's `template`).
    pub fn render_chat(&self, messages: JsValue, layout: Option<String>) -> Result<String, JsError> {
        let messages: Vec<ChatMessage> =
            serde_wasm_bindgen::from_value(messages).map_err(|e| JsError::new(&format!("messages: {e}")))?;
        let st = self.inner.try_borrow().map_err(|_| busy())?;
        st.session.render_chat_as(&messages, layout.as_deref()).map_err(err)
    }

    pub fn count_tokens(&self, text: &str) -> Result<usize, JsError> {
        let st = self.inner.try_borrow().map_err(|_| busy())?;
        st.session.encode_prompt(text).map(|v| v.len()).map_err(err)
    }

    /// Prepares a reply to the prompt (reusing the cached prefix):
    /// `{n_prompt, n_reused}`. The prompt is read by the following `next()`
    /// calls, a chunk each (`{piece: "", prefill_left}`), so the worker can
    /// stop a long prompt too.
    pub fn start(&self, prompt: &str, options: JsValue) -> Result<JsValue, JsError> {
        let opts = generate_options(options)?;
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        let ids = st.session.encode_prompt(prompt).map_err(err)?;
        let info = st.session.begin(&ids, opts).map_err(err)?;
        to_js(&info)
    }

    /// A reply's prompt from a prompt request (JSON text, see
    /// `prompt::PromptRequest`), assembled, rendered, fitted to the context
    /// and tokenized with this model (`prepare.rs`); kept for
    /// `start_prepared` and `warm_prepared`. Returns JSON text: the prompt
    /// reply's fields (cut, lore, tokens, memory, summarise, stop, speakers,
    /// ...) and `continuing`, `shift`, `dropped`.
    pub fn prepare(&self, request_json: &str, max_tokens: usize) -> Result<String, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        let req: PromptRequest =
            serde_json::from_str(request_json).map_err(|e| JsError::new(&format!("prompt request: {e}")))?;
        let prepared = crate::prepare::prepare(&st.session, req, max_tokens).map_err(|e| JsError::new(&e.to_string()))?;
        let json = serde_json::to_string(&prepared).map_err(|e| JsError::new(&e.to_string()))?;
        st.prepared = Some(Ready { ids: prepared.ids, shift: prepared.shift, suppress: prepared.suppress });
        Ok(json)
    }

    /// The prepared prompt's token ids (empty before any).
    pub fn prepared_tokens(&self) -> Result<Vec<u32>, JsError> {
        let st = self.inner.try_borrow().map_err(|_| busy())?;
        Ok(st.prepared.as_ref().map(|p| p.ids.clone()).unwrap_or_default())
    }

    /// `start` on the prepared prompt (context-shifted when turns were left
    /// out to fit, on the CPU).
    pub fn start_prepared(&self, options: JsValue) -> Result<JsValue, JsError> {
        let mut opts = generate_options(options)?;
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        let Inner { session, prepared, .. } = &mut *st;
        let p = prepared.as_ref().ok_or_else(|| JsError::new("no prompt prepared"))?;
        // The session shifts only a cache it fills itself, never the GPU's.
        opts.context_shift = p.shift;
        opts.sampler.suppress = p.suppress.clone();
        let info = session.begin(&p.ids, opts).map_err(err)?;
        to_js(&info)
    }

    /// Reads the prepared prompt into the cache and samples nothing (a
    /// chat's prompt, while the person types): `{n_prompt, n_reused,
    /// n_shifted}`; the following `step()` calls read a chunk each, then
    /// end with `stop_reason: "prefilled"`. A reply started meanwhile keeps
    /// what was read.
    pub fn warm_prepared(&self) -> Result<JsValue, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        let Inner { session, prepared, .. } = &mut *st;
        let p = prepared.as_ref().ok_or_else(|| JsError::new("no prompt prepared"))?;
        let info = session.begin_warm(&p.ids, p.shift).map_err(err)?;
        to_js(&info)
    }

    /// Tokens whose keys and values the cache holds, oldest first.
    pub fn cached_tokens(&self) -> Result<Vec<u32>, JsError> {
        let st = self.inner.try_borrow().map_err(|_| busy())?;
        Ok(st.session.cached_tokens().to_vec())
    }

    /// The first `n` cached tokens' keys and values, to store (a prefix
    /// `restore_prefix` takes back).
    pub fn save_prefix(&self, n: usize) -> Result<Vec<u8>, JsError> {
        let st = self.inner.try_borrow().map_err(|_| busy())?;
        Ok(st.session.save_prefix(n))
    }

    /// Puts a LoRA adapter (a GGUF file's bytes) on the model at `scale`,
    /// or takes it off (`None`): the cache is read again. One that is no
    /// adapter of this model is refused (an error naming why) and the model
    /// stays as it was. On the GPU the model is built again with the
    /// adapter's matrices beside the weights already there
    /// (`GpuModel::rebuild`); resolves to why the GPU was given up if that
    /// failed (the CPU, which has the adapter already, then runs the
    /// model), else to nothing.
    // The borrow is held across the upload, as in `use_gpu`.
    #[allow(clippy::await_holding_refcell_ref)]
    pub async fn set_adapter(&self, bytes: Option<Vec<u8>>, scale: f32) -> Result<Option<String>, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        st.prepared = None;
        st.session.set_adapter(bytes.map(|b| (b, scale))).map_err(err)?;
        let Some(old) = st.gpu.take() else { return Ok(None) };
        match old.rebuild(st.session.model.gguf()).await {
            Ok(model) => {
                st.gpu = Some(model);
                Ok(None)
            }
            Err(e) => Ok(Some(e.to_string())),
        }
    }

    /// How many matrices the adapter in `bytes` adapts, or why it is no
    /// adapter of this model; nothing changes.
    pub fn check_adapter(&self, bytes: Vec<u8>) -> Result<usize, JsError> {
        let st = self.inner.try_borrow().map_err(|_| busy())?;
        let adapter = kindred_engine::lora::Adapter::load(bytes, 1.0, st.session.model.gguf()).map_err(err)?;
        Ok(adapter.matrices())
    }

    /// Puts a stored prefix in the cache and returns its length in tokens.
    /// One of another model, or damaged, is refused (an error) and the cache
    /// stays. CPU only: the GPU keeps its own cache.
    pub fn restore_prefix(&self, bytes: &[u8]) -> Result<usize, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        if st.gpu.is_some() {
            return Err(JsError::new("the model is on the GPU"));
        }
        st.session.restore_prefix(bytes).map_err(err)
    }

    /// One step on the CPU backend: a prompt chunk, or one token
    /// `{piece, done, stop_reason}`. On the GPU use `step()`.
    pub fn next(&self) -> Result<JsValue, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        if st.gpu.is_some() {
            return Err(JsError::new("the model is on the GPU: call step()"));
        }
        let step = st.session.next().map_err(err)?;
        to_js(&StepOut { step: &step, fallback: None })
    }

    /// One step on whichever backend runs the model (a Promise). Should the
    /// GPU fail, the step still resolves: the GPU is dropped, the reply goes
    /// on on the CPU, and the step carries `fallback`, the reason.
    #[allow(clippy::await_holding_refcell_ref)]
    pub async fn step(&self) -> Result<JsValue, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        let Inner { session, gpu, .. } = &mut *st;
        let Some(model) = gpu.as_mut() else {
            let step = session.next().map_err(err)?;
            return to_js(&StepOut { step: &step, fallback: None });
        };
        let done = session.next_on_gpu(model).await.map_err(err)?;
        let fallback = done.fault.map(|e| e.to_string());
        if fallback.is_some() {
            *gpu = None;
        }
        to_js(&StepOut { step: &done.step, fallback })
    }

    /// The gap between the two largest logits the next token is sampled
    /// from (NaN before a prompt is read): tests compare the backends'
    /// greedy tokens only where the gap leaves no room for a near tie.
    pub fn top2_margin(&self) -> f32 {
        let Ok(st) = self.inner.try_borrow() else { return f32::NAN };
        let logits = st.session.logits().unwrap_or(&[]);
        if logits.len() < 2 {
            return f32::NAN;
        }
        let (mut first, mut second) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
        for &v in logits {
            if v > first {
                second = first;
                first = v;
            } else if v > second {
                second = v;
            }
        }
        first - second
    }

    /// Sets the cached chat aside for a side prompt (a summary), so the
    /// chat's keys and values are still there after it (`take_back`).
    pub fn set_aside(&self) -> Result<(), JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        st.session.set_aside();
        Ok(())
    }

    /// Takes back what `set_aside` kept; false when nothing was.
    pub fn take_back(&self) -> Result<bool, JsError> {
        let mut st = self.inner.try_borrow_mut().map_err(|_| busy())?;
        Ok(st.session.take_back())
    }

    pub fn cancel(&self) {
        if let Ok(mut st) = self.inner.try_borrow_mut() {
            st.session.cancel();
        }
    }
}

/// Sampling options from the worker (already checked there); none: the defaults.
fn generate_options(options: JsValue) -> Result<GenerateOptions, JsError> {
    if options.is_undefined() || options.is_null() {
        return Ok(GenerateOptions::default());
    }
    serde_wasm_bindgen::from_value(options).map_err(|e| JsError::new(&format!("options: {e}")))
}
