/* Keyboard use of the command centre's lists: j / k (or ↓ / ↑) move between rows,
 * Enter opens the row's case. Typing in a form field is never intercepted. */
(function () {
  'use strict';
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll('[data-keyboard-list] tbody tr, [data-keyboard-item]'));
  }
  let current = -1;
  function select(index) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) { row.classList.toggle('selected', i === current); });
    const link = all[current].querySelector('[data-row-link]');
    if (link) link.focus();
    all[current].scrollIntoView({block: 'nearest'});
  }
  document.addEventListener('keydown', function (event) {
    const target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (target.closest('input, textarea, select, [contenteditable]')) return;
    if (event.key === 'j' || event.key === 'ArrowDown') { select(current + 1); event.preventDefault(); }
    else if (event.key === 'k' || event.key === 'ArrowUp') { select(current - 1); event.preventDefault(); }
  });
})();
