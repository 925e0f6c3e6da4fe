/* The hosted cashier page (/pay/{order}, pay/api/cashier.c): the
 * payment password is entered on the shuffled keypad; the positions go to
 * POST /api/v1/me/orders/{id}/pay {keypad_id, positions, request_id}.
 * Success shows the result and the merchant's return link (the order's
 * stored return URL, written by the server); a refusal shows the API's
 * message in the page's language and offers a new keypad (a keypad is
 * single use). Opened from a pay-on-behalf link (data-share, the link's
 * token), it pays through POST /api/v1/me/shared-orders/{token}/pay with
 * the same body, and "Try again" keeps the link. The CSRF token is the one
 * the login page kept for this tab.
 *
 * step_up_required (above the PIN-only limits) opens the in-page second
 * factor (#step-up): "Send code" asks POST /api/v1/auth/codes for a
 * step_up code by SMS to the bound phone, then waits data-resend-s
 * seconds (mfa.code_resend) before it can send again; "Verify" posts the
 * code to POST /api/v1/auth/step-up. A wrong code shows the API's message
 * (counted by the server's rules). On success the session was rotated:
 * the new CSRF token is kept and the page is loaded again (the way "Try
 * again" gets a new keypad), saying that the payment password is asked
 * again. No phone bound (method_unavailable): the "sign in again" link. */
'use strict';
(function () {
  var page = document.body.dataset;
  var kp = document.querySelector('.keypad-box');
  if (!kp || !page.order) return;
  var VERIFIED = 'anfu_cashier_verified';
  var requestId = 'cashier-' + Array.prototype.map.call(
    window.crypto.getRandomValues(new Uint8Array(12)),
    function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  var here = window.location.pathname + '?' +
    (page.share ? 'share=' + encodeURIComponent(page.share) + '&' : '') + 'lang=' + page.lang;
  var stepBox = document.getElementById('step-up');
  var sendBtn = document.getElementById('step-up-send');
  var codeInput = document.getElementById('step-up-code');
  var sendLabel = sendBtn.textContent;

  function say(id, text, cls) {
    var m = document.getElementById(id);
    m.textContent = text;
    m.className = 'msg ' + cls;
  }
  function show(text) { say('pay-msg', text, 'error'); }
  function retry(loginFirst) {
    var a = document.getElementById('retry-link');
    a.href = loginFirst
      ? '/login?lang=' + page.lang + '&next=' + encodeURIComponent(here)
      : here;
    document.getElementById('retry').className = '';
  }
  function post(url, body) {
    return fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': page.lang,
                 'X-CSRF-Token': sessionStorage.getItem('anfu_csrf') || '' },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; })
        .then(function (j) { return { status: r.status, body: j }; });
    });
  }
  /* The API's message is in the page's language (Accept-Language); the
   * field it may name is for developers, not shown. */
  function apiText(e) {
    var text = e.message || page.failed;
    [': ', '\uff1a'].forEach(function (sep) {
      var tail = sep + (e.field || '');
      if (e.field && text.slice(-tail.length) === tail) text = text.slice(0, -tail.length);
    });
    return text;
  }
  function signInAgain(text) {
    stepBox.className = 'hidden';
    show(text);
    retry(true);
  }
  /* mfa.code_resend: no second code before the wait is over. */
  function wait(seconds) {
    var left = seconds;
    function tick() {
      if (left <= 0) {
        sendBtn.disabled = false;
        sendBtn.textContent = sendLabel;
        return;
      }
      sendBtn.disabled = true;
      sendBtn.textContent = page.codeWait.replace('{n}', String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  if (sessionStorage.getItem(VERIFIED) === page.order) {
    sessionStorage.removeItem(VERIFIED);
    say('pay-msg', page.verified, 'ok');
  }

  sendBtn.addEventListener('click', function () {
    sendBtn.disabled = true;
    post('/api/v1/auth/codes', { purpose: 'step_up', channel: 'sms' }).then(function (r) {
      var e = r.body.error || {};
      if (r.status === 202) {
        say('step-up-msg', page.codeSent.replace('{to}', r.body.sent_to || ''), 'ok');
        wait(parseInt(page.resendS, 10) || 0);
        codeInput.focus();
        return;
      }
      sendBtn.disabled = false;
      if (r.status === 401) { signInAgain(page.sessionLost); return; }
      if (e.code === 'method_unavailable') { signInAgain(page.stepUpSignin); return; }
      say('step-up-msg', apiText(e), 'error');
    }, function () {
      sendBtn.disabled = false;
      say('step-up-msg', page.failed, 'error');
    });
  });
  function verify() {
    post('/api/v1/auth/step-up', { method: 'sms', code: codeInput.value.trim() })
      .then(function (r) {
        var e = r.body.error || {};
        if (r.status === 200) {
          /* The step-up rotated the session and its CSRF token. */
          if (r.body.csrf_token) sessionStorage.setItem('anfu_csrf', r.body.csrf_token);
          sessionStorage.setItem(VERIFIED, page.order);
          window.location.replace(here);
          return;
        }
        codeInput.value = '';
        if (r.status === 401) { signInAgain(page.sessionLost); return; }
        say('step-up-msg', apiText(e), 'error');
      }, function () {
        say('step-up-msg', page.failed, 'error');
      });
  }
  document.getElementById('step-up-verify').addEventListener('click', verify);
  codeInput.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') { ev.preventDefault(); verify(); }
  });

  window.anfuKeypad(kp, function (id, positions) {
    var url = page.share
      ? '/api/v1/me/shared-orders/' + encodeURIComponent(page.share) + '/pay'
      : '/api/v1/me/orders/' + encodeURIComponent(page.order) + '/pay';
    post(url, { keypad_id: id, positions: positions, request_id: requestId }).then(function (r) {
      kp.className = 'keypad-box hidden';
      if (r.status === 200 || r.status === 201) {
        document.getElementById('pay-box').className = 'hidden';
        document.getElementById('result').className = '';
        var back = document.getElementById('return');
        if (back) back.className = 'return';
        return;
      }
      var e = r.body.error || {};
      if (r.status === 401) { show(page.sessionLost); retry(true); return; }
      if (e.code === 'step_up_required') {
        show(page.stepUp);
        stepBox.className = '';
        codeInput.focus();
        return;
      }
      show(apiText(e));
      retry(false);
    }, function () {
      show(page.failed);
      retry(false);
    });
  });
}());
