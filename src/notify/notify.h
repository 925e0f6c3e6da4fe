/*
 * notify: SMS and email to users, queued in the database and delivered by
 * a thread with retries.
 *
 * Owns the table notify_message and the SMS gateway interface. A caller
 * enqueues inside its own transaction (so a notice is sent exactly when the
 * change it reports commits); target, subject and body are stored
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
struct anfu_store;
struct anfu_db;
struct anfu_vault;

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

/* cfg, store and vault are borrowed and must outlive the notifier. */
int anfu_notify_new(const struct anfu_config *cfg, struct anfu_store *store,
		    struct anfu_vault *vault, struct anfu_notify **ret);
/* Stops the delivery thread if running and frees; NULL-safe. */
void anfu_notify_free(struct anfu_notify *n);

/* Queues a message inside the caller's open write transaction on db.
 * kind names the template for logs and tests ("code.login", "lockout",
 * "new_device", ...). user_id may be NULL (registration). Returns
 * ANFU_EINVAL for an empty target or an over-long text. */
int anfu_notify_enqueue(struct anfu_notify *n, struct anfu_db *db, enum anfu_channel ch,
			const char *user_id, const char *target, const char *kind,
			const char *subject, const char *body);

/* Starts the delivery thread (uses its own connection). */
int anfu_notify_start(struct anfu_notify *n);
/* Wakes the delivery thread (after an enqueue commits). */
void anfu_notify_poke(struct anfu_notify *n);

/* Delivers every due message once, on the caller's thread (tests, CLI).
 * *ret_sent (may be NULL) counts the messages sent. */
int anfu_notify_deliver_due(struct anfu_notify *n, struct anfu_db *db, int *ret_sent);

#endif
