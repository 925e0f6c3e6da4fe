/*
 * app/open: opening a data directory for the daemon and the CLI: config,
 * keys, audit writer, database with every module's migrations; and
 * closing it all again.
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

#include "app/app.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "config/config.h"
#include "keys/keys.h"
#include "store/store.h"
#include "tx/tx.h"

const struct anfu_actor anfu_app_system_actor = {
	.id = "system",
	.type = "system",
	.role = "",
	.ip = "",
	.device = "",
	.request_id = "",
};

int anfu_app_config_path(const char *data_dir, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/anfu.conf", data_dir);

	return n < 0 || (size_t)n >= cap ? ANFU_ELIMIT : 0;
}

static int migration_applied(void *ud, struct anfu_db *db, const struct anfu_migration *m)
{
	struct anfu_app *app = ud;
	json_t *details = json_pack("{s:s,s:i,s:s}", "module", m->module, "version", m->version,
				    "name", m->name);
	char id[64];
	struct anfu_audit_event ev = {
		.actor = &anfu_app_system_actor,
		.action = "db.migration_applied",
		.object_type = "schema",
		.object_id = id,
		.outcome = "success",
		.details = details,
	};
	int r;

	(void)snprintf(id, sizeof(id), "%s/%d", m->module, m->version);
	r = anfu_audit_append(app->audit, db, &ev, NULL);
	json_decref(details);
	if (r == 0)
		app->migrations_applied++;
	return r;
}

/* Opens the store and brings or checks the schema of every module. */
static int open_store(struct anfu_app *app, unsigned flags, char *errbuf, size_t errlen)
{
	struct anfu_store_cfg scfg = {
		.backend = app->cfg->database.backend,
		.path = app->cfg->database.path,
		.busy_timeout_ms = (int)app->cfg->database.busy_timeout_ms,
		.dsn = app->cfg->database.dsn,
		.password_file = app->cfg->database.password_file,
		.sslmode = app->cfg->database.sslmode,
		.statement_timeout_ms = (int)app->cfg->database.statement_timeout_ms,
		.pool_size = (int)app->cfg->database.pool_size,
	};
	/* Messages name the database without the dsn (which may name hosts
	 * and users, never a password: config refuses one). */
	const char *where = strcmp(scfg.backend, "postgresql") == 0 ? "(PostgreSQL)" : scfg.path;
	struct anfu_db *db = NULL;
	int pending = 0;
	int r;

	if (anfu_config_pg_owner(app->cfg)) {
		if (flags & ANFU_APP_OWNER) {
			scfg.dsn = app->cfg->database.owner_dsn;
			scfg.password_file = app->cfg->database.owner_password_file;
		} else {
			flags &= ~ANFU_APP_MIGRATE;
		}
	}
	r = anfu_store_new(&scfg, &app->store);
	if (r == 0)
		r = anfu_store_db(app->store, &db);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot open database %s: %s", where, anfu_strerror(r));
		return r;
	}
	if (flags & ANFU_APP_MIGRATE) {
		r = anfu_migrate(db, app->schema, app->nschema, migration_applied, app, NULL, NULL);
		if (r < 0)
			snprintf(errbuf, errlen, "database %s: migration failed (%s)%s", where,
				 anfu_strerror(r),
				 r == ANFU_ESCHEMA ? ": the database is newer than this anfu" : "");
		return r;
	}
	r = anfu_migrate_status(db, app->schema, app->nschema, NULL, &pending);
	if (r == ANFU_ESCHEMA)
		snprintf(errbuf, errlen, "database %s: the database is newer than this anfu",
			 where);
	else if (r < 0)
		snprintf(errbuf, errlen, "database %s: cannot read the schema version: %s", where,
			 anfu_strerror(r));
	else if (pending > 0 && !(flags & ANFU_APP_NO_SCHEMA)) {
		snprintf(errbuf, errlen, "database %s: %d migration(s) of this anfu not applied%s",
			 where, pending,
			 anfu_config_pg_owner(app->cfg)
				 ? " (the owner role runs them: `anfu db migrate`)"
				 : "");
		r = ANFU_ESCHEMA;
	}
	return r;
}

/* ANFU_APP_REFUSE_SIMULATORS: a simulator gateway only where the
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

static int open_keys(struct anfu_app *app, unsigned flags, char *errbuf, size_t errlen)
{
	char kid[ANFU_KID_MAX];
	int r;

	if (!(flags & ANFU_APP_PUBLIC_ONLY)) {
		r = anfu_keys_load(app->data_dir, app->cfg->crypto, &app->keys);
		if (r < 0) {
			snprintf(errbuf, errlen, "cannot load keys from %s/keys: %s%s",
				 app->data_dir, anfu_strerror(r),
				 r == ANFU_EPERM ? " (key files must be mode 0600)" : "");
			return r;
		}
	}
	r = anfu_keys_load_audit_public(app->data_dir, &app->audit_pub, kid);
	if (r < 0)
		snprintf(errbuf, errlen, "cannot load the audit public key: %s", anfu_strerror(r));
	return r;
}

/* The parts of app that come from the module list. */
static void use_module_list(struct anfu_app *app)
{
	app->modules = anfu_app_modules;
	app->nmodules = anfu_app_nmodules;
	app->services = anfu_xcalloc(ANFU_LIMIT_MODULES, sizeof(app->services[0]));
	app->schema = anfu_xcalloc(ANFU_LIMIT_MODULES, sizeof(app->schema[0]));
	app->nschema = anfu_app_schema(app->schema);
}

int anfu_app_open(const char *data_dir, const char *config_path, unsigned flags,
		  struct anfu_app **ret, char *errbuf, size_t errlen)
{
	struct anfu_app *app = anfu_xcalloc(1, sizeof(*app));
	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	size_t ntables = anfu_app_config_tables(tables);
	char path[PATH_MAX], abs[PATH_MAX];
	struct anfu_audit_cfg acfg;
	int r;

	use_module_list(app);
	if (!realpath(data_dir, abs)) {
		snprintf(errbuf, errlen, "data directory %s: %s (run `anfu init --data %s`)",
			 data_dir, strerror(errno), data_dir);
		r = ANFU_EIO;
		goto out;
	}
	app->data_dir = anfu_xstrdup(abs);
	if (!config_path) {
		r = anfu_app_config_path(app->data_dir, path, sizeof(path));
		if (r < 0)
			goto out;
		config_path = path;
	}
	r = anfu_config_load(config_path, app->data_dir, tables, ntables, &app->cfg, errbuf,
			     errlen);
	if (r < 0)
		goto out;
	if (flags & ANFU_APP_REFUSE_SIMULATORS) {
		r = check_simulators(app->cfg, errbuf, errlen);
		if (r < 0)
			goto out;
	}
	r = open_keys(app, flags, errbuf, errlen);
	if (r < 0)
		goto out;
	acfg = (struct anfu_audit_cfg){
		.hash = app->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256,
		.checkpoint_records = (int)app->cfg->audit.checkpoint_records,
		.checkpoint_seconds = (int)app->cfg->audit.checkpoint_seconds,
		.checkpoint_file = app->cfg->audit.checkpoint_file,
	};
	r = anfu_audit_new(&acfg, app->keys, &app->audit);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot start the audit log: %s", anfu_strerror(r));
		goto out;
	}
	r = open_store(app, flags, errbuf, errlen);
	if (r < 0)
		goto out;
	r = anfu_tx_exec_new(app->store, app->audit, &app->tx);
	if (r < 0) {
		snprintf(errbuf, errlen, "cannot make the transaction executor: %s",
			 anfu_strerror(r));
		goto out;
	}
	*ret = app;
	app = NULL;
	r = 0;
out:
	anfu_app_close(app);
	return r;
}

int anfu_app_audit(struct anfu_app *app, const char *action, const char *object_type,
		   const char *object_id, json_t *details)
{
	struct anfu_audit_event ev = {
		.actor = &anfu_app_system_actor,
		.action = action,
		.object_type = object_type ? object_type : "",
		.object_id = object_id ? object_id : "",
		.outcome = "success",
		.details = details,
	};

	return anfu_tx_record(app->tx, &ev);
}
