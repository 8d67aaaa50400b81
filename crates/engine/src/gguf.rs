//! A GGUF file held in memory: candle-core parses the header, the tensor
//! bytes stay where they are and are borrowed by the kernels.

use std::collections::HashMap;
use std::io::Cursor;

use candle_core::quantized::gguf_file::{Content, Value};

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

pub struct Gguf {
    bytes: Vec<u8>,
    pub metadata: HashMap<String, Value>,
    pub tensors: HashMap<String, TensorRef>,
    /// Tensors whose type candle knows but this engine cannot compute with;
    /// reported only if the model actually uses one.
    pub unsupported: HashMap<String, String>,
}

impl Gguf {
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        if bytes.len() < 8 {
            return Err(Error::NotGguf(format!("only {} bytes", bytes.len())));
        }
        if &bytes[..4] != b"GGUF" {
            return Err(Error::NotGguf("the file does not start with the GGUF magic".into()));
        }
        let content = Content::read(&mut Cursor::new(&bytes[..])).map_err(|e| {
            let msg = e.to_string();
            if msg.contains("unknown dtype") {
                Error::UnsupportedTensorType { tensor: tensor_with_unknown_type(&bytes), dtype: msg }
            } else {
                Error::Corrupt(msg)
            }
        })?;
        let base = usize::try_from(content.tensor_data_offset)
            .map_err(|_| Error::Corrupt("tensor data offset out of range".into()))?;
        let mut tensors = HashMap::new();
        let mut unsupported = HashMap::new();
        for (name, info) in &content.tensor_infos {
            let dims = info.shape.dims().to_vec();
            let qtype = match QType::from_ggml(info.ggml_dtype) {
                Some(q) => q,
                None => {
                    unsupported.insert(name.clone(), format!("{:?}", info.ggml_dtype));
                    continue;
                }
            };
            let elems = dims
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .ok_or_else(|| Error::Corrupt(format!("tensor `{name}` has an impossible shape {dims:?}")))?;
            if elems % qtype.block_elems() != 0 || dims.last().map_or(true, |c| c % qtype.block_elems() != 0) {
                return Err(Error::Corrupt(format!(
                    "tensor `{name}` of {elems} elements is not a whole number of {:?} blocks per row",
                    qtype
                )));
            }
            let len = elems / qtype.block_elems() * qtype.block_bytes();
            let offset = usize::try_from(info.offset)
                .ok()
                .and_then(|o| o.checked_add(base))
                .ok_or_else(|| Error::Corrupt(format!("tensor `{name}` offset out of range")))?;
            let end = offset.checked_add(len).filter(|&e| e <= bytes.len()).ok_or_else(|| {
                Error::Corrupt(format!(
                    "tensor `{name}` needs bytes {offset}..{} but the file has {} bytes (truncated?)",
                    offset.saturating_add(len),
                    bytes.len()
                ))
            })?;
            let _ = end;
            tensors.insert(name.clone(), TensorRef { name: name.clone(), qtype, dims, offset, len });
        }
        Ok(Gguf { bytes, metadata: content.metadata, tensors, unsupported })
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

/// candle rejects a tensor type it does not know without naming the tensor;
/// walk the header ourselves (bounds-checked) to name it for the user.
fn tensor_with_unknown_type(bytes: &[u8]) -> String {
    scan_unknown_type(bytes).unwrap_or_else(|| "(unknown tensor)".into())
}

fn scan_unknown_type(b: &[u8]) -> Option<String> {
    let mut r = Reader { b, pos: 4 };
    let version = r.u32()?;
    let wide = version >= 2;
    let n_tensors = r.len(wide)?;
    let n_kv = r.len(wide)?;
    for _ in 0..n_kv {
        r.string(wide)?;
        let ty = r.u32()?;
        r.skip_value(ty, wide, 0)?;
    }
    for _ in 0..n_tensors {
        let name = r.string(wide)?;
        let n_dims = r.u32()? as usize;
        for _ in 0..n_dims.min(8) {
            r.len(wide)?;
        }
        let ty = r.u32()?;
        r.u64()?;
        if !matches!(ty, 0 | 1 | 2 | 3 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15 | 30) {
            return Some(format!("{name} (ggml type {ty})"));
        }
    }
    None
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn len(&mut self, wide: bool) -> Option<usize> {
        if wide { usize::try_from(self.u64()?).ok() } else { Some(self.u32()? as usize) }
    }
    fn string(&mut self, wide: bool) -> Option<String> {
        let n = self.len(wide)?;
        Some(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
    fn skip_value(&mut self, ty: u32, wide: bool, depth: usize) -> Option<()> {
        let size = match ty {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4 | 5 | 6 => 4,
            10 | 11 | 12 => 8,
            8 => {
                self.string(wide)?;
                return Some(());
            }
            9 if depth < 4 => {
                let inner = self.u32()?;
                let n = self.len(wide)?;
                for _ in 0..n {
                    self.skip_value(inner, wide, depth + 1)?;
                }
                return Some(());
            }
            _ => return None,
        };
        self.take(size).map(|_| ())
    }
}

