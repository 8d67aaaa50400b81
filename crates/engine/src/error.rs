use thiserror::Error;

/// Every way loading or running a model can fail. Nothing in this crate
/// panics on bad input: a panic in the browser kills the page.
#[derive(Debug, Error)]
pub enum Error {
    #[error("not a GGUF file: {0}")]
    NotGguf(String),
    #[error("truncated or corrupt GGUF file: {0}")]
    Corrupt(String),
    #[error("unsupported architecture `{0}` (supported: {list})", list = crate::models::hparams::ARCHITECTURES.join(", "))]
    UnsupportedArchitecture(String),
    #[error("tensor `{tensor}` has type {dtype}, which this engine does not support (supported: {})", crate::quant::QType::ALL.iter().map(|q| q.name()).collect::<Vec<_>>().join(", "))]
    UnsupportedTensorType { tensor: String, dtype: String },
    #[error("tensor `{0}` is missing from the model file")]
    MissingTensor(String),
    #[error("tensor `{tensor}` has shape {found:?}, expected {expected:?}")]
    BadShape { tensor: String, found: Vec<usize>, expected: Vec<usize> },
    #[error("metadata `{0}` is missing or has the wrong type")]
    Metadata(String),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("chat template: {0}")]
    Template(String),
    #[error("the prompt has {tokens} tokens but the context holds {context}")]
    PromptTooLong { tokens: usize, context: usize },
    #[error("the context of {0} tokens is full")]
    ContextFull(usize),
    #[error("token id {id} is outside the vocabulary of {vocab}")]
    BadToken { id: u32, vocab: usize },
    #[error("no generation in progress: call start() first")]
    NotStarted,
    #[error("stored prefix refused: {0}")]
    Snapshot(String),
    #[error("LoRA adapter refused: {0}")]
    Adapter(String),
    #[error("invalid option: {0}")]
    InvalidOption(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;
