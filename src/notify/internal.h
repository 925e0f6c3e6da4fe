/*
 * notify/internal: what the files of src/notify/ share.
 *
 * Private to src/notify/ (and its unit test). struct anfu_notify, the
 * message limits, a message as the delivery pass holds it, and the two
 * channel senders. Trusts nothing across it that notify.h does not.
 */
#ifndef ANFU_NOTIFY_INTERNAL_H
#define ANFU_NOTIFY_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/rand.h"
#include "notify/notify.h"

struct anfu_buf;

/* An email address is at most 254 bytes (RFC 5321 path limit); a phone
 * number far less. */
#define NOTIFY_TARGET_MAX 254

struct anfu_notify {
	const struct anfu_config *cfg;
	struct anfu_tx_exec *tx;
	struct anfu_vault *vault;
	pthread_mutex_t mu; /* guards running, stop, wake */
	pthread_cond_t cv;  /* on CLOCK_MONOTONIC */
	bool running;
	bool stop;
	bool wake;
	pthread_t thread;
};

/* One claimed message, decrypted. The strings are wiped when freed. */
struct notify_msg {
	char id[ANFU_ID_MAX];
	char kind[ANFU_LIMIT_NOTIFY_KIND_BYTES + 1];
	enum anfu_channel ch;
	int64_t attempts; /* before this one */
	char *target;
	char *subject;
	char *body;
};

/* deliver.c: stops the delivery thread if it runs (waits for it). */
void notify_stop(struct anfu_notify *n);

/* deliver.c: the delay before the next try after attempts failed ones
 * (attempts >= 1): base_s * 2^(attempts-1) seconds, capped at
 * ANFU_LIMIT_NOTIFY_RETRY_CAP_MS. */
int64_t notify_retry_delay_ms(int64_t base_s, int64_t attempts);

/* deliver.c: when the delivery thread may start its next pass, on the
 * monotonic clock in ms, given when its last one started (0: none yet):
 * now after a quiet spell of ANFU_LIMIT_NOTIFY_PASS_GAP_MS or more, else
 * that long after the last start. */
int64_t notify_pass_due_ms(int64_t last_ms, int64_t now_ms);

/*
 * smtp.c: formats the RFC 5322 message (CRLF lines, base64 body) into
 * out. from and to must be plain addresses without controls (ANFU_EINVAL);
 * subject is UTF-8, encoded per RFC 2047 when not plain ASCII.
 */
int notify_mail_format(const char *from, const char *to, const char *msg_id, int64_t now_ms,
		       const char *subject, const char *body, struct anfu_buf *out);

/*
 * smtp.c: sends m by SMTP to [mail] smtp_url. 0 when the relay accepted
 * it, ANFU_EIO when it should be retried, ANFU_EINVAL when it never can
 * be. err receives a short reason without personal data.
 */
int notify_smtp_send(const struct anfu_config *cfg, const struct notify_msg *m, char *err,
		     size_t errcap);

/* sms.c: true when [sms] gateway names a gateway this build has. */
bool notify_sms_gateway_known(const char *name);

/* sms.c: sends m through the configured gateway; returns as above. */
int notify_sms_send(const struct anfu_config *cfg, const struct notify_msg *m, char *err,
		    size_t errcap);

/*
 * sms.c: the simulator's outbox line {"ts_ms":..,"to":..,"text":..,"id":..}
 * appended to path (0600; missing parent directories 0700) and fsync'd.
 * ANFU_EIO on any file error.
 */
int notify_sms_outbox_append(const char *path, const char *id, const char *phone, const char *text,
			     int64_t ts_ms);

#endif
