/*
 * notify/smtp: email through an SMTP relay with libcurl.
 *
 * Owns the message format (RFC 5322 headers; a non-ASCII subject as RFC
 * 2047 UTF-8 encoded words; a text/plain UTF-8 body in base64, so no line
 * of ours is ever too long or starts a dot) and the libcurl session with
 * [mail] smtp_url. Only this file includes curl.h. smtps:// verifies the
 * relay's certificate and name; smtp:// is plain (a relay on the same
 * host or network: use smtps:// otherwise). Trusts the relay's verdict
 * and nothing it says: its replies are never logged or stored, only
 * libcurl's fixed error names and the reply code. The URL may hold
 * credentials and is never logged either.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "notify/internal.h"

/* Raw bytes per encoded word: base64 of 39 bytes is 52 characters, so
 * "Subject: " + "=?UTF-8?B?" + 52 + "?=" is 73, within RFC 5322's 78 per
 * line (and each word within RFC 2047's 75). */
#define WORD_RAW 39
/* Body base64 line length (RFC 2045: at most 76). */
#define B64_LINE 76
#define ADDR_MAX 254

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A bare address for MAIL FROM / RCPT TO and the From/To headers: one
 * '@', printable ASCII, none of the characters that would end or quote
 * a header or an SMTP path. */
static bool addr_ok(const char *s)
{
	size_t len, at = 0;

	if (!s)
		return false;
	len = strnlen(s, ADDR_MAX + 1);
	if (len == 0 || len > ADDR_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c < 0x21 || c > 0x7e || strchr("<>()[]\\,;:\"", c))
			return false;
		if (c == '@')
			at++;
	}
	return at == 1 && s[0] != '@' && s[len - 1] != '@';
}

/* "Thu, 21 Nov 2026 13:12:00 +0000" (RFC 5322 3.3), locale-free. */
static void rfc5322_date(int64_t ms, char out[40])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
	    tm.tm_mon > 11) {
		memcpy(out, "Thu, 1 Jan 1970 00:00:00 +0000", 31);
		return;
	}
	(void)snprintf(out, 40, "%s, %d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		       months[tm.tm_mon], (tm.tm_year + 1900) % 10000, tm.tm_hour, tm.tm_min,
		       tm.tm_sec);
}

static bool plain_ascii(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	/* Text that looks like an encoded word is encoded, so a reader
	 * cannot be made to decode what we meant literally. */
	return !strstr(s, "=?");
}

/* Appends the Subject header value: as is when plain ASCII, else as
 * folded UTF-8 "B" encoded words never splitting a character. */
static int append_subject(struct anfu_buf *out, const char *subject)
{
	size_t len = strlen(subject), off = 0;
	int r = 0;

	if (plain_ascii(subject))
		return anfu_buf_append(out, subject, len);
	while (off < len && r == 0) {
		size_t n = len - off < WORD_RAW ? len - off : WORD_RAW;
		char *b64;

		/* Back off to the start of a UTF-8 sequence. */
		while (n > 1 && off + n < len && ((unsigned char)subject[off + n] & 0xc0) == 0x80)
			n--;
		b64 = anfu_base64_encode(subject + off, n);
		r = anfu_buf_appendf(out, "%s=?UTF-8?B?%s?=", off ? "\r\n " : "", b64);
		free(b64);
		off += n;
	}
	return r;
}

/* Appends base64 of body in canonical form (every line break CRLF), cut
 * into lines of B64_LINE. */
static int append_body(struct anfu_buf *out, const char *body)
{
	struct anfu_buf canon;
	char *b64 = NULL;
	size_t len;
	int r = 0;

	anfu_buf_init_secret(&canon, 2 * ANFU_LIMIT_NOTIFY_BODY_BYTES + 1);
	for (const char *p = body; *p && r == 0; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			r = anfu_buf_append(&canon, "\r\n", 2);
		else if (*p == '\r' && p[1] != '\n')
			r = anfu_buf_append(&canon, "\r\n", 2);
		else
			r = anfu_buf_append(&canon, p, 1);
	}
	if (r == 0)
		b64 = anfu_base64_encode(canon.data ? canon.data : "", canon.len);
	len = b64 ? strlen(b64) : 0;
	for (size_t off = 0; off < len && r == 0; off += B64_LINE) {
		size_t n = len - off < B64_LINE ? len - off : B64_LINE;

		r = anfu_buf_append(out, b64 + off, n);
		if (r == 0)
			r = anfu_buf_append(out, "\r\n", 2);
	}
	if (b64)
		anfu_free_secret(b64);
	anfu_buf_free(&canon);
	return r;
}

/* See internal.h. ANFU_ELIMIT when out's cap is too small. */
int notify_mail_format(const char *from, const char *to, const char *msg_id, int64_t now_ms,
		       const char *subject, const char *body, struct anfu_buf *out)
{
	const char *domain;
	char date[40];
	int r;

	if (!addr_ok(from) || !addr_ok(to) || !msg_id || !subject || !body || !out)
		return ANFU_EINVAL;
	domain = strchr(from, '@') + 1;
	rfc5322_date(now_ms, date);
	r = anfu_buf_appendf(out,
			     "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s@%s>\r\n"
			     "Subject: ",
			     date, from, to, msg_id, domain);
	if (r == 0)
		r = append_subject(out, subject);
	if (r == 0)
		r = anfu_buf_appends(out, "\r\nMIME-Version: 1.0\r\n"
					  "Content-Type: text/plain; charset=UTF-8\r\n"
					  "Content-Transfer-Encoding: base64\r\n\r\n");
	if (r == 0)
		r = append_body(out, body);
	return r;
}

/* ---- the SMTP session --------------------------------------------------- */

struct upload {
	const char *data;
	size_t len;
	size_t off;
};

static size_t read_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct upload *u = ud;
	size_t room, n;

	if (__builtin_mul_overflow(size, nmemb, &room))
		room = SIZE_MAX;
	n = u->len - u->off < room ? u->len - u->off : room;
	memcpy(ptr, u->data + u->off, n);
	u->off += n;
	return n;
}

/* The verdict on a finished session: 5xx replies are permanent. */
static int verdict(CURL *c, CURLcode rc, char *err, size_t errcap)
{
	long code = 0;

	if (rc == CURLE_OK)
		return 0;
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	(void)snprintf(err, errcap, "smtp: %s (reply %ld)", curl_easy_strerror(rc), code);
	return code >= 500 && code < 600 ? ANFU_EINVAL : ANFU_EIO;
}

static int run_session(const struct anfu_config *cfg, const char *to, struct upload *u, char *err,
		       size_t errcap)
{
	char path[ADDR_MAX + 3];
	struct curl_slist *rcpt = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc;
	int r;

	if (!c) {
		(void)snprintf(err, errcap, "smtp: cannot start a session");
		return ANFU_EIO;
	}
	(void)snprintf(path, sizeof(path), "<%s>", to);
	rcpt = curl_slist_append(NULL, path);
	(void)snprintf(path, sizeof(path), "<%s>", cfg->mail.from);
	rc = curl_easy_setopt(c, CURLOPT_URL, cfg->mail.smtp_url);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->mail.timeout_s);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->mail.timeout_s);
	(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	(void)curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	(void)curl_easy_setopt(c, CURLOPT_MAIL_FROM, path);
	(void)curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	(void)curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	(void)curl_easy_setopt(c, CURLOPT_READDATA, u);
	(void)curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	if (rc == CURLE_OK && rcpt)
		rc = curl_easy_perform(c);
	else if (rc == CURLE_OK)
		rc = CURLE_OUT_OF_MEMORY;
	r = verdict(c, rc, err, errcap);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return r;
}

/* See internal.h. A bad From (config) or To address is permanent. */
int notify_smtp_send(const struct anfu_config *cfg, const struct notify_msg *m, char *err,
		     size_t errcap)
{
	struct anfu_buf mail;
	struct upload u;
	int r;

	if (!cfg || !m || !err || errcap == 0)
		return ANFU_EINVAL;
	(void)pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		(void)snprintf(err, errcap, "smtp: libcurl did not initialise");
		return ANFU_EIO;
	}
	if (!cfg->mail.smtp_url || !addr_ok(cfg->mail.from) || !addr_ok(m->target)) {
		(void)snprintf(err, errcap, "smtp: bad sender or recipient address");
		return ANFU_EINVAL;
	}
	anfu_buf_init_secret(&mail, ANFU_LIMIT_NOTIFY_MAIL_BYTES);
	r = notify_mail_format(cfg->mail.from, m->target, m->id, anfu_clock_now_ms(), m->subject,
			       m->body, &mail);
	if (r < 0) {
		(void)snprintf(err, errcap, "smtp: cannot format the message");
		r = ANFU_EINVAL;
		goto out;
	}
	u = (struct upload){ mail.data, mail.len, 0 };
	r = run_session(cfg, m->target, &u, err, errcap);
out:
	anfu_buf_free(&mail);
	return r;
}
