/* SPDX-License-Identifier: GPL-3.0-or-later */
// medsched.js — small helpers for every page. The pages work without it.
'use strict';

// The page's texts for scripts: the catalogue of the page's language from
// the server (/static/i18n/<lang>.json, named by a <meta>), English
// message ids in, translations out. Scripts that show text start once
// MedI18n.ready has settled; a missing catalogue leaves the English.
window.MedI18n = (() => {
  let table = {};
  const meta = document.querySelector('meta[name="medsched-i18n"]');
  const ready = meta ?
    fetch(meta.content, { credentials: 'same-origin' })
        .then((r) => (r.ok ? r.json() : {}))
        .then((t) => {
          table = t && typeof t === 'object' ? t : {};
        })
        .catch(() => {}) :
    Promise.resolve();
  const _ = (s) => (Object.prototype.hasOwnProperty.call(table, s) ?
    table[s] : s);
  const N_ = (s) => s;
  // fills {name} placeholders
  const f = (s, values) => s.replace(/\{(\w+)\}/g, (m, k) =>
    (Object.prototype.hasOwnProperty.call(values, k) ? String(values[k]) : m));
  // The model's one label of a code the server sent ('party-role',
  // 'applicant'), as the catalogue carries it ("party-role\x04applicant");
  // the code itself when unknown.
  const label = (kind, word) => {
    const k = `${kind}\x04${word}`;
    return Object.prototype.hasOwnProperty.call(table, k) ? table[k]
                                                          : String (word || '');
  };
  return { ready, _, N_, f, label };
})();

document.addEventListener('submit', (event) => {
  const button = event.submitter;
  if (button && button.classList.contains('danger') &&
      !window.confirm(window.MedI18n._('Are you sure?'))) {
    event.preventDefault();
  }
});
