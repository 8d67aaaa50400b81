// Renders the conversation. Every piece of card or model text goes in through textContent:
// nothing here parses HTML.

const STATUS_NOTES = {
  stopped: 'Stopped',
  interrupted: 'Interrupted',
  error: 'Failed',
};

export function avatarElement(character, className) {
  if (character.avatar) {
    const img = document.createElement('img');
    img.className = className;
    img.src = character.avatar;
    img.alt = '';
    img.decoding = 'async';
    return img;
  }
  const span = document.createElement('span');
  span.className = `${className} monogram`;
  span.setAttribute('aria-hidden', 'true');
  span.textContent = character.name.slice(0, 1).toUpperCase();
  return span;
}

export class ChatView {
  constructor({ list, scroller, typing, announcer }, character) {
    this.list = list;
    this.scroller = scroller;
    this.typing = typing;
    this.announcer = announcer;
    this.character = character;
  }

  clear() {
    this.list.replaceChildren();
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  // Returns a handle to update the message while it streams.
  add({ role, content, status }) {
    const item = document.createElement('li');
    item.className = 'message';
    item.dataset.role = role;
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    const author = document.createElement('p');
    author.className = 'author';
    author.textContent = role === 'assistant' ? this.character.name : 'You';
    const text = document.createElement('p');
    text.className = 'text';
    const note = document.createElement('p');
    note.className = 'note';
    bubble.append(author, text, note);
    if (role === 'assistant') item.append(avatarElement(this.character, 'avatar avatar-small'));
    item.append(bubble);
    const stick = this.nearBottom();
    this.list.append(item);
    const handle = {
      element: item,
      setText: (value) => {
        const follow = this.nearBottom();
        text.textContent = value;
        item.classList.toggle('empty', value === '');
        if (follow) this.scrollToEnd();
      },
      setStatus: (value, detail = '') => {
        item.dataset.status = value;
        note.textContent = detail || STATUS_NOTES[value] || '';
      },
    };
    handle.setText(content);
    handle.setStatus(status || 'done');
    if (stick || role === 'user') this.scrollToEnd();
    return handle;
  }

  showTyping(on) {
    this.typing.hidden = !on;
    if (on && this.nearBottom()) this.scrollToEnd();
  }

  announce(message) {
    // Clearing first makes screen readers announce a repeat of the same text too.
    this.announcer.textContent = '';
    setTimeout(() => { this.announcer.textContent = message; }, 50);
  }
}
