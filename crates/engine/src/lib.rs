//! Kindred's engine: GGUF file -> tokens.
//!
//! GGUF headers are parsed by candle-core's reader; the weights stay in their
//! quantized GGUF blocks and are multiplied by this crate's own fused
//! dequantize-and-dot kernels (`quant`), so a 270M model needs no f32 copy of
//! its weights. One file per architecture in `models`.

pub mod attention;
pub mod context_shift;
pub mod error;
pub mod fuzz;
pub mod gguf;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod json_output;
pub mod kv_cache;
pub mod kv_snapshot;
pub mod lora;
pub mod matrix;
pub mod models;
pub mod ops;
pub mod par;
pub mod quant;
pub mod reply_settings;
pub mod sampler;
pub mod scripted;
pub mod session;
pub mod special_text;
pub mod stream;
pub mod synthetic;
pub mod template;
pub mod template_date;
pub mod template_turns;
pub mod tokenizer;

pub use error::{Error, Result};
pub use gguf::Gguf;
pub use models::Model;
pub use sampler::SamplerOptions;
pub use session::{GenerateOptions, Session, StartInfo, Step, StopReason};
pub use template::ChatMessage;
pub use tokenizer::Tokenizer;
