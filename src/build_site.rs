//! `kindred build --out DIR`: the whole static site in one folder any static
//! host can serve: www/ (with the built wasm), the model manifest, and
//! optionally the default model's weights.

use std::fs;
use std::path::Path;

use crate::args::Args;

/// Headers for hosts that read a `_headers` file (Netlify, Cloudflare
/// Pages): cross-origin isolation lets the page run the threaded engine
/// (www/pkg-mt, or www/pkg-mt-relaxed where the browser has relaxed SIMD);
/// without it the page runs the single-threaded one. The page's own thread
/// loads www/pkg-ui, the build without the engine.
const HEADERS: &str = "/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n  \
Cross-Origin-Resource-Policy: same-origin\n  X-Content-Type-Options: nosniff\n\n/pkg-ui/*.wasm\n  Content-Type: application/wasm\n\n/pkg/*.wasm\n  Content-Type: application/wasm\n\n/pkg-mt/*.wasm\n  Content-Type: application/wasm\n\n\
/pkg-mt-relaxed/*.wasm\n  Content-Type: application/wasm\n";

pub fn run(argv: &[String], root: &Path) -> Result<(), String> {
    let a = Args::parse(argv, &["with-model"])?;
    let out = Path::new(a.required("out")?);
    let www = root.join("www");
    if !www.join("pkg/kindred_web_bg.wasm").is_file() || !www.join("pkg-ui/kindred_web_bg.wasm").is_file() {
        return Err("www/pkg/ or www/pkg-ui/ is not built: run scripts/build-web.sh first".into());
    }
    if out.exists() && fs::read_dir(out).map_err(|e| e.to_string())?.next().is_some() {
        return Err(format!("{} exists and is not empty", out.display()));
    }
    copy_dir(&www, out)?;
    let models = out.join("models");
    fs::create_dir_all(&models).map_err(|e| e.to_string())?;
    let manifest_path = root.join("models/manifest.json");
    fs::copy(&manifest_path, models.join("manifest.json")).map_err(|e| format!("{}: {e}", manifest_path.display()))?;
    if a.has("with-model") {
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(&manifest_path).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
        let default = manifest["default"].as_str().unwrap_or_default();
        let file = manifest["models"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["id"] == default))
            .and_then(|m| m["file"].as_str())
            .ok_or("the manifest names no default model file")?;
        let src = root.join("models").join(file);
        fs::copy(&src, models.join(file)).map_err(|e| format!("{}: {e} (fetch it with scripts/fetch-model.py)", src.display()))?;
    }
    fs::write(out.join("_headers"), HEADERS).map_err(|e| e.to_string())?;
    println!("Wrote the site to {}", out.display());
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}
