/*
 * boot: opening a data directory for the daemon and the CLI.
 *
 * Trusts the data directory's owner (the files were made by `anfu init`);
 * still refuses key files readable by others (keys/) and databases newer
 * than this binary (store/migrate.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "boot/boot.h"
#include "config/config.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "notify/notify.h"
#include "store/store.h"
#include "vault/vault.h"

const struct anfu_actor anfu_boot_system_actor = {
	.id = "system",
	.type = "system",
	.role = "",
	.ip = "",
	.device = "",
	.request_id = "",
};

int anfu_boot_config_path(const char *data_dir, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/anfu.conf", data_dir);

	return n < 0 || (size_t)n >= cap ? ANFU_ELIMIT : 0;
}

static int migration_applied(void *ud, struct anfu_db *db, const struct anfu_migration *m)
{
	struct anfu_boot *b = ud;
	json_t *details = json_pack("{s:i,s:s}", "version", m->version, "name", m->name);
	char id[16];
	struct anfu_audit_event ev = {
		.actor = &anfu_boot_system_actor,
		.action = "db.migration_applied",
		.object_type = "schema",
		.object_id = id,
		.outcome = "success",
		.details = details,
	};
	int r;

	snprintf(id, sizeof(id), "%d", m->version);
	r = anfu_audit_append(b->audit, db, &ev, NULL);
	json_decref(details);
	if (r == 0)
		b->migrations_applied++;
	return r;
}

/* Opens the store and brings or checks the schema. */
static int open_store(struct anfu_boot *b, unsigned flags, char *errbuf, size_t errlen)
{
	struct anfu_store_cfg scfg = {
		.backend = b->cfg->database.backend,
		.path = b->cfg->database.path,
		.busy_timeout_ms = (int)b->cfg->database.busy_timeout_ms,
	};
	struct anfu_db *db = NULL;
	int version = 0, from = 0, to = 0;
	int r;

	r = anfu_store_new(&scfg, &b->store);
	if (r == 0)
		r = anfu_store_db(b->store, &db);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot open database %s: %s", scfg.path,
			 anfu_strerror(r));
		return r;
	}
	if (flags & ANFU_BOOT_MIGRATE) {
		r = anfu_migrate(db, migration_applied, b, &from, &to);
		if (r < 0)
			snprintf(errbuf, errlen, "database %s: migration failed (%s)%s", scfg.path,
				 anfu_strerror(r),
				 r == ANFU_ESCHEMA ? ": the database is newer than this anfu" : "");
		return r;
	}
	r = anfu_migrate_version(db, &version);
	if (r == 0 && version > anfu_migrate_latest())
		r = ANFU_ESCHEMA;
	if (r == 0 && version < anfu_migrate_latest() && !(flags & ANFU_BOOT_NO_SCHEMA))
		r = ANFU_ESCHEMA;
	if (r < 0)
		snprintf(errbuf, errlen, "database %s: schema version %d, this anfu knows %d",
			 scfg.path, version, anfu_migrate_latest());
	return r;
}

/* ANFU_BOOT_REFUSE_SIMULATORS: a simulator gateway only where the
 * configuration allows it explicitly. */
static int check_simulators(const struct anfu_config *cfg, char *errbuf, size_t errlen)
{
	const char *names[4];
	size_t n = anfu_config_simulators(cfg, names, sizeof(names) / sizeof(names[0]));

	if (n == 0 || cfg->allow_simulators)
		return 0;
	snprintf(errbuf, errlen,
		 "refusing to start: %s = simulator names a simulator, not a real gateway (the "
		 "SMS simulator writes every code and phone number in clear to %s). Configure a "
		 "real gateway, or, on a development or test installation only, set "
		 "`allow_simulators = true` under [server] in %s",
		 names[0], cfg->sms.outbox, cfg->path);
	return ANFU_EPERM;
}

static int open_keys(struct anfu_boot *b, unsigned flags, char *errbuf, size_t errlen)
{
	char kid[ANFU_KID_MAX];
	int r;

	if (!(flags & ANFU_BOOT_PUBLIC_ONLY)) {
		r = anfu_keys_load(b->data_dir, b->cfg->crypto, &b->keys);
		if (r < 0) {
			snprintf(errbuf, errlen, "cannot load keys from %s/keys: %s%s", b->data_dir,
				 anfu_strerror(r),
				 r == ANFU_EPERM ? " (key files must be mode 0600)" : "");
			return r;
		}
	}
	r = anfu_keys_load_audit_public(b->data_dir, &b->audit_pub, kid);
	if (r < 0)
		snprintf(errbuf, errlen, "cannot load the audit public key: %s", anfu_strerror(r));
	return r;
}

int anfu_boot_open(const char *data_dir, const char *config_path, unsigned flags,
		   struct anfu_boot **ret, char *errbuf, size_t errlen)
{
	struct anfu_boot *b = anfu_xcalloc(1, sizeof(*b));
	char path[PATH_MAX], abs[PATH_MAX];
	struct anfu_audit_cfg acfg;
	int r;

	if (!realpath(data_dir, abs)) {
		snprintf(errbuf, errlen, "data directory %s: %s (run `anfu init --data %s`)",
			 data_dir, strerror(errno), data_dir);
		r = ANFU_EIO;
		goto out;
	}
	b->data_dir = anfu_xstrdup(abs);
	if (!config_path) {
		r = anfu_boot_config_path(b->data_dir, path, sizeof(path));
		if (r < 0)
			goto out;
		config_path = path;
	}
	r = anfu_config_load(config_path, b->data_dir, &b->cfg, errbuf, errlen);
	if (r < 0)
		goto out;
	if (flags & ANFU_BOOT_REFUSE_SIMULATORS) {
		r = check_simulators(b->cfg, errbuf, errlen);
		if (r < 0)
			goto out;
	}
	r = open_keys(b, flags, errbuf, errlen);
	if (r < 0)
		goto out;
	acfg = (struct anfu_audit_cfg){
		.hash = b->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256,
		.checkpoint_records = (int)b->cfg->audit.checkpoint_records,
		.checkpoint_seconds = (int)b->cfg->audit.checkpoint_seconds,
		.checkpoint_file = b->cfg->audit.checkpoint_file,
	};
	r = anfu_audit_new(&acfg, b->keys, &b->audit);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot start the audit log: %s", anfu_strerror(r));
		goto out;
	}
	r = open_store(b, flags, errbuf, errlen);
	if (r < 0)
		goto out;
	*ret = b;
	b = NULL;
	r = 0;
out:
	anfu_boot_close(b);
	return r;
}

int anfu_boot_services(struct anfu_boot *b, char *errbuf, size_t errlen)
{
	struct anfu_iam_deps d;
	int r;

	r = anfu_vault_open(b->keys, b->store, &b->vault);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot open the data-key vault: %s", anfu_strerror(r));
		return r;
	}
	r = anfu_notify_new(b->cfg, b->store, b->vault, &b->notify);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot start notifications: %s", anfu_strerror(r));
		return r;
	}
	d = (struct anfu_iam_deps){
		.cfg = b->cfg,
		.store = b->store,
		.keys = b->keys,
		.audit = b->audit,
		.vault = b->vault,
		.notify = b->notify,
	};
	r = anfu_iam_new(&d, &b->iam);
	if (r < 0)
		snprintf(errbuf, errlen, "cannot start identity and access: %s", anfu_strerror(r));
	return r;
}

void anfu_boot_close(struct anfu_boot *b)
{
	if (!b)
		return;
	anfu_iam_free(b->iam);
	anfu_notify_free(b->notify);
	anfu_vault_free(b->vault);
	anfu_audit_free(b->audit);
	anfu_store_free(b->store);
	anfu_sigkey_free(b->audit_pub);
	anfu_keys_free(b->keys);
	anfu_config_free(b->cfg);
	free(b->data_dir);
	free(b);
}

int anfu_boot_audit(struct anfu_boot *b, const char *action, const char *object_type,
		    const char *object_id, json_t *details)
{
	struct anfu_audit_event ev = {
		.actor = &anfu_boot_system_actor,
		.action = action,
		.object_type = object_type ? object_type : "",
		.object_id = object_id ? object_id : "",
		.outcome = "success",
		.details = details,
	};

	return anfu_audit_record(b->audit, b->store, &ev);
}
