// call.js — the browser side of a medsched video call (docs/webrtc.md),
// shared by the party page (join.js) and the mediator's console
// (console.js): the signalling WebSocket with automatic reconnection
// (exponential back-off, shown to the user), the RTCPeerConnection (the
// browser offers, the server answers, ICE trickles both ways), the camera
// and microphone, and the bilingual texts of the server's error codes.
//
// Loaded as a classic script before join.js or console.js; it defines
// window.MedCall and nothing else.
'use strict';

window.MedCall = (() => {
  // Chinese first, English beside it, as on every page.
  const ERRORS = {
    bad_message: ['消息格式错误。', 'The message was not understood.'],
    too_large: ['消息过大。', 'The message was too large.'],
    not_allowed: ['无权进行此操作。', 'You may not do that.'],
    no_consent: ['尚有当事人未同意录制：调解程序须经各方当事人同意才能录制。',
      'Not every party has consented: recording a mediation needs ' +
      'every party\'s consent.'],
    no_common_codec: ['您的浏览器与服务器没有共同的音视频格式，请换用最新版 ' +
      'Chrome 或 Firefox。', 'Your browser and the server share no ' +
      'audio or video format: please use a current Chrome or Firefox.'],
    ice_failed: ['网络连接失败，音视频无法接通。请检查网络或换一个网络' +
      '（例如手机热点）后重新加入。', 'The network connection failed: ' +
      'sound and video cannot get through. Check your network or try ' +
      'another one (a phone hotspot, say), then join again.'],
    state: ['现在还不能这样做。', 'That is not possible right now.'],
    internal: ['服务器出错，请稍后再试。',
      'The server had a problem; please try again shortly.'],
  };
  const BYE = {
    replaced: ['此链接已在另一个窗口或设备上打开，本页已断开。',
      'This link was opened in another window or device; this page ' +
      'has been disconnected.'],
    removed: ['调解员已请您离开本次会议。',
      'The mediator has removed you from the session.'],
    ended: ['本次会议已结束。', 'The session has ended.'],
    revoked: ['此链接已被撤销。', 'This link has been revoked.'],
  };
  const DEVICE_ERRORS = {
    NotAllowedError: ['您没有允许使用摄像头和麦克风。您仍可以只用声音加入或只看只听；' +
      '也可以在浏览器地址栏中允许后再试。', 'You did not allow the camera ' +
      'and microphone. You can still join with sound only or only watch ' +
      'and listen, or allow them in the address bar and try again.'],
    NotFoundError: ['没有找到摄像头或麦克风。', 'No camera or microphone was ' +
      'found.'],
    NotReadableError: ['摄像头或麦克风正被其他程序使用，请关闭该程序后再试。',
      'Another program is using the camera or microphone: close it and ' +
      'try again.'],
    OverconstrainedError: ['摄像头不支持所需的画面。',
      'The camera cannot give the picture needed.'],
    NotSupportedError: ['此浏览器或此连接（需要 https）不能使用摄像头和麦克风。',
      'This browser or this connection (https is needed) cannot use a ' +
      'camera and microphone.'],
  };

  // Puts "zh <span lang=en>en</span>" into el, as text (never HTML).
  function say(el, zh, en) {
    if (!el) {
      return;
    }
    el.textContent = zh;
    if (en) {
      const span = document.createElement('span');
      span.lang = 'en';
      span.textContent = en;
      el.append(' ', span);
    }
  }

  function errorText(code, message) {
    const t = ERRORS[code];
    if (t) {
      return t;
    }
    // the server's own message is already "<Chinese> <English>"
    return [String(message || code || '出错了。'), 'Something went wrong.'];
  }

  function byeText(reason) {
    return BYE[reason] || ['连接已结束。', 'The connection has ended.'];
  }

  function deviceErrorText(e) {
    const name = e && e.name;
    return DEVICE_ERRORS[name] ||
        ['无法使用摄像头或麦克风。', `The camera or microphone cannot be used` +
          `${name ? ` (${name})` : ''}.`];
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
        this.handlers.status('无法连接服务器：链接可能已失效，或网络不通。' +
            `${delay} 秒后再试（第 ${this.attempt} 次）。`,
        'Cannot reach the server: the link may be no longer valid, or the ' +
            `network is down. Trying again in ${delay} s ` +
            `(attempt ${this.attempt}).`);
      } else {
        this.handlers.status(`连接中断，${delay} 秒后自动重新连接` +
            `（第 ${this.attempt} 次）…`, `Connection lost: reconnecting ` +
            `in ${delay} s (attempt ${this.attempt})…`);
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

  // One RTCPeerConnection to the server: sends the local stream (or
  // receives only), shows what the server forwards in one MediaStream.
  // handlers: remote(stream), state(connectionState).
  class Peer {
    constructor(signal, iceServers, handlers) {
      this.signal = signal;
      this.iceServers = Array.isArray(iceServers) ? iceServers : [];
      this.handlers = handlers;
      this.pc = null;
    }

    async offer(local) {
      this.close();
      const pc = new RTCPeerConnection({ iceServers: this.iceServers,
        bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
      const remote = new MediaStream();
      const pending = [];
      let sent = false;
      this.pc = pc;
      this.remoteIce = [];
      for (const kind of ['audio', 'video']) {
        const track = local ? local.getTracks().find(
            (t) => t.kind === kind) : null;
        if (track) {
          pc.addTransceiver(track, { direction: 'sendrecv',
            streams: [local] });
        } else {
          pc.addTransceiver(kind, { direction: 'recvonly' });
        }
      }
      pc.ontrack = (event) => {
        if (this.pc !== pc) {
          return;
        }
        remote.addTrack(event.track);
        this.handlers.remote(remote);
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

    get connectionState() {
      return this.pc ? this.pc.connectionState : 'closed';
    }

    close() {
      if (this.pc) {
        const pc = this.pc;
        this.pc = null;
        pc.close();
      }
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
    waiting: ['等候中', 'waiting'],
    admitted: ['已准许进入', 'admitted'],
    'in-call': ['通话中', 'in the call'],
    held: ['单独谈话期间等候', 'held during a caucus'],
    left: ['已离开', 'left'],
  };

  function stateText(s) {
    return STATES[s] || [String(s), String(s)];
  }

  const ROLES = {
    party: '当事人',
    mediator: '调解员',
    clerk: '书记员',
    admin: '管理员',
    room: '调解室终端',
  };

  function roleText(r) {
    return ROLES[r] || String(r || '');
  }

  return { say, errorText, byeText, deviceErrorText, getLocalMedia,
    stopMedia, play, Signal, Peer, bindToggle, stateText, roleText };
})();
