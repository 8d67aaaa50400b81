//! A small `--flag value` parser: the CLI needs no more, and it keeps the
//! build light.

use std::collections::HashMap;

pub struct Args {
    flags: HashMap<String, String>,
    #[allow(dead_code)]
    pub positional: Vec<String>,
}

impl Args {
    /// `switches` are flags that take no value.
    pub fn parse(args: &[String], switches: &[&str]) -> Result<Self, String> {
        let mut flags = HashMap::new();
        let mut positional = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if let Some(name) = a.strip_prefix("--") {
                let (name, value) = match name.split_once('=') {
                    Some((n, v)) => (n.to_string(), v.to_string()),
                    None if switches.contains(&name) => (name.to_string(), "true".into()),
                    None => (name.to_string(), it.next().cloned().ok_or(format!("--{name} needs a value"))?),
                };
                flags.insert(name, value);
            } else {
                positional.push(a.clone());
            }
        }
        Ok(Args { flags, positional })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(|s| s.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.flags.contains_key(name)
    }

    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name).ok_or_else(|| format!("--{name} is required"))
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: `{v}` is not a valid number")),
        }
    }
}
