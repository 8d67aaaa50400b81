// The <kindred-chat> widget on its example page: the character's greeting, a streamed reply
// (with Stop while it streams), the chat kept over a reload (one chat a card, a streaming
// reply saved as it grows, "New chat" back to the greeting), a hostile card that runs nothing,
// a card from another host refused without a request, the model shared with the app on
// the same site, whose "Delete everything" deletes the widget's chats too, and the README's
// snippet (kindred-widget.js with card= and model=).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel, manifestModel } from './chat-page.mjs';
import { readStores } from './app-page.mjs';
import { allowEngineCut, ENGINE_CUT } from './engine-cut.mjs';

const PAYLOADS = [
  '<img src=x onerror="alert(1)">',
  '<script>alert(2)</script>',
  '<a href="javascript:alert(3)">click</a>',
  '[markdown link](javascript:alert(4))',
  '![tracker](https://tracker.example/pixel.png)',
  '<iframe src="https://evil.example/"></iframe>',
  '<svg onload=alert(5)>',
  '[site](https://evil.example/page)',
].join(' ');
const HOSTILE_NAME = 'Mallory <b>bold</b><script>alert(6)</script>';

function hostileCard() {
  const data = { name: HOSTILE_NAME, tags: ['<img src=x onerror=alert(7)>'] };
  for (const f of ['description', 'personality', 'scenario', 'mes_example', 'creator_notes', 'system_prompt']) {
    data[f] = `${f}: ${PAYLOADS}`;
  }
  data.first_mes = `first_mes: ${PAYLOADS}`;
  return { spec: 'chara_card_v2', spec_version: '2.0', data };
}

let server;
let browser;
let replied = false;
let kept = false;
const dialogs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  browser.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await allowEngineCut(browser.page);
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function wren() {
  const raw = JSON.parse(await readFile(join(REPO, 'www', 'characters', 'wren.json'), 'utf8'));
  return raw.data || raw;
}

async function greetingOf(file) {
  const raw = JSON.parse(await readFile(join(REPO, 'www', 'characters', file), 'utf8'));
  const card = raw.data || raw;
  return card.first_mes.replace(/\{\{\s*char\s*\}\}/gi, card.name).replace(/\{\{\s*user\s*\}\}/gi, 'User').trim();
}

// The messages of the page's first widget (or the one matching `selector`), read through its
// (open) shadow root.
function widgetMessages(page, selector = 'kindred-chat') {
  return page.evaluate((sel) => [...(document.querySelector(sel)?.shadowRoot.querySelectorAll('li.message') || [])]
    .map((li) => ({ role: li.dataset.role, status: li.dataset.status, text: li.querySelector('.text').dataset.source })), selector);
}

// The widget chats saved in the site's database, by card address.
async function savedWidgetChats(page) {
  const { settings = [] } = await readStores(page, ['settings']);
  return Object.fromEntries(settings.filter((r) => r.key.startsWith('widget-chat:')).map((r) => [r.key.slice('widget-chat:'.length), r.value.messages]));
}

// A second widget, with another starter, added to the demo page (which has one).
function addTheo(page, attributes = {}) {
  return page.evaluate((attrs) => {
    const el = document.createElement('kindred-chat');
    el.id = 'theo';
    el.setAttribute('character', '../characters/theo.json');
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    document.querySelector('main').append(el);
  }, attributes);
}

test('the demo page shows the character\'s greeting and a reply streams', { timeout: 360_000 }, async () => {
  const { page } = browser;
  // A token every 30 ms at least: the scripted model's reply is seen growing.
  await page.goto(`${server.origin}/embed/demo.html?step_ms=30`);
  const widget = page.locator('kindred-chat');
  await page.waitForFunction(() => document.querySelector('kindred-chat')?.dataset.modelState === 'ready', null, { timeout: 240_000 });

  const card = await wren();
  assert.equal(await widget.getByRole('heading', { level: 2 }).textContent(), card.name);
  const greeting = card.first_mes.replace(/\{\{\s*char\s*\}\}/gi, card.name).replace(/\{\{\s*user\s*\}\}/gi, 'User').trim();
  assert.deepEqual(await widgetMessages(page), [{ role: 'assistant', status: 'greeting', text: greeting }]);
  assert.match(await widget.getByRole('status').first().textContent(), /Ready/);
  await screenshots(page, 'widget-demo');

  // Short, seeded replies: decoding on a shared CPU is slow.
  await widget.evaluate((el) => { el.setAttribute('max-tokens', '16'); el.setAttribute('seed', '7'); });
  const box = widget.getByRole('textbox', { name: 'Message' });
  await box.fill('Hello Wren, what tea do you have today?');
  const stop = widget.getByRole('button', { name: 'Stop' });
  assert.equal(await stop.isDisabled(), true, 'Stop is off before a reply');
  await box.press('Enter');
  const lengths = [];
  let stopEnabled = false;
  await poll(async () => {
    const s = await page.evaluate(() => {
      const el = document.querySelector('kindred-chat');
      const items = el.shadowRoot.querySelectorAll('li.message');
      const last = items[items.length - 1];
      return {
        count: items.length,
        text: last?.querySelector('.text').dataset.source || '',
        generating: el.dataset.generating === 'true',
        stop: !el.shadowRoot.querySelector('.stop').disabled,
      };
    });
    if (s.count === 3 && s.text.length && lengths[lengths.length - 1] !== s.text.length) lengths.push(s.text.length);
    stopEnabled ||= s.stop;
    return s.count === 3 && !s.generating;
  }, { timeout: 240_000, interval: 25, message: 'the widget\'s reply to finish' });
  const shown = await widgetMessages(page);
  assert.deepEqual(shown[1], { role: 'user', status: 'done', text: 'Hello Wren, what tea do you have today?' });
  assert.equal(shown[2].role, 'assistant');
  assert.equal(shown[2].status, 'done');
  assert.ok(shown[2].text.length > 0, 'the reply has text');
  assert.ok(lengths.length >= 2, `the reply grew across several lengths, saw ${JSON.stringify(lengths)}`);
  assert.ok(stopEnabled, 'Stop was on while the reply streamed');
  await poll(() => widget.evaluate((el, text) => el.shadowRoot.querySelector('[aria-live="polite"]').textContent.endsWith(text), shown[2].text),
    { timeout: 5000, message: 'the reply to be announced' });
  assert.equal(await box.inputValue(), '', 'the box was cleared');
  await screenshots(page, 'widget-reply');
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshots(page, 'widget-reply-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  assert.deepEqual(browser.pageErrors, []);
  replied = true;
});

test('the chat is kept over a reload, one chat a card; New chat goes back to the greeting', { timeout: 360_000 }, async (t) => {
  if (!replied) return t.skip('needs the demo test');
  const { page } = browser;
  const wrenUrl = `${server.origin}/characters/wren.json`;
  const theoUrl = `${server.origin}/characters/theo.json`;
  const shown = await widgetMessages(page);
  assert.equal(shown.length, 3);
  const saved = await savedWidgetChats(page);
  assert.deepEqual(Object.keys(saved), [wrenUrl], 'one saved chat, under the card\'s address');
  assert.deepEqual(saved[wrenUrl].map((m) => [m.role, m.status]), [['assistant', 'greeting'], ['user', 'done'], ['assistant', 'done']]);
  assert.equal(saved[wrenUrl][2].text, shown[2].text);
  const { chats, messages } = await readStores(page, ['chats', 'messages']);
  assert.deepEqual([chats, messages], [[], []], 'nothing in the app\'s chats: the library and recent chats never list it');

  await page.reload();
  await poll(async () => (await widgetMessages(page)).length === 3, { timeout: 30_000, message: 'the chat restored after a reload' });
  assert.deepEqual(await widgetMessages(page), shown, 'the same messages after a reload');
  const widget = page.locator('kindred-chat').first();
  const newChat = widget.getByRole('button', { name: 'New chat' });
  assert.equal(await newChat.isEnabled(), true);
  await page.waitForFunction(() => document.querySelector('kindred-chat')?.dataset.modelState === 'ready', null, { timeout: 120_000 });
  await screenshots(page, 'widget-restored');

  // Another card beside it: its own greeting, Wren's chat untouched. A long reply, cut off
  // from the engine while it streams (the tab "closed" at that instant): it is saved as it
  // grows, and a reload keeps what was written.
  await addTheo(page, { 'max-tokens': '400', seed: '3' });
  const theoGreeting = await greetingOf('theo.json');
  await poll(async () => (await widgetMessages(page, '#theo')).length === 1, { timeout: 30_000, message: 'the second widget\'s greeting' });
  assert.deepEqual(await widgetMessages(page, '#theo'), [{ role: 'assistant', status: 'greeting', text: theoGreeting }]);
  assert.equal(await page.locator('#theo').getByRole('button', { name: 'New chat' }).isVisible(), false, 'nothing to clear yet');
  const theoBox = page.locator('#theo').getByRole('textbox', { name: 'Message' });
  await theoBox.fill('Could you explain, step by step and in detail, how photosynthesis works?');
  await theoBox.press('Enter');
  const shownAtCut = await poll(() => page.evaluate((flag) => {
    const li = [...document.querySelector('#theo').shadowRoot.querySelectorAll('li.message')][2];
    const text = li?.querySelector('.text').dataset.source ?? '';
    if (li?.dataset.status !== 'streaming' && li) throw new Error(`the reply ended before it was cut off: ${JSON.stringify(text)}`);
    if (!text) return null;
    window[flag] = true;
    return text;
  }, ENGINE_CUT), { timeout: 240_000, interval: 25, message: 'a reply streaming' });
  const partial = await poll(async () => {
    const chat = (await savedWidgetChats(page))[theoUrl];
    const last = chat?.[chat.length - 1];
    return last?.status === 'streaming' && last.text.length > 0 ? chat : null;
  }, { timeout: 10_000, interval: 100, message: 'the streaming reply saved as it grew' });
  assert.deepEqual(partial.slice(0, 2).map((m) => [m.role, m.status]), [['assistant', 'greeting'], ['user', 'done']]);
  assert.ok(shownAtCut.startsWith(partial[2].text), 'what was saved is what was shown');
  assert.equal((await widgetMessages(page, '#theo'))[2].text, shownAtCut, 'nothing from the engine reaches the page after the cut');
  assert.equal((await widgetMessages(page, '#theo'))[2].status, 'streaming', 'still streaming when the page is reloaded');
  assert.deepEqual(await widgetMessages(page), shown, 'Wren\'s chat is her own');

  await page.reload();
  await poll(async () => (await widgetMessages(page)).length === 3, { timeout: 30_000, message: 'Wren\'s chat after the reload' });
  assert.deepEqual(await widgetMessages(page), shown);
  await addTheo(page);
  await poll(async () => (await widgetMessages(page, '#theo')).length === 3, { timeout: 30_000, message: 'the second widget\'s chat after the reload' });
  const theo = await widgetMessages(page, '#theo');
  assert.equal(theo[1].text, 'Could you explain, step by step and in detail, how photosynthesis works?');
  assert.equal(theo[2].status, 'interrupted', 'a reply cut off by the reload says so');
  assert.ok(theo[2].text.startsWith(partial[2].text) && theo[2].text.length > 0, 'the reply keeps what was saved of it');
  assert.equal(await page.locator('#theo li.message[data-status="interrupted"] .note').textContent(), 'Interrupted');

  // New chat: Wren back to her greeting alone, saved so; Theo's chat stays.
  await newChat.click();
  assert.deepEqual(await widgetMessages(page), [shown[0]], 'only the greeting');
  assert.equal(await widget.evaluate((el) => el.shadowRoot.activeElement?.getAttribute('aria-label')), 'Message', 'focus moves to the message box');
  await poll(async () => !(wrenUrl in await savedWidgetChats(page)), { timeout: 5000, message: 'Wren\'s saved chat removed' });
  assert.equal((await savedWidgetChats(page))[theoUrl].length, 3, 'Theo\'s saved chat stays');
  await page.reload();
  await poll(async () => (await widgetMessages(page)).length === 1, { timeout: 30_000, message: 'the greeting after a reload' });
  assert.deepEqual(await widgetMessages(page), [shown[0]], 'still only the greeting after a reload');
  assert.deepEqual(browser.pageErrors, []);
  kept = true;
});

test('a hostile card shows its text and runs nothing; a card on another host is refused', { timeout: 120_000 }, async () => {
  const { page, context } = browser;
  await context.route(`${server.origin}/embed/hostile.json`, (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify(hostileCard()),
  }));
  await page.goto(`${server.origin}/embed/demo.html`);
  const widget = page.locator('kindred-chat');
  await widget.evaluate((el) => el.setAttribute('card', 'hostile.json'));
  await poll(async () => (await widgetMessages(page))[0]?.text === `first_mes: ${PAYLOADS}`, { timeout: 30_000, message: 'the hostile greeting' });
  assert.equal(await widget.getByRole('heading', { level: 2 }).textContent(), HOSTILE_NAME);
  const text = await widget.locator('li.message .text').first().textContent();
  assert.ok(text.includes('<img src=x onerror="alert(1)">'), 'HTML shows as text');
  assert.ok(text.includes('<script>alert(2)</script>'));
  assert.ok(text.includes('[image: tracker]'), 'an image shows its description, not the image');
  const found = await widget.evaluate((el) => {
    const all = [...el.shadowRoot.querySelectorAll('*')];
    return {
      active: all.filter((n) => ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'svg'].includes(n.tagName)).map((n) => n.tagName),
      handlers: all.flatMap((n) => [...n.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${n.tagName}[${a.name}]`)),
      images: all.filter((n) => n.tagName === 'IMG').map((n) => new URL(n.src).pathname),
      links: [...el.shadowRoot.querySelectorAll('a')].map((a) => ({ href: a.href, rel: a.rel })),
    };
  });
  assert.deepEqual(found.active, []);
  assert.deepEqual(found.handlers, []);
  assert.deepEqual(found.images, ['/characters/wren.svg'], 'the only image is the avatar from the page');
  assert.deepEqual(found.links, [{ href: 'https://evil.example/page', rel: 'noopener noreferrer' }]);
  assert.equal(await page.locator('script').count(), 1, 'the page still has only its own script');
  await screenshots(page, 'widget-hostile');

  await widget.evaluate((el) => el.setAttribute('card', 'https://cards.example/card.json'));
  const alert = widget.getByRole('alert');
  await alert.waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await alert.textContent(), 'The character card must be on this site.');
  assert.equal(await widget.getByRole('heading', { level: 2 }).textContent(), 'Character unavailable');
  assert.equal(await widget.getByRole('button', { name: 'Send' }).isDisabled(), true);
  assert.deepEqual(dialogs, [], 'no dialog opened');
  assert.deepEqual(browser.requests.filter((u) => new URL(u).origin !== server.origin), [], 'nothing left the site');
  assert.deepEqual(browser.pageErrors, []);
});

test('the app on the same site uses the model the widget stored', { timeout: 240_000 }, async (t) => {
  if (!replied) return t.skip('needs the demo test');
  const { page } = browser;
  const before = browser.requests.length;
  await page.goto(`${server.origin}/`);
  const loaded = await waitForModel(page);
  assert.equal(loaded.state, 'ready', loaded.error);
  assert.equal(loaded.source, 'cache');
  assert.deepEqual(browser.requests.slice(before).filter((u) => u.endsWith('.gguf')), [], 'no second download');
  const csp = browser.consoleErrors.filter((text) => /Content Security Policy/i.test(text));
  assert.deepEqual(csp, [], 'nothing broke the pages\' Content-Security-Policy');

  // The app's "Delete everything" deletes the widget's chats with the rest.
  if (!kept) return;
  assert.ok(`${server.origin}/characters/theo.json` in await savedWidgetChats(page), 'a widget chat is saved before');
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Delete everything' }).click();
  await page.getByLabel('Type DELETE to confirm').fill('DELETE');
  await page.getByRole('button', { name: 'Delete everything' }).click();
  await page.waitForFunction(() => /^Everything was deleted/.test(document.getElementById('data-status').textContent));
  assert.deepEqual(await savedWidgetChats(page), {}, 'no widget chat left');
  await page.goto(`${server.origin}/embed/demo.html`);
  await addTheo(page);
  await poll(async () => (await widgetMessages(page, '#theo')).length === 1, { timeout: 30_000, message: 'the second widget\'s greeting' });
  assert.deepEqual(await widgetMessages(page, '#theo'), [{ role: 'assistant', status: 'greeting', text: await greetingOf('theo.json') }]);
});

// The two lines the README gives site owners, on a page of the site with no widget yet.
async function snippetPage(page, attributes) {
  await page.goto(`${server.origin}/characters/index.json`);
  await page.evaluate(async (attrs) => {
    await import('/embed/kindred-widget.js');
    document.body.replaceChildren();
    const el = document.createElement('kindred-chat');
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    el.style.display = 'block';
    el.style.height = '520px';
    document.body.append(el);
  }, attributes);
}

test('the README snippet: kindred-widget.js, card= and model=', { timeout: 360_000 }, async (t) => {
  if (!replied) return t.skip('needs the demo test (the stored model)');
  const { page } = browser;
  // model= decides what loads: a file that is not there fails, and says so.
  await snippetPage(page, { card: '/characters/juni.json', model: '/models/not-there.gguf' });
  await page.waitForFunction(() => document.querySelector('kindred-chat')?.dataset.modelState === 'failed', null, { timeout: 60_000 });
  const status = await page.evaluate(() => document.querySelector('kindred-chat').shadowRoot.querySelector('[role="status"]')?.textContent || '');
  assert.match(status, /could not start/i);
  assert.ok(browser.requests.some((u) => u.endsWith('/models/not-there.gguf')), 'the named file was asked for');

  // Naming the site's default model reuses the copy stored for the app and the demo: no download.
  const before = browser.requests.length;
  const { file } = await manifestModel(server.origin);
  await snippetPage(page, { card: '/characters/juni.json', model: `/models/${file}`, 'max-tokens': '8', seed: '3' });
  await page.waitForFunction(() => document.querySelector('kindred-chat')?.dataset.modelState === 'ready', null, { timeout: 240_000 });
  assert.deepEqual(browser.requests.slice(before).filter((u) => u.endsWith('.gguf')), [], 'read from the shared cache');
  assert.deepEqual(await widgetMessages(page), [{ role: 'assistant', status: 'greeting', text: await greetingOf('juni.json') }]);
  const box = page.locator('kindred-chat').getByRole('textbox', { name: 'Message' });
  await box.fill('Hi Juni!');
  await box.press('Enter');
  await poll(async () => {
    const m = await widgetMessages(page);
    return m.length === 3 && m[2].status === 'done' && m[2].text.length > 0;
  }, { timeout: 240_000, message: 'a reply from the snippet\'s widget' });
  await screenshots(page, 'widget-snippet');
  assert.deepEqual(browser.pageErrors, []);
});
