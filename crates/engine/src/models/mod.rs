//! One file per architecture; `Model` dispatches between them.

pub mod gemma3;
pub mod header_check;
pub mod hparams;
pub mod lfm2;
pub mod llama;
pub mod qwen35;

pub use hparams::Hparams;

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kv_cache::{KvCache, Rows};
use crate::matrix::Weight;

/// The gated feed-forward every architecture here shares:
/// `o = down . (act(gate . h) * (up . h))` for `t` tokens (`g` and `u`
/// hold `t` rows of the hidden width).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gated_ffn(file: &[u8], [gate, up, down]: [&Weight; 3], act: fn(f32) -> f32, h: &[f32], t: usize, g: &mut [f32], u: &mut [f32], o: &mut [f32]) {
    Weight::matmul_each(file, h, t, [(gate, g), (up, u)]);
    for (a, b) in g.iter_mut().zip(u.iter()) {
        *a = act(*a) * b;
    }
    down.matmul(file, g, t, o);
}

/// The last token's logits: its row of `x` (`d` wide) normed, times the LM head.
pub(crate) fn last_logits(file: &[u8], x: &mut [f32], d: usize, norm: &[f32], eps: f32, head: &Weight, n_vocab: usize) -> Vec<f32> {
    let n = x.len();
    let last = &mut x[n - d..];
    crate::ops::rms_norm(last, norm, eps);
    let mut logits = vec![0f32; n_vocab];
    head.matvec_rows(file, last, 0, n_vocab, &mut logits);
    logits
}

/// What the session and the UI need to know about a loaded model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Config {
    pub architecture: String,
    pub name: String,
    pub n_vocab: usize,
    pub context_length: usize,
    pub n_layers: usize,
    pub d_model: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    /// (key, value) floats a position of each layer's KV cache
    /// (`Hparams::cache_widths`).
    #[serde(skip)]
    pub cache_widths: Vec<(usize, usize)>,
    /// Floats of each layer's recurrent state (`Hparams::state_sizes`).
    #[serde(skip)]
    pub state_sizes: Vec<usize>,
}

pub enum Model {
    Gemma3(gemma3::Gemma3),
    Llama(llama::Llama),
    Lfm2(lfm2::Lfm2),
    Qwen35(qwen35::Qwen35),
}

impl Model {
    /// Builds the model over the file's bytes (kept, not copied).
    pub fn load(g: Gguf) -> Result<Self> {
        let hp = Hparams::read(&g)?;
        match hp.arch.as_str() {
            "gemma2" | "gemma3" => Ok(Model::Gemma3(gemma3::Gemma3::load(g, &hp)?)),
            "lfm2" => Ok(Model::Lfm2(lfm2::Lfm2::load(g, &hp)?)),
            "qwen35" => Ok(Model::Qwen35(qwen35::Qwen35::load(g, &hp)?)),
            _ => Ok(Model::Llama(llama::Llama::load(g, &hp)?)),
        }
    }

    pub fn config(&self) -> &Config {
        match self {
            Model::Gemma3(m) => &m.config,
            Model::Llama(m) => &m.config,
            Model::Lfm2(m) => &m.config,
            Model::Qwen35(m) => &m.config,
        }
    }

    /// Rebuilds the model's matrices over its own file, taking `adapter` on
    /// (none: the file's weights alone). The file loaded before, and an
    /// adapter is checked against it as it is read, so this does not fail.
    pub fn set_adapter(&mut self, adapter: Option<std::sync::Arc<crate::lora::Adapter>>) -> Result<()> {
        let file = match self {
            Model::Gemma3(m) => &mut m.file,
            Model::Llama(m) => &mut m.file,
            Model::Lfm2(m) => &mut m.file,
            Model::Qwen35(m) => &mut m.file,
        };
        let mut g = std::mem::take(file);
        g.set_adapter(adapter);
        *self = Model::load(g)?;
        Ok(())
    }

    pub fn gguf(&self) -> &Gguf {
        match self {
            Model::Gemma3(m) => &m.file,
            Model::Llama(m) => &m.file,
            Model::Lfm2(m) => &m.file,
            Model::Qwen35(m) => &m.file,
        }
    }

    pub fn new_cache(&self) -> KvCache {
        let c = self.config();
        KvCache::with_states(c.cache_widths.clone(), &c.state_sizes)
    }

    /// Context shift: a copy of cached positions `from..from + n` with
    /// their keys re-rotated by each layer's RoPE to read as if computed at
    /// `to..`. Their values, and what the keys hold, still carry what they
    /// attended to where they were: an approximation that spares reading
    /// them again, as llama.cpp's context shift makes.
    pub(crate) fn moved_rows(&self, cache: &KvCache, from: usize, n: usize, to: usize) -> Rows {
        let (hd, delta) = (self.config().head_dim, to as f32 - from as f32);
        cache.copy_rows(from, n, |layer, keys| {
            // LFM2's convolution layers hold their input, never rotated.
            let Some((inv_freq, style)) = (match self {
                Model::Gemma3(m) => Some(m.rope(layer)),
                Model::Llama(m) => Some(m.rope(layer)),
                Model::Lfm2(m) => m.rope(layer),
                Model::Qwen35(m) => m.rope(layer),
            }) else {
                return;
            };
            let row = cache.widths()[layer].0;
            crate::ops::rope_shift(keys, row, hd, delta, inv_freq, style);
        })
    }

    /// Runs `tokens` at positions `cache.len()..`, appending to the cache;
    /// returns the logits of the last token.
    pub fn forward(&self, tokens: &[u32], cache: &mut KvCache) -> Result<Vec<f32>> {
        let c = self.config();
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= c.n_vocab) {
            return Err(Error::BadToken { id: bad, vocab: c.n_vocab });
        }
        if cache.len() + tokens.len() > c.context_length {
            return Err(Error::ContextFull(c.context_length));
        }
        if tokens.is_empty() {
            return Err(Error::InvalidOption("forward called with no tokens".into()));
        }
        Ok(match self {
            Model::Gemma3(m) => m.forward(tokens, cache),
            Model::Llama(m) => m.forward(tokens, cache),
            Model::Lfm2(m) => m.forward(tokens, cache),
            Model::Qwen35(m) => m.forward(tokens, cache),
        })
    }
}
