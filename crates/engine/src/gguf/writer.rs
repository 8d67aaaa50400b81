//! Writes GGUF version 3: the files the engine makes itself (random-weight
//! models for tests and benchmarks), in any type it reads, candle's or not.

use candle_core::quantized::gguf_file::Value;

use crate::quant::QType;

/// Tensor data and its offsets are aligned to this (GGUF's default).
const ALIGN: usize = 32;

/// One tensor: its dims row-major (`[rows, cols]`), its bytes in `qtype`.
pub struct TensorData {
    pub name: String,
    pub qtype: QType,
    pub dims: Vec<usize>,
    pub bytes: Vec<u8>,
}

pub fn write(metadata: &[(String, Value)], tensors: &[TensorData]) -> Vec<u8> {
    let mut out = b"GGUF".to_vec();
    out.extend(3u32.to_le_bytes());
    out.extend((tensors.len() as u64).to_le_bytes());
    out.extend((metadata.len() as u64).to_le_bytes());
    for (key, value) in metadata {
        put_string(&mut out, key);
        out.extend(value_type(value).to_le_bytes());
        put_value(&mut out, value);
    }
    let mut offset = 0usize;
    for t in tensors {
        put_string(&mut out, &t.name);
        out.extend((t.dims.len() as u32).to_le_bytes());
        for &d in t.dims.iter().rev() {
            out.extend((d as u64).to_le_bytes());
        }
        out.extend(t.qtype.ggml_id().to_le_bytes());
        out.extend((offset as u64).to_le_bytes());
        offset = (offset + t.bytes.len()).next_multiple_of(ALIGN);
    }
    for t in tensors {
        out.resize(out.len().next_multiple_of(ALIGN), 0);
        out.extend(&t.bytes);
    }
    out
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

fn value_type(v: &Value) -> u32 {
    match v {
        Value::U8(_) => 0,
        Value::I8(_) => 1,
        Value::U16(_) => 2,
        Value::I16(_) => 3,
        Value::U32(_) => 4,
        Value::I32(_) => 5,
        Value::F32(_) => 6,
        Value::Bool(_) => 7,
        Value::String(_) => 8,
        Value::Array(_) => 9,
        Value::U64(_) => 10,
        Value::I64(_) => 11,
        Value::F64(_) => 12,
    }
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::U8(x) => out.push(*x),
        Value::I8(x) => out.push(*x as u8),
        Value::U16(x) => out.extend(x.to_le_bytes()),
        Value::I16(x) => out.extend(x.to_le_bytes()),
        Value::U32(x) => out.extend(x.to_le_bytes()),
        Value::I32(x) => out.extend(x.to_le_bytes()),
        Value::F32(x) => out.extend(x.to_le_bytes()),
        Value::Bool(x) => out.push(*x as u8),
        Value::String(s) => put_string(out, s),
        Value::Array(items) => {
            // An empty array names some element type; u8 will do.
            out.extend(items.first().map_or(0, value_type).to_le_bytes());
            out.extend((items.len() as u64).to_le_bytes());
            for item in items {
                put_value(out, item);
            }
        }
        Value::U64(x) => out.extend(x.to_le_bytes()),
        Value::I64(x) => out.extend(x.to_le_bytes()),
        Value::F64(x) => out.extend(x.to_le_bytes()),
    }
}
