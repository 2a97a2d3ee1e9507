/* SPDX-License-Identifier: GPL-3.0-or-later */
// test-i18n.mjs — a party reads their session in their own language: a
// Tibetan party and a Chinese party open their join links on a phone
// (390×844) in Debian's Chromium and in Debian's firefox-esr (WebDriver
// BiDi), against a real `medsched serve`, and go through the device check
// (fake camera and microphone), the recording consent and the waiting
// room, where they wait long enough to be told what is happening. On each
// screen every visible string (text, aria-label, title) must be a
// translation from po/<lang>.po or the session's own data (names, case
// number, room, address, times); the Tibetan party's page must have
// loaded the served Tibetan font (document.fonts), and axe-core must find
// nothing serious (Chromium). The mediator's console shows who waits too
// long. Screenshots: $SCREENSHOT_DIR/i18n-<browser>-<lang>-<step>.png.
// TAP output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync,
  existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ok, must, bail, finish, startServer, until, playing, visible, text }
  from './lib.mjs';

const require = createRequire(import.meta.url);
const playwright = require('playwright-core');
const { chromium } = playwright;
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'),
    'utf8');

const MEDSCHED = process.env.MEDSCHED;
const CALENDARS = process.env.MEDSCHED_CALENDARS;
const SHOTS = process.env.SCREENSHOT_DIR || tmpdir();
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const PO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..',
    '..', '..', 'po');
const BOOKED_AT = '2026-12-07T08:00';
const NOW = '2026-12-07T10:05';
const WAIT_ALERT = 3; // seconds before "waiting long" (600 in service)

if (!MEDSCHED || !CALENDARS) {
  bail('MEDSCHED and MEDSCHED_CALENDARS must be set');
}

// ---- the catalogues -----------------------------------------------------

function unquote(s) {
  return s.trim().slice(1, -1).replace(/\\(.)/g, (m, c) =>
    ({ n: '\n', t: '\t' })[c] || c);
}

// msgstr of every translated entry of po/<lang>.po
function catalogue(lang) {
  const out = [];
  let field = null;
  let e = { id: '', str: '' };
  const lines = readFileSync(path.join(PO, `${lang}.po`), 'utf8').split('\n');
  for (const line of [...lines, '']) {
    if (!line.trim()) {
      if (e.id && e.str) {
        out.push(e.str);
      }
      e = { id: '', str: '' };
      field = null;
    } else if (line.startsWith('msgid ')) {
      field = 'id';
      e.id = unquote(line.slice(6));
    } else if (line.startsWith('msgstr ')) {
      field = 'str';
      e.str = unquote(line.slice(7));
    } else if (line.startsWith('"') && field) {
      e[field] += unquote(line);
    }
  }
  return out;
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// A matcher for one catalogue text: printf and strftime conversions and
// {name} placeholders match anything.
function matcher(str) {
  const parts = str.split(/(%\d+\$[su]|%[su]|%[YmdHM]|\{\w+\})/);
  return new RegExp(`^${parts.map((p, i) => (i % 2 ? '.+?' : escapeRe(p)))
      .join('')}$`, 's');
}

// ---- the centre ---------------------------------------------------------

// one pair of parties per browser: a party's consent is kept by the server
const PARTIES = {
  'chromium-bo': { lang: 'bo', name: 'ཚེ་རིང་རྡོ་རྗེ', role: 'applicant' },
  'chromium-zh': { lang: 'zh', name: '王秀英', role: 'respondent' },
  'firefox-bo': { lang: 'bo', name: 'བསོད་ནམས་སྒྲོལ་མ', role: 'third-party' },
  'firefox-zh': { lang: 'zh', name: '李建国', role: 'agent' },
};
const CENTRE = '拉萨市城关区一站式矛盾纠纷调处中心';
const ROOM = '远程调解室';
const NUMBER = '(2026)藏0102民调71号';

const dir = mkdtempSync(path.join(tmpdir(), 'medsched-i18n-'));
const db = path.join(dir, 'i18n.db');
const setupEnv = { ...process.env, MEDSCHED_NOW: BOOKED_AT, LC_ALL: 'C.UTF-8' };
const med = (args, input) => execFileSync(MEDSCHED, ['--db', db, ...args],
    { env: setupEnv, input, encoding: 'utf8' });

med(['init', '--name', CENTRE, '--layers', 'CN,CN-XZ-LS', '--calendars',
  CALENDARS]);
writeFileSync(path.join(dir, 'centre.json'), JSON.stringify({
  rooms: [{ name: ROOM, kind: 'remote', capacity: 6 }],
  mediators: [{ name: '扎西次仁', languages: ['zh', 'bo'],
    specialties: ['wages'], daily_cap: 6 }],
  cases: [{ number: NUMBER, kind: 'wages', department: 'court-mediation',
    parties: Object.values(PARTIES).map((p, i) => ({ name: p.name,
      role: p.role, language: p.lang, attendance: 'remote',
      contact: `1380000007${i}` })) }],
}));
med(['import', path.join(dir, 'centre.json')]);
med(['user', 'add', 'zhaxi', '--role', 'mediator', '--mediator', '1'],
    'mediator-password\n');
med(['book', '1', '--at', '2026-12-07T10:00', '--room', '1', '--mediator',
  '1', '--json']);

const { server, base } = await startServer(MEDSCHED, db, ['--access-log',
  'off', '--media-dir', path.join(dir, 'recordings')], { ...process.env,
  MEDSCHED_NOW: NOW, LC_ALL: 'C.UTF-8',
  MEDSCHED_WAIT_ALERT_SECONDS: String(WAIT_ALERT) });
mkdirSync(SHOTS, { recursive: true });

// ---- the checks ---------------------------------------------------------

// Every string a person sees or hears read out: visible text nodes, the
// aria-labels of shown elements, the document's title.
function visibleStrings() {
  const out = [document.title.replace(/ — medsched$/, '')];
  const shown = (el) => {
    if (!el || el.closest('[hidden]')) {
      return false;
    }
    const cs = getComputedStyle(el);
    return cs.display !== 'none' && cs.visibility !== 'hidden';
  };
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    const t = n.textContent.trim();
    if (t && shown(n.parentElement) &&
        !n.parentElement.closest('script, style')) {
      out.push(t);
    }
  }
  for (const el of document.querySelectorAll('[aria-label]')) {
    if (shown(el)) {
      out.push(el.getAttribute('aria-label'));
    }
  }
  return out;
}

// The strings of the page that are neither a catalogue text of lang nor
// the session's data.
async function foreignStrings(page, lang, party) {
  const matchers = catalogue(lang === 'zh' ? 'zh_CN' : lang).map(matcher);
  const data = [CENTRE, ROOM, NUMBER, party.name, 'medsched', '中文',
    'བོད་ཡིག', 'English'];
  const strings = await page.evaluate(visibleStrings);
  return strings.filter((s) => {
    if (matchers.some((m) => m.test(s))) {
      return false;
    }
    let rest = s;
    for (const d of data) {
      rest = rest.split(d).join('');
    }
    // what is left of data: separators, digits, times
    return !/^[\s·—–:()\-0-9]*$/.test(rest) &&
        // the date and times: "<date as the catalogue writes it> 10:00–11:00"
        !matchers.some((m) => m.test(rest.replace(/\s*\d\d:\d\d–\d\d:\d\d$/,
            '').trim()));
  });
}

async function checkScreen(page, who, lang, party, step) {
  const foreign = await foreignStrings(page, lang, party);
  ok(foreign.length === 0, `${who}: every visible string of the ${step} is ` +
      `from po/${lang === 'zh' ? 'zh_CN' : lang}.po or the session's data`,
  foreign.join('\n'));
  const name = path.join(SHOTS, `i18n-${who.replace(/[^a-z0-9]+/gi, '-')}-` +
      step);
  // Playwright 1.49 asks Firefox for a PNG with quality 80, which Firefox
  // refuses over BiDi (it wants 0–1): a best-quality JPEG there
  await page.screenshot(who.startsWith('firefox') ?
    { path: `${name}.jpg`, type: 'jpeg', quality: 1, fullPage: true } :
    { path: `${name}.png`, fullPage: true });
}

async function axe(page, who) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa',
      'wcag21a', 'wcag21aa', 'best-practice'] });
    return r.violations.filter((v) => v.impact === 'serious' ||
        v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
  });
  ok(found.length === 0, `${who}: axe-core finds nothing serious`,
      found.join('\n'));
}

// One party through device check, consent and waiting room.
async function journey(browserName, context, lang, link, withAxe) {
  const party = PARTIES[`${browserName}-${lang}`];
  const who = `${browserName} ${lang}`;
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}${link}`);
  ok(await page.evaluate(() => document.documentElement.lang) ===
      (lang === 'zh' ? 'zh-Hans' : lang), `${who}: the page is lang=${lang}`);
  must(await visible(page, '#step-devices'), `${who}: the device check opens`,
      await text(page, 'main'));
  if (lang === 'bo') {
    // the centre's and the room's Chinese names inside the Tibetan page
    ok(await page.evaluate(() => document.querySelector('p.centre').lang) ===
        'zh-Hans', `${who}: Chinese data in the Tibetan page is lang=zh-Hans`);
  }
  await until(page, () => !/JavaScript/.test(
      document.getElementById('call-status').textContent), null, 5000);
  await checkScreen(page, who, lang, party, 'device-check');
  if (withAxe) {
    await axe(page, who);
  }
  await page.locator('#btn-devices').click();
  const preview = await playing(page, '#preview');
  ok(preview.ok, `${who}: the fake camera plays in the preview`, preview.why);
  await page.locator('#btn-next:not([disabled])').click({ timeout: 15000 });
  must(await visible(page, '#step-consent'), `${who}: the consent question`,
      await text(page, 'main'));
  await checkScreen(page, who, lang, party, 'consent');
  await page.locator('#btn-consent-yes').click();
  must(await visible(page, '#step-waiting'), `${who}: the waiting room`,
      await text(page, 'main'));
  await checkScreen(page, who, lang, party, 'waiting');
  ok(await visible(page, '#waiting-long', (WAIT_ALERT + 10) * 1000),
      `${who}: after waiting long the party is told what is happening`);
  await checkScreen(page, who, lang, party, 'waiting-long');
  if (lang === 'bo') {
    const font = await until(page, () => [...document.fonts].some((f) =>
      f.family.replace(/"/g, '') === 'medsched Tibetan' &&
          f.status === 'loaded'), null, 10000);
    ok(font, `${who}: the Tibetan web font is loaded (document.fonts)`);
  }
  ok(errors.length === 0, `${who}: no script errors`, errors.join('\n'));
  return page;
}

// ---- the run ------------------------------------------------------------

const phone = { viewport: { width: 390, height: 844 } };
const chrome = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run',
    '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required'],
});
let firefox = null;
try {
  // the mediator finds the parties' links
  const medCtx = await chrome.newContext({ locale: 'zh-CN' });
  const mediator = await medCtx.newPage();
  await mediator.goto(`${base}/login`);
  await mediator.getByLabel('用户名').fill('zhaxi');
  await mediator.getByLabel('密码').fill('mediator-password');
  await Promise.all([mediator.waitForURL(/\/agenda/),
    mediator.getByRole('button', { name: /登录/ }).click()]);
  await mediator.goto(`${base}/cases/1`);
  const links = {};
  for (const [key, p] of Object.entries(PARTIES)) {
    links[key] = await mediator.locator('ul.links li', { hasText: p.name })
        .locator('a.partylink').getAttribute('href');
  }
  // absolute, on the centre's public URL: the path is served here
  must(Object.values(links).every((l) => l && /^https?:\/\/.*\/join\//.test(l)),
      'the case page shows every party\'s link, absolute');
  for (const key of Object.keys(links))
    links[key] = `/join/${links[key].split('/join/')[1]}`;
  ok(await mediator.locator('[lang="bo"]',
      { hasText: PARTIES['chromium-bo'].name }).count() > 0,
  'a Tibetan name is marked lang="bo" on the staff page');

  // Chromium: both parties, axe-core on each (CSP bypassed to inject it)
  for (const lang of ['bo', 'zh']) {
    const ctx = await chrome.newContext({ ...phone, bypassCSP: true,
      locale: 'zh-CN' });
    await journey('chromium', ctx, lang, links[`chromium-${lang}`], true);
    if (lang === 'bo') {
      // the console names the party who waits long
      await mediator.goto(`${base}/bookings/1/console`);
      const long = await until(mediator, () => document.querySelector(
          '#waiting .long-wait') !== null, null, 25000);
      ok(long, 'the console shows a party waiting long',
          await text(mediator, '#waiting'));
      await mediator.screenshot({ path: path.join(SHOTS,
          'i18n-console-waiting.png') });
    }
    await ctx.close();
  }

  // two hours before the session (a second server on the same store whose
  // clock says 08:00): the page says when the video room opens
  {
    const early = await startServer(MEDSCHED, db, ['--access-log', 'off'],
        { ...process.env, MEDSCHED_NOW: '2026-12-07T08:00', LC_ALL: 'C.UTF-8' });
    const ctx = await chrome.newContext(phone);
    const page = await ctx.newPage();
    await page.goto(`${early.base}${links['chromium-zh']}`);
    const opens = await text(page, '#opens');
    ok(opens.includes('09:30') && opens.includes('开放'),
        'before the session the party page says when the video room opens',
        opens);
    await ctx.close();
    early.server.kill('SIGTERM');
    await early.server.exited;
  }

  // Firefox (WebDriver BiDi), when present: the same journeys
  if (!existsSync(FIREFOX) || !playwright._bidiFirefox) {
    ok(false, `Firefox (${FIREFOX}) with WebDriver BiDi is needed ` +
        '(scripts/deps installs firefox-esr)');
  } else {
    firefox = await playwright._bidiFirefox.launch({
      executablePath: FIREFOX,
      headless: true,
      firefoxUserPrefs: {
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
        'media.autoplay.default': 0,
        'media.cubeb.force_mock_context': true,
        'intl.accept_languages': 'zh-CN',
      },
    });
    for (const lang of ['bo', 'zh']) {
      const ctx = await firefox.newContext(phone);
      await journey('firefox', ctx, lang, links[`firefox-${lang}`], false);
      await ctx.close();
    }
  }
} catch (e) {
  ok(false, 'the browser run finished', e.stack);
} finally {
  await chrome.close();
  if (firefox) {
    await firefox.close();
  }
  server.kill('SIGTERM');
  await server.exited;
  rmSync(dir, { recursive: true, force: true });
}
finish();
