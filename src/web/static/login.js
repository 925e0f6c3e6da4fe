/* The login page (/login), in two steps (WEB-PHISH-01): the name first;
 * "Next" asks /api/v1/auth/reserved-message for the name's reserved
 * message and shows it (as text, never HTML; a neutral line when there is
 * none) above the password field, which is enabled only then; "change the
 * name" goes back. Then it calls the JSON login API, then its second
 * factor (SMS code) when the API asks for one, keeps the CSRF token for
 * this tab (sessionStorage) and goes to the page's checked ?next= path.
 * Captcha: with data-captcha="always" the password step shows one; else
 * when the API answers captcha_required, and after every failed attempt
 * (an attempt uses its captcha up; the next may need one). The image is
 * loaded from the captcha's same-origin image_url (CSP img-src 'self').
 * No inline script: the page's strings come from data- attributes. */
'use strict';
(function () {
  var nameForm = document.getElementById('name-form');
  var form = document.getElementById('login-form');
  var nameInput = document.getElementById('login');
  var pwInput = document.getElementById('password');
  var reservedBox = document.getElementById('reserved-box');
  var reservedText = document.getElementById('reserved-text');
  var reservedUnset = document.getElementById('reserved-unset');
  var mfa = document.getElementById('mfa-form');
  var msg = document.getElementById('login-msg');
  var page = document.body.dataset;
  var captchaBox = document.getElementById('captcha-box');
  var captchaImg = document.getElementById('captcha-img');
  var captchaAnswer = document.getElementById('captcha-answer');
  var captchaId = null;

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
  function newCaptcha() {
    captchaId = null;
    captchaAnswer.value = '';
    return post('/api/v1/captcha', { purpose: 'login' }).then(function (r) {
      if (r.status !== 201) { show(page.error, 'error'); return; }
      captchaId = r.body.captcha_id;
      captchaImg.src = r.body.image_url;
      captchaBox.classList.remove('hidden');
      captchaAnswer.required = true;
    });
  }
  function errorText(code) {
    if (code === 'invalid_credentials') { return page.failed; }
    if (code === 'captcha_required') { return page.captchaRequired; }
    if (code === 'captcha_invalid') { return page.captchaInvalid; }
    return page.error;
  }
  function nameStep() {
    pwInput.value = '';
    pwInput.disabled = true;
    reservedText.textContent = '';
    reservedBox.classList.add('hidden');
    reservedUnset.classList.add('hidden');
    form.classList.add('hidden');
    nameForm.classList.remove('hidden');
    show('', '');
    nameInput.focus();
  }
  function passwordStep(message) {
    reservedText.textContent = message;
    reservedBox.classList.toggle('hidden', message === '');
    reservedUnset.classList.toggle('hidden', message !== '');
    document.getElementById('login-who').textContent = nameInput.value;
    nameForm.classList.add('hidden');
    form.classList.remove('hidden');
    pwInput.disabled = false;
    show('', '');
    // A fresh captcha for the password step, when one is shown.
    if (page.captcha === 'always' || captchaId) { newCaptcha(); }
    pwInput.focus();
  }
  nameForm.addEventListener('submit', function (e) {
    e.preventDefault();
    post('/api/v1/auth/reserved-message', { login: nameInput.value })
      .then(function (r) {
        if (r.status === 200 && typeof r.body.message === 'string') {
          passwordStep(r.body.message);
          return;
        }
        var code = r.body.error && r.body.error.code;
        show(code === 'too_many_requests' || code === 'too_many_failures'
          ? page.tooMany : page.error, 'error');
      });
  });
  document.getElementById('change-name').addEventListener('click', function (e) {
    e.preventDefault();
    nameStep();
  });
  function done(j) {
    sessionStorage.setItem('anfu_csrf', j.csrf_token);
    window.location.assign(page.next);
  }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var pw = pwInput;
    var body = { login: nameInput.value, password: pw.value };
    if (captchaId) {
      body.captcha_id = captchaId;
      body.captcha_answer = captchaAnswer.value;
    }
    post('/api/v1/auth/login', body)
      .then(function (r) {
        pw.value = '';
        if (r.status !== 200) {
          var text = errorText(r.body.error && r.body.error.code);
          // The attempt used the captcha up: a new one for the next try.
          newCaptcha().then(function () { show(text, 'error'); });
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
  document.getElementById('captcha-refresh').addEventListener('click', function () {
    newCaptcha();
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
