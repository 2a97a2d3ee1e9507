// board.js — drag a booked session onto a free slot of the day board to
// move it (POST /api/v1/bookings/ID/reschedule with the session's CSRF
// token). Moving by the "Move" form works without this script, and from
// the keyboard.
'use strict';

window.MedI18n.ready.then(() => {
  const { _ } = window.MedI18n;
  const board = document.getElementById('board');
  const status = document.getElementById('board-status');
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (!board || !meta) {
    return;
  }
  let dragged = null;

  board.addEventListener('dragstart', (event) => {
    const cell = event.target.closest('td.booked');
    if (!cell) {
      return;
    }
    dragged = cell.dataset.booking;
    cell.classList.add('dragging');
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
    const cell = event.target.closest('td.free');
    if (cell && dragged) {
      event.preventDefault();
      cell.classList.add('drop-target');
    }
  });
  board.addEventListener('dragleave', (event) => {
    const cell = event.target.closest('td.free');
    if (cell) {
      cell.classList.remove('drop-target');
    }
  });
  board.addEventListener('drop', async (event) => {
    const cell = event.target.closest('td.free');
    if (!cell || !dragged) {
      return;
    }
    event.preventDefault();
    const id = dragged;
    dragged = null;
    status.textContent = _('Moving…');
    try {
      const response = await fetch(`/api/v1/bookings/${id}/reschedule`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          'Content-Type': 'application/json',
          'X-CSRF-Token': meta.content,
        },
        body: JSON.stringify({
          start: cell.dataset.start,
          room_id: Number(cell.dataset.room),
        }),
      });
      const body = await response.json();
      if (response.ok) {
        status.textContent = _('Moved.');
        window.location.reload();
      } else {
        status.textContent = `${_('Not moved:')} ${body.error.message}`;
      }
    } catch (e) {
      status.textContent = `${_('Not moved:')} ${e}`;
    }
  });
});
