/* The login page (/login): calls the JSON login API, then its second
 * factor (SMS code) when the API asks for one, keeps the CSRF token for
 * this tab (sessionStorage) and goes to the page's checked ?next= path.
 * No inline script: the page's strings come from data- attributes. */
'use strict';
(function () {
  var form = document.getElementById('login-form');
  var mfa = document.getElementById('mfa-form');
  var msg = document.getElementById('login-msg');
  var page = document.body.dataset;

  function show(text, cls) {
    msg.textContent = text;
    msg.className = 'msg ' + cls;
  }
  function post(path, body, csrf) {
    var h = { 'Content-Type': 'application/json', 'Accept-Language': page.lang };
    if (csrf) { h['X-CSRF-Token'] = csrf; }
    return fetch(path, { method: 'POST', headers: h, body: JSON.stringify(body),
                         credentials: 'same-origin' })
      .then(function (r) {
        return r.json().catch(function () { return {}; })
          .then(function (j) { return { status: r.status, body: j }; });
      });
  }
  function done(j) {
    sessionStorage.setItem('anfu_csrf', j.csrf_token);
    window.location.assign(page.next);
  }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var pw = document.getElementById('password');
    post('/api/v1/auth/login', { login: document.getElementById('login').value,
                                 password: pw.value })
      .then(function (r) {
        pw.value = '';
        if (r.status !== 200) {
          show(r.body.error && r.body.error.code === 'invalid_credentials'
               ? page.failed : page.error, 'error');
          return;
        }
        if (r.body.state === 'mfa_required') {
          sessionStorage.setItem('anfu_csrf', r.body.csrf_token);
          form.classList.add('hidden');
          mfa.classList.remove('hidden');
          return;
        }
        done(r.body);
      });
  });
  document.getElementById('code-send').addEventListener('click', function () {
    post('/api/v1/auth/codes', { purpose: 'login', channel: 'sms' },
         sessionStorage.getItem('anfu_csrf'))
      .then(function (r) {
        if (r.status === 202) { show(page.codeSent, 'ok'); } else { show(page.error, 'error'); }
      });
  });
  mfa.addEventListener('submit', function (e) {
    e.preventDefault();
    post('/api/v1/auth/mfa', { method: 'sms', code: document.getElementById('code').value },
         sessionStorage.getItem('anfu_csrf'))
      .then(function (r) {
        if (r.status !== 200) { show(page.codeFailed, 'error'); return; }
        done(r.body);
      });
  });
}());
