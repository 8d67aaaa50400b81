//! A JSON Schema compiled into what the matcher checks byte by byte: the
//! subset structured output needs (OpenAI's `json_schema` response format
//! and llama.cpp's schema converter agree on it): `type` (one or a list),
//! `properties` with `required`, `items` with `minItems`/`maxItems`,
//! `minLength`/`maxLength`, `enum`, `const`, and `$defs`/`definitions` with
//! local `$ref`s. Anything else a schema says is not enforced. A schema is
//! input from a page, so its size, depth and lists are bounded, and a
//! schema the matcher could never complete (a `minItems` above `maxItems`)
//! is refused here, not found stuck mid-reply.

use serde_json::Value;

use crate::error::{Error, Result};

/// The value kinds a node allows (`Node::kinds`).
pub const OBJECT: u8 = 1;
pub const ARRAY: u8 = 2;
pub const STRING: u8 = 4;
pub const NUMBER: u8 = 8;
pub const INTEGER: u8 = 16;
pub const BOOLEAN: u8 = 32;
pub const NULL: u8 = 64;
pub const ANY: u8 = OBJECT | ARRAY | STRING | NUMBER | BOOLEAN | NULL;

/// Properties and enum values are tracked in 64-bit sets.
pub const MAX_LIST: usize = 64;
const MAX_NODES: usize = 4096;
const MAX_DEPTH: usize = 32;
const MAX_LITERAL_BYTES: usize = 4096;

#[derive(Debug, Clone)]
pub struct Node {
    pub kinds: u8,
    /// One of these serialized values, exactly (`enum`, `const`).
    pub literals: Option<u32>,
    /// The listed keys (a literal set: each name as a JSON string) and the
    /// node of each one's value; an object with listed keys takes no other.
    pub keys: Option<u32>,
    pub values: Vec<u32>,
    /// Bit i: the i-th listed key must be present.
    pub required: u64,
    /// The value node of keys not listed (an object without `properties`).
    pub any_key: u32,
    pub items: u32,
    pub min_items: u32,
    pub max_items: u32,
    pub min_len: u32,
    pub max_len: u32,
}

/// The compiled schema: nodes and literal sets.
#[derive(Debug, Clone)]
pub struct Schema {
    pub nodes: Vec<Node>,
    pub literals: Vec<Vec<Vec<u8>>>,
    pub root: u32,
}

/// The node every unconstrained value uses.
pub const ANY_NODE: u32 = 0;

impl Schema {
    /// The literal sets of `true`/`false` and `null`, first in every schema.
    pub const BOOLEAN_SET: u32 = 0;
    pub const NULL_SET: u32 = 1;

    /// A JSON object of any shape (`response_format: json_object`).
    pub fn any_object() -> Self {
        Self::compile(&serde_json::json!({ "type": "object" })).expect("a plain object schema compiles")
    }

    pub fn compile(schema: &Value) -> Result<Self> {
        let literals = vec![vec![b"true".to_vec(), b"false".to_vec()], vec![b"null".to_vec()]];
        let mut s = Schema { nodes: vec![Node::any()], literals, root: ANY_NODE };
        let mut c = Compiler { root: schema, schema: &mut s, refs: Vec::new() };
        let root = c.node(schema, 0)?;
        s.root = root;
        Ok(s)
    }

    pub fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    pub fn literal_set(&self, i: u32) -> &[Vec<u8>] {
        &self.literals[i as usize]
    }
}

impl Node {
    fn any() -> Self {
        Node {
            kinds: ANY,
            literals: None,
            keys: None,
            values: Vec::new(),
            required: 0,
            any_key: ANY_NODE,
            items: ANY_NODE,
            min_items: 0,
            max_items: u32::MAX,
            min_len: 0,
            max_len: u32::MAX,
        }
    }
}

struct Compiler<'a> {
    root: &'a Value,
    schema: &'a mut Schema,
    /// `$ref`s being compiled (a reference to itself is refused: the
    /// matcher has no way to stop an endless nesting it allows).
    refs: Vec<String>,
}

fn refuse(why: impl Into<String>) -> Error {
    Error::InvalidOption(format!("response schema: {}", why.into()))
}

fn count(v: Option<&Value>, name: &str) -> Result<Option<u32>> {
    match v {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(|n| Some(n.min(u32::MAX as u64 - 1) as u32))
            .ok_or_else(|| refuse(format!("`{name}` must be a whole number"))),
    }
}

impl Compiler<'_> {
    fn node(&mut self, v: &Value, depth: usize) -> Result<u32> {
        if depth > MAX_DEPTH {
            return Err(refuse(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        if self.schema.nodes.len() >= MAX_NODES {
            return Err(refuse(format!("more than {MAX_NODES} parts")));
        }
        let obj = match v {
            Value::Bool(true) => return Ok(ANY_NODE),
            Value::Object(o) => o,
            // The reason `reply_settings::response_schema` gives for a format it cannot read.
            Value::String(why) if depth == 0 => return Err(refuse(why.clone())),
            _ => return Err(refuse("a schema must be an object")),
        };
        if let Some(r) = obj.get("$ref") {
            return self.reference(r, depth);
        }
        let mut n = Node::any();
        if let Some(t) = obj.get("type") {
            n.kinds = kinds(t)?;
        }
        if let Some(c) = obj.get("const") {
            n.literals = Some(self.literal_set(std::slice::from_ref(c))?);
        } else if let Some(e) = obj.get("enum") {
            let values = e.as_array().filter(|a| !a.is_empty()).ok_or_else(|| refuse("`enum` must be a list of values"))?;
            n.literals = Some(self.literal_set(values)?);
        }
        if let Some(props) = obj.get("properties") {
            let props = props.as_object().ok_or_else(|| refuse("`properties` must be an object"))?;
            if props.len() > MAX_LIST {
                return Err(refuse(format!("more than {MAX_LIST} properties")));
            }
            if !props.is_empty() {
                let names: Vec<Value> = props.keys().map(|k| Value::String(k.clone())).collect();
                n.keys = Some(self.literal_set(&names)?);
                for (i, (name, sub)) in props.iter().enumerate() {
                    let id = self.node(sub, depth + 1)?;
                    n.values.push(id);
                    let required = obj.get("required").and_then(Value::as_array);
                    if required.is_some_and(|r| r.iter().any(|x| x.as_str() == Some(name))) {
                        n.required |= 1 << i;
                    }
                }
            }
        }
        if n.keys.is_none() {
            if let Some(extra) = obj.get("additionalProperties").filter(|a| a.is_object()) {
                n.any_key = self.node(extra, depth + 1)?;
            }
        }
        if let Some(items) = obj.get("items") {
            n.items = self.node(items, depth + 1)?;
        }
        n.min_items = count(obj.get("minItems"), "minItems")?.unwrap_or(0);
        n.max_items = count(obj.get("maxItems"), "maxItems")?.unwrap_or(u32::MAX);
        n.min_len = count(obj.get("minLength"), "minLength")?.unwrap_or(0);
        n.max_len = count(obj.get("maxLength"), "maxLength")?.unwrap_or(u32::MAX);
        if n.min_items > n.max_items || n.min_len > n.max_len {
            return Err(refuse("a minimum above its maximum: no value fits"));
        }
        let id = self.schema.nodes.len() as u32;
        self.schema.nodes.push(n);
        Ok(id)
    }

    fn reference(&mut self, r: &Value, depth: usize) -> Result<u32> {
        let path = r.as_str().ok_or_else(|| refuse("`$ref` must be a string"))?;
        if self.refs.iter().any(|p| p == path) {
            return Err(refuse(format!("`{path}` refers to itself")));
        }
        let target = path
            .strip_prefix('#')
            .and_then(|p| if p.is_empty() { Some(self.root) } else { self.root.pointer(p) })
            .ok_or_else(|| refuse(format!("`{path}` names nothing in this schema")))?;
        self.refs.push(path.to_string());
        let id = self.node(target, depth + 1);
        self.refs.pop();
        id
    }

    /// Each value as compact JSON, the form the matcher expects.
    fn literal_set(&mut self, values: &[Value]) -> Result<u32> {
        if values.len() > MAX_LIST {
            return Err(refuse(format!("more than {MAX_LIST} values in one list")));
        }
        let set: Vec<Vec<u8>> = values.iter().map(|v| serde_json::to_vec(v).unwrap_or_default()).collect();
        if set.iter().map(Vec::len).sum::<usize>() > MAX_LITERAL_BYTES {
            return Err(refuse(format!("its values are longer than {MAX_LITERAL_BYTES} bytes together")));
        }
        self.schema.literals.push(set);
        Ok(self.schema.literals.len() as u32 - 1)
    }
}

fn kinds(t: &Value) -> Result<u8> {
    let one = |s: &str| match s {
        "object" => Ok(OBJECT),
        "array" => Ok(ARRAY),
        "string" => Ok(STRING),
        "number" => Ok(NUMBER),
        "integer" => Ok(INTEGER),
        "boolean" => Ok(BOOLEAN),
        "null" => Ok(NULL),
        other => Err(refuse(format!("unknown type `{other}`"))),
    };
    match t {
        Value::String(s) => one(s),
        Value::Array(list) if !list.is_empty() => list.iter().try_fold(0, |acc, v| {
            v.as_str().ok_or_else(|| refuse("`type` lists names")).and_then(one).map(|k| acc | k)
        }),
        _ => Err(refuse("`type` must be a name or a list of names")),
    }
}
