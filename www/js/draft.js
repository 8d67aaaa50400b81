// The message a person is typing is read ahead with the chat's prompt, as if sent, once the
// typing pauses: Send then reads only what changed since (the engine keeps the longest prefix
// the two prompts share). Shared by the app's chats and the widget.

const PAUSE_MS = 400;

// Calls read(text) with the box's trimmed text once typing has paused, only when it changed;
// returns {changed(text), cancel()} (cancel on Send: the text goes out whole).
export function draftReader(read) {
  let timer = null;
  let last = '';
  return {
    changed(text) {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const draft = String(text).trim();
        if (draft === last) return;
        last = draft;
        read(draft);
      }, PAUSE_MS);
    },
    cancel() {
      clearTimeout(timer);
      last = '';
    },
  };
}
