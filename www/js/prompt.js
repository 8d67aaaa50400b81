// Turns a character card and the chat so far into the message list the engine renders with
// the model's chat template. Kept apart from everything else on purpose: the Rust prompt
// assembly (crates/characters) will take its place.

export const DEFAULT_USER_NAME = 'User';

// Card text uses {{char}} / {{user}} (and the older <BOT> / <USER>) for the two names.
export function substituteNames(text, charName, userName) {
  return String(text ?? '')
    .replace(/\{\{\s*char\s*\}\}|<BOT>/gi, charName)
    .replace(/\{\{\s*user\s*\}\}|<USER>/gi, userName);
}

export function systemText(character, userName = DEFAULT_USER_NAME) {
  const d = character.data;
  const name = character.name;
  const sub = (t) => substituteNames(t, name, userName).trim();
  const main = `Write ${name}'s next reply in a fictional chat between ${name} and ${userName}. ` +
    `Stay in character, keep replies short, and never write ${userName}'s lines.`;
  const custom = sub(d.system_prompt);
  const parts = [custom ? custom.replace(/\{\{\s*original\s*\}\}/gi, main) : main];
  if (sub(d.description)) parts.push(sub(d.description));
  if (sub(d.personality)) parts.push(`${name}'s personality: ${sub(d.personality)}`);
  if (sub(d.scenario)) parts.push(`Scenario: ${sub(d.scenario)}`);
  return parts.join('\n\n');
}

export function greetingText(character, userName = DEFAULT_USER_NAME) {
  return substituteNames(character.data.first_mes, character.name, userName).trim();
}

// Chat templates such as Gemma's insist that turns alternate and that the first turn after
// the system text is the user's; the greeting is the character's, so a short scene-setting
// user turn goes before it. Empty turns are dropped and neighbours of one role merged.
export function buildMessages(character, history, userName = DEFAULT_USER_NAME) {
  const turns = [
    { role: 'user', content: `(${userName} enters the conversation.)` },
    { role: 'assistant', content: greetingText(character, userName) },
  ];
  for (const m of history) {
    if (m.role === 'user' || m.role === 'assistant') turns.push({ role: m.role, content: m.content });
  }
  const merged = [];
  for (const t of turns) {
    const content = String(t.content ?? '').trim();
    if (!content) continue;
    const last = merged[merged.length - 1];
    if (last && last.role === t.role) last.content += `\n\n${content}`;
    else merged.push({ role: t.role, content });
  }
  return [{ role: 'system', content: systemText(character, userName) }, ...merged];
}

export function stopStrings(userName = DEFAULT_USER_NAME) {
  return [...new Set([`${userName}:`, `\n${userName}:`, '\nUser:'])];
}
