/* The hosted cashier page (/pay/{order}, pay/api/cashier.c): the
 * payment password is entered on the shuffled keypad; the positions go to
 * POST /api/v1/me/orders/{id}/pay {keypad_id, positions, request_id}.
 * Success shows the result and the merchant's return link (the order's
 * stored return URL, written by the server); a refusal shows the API's
 * message in the page's language and offers a new keypad (a keypad is
 * single use). Opened from a pay-on-behalf link (data-share, the link's
 * token), it pays through POST /api/v1/me/shared-orders/{token}/pay with
 * the same body, and "Try again" keeps the link. The CSRF token is the one
 * the login page kept for this tab. */
'use strict';
(function () {
  var page = document.body.dataset;
  var csrf = sessionStorage.getItem('anfu_csrf');
  var kp = document.querySelector('.keypad-box');
  if (!kp || !page.order) return;
  var requestId = 'cashier-' + Array.prototype.map.call(
    window.crypto.getRandomValues(new Uint8Array(12)),
    function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');

  function show(text) {
    var m = document.getElementById('pay-msg');
    m.textContent = text;
    m.className = 'msg error';
  }
  function retry(loginFirst) {
    var a = document.getElementById('retry-link');
    var here = window.location.pathname + '?' +
      (page.share ? 'share=' + encodeURIComponent(page.share) + '&' : '') + 'lang=' + page.lang;
    a.href = loginFirst
      ? '/login?lang=' + page.lang + '&next=' + encodeURIComponent(here)
      : here;
    document.getElementById('retry').className = '';
  }
  window.anfuKeypad(kp, function (id, positions) {
    var url = page.share
      ? '/api/v1/me/shared-orders/' + encodeURIComponent(page.share) + '/pay'
      : '/api/v1/me/orders/' + encodeURIComponent(page.order) + '/pay';
    fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept-Language': page.lang,
                 'X-CSRF-Token': csrf || '' },
      body: JSON.stringify({ keypad_id: id, positions: positions, request_id: requestId })
    }).then(function (r) {
      return r.json().catch(function () { return {}; })
        .then(function (j) { return { status: r.status, body: j }; });
    }).then(function (r) {
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
      if (e.code === 'step_up_required') { show(page.stepUp); retry(true); return; }
      /* The API's message is in the page's language (Accept-Language);
       * the field it may name is for developers, not shown. */
      var text = e.message || page.failed;
      [': ', '\uff1a'].forEach(function (sep) {
        var tail = sep + (e.field || '');
        if (e.field && text.slice(-tail.length) === tail) text = text.slice(0, -tail.length);
      });
      show(text);
      retry(false);
    }, function () {
      show(page.failed);
      retry(false);
    });
  });
}());
