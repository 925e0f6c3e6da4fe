/* The shuffled payment keypad (WEB-KBD-01): the server rendered the keys
 * in a random order for this display; this script only records which
 * POSITIONS were pressed (data-pos), shows one dot per key (WEB-PWD-01)
 * and hands the positions to the page's handler. It never sees a digit
 * as a digit: the server maps positions back (docs/web.md).
 * Usage: anfuKeypad(element, function (keypadId, positions) { ... }). */
'use strict';
window.anfuKeypad = function (root, onDone) {
  var pos = '';
  var dots = root.querySelector('.keypad-dots');
  var max = parseInt(root.dataset.length, 10) || 6;
  function redraw() { dots.textContent = '\u2022'.repeat(pos.length); }
  root.querySelectorAll('button[data-pos]').forEach(function (b) {
    b.addEventListener('click', function () {
      if (pos.length < max) { pos += b.dataset.pos; redraw(); }
    });
  });
  root.querySelector('button.keypad-clear').addEventListener('click', function () {
    pos = ''; redraw();
  });
  root.querySelector('button.keypad-ok').addEventListener('click', function () {
    var p = pos;
    pos = ''; redraw();
    onDone(root.dataset.keypad, p);
  });
};
