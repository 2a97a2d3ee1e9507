/* SPDX-License-Identifier: GPL-3.0-or-later */
// call.js — the browser side of a medsched video call (docs/webrtc.md),
// shared by the party page (join.js) and the mediator's console
// (console.js): the signalling WebSocket with automatic reconnection
// (exponential back-off, shown to the user), the RTCPeerConnection (the
// browser offers, the server answers, ICE trickles both ways), the camera
// and microphone, the others' tiles (one per receive slot: everyone sees
// and hears everyone, up to five others), and the texts of the codes the
// server sends (errors, bye reasons, roles), in the page's language.
//
// Loaded as a classic script before join.js or console.js; it defines
// window.MedCall and nothing else.
'use strict';

window.MedCall = (() => {
  // Texts are English message ids, translated when shown (MedI18n, from
  // the server's catalogue of the page's language).
  const { _, N_, f, label } = window.MedI18n;
  const ERRORS = {
    bad_message: N_('The message was not understood.'),
    too_large: N_('The message was too large.'),
    not_allowed: N_('You may not do that.'),
    no_consent: N_('Not every party has consented: recording a mediation needs every party\'s consent.'),
    no_common_codec: N_('Your browser and the server share no audio or video format: please use a current Chrome or Firefox.'),
    ice_failed: N_('The network connection failed: sound and video cannot get through. Check your network or try another one (a phone hotspot, say), then join again.'),
    state: N_('That is not possible right now.'),
    internal: N_('The server had a problem; please try again shortly.'),
  };
  const BYE = {
    replaced: N_('This link was opened in another window or device; this page has been disconnected.'),
    removed: N_('The mediator has removed you from the session.'),
    ended: N_('The session has ended.'),
    revoked: N_('This link has been revoked.'),
  };
  const DEVICE_ERRORS = {
    NotAllowedError: N_('You did not allow the camera and microphone. You can still join with sound only or only watch and listen, or allow them in the address bar and try again.'),
    NotFoundError: N_('No camera or microphone was found.'),
    NotReadableError: N_('Another program is using the camera or microphone: close it and try again.'),
    OverconstrainedError: N_('The camera cannot give the picture needed.'),
    NotSupportedError: N_('This browser or this connection (https is needed) cannot use a camera and microphone.'),
  };

  // Puts text into el, as text (never HTML).
  function say(el, text) {
    if (el) {
      el.textContent = text;
    }
  }

  function errorText(code, message) {
    const t = ERRORS[code];
    if (t) {
      return _(t);
    }
    return message ? `${_('Something went wrong.')} (${String(message)})` :
      _('Something went wrong.');
  }

  function byeText(reason) {
    return _(BYE[reason] || N_('The connection has ended.'));
  }

  function deviceErrorText(e) {
    const name = e && e.name;
    return DEVICE_ERRORS[name] ? _(DEVICE_ERRORS[name]) :
      `${_('The camera or microphone cannot be used.')}${name ? ` (${name})` : ''}`;
  }

  // mode: 'av' (camera and microphone), 'audio' or 'none' (watch only).
  async function getLocalMedia(mode) {
    if (mode === 'none') {
      return null;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      const e = new Error('no getUserMedia');
      e.name = 'NotSupportedError';
      throw e;
    }
    return navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: mode === 'av' ?
        { width: { ideal: 640 }, height: { ideal: 480 },
          frameRate: { ideal: 25 } } : false,
    });
  }

  function stopMedia(stream) {
    if (stream) {
      stream.getTracks().forEach((t) => t.stop());
    }
  }

  // Plays a stream in a <video>; when the browser refuses sound without a
  // click, plays muted and shows soundButton to turn it on.
  async function play(video, stream, soundButton) {
    if (video.srcObject !== stream) {
      video.srcObject = stream;
    }
    try {
      await video.play();
    } catch (e) {
      if (video.muted) {
        return;
      }
      video.muted = true;
      try {
        await video.play();
      } catch (e2) {
        return;
      }
      if (soundButton) {
        soundButton.hidden = false;
        soundButton.onclick = () => {
          video.muted = false;
          soundButton.hidden = true;
          video.play().catch(() => {});
        };
      }
    }
  }

  // The signalling WebSocket. handlers: message(msg), status(zh, en)
  // for the connection's state, final(reason) once the server said bye
  // or we closed. Reconnects after a drop: 1, 2, 4 … 30 s.
  class Signal {
    constructor(path, handlers) {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      this.url = `${proto}//${location.host}${path}`;
      this.handlers = handlers;
      this.ws = null;
      this.attempt = 0;
      this.timer = 0;
      this.done = false;
      this.everWelcomed = false;
      this.online = () => {
        if (this.timer && !this.done) {
          clearTimeout(this.timer);
          this.timer = 0;
          this.open();
        }
      };
      window.addEventListener('online', this.online);
    }

    open() {
      if (this.done) {
        return;
      }
      let ws;
      try {
        ws = new WebSocket(this.url);
      } catch (e) {
        this.retry();
        return;
      }
      this.ws = ws;
      ws.onmessage = (event) => {
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch (e) {
          return;
        }
        if (!msg || typeof msg.type !== 'string') {
          return;
        }
        if (msg.type === 'welcome') {
          this.attempt = 0;
          this.everWelcomed = true;
        } else if (msg.type === 'bye') {
          this.finish(msg.reason || 'ended');
        }
        this.handlers.message(msg);
      };
      ws.onclose = () => {
        if (this.ws !== ws) {
          return;
        }
        this.ws = null;
        if (!this.done) {
          this.handlers.lost();
          this.retry();
        }
      };
      ws.onerror = () => {};
    }

    retry() {
      const delay = Math.min(30, 2 ** this.attempt);
      this.attempt++;
      if (!this.everWelcomed && this.attempt > 3) {
        this.handlers.status(f(_('Cannot reach the server: the link may be ' +
            'no longer valid, or the network is down. Trying again in ' +
            '{delay} s (attempt {attempt}).'), { delay, attempt: this.attempt }));
      } else {
        this.handlers.status(f(_('Connection lost: reconnecting in {delay} s ' +
            '(attempt {attempt})…'), { delay, attempt: this.attempt }));
      }
      this.timer = setTimeout(() => {
        this.timer = 0;
        this.open();
      }, delay * 1000 + Math.floor(Math.random() * 250));
    }

    send(obj) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify(obj));
        return true;
      }
      return false;
    }

    get connected() {
      return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
    }

    finish(reason) {
      if (this.done) {
        return;
      }
      this.done = true;
      clearTimeout(this.timer);
      window.removeEventListener('online', this.online);
      this.handlers.final(reason);
    }

    // Our side ends it (after leave): no reconnection.
    close() {
      const ws = this.ws;
      this.finish('left');
      this.ws = null;
      if (ws) {
        ws.close(1000);
      }
    }
  }

  // Receive slots beyond the own m-lines' receive side (docs/webrtc.md,
  // "More than two participants"): up to five others in all.
  const EXTRA_SLOTS = 4;

  // One RTCPeerConnection to the server: sends the local stream (or
  // receives only) on the first audio and video m-lines, and offers
  // EXTRA_SLOTS more recvonly video + audio pairs so that the server can
  // forward everyone else, each on a slot of their own. What arrives
  // where is told by the server's `slots` message (see Remotes).
  // handlers: track(mid) when media starts on an m-line,
  // state(connectionState).
  class Peer {
    constructor(signal, iceServers, handlers) {
      this.signal = signal;
      this.iceServers = Array.isArray(iceServers) ? iceServers : [];
      this.handlers = handlers;
      this.pc = null;
      this.lines = [];
    }

    async offer(local) {
      this.close();
      const pc = new RTCPeerConnection({ iceServers: this.iceServers,
        bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      const pending = [];
      let sent = false;
      this.pc = pc;
      this.remoteIce = [];
      // slot 0: the own media's m-lines; slot n: the n-th extra video and
      // the n-th extra audio m-line
      const lines = [];
      for (const kind of ['audio', 'video']) {
        const track = local ? local.getTracks().find(
            (t) => t.kind === kind) : null;
        const tr = track ?
          pc.addTransceiver(track, { direction: 'sendrecv',
            streams: [local] }) :
          pc.addTransceiver(kind, { direction: 'recvonly' });
        lines.push({ slot: 0, kind, transceiver: tr });
      }
      for (let n = 1; n <= EXTRA_SLOTS; n++) {
        for (const kind of ['video', 'audio']) {
          lines.push({ slot: n, kind, transceiver: pc.addTransceiver(kind,
              { direction: 'recvonly' }) });
        }
      }
      this.lines = lines;
      pc.ontrack = (event) => {
        if (this.pc !== pc) {
          return;
        }
        const mid = event.transceiver && event.transceiver.mid;
        // remote tracks start muted and unmute with their first packet
        event.track.addEventListener('unmute', () => {
          if (this.pc === pc && this.handlers.track) {
            this.handlers.track(mid);
          }
        });
      };
      pc.onicecandidate = (event) => {
        const c = event.candidate;
        // no candidate member = end of candidates (docs/webrtc.md)
        const msg = c && c.candidate ?
          { type: 'ice', candidate: c.candidate,
            sdpMLineIndex: c.sdpMLineIndex || 0 } :
          { type: 'ice', sdpMLineIndex: 0 };
        if (this.pc !== pc) {
          return;
        }
        if (sent) {
          this.signal.send(msg);
        } else {
          pending.push(msg);
        }
      };
      pc.onconnectionstatechange = () => {
        if (this.pc === pc) {
          this.handlers.state(pc.connectionState);
        }
      };
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      if (this.pc !== pc) {
        return;
      }
      this.signal.send({ type: 'offer', sdp: pc.localDescription.sdp });
      sent = true;
      pending.splice(0).forEach((m) => this.signal.send(m));
    }

    async answer(sdp) {
      const pc = this.pc;
      if (!pc || pc.signalingState !== 'have-local-offer') {
        return;
      }
      await pc.setRemoteDescription({ type: 'answer', sdp });
      for (const m of this.remoteIce.splice(0)) {
        await this.addIce(pc, m);
      }
    }

    async ice(msg) {
      const pc = this.pc;
      if (!pc) {
        return;
      }
      if (!pc.remoteDescription) {
        this.remoteIce.push(msg);
        return;
      }
      await this.addIce(pc, msg);
    }

    async addIce(pc, msg) {
      try {
        if (typeof msg.candidate === 'string' && msg.candidate !== '') {
          await pc.addIceCandidate({ candidate: msg.candidate,
            sdpMLineIndex: Number(msg.sdpMLineIndex) || 0 });
        } else {
          await pc.addIceCandidate();
        }
      } catch (e) {
        // a candidate the browser cannot use is not fatal
      }
    }

    // The m-line with this a=mid of our offer: { slot, kind, transceiver }
    // or null.
    line(mid) {
      if (mid === null || mid === undefined) {
        return null;
      }
      return this.lines.find((l) => l.transceiver.mid === String(mid)) ||
          null;
    }

    // The track received on the m-line with this mid, if any.
    track(mid, kind) {
      const l = this.line(mid);
      return l && l.kind === kind ? l.transceiver.receiver.track : null;
    }

    get connectionState() {
      return this.pc ? this.pc.connectionState : 'closed';
    }

    close() {
      if (this.pc) {
        const pc = this.pc;
        this.pc = null;
        this.lines = [];
        pc.close();
      }
    }
  }

  // The role a participant id starts with ("party-12" → "party").
  function idRole(id) {
    const m = /^([a-z]+)-/.exec(String(id || ''));
    return m ? m[1] : '';
  }

  // The other participants, one tile each: a <video> for the picture
  // (always muted), an <audio> of its own for the sound, and a label from
  // the names of the latest `state`. A tile belongs to a receive slot of
  // the Peer's offer; the server keeps a participant on their slot while
  // they stay, so tiles do not move when someone joins or leaves (a newly
  // filled slot's tile goes last). Slots the latest `slots` message does
  // not list are hidden. Takes the place of the page's #remote <video>;
  // soundButton shows when the browser refuses to play sound unasked.
  class Remotes {
    constructor(anchor, soundButton) {
      const box = document.createElement('div');
      box.id = 'remotes';
      box.className = 'remotes';
      box.setAttribute('role', 'group');
      box.setAttribute('aria-label', _('Other participants'));
      if (anchor) {
        anchor.replaceWith(box);
      }
      this.box = box;
      this.soundButton = soundButton || null;
      this.peer = null;
      this.slots = null; // the latest `slots` list, null before the first
      this.people = new Map(); // participant id → state entry
      this.tiles = new Map(); // slot number → tile element
      if (this.soundButton) {
        this.soundButton.addEventListener('click', () => {
          this.soundButton.hidden = true;
          for (const tile of this.tiles.values()) {
            if (!tile.hidden) {
              tile.audio.play().catch(() => {});
            }
          }
        });
      }
    }

    // A new Peer (or null when the call is gone): every tile goes; the
    // server sends the new peer's slots after its answer.
    attach(peer) {
      this.peer = peer;
      this.slots = null;
      for (const tile of this.tiles.values()) {
        tile.video.srcObject = null;
        tile.audio.srcObject = null;
      }
      this.tiles.clear();
      this.box.textContent = '';
    }

    set hidden(on) {
      this.box.hidden = on;
    }

    get hidden() {
      return this.box.hidden;
    }

    // The `state` message's participants (labels); me is left out.
    setPeople(list, me) {
      this.people.clear();
      for (const p of Array.isArray(list) ? list : []) {
        if (p && typeof p === 'object' && typeof p.id === 'string' &&
            p.id !== me) {
          this.people.set(p.id, p);
        }
      }
      for (const tile of this.tiles.values()) {
        this.label(tile);
      }
    }

    // The `slots` message: [{participant, video: mid|null, audio: mid|null}].
    setSlots(list) {
      if (!this.peer || !Array.isArray(list)) {
        return;
      }
      this.slots = list;
      const listed = new Map();
      for (const e of list) {
        if (!e || typeof e !== 'object' || typeof e.participant !== 'string') {
          continue;
        }
        const vmid = typeof e.video === 'string' ? e.video : null;
        const amid = typeof e.audio === 'string' ? e.audio : null;
        const l = this.peer.line(vmid) || this.peer.line(amid);
        if (l && !listed.has(l.slot)) {
          listed.set(l.slot, { participant: e.participant, vmid, amid });
        }
      }
      for (const [slot, tile] of this.tiles) {
        if (!listed.has(slot)) {
          this.empty(tile);
        }
      }
      for (const [slot, e] of listed) {
        this.fill(slot, e.participant, e.vmid, e.amid);
      }
    }

    // Media started on an m-line. Only used while the server has sent no
    // `slots` (a server that forwards one other participant on slot 0).
    trackStarted(mid) {
      const l = this.peer ? this.peer.line(mid) : null;
      if (this.slots !== null || !l || l.slot !== 0) {
        return;
      }
      const mids = this.peer.lines.filter((x) => x.slot === 0);
      const v = mids.find((x) => x.kind === 'video');
      const a = mids.find((x) => x.kind === 'audio');
      this.fill(0, null, v ? v.transceiver.mid : null,
          a ? a.transceiver.mid : null);
    }

    tile(slot) {
      let tile = this.tiles.get(slot);
      if (tile) {
        return tile;
      }
      tile = document.createElement('figure');
      tile.className = 'remote-tile';
      tile.dataset.slot = String(slot);
      tile.hidden = true;
      tile.video = document.createElement('video');
      tile.video.className = 'tile remote';
      tile.video.muted = true;
      tile.video.autoplay = true;
      tile.video.playsInline = true;
      tile.novideo = document.createElement('div');
      tile.novideo.className = 'novideo';
      say(tile.novideo, _('Sound only'));
      tile.audio = document.createElement('audio');
      tile.audio.autoplay = true;
      tile.caption = document.createElement('figcaption');
      tile.append(tile.video, tile.novideo, tile.audio, tile.caption);
      this.tiles.set(slot, tile);
      this.box.append(tile);
      return tile;
    }

    fill(slot, participant, vmid, amid) {
      const tile = this.tile(slot);
      if (tile.hidden || tile.participant !== participant) {
        // newly filled: last, so that the others' tiles stay put
        tile.participant = participant;
        if (participant === null) {
          delete tile.dataset.participant;
        } else {
          tile.dataset.participant = participant;
        }
        this.box.append(tile);
      }
      const vt = this.peer.track(vmid, 'video');
      const at = this.peer.track(amid, 'audio');
      if (!vt) {
        tile.video.srcObject = null;
      } else if (!tile.video.srcObject ||
          tile.video.srcObject.getVideoTracks()[0] !== vt) {
        play(tile.video, new MediaStream([vt]));
      }
      tile.video.hidden = !vt;
      tile.novideo.hidden = !!vt;
      if (!at) {
        tile.audio.srcObject = null;
      } else if (!tile.audio.srcObject ||
          tile.audio.srcObject.getAudioTracks()[0] !== at) {
        tile.audio.srcObject = new MediaStream([at]);
        tile.audio.play().catch((e) => {
          if (e && e.name === 'NotAllowedError' && this.soundButton) {
            this.soundButton.hidden = false;
          }
        });
      }
      this.label(tile);
      tile.hidden = false;
    }

    empty(tile) {
      tile.hidden = true;
      tile.participant = undefined;
      delete tile.dataset.participant;
      tile.video.srcObject = null;
      tile.audio.srcObject = null;
    }

    label(tile) {
      if (tile.participant === undefined) {
        return;
      }
      let text;
      if (tile.participant === null) {
        text = _('Other participants');
      } else {
        const p = this.people.get(tile.participant) || {};
        text = whoText (Object.assign({ role : idRole (tile.participant) }, p));
      }
      say(tile.caption, text);
      if (/[\u0F00-\u0FFF]/.test(text)) {
        tile.caption.lang = 'bo';
      } else {
        tile.caption.removeAttribute('lang');
      }
      tile.video.setAttribute('aria-label', text);
    }
  }

  // Mute and camera toggles on a local stream (aria-pressed = off).
  function bindToggle(button, getStream, kind) {
    button.addEventListener('click', () => {
      const stream = getStream();
      const tracks = stream ? stream.getTracks().filter(
          (t) => t.kind === kind) : [];
      if (tracks.length === 0) {
        return;
      }
      const off = button.getAttribute('aria-pressed') !== 'true';
      tracks.forEach((t) => {
        t.enabled = !off;
      });
      button.setAttribute('aria-pressed', off ? 'true' : 'false');
    });
  }

  const STATES = {
    waiting: N_('waiting'),
    admitted: N_('admitted'),
    'in-call': N_('in the call'),
    held: N_('held during a caucus'),
    left: N_('left'),
  };

  function stateText(s) {
    return STATES[s] ? _(STATES[s]) : String(s);
  }

  // A participant's role as the model labels it: a party's own role
  // (party_role: "respondent") when the server sent it, else the call's
  // role ("mediator").
  function roleText (r, partyRole)
  {
    return typeof partyRole === 'string' && partyRole
        ? label ('party-role', partyRole)
        : label ('person-role', r);
  }

  // How a `state` participant is shown: staff see names (with the role),
  // parties see the others by their roles only (the server sends no name).
  function whoText (p)
  {
    const name = typeof p.name === 'string' ? p.name : '';
    const role = roleText (p.role, p.party_role);
    return name ? `${name} · ${role}` : role;
  }

  // A peer whose remote tracks go to the tiles of remotes; on.connected()
  // once connected, on.failed(text) when ICE failed.
  function callPeer(signal, iceServers, remotes, on) {
    const peer = new Peer(signal, iceServers, {
      track: (mid) => remotes.trackStarted(mid),
      state: (s) => {
        if (s === 'connected') {
          on.connected();
        } else if (s === 'failed') {
          on.failed(errorText('ice_failed'));
        }
      },
    });
    remotes.attach(peer);
    return peer;
  }

  return {
    say,
    errorText,
    byeText,
    deviceErrorText,
    getLocalMedia,
    stopMedia,
    play,
    Signal,
    Peer,
    callPeer,
    Remotes,
    bindToggle,
    stateText,
    roleText,
    whoText
  };
})();
