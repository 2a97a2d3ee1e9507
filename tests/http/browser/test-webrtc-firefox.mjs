/* SPDX-License-Identifier: GPL-3.0-or-later */
// test-webrtc-firefox.mjs — a party joins a remote mediation session from
// Firefox (Debian's firefox-esr, headless, fake camera and microphone),
// driven by playwright-core's WebDriver BiDi support for stock Firefox
// (experimental in 1.49: the `_bidiFirefox` browser type), against a real
// `medsched serve`. The mediator's console runs in Debian's Chromium, as in
// test-webrtc.mjs. TAP output.
//
// The party opens their join link in Firefox: device check with a live
// preview, the consent question, the waiting room. The mediator signs in,
// opens the console, joins and admits the party. Checked from the pages:
// Firefox shows the mediator's video moving and receives their sound; the
// console shows the party's video moving and receives their sound. The
// mediator records a few seconds; the party's recording must be sealed,
// verify against its manifest and hold VP8 video and Opus audio
// (gst-discoverer-1.0). A screenshot of the Firefox page goes to
// $SCREENSHOT_DIR/webrtc-firefox-party.png.
//
// Firefox missing is a failure (scripts/deps installs firefox-esr), not a
// skip. Environment: as test-webrtc.mjs (MEDSCHED, MEDSCHED_CALENDARS,
// SCREENSHOT_DIR, GStreamer's plugin paths); FIREFOX overrides the path of
// the browser.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync }
  from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ok, must, bail, anyFailed, finish, sleep, freePort, keepPeers,
  peerReport, until, playing, tile, inboundAudio, visible, text, discover }
  from './lib.mjs';

const require = createRequire(import.meta.url);
const playwright = require('playwright-core');
const { chromium } = playwright;

const MEDSCHED = process.env.MEDSCHED;
const CALENDARS = process.env.MEDSCHED_CALENDARS;
const SHOTS = process.env.SCREENSHOT_DIR || tmpdir();
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
// the session runs 10:00–11:00; the server's clock stands inside it
const BOOKED_AT = '2026-12-07T08:00';
const NOW = '2026-12-07T10:05';
const RECORD_MS = 4000;

if (!MEDSCHED || !CALENDARS) {
  bail('MEDSCHED and MEDSCHED_CALENDARS must be set');
}
if (!existsSync(FIREFOX)) {
  bail(`Firefox is not installed (${FIREFOX} is missing): install the ` +
      'firefox-esr package (scripts/deps does)');
}
if (!playwright._bidiFirefox) {
  bail('this playwright-core has no WebDriver BiDi Firefox (_bidiFirefox)');
}

const dir = mkdtempSync(path.join(tmpdir(), 'medsched-webrtc-ff-'));
const db = path.join(dir, 'webrtc.db');
const mediaDir = path.join(dir, 'recordings');
const setupEnv = { ...process.env, MEDSCHED_NOW: BOOKED_AT, LC_ALL: 'C.UTF-8' };
const med = (args, input, env = setupEnv) => execFileSync(MEDSCHED,
    ['--db', db, ...args], { env, input, encoding: 'utf8' });

// a centre with a remote room; a wages case whose applicant joins by video
med(['init', '--name', '拉萨市城关区一站式矛盾纠纷调处中心', '--layers',
  'CN,CN-XZ-LS', '--calendars', CALENDARS]);
const doc = {
  rooms: [{ name: '远程调解室', kind: 'remote', capacity: 6 }],
  mediators: [{ name: '扎西次仁', languages: ['zh', 'bo'],
    specialties: ['wages'], daily_cap: 6 }],
  cases: [{ number: '(2026)藏0102民调67号', kind: 'wages',
    department: 'court-mediation', summary: '追讨欠薪',
    parties: [
      { name: '次仁多吉', role: 'applicant', language: 'zh',
        attendance: 'remote', contact: '13800000067' },
      { name: '拉萨某建筑公司', role: 'respondent', language: 'zh',
        attendance: 'remote' },
    ] }],
};
writeFileSync(path.join(dir, 'centre.json'), JSON.stringify(doc));
med(['import', path.join(dir, 'centre.json')]);
med(['user', 'add', 'zhaxi', '--role', 'mediator', '--mediator', '1'],
    'mediator-password\n');
const booking = JSON.parse(med(['book', '1', '--at', '2026-12-07T10:00',
  '--room', '1', '--mediator', '1', '--json']));
const bookingId = booking.id || (booking.booking && booking.booking.id) || 1;
// the respondent consented on paper beforehand; the clerk records it
med(['consent', String(bookingId), '2', '--given']);

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const serveEnv = { ...process.env, MEDSCHED_NOW: NOW, LC_ALL: 'C.UTF-8' };
let serverLog = '';
const server = spawn(MEDSCHED, ['--db', db, 'serve', '--listen',
  `127.0.0.1:${port}`, '--access-log', 'off', '--media-dir', mediaDir],
{ env: serveEnv, stdio: ['ignore', 'pipe', 'pipe'] });
server.stderr.on('data', (d) => {
  serverLog += String(d);
});
server.exited = new Promise((resolve) => server.on('exit', resolve));
await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => {
    if (String(d).includes('listening')) {
      resolve();
    }
  });
  server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  setTimeout(() => reject(new Error('server did not start')), 10000);
}).catch((e) => bail(`${e.message}\n${serverLog}`));

mkdirSync(SHOTS, { recursive: true });
// the mediator: Chromium, as in test-webrtc.mjs
const chrome = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection'],
});
// the party: Firefox over WebDriver BiDi; fake devices without a prompt,
// Chinese pages, media that may play without a gesture, and Firefox's mock
// sound output: on a machine without a sound device (no /dev/snd, no
// PulseAudio) an AudioContext otherwise stays "suspended" and the join
// page's microphone meter never moves
const firefox = await playwright._bidiFirefox.launch({
  executablePath: FIREFOX,
  headless: true,
  firefoxUserPrefs: {
    'media.navigator.streams.fake': true,
    'media.navigator.permission.disabled': true,
    'media.autoplay.default': 0,
    'media.cubeb.force_mock_context': true,
    'intl.accept_languages': 'zh-CN',
  },
}).catch((e) => {
  chrome.close();
  server.kill('SIGTERM');
  bail(`Firefox (${FIREFOX}) did not start under playwright's WebDriver ` +
      `BiDi: ${String(e.message).split('\n')[0]}`);
});
const partyCtx = await firefox.newContext({
  viewport: { width: 390, height: 844 } });
// bypassCSP: Playwright's waitForFunction evaluates its predicate from a
// string, which the console's script-src 'self' refuses in Chromium
const medCtx = await chrome.newContext({ bypassCSP: true, locale: 'zh-CN',
  viewport: { width: 1400, height: 900 } });
// Playwright 1.49 reports no 'pageerror' from Firefox over BiDi: the page
// keeps its uncaught errors and rejections itself, read at the end
const keepErrors = () => {
  window.__errors = [];
  window.addEventListener('error', (e) => window.__errors.push(
      `${e.message} at ${e.filename}:${e.lineno}:${e.colno}`));
  window.addEventListener('unhandledrejection', (e) => window.__errors.push(
      `unhandled rejection: ${e.reason}\n${(e.reason && e.reason.stack) ||
        ''}`));
};
const party = await partyCtx.newPage();
await party.addInitScript(keepPeers);
await party.addInitScript(keepErrors);
const mediator = await medCtx.newPage();
await mediator.addInitScript(keepPeers);
const errors = [];
const consoleLines = [];
for (const [who, page] of [['party', party], ['mediator', mediator]]) {
  page.on('pageerror', (e) => errors.push(`${who}: ${e}\n${e.stack || ''}`));
  page.on('console', (m) => consoleLines.push(`${who} ${m.type()}: ${m.text()}`));
  page.on('dialog', (d) => d.accept());
}

// Playwright 1.49 asks Firefox for a PNG with quality 80, which Firefox
// refuses (BiDi wants 0–1); a best-quality JPEG is accepted and turned
// into the PNG with GStreamer.
async function shotFirefox(page, name) {
  const jpeg = path.join(dir, `${name}.jpg`);
  await page.screenshot({ path: jpeg, type: 'jpeg', quality: 1,
    fullPage: true });
  execFileSync('gst-launch-1.0', ['-q', 'filesrc', `location=${jpeg}`, '!',
    'jpegdec', '!', 'videoconvert', '!', 'pngenc', '!', 'filesink',
    `location=${path.join(SHOTS, `webrtc-${name}.png`)}`], { timeout: 30000 });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `webrtc-${name}.png`),
    fullPage: true });
}

try {
  ok(/^1[0-9]{2}\./.test(firefox.version()), `the party's browser is ` +
      `Firefox ${firefox.version()}`, firefox.version());
  const ua = await party.evaluate(() => navigator.userAgent);
  must(/Firefox\//.test(ua) && !/Chrome/.test(ua), 'the party page runs in ' +
      'Firefox', ua);

  // the mediator signs in and finds the party's link
  await mediator.goto(`${base}/login`);
  await mediator.getByLabel('用户名').fill('zhaxi');
  await mediator.getByLabel('密码').fill('mediator-password');
  await Promise.all([mediator.waitForURL(/\/agenda/),
    mediator.getByRole('button', { name: /登录/ }).click()]);
  await mediator.goto(`${base}/cases/1`);
  // absolute, on the centre's public URL: the path is served here
  const href = await mediator.locator('a.partylink').first()
      .getAttribute('href');
  must(href && href.includes('/join/'), 'the case page shows the party link');
  const link = `/join/${href.split('/join/')[1]}`;

  // the party in Firefox: device check with a live preview
  await party.goto(`${base}${link}`);
  must(await visible(party, '#step-devices'), 'Firefox: the join page opens ' +
      'on the device check', await text(party, 'body'));
  ok((await text(party, 'main')).includes('(2026)藏0102民调67号'),
      'Firefox: the join page names the case');
  await party.locator('#btn-devices').click();
  const preview = await playing(party, '#preview');
  must(preview.ok, 'Firefox: the fake camera plays in the preview',
      `${preview.why}\n${await text(party, 'main')}`);
  ok(await until(party, () => document.getElementById('mic-level').value > 0,
      null, 5000), 'Firefox: the microphone level moves');
  await party.locator('#btn-next:not([disabled])').click({ timeout: 15000 });

  // consent, then the waiting room
  must(await visible(party, '#step-consent'), 'Firefox: the party is asked ' +
      'for consent', await text(party, 'main'));
  await party.locator('#btn-consent-yes').click();
  must(await visible(party, '#step-waiting'), 'Firefox: the party waits to ' +
      'be admitted', await text(party, 'main'));

  // the mediator's console (Chromium): join the call, admit the party
  await mediator.goto(`${base}/bookings/${bookingId}/console`);
  await mediator.locator('#btn-join:not([disabled])').waitFor(
      { timeout: 15000 }).catch(() => {});
  must(await mediator.locator('#btn-join').isEnabled(), 'the console connects',
      await text(mediator, '#call-status'));
  await mediator.locator('#btn-join').click();
  const admit = mediator.locator('#waiting button.admit').first();
  must(await admit.waitFor({ timeout: 15000 }).then(() => true, () => false),
      'the console lists the waiting Firefox party',
      await text(mediator, '#waiting'));
  await admit.click();

  // both see and hear each other, as the pages report it
  must(await visible(party, '#step-call'), 'Firefox: the admitted party is ' +
      'in the call', await text(party, 'main'));
  const atParty = await playing(party, `${tile('mediator-')} video`, 30000);
  ok(atParty.ok, 'Firefox: the party sees the mediator\'s video moving',
      atParty.why);
  const heardByParty = await inboundAudio(party, 1);
  ok(heardByParty.n >= 1, 'Firefox: the party receives the mediator\'s sound',
      heardByParty.why);
  const atMediator = await playing(mediator, `${tile('party-1')} video`,
      30000);
  ok(atMediator.ok, 'the console sees the Firefox party\'s video moving',
      atMediator.why);
  const heardByMediator = await inboundAudio(mediator, 1);
  ok(heardByMediator.n >= 1, 'the console receives the Firefox party\'s ' +
      'sound', heardByMediator.why);
  await shotFirefox(party, 'firefox-party');
  await shot(mediator, 'firefox-console');

  // record a few seconds
  await mediator.locator('button[data-record="start"]:not([disabled])')
      .click({ timeout: 10000 });
  must(await mediator.waitForFunction(() => document
      .getElementById('rec-state').dataset.state === 'recording', null,
  { timeout: 15000 }).then(() => true, () => false),
  'the console shows the recording running',
  `${await text(mediator, '#rec-state')} / ${await text(mediator,
      '#call-error')}`);
  ok(await visible(party, '#rec.on'), 'Firefox: the party sees the ' +
      'recording indicator', await text(party, '#rec'));
  await sleep(RECORD_MS);
  await mediator.locator('button[data-record="stop"]').click();
  ok(await mediator.waitForFunction(() => document
      .getElementById('rec-state').dataset.state === 'off', null,
  { timeout: 20000 }).then(() => true, () => false), 'the recording stops',
  await text(mediator, '#rec-state'));

  // the party's recording: sealed, verified, VP8 + Opus
  let rec = null;
  let recs = [];
  for (let i = 0; i < 60 && !rec; i++) {
    recs = JSON.parse(med(['recording', 'list', '--json', '--booking',
      String(bookingId)], undefined, serveEnv));
    rec = recs.find((r) => path.basename(r.dir).startsWith('party-1') &&
        r.state === 'sealed') || null;
    if (!rec) {
      await sleep(500);
    }
  }
  must(rec !== null, 'the Firefox party\'s recording is sealed',
      JSON.stringify(recs, null, 1));
  const file = path.join(rec.dir, 'recording.mkv');
  must(existsSync(file), 'the party\'s recording.mkv exists', rec.dir);
  let verified = false;
  let why = '';
  try {
    med(['recording', 'verify', String(rec.id)], undefined, serveEnv);
    verified = true;
  } catch (e) {
    why = String(e.stdout || '') + String(e.stderr || '');
  }
  ok(verified, 'the party\'s recording verifies against its manifest', why);
  const d = discover(file);
  ok(d.video === 'vp8', 'the party\'s recording holds VP8 video', d.out.slice(0, 1500));
  ok(d.audio === 'opus', 'the party\'s recording holds Opus audio', d.out.slice(0, 1500));

  // the party leaves; the console drops the tile
  await party.locator('#btn-leave').click();
  ok(await visible(party, '#step-left'), 'Firefox: the party can leave');
  ok(await mediator.waitForFunction(() => !document.querySelector(
      '#remotes .remote-tile:not([hidden])[data-participant="party-1"]'),
  null, { timeout: 15000 }).then(() => true, () => false),
  'the console drops the party\'s tile');
  ok(errors.length === 0, 'no script errors', errors.join('\n'));
  const ffErrors = await party.evaluate(() => window.__errors)
      .catch((e) => [`could not read the page's errors: ${e}`]);
  ok(ffErrors.length === 0, 'no uncaught errors in the Firefox page',
      ffErrors.join('\n'));
  const ffConsole = consoleLines.filter((l) => l.startsWith('party error'));
  ok(ffConsole.length === 0, 'no errors on the Firefox console',
      ffConsole.join('\n'));
} catch (e) {
  ok(e.message.startsWith('stopped after'), 'the browser run finished',
      e.stack);
} finally {
  await firefox.close().catch(() => {});
  await chrome.close().catch(() => {});
  if (server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await server.exited;
  }
  if (anyFailed()) {
    console.log(`# server log:\n# ${serverLog.split('\n').slice(-40)
        .join('\n# ')}`);
    console.log(`# page console:\n# ${consoleLines.slice(-60)
        .join('\n# ')}`);
  }
  rmSync(dir, { recursive: true, force: true });
}
finish();
