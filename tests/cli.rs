//! The `kindred` binary as a user runs it.

use std::process::Command;

fn kindred() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kindred"))
}

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn generate_json_matches_llama_cpp_greedy_ids() {
    let model = root().join("models/gemma-3-270m-q4_k_m.gguf");
    let out = kindred()
        .args(["generate", "--model"])
        .arg(&model)
        .args(["--prompt", "The capital of France is", "--max-tokens", "4", "--temperature", "0", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["prompt_ids"], serde_json::json!([2, 818, 5279, 529, 7001, 563]));
    // llama.cpp's first four greedy tokens (the fifth is a near-tie).
    assert_eq!(v["ids"], serde_json::json!([506, 5279, 529, 506]));
    assert_eq!(v["text"], " the capital of the");
}

#[test]
fn generate_keeps_a_completion_to_a_json_schema() {
    let model = root().join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    let dir = std::env::temp_dir().join(format!("kindred-json-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let schema = dir.join("schema.json");
    std::fs::write(&schema, r#"{"type":"object","properties":{"city":{"enum":["Paris","Lyon"]},"people":{"type":"integer"}},"required":["city","people"]}"#).unwrap();
    let prompt = "<|im_start|>user\nThe capital of France and its population, as JSON.<|im_end|>\n<|im_start|>assistant\n";
    let out = kindred()
        .args(["generate", "--model"])
        .arg(&model)
        .args(["--prompt", prompt, "--max-tokens", "60", "--format", "json", "--json-schema"])
        .arg(&schema)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reply: serde_json::Value = serde_json::from_str(v["text"].as_str().unwrap()).unwrap();
    assert_eq!(reply["city"], "Paris", "{reply}");
    assert!(reply["people"].is_u64(), "{reply}");
    assert_eq!(v["stop_reason"], "eos");
    std::fs::write(&schema, r#"{"type":"wizard"}"#).unwrap();
    let bad = kindred().args(["generate", "--model"]).arg(&model).args(["--prompt", "x", "--json-schema"]).arg(&schema).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown type `wizard`"), "{}", String::from_utf8_lossy(&bad.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn control_tokens_in_the_prompt_are_special_tokens() {
    let model = root().join("models/gemma-3-270m-q4_k_m.gguf");
    let out = kindred()
        .args(["generate", "--model"])
        .arg(&model)
        .args(["--prompt", "<start_of_turn>user\nHi<end_of_turn>", "--max-tokens", "0", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<u64> = v["prompt_ids"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect();
    assert_eq!(ids.len(), 6, "<bos> <start_of_turn> user \\n Hi <end_of_turn>: {ids:?}");
}

#[test]
fn bad_model_is_a_clear_error_not_a_crash() {
    let out = kindred()
        .args(["generate", "--model"])
        .arg(root().join("models/manifest.json"))
        .args(["--prompt", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a GGUF file"), "{err}");
}

#[test]
fn bench_prints_figures_for_a_synthetic_model() {
    let out = kindred()
        .args(["bench", "--synthetic", "gemma3-270m", "--prompt-tokens", "8", "--decode-tokens", "2", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["architecture"], "gemma3");
    assert_eq!(v["prompt_tokens"], 8);
    for k in ["load_seconds", "prefill_tokens_per_second", "decode_tokens_per_second", "time_to_first_token_seconds"] {
        assert!(v[k].as_f64().unwrap() > 0.0, "{k}: {}", v[k]);
    }
    assert!(v["peak_resident_bytes"].as_u64().unwrap() > 100_000_000, "a 270M model's shapes take memory");
}

#[test]
fn card_show_prints_v3_json_of_a_real_card() {
    let card = root().join("../shared/fixtures/cards/sillytavern-seraphina-v2.png");
    let out = kindred().args(["card", "show"]).arg(&card).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["spec"], "chara_card_v3");
    assert_eq!(v["data"]["name"], "Seraphina");
}

/// `kindred chat` with Wren on `model`, asked one question: its output.
fn chat_once(model: &std::path::Path, args: &[&str]) -> std::process::Output {
    use std::io::Write;
    let mut child = kindred()
        .args(["chat", "--model"])
        .arg(model)
        .arg("--character")
        .arg(root().join("www/characters/wren.json"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Hello! Who are you?\n").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn chat_greets_and_answers_in_the_terminal() {
    let out = chat_once(&root().join("models/gemma-3-270m-q4_k_m.gguf"), &["--max-tokens", "6", "--seed", "3"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Wren: "), "greeting first: {text}");
    let reply = text.split("User: ").nth(1).expect("a prompt for the user");
    let reply = reply.strip_prefix("Wren: ").expect("then Wren answers");
    assert!(reply.trim().len() > 2, "a non-empty reply: {reply:?}");
}

/// A chat past its context: the turns after those left out stay cached
/// (context shift), and `--no-shift` reads them again.
#[test]
fn chat_bench_keeps_turns_past_the_context_cut() {
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = kindred()
            .args(["bench", "--chat"])
            .arg(root().join("www/characters/wren.json"))
            .arg("--model")
            .arg(root().join("models/gemma-3-270m-q4_k_m.gguf"))
            .args(["--turns", "6", "--context", "600", "--max-tokens", "16", "--seed", "2", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let shifted = |r: &serde_json::Value, way: &str| -> Vec<u64> {
        r["turns"].as_array().unwrap().iter().map(|t| t[way]["shifted_tokens"].as_u64().unwrap()).collect()
    };
    let on = run(&[]);
    let prompts: Vec<u64> = on["turns"].as_array().unwrap().iter().map(|t| t["prompt_tokens"].as_u64().unwrap()).collect();
    assert!(prompts.iter().all(|&n| n <= 600 - 16), "every prompt fits: {prompts:?}");
    let kept = shifted(&on, "turn_before_cached");
    assert!(kept.iter().any(|&n| n > 100), "a turn kept cached turns past a cut: {kept:?} (prompts {prompts:?})");
    assert!(shifted(&on, "cold").iter().all(|&n| n == 0), "a cold run has nothing to keep");
    let off = run(&["--no-shift"]);
    assert!(shifted(&off, "turn_before_cached").iter().all(|&n| n == 0), "--no-shift reads them again");
}

#[test]
fn chat_resumes_its_conversation_and_read_prompt_and_refuses_a_damaged_one() {
    use std::io::Write;
    let dir = std::env::temp_dir().join(format!("kindred-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |line: &str| {
        let mut child = kindred()
            .args(["chat", "--model"])
            .arg(root().join("models/gemma-3-270m-q4_k_m.gguf"))
            .arg("--character")
            .arg(root().join("www/characters/wren.json"))
            .args(["--max-tokens", "6", "--seed", "3", "--resume"])
            .arg(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(line.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (first, _) = run("Hello! Who are you?\n");
    assert!(first.starts_with("Wren: "), "a new conversation greets: {first}");
    let (second, err) = run("What do you do all day?\n");
    assert!(second.starts_with("[resumed: 3 messages]"), "{second}");
    let restored: usize = err.split("[restored ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(restored > 100, "the read prompt came back: {err}");
    let history: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("history.json")).unwrap()).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 5, "greeting and two exchanges");
    // Damaged on disk: refused, read again, and the chat goes on.
    let kv = dir.join("prompt.kv");
    let mut bytes = std::fs::read(&kv).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x20;
    std::fs::write(&kv, bytes).unwrap();
    let (third, err) = run("Goodbye!\n");
    assert!(err.contains("was not used"), "{err}");
    assert!(third.starts_with("[resumed: 5 messages]") && third.contains("Wren: "), "{third}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn build_writes_a_deployable_site() {
    if !root().join("www/pkg/kindred_web_bg.wasm").is_file() {
        panic!("www/pkg is not built: run scripts/build-web.sh (the test command does, before the browser tests)");
    }
    let out = std::env::temp_dir().join(format!("kindred-site-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let status = kindred().args(["build", "--out"]).arg(&out).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    for f in [
        "index.html",
        "js/worker.js",
        "js/db.js",
        "sw.js",
        "manifest.webmanifest",
        "embed/kindred-widget.js",
        "embed/kindred-chat.js",
        "embed/demo.html",
        "pkg-ui/kindred_web.js",
        "pkg-ui/kindred_web_bg.wasm",
        "pkg/kindred_web.js",
        "pkg/kindred_web_bg.wasm",
        "pkg-mt/kindred_web.js",
        "pkg-mt/kindred_web_bg.wasm",
        "pkg-mt-relaxed/kindred_web.js",
        "pkg-mt-relaxed/kindred_web_bg.wasm",
        "models/manifest.json",
        "characters/index.json",
        "_headers",
    ] {
        assert!(out.join(f).is_file(), "{f} is in the site");
    }
    assert!(!out.join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").exists(), "weights only with --with-model");
    let again = kindred().args(["build", "--out"]).arg(&out).output().unwrap();
    assert!(!again.status.success(), "refuses to overwrite a non-empty folder");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn card_convert_round_trips_through_every_format() {
    let dir = std::env::temp_dir().join(format!("kindred-cards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = root().join("../shared/fixtures/cards/sillytavern-seraphina-v2.png");
    let show = |p: &std::path::Path| -> serde_json::Value {
        let out = kindred().args(["card", "show"]).arg(p).output().unwrap();
        assert!(out.status.success(), "{}: {}", p.display(), String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let original = show(&src);
    let mut prev = src.clone();
    for name in ["seraphina.charx", "seraphina.json", "seraphina.png"] {
        let next = dir.join(name);
        let out = kindred().args(["card", "convert"]).arg(&prev).arg(&next).output().unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let mut got = show(&next)["data"].clone();
        // CHARX stores the avatar as the card's main icon asset, and the
        // later formats keep that reference: every other field is unchanged.
        let assets = got.as_object_mut().unwrap().remove("assets").unwrap_or_default();
        assert_eq!(assets[0]["type"], "icon", "{name}: the avatar is the main icon: {assets}");
        let mut want = original["data"].clone();
        want.as_object_mut().unwrap().remove("assets");
        assert_eq!(got, want, "{name} keeps every field");
        prev = next;
    }
    let v2 = dir.join("seraphina-v2.json");
    assert!(kindred().args(["card", "convert"]).arg(&src).arg(&v2).args(["--spec", "v2"]).status().unwrap().success());
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(&v2).unwrap()).unwrap();
    assert_eq!(raw["spec"], "chara_card_v2");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generate_on_the_gpu_backend_matches_llama_cpp() {
    // Runs on whatever adapter wgpu finds: lavapipe on the project's machines.
    let model = root().join("models/gemma-3-270m-q4_k_m.gguf");
    let out = kindred()
        .args(["generate", "--backend", "gpu", "--model"])
        .arg(&model)
        .args(["--prompt", "The capital of France is", "--max-tokens", "4", "--temperature", "0", "--format", "json"])
        .env("XDG_RUNTIME_DIR", std::env::var("XDG_RUNTIME_DIR").unwrap_or_else(|_| "/tmp".into()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ids"], serde_json::json!([506, 5279, 529, 506]), "llama.cpp's first four greedy tokens");
    assert_eq!(v["backend"], "gpu");
    assert!(v["adapter"]["adapter"].as_str().is_some_and(|s| !s.is_empty()), "{}", v["adapter"]);
}

#[test]
fn generate_auto_backend_picks_the_cpu_on_a_software_adapter_and_says_why() {
    // lavapipe on the project's machines: a software adapter loses to the CPU backend.
    let model = root().join("models/gemma-3-270m-q4_k_m.gguf");
    let out = kindred()
        .args(["generate", "--backend", "auto", "--model"])
        .arg(&model)
        .args(["--prompt", "The capital of France is", "--max-tokens", "2", "--temperature", "0", "--format", "json"])
        .env("XDG_RUNTIME_DIR", std::env::var("XDG_RUNTIME_DIR").unwrap_or_else(|_| "/tmp".into()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ids"], serde_json::json!([506, 5279]));
    assert_eq!(v["backend"], "cpu", "{stderr}");
    assert!(stderr.contains("backend cpu: ") && stderr.contains("software adapter"), "{stderr}");
}

/// `kindred eval` on a subset of the probes: the default model (an instruct
/// model, so the role-play layout) and the reference base model (the
/// transcript), side by side in one run.
#[test]
fn eval_scores_a_probe_subset_on_the_default_and_the_base_model() {
    let models = format!(
        "{},{}",
        root().join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").display(),
        root().join("models/gemma-3-270m-q4_k_m.gguf").display()
    );
    let out = kindred()
        .args(["eval", "--model", &models, "--character"])
        .arg(root().join("www/characters/wren.json"))
        .args(["--turns", "2", "--max-tokens", "40", "--threads", "2", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = v["runs"].as_array().unwrap();
    let formats: Vec<&str> = runs.iter().map(|r| r["format"].as_str().unwrap()).collect();
    assert_eq!(formats, ["roleplay", "transcript"]);
    for run in runs {
        let replies = run["replies"].as_array().unwrap();
        assert_eq!(replies.len(), 2, "{run}");
        for r in replies {
            let checks = r["checks"].as_array().unwrap();
            assert!(checks.len() >= 9, "{r}");
            assert!(checks.iter().all(|c| !c["evidence"].as_str().unwrap().is_empty()), "every verdict shows its text: {r}");
            // Turn discipline: whatever the model wrote, what is shown holds no template text.
            let shown = r["shown"].as_str().unwrap();
            for mark in ["<|im_start|>", "<|im_end|>", "<start_of_turn>", "<end_of_turn>", "\nSam:"] {
                assert!(!shown.contains(mark), "{mark:?} shown: {r}");
            }
        }
    }
    let all: Vec<&serde_json::Value> = v["summaries"].as_array().unwrap().iter().filter(|s| s["character"] == "all").collect();
    assert_eq!(all.len(), 2);
    assert!(v["seconds"].as_f64().unwrap() > 0.0);

    let md = kindred()
        .args(["eval", "--model", &models, "--character"])
        .arg(root().join("www/characters/wren.json"))
        .args(["--turns", "1", "--max-tokens", "16", "--threads", "2", "--quiet", "--judge"])
        .arg(root().join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
        .output()
        .unwrap();
    assert!(md.status.success(), "{}", String::from_utf8_lossy(&md.stderr));
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.contains("## A model's judgement (qwen2.5-coder-0.5b-instruct-q4_k_m)"), "{text}");
    assert!(text.contains("not part of the scores above"), "{text}");
    assert!(text.contains("| qwen2.5-coder-0.5b-instruct-q4_k_m | roleplay | **all** | 1 |"), "{text}");
    assert!(text.contains("| gemma-3-270m-q4_k_m | transcript | **all** | 1 |"), "{text}");
}

#[test]
fn eval_refuses_a_bad_probe_file_and_a_missing_character() {
    let bad = std::env::temp_dir().join("kindred-bad-probes.json");
    std::fs::write(&bad, r#"{"turns": []}"#).unwrap();
    let out = kindred()
        .args(["eval", "--model", "models/none.gguf", "--character", "www/characters/wren.json", "--probes"])
        .arg(&bad)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no turns"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kindred().args(["eval", "--model", "m.gguf"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--characters DIR is required"));
}

#[test]
fn serve_can_name_another_default_model() {
    let bad = kindred().args(["serve", "--port", "0", "--default-model", "no-such-model"]).current_dir(root()).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("has no such model"));
}

#[test]
fn scripted_model_answers_in_its_sentences_with_the_sources_tokenizer() {
    let out = std::env::temp_dir().join(format!("kindred-scripted-{}.gguf", std::process::id()));
    let made = kindred()
        .args(["scripted-model", "--tokenizer-from"])
        .arg(root().join("models/gemma-3-270m-q4_k_m.gguf"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let done = chat_once(&out, &["--seed", "3"]);
    std::fs::remove_file(&out).ok();
    assert!(done.status.success());
    let text = String::from_utf8_lossy(&done.stdout);
    let reply = text.split("User: ").nth(1).and_then(|r| r.strip_prefix("Wren: ")).unwrap_or_else(|| panic!("a reply: {text}"));
    let words: std::collections::BTreeSet<&str> =
        kindred_engine::scripted::SENTENCES.iter().flat_map(|s| s.split(|c: char| !c.is_alphanumeric())).collect();
    for w in reply.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        assert!(words.contains(w), "{w:?} is not the script's, in {reply:?}");
    }

    let missing = kindred().args(["scripted-model", "--out", "x.gguf"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--tokenizer-from"));
}

/// A backup as the app's "Export everything" writes it: two characters, a chat
/// with each (rated swipes in the first), a room (left out), the persona.
fn dataset_backup(dir: &std::path::Path) -> std::path::PathBuf {
    let swipe = |text: &str, rating: Option<u8>| serde_json::json!({ "text": text, "rating": rating, "status": "done" });
    let msg = |id: u64, chat: &str, pos: u64, role: &str, swipes: Vec<serde_json::Value>| {
        serde_json::json!({ "id": id, "chatId": chat, "pos": pos, "role": role, "swipes": swipes, "chosen": 0 })
    };
    let backup = serde_json::json!({
        "format": "kindred-backup", "version": 2,
        "characters": [
            { "id": "wren", "card": { "name": "Wren", "description": "Wren runs a tea room.", "first_mes": "Hello, {{user}}!" } },
            { "id": "rook", "card": { "name": "Rook", "description": "A raven.", "first_mes": "Caw." } },
        ],
        "chats": [
            { "id": "chat-w", "characterId": "wren" },
            { "id": "chat-r", "characterId": "rook" },
            { "id": "room-1", "room": { "members": [] } },
        ],
        "messages": [
            msg(5, "chat-w", 4, "assistant", vec![swipe("Then we have tea.", Some(3))]),
            msg(1, "chat-w", 0, "assistant", vec![swipe("Hello, {{user}}!", None)]),
            msg(2, "chat-w", 1, "user", vec![swipe("Hi Wren, busy day?", None)]),
            msg(3, "chat-w", 2, "assistant", vec![swipe("Busy but happy.", Some(4)), swipe("As an AI I cannot.", Some(1))]),
            msg(4, "chat-w", 3, "user", vec![swipe("And after closing?", None)]),
            msg(6, "chat-r", 0, "assistant", vec![swipe("Caw.", None)]),
            msg(7, "chat-r", 1, "user", vec![swipe("Hello bird.", None)]),
            msg(8, "chat-r", 2, "assistant", vec![swipe("Caw caw.", None)]),
        ],
        "settings": [{ "key": "prefs", "value": { "persona": { "name": "Sam", "description": "" } } }],
        "memories": [],
    });
    let path = dir.join("backup.json");
    std::fs::write(&path, backup.to_string()).unwrap();
    path
}

fn dataset_lines(backup: &std::path::Path, out: &std::path::Path, args: &[&str]) -> Vec<serde_json::Value> {
    let run = kindred().args(["dataset", "export", "--backup"]).arg(backup).arg("--out").arg(out).args(args).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    std::fs::read_to_string(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn dataset_export_turns_a_backup_into_training_files() {
    let dir = std::env::temp_dir().join(format!("kindred-dataset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let backup = dataset_backup(&dir);
    let out = dir.join("out.jsonl");

    let chat = dataset_lines(&backup, &out, &["--format", "openai-chat"]);
    assert_eq!(chat.len(), 2, "one line a chat, the room left out: {chat:?}");
    let wren = &chat[0]["messages"];
    let roles: Vec<&str> = wren.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "assistant", "user", "assistant", "user", "assistant"], "{wren}");
    assert!(wren[0]["content"].as_str().unwrap().contains("Wren runs a tea room."), "{wren}");
    assert_eq!(wren[3]["content"], "Busy but happy.", "the shown swipe, in order of pos");
    assert_eq!(wren[1]["content"], "Hello, Sam!", "names filled in as the app shows them: {wren}");

    let sft = dataset_lines(&backup, &out, &["--format", "trl-sft"]);
    assert_eq!(sft.len(), 2);
    assert!(!sft.iter().any(|l| l.to_string().contains("weight")), "TRL has no weights");

    let trl = dataset_lines(&backup, &out, &["--format", "trl-preference"]);
    assert_eq!(trl.len(), 1, "{trl:?}");
    assert_eq!(trl[0]["chosen"][0]["content"], "Busy but happy.");
    assert_eq!(trl[0]["rejected"][0]["content"], "As an AI I cannot.");
    assert_eq!(trl[0]["prompt"].as_array().unwrap().last().unwrap()["content"], "Hi Wren, busy day?");

    let dpo = dataset_lines(&backup, &out, &["--format", "openai-dpo"]);
    assert_eq!(dpo[0]["preferred_output"][0]["content"], "Busy but happy.");
    assert_eq!(dpo[0]["non_preferred_output"][0]["content"], "As an AI I cannot.");
    assert!(dpo[0]["input"]["messages"].is_array());

    let kto = dataset_lines(&backup, &out, &["--format", "kto"]);
    let labels: Vec<(String, bool)> =
        kto.iter().map(|l| (l["completion"][0]["content"].as_str().unwrap().to_string(), l["label"].as_bool().unwrap())).collect();
    assert_eq!(labels.len(), 3, "every rated swipe: {labels:?}");
    assert!(labels.contains(&("As an AI I cannot.".into(), false)) && labels.contains(&("Then we have tea.".into(), true)));

    let rook = dataset_lines(&backup, &out, &["--format", "openai-chat", "--character", "rook"]);
    assert_eq!(rook.len(), 1);
    assert!(rook[0]["messages"][0]["content"].as_str().unwrap().contains("A raven."));
    assert!(dataset_lines(&backup, &out, &["--format", "trl-preference", "--character", "rook"]).is_empty());
    // A chat left out gives nothing.
    let kept = dataset_lines(&backup, &out, &["--format", "openai-chat", "--leave-out", "chat-w"]);
    assert_eq!(kept.len(), 1);
    assert!(kept[0]["messages"][0]["content"].as_str().unwrap().contains("A raven."), "only Rook's chat: {kept:?}");
    assert!(dataset_lines(&backup, &out, &["--format", "kto", "--leave-out", "chat-r, chat-w"]).is_empty());

    for (args, why) in [
        (vec!["--format", "csv"], "one of openai-chat"),
        (vec!["--format", "kto", "--character", "nobody"], "no character nobody"),
    ] {
        let run = kindred().args(["dataset", "export", "--backup"]).arg(&backup).arg("--out").arg(&out).args(&args).output().unwrap();
        assert_eq!(run.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&run.stderr).contains(why), "{}", String::from_utf8_lossy(&run.stderr));
    }
    let not_backup = dir.join("card.json");
    std::fs::write(&not_backup, r#"{"spec":"chara_card_v2"}"#).unwrap();
    let run = kindred().args(["dataset", "export", "--format", "kto", "--out"]).arg(&out).arg("--backup").arg(&not_backup).output().unwrap();
    assert!(String::from_utf8_lossy(&run.stderr).contains("not a Kindred backup"), "{}", String::from_utf8_lossy(&run.stderr));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn dataset_import_qa_adds_example_dialogues_to_a_card() {
    let dir = std::env::temp_dir().join(format!("kindred-qa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("faq.csv");
    std::fs::write(&csv, "question,answer\n\"What do you sell?\",\"Tea, and scones on Sundays.\"\nOpening hours?,\"Nine till five, \"\"mostly\"\".\"\n").unwrap();
    let card = root().join("www/characters/wren.json");
    let out = dir.join("wren.json");
    let run = kindred().args(["dataset", "import-qa"]).arg(&csv).arg("--character").arg(&card).arg("--out").arg(&out).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("2 example dialogues"));
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let examples = written["data"]["mes_example"].as_str().unwrap();
    let before: serde_json::Value = serde_json::from_slice(&std::fs::read(&card).unwrap()).unwrap();
    let own = before["data"]["mes_example"].as_str().unwrap().trim();
    assert!(examples.starts_with(own), "the card's own examples first");
    assert!(examples.ends_with("<START>\n{{user}}: Opening hours?\n{{char}}: Nine till five, \"mostly\"."), "{examples}");
    assert!(examples.contains("{{user}}: What do you sell?\n{{char}}: Tea, and scones on Sundays."));

    // A bad row is named; nothing is written.
    let bad = dir.join("bad.jsonl");
    std::fs::write(&bad, "{\"question\": \"Hi?\", \"answer\": \"Hello.\"}\n{\"question\": \"No answer\"}\n").unwrap();
    let out2 = dir.join("wren2.json");
    let run = kindred().args(["dataset", "import-qa"]).arg(&bad).arg("--character").arg(&card).arg("--out").arg(&out2).output().unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("line 2"), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(!out2.exists());
    std::fs::remove_dir_all(&dir).ok();
}

/// `--lora FILE [--lora-scale S]`: a LoRA adapter of the model,
/// written here for a tiny random model (`bench --save-adapter`). Scale 0 is
/// the base model; the adapter changes the greedy ids, on the GPU backend as
/// on the CPU; an adapter of another model, or a scale without a file, is an
/// error naming it.
#[test]
fn generate_takes_a_lora_adapter() {
    let dir = std::env::temp_dir().join(format!("kindred-lora-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (model, adapter, other) = (dir.join("tiny.gguf"), dir.join("tiny-lora.gguf"), dir.join("llama-lora.gguf"));
    for (name, m, a) in [("tiny-qwen3", &model, &adapter), ("tiny-llama", &dir.join("llama.gguf"), &other)] {
        let out = kindred()
            .args(["bench", "--synthetic", name, "--save-synthetic"])
            .arg(m)
            .arg("--save-adapter")
            .arg(a)
            .args(["--prompt-tokens", "4", "--decode-tokens", "1", "--format", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let ids = |extra: &[&std::ffi::OsStr]| -> Result<serde_json::Value, String> {
        let out = kindred()
            .args(["generate", "--model"])
            .arg(&model)
            .args(["--prompt", "abc", "--max-tokens", "12", "--temperature", "0", "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        if out.status.success() {
            Ok(serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["ids"].clone())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    let base = ids(&[]).unwrap();
    let adapted = ids(&["--lora".as_ref(), adapter.as_os_str()]).unwrap();
    assert_ne!(adapted, base, "the adapter changes the reply");
    assert_eq!(ids(&["--lora".as_ref(), adapter.as_os_str(), "--lora-scale".as_ref(), "0".as_ref()]).unwrap(), base);
    // Runs on whatever adapter wgpu finds: lavapipe on the project's machines.
    let on_gpu = ids(&["--lora".as_ref(), adapter.as_os_str(), "--backend".as_ref(), "gpu".as_ref()]).unwrap();
    assert_eq!(on_gpu, adapted, "the GPU's greedy ids with the adapter");
    let err = ids(&["--lora".as_ref(), other.as_os_str()]).unwrap_err();
    assert!(err.contains("made for llama"), "{err}");
    let err = ids(&["--lora-scale".as_ref(), "0.5".as_ref()]).unwrap_err();
    assert!(err.contains("--lora-scale goes with --lora"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
