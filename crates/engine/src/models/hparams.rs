//! A model's hyperparameters, read once from its GGUF metadata with each
//! architecture's defaults (as llama.cpp's `load_hparams` does), for the CPU
//! and GPU backends alike: they differ only in how they compute.

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::models::Config;
use crate::ops::RopeStyle;

/// The architectures this engine runs.
pub const ARCHITECTURES: &[&str] = &["gemma2", "gemma3", "granite", "lfm2", "llama", "phi3", "qwen2", "qwen3", "qwen35", "smollm3"];

#[derive(Debug, Clone)]
pub struct Hparams {
    pub arch: String,
    pub name: String,
    pub d: usize,
    pub n_layers: usize,
    pub ffn: usize,
    pub n_head: usize,
    /// The most KV heads of any layer.
    pub n_kv_head: usize,
    /// KV heads of each layer: 0 for LFM2's convolution layers.
    pub kv_heads: Vec<usize>,
    /// Taps of LFM2's short convolutions (the current input and the ones
    /// before it).
    pub conv_taps: usize,
    pub head_dim: usize,
    pub eps: f32,
    pub n_vocab: usize,
    pub context_length: usize,
    /// RoPE base (of the global layers, for Gemma 3).
    pub rope_base: f32,
    /// RoPE base of Gemma 3's sliding-window layers.
    pub rope_base_local: f32,
    /// Dims of each head that RoPE rotates (the first ones; Phi-4-mini
    /// rotates 96 of 128), the rest pass through.
    pub rope_dims: usize,
    /// Rotated dims of queries and keys are multiplied by this (Phi-3's
    /// LongRoPE `rope.scaling.attn_factor`), as llama.cpp's RoPE does.
    pub rope_mscale: f32,
    pub rope_style: RopeStyle,
    /// Sliding window (tokens) and the pattern of global layers: layer `il`
    /// is global when `il % pattern == pattern - 1` (Gemma 3).
    pub window: Option<usize>,
    pub window_pattern: usize,
    /// RMS norm of each head's queries and keys before RoPE (Gemma 3, Qwen3).
    pub qk_norm: bool,
    /// Biases on the q, k and v projections (Qwen2; any file that has them).
    pub qkv_bias: bool,
    /// Scores scaled by this before the softmax (1/sqrt(head_dim) but for
    /// Gemma 2 27B).
    pub attn_scale: f32,
    /// Gemma 2's soft caps: `cap * tanh(x / cap)` on attention scores and
    /// on the final logits.
    pub attn_softcap: Option<f32>,
    pub final_softcap: Option<f32>,
    /// Granite's multipliers: on the embeddings, on each block's output
    /// before it joins the residual, and the divisor of the logits (1 for
    /// every other architecture).
    pub embedding_scale: f32,
    pub residual_scale: f32,
    pub logit_scale: f32,
    /// Granite can leave RoPE out of every layer (`rope.scaling.finetuned`
    /// false).
    pub no_rope: bool,
    /// SmolLM3 leaves RoPE out of every n-th layer (NoPE: the 4th, 8th, ...).
    pub no_rope_every: Option<usize>,
    /// Qwen3.5's multi-axis RoPE sections (t, h, w, e pairs): for text every
    /// axis holds the token's position but the fourth, which holds 0.
    pub rope_sections: Option<[usize; 4]>,
    /// Qwen3.5's gated DeltaNet layers, where the file has them.
    pub delta_net: Option<DeltaNet>,
}

/// The shape of Qwen3.5's linear-attention (gated DeltaNet) layers, from
/// llama.cpp's `ssm.*` keys.
#[derive(Debug, Clone)]
pub struct DeltaNet {
    /// Taps of the causal convolution over q, k and v.
    pub conv_taps: usize,
    pub n_k_heads: usize,
    pub n_v_heads: usize,
    /// Each head's key and value width (the state is `head_dim` square).
    pub head_dim: usize,
    /// Whether each layer is a DeltaNet layer (the others attend).
    pub layers: Vec<bool>,
}

impl DeltaNet {
    fn read(g: &Gguf, a: &str, n_layers: usize) -> Result<Self> {
        let u = |key: &str| g.get_usize(&format!("{a}.{key}"));
        let (n_k_heads, n_v_heads, head_dim) = (u("ssm.group_count")?, u("ssm.time_step_rank")?, u("ssm.state_size")?);
        if n_k_heads == 0 || head_dim == 0 || !n_v_heads.is_multiple_of(n_k_heads) || u("ssm.inner_size")? != n_v_heads * head_dim {
            return Err(Error::Metadata(format!(
                "{a}.ssm: {n_v_heads} value heads over {n_k_heads} key heads of {head_dim} (inner size {:?})",
                u("ssm.inner_size").ok()
            )));
        }
        let layers = match g.get(&format!("{a}.attention.recurrent_layers")) {
            Some(candle_core::quantized::gguf_file::Value::Array(v)) if v.len() == n_layers => {
                v.iter().map(|x| matches!(x, candle_core::quantized::gguf_file::Value::Bool(true))).collect()
            }
            _ => {
                let every = u("full_attention_interval").unwrap_or(4).max(1);
                (0..n_layers).map(|il| !(il + 1).is_multiple_of(every)).collect()
            }
        };
        Ok(DeltaNet { conv_taps: u("ssm.conv_kernel")?, n_k_heads, n_v_heads, head_dim, layers })
    }

    /// Floats of q, k and v a position: the convolution's input width.
    pub fn conv_dim(&self) -> usize {
        (2 * self.n_k_heads + self.n_v_heads) * self.head_dim
    }

    /// Floats of one layer's recurrent state: the convolution's last inputs
    /// (`conv_taps - 1` rows), then each value head's state.
    pub fn state_size(&self) -> usize {
        (self.conv_taps - 1) * self.conv_dim() + self.n_v_heads * self.head_dim * self.head_dim
    }
}

impl Hparams {
    pub fn read(g: &Gguf) -> Result<Self> {
        let arch = g.architecture()?;
        if !ARCHITECTURES.contains(&arch.as_str()) {
            return Err(Error::UnsupportedArchitecture(arch));
        }
        let a = arch.as_str();
        let u = |key: &str| g.get_usize(&format!("{a}.{key}"));
        let f = |key: &str| g.get_f32(&format!("{a}.{key}"));
        let gemma = a.starts_with("gemma");
        let gemma2 = a == "gemma2";
        let d = u("embedding_length")?;
        let n_head = u("attention.head_count")?;
        if n_head == 0 {
            return Err(Error::Metadata(format!("{a}.attention.head_count is 0")));
        }
        let head_dim = u("attention.key_length").unwrap_or(d / n_head);
        let n_vocab = u("vocab_size").or_else(|_| match g.get("tokenizer.ggml.tokens") {
            Some(candle_core::quantized::gguf_file::Value::Array(a)) => Ok(a.len()),
            _ => Err(Error::Metadata("tokenizer.ggml.tokens".into())),
        })?;
        let n_layers = u("block_count")?;
        let kv_heads = match g.get_usize_per_layer(&format!("{a}.attention.head_count_kv"), n_layers) {
            Ok(v) => v,
            Err(_) if g.get(&format!("{a}.attention.head_count_kv")).is_none() => vec![n_head; n_layers],
            Err(e) => return Err(e),
        };
        let n_kv_head = kv_heads.iter().copied().max().unwrap_or(n_head);
        if n_kv_head == 0 || kv_heads.iter().any(|&k| k != 0 && (k > n_head || !n_head.is_multiple_of(k))) {
            return Err(Error::Metadata(format!("{a}.attention.head_count_kv: {kv_heads:?} for {n_head} heads")));
        }
        let rope_base = f("rope.freq_base").unwrap_or(if a == "gemma3" { 1_000_000.0 } else { 10_000.0 });
        // As llama.cpp (after gemma_pytorch): 27B scales by d / n_head.
        let attn_scale = if gemma2 && n_layers == 46 { 1.0 / ((d / n_head) as f32).sqrt() } else { 1.0 / (head_dim as f32).sqrt() };
        // Granite's, where set (llama.cpp takes 0 for unset).
        let granite = |key: &str| f(key).ok().filter(|v| *v != 0.0 && v.is_finite());
        let attn_scale = granite("attention.scale").unwrap_or(attn_scale);
        let delta_net = if a == "qwen35" { Some(DeltaNet::read(g, a, n_layers)?) } else { None };
        let rope_sections = match g.get_usize_per_layer(&format!("{a}.rope.dimension_sections"), 4) {
            Ok(s) if a == "qwen35" && s.iter().sum::<usize>() > 0 => Some([s[0], s[1], s[2], s[3]]),
            _ => None,
        };
        Ok(Hparams {
            name: g.get_str("general.name").unwrap_or_else(|_| match a {
                "gemma2" => "Gemma 2".into(),
                "gemma3" => "Gemma 3".into(),
                _ => a.into(),
            }),
            d,
            n_layers,
            ffn: u("feed_forward_length")?,
            n_head,
            n_kv_head,
            kv_heads,
            conv_taps: u("shortconv.l_cache").unwrap_or(3),
            head_dim,
            eps: f("attention.layer_norm_rms_epsilon").unwrap_or(if gemma { 1e-6 } else { 1e-5 }),
            n_vocab,
            context_length: {
                let n = u("context_length").unwrap_or(if gemma { 8192 } else { 4096 });
                match u("rope.scaling.original_context_length") {
                    Ok(short) if g.has_tensor("rope_factors_short.weight") => n.min(short),
                    _ => n,
                }
            },
            rope_base,
            // llama.cpp's key, then candle's; Gemma 3 270M carries neither
            // (10k); Gemma 2's sliding layers rotate as its global ones.
            rope_base_local: f("rope.freq_base_swa")
                .or_else(|_| f("rope.local_freq_base"))
                .unwrap_or(if gemma2 { rope_base } else { 10_000.0 }),
            rope_dims: u("rope.dimension_count").unwrap_or(head_dim).min(head_dim) & !1,
            rope_mscale: f("rope.scaling.attn_factor").unwrap_or(1.0),
            rope_style: if matches!(a, "llama" | "smollm3" | "granite") { RopeStyle::Norm } else { RopeStyle::Neox },
            // LFM2's attention layers may slide (its convolution layers have no window).
            window: if gemma { Some(u("attention.sliding_window").unwrap_or(if gemma2 { 4096 } else { 512 })) } else if a == "lfm2" { u("attention.sliding_window").ok().filter(|&w| w > 0) } else { None },
            window_pattern: u("attention.sliding_window_pattern")
                .or_else(|_| u("attention.sliding_window_type"))
                .unwrap_or(if gemma2 { 2 } else { 6 })
                .max(1),
            qk_norm: matches!(a, "gemma3" | "qwen3" | "qwen35" | "lfm2"),
            qkv_bias: a == "qwen2" || g.has_tensor("blk.0.attn_q.bias"),
            attn_scale,
            attn_softcap: gemma2.then(|| f("attn_logit_softcapping").unwrap_or(50.0)),
            final_softcap: gemma2.then(|| f("final_logit_softcapping").unwrap_or(30.0)),
            embedding_scale: granite("embedding_scale").unwrap_or(1.0),
            residual_scale: granite("residual_scale").unwrap_or(1.0),
            logit_scale: granite("logit_scale").unwrap_or(1.0),
            no_rope: a == "granite" && matches!(g.get(&format!("{a}.rope.scaling.finetuned")), Some(candle_core::quantized::gguf_file::Value::Bool(false))),
            // Fixed in llama.cpp, not in the file.
            no_rope_every: (a == "smollm3").then_some(4),
            rope_sections,
            delta_net,
            arch,
        })
    }

    /// Per-pair divisors of RoPE's frequencies: Llama 3's `rope_freqs`, or
    /// Phi-3's LongRoPE factors: the short ones, which llama.cpp takes for a
    /// context within `rope.scaling.original_context_length` (4,096 tokens
    /// for Phi-4-mini; `read` keeps the context within it, so a longer chat
    /// shifts its window rather than rotating past what they were made for).
    pub fn rope_factors(&self, g: &Gguf) -> Result<Option<Vec<f32>>> {
        for name in ["rope_freqs.weight", "rope_factors_short.weight"] {
            if g.has_tensor(name) {
                return crate::matrix::load_vector(g, name, self.rope_dims / 2).map(Some);
            }
        }
        Ok(None)
    }

    /// Inverse RoPE frequencies of the rotated dims.
    pub fn inv_freq(&self, g: &Gguf) -> Result<Vec<f32>> {
        let mut inv = crate::ops::rope_inv_freq(self.rope_dims, self.rope_base, self.rope_factors(g)?.as_deref());
        // Interleaved multi-axis RoPE (llama.cpp's IMROPE): pair i reads the
        // axis of its sector; a text token's fourth axis is at position 0,
        // so a pair on it never turns.
        if let Some(s) = self.rope_sections {
            let n = s.iter().sum::<usize>();
            for (i, f) in inv.iter_mut().enumerate() {
                let sector = i % n;
                let axis = sector % 3;
                if sector >= 3 * s[axis] {
                    *f = 0.0;
                }
            }
        }
        Ok(inv)
    }

    /// Whether layer `il` rotates its queries and keys.
    pub fn uses_rope(&self, il: usize) -> bool {
        !self.no_rope && self.no_rope_every.is_none_or(|n| !(il + 1).is_multiple_of(n))
    }

    /// Whether layer `il` attends within the sliding window.
    pub fn sliding(&self, il: usize) -> bool {
        self.window.is_some() && il % self.window_pattern < self.window_pattern - 1
    }

    pub fn config(&self) -> Config {
        Config {
            architecture: self.arch.clone(),
            name: self.name.clone(),
            n_vocab: self.n_vocab,
            context_length: self.context_length,
            n_layers: self.n_layers,
            d_model: self.d,
            n_head: self.n_head,
            n_kv_head: self.n_kv_head,
            head_dim: self.head_dim,
            cache_widths: self.cache_widths(),
            state_sizes: self.state_sizes(),
        }
    }

    /// (key, value) floats a position of each layer's KV cache: an
    /// attention layer's keys and values; an LFM2 convolution layer (no KV
    /// heads) keeps its input, the model's width, as its keys and no values.
    /// A Qwen3.5 DeltaNet layer keeps nothing a position: its state holds
    /// all it needs (`state_sizes`).
    pub fn cache_widths(&self) -> Vec<(usize, usize)> {
        (self.kv_heads.iter().enumerate())
            .map(|(il, &kv)| match &self.delta_net {
                Some(dn) if dn.layers[il] => (0, 0),
                _ if kv == 0 => (self.d, 0),
                _ => (kv * self.head_dim, kv * self.head_dim),
            })
            .collect()
    }

    /// Floats of each layer's recurrent state: a DeltaNet layer's, none for the others.
    pub fn state_sizes(&self) -> Vec<usize> {
        (0..self.n_layers).map(|il| self.delta_net.as_ref().filter(|dn| dn.layers[il]).map_or(0, DeltaNet::state_size)).collect()
    }
}
