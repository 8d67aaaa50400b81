// A small Markdown subset for replies and card text, built as DOM nodes with createElement
// and textContent only: nothing is ever parsed as HTML, so markup in a message shows as the
// text it is. Links get an href only for absolute http(s) addresses; images are never
// loaded (their description is shown instead).
//
// parse() is pure (run in Node by the tests); render() builds the nodes.

const MAX_DEPTH = 6;
const MAX_BLOCKS = 2000;

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)\s*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const BULLET = /^ {0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;

export function parse(text, depth = 0) {
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length && blocks.length < MAX_BLOCKS) {
    const line = lines[i];
    if (!line.trim()) { i += 1; continue; }
    const fence = line.match(FENCE);
    if (fence) {
      const body = [];
      i += 1;
      // An unclosed fence (a reply still streaming) runs to the end.
      while (i < lines.length && !(lines[i].trim().startsWith(fence[1][0].repeat(fence[1].length)) && lines[i].trim().replace(/[`~]/g, '') === '')) {
        body.push(lines[i]);
        i += 1;
      }
      i += 1;
      blocks.push({ type: 'code', lang: fence[2], text: body.join('\n') });
      continue;
    }
    if (QUOTE.test(line) && depth < MAX_DEPTH) {
      const body = [];
      while (i < lines.length && QUOTE.test(lines[i])) {
        body.push(lines[i].match(QUOTE)[1]);
        i += 1;
      }
      blocks.push({ type: 'quote', blocks: parse(body.join('\n'), depth + 1) });
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ type: 'hr' });
      i += 1;
      continue;
    }
    const heading = line.match(HEADING);
    if (heading) {
      blocks.push({ type: 'heading', level: heading[1].length, inlines: inline(heading[2], depth) });
      i += 1;
      continue;
    }
    const list = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : null;
    if (list) {
      const items = [];
      const start = list === NUMBERED ? Number(line.match(NUMBERED)[1]) : 1;
      while (i < lines.length && list.test(lines[i])) {
        const m = lines[i].match(list);
        items.push(inline(list === NUMBERED ? m[2] : m[1], depth));
        i += 1;
      }
      blocks.push(list === NUMBERED ? { type: 'ol', start, items } : { type: 'ul', items });
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !startsBlock(lines[i])) {
      para.push(lines[i]);
      i += 1;
    }
    if (para.length === 0) { para.push(line); i += 1; }
    blocks.push({ type: 'p', inlines: inline(para.join('\n'), depth) });
  }
  return blocks;
}

function startsBlock(line) {
  return FENCE.test(line) || QUOTE.test(line) || BULLET.test(line) || NUMBERED.test(line) ||
    HEADING.test(line) || RULE.test(line);
}

const INLINE = new RegExp([
  '`([^`\\n]+)`',                                          // 1 code
  '!\\[([^\\]\\n]*)\\]\\(([^()\\s]*)(?:\\s+"[^"\\n]*")?\\)', // 2,3 image
  '\\[([^\\]\\n]+)\\]\\(([^()\\s]*)(?:\\s+"[^"\\n]*")?\\)',  // 4,5 link
  '\\*\\*(?=\\S)([^\\n]*?\\S)\\*\\*',                      // 6 strong
  '__(?=\\S)([^\\n]*?\\S)__',                              // 7 strong
  '~~(?=\\S)([^\\n]*?\\S)~~',                              // 8 strikethrough
  '\\*(?=[^\\s*])([^*\\n]*?[^\\s*]|[^\\s*])\\*',           // 9 emphasis
  '(?<![\\p{L}\\p{N}_])_(?=[^\\s_])([^_\\n]*?[^\\s_]|[^\\s_])_(?![\\p{L}\\p{N}_])', // 10 emphasis
  '\\n',
].join('|'), 'gu');

export function inline(text, depth = 0) {
  const out = [];
  const push = (node) => {
    const last = out[out.length - 1];
    if (node.type === 'text' && last?.type === 'text') last.text += node.text;
    else out.push(node);
  };
  if (depth > MAX_DEPTH) return [{ type: 'text', text }];
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) push({ type: 'text', text: text.slice(last, m.index) });
    last = m.index + m[0].length;
    const inner = (s) => inline(s, depth + 1);
    if (m[1] !== undefined) push({ type: 'code', text: m[1] });
    else if (m[2] !== undefined) push({ type: 'image', alt: m[2] });
    else if (m[4] !== undefined) push({ type: 'link', href: safeHref(m[5]), children: inner(m[4]) });
    else if (m[6] !== undefined || m[7] !== undefined) push({ type: 'strong', children: inner(m[6] ?? m[7]) });
    else if (m[8] !== undefined) push({ type: 'del', children: inner(m[8]) });
    else if (m[9] !== undefined || m[10] !== undefined) push({ type: 'em', children: inner(m[9] ?? m[10]) });
    else push({ type: 'br' });
  }
  if (last < text.length) push({ type: 'text', text: text.slice(last) });
  return out;
}

// Only absolute http(s) addresses become links; anything else (javascript:, data:,
// relative paths) stays text.
export function safeHref(raw) {
  try {
    const url = new URL(String(raw));
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

// Plain text of parsed blocks: what a screen reader or a copy would get.
export function plainText(blocks) {
  const inl = (nodes) => nodes.map((n) => {
    if (n.type === 'text' || n.type === 'code') return n.text;
    if (n.type === 'br') return '\n';
    if (n.type === 'image') return n.alt ? `[${n.alt}]` : '';
    return inl(n.children);
  }).join('');
  return blocks.map((b) => {
    if (b.type === 'p' || b.type === 'heading') return inl(b.inlines);
    if (b.type === 'code') return b.text;
    if (b.type === 'quote') return plainText(b.blocks);
    if (b.type === 'ul' || b.type === 'ol') return b.items.map(inl).join('\n');
    return '';
  }).join('\n\n');
}

export function render(target, text) {
  const doc = target.ownerDocument;
  target.replaceChildren(...parse(text).map((b) => block(doc, b)));
}

function el(doc, tag, className) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  return node;
}

function block(doc, b) {
  switch (b.type) {
    case 'code': {
      const pre = el(doc, 'pre', 'md-code');
      const code = el(doc, 'code');
      code.textContent = b.text;
      pre.append(code);
      return pre;
    }
    case 'quote': {
      const q = el(doc, 'blockquote');
      q.append(...b.blocks.map((c) => block(doc, c)));
      return q;
    }
    case 'hr':
      return el(doc, 'hr');
    case 'heading': {
      const p = el(doc, 'p', `md-heading md-h${b.level}`);
      const strong = el(doc, 'strong');
      strong.append(...b.inlines.map((n) => inlineNode(doc, n)));
      p.append(strong);
      return p;
    }
    case 'ul':
    case 'ol': {
      const list = el(doc, b.type);
      if (b.type === 'ol' && b.start !== 1) list.start = b.start;
      for (const item of b.items) {
        const li = el(doc, 'li');
        li.append(...item.map((n) => inlineNode(doc, n)));
        list.append(li);
      }
      return list;
    }
    default: {
      const p = el(doc, 'p');
      p.append(...b.inlines.map((n) => inlineNode(doc, n)));
      return p;
    }
  }
}

function inlineNode(doc, n) {
  switch (n.type) {
    case 'text':
      return doc.createTextNode(n.text);
    case 'br':
      return el(doc, 'br');
    case 'code': {
      const code = el(doc, 'code');
      code.textContent = n.text;
      return code;
    }
    case 'image': {
      // Never fetched: a stranger's image address could track the reader.
      const span = el(doc, 'span', 'md-image');
      span.textContent = n.alt ? `[image: ${n.alt}]` : '[image]';
      return span;
    }
    case 'link': {
      if (!n.href) {
        const span = el(doc, 'span', 'md-link-text');
        span.append(...n.children.map((c) => inlineNode(doc, c)));
        return span;
      }
      const a = el(doc, 'a');
      a.href = n.href;
      a.rel = 'noopener noreferrer';
      a.target = '_blank';
      a.append(...n.children.map((c) => inlineNode(doc, c)));
      return a;
    }
    default: {
      const tag = n.type === 'strong' ? 'strong' : n.type === 'del' ? 'del' : 'em';
      const node = el(doc, tag);
      node.append(...n.children.map((c) => inlineNode(doc, c)));
      return node;
    }
  }
}
