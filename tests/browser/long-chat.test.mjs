// A 10,000-message chat written straight into IndexedDB opens with only a window of its
// messages in the page; scrolling to the top shows message 1 and to the bottom the last one,
// the context-cut marker shows where it belongs, and the message tools still work on
// messages that came into the page by scrolling. Open time and frame timings are printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { poll, screenshots, VIEWPORTS } from './harness.mjs';
import { session } from './session.mjs';
import { seedChat } from './app-page.mjs';
import { firstStarter } from './chat-page.mjs';

const COUNT = 10_000;
const CHAT_ID = 'chat-long';

const it = session();

// Message i (1-based) says so, at varied lengths so heights differ.
const TEXTS = Array.from({ length: COUNT }, (_, k) => `Message ${k + 1}.${' More words to make this one longer.'.repeat((k + 1) % 7)}`);
const seed = (page, characterId) => seedChat(page, { chatId: CHAT_ID, characterId, title: 'Long chat', texts: TEXTS, chat: { cutUntil: COUNT - 10 } });

// The messages in the page, and which of them show inside the scroller.
function shown(page) {
  return page.evaluate(() => {
    const chat = document.getElementById('chat').getBoundingClientRect();
    const items = [...document.querySelectorAll('#messages > li.message')];
    const visible = items.filter((li) => {
      const r = li.getBoundingClientRect();
      return r.bottom > chat.top && r.top < chat.bottom;
    });
    return { count: items.length, visible: visible.map((li) => Number(li.dataset.id)) };
  });
}

async function scrollTo(page, where) {
  await page.evaluate((w) => {
    const s = document.getElementById('chat');
    s.scrollTop = w === 'top' ? 0 : s.scrollHeight;
  }, where);
}

// Scrolls through `steps` frames by `dy` pixels each (900 px a frame is a fling through
// thousands of messages), recording the time between frames.
function frameTimes(page, steps, dy) {
  return page.evaluate(({ n, d }) => new Promise((resolve) => {
    const s = document.getElementById('chat');
    const times = [];
    let last = performance.now();
    let left = n;
    const step = () => {
      const now = performance.now();
      times.push(now - last);
      last = now;
      if (left-- <= 0) { resolve(times.slice(1)); return; }
      s.scrollTop += d;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }), { n: steps, d: dy });
}

function describe(times) {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  return `frames: ${times.length}, median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`;
}

test('10,000 messages open as a window and scroll from the first to the last', { timeout: 240_000 }, async () => {
  const { page } = it.browser;
  await page.goto(`${it.server.origin}/`);
  await page.waitForFunction(() => document.body.dataset.appReady === 'true', null, { timeout: 60_000 });
  const starter = await firstStarter();
  await seed(page, starter.id);

  const t0 = Date.now();
  await page.evaluate((id) => { location.hash = `#/chat/${id}`; }, CHAT_ID);
  await page.waitForFunction(() => document.body.dataset.chatReady === 'true', null, { timeout: 120_000 });
  const openMs = Date.now() - t0;

  let s = await shown(page);
  assert.ok(s.count > 0 && s.count < 200, `only a window is in the page (${s.count} messages)`);
  assert.ok(s.visible.includes(COUNT), `the last message shows after opening (${s.visible.join(',')})`);
  assert.equal(await page.locator('#messages > li.cut-marker').count(), 1, 'the cut marker shows near the end');
  const markerAfter = await page.evaluate(() => Number(document.querySelector('#messages > li.cut-marker').previousElementSibling.dataset.id));
  assert.equal(markerAfter, COUNT - 10);

  await scrollTo(page, 'top');
  await poll(async () => (await shown(page)).visible.includes(1), { timeout: 10_000, message: 'message 1 to show' });
  s = await shown(page);
  assert.ok(s.count < 200, `still a window at the top (${s.count})`);
  const first = await page.locator('#messages > li.message').first();
  assert.equal(await first.getAttribute('data-id'), '1');
  assert.match(await first.locator('.text').getAttribute('data-source'), /^Message 1\./);

  // The tools work on a message that came in by scrolling: pin message 2 to memory.
  const second = page.locator('#messages > li.message[data-id="2"]');
  await second.getByRole('button', { name: 'Pin to memory' }).click();
  await page.getByRole('button', { name: 'Memory', exact: true }).click();
  const panel = page.getByRole('complementary', { name: 'Memory' });
  await panel.locator('#memory-pinned li', { hasText: 'Message 2.' }).waitFor({ timeout: 10_000 });
  await page.getByRole('button', { name: 'Close memory' }).click();
  // Keyboard: the focused tool stays in the page while the view scrolls a little.
  const edit = second.getByRole('button', { name: 'Edit' });
  await edit.focus();
  await page.evaluate(() => { document.getElementById('chat').scrollTop += 400; });
  await page.waitForTimeout(200);
  assert.equal(await page.evaluate(() => document.activeElement?.closest('li.message')?.dataset.id), '2');

  const downTimes = await frameTimes(page, 120, 900);
  s = await shown(page);
  assert.ok(s.count < 200, `still a window mid-way (${s.count})`);
  assert.ok(s.visible.length > 0 && s.visible.every((id) => id > 2), `messages further down show (${s.visible.join(',')})`);

  await scrollTo(page, 'bottom');
  await poll(async () => {
    await scrollTo(page, 'bottom');
    return (await shown(page)).visible.includes(COUNT);
  }, { timeout: 10_000, message: `message ${COUNT} to show` });
  const last = page.locator('#messages > li.message').last();
  assert.match(await last.locator('.text').getAttribute('data-source'), new RegExp(`^Message ${COUNT}\\.`));
  const upTimes = await frameTimes(page, 120, -900);
  const wheelTimes = await frameTimes(page, 120, -120);

  await scrollTo(page, 'bottom');
  await poll(async () => (await shown(page)).visible.includes(COUNT), { timeout: 10_000, message: 'the end again' });
  // A phone turned or a window narrowed: the view stays at the newest message.
  await page.setViewportSize(VIEWPORTS.phone);
  await poll(async () => (await shown(page)).visible.includes(COUNT), { timeout: 10_000, message: `message ${COUNT} after narrowing` });
  await page.setViewportSize(VIEWPORTS.desktop);
  await poll(async () => (await shown(page)).visible.includes(COUNT), { timeout: 10_000, message: `message ${COUNT} after widening` });
  await screenshots(page, 'long-chat');
  await scrollTo(page, 'top');
  await poll(async () => (await shown(page)).visible.includes(1), { timeout: 10_000, message: 'message 1 again' });
  await screenshots(page, 'long-chat-top');

  console.log(`long chat: ${COUNT} messages opened in ${openMs} ms`);
  console.log(`long chat: scrolling down ${describe(downTimes)}`);
  console.log(`long chat: scrolling up ${describe(upTimes)}`);
  console.log(`long chat: scrolling up at wheel speed (120 px a frame) ${describe(wheelTimes)}`);
  // Not a speed figure (those are printed above) but the line between a windowed list and a
  // page of 10,000 messages, whose every frame takes seconds: the typical frame while
  // scrolling stays within a few display frames even on a busy machine.
  for (const [what, times] of [['down', downTimes], ['up', upTimes], ['wheel', wheelTimes]]) {
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    assert.ok(median < 100, `scrolling ${what}: median frame ${median.toFixed(1)} ms`);
  }
  assert.deepEqual(it.browser.pageErrors, []);
});
