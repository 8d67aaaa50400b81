// The "Adapter" choice in a chat: the character's trained LoRA adapter (the default), none, or
// another adapter kept on this device, for this chat's replies. Stored on the chat record
// (`adapter`: absent for the character's, null for none, {id, name, scale} for another), so each
// chat keeps its own. Shown once an adapter is on the device or the character has one.
import { listStoredModels } from './model-storage.js';
import { ADAPTER_KIND } from './model-store.js';

const CHARACTER = '';
const NONE = 'none';

// The adapter a chat's replies are written with: {id, name, scale} or null.
export function chatAdapter(character, chat) {
  if (chat && chat.adapter !== undefined) return chat.adapter;
  return character?.adapter ?? null;
}

export class ChatAdapterPicker {
  // deps: {select, controller, db, notify(text)}
  constructor(deps) {
    this.d = deps;
    this.stored = [];
    deps.select.addEventListener('change', () => this.changed());
  }

  async changed() {
    const value = this.d.select.value;
    const picked = this.stored.find((a) => a.id === value);
    const choice = value === CHARACTER ? undefined : value === NONE ? null : picked ? { id: picked.id, name: picked.name, scale: 1 } : undefined;
    try {
      await this.d.controller.setAdapter(choice);
    } catch (err) {
      this.d.notify?.(`The adapter choice could not be saved (${err.message}).`);
    }
  }

  async show() {
    const { select, controller } = this.d;
    const character = controller.character;
    try {
      this.stored = (await listStoredModels(this.d.db)).filter((m) => m.kind === ADAPTER_KIND && m.complete);
    } catch {
      this.stored = [];
    }
    const own = character?.adapter ?? null;
    const option = (value, text) => {
      const o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      return o;
    };
    select.replaceChildren(
      option(CHARACTER, own ? `The character's (${own.name})` : 'The character\'s (none)'),
      option(NONE, 'None'),
      ...this.stored.filter((a) => a.id !== own?.id).map((a) => option(a.id, a.name)),
    );
    const chosen = controller.chat?.adapter;
    select.value = chosen === undefined ? CHARACTER : chosen === null ? NONE : chosen.id;
    // A stored choice whose file was deleted: the character's again, as the reply will use.
    if (select.selectedIndex < 0) select.value = CHARACTER;
    select.closest('label').hidden = !own && !this.stored.length;
  }

  setBusy(on) {
    this.d.select.disabled = on;
  }
}
