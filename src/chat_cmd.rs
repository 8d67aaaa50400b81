//! `kindred chat`: talk to a character card in the terminal, with the
//! app's prompt assembly, layout and turn discipline (`turn.rs`). With
//! `--resume DIR` the conversation and the engine's read prompt are kept
//! there (`history.json`, `prompt.kv`) and taken up again by the next run,
//! as the app keeps a chat and its prompt prefix.

use std::io::{BufRead, Write};

use kindred_characters::prompt::{HistoryMessage, PromptStyle};

use crate::args::Args;

pub fn run(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &["no-shift"])?;
    let card_path = a.required("character")?;
    let bytes = std::fs::read(card_path).map_err(|e| format!("{card_path}: {e}"))?;
    let card = kindred_characters::read_any(&bytes).map_err(|e| format!("{card_path}: {e}"))?.card;
    let mut session = crate::load_model(&a)?;
    if a.has("context") {
        session.set_context(a.num("context", 0)?);
    }
    let user = a.get("user").unwrap_or("User").to_string();
    let style = match a.get("style") {
        Some(s) => PromptStyle::parse(s).ok_or(format!("--style {s}: expected auto, story, roleplay or transcript"))?,
        None => PromptStyle::Auto,
    };
    let mut opts = crate::generate_cmd::options(&a)?;
    opts.context_shift = !a.has("no-shift");
    if !a.has("max-tokens") {
        opts.max_tokens = kindred_engine::reply_settings::REPLY_TOKENS;
    }
    let kept = a.get("resume").map(Kept::new).transpose()?;
    let mut history: Vec<HistoryMessage> = match &kept {
        Some(k) => k.history()?,
        None => Vec::new(),
    };
    if history.is_empty() {
        let greeting = card.first_mes.replace("{{char}}", card.display_name()).replace("{{user}}", &user);
        if !greeting.trim().is_empty() {
            println!("{}: {}\n", card.display_name(), greeting.trim());
            history.push(HistoryMessage::char(card.first_mes.clone()));
        }
    } else {
        let last = history.last().map(|m| m.text.replace("{{char}}", card.display_name()).replace("{{user}}", &user)).unwrap_or_default();
        println!("[resumed: {} messages]\n{}: {}\n", history.len(), card.display_name(), last.trim());
    }
    if let Some(k) = &kept {
        k.restore(&mut session);
    }
    // Lines are read on their own thread, so the engine can read the prompt
    // ahead (on the command's pool) while the person types.
    let (tx, lines) = std::sync::mpsc::channel::<std::io::Result<String>>();
    std::thread::spawn(move || loop {
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line);
        let end = !matches!(read, Ok(n) if n > 0);
        if tx.send(read.map(|_| line)).is_err() || end {
            return;
        }
    });
    loop {
        print!("{user}: ");
        std::io::stdout().flush().ok();
        // The prompt as it stands, read as the app does while the person
        // types: the reply then reads only the new message's turn.
        let ahead = crate::turn::request(&card, &user, history.clone(), style, opts.sampler.seed);
        if let Err(e) = crate::turn::warm(&mut session, ahead, &opts) {
            eprintln!("[the prompt could not be read ahead: {e}]");
        }
        let line = lines.recv().map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
        if line.is_empty() {
            println!();
            return Ok(());
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        history.push(HistoryMessage::user(line));
        let req = crate::turn::request(&card, &user, history.clone(), style, opts.sampler.seed);
        // The reply streams raw; the finished one (turn discipline applied)
        // replaces it on the screen when they differ.
        print!("{}: ", card.display_name());
        let out = crate::turn::reply(&mut session, req, &opts, |piece| {
            print!("{piece}");
            std::io::stdout().flush().ok();
            true
        })?;
        if out.shown != out.raw.trim() {
            print!("\n[kept: {}]", out.shown);
        }
        println!("\n");
        history.push(HistoryMessage::char(out.shown));
        if let Some(k) = &kept {
            k.save(&history, &session)?;
        }
    }
}

/// A conversation kept in a folder between runs.
struct Kept {
    dir: std::path::PathBuf,
}

impl Kept {
    fn new(dir: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("--resume {dir}: {e}"))?;
        Ok(Kept { dir: dir.into() })
    }

    fn history(&self) -> Result<Vec<HistoryMessage>, String> {
        let path = self.dir.join("history.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Puts the kept prompt back in the cache; one that does not fit this
    /// model (or is damaged) is said and read again instead.
    fn restore(&self, session: &mut kindred_engine::Session) {
        let Ok(bytes) = std::fs::read(self.dir.join("prompt.kv")) else { return };
        match session.restore_prefix(&bytes) {
            Ok(n) => eprintln!("[restored {n} prompt tokens]"),
            Err(e) => eprintln!("[the kept prompt was not used ({e}); it is read again]"),
        }
    }

    /// Writes each file whole (a temporary file renamed over the old one),
    /// so a run stopped midway leaves the last good state.
    fn save(&self, history: &[HistoryMessage], session: &kindred_engine::Session) -> Result<(), String> {
        let history = serde_json::to_vec_pretty(history).map_err(|e| e.to_string())?;
        let prompt = session.save_prefix(session.cached_tokens().len());
        for (name, bytes) in [("history.json", history), ("prompt.kv", prompt)] {
            let (tmp, path) = (self.dir.join(format!("{name}.tmp")), self.dir.join(name));
            std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, &path)).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}
