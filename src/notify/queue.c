/*
 * notify/queue: the notifier object and queueing messages.
 *
 * Owns struct anfu_notify's lifetime and the INSERTs into notify_message.
 * A message is queued inside the caller's write transaction, so it exists
 * exactly when the change it reports commits, and that commit wakes the
 * delivery thread (a post-commit hook); its target, subject and body
 * are sealed by the vault with the message id as owner (fields
 * "notify.target", "notify.subject", "notify.body"), so the database never
 * holds them in clear and a ciphertext cannot be moved to another row.
 * Trusts callers for the meaning of a message, not for its shape: targets
 * must be a mobile number (SMS) or a plain address (email), texts UTF-8
 * within the limits of notify/internal.h, subjects a single line.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "base/str.h"
#include "base/validate.h"
#include "config/config.h"
#include "notify/internal.h"
#include "store/store.h"
#include "tx/tx.h"
#include "vault/vault.h"

_Static_assert(ANFU_ID_MAX <= ANFU_LIMIT_NOTIFY_USER_ID_BYTES,
	       "every public id is a user id we accept");

/*
 * Creates the notifier; cfg, tx and vault are borrowed and must outlive
 * it. ANFU_EINVAL for NULL arguments or an [sms] gateway this build does
 * not have. *ret is the caller's, freed with anfu_notify_free().
 */
int anfu_notify_new(const struct anfu_config *cfg, struct anfu_tx_exec *tx,
		    struct anfu_vault *vault, struct anfu_notify **ret)
{
	struct anfu_notify *n;
	pthread_condattr_t ca;

	if (!cfg || !tx || !vault || !ret)
		return ANFU_EINVAL;
	if (!notify_sms_gateway_known(cfg->sms.gateway)) {
		anfu_log_error("notify.new", "unknown SMS gateway");
		return ANFU_EINVAL;
	}
	n = anfu_xcalloc(1, sizeof(*n));
	n->cfg = cfg;
	n->tx = tx;
	n->vault = vault;
	(void)pthread_mutex_init(&n->mu, NULL);
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&n->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	*ret = n;
	return 0;
}

void anfu_notify_free(struct anfu_notify *n)
{
	if (!n)
		return;
	notify_stop(n);
	(void)pthread_cond_destroy(&n->cv);
	(void)pthread_mutex_destroy(&n->mu);
	free(n);
}

/* ---- checking a message -------------------------------------------------- */

static bool kind_ok(const char *s)
{
	size_t len;

	if (!s)
		return false;
	len = strnlen(s, ANFU_LIMIT_NOTIFY_KIND_BYTES + 1);
	if (len == 0 || len > ANFU_LIMIT_NOTIFY_KIND_BYTES)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}

static bool printable_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static bool target_ok(enum anfu_channel ch, const char *t)
{
	size_t len;

	if (!t)
		return false;
	len = strnlen(t, NOTIFY_TARGET_MAX + 1);
	if (len == 0 || len > NOTIFY_TARGET_MAX || !printable_ascii(t, len))
		return false;
	if (ch == ANFU_CHANNEL_SMS)
		return anfu_valid_mobile_cn(t, len);
	return anfu_valid_email(t, len);
}

/* UTF-8 of at most max bytes; one line unless multiline. */
static bool text_ok(const char *s, size_t max, bool multiline)
{
	size_t len = strnlen(s, max + 1);

	if (len > max || !anfu_utf8_valid(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x7f)
			return false;
		if (c < 0x20 && !(multiline && (c == '\n' || c == '\r' || c == '\t')))
			return false;
	}
	return true;
}

static int check_message(enum anfu_channel ch, const char *user_id, const char *target,
			 const char *kind, const char *subject, const char *body)
{
	if (ch != ANFU_CHANNEL_SMS && ch != ANFU_CHANNEL_EMAIL)
		return ANFU_EINVAL;
	if (!target_ok(ch, target) || !kind_ok(kind) || !body)
		return ANFU_EINVAL;
	if (user_id) {
		size_t len = strnlen(user_id, ANFU_LIMIT_NOTIFY_USER_ID_BYTES + 1);

		if (len == 0 || len > ANFU_LIMIT_NOTIFY_USER_ID_BYTES ||
		    !printable_ascii(user_id, len))
			return ANFU_EINVAL;
	}
	if (!text_ok(subject ? subject : "", ANFU_LIMIT_NOTIFY_SUBJECT_BYTES, false) ||
	    !text_ok(body, ANFU_LIMIT_NOTIFY_BODY_BYTES, true))
		return ANFU_EINVAL;
	if (ch == ANFU_CHANNEL_EMAIL && (!subject || !*subject))
		return ANFU_EINVAL;
	if (!*body)
		return ANFU_EINVAL;
	return 0;
}

/* ---- queueing ------------------------------------------------------------ */

struct sealed {
	char *target;
	char *subject;
	char *body;
};

static void sealed_free(struct sealed *s)
{
	free(s->target);
	free(s->subject);
	free(s->body);
}

static int seal_all(struct anfu_vault *v, const char *id, const char *target, const char *subject,
		    const char *body, struct sealed *out)
{
	int r;

	r = anfu_vault_seal(v, "notify.target", id, target, strlen(target), &out->target);
	if (r == 0)
		r = anfu_vault_seal(v, "notify.subject", id, subject, strlen(subject),
				    &out->subject);
	if (r == 0)
		r = anfu_vault_seal(v, "notify.body", id, body, strlen(body), &out->body);
	return r;
}

/* The post-commit hook of a transaction that queued a message. */
static void wake(void *ud)
{
	anfu_notify_poke(ud);
}

int anfu_notify_wake_on_commit(struct anfu_notify *n, struct anfu_tx *tx)
{
	if (!n || !tx)
		return ANFU_EINVAL;
	return anfu_tx_after_commit(tx, wake, n);
}

/*
 * See notify.h. The row commits or rolls back with the caller's change,
 * and the wake-up runs only after a commit. subject may be NULL for SMS;
 * email needs one. Database errors are returned as the store gives them;
 * the caller's transaction then rolls back.
 */
int anfu_notify_enqueue(struct anfu_notify *n, struct anfu_tx *tx, enum anfu_channel ch,
			const char *user_id, const char *target, const char *kind,
			const char *subject, const char *body)
{
	struct anfu_db *db = anfu_tx_db(tx);
	struct sealed s = { NULL, NULL, NULL };
	char id[ANFU_ID_MAX];
	int64_t now;
	int r;

	if (!n || !db)
		return ANFU_EINVAL;
	r = check_message(ch, user_id, target, kind, subject, body);
	if (r < 0)
		return r;
	r = anfu_id_new("ntf", id, sizeof(id));
	if (r < 0)
		return r;
	r = seal_all(n->vault, id, target, subject ? subject : "", body, &s);
	if (r < 0)
		goto out;
	now = anfu_clock_now_ms();
	{
		struct anfu_param p[] = {
			ANFU_PSN(id, strlen(id)),
			ANFU_PS(ch == ANFU_CHANNEL_SMS ? "sms" : "email"),
			ANFU_PS(user_id),
			ANFU_PS(s.target),
			ANFU_PS(s.subject),
			ANFU_PS(s.body),
			ANFU_PS(kind),
			ANFU_PI(now),
		};

		r = anfu_db_exec(db,
				 "INSERT INTO notify_message (id, channel, user_id, target_enc, "
				 "subject_enc, body_enc, kind, created_ms, status, attempts, "
				 "next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
				 "'pending', 0, $8)",
				 p, sizeof(p) / sizeof(p[0]), NULL, NULL, NULL);
	}
	if (r == 0)
		r = anfu_notify_wake_on_commit(n, tx);
	if (r < 0)
		goto out;
	anfu_log_debug("notify.queued", "id=%s kind=%s channel=%s", id, kind,
		       ch == ANFU_CHANNEL_SMS ? "sms" : "email");
	r = 0;
out:
	sealed_free(&s);
	return r;
}
