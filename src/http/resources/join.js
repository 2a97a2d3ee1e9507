/* SPDX-License-Identifier: GPL-3.0-or-later */
// join.js — the party's side of a video session on /join/<token>:
// camera and microphone check with a preview (or sound only, or watch
// only, when the camera is refused or missing), the consent question when
// the session is recorded with the parties' consent, the waiting room
// until the mediator admits, then the call: the others' video, mute and
// camera toggles, the recording indicator, leave. A dropped connection or
// a reload with the same link rejoins by itself (call.js backs off).
'use strict';

window.MedI18n.ready.then(() => {
  const { _ } = window.MedI18n;
  const root = document.getElementById('call');
  const C = window.MedCall;
  if (!root || !C) {
    return;
  }
  const $ = (id) => document.getElementById(id);
  const status = $('call-status');
  const errorBox = $('call-error');
  const steps = ['step-devices', 'step-consent', 'step-waiting', 'step-call',
    'step-left'];
  const preview = $('preview');
  const selfView = $('self');
  // the others' tiles, where the page's #remote <video> was
  const remotes = new C.Remotes($('remote'), $('btn-sound'));
  const rec = $('rec');
  const others = $('others');
  const deviceState = $('device-state');
  const btnDevices = $('btn-devices');
  const btnAudio = $('btn-audio-only');
  const btnNone = $('btn-receive-only');
  const btnNext = $('btn-next');
  const btnMute = $('btn-mute');
  const btnCamera = $('btn-camera');
  const btnLeave = $('btn-leave');
  const btnRejoin = $('btn-rejoin');
  const storeKey = `medsched-call:${root.dataset.ws}`;
  const waitingLong = $('waiting-long');
  let waitTimer = 0;

  // what survives a reload of this tab: the device mode chosen and how far
  // the party got
  let saved = {};
  try {
    saved = JSON.parse(sessionStorage.getItem(storeKey) || '{}') || {};
  } catch (e) {
    saved = {};
  }
  function save(patch) {
    Object.assign(saved, patch);
    try {
      sessionStorage.setItem(storeKey, JSON.stringify(saved));
    } catch (e) {
      // private mode: no resume after reload, nothing else changes
    }
  }

  let local = null;
  let mode = null;
  let signal = null;
  let peer = null;
  let welcome = null;
  let phase = 'devices'; // devices, consent, waiting, call, left
  let held = false;

  function show(step) {
    for (const id of steps) {
      $(id).hidden = id !== step;
    }
  }
  function setStatus(text) {
    C.say(status, text);
  }
  function setError(text) {
    if (!text) {
      errorBox.hidden = true;
      errorBox.textContent = '';
      return;
    }
    C.say(errorBox, text);
    errorBox.hidden = false;
  }

  // ---- step 1: devices ----

  // the microphone's level on a meter while the device check shows
  let meterStop = null;
  function watchMicrophone(stream) {
    if (meterStop) {
      meterStop();
      meterStop = null;
    }
    const box = $('mic');
    const meter = $('mic-level');
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!stream || !stream.getAudioTracks().length || !Ctx) {
      box.hidden = true;
      return;
    }
    const ctx = new Ctx();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const data = new Float32Array(analyser.fftSize);
    let frame = 0;
    const tick = () => {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const x of data) {
        sum += x * x;
      }
      meter.value = Math.min(1, Math.sqrt(sum / data.length) * 4);
      frame = requestAnimationFrame(tick);
    };
    tick();
    box.hidden = false;
    meterStop = () => {
      cancelAnimationFrame(frame);
      ctx.close().catch(() => {});
    };
  }

  async function tryDevices(want) {
    C.stopMedia(local);
    local = null;
    btnNext.disabled = true;
    try {
      local = await C.getLocalMedia(want);
      mode = want;
    } catch (e) {
      return e;
    }
    if (local && local.getVideoTracks().length) {
      C.play(preview, local);
      preview.hidden = false;
    } else {
      preview.hidden = true;
    }
    watchMicrophone(local);
    btnNext.disabled = false;
    return null;
  }

  async function checkDevices() {
    setError(null);
    setStatus(_('Opening the camera and microphone…'));
    const e = await tryDevices('av');
    if (e === null) {
      C.say(deviceState, _('Camera and microphone work: you should see yourself above.'));
      setStatus(_('Devices work: choose Next.'));
      btnNext.focus();
      return;
    }
    // no camera (or refused): sound only, if the microphone works
    const t = C.deviceErrorText(e);
    const e2 = await tryDevices('audio');
    if (e2 === null) {
      C.say(deviceState, `${t} ${_('You will join with sound only.')}`);
      setStatus(_('The microphone works: you join with sound only. Choose Next.'));
      btnNone.hidden = false;
      return;
    }
    C.say(deviceState, t);
    setStatus(_('The camera and microphone cannot be used: try again, or only watch and listen.'));
    btnAudio.hidden = false;
    btnNone.hidden = false;
  }

  btnDevices.addEventListener('click', checkDevices);
  btnAudio.addEventListener('click', async () => {
    const e = await tryDevices('audio');
    const t = e ? C.deviceErrorText(e) : [_('The microphone works.')];
    C.say(deviceState, t);
  });
  btnNone.addEventListener('click', async () => {
    await tryDevices('none');
    C.say(deviceState, _('You will only watch and listen: the others will neither see nor hear you.'));
    btnNext.focus();
  });
  btnNext.addEventListener('click', () => {
    save({ mode });
    btnNext.disabled = true;
    connect();
  });

  // ---- signalling ----

  function connect() {
    watchMicrophone(null);
    if (signal) {
      return;
    }
    setStatus(_('Connecting to the centre…'));
    signal = new C.Signal(root.dataset.ws, {
      message: received,
      status: (text) => setStatus(text),
      lost: () => {
        // no frozen last picture while the connection is away
        if (peer) {
          peer.close();
          peer = null;
        }
        remotes.attach(null);
      },
      final: ended,
    });
    signal.open();
  }

  function received(msg) {
    switch (msg.type) {
      case 'welcome':
        welcome = msg;
        setError(null);
        afterWelcome();
        break;
      case 'state':
        showState(msg);
        break;
      case 'admitted':
        if (phase === 'call' && peer &&
            !['failed', 'closed'].includes(peer.connectionState)) {
          // the end of a caucus we were held in: the server kept our
          // peer, so go on with it (a new offer would count as a rejoin
          // and start a new recording)
          showHeld(false);
        } else {
          enterCall();
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
      case 'held':
        showHeld(true);
        break;
      case 'error': {
        if (msg.code === 'state' && phase === 'call') {
          // our "ready" crossed the server's own re-admission on rejoin
          break;
        }
        const t = C.errorText(msg.code, msg.message);
        setError(t);
        break;
      }
      default:
        break;
    }
  }

  function afterWelcome() {
    const consent = welcome.consent || {};
    if (phase === 'devices' || phase === 'consent') {
      if (consent.needed && !consent.given && !saved.consentAnswered) {
        phase = 'consent';
        show('step-consent');
        setStatus(_('Please answer the recording question.'));
        $('btn-consent-yes').focus();
        return;
      }
    }
    enterWaiting();
  }

  function answerConsent(given) {
    signal.send({ type: 'consent', given });
    save({ consentAnswered: true });
    enterWaiting();
  }
  $('btn-consent-yes').addEventListener('click', () => answerConsent(true));
  $('btn-consent-no').addEventListener('click', () => answerConsent(false));

  function enterWaiting() {
    phase = 'waiting';
    save({ phase });
    show('step-waiting');
    signal.send({ type: 'ready' });
    setStatus(_('You are in the waiting room; the mediator will let you in.'));
    // waited long: the page says what is happening (the console shows it)
    clearTimeout(waitTimer);
    waitTimer = setTimeout(() => {
      if (phase === 'waiting') {
        waitingLong.hidden = false;
      }
    }, (Number(root.dataset.waitAlert) || 600) * 1000);
  }

  async function enterCall() {
    clearTimeout(waitTimer);
    waitingLong.hidden = true;
    phase = 'call';
    held = false;
    save({ phase });
    show('step-call');
    setStatus(_('Connecting the call…'));
    if (local && local.getVideoTracks().length) {
      C.play(selfView, local);
      selfView.hidden = false;
    } else {
      selfView.hidden = true;
    }
    btnMute.disabled = !(local && local.getAudioTracks().length);
    btnCamera.disabled = !(local && local.getVideoTracks().length);
    if (peer) {
      peer.close();
    }
    peer = C.callPeer(signal, welcome && welcome.ice_servers, remotes, {
      connected: () => {
        setError(null);
        setStatus(_('You are in the call.'));
      },
      failed: (t) => setError(t),
    });
    try {
      await peer.offer(local);
    } catch (e) {
      setError(`${_('Could not set up sound and video.')} (${e.name || e})`);
    }
  }

  function showHeld(on) {
    held = on;
    remotes.hidden = on;
    if (on) {
      setStatus(_('The mediator is talking privately with the other side: please wait, you are still in the session.'));
    } else if (phase === 'call') {
      setStatus(_('You are in the call.'));
    }
  }

  function showState(msg) {
    if (rec) {
      if (msg.recording === 'recording') {
        C.say(rec, _('Recording'));
        rec.className = 'rec on';
        rec.hidden = false;
      } else if (msg.recording === 'paused') {
        C.say(rec, _('Recording paused'));
        rec.className = 'rec paused';
        rec.hidden = false;
      } else {
        rec.hidden = true;
      }
    }
    const list = Array.isArray(msg.participants) ? msg.participants : [];
    const me = welcome ? list.find((p) => p && p.id === welcome.you) : null;
    if (me && me.state === 'held' && !held) {
      showHeld(true);
    } else if (me && me.state !== 'held' && held) {
      showHeld(false);
    }
    remotes.setPeople(list, welcome ? welcome.you : null);
    others.textContent = '';
    for (const p of list) {
      if (!p || typeof p !== 'object' || (welcome && p.id === welcome.you) ||
          p.state === 'left') {
        continue;
      }
      const li = document.createElement('li');
      const st = C.stateText(p.state);
      li.textContent = `${C.whoText(p)} · ${st}`;
      others.append(li);
    }
  }

  function ended(reason) {
    if (peer) {
      peer.close();
      peer = null;
    }
    remotes.attach(null);
    phase = 'left';
    if (reason === 'left') {
      save({ phase: 'left' });
      setStatus(_('You have left the session.'));
    } else {
      const t = C.byeText(reason);
      save({ phase: 'left' });
      setStatus(t);
    }
    C.stopMedia(local);
    local = null;
    // an ended session or a revoked link cannot be joined again
    btnRejoin.hidden = reason === 'ended' || reason === 'revoked';
    show('step-left');
  }

  C.bindToggle(btnMute, () => local, 'audio');
  C.bindToggle(btnCamera, () => local, 'video');
  btnLeave.addEventListener('click', () => {
    if (signal) {
      signal.send({ type: 'leave' });
      signal.close();
    }
  });
  btnRejoin.addEventListener('click', () => {
    save({ phase: 'devices', consentAnswered: saved.consentAnswered });
    location.reload();
  });

  // ---- start ----

  show('step-devices');
  if (saved.phase === 'waiting' || saved.phase === 'call') {
    // a reload or a return to the page: same devices, straight back in
    setStatus(_('Rejoining…'));
    tryDevices(saved.mode || 'av').then(async (e) => {
      if (e !== null) {
        const t = C.deviceErrorText(e);
        setError(t);
        await tryDevices('none');
      }
      phase = 'waiting';
      connect();
    });
  } else {
    setStatus(_('First check your camera and microphone.'));
  }
});
