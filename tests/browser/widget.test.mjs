// The <kindred-chat> widget on its example page: the character's greeting, a streamed reply
// (with Stop while it streams), a hostile card that runs nothing, a card from another host
// refused without a request, and the model shared with the app on the same site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, startServer, launchBrowser, screenshots, poll } from './harness.mjs';
import { waitForModel } from './chat-page.mjs';

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
const dialogs = [];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  browser.page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
}, { timeout: 120_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function wren() {
  const raw = JSON.parse(await readFile(join(REPO, 'www', 'characters', 'wren.json'), 'utf8'));
  return raw.data || raw;
}

// The widget's messages, read through its (open) shadow root.
function widgetMessages(page) {
  return page.evaluate(() => [...document.querySelector('kindred-chat').shadowRoot.querySelectorAll('li.message')]
    .map((li) => ({ role: li.dataset.role, status: li.dataset.status, text: li.querySelector('.text').dataset.source })));
}

test('the demo page shows the character\'s greeting and a reply streams', { timeout: 360_000 }, async () => {
  const { page } = browser;
  await page.goto(`${server.origin}/embed/demo.html`);
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

test('a hostile card shows its text and runs nothing; a card on another host is refused', { timeout: 120_000 }, async () => {
  const { page, context } = browser;
  await context.route(`${server.origin}/embed/hostile.json`, (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify(hostileCard()),
  }));
  await page.goto(`${server.origin}/embed/demo.html`);
  const widget = page.locator('kindred-chat');
  await widget.evaluate((el) => el.setAttribute('character', 'hostile.json'));
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

  await widget.evaluate((el) => el.setAttribute('character', 'https://cards.example/card.json'));
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
});
