//! A GGUF file held in memory: the header read (`header`), the tensor
//! bytes left where they are and borrowed by the kernels.

pub mod header;
pub mod writer;

use std::collections::HashMap;

use candle_core::quantized::gguf_file::Value;

use crate::error::{Error, Result};
use crate::quant::QType;

/// Where one tensor's bytes live in the file, with its dims in row-major
/// order (GGUF's `ne` reversed: `[rows, cols]` for a matrix).
#[derive(Debug, Clone)]
pub struct TensorRef {
    pub name: String,
    pub qtype: QType,
    pub dims: Vec<usize>,
    pub offset: usize,
    pub len: usize,
}

impl TensorRef {
    pub fn elems(&self) -> usize {
        self.dims.iter().product()
    }
}

#[derive(Default)]
pub struct Gguf {
    bytes: Vec<u8>,
    /// A LoRA adapter the model's matrices take on as they are read
    /// (`Model::set_adapter`).
    adapter: Option<std::sync::Arc<crate::lora::Adapter>>,
    pub metadata: HashMap<String, Value>,
    pub tensors: HashMap<String, TensorRef>,
    /// Tensors of a type this engine cannot compute with, by name, with
    /// the type's name; reported only if the model actually uses one.
    pub unsupported: HashMap<String, String>,
}

/// No model's header (metadata and tensor table) is larger: a "header" that
/// still has not ended after this many bytes is refused.
const MAX_HEADER: usize = 64 << 20;

impl Gguf {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < 8 {
            return Err(Error::NotGguf(format!("only {} bytes", bytes.len())));
        }
        let header = header::read(&bytes)?;
        let len = bytes.len();
        Self::build(bytes, header, len)
    }

    /// The header of a file of `file_len` bytes read from its first bytes,
    /// without its tensor data (a download's first chunks, to refuse a
    /// model this engine cannot run before the rest arrives). `None` while
    /// `prefix` does not yet hold the whole header; an error once it is
    /// wrong, or no header of that file could be so long.
    pub(crate) fn header_only(prefix: &[u8], file_len: usize) -> Result<Option<Self>> {
        if prefix.len() >= 4 && &prefix[..4] != b"GGUF" {
            return Err(Error::NotGguf("the file does not start with the GGUF magic".into()));
        }
        match header::read(prefix) {
            Ok(header) => Self::build(Vec::new(), header, file_len).map(Some),
            Err(_) if prefix.len() < file_len.min(MAX_HEADER) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Tensors of `header`, each checked to lie within a file of `file_len`
    /// bytes; `bytes` is the file (empty for a header alone).
    fn build(bytes: Vec<u8>, header: header::Header, file_len: usize) -> Result<Self> {
        let base = header.data_offset;
        let mut tensors = HashMap::new();
        let mut unsupported = HashMap::new();
        for info in header.tensors {
            let name = info.name;
            let qtype = match QType::from_ggml_id(info.ggml_type) {
                Some(q) => q,
                None => {
                    unsupported.insert(name, ggml_type_name(info.ggml_type));
                    continue;
                }
            };
            let dims = info
                .ne
                .iter()
                .rev()
                .map(|&d| usize::try_from(d).ok())
                .collect::<Option<Vec<usize>>>()
                .ok_or_else(|| Error::Corrupt(format!("tensor `{name}` has an impossible shape {:?}", info.ne)))?;
            let elems = dims
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| Error::Corrupt(format!("tensor `{name}` has an impossible shape {dims:?}")))?;
            if elems % qtype.block_elems() != 0 || dims.last().map_or(true, |c| c % qtype.block_elems() != 0) {
                return Err(Error::Corrupt(format!(
                    "tensor `{name}` of {elems} elements is not a whole number of {} blocks per row",
                    qtype.name()
                )));
            }
            let len = (elems / qtype.block_elems())
                .checked_mul(qtype.block_bytes())
                .ok_or_else(|| Error::Corrupt(format!("tensor `{name}` has an impossible shape {dims:?}")))?;
            let offset = usize::try_from(info.offset)
                .ok()
                .and_then(|o| o.checked_add(base))
                .ok_or_else(|| Error::Corrupt(format!("tensor `{name}` offset out of range")))?;
            if offset.checked_add(len).is_none_or(|e| e > file_len) {
                return Err(Error::Corrupt(format!(
                    "tensor `{name}` needs bytes {offset}..{} but the file has {file_len} bytes (truncated?)",
                    offset.saturating_add(len),
                )));
            }
            tensors.insert(name.clone(), TensorRef { name, qtype, dims, offset, len });
        }
        Ok(Gguf { bytes, adapter: None, metadata: header.metadata, tensors, unsupported })
    }

    /// The adapter the model's matrices take on, if any.
    pub fn adapter(&self) -> Option<&std::sync::Arc<crate::lora::Adapter>> {
        self.adapter.as_ref()
    }

    pub(crate) fn set_adapter(&mut self, adapter: Option<std::sync::Arc<crate::lora::Adapter>>) {
        self.adapter = adapter;
    }

    /// The adapter of rows `row0..` of matrix `name`, when one is set.
    pub(crate) fn lora(&self, name: &str, row0: usize) -> Option<crate::lora::Lora> {
        self.adapter.as_ref().and_then(|a| a.lora(name, row0))
    }

    pub fn tensor(&self, name: &str) -> Result<&TensorRef> {
        if let Some(t) = self.tensors.get(name) {
            return Ok(t);
        }
        match self.unsupported.get(name) {
            Some(dtype) => Err(Error::UnsupportedTensorType { tensor: name.into(), dtype: dtype.clone() }),
            None => Err(Error::MissingTensor(name.into())),
        }
    }

    pub fn has_tensor(&self, name: &str) -> bool {
        self.tensors.contains_key(name) || self.unsupported.contains_key(name)
    }

    /// The whole file; weights index into it by offset.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn data(&self, t: &TensorRef) -> &[u8] {
        &self.bytes[t.offset..t.offset + t.len]
    }

    pub fn architecture(&self) -> Result<String> {
        self.get_str("general.architecture")
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.metadata.get(key)
    }

    pub fn get_str(&self, key: &str) -> Result<String> {
        match self.metadata.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(Error::Metadata(key.into())),
        }
    }

    pub fn get_usize(&self, key: &str) -> Result<usize> {
        self.metadata.get(key).and_then(value_as_u64).map(|v| v as usize).ok_or_else(|| Error::Metadata(key.into()))
    }

    pub fn get_f32(&self, key: &str) -> Result<f32> {
        match self.metadata.get(key) {
            Some(Value::F32(v)) => Ok(*v),
            Some(Value::F64(v)) => Ok(*v as f32),
            Some(v) => value_as_u64(v).map(|v| v as f32).ok_or_else(|| Error::Metadata(key.into())),
            None => Err(Error::Metadata(key.into())),
        }
    }

    pub fn get_str_array(&self, key: &str) -> Result<Vec<String>> {
        match self.metadata.get(key) {
            Some(Value::Array(vs)) => vs
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(Error::Metadata(key.into())),
                })
                .collect(),
            _ => Err(Error::Metadata(key.into())),
        }
    }

    pub fn get_f32_array(&self, key: &str) -> Result<Vec<f32>> {
        match self.metadata.get(key) {
            Some(Value::Array(vs)) => vs
                .iter()
                .map(|v| match v {
                    Value::F32(x) => Ok(*x),
                    Value::F64(x) => Ok(*x as f32),
                    _ => Err(Error::Metadata(key.into())),
                })
                .collect(),
            _ => Err(Error::Metadata(key.into())),
        }
    }

    pub fn get_i32_array(&self, key: &str) -> Result<Vec<i32>> {
        match self.metadata.get(key) {
            Some(Value::Array(vs)) => vs
                .iter()
                .map(|v| value_as_u64(v).map(|x| x as i32).or(match v {
                    Value::I32(x) => Some(*x),
                    _ => None,
                }))
                .map(|o| o.ok_or_else(|| Error::Metadata(key.into())))
                .collect(),
            _ => Err(Error::Metadata(key.into())),
        }
    }

    /// A count per layer: an array of them, or one for all `n` layers.
    pub fn get_usize_per_layer(&self, key: &str, n: usize) -> Result<Vec<usize>> {
        match self.metadata.get(key) {
            Some(Value::Array(vs)) if vs.len() == n => vs
                .iter()
                .map(|v| value_as_u64(v).map(|x| x as usize).ok_or_else(|| Error::Metadata(key.into())))
                .collect(),
            Some(Value::Array(_)) => Err(Error::Metadata(format!("{key}: not one value per layer"))),
            _ => self.get_usize(key).map(|x| vec![x; n]),
        }
    }

    /// Number of bytes of tensor data, for memory figures.
    pub fn tensor_bytes(&self) -> usize {
        self.tensors.values().map(|t| t.len).sum()
    }

    pub fn file_len(&self) -> usize {
        self.bytes.len()
    }
}

fn value_as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::U8(x) => Some(*x as u64),
        Value::U16(x) => Some(*x as u64),
        Value::U32(x) => Some(*x as u64),
        Value::U64(x) => Some(*x),
        Value::I8(x) if *x >= 0 => Some(*x as u64),
        Value::I16(x) if *x >= 0 => Some(*x as u64),
        Value::I32(x) if *x >= 0 => Some(*x as u64),
        Value::I64(x) if *x >= 0 => Some(*x as u64),
        Value::Bool(b) => Some(*b as u64),
        _ => None,
    }
}

/// The name of ggml type `id`, for a type this engine does not compute with.
fn ggml_type_name(id: u32) -> String {
    const NAMES: &[(u32, &str)] = &[
        (9, "Q8_1"),
        (15, "Q8_K"),
        (16, "IQ2_XXS"),
        (17, "IQ2_XS"),
        (18, "IQ3_XXS"),
        (19, "IQ1_S"),
        (21, "IQ3_S"),
        (22, "IQ2_S"),
        (24, "I8"),
        (25, "I16"),
        (26, "I32"),
        (27, "I64"),
        (28, "F64"),
        (29, "IQ1_M"),
        (34, "TQ1_0"),
        (35, "TQ2_0"),
        (39, "MXFP4"),
    ];
    match NAMES.iter().find(|(i, _)| *i == id) {
        Some((_, n)) => n.to_string(),
        None => format!("ggml type {id}"),
    }
}
