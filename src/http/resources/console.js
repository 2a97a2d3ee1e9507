/* SPDX-License-Identifier: GPL-3.0-or-later */
// console.js — the mediator's console of a remote session
// (/bookings/<id>/console): connects to /ws/console/<id> on load and
// lists who waits (admit, remove) and who is in; "Join the call" opens
// the mediator's own camera and joins as a participant; recording start,
// pause, resume and stop with the consent state; a caucus with one side;
// end (stop the recording and leave). Reconnects by itself after a drop;
// when the socket will not open it asks the server why and says so (and
// stops trying when waiting will not help), and a call refused or failed
// (no common codec, ICE) is said as such with Join offered again.
'use strict';

window.MedI18n.ready.then(() => {
  const { _, N_, f } = window.MedI18n;
  const root = document.getElementById('console');
  const C = window.MedCall;
  if (!root || !C) {
    return;
  }
  const $ = (id) => document.getElementById(id);
  const status = $('call-status');
  const errorBox = $('call-error');
  const selfView = $('self');
  // the others' tiles, where the page's #remote <video> was
  const remotes = new C.Remotes($('remote'), $('btn-sound'));
  const waiting = $('waiting');
  const waitingEmpty = $('waiting-empty');
  const incall = $('incall');
  const recState = $('rec-state');
  const consentState = $('consent-state');
  const caucusState = $('caucus-state');
  const caucusWith = $('caucus-with');
  const btnJoin = $('btn-join');
  const btnMute = $('btn-mute');
  const btnCamera = $('btn-camera');
  const btnCaucus = $('btn-caucus');
  const btnCaucusEnd = $('btn-caucus-end');
  const btnEnd = $('btn-end');
  const recButtons = Array.from(root.querySelectorAll('button[data-record]'));

  let welcome = null;
  let local = null;
  let peer = null;
  let joined = false;
  let inCall = false;
  let last = { participants: [], recording: 'off', caucus: null };
  // when each waiting participant was first seen waiting, and after how
  // many seconds that is said (the page's data-wait-alert)
  const waitingSince = new Map();
  const waitAlert = Number(root.dataset.waitAlert) || 600;
  setInterval(() => {
    if (waitingSince.size > 0) {
      showState(last);
    }
  }, 15000);

  function setStatus (text)
  {
    C.say(status, text);
  }
  function setError (text)
  {
    if (!text) {
      errorBox.hidden = true;
      errorBox.textContent = '';
      return;
    }
    C.say(errorBox, text);
    errorBox.hidden = false;
  }

  // Why the call cannot start, when the WebSocket would not open: a
  // browser's script never sees the status of a refused upgrade, so the
  // console asks the server (GET /api/v1/bookings/<id>/call) instead of
  // saying "reconnecting" for ever. Causes that will not pass by waiting
  // stop the reconnection.
  const bookingId = (/\/ws\/console\/(\d+)/.exec(root.dataset.ws) || [])[1];
  const WHY = {
    cancelled : N_ ('This session has been cancelled.'),
    ended : N_ ('This session ended more than an hour ago: its call is over.'),
    no_calls : N_ ('This server was built without video calls.'),
    stopping : N_ (
        'The server is restarting; the console will connect again by itself.'),
    call_failed : N_ (
        'The server could not open this call (its log says why); the console keeps trying.'),
  };
  const FINAL = new Set ([
    'cancelled', 'ended', 'no_calls', 'signed_out', 'forbidden', 'not_found'
  ]);
  let askedAt = 0;
  async function askWhy ()
  {
    if (!bookingId || Date.now() - askedAt < 8000) {
      return;
    }
    askedAt = Date.now();
    let reason = null;
    let text = null;
    try {
      const r = await fetch (`/api/v1/bookings/${bookingId}/call`,
          { credentials : 'same-origin' });
      if (r.status === 401) {
        reason = 'signed_out';
        text
            = _ ('You are signed out: sign in again, then reopen the console.');
      } else if (r.status === 403) {
        reason = 'forbidden';
        text = _ ('This session is not (or no longer) one of yours.');
      } else if (r.status === 404) {
        reason = 'not_found';
        text = _ ('There is no such session.');
      } else if (r.ok) {
        const body = await r.json();
        if (body && body.ready === false && typeof body.reason === 'string') {
          reason = body.reason;
          text = WHY[reason]
              ? _ (WHY[reason])
              : `${_ ('The call cannot start now.')} (${body.reason})`;
        }
      }
    } catch (e) {
      return; // the network itself: keep trying
    }
    if (text === null) {
      return;
    }
    setError (text);
    if (FINAL.has(reason)) {
      signal.finish(reason);
      setStatus (f (_ ('The call could not start: {why}'), { why : text }));
    }
  }

  const signal = new C.Signal(root.dataset.ws, {
    message: received,
    status: (text) => {
      setStatus(text);
      setControls(false);
      askWhy ();
    },
    lost: () => {
      // no frozen last picture while the connection is away
      if (peer) {
        peer.close();
        peer = null;
      }
      remotes.attach(null);
    },
    final: (reason) => {
      if (peer) {
        peer.close();
        peer = null;
      }
      remotes.attach(null);
      C.stopMedia(local);
      local = null;
      setControls(false);
      btnJoin.disabled = true;
      setStatus(reason === 'left' ? _('You have left the session.') :
        C.byeText(reason));
    },
  });

  function received (msg)
  {
    switch (msg.type) {
      case 'welcome':
        welcome = msg;
        setError(null);
        showConsent(msg.consent, msg.regime);
        btnJoin.disabled = false;
        setControls(true);
        if (joined) {
          // back after a drop: offer again with the same camera
          startPeer();
        } else {
          setStatus(_('Connected. Choose Join the call to open your camera and enter the call.'));
        }
        break;
      case 'state':
        last = msg;
        showState(msg);
        if (msg.consent && typeof msg.consent === 'object') {
          showConsent(msg.consent, welcome && welcome.regime);
        }
        break;
      case 'answer':
        if (peer && typeof msg.sdp === 'string') {
          peer.answer(msg.sdp).catch((e) => setError(
              `${_('Could not set up sound and video.')} (${e.name || e})`));
        }
        break;
      case 'ice':
        if (peer) {
          peer.ice(msg);
        }
        break;
      case 'slots':
        remotes.setSlots(msg.slots);
        break;
      case 'error': {
        const t = C.errorText(msg.code, msg.message);
        setError(t);
        // the offer was refused (no shared codec, the call's state): say
        // so where the status said "connecting", and let the mediator
        // try again
        if (joined && !inCall
            && (msg.code === 'no_common_codec' || msg.code === 'state'
                || msg.code === 'internal' || msg.code === 'bad_message')) {
          setStatus (f (_ ('The call could not start: {why}'), { why : t }));
          btnJoin.disabled = false;
        }
        break;
      }
      default:
        break;
    }
  }

  function showConsent (consent, regime)
  {
    if (regime === 'hearing') {
      C.say(consentState, _('Hearing regime: recorded from the first participant in the call on; no consent needed.'));
    } else if (consent && consent.given) {
      C.say(consentState, _('Every party has consented to recording.'));
    } else if (consent && consent.needed) {
      C.say(consentState, _('Not every party has consented yet (recording a mediation needs every party\'s consent).'));
    }
  }

  function setControls (on)
  {
    const rec = last.recording || 'off';
    const ok = on && signal.connected;
    // during a caucus the recording stays paused: only stop is offered
    const caucus = last.caucus != null;
    recButtons.forEach((b) => {
      const a = b.dataset.record;
      b.disabled = !ok || (caucus && a !== 'stop') ||
          (a === 'start' && rec !== 'off') ||
          (a === 'pause' && rec !== 'recording') ||
          (a === 'resume' && rec !== 'paused') ||
          (a === 'stop' && rec === 'off');
    });
    const inCall = (last.participants || []).filter((p) => p &&
        p.role === 'party' && (p.state === 'in-call' || p.state === 'admitted' ||
          p.state === 'held'));
    caucusWith.disabled = !ok || inCall.length === 0 || last.caucus != null;
    btnCaucus.disabled = caucusWith.disabled;
    btnCaucusEnd.disabled = !ok || last.caucus == null;
    btnEnd.disabled = !ok;
    btnMute.disabled = !(local && local.getAudioTracks().length);
    btnCamera.disabled = !(local && local.getVideoTracks().length);
  }

  function button (text, onClick, cls)
  {
    const b = document.createElement('button');
    b.type = 'button';
    C.say(b, text);
    if (cls) {
      b.className = cls;
    }
    b.addEventListener('click', onClick);
    return b;
  }

  function personLine (p)
  {
    const li = document.createElement('li');
    li.dataset.participant = String(p.id);
    const name = document.createElement('strong');
    name.textContent = String(p.name || p.id);
    if (/[\u0F00-\u0FFF]/.test(name.textContent)) {
      name.lang = 'bo'; // a Tibetan name in a page of another language
    }
    const st = C.stateText(p.state);
    const role = document.createElement('span');
    role.className = 'role';
    role.textContent = ` ${C.roleText(p.role, p.party_role)} · ${st}`;
    li.append(name, role);
    // a party left waiting for long: said here, as the party is told too
    if (p.state === 'waiting') {
      if (!waitingSince.has(p.id)) {
        waitingSince.set(p.id, Date.now());
      }
      const waited = Date.now() - waitingSince.get(p.id);
      if (waited >= waitAlert * 1000) {
        const w = document.createElement('span');
        w.className = 'long-wait';
        w.textContent = ` · ${f(_('waiting for {minutes} min'),
            { minutes: Math.floor(waited / 60000) })}`;
        li.append(w);
      }
    } else {
      waitingSince.delete(p.id);
    }
    if (p.media && typeof p.media === 'object') {
      const m = document.createElement('span');
      m.className = 'media';
      m.textContent = ` · ${p.media.audio ? _('sound') : _('no sound')}, ` +
          `${p.media.video ? _('picture') : _('no picture')}`;
      li.append(m);
    }
    // Each party's answer to recording, when the recording needs it.
    if (p.role === 'party' && typeof p.consent === 'boolean' && welcome &&
        welcome.regime === 'mediation') {
      const c = document.createElement('span');
      c.className = 'consent';
      c.dataset.consent = p.consent ? 'given' : 'missing';
      c.textContent = ` · ${p.consent ? _('consented to recording') :
        _('has not consented to recording')}`;
      li.append(c);
    }
    return li;
  }

  function showState (msg)
  {
    const list = Array.isArray(msg.participants) ? msg.participants : [];
    const me = welcome ? welcome.you : null;
    remotes.setPeople(list, me);
    waiting.textContent = '';
    incall.textContent = '';
    const previous = caucusWith.value;
    caucusWith.textContent = '';
    let nWaiting = 0;
    for (const p of list) {
      if (!p || typeof p !== 'object' || p.state === 'left') {
        continue;
      }
      const li = personLine(p);
      const label = String(p.name || p.id);
      if (p.id === me) {
        li.append(` (${_('you')})`);
        incall.append(li);
        continue;
      }
      if (p.state === 'waiting') {
        nWaiting++;
        li.append(' ', button(_('Admit'), () => signal.send(
            { type: 'admit', participant: p.id }), 'admit'));
        li.lastChild.setAttribute('aria-label', f(_('Admit {name}'), { name: label }));
        li.append(' ', button(_('Remove'), () => signal.send(
            { type: 'remove', participant: p.id }), 'danger'));
        li.lastChild.setAttribute('aria-label', f(_('Remove {name}'), { name: label }));
        waiting.append(li);
      } else {
        if (p.role !== 'mediator') {
          li.append(' ', button(_('Remove'), () => signal.send(
              { type: 'remove', participant: p.id }), 'danger'));
          li.lastChild.setAttribute('aria-label', f(_('Remove {name}'), { name: label }));
        }
        incall.append(li);
        if (p.role === 'party') {
          const o = document.createElement('option');
          o.value = String(p.id);
          o.textContent = label;
          caucusWith.append(o);
        }
      }
    }
    if (previous) {
      caucusWith.value = previous;
    }
    waitingEmpty.hidden = nWaiting > 0;

    const rec = msg.recording || 'off';
    if (rec === 'recording') {
      C.say(recState, _('Recording'));
    } else if (rec === 'paused') {
      C.say(recState, _('Recording paused'));
    } else {
      C.say(recState, _('Not recording'));
    }
    recState.dataset.state = rec;

    if (msg.caucus != null) {
      const with_ = list.find((p) => p && p.id === msg.caucus);
      C.say(caucusState, f(_('Caucus with {name} under way; the others are ' +
          'held in the waiting room and recording is paused.'),
      { name: with_ ? with_.name : msg.caucus }));
    } else {
      C.say(caucusState, _('None'));
    }
    setControls(true);
  }

  async function startPeer ()
  {
    if (peer) {
      peer.close();
    }
    inCall = false;
    peer = C.callPeer(signal, welcome && welcome.ice_servers, remotes, {
      connected : () => {
        inCall = true;
        setError(null);
        setStatus(_('You are in the call.'));
      },
      failed : (t) => {
        inCall = false;
        setError (t);
        setStatus (f (_ ('The call could not start: {why}'), { why : t }));
        btnJoin.disabled = false;
      },
    });
    setStatus(_('Connecting the call…'));
    try {
      await peer.offer(local);
    } catch (e) {
      setError(`${_('Could not set up sound and video.')} (${e.name || e})`);
    }
  }

  btnJoin.addEventListener('click', async () => {
    btnJoin.disabled = true;
    setError(null);
    // after a call that could not start, the same camera tries again
    for (const mode of local ? [] : [ 'av', 'audio', 'none' ]) {
      try {
        local = await C.getLocalMedia(mode);
        break;
      } catch (e) {
        const t = C.deviceErrorText(e);
        setError(t);
      }
    }
    if (local && local.getVideoTracks().length) {
      C.play(selfView, local);
    }
    joined = true;
    setControls(true);
    await startPeer();
  });
  C.bindToggle(btnMute, () => local, 'audio');
  C.bindToggle(btnCamera, () => local, 'video');
  recButtons.forEach((b) => b.addEventListener('click', () => {
    setError(null);
    signal.send({ type: 'record', action: b.dataset.record });
  }));
  btnCaucus.addEventListener('click', () => {
    if (caucusWith.value) {
      signal.send({ type: 'caucus', with: caucusWith.value });
    }
  });
  btnCaucusEnd.addEventListener('click', () => {
    signal.send({ type: 'caucus', with: null });
  });
  btnEnd.addEventListener('click', () => {
    if (!window.confirm(_('End the session? The recording stops and is ' +
        'sealed.'))) {
      return;
    }
    if (last.recording && last.recording !== 'off') {
      signal.send({ type: 'record', action: 'stop' });
    }
    signal.send({ type: 'leave' });
    signal.close();
  });

  setStatus(_('Connecting…'));
  signal.open();
});
