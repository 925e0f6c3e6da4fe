/* The account page (/account): sets the reserved message (PUT
 * /api/v1/me/reserved-message), checks the payment password on the
 * shuffled keypad (POST /api/v1/me/keypads/{id}/check) and signs out.
 * The CSRF token is the one the login page kept for this tab. */
'use strict';
(function () {
  var page = document.body.dataset;
  var csrf = sessionStorage.getItem('anfu_csrf');

  function call(method, path, body) {
    return fetch(path, { method: method, credentials: 'same-origin',
                         headers: { 'Content-Type': 'application/json',
                                    'Accept-Language': page.lang,
                                    'X-CSRF-Token': csrf || '' },
                         body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; })
          .then(function (j) { return { status: r.status, body: j }; });
      });
  }
  function show(id, text, cls) {
    var m = document.getElementById(id);
    m.textContent = text;
    m.className = 'msg ' + cls;
  }
  var rf = document.getElementById('reserved-form');
  if (rf) rf.addEventListener('submit', function (e) {
    e.preventDefault();
    var v = document.getElementById('reserved-input').value;
    call('PUT', '/api/v1/me/reserved-message', { message: v }).then(function (r) {
      if (r.status === 200) {
        document.getElementById('reserved-current').textContent = r.body.message;
        show('reserved-msg', page.saved, 'ok');
      } else if (r.status === 401 || r.status === 403) {
        show('reserved-msg', page.sessionLost, 'error');
      } else {
        show('reserved-msg', page.bad, 'error');
      }
    });
  });
  var kp = document.querySelector('.keypad-box');
  if (kp) {
    window.anfuKeypad(kp, function (id, positions) {
      call('POST', '/api/v1/me/keypads/' + encodeURIComponent(id) + '/check',
           { positions: positions }).then(function (r) {
        if (r.status === 200) { show('pin-msg', page.pinOk, 'ok'); }
        else if (r.body.error && r.body.error.code === 'payment_password_invalid') {
          show('pin-msg', page.pinWrong, 'error');
        } else { show('pin-msg', page.pinRefused, 'error'); }
      });
    });
  }
  document.getElementById('logout').addEventListener('click', function () {
    call('POST', '/api/v1/auth/logout', {}).then(function () {
      sessionStorage.removeItem('anfu_csrf');
      window.location.assign('/login?lang=' + page.lang);
    });
  });
}());
