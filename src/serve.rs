//! `kindred serve`: the static site on 127.0.0.1, for development and the
//! browser tests. Sends COOP/COEP so the page is cross-origin isolated
//! (threads in wasm need SharedArrayBuffer); `--no-isolation` leaves them
//! out, as a plain static host would, to try the single-threaded page. Serves www/, the built wasm at
//! /pkg/ and models/ at /models/. Nothing here runs per request but a file
//! read: the app has no server code. `--default-model ID` serves the model
//! manifest with another of its presets as the default (a smaller model for
//! a quick look, or for the browser tests), or with a GGUF file in models/
//! added as the default (`--default-model NAME.gguf`). `--model-rate MB_PER_S` sends
//! model files no faster than that: a slow connection, to watch a download
//! or to close a tab in the middle of one (the browser tests do).

use sha2::Digest;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

/// How the site is served: `model_rate` (bytes a second) slows model files
/// down, to watch a download as a slow connection shows it, or to close a
/// tab in the middle of one.
pub struct Options<'a> {
    pub isolated: bool,
    pub default_model: Option<&'a str>,
    pub model_rate: Option<u64>,
}

struct Site {
    root: PathBuf,
    isolated: bool,
    manifest: Option<Vec<u8>>,
    model_rate: Option<u64>,
}

pub fn run(root: &Path, port: u16, o: Options) -> Result<(), String> {
    let manifest = o.default_model.map(|id| manifest_with_default(root, id)).transpose()?;
    let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!("Kindred is served at http://{addr}/");
    io::stdout().flush().ok();
    let site = std::sync::Arc::new(Site { root: root.to_path_buf(), isolated: o.isolated, manifest, model_rate: o.model_rate });
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let site = site.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &site);
        });
    }
    Ok(())
}

/// The model manifest with `id` as its default; an id it does not list is
/// an error at start.
fn manifest_with_default(root: &Path, id: &str) -> Result<Vec<u8>, String> {
    let path = root.join("models/manifest.json");
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut m: serde_json::Value = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let local = local_model(root, id)?;
    let id = local.as_ref().map_or(id, |(id, _)| id.as_str());
    if let Some((_, entry)) = &local {
        m["models"].as_array_mut().ok_or("models/manifest.json: no model list")?.push(entry.clone());
    }
    let known = m["models"].as_array().is_some_and(|list| list.iter().any(|e| e["id"] == id));
    if !known {
        return Err(format!("--default-model {id}: models/manifest.json has no such model"));
    }
    m["default"] = serde_json::Value::String(id.to_string());
    // The manifest's reason was for its own default.
    m["default_reason"] = serde_json::Value::String("Chosen by whoever serves this site (kindred serve --default-model).".into());
    serde_json::to_vec_pretty(&m).map_err(|e| e.to_string())
}

/// `--default-model FILE.gguf`: a model file in models/ (one the manifest
/// does not list, such as the scripted model the browser tests write) as a
/// manifest entry with its size and sha256, which the page checks a
/// download against as it does a preset's; `None` for a manifest id.
fn local_model(root: &Path, arg: &str) -> Result<Option<(String, serde_json::Value)>, String> {
    if !arg.ends_with(".gguf") {
        return Ok(None);
    }
    let file = Path::new(arg).file_name().and_then(|f| f.to_str()).ok_or(format!("--default-model {arg}: not a file name"))?;
    let path = root.join("models").join(file);
    let data = std::fs::read(&path).map_err(|e| format!("--default-model {arg}: {}: {e}", path.display()))?;
    let sha256: String = sha2::Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
    let id = file.trim_end_matches(".gguf");
    Ok(Some((id.to_string(), serde_json::json!({
        "id": id,
        "name": file,
        "file": file,
        "bytes": data.len(),
        "sha256": sha256,
        "source": { "kind": "local" },
        "bundled": false,
    }))))
}

fn handle(stream: TcpStream, site: &Site) -> io::Result<()> {
    let (root, isolated, manifest) = (site.root.as_path(), site.isolated, site.manifest.as_deref());
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        // Keep-alive is honoured until the client closes; of the headers only Range matters.
        let mut range = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
                break;
            }
            if let Some((name, value)) = h.split_once(':') {
                if name.trim().eq_ignore_ascii_case("range") {
                    range = Some(value.trim().to_string());
                }
            }
        }
        let head_only = method == "HEAD";
        if method != "GET" && !head_only {
            respond(&mut out, 405, "text/plain", b"method not allowed", head_only, isolated)?;
            continue;
        }
        match resolve(root, target) {
            Some(path) if manifest.is_some() && path == root.join("models/manifest.json") => {
                respond(&mut out, 200, "application/json", manifest.unwrap_or_default(), head_only, isolated)?;
            }
            Some(path) if path.is_file() => {
                let mut f = File::open(&path)?;
                let meta = f.metadata()?;
                let len = meta.len();
                let etag = etag(&meta);
                let (ctype, headers) = (content_type(&path), common_headers(isolated));
                match range.as_deref().map(|r| byte_range(r, len)) {
                    Some(Some((start, end))) => {
                        write!(
                            out,
                            "HTTP/1.1 206 Partial Content\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\
                             Content-Range: bytes {start}-{end}/{len}\r\nAccept-Ranges: bytes\r\nETag: {etag}\r\n{headers}\r\n",
                            end + 1 - start
                        )?;
                        if !head_only {
                            f.seek(SeekFrom::Start(start))?;
                            send(&mut f.take(end + 1 - start), &mut out, rate(site, &path))?;
                        }
                    }
                    Some(None) => {
                        write!(
                            out,
                            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{len}\r\nContent-Length: 0\r\n{headers}\r\n"
                        )?;
                    }
                    None => {
                        write!(
                            out,
                            "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len}\r\n\
                             Accept-Ranges: bytes\r\nETag: {etag}\r\n{headers}\r\n"
                        )?;
                        if !head_only {
                            send(&mut f, &mut out, rate(site, &path))?;
                        }
                    }
                }
            }
            _ => respond(&mut out, 404, "text/plain", b"not found", head_only, isolated)?,
        }
        out.flush()?;
    }
}

fn rate(site: &Site, path: &Path) -> Option<u64> {
    site.model_rate.filter(|_| path.extension().is_some_and(|e| e == "gguf"))
}

/// Copies `from` to `out`, at most `rate` bytes a second when given.
fn send(from: &mut impl Read, out: &mut TcpStream, rate: Option<u64>) -> io::Result<u64> {
    let Some(rate) = rate.filter(|&r| r > 0) else { return io::copy(from, out) };
    let started = std::time::Instant::now();
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent = 0u64;
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            return Ok(sent);
        }
        out.write_all(&buf[..n])?;
        sent += n as u64;
        let due = std::time::Duration::from_secs_f64(sent as f64 / rate as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
}

/// One byte range of a file of `len` bytes from a Range header (`bytes=A-B`,
/// `bytes=A-`, `bytes=-N`), as inclusive offsets; `None` when it cannot be
/// served. A list of ranges is served as its first, which is all the page asks.
fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.strip_prefix("bytes=")?.split(',').next()?.trim();
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => (len.checked_sub(n.parse::<u64>().ok()?.min(len))?, len.checked_sub(1)?),
        (a, "") => (a.parse().ok()?, len.checked_sub(1)?),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(len.checked_sub(1)?)),
    };
    (start <= end && end < len).then_some((start, end))
}

/// Tells one version of a file from the next (length and modification
/// time), so a resumed download can see that the file changed under it.
fn etag(meta: &std::fs::Metadata) -> String {
    let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
    format!("\"{:x}-{:x}\"", meta.len(), modified.as_nanos())
}

fn common_headers(isolated: bool) -> &'static str {
    if isolated {
        "Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n\
         Cross-Origin-Resource-Policy: same-origin\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n"
    } else {
        "X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\n"
    }
}

fn respond(out: &mut TcpStream, code: u16, ctype: &str, body: &[u8], head_only: bool, isolated: bool) -> io::Result<()> {
    let reason = if code == 404 { "Not Found" } else { "Method Not Allowed" };
    let headers = common_headers(isolated);
    write!(out, "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{headers}\r\n", body.len())?;
    if !head_only {
        out.write_all(body)?;
    }
    Ok(())
}

/// Maps a URL path to a file under the site's roots; `None` for anything
/// that tries to leave them.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let path = percent_decode(path)?;
    let rel = Path::new(path.trim_start_matches('/'));
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let (base, rest) = match rel.strip_prefix("models") {
        Ok(rest) => (root.join("models"), rest.to_path_buf()),
        Err(_) => (root.join("www"), rel.to_path_buf()),
    };
    let mut p = base.join(rest);
    if p.is_dir() {
        p = p.join("index.html");
    }
    Some(p)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(p: &Path) -> &'static str {
    match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_site() {
        let root = Path::new("/site");
        assert_eq!(resolve(root, "/js/app.js?v=1"), Some(PathBuf::from("/site/www/js/app.js")));
        assert_eq!(resolve(root, "/models/manifest.json"), Some(PathBuf::from("/site/models/manifest.json")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/js/%2e%2e/%2e%2e/secret"), None);
        assert_eq!(resolve(root, "/%zz"), None);
    }

    #[test]
    fn ranges_are_read_as_http_says() {
        assert_eq!(byte_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(byte_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(byte_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(byte_range("bytes=990-2000", 1000), Some((990, 999)), "an end past the file is cut to it");
        assert_eq!(byte_range("bytes=0-9, 20-29", 1000), Some((0, 9)));
        assert_eq!(byte_range("bytes=1000-", 1000), None, "starts past the end");
        assert_eq!(byte_range("bytes=5-2", 1000), None);
        assert_eq!(byte_range("bytes=0-", 0), None, "an empty file has no bytes to give");
        assert_eq!(byte_range("items=0-5", 1000), None);
        assert_eq!(byte_range("bytes=x-", 1000), None);
    }

    #[test]
    fn a_model_file_in_models_can_be_the_default() {
        let root = std::env::temp_dir().join(format!("kindred-serve-{}", std::process::id()));
        std::fs::create_dir_all(root.join("models")).unwrap();
        std::fs::write(root.join("models/manifest.json"), r#"{"default": "a", "models": [{"id": "a", "file": "a.gguf"}]}"#).unwrap();
        std::fs::write(root.join("models/mine.gguf"), b"GGUF0123").unwrap();
        let m: serde_json::Value = serde_json::from_slice(&manifest_with_default(&root, "models/mine.gguf").unwrap()).unwrap();
        assert_eq!(m["default"], "mine");
        assert_eq!(m["models"][1]["file"], "mine.gguf");
        assert_eq!(m["models"][1]["bytes"], 8);
        // sha256 of "GGUF0123", as `sha256sum` gives it.
        assert_eq!(m["models"][1]["sha256"], "9bbe023286f6afcf1c52a671ed7076dacde4a1876ade72c19738588d3f804f32");
        assert!(manifest_with_default(&root, "absent.gguf").unwrap_err().contains("absent.gguf"));
        assert!(manifest_with_default(&root, "b").unwrap_err().contains("no such model"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
