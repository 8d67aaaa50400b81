// The live token count of a character's definition: what the prompt holds before any chat
// (system prompt, description, personality, scenario, examples, always-on lorebook entries,
// post-history instructions, template markup), assembled by the same Rust code as a real
// prompt. With the model loaded the worker counts with the model's own tokenizer; before
// that the page estimates, and says so.
import { el } from './editor-dom.js';

const WAIT_MS = 300;

// The prompt request for a definition alone: no history, no persona text, a wide context.
export function definitionRequest(card, userName) {
  return {
    card,
    persona: { name: userName || 'User', description: '' },
    history: [],
    lorebooks: [],
    settings: { context_tokens: 1 << 20, reply_reserve: 0 },
  };
}

// "1,234 tokens" and the parts worth naming.
export function describeCount(tokens) {
  const parts = [['description and personality', tokens.character], ['examples', tokens.examples],
    ['system prompt', tokens.system], ['lorebook', tokens.lore], ['post-history', tokens.post_history]]
    .filter(([, n]) => n > 0)
    .map(([label, n]) => `${label} ${n.toLocaleString('en')}`);
  return { total: tokens.total, parts };
}

export class TokenCounter {
  // deps: {tools, engine(), ready(), userName()}
  constructor(deps) {
    this.d = deps;
    this.timer = null;
    this.pending = null;
    this.card = null;
    this.root = el('p', 'ed-tokens');
    this.root.id = 'editor-tokens';
    this.value = el('strong', 'ed-tokens-total');
    this.kind = el('span', 'ed-tokens-kind');
    this.parts = el('span', 'ed-tokens-parts');
    this.root.append(el('span', '', 'Definition: '), this.value, ' ', this.kind, this.parts);
  }

  update(card) {
    this.card = card;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.count(), WAIT_MS);
  }

  dispose() {
    clearTimeout(this.timer);
    this.card = null;
    this.pending = null;
  }

  count() {
    if (!this.card) return;
    const request = definitionRequest(this.card, this.d.userName());
    const engine = this.d.engine();
    if (this.d.ready() && engine?.count) {
      this.pending = engine.count(request);
      this.root.dataset.state = 'counting';
      return;
    }
    try {
      const reply = JSON.parse(this.d.tools.assemble_prompt(JSON.stringify(request)));
      this.show(reply.tokens, false);
    } catch (err) {
      this.showError(err);
    }
  }

  show(tokens, exact) {
    const { total, parts } = describeCount(tokens);
    this.value.textContent = `${exact ? '' : '≈ '}${total.toLocaleString('en')} tokens`;
    this.kind.textContent = exact ? '(the model\'s tokenizer)'
      : this.d.ready() ? '(estimate: the engine was busy)' : '(estimate until the model has loaded)';
    this.parts.textContent = parts.length ? ` · ${parts.join(' · ')}` : '';
    this.root.dataset.state = exact ? 'exact' : 'estimate';
    this.root.dataset.total = String(total);
  }

  showError(err) {
    this.value.textContent = '—';
    this.kind.textContent = `(could not count: ${err?.message || err})`;
    this.parts.textContent = '';
    this.root.dataset.state = 'error';
  }

  // Worker messages: the count asked for, or a newly loaded model (count again, exactly).
  onEngine(msg) {
    if (msg.type === 'ready') this.update(this.card);
    if (msg.type !== 'count' || msg.id !== this.pending) return;
    this.pending = null;
    if (msg.tokens) this.show(msg.tokens, msg.exact !== false);
    else this.showError(new Error(msg.message || 'the engine did not answer'));
  }
}
