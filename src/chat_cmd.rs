//! `kindred chat`: talk to a character card in the terminal.

use std::io::{BufRead, Write};

use kindred_characters::macros::{expand, MacroContext};
use kindred_engine::ChatMessage;

use crate::args::Args;

pub fn run(argv: &[String]) -> Result<(), String> {
    let a = Args::parse(argv, &[])?;
    let card_path = a.required("character")?;
    let bytes = std::fs::read(card_path).map_err(|e| format!("{card_path}: {e}"))?;
    let card = kindred_characters::read_any(&bytes).map_err(|e| format!("{card_path}: {e}"))?.card;
    let mut session = crate::load_session(a.required("model")?)?;
    let user = a.get("user").unwrap_or("User").to_string();
    let mut opts = crate::generate_cmd::options(&a)?;
    if !a.has("temperature") {
        opts.sampler.temperature = 0.8;
        opts.sampler.repeat_penalty = 1.1;
    }
    if !a.has("max-tokens") {
        opts.max_tokens = 200;
    }
    opts.stop.push(format!("\n{user}:"));
    let ctx = MacroContext { char_name: &card.name, user_name: &user, chat_seed: 1, seed: 1 };
    let system = [
        format!("You are {}. Stay in character and reply as {} only.", card.name, card.name),
        card.description.clone(),
        card.personality.clone(),
        if card.scenario.is_empty() { String::new() } else { format!("Scenario: {}", card.scenario) },
    ]
    .iter()
    .filter(|s| !s.trim().is_empty())
    .map(|s| expand(s, &ctx))
    .collect::<Vec<_>>()
    .join("\n\n");
    let mut history = vec![ChatMessage::new("system", &system)];
    let greeting = expand(&card.first_mes, &ctx);
    if !greeting.trim().is_empty() {
        println!("{}: {}\n", card.name, greeting.trim());
        history.push(ChatMessage::new("assistant", &greeting));
    }
    let stdin = std::io::stdin();
    loop {
        print!("{user}: ");
        std::io::stdout().flush().ok();
        let mut line = String::new();
        if stdin.lock().read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            println!();
            return Ok(());
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        history.push(ChatMessage::new("user", line));
        let prompt = session.render_chat(&history).map_err(|e| e.to_string())?;
        let ids = session.encode_prompt(&prompt).map_err(|e| e.to_string())?;
        print!("{}: ", card.name);
        let out = session
            .generate(&ids, opts.clone(), |piece| {
                print!("{piece}");
                std::io::stdout().flush().ok();
                true
            })
            .map_err(|e| e.to_string())?;
        println!("\n");
        history.push(ChatMessage::new("assistant", out.text.trim()));
    }
}
