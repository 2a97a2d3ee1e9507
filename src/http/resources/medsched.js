// medsched.js — small helpers for every page. The pages work without it.
'use strict';

document.addEventListener('submit', (event) => {
  const button = event.submitter;
  if (button && button.classList.contains('danger') &&
      !window.confirm('确定吗？ Are you sure?')) {
    event.preventDefault();
  }
});
