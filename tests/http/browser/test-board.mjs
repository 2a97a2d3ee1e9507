/* SPDX-License-Identifier: GPL-3.0-or-later */
// test-board.mjs — booking a clerk can trust, in Debian's headless
// Chromium (playwright-core), axe-core on every page seen, TAP output,
// screenshots in $SCREENSHOT_DIR (board-*.png).
//
// The journeys of issue 13, part 2, end to end against `medsched serve`:
// intake with three parties (the form grows by a button, without
// scripts); a party corrected, one removed, one added (audited, names
// never in the audit); the board: a case picked from the queue, every
// start where it fits marked with room, mediator and interpreter, blocked
// cells saying why on pointing and on keyboard focus; one click books it,
// undo cancels it; booked again and moved through the move form's "where
// can it go" board; search from the picker and the case list; the week
// view coloured by status with its legend; a finished session neither
// dragged nor moved; a double booking naming the room; feed links of a
// room and a mediator's own; the agenda linking a remote session's
// console; the console saying why its call cannot start (the session
// ended; the user signed out) instead of reconnecting for ever.
//
// Environment: MEDSCHED (the executable), MEDSCHED_CALENDARS, SCREENSHOT_DIR.
import { readFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ok, must, finish, startServer, launchChromium, signIn,
  axeCheck, until, sleep, newCentre, smallCentre, openPage } from './lib.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const MEDSCHED = process.env.MEDSCHED;
const SHOTS = process.env.SCREENSHOT_DIR || tmpdir();
const NOW = '2026-12-07T08:00';
const DAY = '2026-12-07';

const { dir, db, env, med } = newCentre('board', NOW, {
  ...smallCentre(),
  interpreters: [{ name: '格桑', pairs: ['zh:bo'] }],
});
med(['user', 'add', 'clerk', '--role', 'clerk', '--iterations', '1000'],
    'clerk-password\n');
med(['user', 'add', 'wang', '--role', 'mediator', '--mediator', '2',
  '--iterations', '1000'], 'wang-password\n');
// a divorce with a party by video: its session is in the remote room, with
// 王芳, on the day of the test (the mediator's console); and one four days
// ago, finished (not movable; its call long over)
med(['case', 'add', '--number', '(2026)藏0102民调60号', '--kind', 'divorce',
  '--party', 'applicant,zh,remote,李梅,13900000060',
  '--party', 'respondent,zh,in-person,张强,13900000061']);
med(['case', 'dispatch', '(2026)藏0102民调60号', '--department',
  'court-mediation']);
med(['book', '(2026)藏0102民调60号', '--at', '2026-12-04T10:00', '--room', '4',
  '--mediator', '2'], null, '2026-12-04T08:00');
med(['case', 'add', '--number', '(2026)藏0102民调61号', '--kind', 'divorce',
  '--party', 'applicant,zh,remote,赵红,13900000062']);
med(['case', 'dispatch', '(2026)藏0102民调61号', '--department',
  'court-mediation']);
med(['book', '(2026)藏0102民调61号', '--at', `${DAY}T15:00`, '--room', '4',
  '--mediator', '2']);

const { server, base } = await startServer(MEDSCHED, db,
    ['--access-log', 'off'], env);

mkdirSync(SHOTS, { recursive: true });
const browser = await launchChromium(chromium);
const { page, errors } = await openPage(browser);

const axe = (name) => axeCheck(page, axeSource, name);
const shot = (name, p = page) => p.screenshot({
  path: path.join(SHOTS, `board-${name}.png`), fullPage: true });
// the API through the page's own session (cookie and CSRF token)
const api = (method, url, body) => page.evaluate(async ([m, u, b]) => {
  const csrf = document.querySelector('meta[name="csrf-token"]');
  const r = await fetch(u, { method: m, credentials: 'same-origin',
    cache: 'no-store',
    headers: { 'Content-Type': 'application/json',
      'X-CSRF-Token': csrf ? csrf.content : '' },
    body: b === undefined ? undefined : JSON.stringify(b) });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch (e) {
    json = null;
  }
  return { status: r.status, json, text };
}, [method, url, body]);
const tipText = () => page.locator('#board-tip').innerText().catch(() => '');

try {
  await signIn(page, base, 'clerk', 'clerk-password');
  must(page.url().includes('/board'), 'the clerk lands on the board');

  // ---- intake with three parties -----------------------------------
  await page.goto(`${base}/intake`);
  ok(await page.locator('fieldset.party').count() === 2,
      'intake starts with two parties');
  await page.locator('#number').fill('(2026)藏0102民调88号');
  await page.locator('#kind').selectOption('wages');
  await page.locator('#department').selectOption('court-mediation');
  await page.locator('#summary').fill('农民工追讨欠薪');
  await page.locator('#p1-name').fill('次仁多吉');
  await page.locator('#p1-lang').selectOption('bo');
  await page.locator('#p1-contact').fill('138 0000 0088');
  await page.locator('#p2-name').fill('拉萨某建筑公司');
  await Promise.all([page.waitForLoadState('load'),
    page.getByRole('button', { name: '再添加一位当事人' }).click()]);
  ok(await page.locator('fieldset.party').count() === 3 &&
      await page.locator('#p1-name').inputValue() === '次仁多吉' &&
      await page.locator('#p1-lang').inputValue() === 'bo' &&
      await page.locator('#number').inputValue() === '(2026)藏0102民调88号',
  '"Add another party" gives a third party and keeps what was typed');
  ok(await page.evaluate(() => document.activeElement &&
      document.activeElement.id === 'p3-name'), 'the cursor is in it');
  await page.locator('#p3-name').fill('王五');
  await page.locator('#p3-role').selectOption('third-party');
  await axe('intake, three parties');
  await shot('intake');
  await Promise.all([page.waitForURL(/\/cases\/\d+\?msg=taken/),
    page.getByRole('button', { name: '收案' }).click()]);
  const caseId = Number(/\/cases\/(\d+)/.exec(page.url())[1]);
  const caseUrl = `${base}/cases/${caseId}`;
  let facts = await api('GET', `/api/v1/cases/${caseId}`);
  must(facts.status === 200 && facts.json.parties.length === 3 &&
      facts.json.case.status === 'dispatched',
  `the case is taken with three parties, dispatched (case ${caseId})`,
  facts.text);

  // ---- a party corrected, one removed, one added ---------------------
  const rows = page.locator('table#parties tbody tr');
  await page.locator('table#parties tbody tr', { hasText: '次仁多吉' })
      .getByRole('link', { name: /更正/ }).click();
  await page.waitForURL(/\/parties\/\d+$/);
  await axe('party form');
  await page.locator('#p-contact').fill('13800000099');
  await page.locator('#p-name').fill('次仁多吉（更正）');
  await Promise.all([page.waitForURL(/msg=party-updated/),
    page.getByRole('button', { name: '保存' }).click()]);
  ok((await page.locator('table#parties').innerText()).includes('13800000099'),
      'a party corrected from the case page');
  await Promise.all([page.waitForURL(/msg=party-removed/),
    page.locator('table#parties tbody tr', { hasText: '王五' })
        .getByRole('button', { name: /移出/ }).click()]);
  ok(await rows.count() === 2 &&
      !(await page.locator('table#parties').innerText()).includes('王五'),
  'a party removed');
  await page.getByRole('link', { name: '添加当事人' }).click();
  await page.locator('#p-name').fill('拉萨某劳务公司');
  await page.locator('#p-role').selectOption('third-party');
  await Promise.all([page.waitForURL(/msg=party-added/),
    page.getByRole('button', { name: '添加当事人' }).click()]);
  ok(await rows.count() === 3, 'a party added');
  facts = await api('GET', `/api/v1/cases/${caseId}`);
  const actions = facts.json.audit.map((a) => a.action);
  ok(['party.update', 'party.remove', 'party.add'].every(
      (a) => actions.includes(a)), 'each change is in the audit trail',
  actions.join(' '));
  ok(!facts.json.audit.some((a) => /13800000099|王五|劳务/.test(a.detail)),
      'the audit names no one and no phone number');
  await axe('case with its parties');
  await shot('case-parties');

  // ---- the board: pick the case, see where it fits -------------------
  await page.goto(`${base}/board?date=${DAY}`);
  await axe('board, nothing picked');
  await page.locator(`#queue a[data-case="${caseId}"]`).click();
  await page.waitForURL(new RegExp(`case=${caseId}`));
  const fits = page.locator('td.fit');
  ok(await fits.count() > 20, `the board marks where it fits (${await fits.count()})`);
  ok((await page.locator('ul.needs').innerText()).includes('60'),
      'the picker shows the length it needs');
  const firstFit = fits.first();
  const firstTip = await firstFit.getAttribute('data-tip');
  ok(/调解员 扎西次仁/.test(firstTip) && /温馨调解室一/.test(firstTip),
      'a cell says with which room and mediator it would be booked', firstTip);
  await firstFit.hover();
  ok(await until(page, () => !document.getElementById('board-tip').hidden,
      null, 3000) && (await tipText()).includes('扎西次仁'),
  'pointing at a ✓ cell shows the booking it would make');
  // the remote room does not suit a case with everyone in person
  const blocked = page.locator('td.blocked').first();
  await blocked.hover();
  await until(page, () => !document.getElementById('board-tip').hidden,
      null, 3000);
  ok((await tipText()).startsWith('不能安排在此'),
      'pointing at a blocked cell says why not', await tipText());
  // the keyboard: one tab stop, arrows between cells, the reason on focus
  await firstFit.locator('a').focus();
  await page.keyboard.press('End');
  const focused = await page.evaluate(() => {
    const a = document.activeElement;
    return { cls: a.className, tag: a.tagName,
      described: a.getAttribute('aria-describedby') };
  });
  ok(focused.tag === 'TD' && focused.cls.includes('blocked') &&
      focused.described === 'board-tip',
  'the arrow keys reach a blocked cell, which describes itself by the reason',
  JSON.stringify(focused));
  ok((await tipText()).includes('下班时间'),
      'the reason on focus: past the end of the working day', await tipText());
  await axe('board, a case picked');
  await shot('picked');

  // ---- one click books; undo ----------------------------------------
  const start1 = await firstFit.getAttribute('data-start');
  await Promise.all([page.waitForURL(/booked=\d+/),
    firstFit.locator('a').click()]);
  const booked1 = Number(/booked=(\d+)/.exec(page.url())[1]);
  ok(await page.locator('#undo-box').isVisible(),
      'after one click the board offers the undo');
  let bk = await api('GET', `/api/v1/bookings/${booked1}`);
  ok(bk.json.booking.status === 'confirmed' &&
      bk.json.booking.start === start1 && bk.json.booking.room_id === 1,
  `one click booked it at ${start1}`, bk.text);
  await axe('board with the undo');
  await shot('booked');
  await Promise.all([page.waitForURL(/msg=undone/),
    page.locator('#undo').click()]);
  bk = await api('GET', `/api/v1/bookings/${booked1}`);
  facts = await api('GET', `/api/v1/cases/${caseId}`);
  ok(bk.json.booking.status === 'cancelled' &&
      facts.json.case.status === 'dispatched',
  'undo cancels it and the case waits again');
  const undoRows = await api('GET', `/api/v1/audit/verify`);
  ok(undoRows.json && undoRows.json.intact, 'the audit chain is intact');

  // ---- booked again, then moved through "where can it go" -------------
  await page.goto(`${base}/board?date=${DAY}&case=${caseId}`);
  await Promise.all([page.waitForURL(/booked=\d+/),
    page.locator('td.fit[data-room="2"] a').first().click()]);
  const booked2 = Number(/booked=(\d+)/.exec(page.url())[1]);
  await page.locator(`td.booked[data-booking="${booked2}"] a.move`).click();
  await page.waitForURL(/\/move$/);
  ok((await page.locator('ul.needs').innerText()).includes('60') &&
      (await page.locator('dl.facts').innerText()).includes('温馨调解室二'),
  'the move form shows where it is and what it needs');
  await axe('move form');
  await shot('move-form');
  await page.locator('#show-fits').click();
  await page.waitForURL(/move=\d+/);
  ok(await page.locator('#moving').isVisible() &&
      await page.locator('td.booked.moving').count() === 1,
  'the board shows where the session can go');
  const target = page.locator('td.fit[data-room="1"]').nth(10);
  const targetStart = await target.getAttribute('data-start');
  await Promise.all([page.waitForURL(/msg=moved/), target.locator('a').click()]);
  bk = await api('GET', `/api/v1/bookings/${booked2}`);
  ok(bk.json.booking.start === targetStart && bk.json.booking.room_id === 1 &&
      bk.json.booking.sequence === 1,
  `one click moved it to ${targetStart} (SEQUENCE 1)`, bk.text);

  // ---- a double booking names what clashed ---------------------------
  const other = await api('POST', '/api/v1/cases', { number: '(2026)藏0102民调89号',
    kind: 'wages', department: 'court-mediation',
    parties: [{ name: '刘一', role: 'applicant', language: 'zh' }] });
  must(other.status === 201, 'another case taken', other.text);
  const clash = await api('POST', '/api/v1/bookings', {
    case_id: other.json.case.id, start: targetStart, room_id: 1,
    mediator_id: 2 });
  ok(clash.status === 409 && clash.text.includes('温馨调解室一'),
      'a double booking says which room clashed', clash.text);

  // ---- search --------------------------------------------------------
  await page.goto(`${base}/board?date=${DAY}`);
  await page.locator('#pick-q').fill('13800000099');
  ok(await until(page, (id) => Boolean(document.querySelector(
      `#queue a[data-case="${id}"]`)) &&
      document.querySelectorAll('#queue li').length === 1, caseId, 5000),
  'the picker finds the case by a party\'s phone');
  await page.goto(`${base}/cases`);
  await page.locator('#q').fill('次仁多吉');
  await Promise.all([page.waitForLoadState('load'),
    page.getByRole('button', { name: '查找' }).click()]);
  ok(page.url().endsWith('/cases') &&
      (await page.locator('#case-list').innerText()).includes('民调88号') &&
      await page.locator('#case-list tbody tr').count() === 1,
  'the case list finds it by a party\'s name (posted, not in the address)');
  await axe('case list');
  await shot('cases');
  await page.goto(`${base}/cases?status=scheduled`);
  ok(await page.locator('#case-list tbody tr').count() === 3,
      'the case list filters by status');

  // ---- the week, coloured by status ----------------------------------
  await page.goto(`${base}/board?date=${DAY}&view=week&colour=status`);
  ok(await page.locator('ul.legend li').count() === 6 &&
      await page.locator('a.session.s-scheduled').count() >= 2,
  'the week view colours sessions by status, with a legend');
  ok((await page.locator('a.session.s-scheduled').first().innerText())
      .includes('已排期'), 'the status is written, not only coloured');
  await axe('week board');
  await shot('week');

  // ---- a finished session stays ---------------------------------------
  await page.goto(`${base}/board?date=2026-12-04`);
  const done = page.locator('td.booked.done');
  ok(await done.count() === 1 && await done.getAttribute('draggable') === null &&
      await done.locator('a.move').count() === 0,
  'a finished session is neither draggable nor offered a Move');
  const movePast = await page.goto(`${base}/bookings/1/move`);
  ok(movePast.status() === 409, 'its move form refuses, saying why');

  // ---- feed links ----------------------------------------------------
  await page.goto(`${base}/feed-links`);
  await page.locator('#room').selectOption('2');
  await Promise.all([page.waitForURL(/msg=feed/),
    page.getByRole('button', { name: '生成调解室的链接' }).click()]);
  const feedUrl = await page.locator('#new-feed a').getAttribute('href');
  ok(/^webcal:\/\/.*\/feeds\/[A-Za-z0-9_-]{16,}\.ics$/.test(feedUrl || ''),
      'a clerk makes a room\'s feed link from the pages', feedUrl);
  const ics = await api('GET', feedUrl.replace(/^webcal:\/\/[^/]*/, ''));
  ok(ics.status === 200 && ics.text.includes('BEGIN:VCALENDAR'),
      'the link serves the room\'s calendar');
  await axe('feed links');
  await Promise.all([page.waitForURL(/msg=revoked/),
    page.getByRole('button', { name: /撤销/ }).first().click()]);
  const gone = await api('GET', feedUrl.replace(/^webcal:\/\/[^/]*/, ''));
  ok(gone.status === 404, 'revoked, it serves nothing',
      `${gone.status} ${gone.text.slice(0, 200)}`);

  // ---- the mediator: own feed link, the console from the agenda -------
  const { context: mctx, page: mpage, errors: merrors } = await openPage(
      browser, { width: 1280, height: 900 });
  await signIn(mpage, base, 'wang', 'wang-password');
  await mpage.goto(`${base}/agenda`);
  const consoleLink = mpage.locator('a.console').first();
  ok(await consoleLink.count() > 0 &&
      /\/bookings\/\d+\/console$/.test(await consoleLink.getAttribute('href')),
  'the agenda links the remote session\'s console');
  await Promise.all([mpage.waitForURL(/msg=feed/),
    mpage.getByRole('button', { name: /webcal/ }).click()]);
  const myFeed = await mpage.locator('#my-feed a').getAttribute('href');
  ok(/^webcal:\/\/.*\/feeds\/[A-Za-z0-9_-]{16,}\.ics$/.test(myFeed || ''),
      'a mediator makes their own webcal link from the agenda', myFeed);
  await axeCheck(mpage, axeSource, 'mediator agenda');
  await shot('agenda', mpage);

  // ---- the console says why a call cannot start -------------------------
  // A refused WebSocket upgrade looks the same as a network failure to a
  // page's script; here every attempt is refused, as the server would
  // refuse one it cannot serve.
  let attempts = 0;
  await mpage.routeWebSocket(/\/ws\/console\//, (ws) => {
    attempts++;
    ws.close();
  });
  await mpage.goto(`${base}/bookings/1/console`); // ended four days ago
  ok(await until(mpage, () => /一个多小时/.test(
      document.getElementById('call-error').innerText), null, 15000),
  'the console of an ended session says its call is over',
  await mpage.locator('#call-error').innerText().catch(() => ''));
  const triesThen = attempts;
  await sleep(4000);
  ok(attempts === triesThen && attempts >= 1 &&
      /通话未能开始/.test(await mpage.locator('#call-status').innerText()),
  `and stops trying (${attempts} attempts)`);
  await shot('console-ended', mpage);
  await mpage.goto(`${base}/agenda`);
  await consoleLink.click();
  await mpage.waitForURL(/\/console$/);
  await mctx.clearCookies();
  ok(await until(mpage, () => /退出登录/.test(
      document.getElementById('call-error').innerText), null, 40000),
  'signed out, the console says so instead of reconnecting',
  await mpage.locator('#call-error').innerText().catch(() => ''));
  await mctx.close();

  ok(errors.length === 0 && merrors.length === 0, 'no script errors',
      errors.concat(merrors).join('\n'));
} catch (e) {
  ok(false, 'the board journeys finished', e.stack);
} finally {
  await browser.close();
  server.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
finish();
