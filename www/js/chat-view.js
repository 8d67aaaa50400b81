// Renders the conversation. Every piece of card or model text goes in through textContent:
// nothing here parses HTML.

const STATUS_NOTES = {
  stopped: 'Stopped',
  interrupted: 'Interrupted',
  error: 'Failed',
};

// Roleplay text marks actions as *like this*; they are set in italics. The asterisks stay in
// the DOM (hidden by CSS) so the element's text is always exactly the message's text, even
// while an action is still half-streamed.
export function renderText(element, value) {
  const nodes = [];
  let last = 0;
  for (const match of value.matchAll(/\*([^*\n]+)\*/g)) {
    if (match.index > last) nodes.push(document.createTextNode(value.slice(last, match.index)));
    const em = document.createElement('em');
    em.className = 'action';
    const open = document.createElement('span');
    open.className = 'mark';
    open.textContent = '*';
    em.append(open, document.createTextNode(match[1]), open.cloneNode(true));
    nodes.push(em);
    last = match.index + match[0].length;
  }
  if (last < value.length) nodes.push(document.createTextNode(value.slice(last)));
  element.replaceChildren(...nodes);
}

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
        renderText(text, value);
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
