/*
 * bank/client: one signed HTTPS request of the bank channel with libcurl,
 * for both directions (anfud's connector to the bank, anfu-banksim's
 * callbacks to anfud): the peer's certificate pinned as the only trusted
 * one, the message signed (bank/wire.c: timestamp, nonce, signature
 * headers), a timeout, the answer capped. The only file of the bank
 * channel that includes curl.h.
 *
 * Owns each request's curl handle and answer buffer. Trusts nothing in
 * the answer beyond its size cap: callers parse it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bank/bank.h"
#include "bank/client.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "crypto/crypto.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
	struct anfu_buf *b = ud;

	if (anfu_buf_append(b, p, size * n) < 0)
		return 0; /* over the cap: curl fails the transfer */
	return size * n;
}

/* The three signature headers of the message into h (curl list). */
static int sign_headers(const struct anfu_bank_call *c, struct curl_slist **h)
{
	uint8_t rnd[ANFU_BANK_NONCE_LEN / 2], sig[ANFU_SIG_MAX];
	char nonce[ANFU_BANK_NONCE_LEN + 1], line[512];
	size_t siglen = sizeof(sig), len = 0;
	int64_t ts = c->ts_ms ? c->ts_ms : anfu_clock_now_ms();
	char *bytes = NULL, *b64 = NULL;
	int r;

	anfu_crypto_random(rnd, sizeof(rnd));
	anfu_hex_encode(rnd, sizeof(rnd), nonce);
	if (c->nonce && strlen(c->nonce) == ANFU_BANK_NONCE_LEN)
		memcpy(nonce, c->nonce, sizeof(nonce));
	r = anfu_bank_wire_signed_bytes(c->method, c->path, ts, nonce, c->body,
					c->body ? strlen(c->body) : 0, &bytes, &len);
	if (r == 0)
		r = c->sign(c->sign_ud, bytes, len, sig, &siglen);
	free(bytes);
	if (r < 0)
		return r;
	b64 = anfu_base64_encode(sig, siglen);
	(void)snprintf(line, sizeof(line), ANFU_BANK_H_TIMESTAMP ": %lld", (long long)ts);
	*h = curl_slist_append(*h, line);
	(void)snprintf(line, sizeof(line), ANFU_BANK_H_NONCE ": %s", nonce);
	*h = curl_slist_append(*h, line);
	(void)snprintf(line, sizeof(line), ANFU_BANK_H_SIGNATURE ": %s", b64);
	*h = curl_slist_append(*h, line);
	*h = curl_slist_append(*h, "Content-Type: application/json");
	free(b64);
	return *h ? 0 : ANFU_EINTERNAL;
}

int anfu_bank_http_call(const struct anfu_bank_call *c, int *ret_status, char **ret_body)
{
	struct curl_slist *h = NULL;
	struct anfu_buf answer;
	char url[1024];
	CURL *e = NULL;
	CURLcode rc;
	long status = 0;
	int r, n;

	if (!c || !c->base_url || !c->ca_file || !c->method || !c->path || !c->sign ||
	    !ret_status || !ret_body)
		return ANFU_EINVAL;
	(void)pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return ANFU_EINTERNAL;
	n = snprintf(url, sizeof(url), "%s%s", c->base_url, c->path);
	if (n < 0 || (size_t)n >= sizeof(url))
		return ANFU_EINVAL;
	r = sign_headers(c, &h);
	if (r < 0)
		goto out_headers;
	anfu_buf_init(&answer, ANFU_LIMIT_BANK_ANSWER_BYTES);
	e = curl_easy_init();
	if (!e) {
		r = ANFU_EINTERNAL;
		goto out;
	}
	(void)curl_easy_setopt(e, CURLOPT_URL, url);
	(void)curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	(void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->timeout_ms);
	(void)curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	(void)curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, &answer);
	if (strcmp(c->method, "POST") == 0) {
		(void)curl_easy_setopt(e, CURLOPT_POST, 1L);
		(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body ? c->body : "");
	}
	rc = curl_easy_perform(e);
	if (rc != CURLE_OK) {
		anfu_log_info("bank.client", "%s %s: no answer (%s)", c->method, c->path,
			      curl_easy_strerror(rc));
		r = ANFU_ETIMEDOUT;
		goto out;
	}
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (anfu_buf_append(&answer, "", 1) < 0) {
		r = ANFU_ELIMIT;
		goto out;
	}
	*ret_status = (int)status;
	*ret_body = (char *)answer.data;
	answer.data = NULL;
	r = 0;
out:
	anfu_buf_free(&answer);
	curl_easy_cleanup(e);
out_headers:
	curl_slist_free_all(h);
	return r;
}
