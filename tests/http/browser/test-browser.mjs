/* SPDX-License-Identifier: GPL-3.0-or-later */
// test-browser.mjs — medsched's pages in Debian's headless Chromium,
// driven by playwright-core (executablePath /usr/bin/chromium), checked
// with axe-core. TAP output.
//
// A clerk signs in, takes a case at intake (dispatched to court
// mediation), books it from the day board, moves it by dragging it to
// another free slot, opens the party's link, and axe-core reports no
// serious or critical violation on any page seen. Screenshots go to
// $SCREENSHOT_DIR (the build directory under meson).
//
// Environment: MEDSCHED (the executable), MEDSCHED_CALENDARS, SCREENSHOT_DIR.
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ok, finish, startServer, launchChromium, axeCheck, newCentre,
  smallCentre, openPage } from './lib.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const MEDSCHED = process.env.MEDSCHED;
const SHOTS = process.env.SCREENSHOT_DIR || tmpdir();
const NOW = '2026-12-07T08:00';

// a small centre: two warm rooms, a family room, a video room
const { dir, db, env, med } = newCentre('browser', NOW, smallCentre(),
    ['--address', '拉萨市城关区江苏路 1 号']);
med(['user', 'add', 'clerk', '--role', 'clerk', '--iterations', '1000'],
    'clerk-password\n');

const { server, base } = await startServer(MEDSCHED, db,
    ['--access-log', 'off'], env);

mkdirSync(SHOTS, { recursive: true });
const browser = await launchChromium(chromium);
const { page, errors } = await openPage(browser);

const axe = (name) => axeCheck(page, axeSource, name);

async function shot(name) {
  await page.screenshot({ path: path.join(SHOTS, `browser-${name}.png`),
    fullPage: true });
}

try {
  // sign in
  await page.goto(`${base}/`);
  ok(page.url().endsWith('/login'), 'anonymous / goes to the sign-in page');
  await axe('login');
  await shot('login');
  await page.getByLabel('用户名').fill('clerk');
  await page.getByLabel('密码').fill('clerk-password');
  await Promise.all([page.waitForURL(/\/board/),
    page.getByRole('button', { name: /登录/ }).click()]);
  ok(page.url().includes('/board'), 'the clerk lands on the day board');

  // intake
  await page.goto(`${base}/intake`);
  await page.getByLabel('案号').fill('(2026)藏0102民调88号');
  await page.locator('#kind').selectOption('wages');
  await page.locator('#department').selectOption('court-mediation');
  await page.locator('#summary').fill('农民工追讨欠薪');
  await page.locator('#p1-name').fill('次仁多吉');
  await page.locator('#p1-lang').selectOption('bo');
  await page.locator('#p1-contact').fill('13800000088');
  await page.locator('#p2-name').fill('拉萨某建筑公司');
  await axe('intake');
  await shot('intake');
  await Promise.all([page.waitForURL(/\/cases\/\d+/),
    page.getByRole('button', { name: /收案/ }).click()]);
  const caseUrl = page.url();
  const caseId = Number(/\/cases\/(\d+)/.exec(caseUrl)[1]);
  ok(caseId > 0, `intake made case ${caseId}`);
  ok(await page.locator('#case-status').getAttribute('data-status') ===
      'dispatched' && (await page.locator('#case-status').innerText()) === '已派单',
  'the case is dispatched');

  // the day board: book the case in the first free slot of room 1
  await page.goto(`${base}/board?date=2026-12-07`);
  await axe('board');
  await shot('board-empty');
  const free = page.locator('td.free[data-room="1"] a').first();
  await free.click();
  await page.waitForURL(/\/board\/book/);
  // which case, then the preview (who would take it), then book
  await page.locator('#case').selectOption(String(caseId));
  await axe('book-form');
  await Promise.all([page.waitForURL(/case=\d+/),
    page.getByRole('button', { name: /查看能否安排在此/ }).click()]);
  ok(await page.locator('#mediator').inputValue() === '1',
      'the preview proposes the mediator who can take it');
  await axe('book-preview');
  await Promise.all([page.waitForURL(/\/board\?.*booked=\d+/),
    page.getByRole('button', { name: /^预约$/ }).click()]);
  ok(page.url().includes('msg=booked'), 'booked from the day board');
  await page.goto(caseUrl);
  ok(await page.locator('#case-status').getAttribute('data-status') ===
      'scheduled' && (await page.locator('#case-status').innerText()) === '已排期',
  'the case is scheduled');
  await axe('case');
  await shot('case');

  // drag the session to a later free slot of the same room
  await page.goto(`${base}/board?date=2026-12-07`);
  const booked = page.locator('td.booked').first();
  ok(await booked.count() === 1, 'the board shows the session');
  await shot('board-booked');
  const target = page.locator('td.free[data-room="1"]').nth(8);
  const targetStart = await target.getAttribute('data-start');
  await booked.dragTo(target);
  await page.waitForLoadState('load');
  await page.waitForTimeout(500);
  const status = await page.locator('#board-status').innerText().catch(
      () => '');
  const api = await page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/cases/${id}`);
    return r.json();
  }, caseId);
  const moved = api.bookings.find((b) => b.status === 'confirmed');
  ok(moved && moved.start === targetStart,
      `dragging moved the session to ${targetStart}`,
      `status: ${status}; booking: ${JSON.stringify(moved)}`);
  ok(moved && moved.sequence === 1, 'the invite SEQUENCE went up');

  // the party's link
  await page.goto(caseUrl.replace(/\?.*$/, ''));
  // absolute, on the centre's public URL: the path is served here
  const href = await page.locator('a.partylink').first().getAttribute('href');
  ok(href && /^https?:\/\/[^/]+(\/[^/]+)*\/join\/[\w-]{22}$/.test(href),
      'the case page shows party links, absolute', href);
  const link = href && `/join/${href.split('/join/')[1]}`;
  await page.goto(`${base}${link}`);
  const body = await page.locator('main').innerText();
  ok(body.includes('温馨调解室一'), 'the party page names the room', body);
  ok(body.includes('སྤྱི་ལོ་2026 ཟླ་12 ཚེས་07'),
      'the party page gives the date, in Tibetan', body);
  ok(await page.locator('[lang="bo"]').count() > 0,
      'a Tibetan-speaking party sees Tibetan text');
  await axe('party');
  await shot('party');
  ok(errors.length === 0, 'no script errors', errors.join('\n'));
} catch (e) {
  ok(false, 'the browser run finished', e.stack);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
finish();
