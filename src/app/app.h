/*
 * boot: opening a data directory for the daemon and the CLI.
 *
 * Owns the order of start-up: config, keys, database (with migrations, each
 * audited in its own transaction), audit writer. Entry-point level: it may
 * use every module below it. Not thread-safe; call from the main thread.
 */
#ifndef ANFU_BOOT_BOOT_H
#define ANFU_BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>

#include "audit/audit.h"

struct anfu_config;
struct anfu_keys;
struct anfu_store;
struct anfu_vault;
struct anfu_notify;
struct anfu_iam;

struct anfu_boot {
	char *data_dir; /* absolute */
	struct anfu_config *cfg;
	struct anfu_keys *keys; /* NULL with ANFU_BOOT_PUBLIC_ONLY */
	struct anfu_sigkey *audit_pub;
	struct anfu_store *store;
	struct anfu_audit *audit;
	struct anfu_vault *vault;   /* anfu_boot_services() */
	struct anfu_notify *notify; /* anfu_boot_services() */
	struct anfu_iam *iam;	    /* anfu_boot_services() */
	int migrations_applied;	    /* by this open */
};

#define ANFU_BOOT_MIGRATE 0x1u	   /* apply missing migrations */
#define ANFU_BOOT_PUBLIC_ONLY 0x2u /* load only public keys (verify) */
#define ANFU_BOOT_NO_SCHEMA 0x4u   /* do not require a current schema */
/* Refuse a configuration naming a simulator gateway unless [server]
 * allow_simulators is true (anfud of a production build; DESIGN.md). The
 * refusal comes before keys, database or audit log are touched. */
#define ANFU_BOOT_REFUSE_SIMULATORS 0x8u

/* The actor of records the platform writes on its own behalf. */
extern const struct anfu_actor anfu_boot_system_actor;

/* Default config path of a data directory: DATA/anfu.conf. */
int anfu_boot_config_path(const char *data_dir, char *out, size_t cap);

/* Opens data_dir: reads config_path (NULL: DATA/anfu.conf, which must
 * exist), applies ANFU_BOOT_REFUSE_SIMULATORS (ANFU_EPERM), loads keys,
 * opens the database and, with ANFU_BOOT_MIGRATE,
 * applies missing migrations; otherwise an outdated schema is an error
 * unless ANFU_BOOT_NO_SCHEMA. A database newer than this binary is always
 * refused (ANFU_ESCHEMA). On failure errbuf says why for people. */
int anfu_boot_open(const char *data_dir, const char *config_path, unsigned flags,
		   struct anfu_boot **ret, char *errbuf, size_t errlen);
/* Starts the services on an opened data directory: the vault (data keys),
 * the notifier (queue; its delivery thread is not started) and the IAM
 * service. Needs the private keys (not ANFU_BOOT_PUBLIC_ONLY). */
int anfu_boot_services(struct anfu_boot *b, char *errbuf, size_t errlen);

/* Stops the audit checkpointer if started and frees everything; NULL-safe. */
void anfu_boot_close(struct anfu_boot *b);

/* Appends one system audit event in its own transaction. details may be
 * NULL and is borrowed. */
int anfu_boot_audit(struct anfu_boot *b, const char *action, const char *object_type,
		    const char *object_id, json_t *details);

#endif
