// The read-aloud controls: on/off and the default voice under Settings (saved with the
// settings form), a voice per character on the character's page (saved when picked), and
// what the chat asks for: a message read on request, each finished reply when reading aloud
// is on. Without voices every control is disabled and says why.
import { speechApi, voiceList, unavailableReason, voiceFor, speak, stopSpeaking, watchVoices } from './voice.js';
import { loadVoicePrefs, saveVoicePrefs, withCharacterVoice, checkVoicePrefs } from './voice-prefs.js';
import { getCharacter, displayName } from './character-store.js';
import { errorText } from './wasm.js';

const $ = (id) => document.getElementById(id);

function characterIdFromHash(hash = location.hash) {
  const m = /^#\/character\/(.+)$/.exec(hash);
  if (!m) return null;
  try { return decodeURIComponent(m[1]); } catch { return null; }
}

export class VoiceControls {
  // deps: {db}
  constructor(deps) {
    this.d = deps;
    this.api = speechApi();
    this.voices = voiceList(this.api);
    this.prefs = checkVoicePrefs(null);
    this.characterId = null;
    $('settings-form').addEventListener('submit', () => this.saveSettings());
    $('character-voice').addEventListener('change', () => this.saveCharacterVoice());
    $('character-voice-try').addEventListener('click', () => this.tryVoice());
    window.addEventListener('hashchange', () => this.showFor(location.hash));
    watchVoices(() => {
      this.voices = voiceList(this.api);
      this.refresh();
    }, this.api);
  }

  async init() {
    this.prefs = await loadVoicePrefs(this.d.db).catch(() => checkVoicePrefs(null));
    await this.showFor(location.hash);
  }

  get reason() {
    return unavailableReason(this.api, this.voices);
  }

  // Fills the controls of the view the address names from what is stored.
  async showFor(hash) {
    this.characterId = characterIdFromHash(hash);
    this.refresh();
  }

  refresh() {
    const reason = this.reason;
    for (const id of ['voice-reason', 'character-voice-reason']) {
      $(id).textContent = reason || '';
      $(id).hidden = !reason;
    }
    $('voice-enabled').checked = this.prefs.enabled;
    $('voice-enabled').disabled = Boolean(reason);
    this.fillSelect($('voice-default'), this.prefs.voice);
    this.fillSelect($('character-voice'), this.characterId ? this.prefs.characters[this.characterId] || '' : '');
    $('character-voice-try').disabled = Boolean(reason);
    $('character-voice-status').textContent = '';
  }

  fillSelect(select, chosen) {
    const first = select.options[0];
    const options = this.voices.map((v) => {
      const option = document.createElement('option');
      option.value = v.uri;
      option.textContent = v.lang ? `${v.name} (${v.lang})` : v.name;
      return option;
    });
    select.replaceChildren(first, ...options);
    select.value = this.voices.some((v) => v.uri === chosen) ? chosen : '';
    select.disabled = Boolean(this.reason);
  }

  async saveSettings() {
    if (this.reason) return;
    try {
      this.prefs = await saveVoicePrefs(this.d.db, {
        ...this.prefs, enabled: $('voice-enabled').checked, voice: $('voice-default').value,
      });
    } catch (err) {
      $('settings-saved').textContent = `Could not save the voice: ${errorText(err)}`;
    }
  }

  async saveCharacterVoice() {
    const id = this.characterId;
    if (!id || this.reason) return;
    try {
      this.prefs = await saveVoicePrefs(this.d.db, withCharacterVoice(this.prefs, id, $('character-voice').value));
      $('character-voice-status').textContent = 'Voice saved.';
    } catch (err) {
      $('character-voice-status').textContent = `Could not save the voice: ${errorText(err)}`;
    }
  }

  async tryVoice() {
    const id = this.characterId;
    if (!id || this.reason) return;
    const character = await getCharacter(this.d.db, id).catch(() => null);
    const uri = $('character-voice').value || voiceFor(this.prefs, '', this.voices);
    speak(`Hello, I am ${character ? displayName(character) : 'your character'}.`, uri, this.api);
  }

  // The chat's speak button: reads one message with its character's voice.
  speakMessage(character, text) {
    if (this.reason || !character) return;
    speak(text, voiceFor(this.prefs, character.id, this.voices), this.api);
  }

  // A reply just finished: read it when reading aloud is on.
  replyDone(character, text) {
    if (!this.prefs.enabled || !text) return;
    this.speakMessage(character, text);
  }

  stop() {
    stopSpeaking(this.api);
  }
}
