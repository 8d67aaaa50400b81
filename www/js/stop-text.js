// What of a streamed reply may be shown: everything before the first stop string, minus a
// tail that could still grow into one (so "\nUs" never flashes up before "\nUser:").

export function visibleText(text, stops) {
  let cut = text.length;
  for (const stop of stops) {
    if (!stop) continue;
    const at = text.indexOf(stop);
    if (at >= 0 && at < cut) cut = at;
  }
  if (cut < text.length) return text.slice(0, cut);
  let hold = 0;
  for (const stop of stops) {
    for (let k = Math.min(stop.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(stop.slice(0, k))) {
        hold = k;
        break;
      }
    }
  }
  return text.slice(0, text.length - hold);
}

// The finished reply is cut by the Rust rule (finish_reply, crates/characters/src/reply.rs).
