/* SPDX-License-Identifier: GPL-3.0-or-later */
// board.js — the board without page loads between a pick and a booking:
//
// - pointing at a cell or moving to it with the arrow keys (one tab stop
//   for the whole grid) shows what booking it would make, or why the
//   picked case does not fit there (the server's words, data-tip and
//   data-detail);
// - one click on a cell marked ✓ books it (POST /api/v1/bookings), or
//   moves the session being moved there (…/reschedule), then the board
//   comes back with the undo (?booked=ID);
// - typing in "Find a case" asks POST /api/v1/cases/search (the text goes
//   in the body, never in an address) and lists what it finds;
// - a session dragged onto a free cell (or a ✓ cell while moving) moves
//   there.
//
// Everything here has a form or a link that does the same without
// scripts: the ✓ cell opens the booking preview, Move opens the move form.
'use strict';

window.MedI18n.ready.then(() => {
  const { _, f } = window.MedI18n;
  const board = document.getElementById('board');
  const status = document.getElementById('board-status');
  const tip = document.getElementById('board-tip');
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (!meta) {
    return;
  }
  const csrf = meta.content;
  const say = (text) => {
    if (status) {
      status.textContent = text;
    }
  };

  async function post (path, body)
  {
    const response = await fetch (path, {
      method : 'POST',
      credentials : 'same-origin',
      headers : { 'Content-Type' : 'application/json', 'X-CSRF-Token' : csrf },
      body : JSON.stringify(body),
    });
    let json = null;
    try {
      json = await response.json();
    } catch (e) {
      json = null;
    }
    return { ok : response.ok, status : response.status, json };
  }

  const errorOf = (r) => (r.json && r.json.error && r.json.error.message)
      || `HTTP ${r.status}`;

  // ---- finding a case (the picker) -----------------------------------

  const q = document.getElementById('pick-q');
  const queue = document.getElementById('queue');
  if (q && queue) {
    const original = Array.from(queue.children).map((li) => li.cloneNode(true));
    let timer = 0;
    let asked = 0;
    const boardLink = (id) => {
      const u = new URL (window.location.href);
      u.searchParams.set('case', String (id));
      ['move', 'booked', 'msg', 'lang'].forEach(
          (k) => u.searchParams.delete(k));
      return `${u.pathname}${u.search}`;
    };
    const search = async () => {
      const text = q.value.trim();
      const mine = ++asked;
      if (text === '') {
        queue.replaceChildren(...original.map((li) => li.cloneNode(true)));
        say ('');
        return;
      }
      const r = await post ('/api/v1/cases/search', { q : text,
        per_page :
            20 }).catch((e) => ({ ok : false, status : 0, json : null, e }));
      if (mine !== asked) {
        return; // a newer search has been sent
      }
      if (!r.ok) {
        say (`${_ ('The search failed:')} ${errorOf (r)}`);
        return;
      }
      const items = [];
      for (const hit of r.json.cases || []) {
        const k = hit.case || {};
        const li = document.createElement('li');
        const a = document.createElement('a');
        const bookable = k.department === 'court-mediation'
            && (k.status === 'dispatched' || k.status === 'not-settled');
        a.textContent = String (k.number || k.id);
        a.href = bookable ? boardLink (k.id) : `/cases/${Number (k.id)}`;
        a.dataset.case = String (k.id);
        li.append(a);
        const small = document.createElement('small');
        const names = (hit.parties || [])
                          .map((p) => String (p.name || ''))
                          .filter((n) => n)
                          .join(' · ');
        small.textContent = bookable
            ? names
            : `${names} (${_ ('not waiting for a session')})`;
        if (/[\u0F00-\u0FFF]/.test(names)) {
          small.lang = 'bo';
        }
        li.append(document.createElement('br'), small);
        items.push(li);
      }
      queue.replaceChildren(...items);
      say (items.length ? f (_ ('{n} cases found.'), { n : r.json.total })
                        : _ ('No case matches.'));
    };
    q.addEventListener('input', () => {
      clearTimeout (timer);
      timer = setTimeout (search, 250);
    });
  }

  if (!board) {
    return;
  }
  const date = board.dataset.date;
  const caseId = Number (board.dataset.case) || 0;
  const moveId = Number (board.dataset.move) || 0;

  // ---- what a cell would do, or why not ------------------------------

  let tipFor = null;
  function showTip (td)
  {
    if (!tip || !td || !td.dataset.tip) {
      return;
    }
    tip.textContent = td.dataset.tip;
    if (td.dataset.detail) {
      // the scheduler's reasons, already in the page's language
      const why = document.createElement('span');
      why.className = 'detail';
      why.textContent = td.dataset.detail;
      tip.append(why);
    }
    tip.hidden = false;
    const box = td.getBoundingClientRect();
    const left = Math.min(window.scrollX + box.left,
        window.scrollX + document.documentElement.clientWidth - 420);
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${window.scrollY + box.bottom + 4}px`;
    const target = td.querySelector('a') || td;
    target.setAttribute('aria-describedby', 'board-tip');
    tipFor = target;
  }
  function hideTip ()
  {
    if (tip) {
      tip.hidden = true;
    }
    if (tipFor) {
      tipFor.removeAttribute('aria-describedby');
      tipFor = null;
    }
  }
  board.addEventListener('mouseover', (event) => {
    const td = event.target.closest('td');
    if (td && td.dataset.tip) {
      showTip (td);
    }
  });
  board.addEventListener('mouseout', (event) => {
    const td = event.target.closest('td');
    if (td && !td.contains(event.relatedTarget)) {
      hideTip ();
    }
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      hideTip ();
    }
  });

  // ---- one tab stop, arrow keys between cells -------------------------

  const rows = Array.from(board.tBodies[0] ? board.tBodies[0].rows : [])
                   .map((tr) => Array.from(tr.cells).filter(
                            (c) => c.tagName === 'TD'));
  const column = (td) => {
    let c = 0;
    for (const x of td.parentElement.cells) {
      if (x === td) {
        return c;
      }
      c += x.colSpan;
    }
    return c;
  };
  const at = (row, col) => {
    for (const td of rows[row] || []) {
      const c = column (td);
      if (col >= c && col < c + td.colSpan) {
        return td;
      }
    }
    return (rows[row] || [])[0];
  };
  let current = null;
  function setCurrent (td, focus)
  {
    if (!td) {
      return;
    }
    if (current && current !== td) {
      current.tabIndex = -1;
      current.querySelectorAll('a').forEach((a) => { a.tabIndex = -1; });
    }
    current = td;
    const links = td.querySelectorAll('a');
    let target = td;
    if (links.length) {
      td.removeAttribute('tabindex');
      links.forEach((a) => { a.tabIndex = 0; });
      target = links[0];
    } else {
      td.tabIndex = 0;
    }
    if (focus) {
      target.focus();
    }
  }
  if (rows.length) {
    rows.flat().forEach((td) => {
      td.tabIndex = -1;
      td.querySelectorAll('a').forEach((a) => { a.tabIndex = -1; });
    });
    setCurrent (board.querySelector('td.fit') || rows[0][0], false);
  }
  board.addEventListener('focusin', (event) => {
    const td = event.target.closest('td');
    if (td) {
      if (td !== current) {
        setCurrent (td, false);
      }
      showTip (td);
    }
  });
  board.addEventListener('focusout', (event) => {
    if (!board.contains(event.relatedTarget)) {
      hideTip ();
    }
  });
  board.addEventListener('keydown', (event) => {
    const td = event.target.closest('td');
    if (!td || !current) {
      return;
    }
    const r = rows.findIndex((row) => row.includes(td));
    const i = rows[r].indexOf(td);
    let next = null;
    switch (event.key) {
      case 'ArrowRight':
        next = rows[r][i + 1];
        break;
      case 'ArrowLeft':
        next = rows[r][i - 1];
        break;
      case 'ArrowDown':
        next = r + 1 < rows.length ? at (r + 1, column (td)) : null;
        break;
      case 'ArrowUp':
        next = r > 0 ? at (r - 1, column (td)) : null;
        break;
      case 'Home':
        next = rows[r][0];
        break;
      case 'End':
        next = rows[r][rows[r].length - 1];
        break;
      default:
        return;
    }
    event.preventDefault();
    if (next) {
      hideTip ();
      setCurrent (next, true);
    }
  });

  // ---- one click books (or moves) ------------------------------------

  async function take (td)
  {
    const body = {
      start : td.dataset.start,
      room_id : Number (td.dataset.room),
      mediator_id : Number (td.dataset.mediator),
    };
    if (Number (td.dataset.interpreter) > 0) {
      body.interpreter_id = Number (td.dataset.interpreter);
    }
    if (moveId) {
      say (_ ('Moving…'));
      const r = await post (`/api/v1/bookings/${moveId}/reschedule`, body);
      if (r.ok) {
        window.location.assign(`/board?date=${encodeURIComponent (date)}` +
            '&msg=moved');
      } else {
        say (`${_ ('Not moved:')} ${errorOf (r)}`);
      }
      return;
    }
    body.case_id = caseId;
    say (_ ('Booking…'));
    const r = await post ('/api/v1/bookings', body);
    if (r.ok && r.json && r.json.booking) {
      window.location.assign(`/board?date=${encodeURIComponent (date)}` +
          `&booked=${Number (r.json.booking.id)}&msg=booked`);
    } else {
      say (`${_ ('Not booked:')} ${errorOf (r)}`);
    }
  }
  board.addEventListener('click', (event) => {
    const a = event.target.closest('td.fit a');
    if (!a || event.ctrlKey || event.metaKey || event.shiftKey) {
      return; // a new tab gets the preview page
    }
    event.preventDefault();
    take (a.closest('td')).catch((e) => say (`${_ ('Not booked:')} ${e}`));
  });

  // ---- drag a session to move it -------------------------------------

  let dragged = null;
  const dropCell
      = (event) => event.target.closest(moveId ? 'td.free, td.fit' : 'td.free');
  board.addEventListener('dragstart', (event) => {
    const cell = event.target.closest('td.booked[draggable="true"]');
    if (!cell) {
      return;
    }
    dragged = cell.dataset.booking;
    cell.classList.add('dragging');
    hideTip ();
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('text/plain', dragged);
  });
  board.addEventListener('dragend', (event) => {
    const cell = event.target.closest('td.booked');
    if (cell) {
      cell.classList.remove('dragging');
    }
    board.querySelectorAll('.drop-target').forEach(
        (c) => c.classList.remove('drop-target'));
  });
  board.addEventListener('dragover', (event) => {
    const cell = dropCell (event);
    if (cell && dragged) {
      event.preventDefault();
      cell.classList.add('drop-target');
    }
  });
  board.addEventListener('dragleave', (event) => {
    const cell = dropCell (event);
    if (cell) {
      cell.classList.remove('drop-target');
    }
  });
  board.addEventListener('drop', async (event) => {
    const cell = dropCell (event);
    if (!cell || !dragged) {
      return;
    }
    event.preventDefault();
    const id = dragged;
    dragged = null;
    say (_ ('Moving…'));
    try {
      const r = await post (`/api/v1/bookings/${id}/reschedule`, {
        start : cell.dataset.start,
        room_id : Number (cell.dataset.room),
      });
      if (r.ok) {
        say (_ ('Moved.'));
        window.location.reload();
      } else {
        say (`${_ ('Not moved:')} ${errorOf (r)}`);
      }
    } catch (e) {
      say (`${_ ('Not moved:')} ${e}`);
    }
  });
});
