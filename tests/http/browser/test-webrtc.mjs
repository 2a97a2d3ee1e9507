/* SPDX-License-Identifier: GPL-3.0-or-later */
// test-webrtc.mjs — a remote mediation session end to end in Debian's
// headless Chromium with a fake camera and microphone
// (--use-fake-device-for-media-stream --use-fake-ui-for-media-stream),
// driven by playwright-core, against a real `medsched serve`. TAP output.
//
// A party opens their join link in one browser context: device check with
// a live preview, the consent question, the waiting room. A mediator signs
// in in a second context, opens the session's console from the case page,
// joins the call and admits the party. Both pages must show the other's
// video (the other's tile's <video> has a size and its currentTime
// advances). The other party then joins from a third context and is
// admitted: every page shows the two others in tiles of their own, labelled
// and moving, and receives sound from both (two inbound audio streams
// whose byte counts grow). The mediator starts the recording, holds a
// caucus, stops it; the test then checks the store and the files: one
// sealed recording per participant, each verifying against its manifest,
// gst-discoverer-1.0 finding video and audio in each. The second party
// leaves (their tiles go), the first reloads and survives a server restart.
// axe-core checks the join page and the console. Screenshots go to
// $SCREENSHOT_DIR.
//
// Environment: MEDSCHED, MEDSCHED_CALENDARS, SCREENSHOT_DIR, and GStreamer's
// plugin paths so that the server finds the med plugin of the build tree.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, rmSync, writeFileSync,
  existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ok, must, bail, anyFailed, finish, sleep, freePort, keepPeers,
  peerReport, playing, tile, inboundAudio, visible, text, discover }
  from './lib.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const MEDSCHED = process.env.MEDSCHED;
const CALENDARS = process.env.MEDSCHED_CALENDARS;
const SHOTS = process.env.SCREENSHOT_DIR || tmpdir();
// the session runs 10:00–11:00; the server's clock stands inside it
const BOOKED_AT = '2026-12-07T08:00';
const NOW = '2026-12-07T10:05';
const RECORD_MS = 4000;

if (!MEDSCHED || !CALENDARS) {
  bail('MEDSCHED and MEDSCHED_CALENDARS must be set');
}

const dir = mkdtempSync(path.join(tmpdir(), 'medsched-webrtc-'));
const db = path.join(dir, 'webrtc.db');
const mediaDir = path.join(dir, 'recordings');
const setupEnv = { ...process.env, MEDSCHED_NOW: BOOKED_AT, LC_ALL: 'C.UTF-8' };
const med = (args, input, env = setupEnv) => execFileSync(MEDSCHED,
    ['--db', db, ...args], { env, input, encoding: 'utf8' });

// a centre with a remote room; a wages case whose applicant and respondent
// both join by video
med(['init', '--name', '拉萨市城关区一站式矛盾纠纷调处中心', '--layers',
  'CN,CN-XZ-LS', '--calendars', CALENDARS]);
const doc = {
  rooms: [{ name: '远程调解室', kind: 'remote', capacity: 6 }],
  mediators: [
    { name: '扎西次仁', languages: ['zh', 'bo'], specialties: ['wages'],
      daily_cap: 6 },
    { name: '王芳', languages: ['zh'], specialties: ['wages'], daily_cap: 6 },
  ],
  cases: [{ number: '(2026)藏0102民调66号', kind: 'wages',
    department: 'court-mediation', summary: '追讨欠薪',
    parties: [
      { name: '次仁多吉', role: 'applicant', language: 'zh',
        attendance: 'remote', contact: '13800000066' },
      { name: '拉萨某建筑公司', role: 'respondent', language: 'zh',
        attendance: 'remote' },
    ] }],
};
writeFileSync(path.join(dir, 'centre.json'), JSON.stringify(doc));
med(['import', path.join(dir, 'centre.json')]);
med(['user', 'add', 'zhaxi', '--role', 'mediator', '--mediator', '1'],
    'mediator-password\n');
med(['user', 'add', 'wang', '--role', 'mediator', '--mediator', '2'],
    'mediator-password\n');
med(['user', 'add', 'clerk', '--role', 'clerk'], 'clerk-password\n');
const tokens = {};
for (const u of ['zhaxi', 'wang', 'clerk']) {
  tokens[u] = med(['user', 'token', u]).trim().split(/\s+/).pop();
}
const booking = JSON.parse(med(['book', '1', '--at', '2026-12-07T10:00',
  '--room', '1', '--mediator', '1', '--json']));
const bookingId = booking.id || (booking.booking && booking.booking.id) || 1;
// the respondent consented on paper beforehand; the clerk records it
med(['consent', String(bookingId), '2', '--given']);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const serveEnv = { ...process.env, MEDSCHED_NOW: NOW, LC_ALL: 'C.UTF-8' };
let serverLog = '';
let server = null;
function startServer() {
  const child = spawn(MEDSCHED, ['--db', db, 'serve', '--listen',
    `127.0.0.1:${port}`, '--access-log', 'off', '--media-dir', mediaDir],
  { env: serveEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', (d) => {
    serverLog += String(d);
  });
  child.exited = new Promise((resolve) => child.on('exit', resolve));
  server = child;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('listening')) {
        resolve();
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    setTimeout(() => reject(new Error('server did not start')), 10000);
  });
}
await startServer().catch((e) => bail(`${e.message}\n${serverLog}`));

mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection'],
});
// axe-core is injected by DevTools: the pages' CSP allows only our scripts
const partyCtx = await browser.newContext({ bypassCSP: true, locale: 'zh-CN',
  viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
const medCtx = await browser.newContext({ bypassCSP: true, locale: 'zh-CN',
  viewport: { width: 1400, height: 900 } });
await partyCtx.addInitScript(keepPeers);
await medCtx.addInitScript(keepPeers);
// the respondent on a tablet-sized screen
const respCtx = await browser.newContext({ bypassCSP: true, locale: 'zh-CN',
  viewport: { width: 800, height: 1000 } });
await respCtx.addInitScript(keepPeers);
const party = await partyCtx.newPage();
const mediator = await medCtx.newPage();
const respondent = await respCtx.newPage();
const errors = [];
const consoleLines = [];
for (const [who, page] of [['party', party], ['mediator', mediator],
  ['respondent', respondent]]) {
  page.on('pageerror', (e) => errors.push(`${who}: ${e}`));
  page.on('console', (m) => consoleLines.push(`${who} ${m.type()}: ${m.text()}`));
  page.on('dialog', (d) => d.accept());
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    const line = String(f.payload);
    if (!line.includes('"ice"') && !line.includes('"answer"')) {
      consoleLines.push(`${who} ws: ${line.slice(0, 400)}`);
    }
  }));
}

async function axe(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa',
      'wcag21a', 'wcag21aa', 'best-practice'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact,
      nodes: v.nodes.length, help: v.help }));
  });
  const serious = result.filter((v) => v.impact === 'serious' ||
      v.impact === 'critical');
  ok(serious.length === 0, `axe: no serious violations on ${name}`,
      JSON.stringify(serious, null, 1));
  for (const v of result) {
    if (v.impact !== 'serious' && v.impact !== 'critical') {
      console.log(`# axe ${name}: ${v.impact} ${v.id} (${v.nodes}) ${v.help}`);
    }
  }
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `webrtc-${name}.png`),
    fullPage: true });
}

// The ids and labels of the remote tiles the page shows.
function tiles(page) {
  return page.$$eval('#remotes .remote-tile:not([hidden])', (els) => els
      .map((e) => ({ id: e.dataset.participant || '',
        label: e.querySelector('figcaption').innerText })));
}

async function get(p, who) {
  const headers = who ? { Authorization: `Bearer ${tokens[who]}` } : {};
  const r = await fetch(`${base}${p}`, { headers, redirect: 'manual' });
  return { status: r.status, body: await r.text(),
    location: r.headers.get('location') };
}

try {
  // who may open the console: its mediator, clerks; not another mediator
  const consolePath = `/bookings/${bookingId}/console`;
  const own = await get(consolePath, 'zhaxi');
  ok(own.status === 200 && own.body.includes(`/ws/console/${bookingId}`),
      'the session\'s mediator gets the console', own.status);
  ok((await get(consolePath, 'clerk')).status === 200,
      'a clerk gets the console');
  ok((await get(consolePath, 'wang')).status === 403,
      'another mediator does not');
  const anon = await get(consolePath);
  ok(anon.status === 303 && /\/login/.test(anon.location || ''),
      'anonymous is sent to sign in', `${anon.status} ${anon.location}`);
  ok((await get('/bookings/999/console', 'clerk')).status === 404,
      'no console for a session that does not exist');

  // under the server's real Content-Security-Policy (the contexts below
  // bypass it for axe-core) the scripts run and the WebSocket to the
  // server's own origin connects
  {
    const cspCtx = await browser.newContext({ locale: 'zh-CN',
      extraHTTPHeaders: { Authorization: `Bearer ${tokens.clerk}` } });
    const p = await cspCtx.newPage();
    const violations = [];
    p.on('console', (m) => {
      if (/Content.Security.Policy|Refused/i.test(m.text())) {
        violations.push(m.text());
      }
    });
    await p.goto(`${base}${consolePath}`);
    const connected = await p.locator('#call-status', { hasText: '已连接' })
        .waitFor({ timeout: 15000 }).then(() => true, () => false);
    ok(connected && violations.length === 0, 'the console connects under ' +
        'the real CSP', `${await text(p, '#call-status')}\n${violations
        .join('\n')}`);
    await cspCtx.close();
  }

  // the mediator signs in and finds the party's link and the console
  await mediator.goto(`${base}/login`);
  await mediator.getByLabel('用户名').fill('zhaxi');
  await mediator.getByLabel('密码').fill('mediator-password');
  await Promise.all([mediator.waitForURL(/\/agenda/),
    mediator.getByRole('button', { name: /登录/ }).click()]);
  await mediator.goto(`${base}/cases/1`);
  // absolute, on the centre's public URL: the path is served here
  const joinPath = (href) => href && href.includes('/join/')
    ? `/join/${href.split('/join/')[1]}` : null;
  const link = joinPath(await mediator.locator('a.partylink').first()
      .getAttribute('href'));
  must(link, 'the case page shows the party link');
  const link2 = joinPath(await mediator.locator('a.partylink').nth(1)
      .getAttribute('href').catch(() => null));
  must(link2 && link2 !== link,
      'the case page shows the respondent\'s link', link2);
  const consoleHref = await mediator.locator('a.console').first()
      .getAttribute('href').catch(() => null);
  ok(consoleHref === `/bookings/${bookingId}/console`,
      'the case page links the session console', consoleHref);

  // the party: device check with a live preview
  await party.goto(`${base}${link}`);
  must(await visible(party, '#step-devices'), 'the join page opens on the ' +
      'device check');
  ok((await text(party, 'main')).includes('(2026)藏0102民调66号'),
      'the join page names the case');
  await axe(party, 'join: device check');
  await party.locator('#btn-devices').click();
  const preview = await playing(party, '#preview');
  must(preview.ok, 'the fake camera plays in the preview', preview.why);
  ok(await party.locator('#btn-next').isEnabled(), 'Next is enabled after ' +
      'the check');
  ok(await party.waitForFunction(() => document.getElementById('mic-level')
      .value > 0, null, { timeout: 5000 }).then(() => true, () => false),
  'the microphone level moves (fake microphone beeps)');
  await shot(party, 'party-1-devices');
  await party.locator('#btn-next').click();

  // consent, then the waiting room
  must(await visible(party, '#step-consent'), 'the party is asked for consent',
      await text(party, '#call'));
  await shot(party, 'party-2-consent');
  await axe(party, 'join: consent');
  await party.locator('#btn-consent-yes').click();
  must(await visible(party, '#step-waiting'), 'the party waits to be admitted');
  await shot(party, 'party-3-waiting');

  // the mediator's console: join the call, admit the party
  await mediator.goto(`${base}/bookings/${bookingId}/console`);
  await mediator.locator('#btn-join:not([disabled])').waitFor(
      { timeout: 15000 }).catch(() => {});
  must(await mediator.locator('#btn-join').isEnabled(), 'the console connects',
      await text(mediator, '#call-status'));
  await axe(mediator, 'console');
  await mediator.locator('#btn-join').click();
  const self = await playing(mediator, '#self');
  ok(self.ok, 'the console shows the mediator\'s own camera', self.why);
  const admit = mediator.locator('#waiting button.admit').first();
  must(await admit.waitFor({ timeout: 15000 }).then(() => true, () => false),
      'the console lists the waiting party', await text(mediator, '#waiting'));
  await shot(mediator, 'console-1-waiting');
  await admit.click();

  // both see each other
  must(await visible(party, '#step-call'), 'the admitted party is in the call');
  const atParty = await playing(party, `${tile('mediator-')} video`, 30000);
  ok(atParty.ok, 'the party sees the mediator\'s video', atParty.why);
  const atMediator = await playing(mediator, `${tile('party-1')} video`,
      30000);
  ok(atMediator.ok, 'the mediator sees the party\'s video', atMediator.why);
  await shot(party, 'party-4-call');
  await shot(mediator, 'console-2-call');
  await axe(party, 'join: in the call');
  await axe(mediator, 'console: in the call');

  // mark the console's tile of the party: it must stay the same element in
  // the same place when the respondent joins
  await mediator.$eval(tile('party-1'), (e) => {
    e.dataset.probe = 'kept';
  }).catch(() => {});

  // the respondent joins from a third browser with their own link
  await respondent.goto(`${base}${link2}`);
  must(await visible(respondent, '#step-devices'), 'the respondent\'s ' +
      'join page opens');
  await respondent.locator('#btn-devices').click();
  await respondent.locator('#btn-next:not([disabled])').click(
      { timeout: 15000 });
  // both parties have consented by now: no question
  const asked = await respondent.locator('#step-consent')
      .waitFor({ timeout: 3000 }).then(() => true, () => false);
  if (asked) {
    await respondent.locator('#btn-consent-yes').click();
  }
  ok(!asked, 'the respondent, consented already, is not asked again');
  must(await visible(respondent, '#step-waiting'), 'the respondent waits');
  const admit2 = mediator.locator('#waiting li[data-participant="party-2"] ' +
      'button.admit');
  must(await admit2.waitFor({ timeout: 15000 }).then(() => true,
      () => false), 'the console lists the waiting respondent',
  await text(mediator, '#waiting'));
  // the console shows each party's answer to recording (the respondent's
  // was recorded by the clerk, the applicant's on the join page)
  const answers = await mediator.locator(
      '#waiting li[data-participant="party-2"] .consent, ' +
      '#incall li[data-participant="party-1"] .consent')
      .evaluateAll((els) => els.map((e) => e.dataset.consent));
  ok(answers.length === 2 && answers.every((a) => a === 'given'),
      'the console shows each party\'s consent to recording',
      JSON.stringify(answers));
  await admit2.click();
  must(await visible(respondent, '#step-call'), 'the respondent is in the ' +
      'call');

  // three-way: everyone sees and hears both others
  // [page, [participant id (or prefix), name, expected label]]
  const sees = [
    ['mediator', mediator, [['party-1', 'the party', '次仁多吉'],
      ['party-2', 'the respondent', '拉萨某建筑公司']]],
    ['party', party, [['mediator-', 'the mediator', '调解员'],
      ['party-2', 'the respondent', '被申请人']]],
    ['respondent', respondent, [['mediator-', 'the mediator', '调解员'],
      ['party-1', 'the party', '申请人']]],
  ];
  for (const [who, page, others] of sees) {
    for (const [id, name, label] of others) {
      const v = await playing(page, `${tile(id)} video`, 30000);
      ok(v.ok, `three-way: the ${who} sees ${name}'s video`, v.why);
      const caption = await text(page, `${tile(id)} figcaption`);
      // the title names the label's kind, never a party's name (the
      // title is in the test log, which the privacy check reads)
      const kind = label === '调解员' || label === '申请人' ||
          label === '被申请人' ? label : 'with their name';
      ok(caption.includes(label), `three-way: the ${who}'s tile of ${name} ` +
          `is labelled ${kind}`, caption.includes(label) ? '' : 'caption differs');
    }
    const shown = await tiles(page);
    ok(shown.length === 2, `three-way: the ${who} page shows two remote ` +
        `tiles (${shown.length})`, JSON.stringify(shown));
    const heard = await inboundAudio(page);
    ok(heard.n >= 2, `three-way: the ${who} page receives sound from two ` +
        `sources (${heard.n})`, heard.why);
  }
  const kept = await mediator.$$eval('#remotes .remote-tile:not([hidden])',
      (els) => els.map((e) => `${e.dataset.participant}:${e.dataset.probe ||
        ''}`).join(' '));
  ok(kept.startsWith('party-1:kept '), 'the party\'s tile on the console ' +
      'stays first and is not rebuilt when the respondent joins', kept);
  await shot(mediator, 'console-3way');
  await shot(party, 'party-3way');
  await shot(respondent, 'respondent-3way');

  // record a few seconds
  await mediator.locator('button[data-record="start"]:not([disabled])')
      .click({ timeout: 10000 });
  const recording = await mediator.waitForFunction(() => document
      .getElementById('rec-state').dataset.state === 'recording', null,
  { timeout: 15000 }).then(() => true, () => false);
  must(recording, 'the console shows the recording running',
      `${await text(mediator, '#rec-state')} / ${await text(mediator,
          '#call-error')}`);
  ok(await visible(party, '#rec.on'), 'the party sees the recording ' +
      'indicator', await text(party, '#rec'));
  await shot(party, 'party-5-recording');
  await shot(mediator, 'console-3-recording');
  await sleep(RECORD_MS / 2);

  // a caucus with the party pauses the recording; ending it resumes
  await mediator.locator('#caucus-with').selectOption('party-1');
  await mediator.locator('#btn-caucus').click();
  const caucus = await mediator.waitForFunction(() => document
      .getElementById('rec-state').dataset.state === 'paused' &&
      !document.getElementById('btn-caucus-end').disabled, null,
  { timeout: 10000 }).then(() => true, () => false);
  ok(caucus, 'a caucus pauses the recording and can be ended',
      `${await text(mediator, '#caucus-state')} / ${await text(mediator,
          '#rec-state')} / ${await text(mediator, '#call-error')}`);
  ok(await respondent.waitForFunction(() => document
      .getElementById('remotes').hidden && /单独谈话/.test(document
      .getElementById('call-status').innerText), null, { timeout: 10000 })
      .then(() => true, () => false), 'the respondent is held (no pictures) ' +
      'during the caucus', await text(respondent, '#call-status'));
  ok(await party.locator('#rec.paused').waitFor({ timeout: 10000 })
      .then(() => true, () => false), 'the party sees the recording paused',
  await text(party, '#rec'));
  await shot(mediator, 'console-4-caucus');
  await mediator.locator('#btn-caucus-end').click();
  ok(await mediator.waitForFunction(() => document
      .getElementById('rec-state').dataset.state === 'recording', null,
  { timeout: 10000 }).then(() => true, () => false),
  'the recording resumes after the caucus', await text(mediator,
      '#rec-state'));
  const unheld = await playing(respondent, `${tile('mediator-')} video`,
      20000);
  ok(unheld.ok, 'after the caucus the respondent sees the mediator again',
      unheld.why);
  await sleep(RECORD_MS / 2);
  await mediator.locator('button[data-record="stop"]').click();
  const stopped = await mediator.waitForFunction(() => document
      .getElementById('rec-state').dataset.state === 'off', null,
  { timeout: 20000 }).then(() => true, () => false);
  ok(stopped, 'the recording stops', await text(mediator, '#rec-state'));
  ok(await party.locator('#rec').waitFor({ state: 'hidden', timeout: 10000 })
      .then(() => true, () => false), 'the party\'s indicator goes',
      `${await text(party, '#rec')} / ${await text(party, '#call-status')}`);

  // the store and the files: a sealed recording per participant
  let recs = [];
  for (let i = 0; i < 60; i++) {
    recs = JSON.parse(med(['recording', 'list', '--json', '--booking',
      String(bookingId)], undefined, serveEnv));
    if (recs.length >= 3 && recs.every((r) => r.state === 'sealed')) {
      break;
    }
    await sleep(500);
  }
  const recorded = recs.map((r) => path.basename(r.dir).replace(/-\d+$/, ''))
      .sort();
  ok(recs.length === 3 && recorded[0].startsWith('mediator-') &&
      recorded[1] === 'party-1' && recorded[2] === 'party-2',
  `a recording per participant (${recorded.join(', ')})`,
  JSON.stringify(recs, null, 1));
  ok(recs.length > 0 && recs.every((r) => r.state === 'sealed'),
      'every recording is sealed', JSON.stringify(recs, null, 1));
  for (const r of recs) {
    const file = path.join(r.dir, 'recording.mkv');
    ok(existsSync(file), `recording ${r.id}: recording.mkv exists`, r.dir);
    let verified = false;
    let why = '';
    try {
      med(['recording', 'verify', String(r.id)], undefined, serveEnv);
      verified = true;
    } catch (e) {
      why = String(e.stdout || '') + String(e.stderr || '');
    }
    ok(verified, `recording ${r.id}: the manifest verifies`, why);
    const log = med(['recording', 'log', String(r.id)], undefined, serveEnv);
    ok(/pause/.test(log) && /resume/.test(log),
        `recording ${r.id}: the log holds the caucus pause and resume`, log);
    const d = discover(file);
    ok(d.video && d.audio, `recording ${r.id}: gst-discoverer-1.0 finds ` +
        'video and audio', d.out.slice(0, 1500));
  }

  // the respondent leaves: their tiles go from the other pages
  await respondent.locator('#btn-leave').click();
  ok(await visible(respondent, '#step-left'), 'the respondent can leave');
  for (const [who, page] of [['mediator', mediator], ['party', party]]) {
    const gone = await page.waitForFunction(() => document.querySelectorAll(
        '#remotes .remote-tile:not([hidden])').length === 1 &&
        !document.querySelector(
            '#remotes .remote-tile:not([hidden])[data-participant="party-2"]'),
    null, { timeout: 15000 }).then(() => true, () => false);
    ok(gone, `the ${who} page drops the respondent's tile`,
        JSON.stringify(await tiles(page)));
  }
  await respCtx.close();

  // the respondent comes back without a camera (none found): the pages show
  // a tile with their label and no picture, and play their sound
  const soundCtx = await browser.newContext({ bypassCSP: true,
    locale: 'zh-CN', viewport: { width: 800, height: 1000 } });
  await soundCtx.addInitScript(keepPeers);
  await soundCtx.addInitScript(() => {
    const md = navigator.mediaDevices;
    const open = md.getUserMedia.bind(md);
    md.getUserMedia = (c) => (c && c.video ? Promise.reject(
        new DOMException('no camera', 'NotFoundError')) : open(c));
  });
  const soundOnly = await soundCtx.newPage();
  soundOnly.on('pageerror', (e) => errors.push(`sound-only: ${e}`));
  await soundOnly.goto(`${base}${link2}`);
  await soundOnly.locator('#btn-devices').click();
  await soundOnly.locator('#btn-next:not([disabled])').click(
      { timeout: 15000 });
  // admitted before and not removed: straight back in (docs/webrtc.md)
  must(await visible(soundOnly, '#step-call'), 'the sound-only respondent ' +
      'is back in the call', await text(soundOnly, '#call'));
  const noPicture = await mediator.locator(`${tile('party-2')} .novideo`)
      .waitFor({ timeout: 20000 }).then(() => true, () => false);
  ok(noPicture && !await mediator.locator(`${tile('party-2')} video`)
      .isVisible(), 'the console shows the sound-only respondent as a tile ' +
      'without picture', JSON.stringify(await tiles(mediator)));
  const soundLabel = await text(mediator, `${tile('party-2')} figcaption`);
  ok(soundLabel.includes('拉萨某建筑公司'), 'the sound-only tile is labelled',
      soundLabel);
  const heard2 = await inboundAudio(mediator);
  ok(heard2.n >= 2, `the console hears the party and the sound-only ` +
      `respondent (${heard2.n})`, heard2.why);
  await shot(mediator, 'console-sound-only');
  await soundOnly.locator('#btn-leave').click();
  ok(await mediator.waitForFunction(() => !document.querySelector(
      '#remotes .remote-tile:not([hidden])[data-participant="party-2"]'),
  null, { timeout: 15000 }).then(() => true, () => false),
  'the sound-only tile goes when the respondent leaves',
  JSON.stringify(await tiles(mediator)));
  await soundCtx.close();

  // a reload with the same link goes straight back into the call
  await party.reload();
  must(await visible(party, '#step-call', 30000), 'after a reload the party ' +
      'is back in the call without being asked again',
  await text(party, '#call'));
  const again = await playing(party, `${tile('mediator-')} video`, 30000);
  ok(again.ok, 'after the reload the party sees the mediator again',
      again.why);
  const back = await playing(mediator, `${tile('party-1')} video`, 30000);
  ok(back.ok, 'and the mediator sees the party again', back.why);
  await shot(party, 'party-6-rejoined');

  // a network drop: the server vanishes without a goodbye and comes back;
  // the pages say so, back off and reconnect by themselves
  server.kill('SIGKILL');
  await server.exited;
  ok(await party.waitForFunction(() => /重新连接/.test(document
      .getElementById('call-status').innerText), null, { timeout: 10000 })
      .then(() => true, () => false), 'the party page says it reconnects',
  await text(party, '#call-status'));
  await shot(party, 'party-7-reconnecting');
  await startServer();
  must(await visible(party, '#step-waiting', 40000), 'the party is back in ' +
      'the waiting room of the new call by itself', await text(party, '#call'));
  const readmit = mediator.locator('#waiting button.admit').first();
  must(await readmit.waitFor({ timeout: 40000 }).then(() => true,
      () => false), 'the console reconnected and lists the party again',
  await text(mediator, '#call-status'));
  await readmit.click();
  must(await visible(party, '#step-call'), 'admitted again');
  const after = await playing(party, `${tile('mediator-')} video`, 30000);
  ok(after.ok, 'after the drop the party sees the mediator again', after.why);
  const after2 = await playing(mediator, `${tile('party-1')} video`, 30000);
  ok(after2.ok, 'after the drop the mediator sees the party again',
      after2.why);

  // the party leaves; the page says so
  await party.locator('#btn-leave').click();
  ok(await visible(party, '#step-left'), 'the party can leave');
  await shot(party, 'party-8-left');
  // the mediator ends the session
  await mediator.locator('#btn-end').click();
  ok(await mediator.waitForFunction(() => /离开/.test(document
      .getElementById('call-status').innerText), null, { timeout: 10000 })
      .then(() => true, () => false), 'the mediator ends the session',
  await text(mediator, '#call-status'));
  ok(errors.length === 0, 'no script errors', errors.join('\n'));
} catch (e) {
  ok(e.message.startsWith('stopped after'), 'the browser run finished', `${e.stack}\n${consoleLines.join(
      '\n')}`);
} finally {
  await browser.close();
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await server.exited;
  }
  if (anyFailed()) {
    console.log(`# server log:\n# ${serverLog.split('\n').slice(-40)
        .join('\n# ')}`);
    console.log(`# page console:\n# ${consoleLines.slice(-40).join('\n# ')}`);
  }
  rmSync(dir, { recursive: true, force: true });
}
finish();
