/*
 * notify: SMS and email to users, queued in the database and delivered by
 * a thread with retries.
 *
 * Owns the table notify_message and the SMS gateway interface. A caller
 * enqueues inside its own transaction (so a notice is sent exactly when the
 * change it reports commits, and the delivery thread is woken by the
 * transaction's post-commit hook); target, subject and body are stored
 * encrypted (src/vault/). The delivery thread sends through the channel's
 * gateway: email over SMTP with libcurl to [mail] smtp_url; SMS through
 * struct anfu_sms_gateway, whose built-in simulator appends JSON lines to
 * [sms] outbox (no real gateway can exist on a test machine). A failed
 * delivery is retried with doubling delays up to [notify] max_attempts.
 * Messages are never logged; only their ids and kinds are.
 */
#ifndef ANFU_NOTIFY_NOTIFY_H
#define ANFU_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

struct anfu_config;
struct anfu_db;
struct anfu_vault;
struct anfu_tx_exec;
struct anfu_tx;

enum anfu_channel {
	ANFU_CHANNEL_SMS = 0,
	ANFU_CHANNEL_EMAIL = 1,
};

/* An SMS gateway: the interface a real connector implements. send returns
 * 0 when the gateway accepted the message, ANFU_EIO to retry later. */
struct anfu_sms_gateway {
	const char *name;
	int (*send)(void *ud, const char *phone, const char *text);
	void *ud;
};

struct anfu_notify;
struct anfu_migration_set;

/* Its migrations, src/notify/migrations/ (generated). */
extern const struct anfu_migration_set anfu_notify_migrations;

/* cfg, tx (the executor its delivery records go through, on its store)
 * and vault are borrowed and must outlive the notifier. */
int anfu_notify_new(const struct anfu_config *cfg, struct anfu_tx_exec *tx,
		    struct anfu_vault *vault, struct anfu_notify **ret);
/* Stops the delivery thread if running and frees; NULL-safe. */
void anfu_notify_free(struct anfu_notify *n);

/* Queues a message inside the caller's transaction tx and registers the
 * delivery thread's wake-up as tx's post-commit hook (once per
 * transaction), so callers never wake it themselves. kind names the
 * template for logs and tests ("code.login", "lockout", "new_device",
 * ...). user_id may be NULL (registration). Returns ANFU_EINVAL for an
 * empty target or an over-long text. */
int anfu_notify_enqueue(struct anfu_notify *n, struct anfu_tx *tx, enum anfu_channel ch,
			const char *user_id, const char *target, const char *kind,
			const char *subject, const char *body);

/* Registers the delivery thread's wake-up as tx's post-commit hook, as
 * anfu_notify_enqueue() does (once per transaction): for a path that must
 * cost what a real enqueue costs (the decoys of a password reset). */
int anfu_notify_wake_on_commit(struct anfu_notify *n, struct anfu_tx *tx);

/* Starts the delivery thread (uses its own connection). */
int anfu_notify_start(struct anfu_notify *n);
/* Wakes the delivery thread (anfu_notify_enqueue has it done after the
 * commit; tests and the clock hook call it directly). */
void anfu_notify_poke(struct anfu_notify *n);

/* Delivers every due message once, on the caller's thread (tests, CLI).
 * *ret_sent (may be NULL) counts the messages sent; it is written only
 * on success (a database error returns it, and *ret_sent is untouched). */
int anfu_notify_deliver_due(struct anfu_notify *n, struct anfu_db *db, int *ret_sent);

#endif
