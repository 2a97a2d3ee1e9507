/* SPDX-License-Identifier: GPL-3.0-or-later */
// lib.mjs — what the browser tests share: TAP output, a free port, and
// the checks the WebRTC tests read from their pages (moving video in a
// tile, growing inbound sound, diagnostics of the pages' peer
// connections). Page predicates are polled with page.evaluate, which works
// in Chromium and in Firefox over WebDriver BiDi (Playwright's
// waitForFunction evaluates from a string, which the pages' CSP refuses
// in Firefox).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

// ---- TAP --------------------------------------------------------------

const tap = { n: 0, failed: 0 };

export function ok(cond, name, diag) {
  tap.n++;
  console.log(`${cond ? 'ok' : 'not ok'} ${tap.n} - ${name}`);
  if (!cond) {
    tap.failed++;
    if (diag) {
      for (const line of String(diag).split('\n')) {
        console.log(`# ${line}`);
      }
    }
  }
  return cond;
}

// A step the rest depends on: when it fails, stop here.
export function must(cond, name, diag) {
  if (!ok(cond, name, diag)) {
    throw new Error(`stopped after: ${name}`);
  }
}

export function bail(why) {
  console.log(`Bail out! ${why}`);
  process.exit(1);
}

export const anyFailed = () => tap.failed > 0;

// The plan line and the exit status.
export function finish() {
  console.log(`1..${tap.n}`);
  process.exit(tap.failed ? 1 : 0);
}

// ---- helpers ----------------------------------------------------------

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Starts `medsched --db DB serve` on a free loopback port with the given
// extra arguments and environment; resolves once it listens (bails out if
// it does not). Returns { server, base, log() }.
export async function startServer(medsched, db, args, env) {
  const port = await freePort();
  let log = '';
  const server = spawn(medsched, ['--db', db, 'serve', '--listen',
    `127.0.0.1:${port}`, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr.on('data', (d) => {
    log += String(d);
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
  }).catch((e) => bail(`${e.message}\n${log}`));
  return { server, base: `http://127.0.0.1:${port}`, log: () => log };
}

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Diagnostics and checks: the init script keeps every RTCPeerConnection a
// page makes.
export const keepPeers = () => {
  const Original = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = function RTCPeerConnection(...args) {
    const pc = new Original(...args);
    window.__peers.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
};

export async function peerReport(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__peers || []) {
      let stats = '';
      try {
        const r = await pc.getStats();
        r.forEach((s) => {
          if (s.type === 'inbound-rtp' || s.type === 'outbound-rtp') {
            stats += ` ${s.type}/${s.kind} packets ` +
                `${s.packetsReceived ?? s.packetsSent} frames ` +
                `${s.framesDecoded ?? s.framesEncoded ?? '-'};`;
          } else if (s.type === 'candidate-pair' && s.nominated) {
            stats += ` pair ${s.state};`;
          }
        });
      } catch (e) {
        stats = String(e);
      }
      out.push(`signaling ${pc.signalingState} ice ${pc.iceConnectionState} ` +
          `connection ${pc.connectionState};${stats}`);
    }
    const t = (id) => (document.getElementById(id) || {}).innerText || '';
    out.push(`status: ${t('call-status')} error: ${t('call-error')}`);
    return out.join('\n');
  }).catch((e) => String(e));
}

// Polls fn(arg) in the page until it is true (false after timeout ms).
export async function until(page, fn, arg, timeout) {
  const t0 = Date.now();
  for (;;) {
    if (await page.evaluate(fn, arg).catch(() => false)) {
      return true;
    }
    if (Date.now() - t0 > timeout) {
      return false;
    }
    await sleep(200);
  }
}

// Once media failed to arrive, later checks wait only briefly: a broken
// call fails with every check reported, before meson's timeout.
let mediaFailed = false;
const patience = (ms) => (mediaFailed ? Math.min(ms, 5000) : ms);

// The <video> shows frames that move: a size, and currentTime advancing.
export async function playing(page, selector, timeout = 20000) {
  if (!await until(page, (sel) => {
    const v = document.querySelector(sel);
    return Boolean(v && v.videoWidth > 0 && v.currentTime > 0 &&
        v.srcObject && v.srcObject.getVideoTracks()
        .some((t) => t.readyState === 'live'));
  }, selector, patience(timeout))) {
    mediaFailed = true;
    return { ok: false, why: `no frames\n${await peerReport(page)}` };
  }
  const t0 = await page.$eval(selector, (v) => v.currentTime);
  await sleep(1500);
  const t1 = await page.$eval(selector, (v) => ({ t: v.currentTime,
    w: v.videoWidth, h: v.videoHeight }));
  return { ok: t1.w > 0 && t1.t > t0, why: `t ${t0} → ${t1.t}, ` +
    `${t1.w}×${t1.h}` };
}

export function tile(id) {
  const attr = id.endsWith('-') ? `[data-participant^="${id}"]` :
    `[data-participant="${id}"]`;
  return `#remotes .remote-tile:not([hidden])${attr}`;
}

export async function inboundAudio(page, want = 2, timeout = 15000) {
  const sample = () => page.evaluate(async () => {
    const pc = (window.__peers || []).filter((p) => p.signalingState !==
        'closed').pop();
    const out = {};
    if (pc) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'audio') {
          out[s.mid ?? s.id] = s.bytesReceived || 0;
        }
      });
    }
    return out;
  });
  timeout = patience(timeout);
  const t0 = Date.now();
  let why = '';
  let growing = [];
  while (Date.now() - t0 < timeout) {
    const a = await sample();
    await sleep(1000);
    const b = await sample();
    growing = Object.keys(b).filter((k) => a[k] > 0 && b[k] > a[k]);
    why = `mids ${growing.join(',')}: ${JSON.stringify(a)} → ` +
        `${JSON.stringify(b)}`;
    if (growing.length >= want) {
      break;
    }
  }
  mediaFailed ||= growing.length < want;
  return { n: growing.length, why };
}

export async function visible(page, selector, timeout = 15000) {
  try {
    await page.locator(selector).waitFor({ state: 'visible', timeout });
    return true;
  } catch (e) {
    return false;
  }
}

export function text(page, selector) {
  return page.locator(selector).innerText().catch(() => '');
}

// What gst-discoverer-1.0 says of a recording: its text and the codecs of
// its video and audio tracks (lower case), or null.
export function discover(file) {
  let out = '';
  try {
    out = execFileSync('gst-discoverer-1.0', [file], { encoding: 'utf8',
      timeout: 60000 });
  } catch (e) {
    out = String(e.stdout || '') + String(e.stderr || '');
  }
  const codec = (kind) => {
    const m = new RegExp(`^\\s+${kind} #\\d+: (\\S+)`, 'm').exec(out);
    return m ? m[1].toLowerCase() : null;
  };
  return { video: codec('video'), audio: codec('audio'), out };
}

// ---- pages in Chromium: sign-in, axe-core, screenshots ---------------

// Debian's chromium, headless, for the page tests.
export async function launchChromium(chromium) {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}

// A Chinese-speaking browser context (scripts of axe-core allowed in by
// DevTools: the pages' CSP admits only their own) and its page; errors
// collects the page's script errors; dialogs (Are you sure?) are accepted.
export async function openPage(browser, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ bypassCSP: true,
    locale: 'zh-CN', viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => d.accept());
  return { context, page, errors };
}

// Signs in through the Chinese sign-in page; resolves with the page at
// where the server sent it.
export async function signIn(page, base, user, password) {
  await page.goto(`${base}/login`);
  await page.getByLabel('用户名').fill(user);
  await page.getByLabel('密码').fill(password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: /登录/ }).click()]);
}

// axe-core on the page (injected through DevTools: the pages' CSP allows
// only their own scripts): no serious or critical violation; the others
// are printed as TAP comments.
export async function axeCheck(page, axeSource, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa',
      'wcag21a', 'wcag21aa', 'best-practice'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact,
      nodes: v.nodes.length, help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
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

// The small centre of the page tests: two warm rooms, a family room, a
// video room; a Tibetan-speaking mediator and a Chinese-speaking one.
export const smallCentre = () => ({
  rooms: [
    { name: '温馨调解室一', kind: 'warm', capacity: 8 },
    { name: '温馨调解室二', kind: 'warm', capacity: 6 },
    { name: '家事调解室', kind: 'family', capacity: 6 },
    { name: '远程调解室', kind: 'remote', capacity: 6 },
  ],
  mediators: [
    { name: '扎西次仁', languages: ['zh', 'bo'],
      specialties: ['wages', 'neighbour', 'contract'], daily_cap: 6 },
    { name: '王芳', languages: ['zh'], specialties: ['wages', 'divorce'],
      daily_cap: 6 },
  ],
});

// A new centre for a page test, in a fresh directory: MEDSCHED and
// MEDSCHED_CALENDARS from the environment (bails without them), the
// clock at now, `init` with the shipped Lhasa calendars (extra init
// arguments in initArgs), then the import document doc (rooms, mediators,
// interpreters). Returns { dir, db, env, med } where med(args, input,
// at) runs the CLI on it (at: another clock for that command).
export function newCentre(prefix, now, doc, initArgs = []) {
  const exe = process.env.MEDSCHED;
  const calendars = process.env.MEDSCHED_CALENDARS;
  if (!exe || !calendars) {
    bail('MEDSCHED and MEDSCHED_CALENDARS must be set');
  }
  const dir = mkdtempSync(path.join(tmpdir(), `medsched-${prefix}-`));
  const db = path.join(dir, `${prefix}.db`);
  const env = { ...process.env, MEDSCHED_NOW: now, LC_ALL: 'C.UTF-8' };
  const med = (args, input, at) => execFileSync(exe, ['--db', db, ...args],
      { env: { ...env, MEDSCHED_NOW: at || now }, input, encoding: 'utf8' });
  med(['init', '--name', '拉萨市城关区一站式矛盾纠纷调处中心', '--layers',
    'CN,CN-XZ-LS', '--calendars', calendars, ...initArgs]);
  writeFileSync(path.join(dir, 'centre.json'), JSON.stringify(doc));
  med(['import', path.join(dir, 'centre.json')]);
  return { dir, db, env, med };
}
