// The "Speaking as" choice in a chat: which persona the user is in this chat. Stored on the
// chat record, so each chat keeps its own; chats that never chose follow the default.
export class ChatPersonaPicker {
  // deps: {select, controller, prefs()}
  constructor(deps) {
    this.d = deps;
    deps.select.addEventListener('change', async () => {
      try {
        await deps.controller.setPersona(deps.select.value);
      } catch (err) {
        deps.notify?.(`The persona could not be saved (${err.message}).`);
      }
    });
  }

  show() {
    const { select, controller } = this.d;
    const prefs = this.d.prefs();
    const current = controller.persona();
    select.replaceChildren(...prefs.personas.map((p) => {
      const option = document.createElement('option');
      option.value = p.id;
      option.textContent = p.name;
      return option;
    }));
    select.value = current.id ?? prefs.defaultPersona;
    // A single persona leaves nothing to choose.
    select.closest('label').hidden = prefs.personas.length < 2;
  }

  setBusy(on) {
    this.d.select.disabled = on;
  }
}
