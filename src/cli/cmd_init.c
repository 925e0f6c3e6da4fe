/*
 * cli/cmd_init: `anfu init`, creating a data directory.
 *
 * Creates DATA (0700), DATA/anfu.conf, the keys (keys/), the database with
 * every migration, and audits what it made. Running it again creates only
 * what is missing and never overwrites a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anfu_build.h"
#include "app/app.h"
#include "base/clock.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "cli/cli.h"
#include "config/config.h"
#include "iam/iam.h"
#include "keys/keys.h"
#include "store/store.h"

static void init_usage(void)
{
	printf("usage: anfu init [--data DIR] [--crypto intl|gm] [--level basic|enhanced]\n"
	       "                 [--admin NAME] [--postgresql [--print-sql | --admin-dsn DSN]\n"
	       "                 [--readonly-role NAME]]\n"
	       "\n"
	       "Creates the data directory DIR (mode 0700) with a configuration file,\n"
	       "the database, a self-signed development TLS certificate, the audit\n"
	       "signing key (Ed25519, or SM2 with --crypto gm) and the data master key,\n"
	       "and prints what it made. Existing files are never overwritten.\n"
	       "\n"
	       "The first administrator: --admin NAME (or, on a terminal, the name it\n"
	       "asks for) creates the account NAME (roles sysadmin and security_admin;\n"
	       "names like admin or root are refused) and prints its random initial\n"
	       "password once; it must be changed at the first login. No account and\n"
	       "no default password exist otherwise.\n"
	       "\n"
	       "PostgreSQL with separate roles (docs/deployment.md): DIR/anfu.conf must\n"
	       "exist with [database] backend = postgresql, dsn (user = the application\n"
	       "role anfud connects as) and owner_dsn (user = the owner role that owns\n"
	       "the schema and runs migrations). --postgresql --print-sql prints the\n"
	       "SQL that creates both roles, for an administrator to run with psql\n"
	       "(no passwords in it: set them with \\password), and creates nothing.\n"
	       "--postgresql --admin-dsn DSN connects as a superuser (its password from\n"
	       "PGPASSWORD or ~/.pgpass, never the command line), creates the roles,\n"
	       "and gives each a random password written to owner_password_file and\n"
	       "password_file unless the file exists. Then, as without --postgresql,\n"
	       "the migrations run as the owner and the application role gets its\n"
	       "grants: no UPDATE or DELETE on append-only tables, no DDL.\n"
	       "--readonly-role NAME adds a role with SELECT on every table and nothing\n"
	       "else (reports, auditors; its password is the administrator's: \\password).\n");
}

/* The grants of the application role after the migrations ran as the
 * owner (a configuration without owner_dsn has a single role: nothing). */
static int grant_app_role(struct anfu_app *b)
{
	struct cli_pg_roles ro;
	struct anfu_db *db = NULL;
	char err[256];
	int r;

	if (!anfu_config_pg_owner(b->cfg))
		return 0;
	r = cli_pg_roles_of(b->cfg, NULL, &ro, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu init: %s\n", err);
		return r;
	}
	r = anfu_store_db(b->store, &db);
	if (r == 0)
		r = cli_pg_grant(db, &ro);
	if (r < 0) {
		fprintf(stderr, "anfu init: cannot grant the application role %s: %s\n", ro.app,
			anfu_strerror(r));
		return r;
	}
	printf("  %-12s owner %s, application role %s (no UPDATE/DELETE on append-only "
	       "tables, no DDL)\n",
	       "db grants", ro.owner, ro.app);
	return 0;
}

/* --postgresql: prints the roles SQL (--print-sql: *ret_done) or creates
 * the roles with --admin-dsn. Exit status on failure: 1, or 2 for usage. */
static int init_postgresql(const struct cli_opts *o, bool *ret_done)
{
	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	size_t ntables = anfu_app_config_tables(tables);
	struct anfu_config *cfg = NULL;
	struct cli_pg_roles ro;
	struct anfu_buf sql;
	char conf[PATH_MAX], err[512];
	int r;

	if (!o->print_sql && !o->admin_dsn) {
		fprintf(stderr, "anfu init: --postgresql needs --print-sql or --admin-dsn DSN\n");
		return 2;
	}
	if (o->admin_dsn && anfu_store_pg_check_dsn(o->admin_dsn, err, sizeof(err)) < 0) {
		fprintf(stderr, "anfu init: --admin-dsn: %s\n", err);
		return 2;
	}
	if (anfu_app_config_path(o->data, conf, sizeof(conf)) < 0 ||
	    anfu_config_load(conf, o->data, tables, ntables, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "anfu init: --postgresql needs %s/anfu.conf: %s\n", o->data, err);
		return 1;
	}
	r = cli_pg_roles_of(cfg, o->readonly_role, &ro, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu init: %s\n", err);
		anfu_config_free(cfg);
		return 1;
	}
	if (o->print_sql) {
		anfu_buf_init(&sql, ANFU_LIMIT_CLI_SQL_BYTES);
		r = cli_pg_roles_sql(&ro, &sql);
		if (r == 0)
			r = anfu_buf_appends(&sql, "-- After every migration run (anfu init and "
						   "anfu db migrate run this as the owner):\n");
		if (r == 0)
			r = cli_pg_grants_sql(&ro, &sql);
		if (r == 0)
			fputs(sql.data, stdout);
		anfu_buf_free(&sql);
		*ret_done = true;
	} else {
		r = cli_pg_create_roles(cfg, &ro, o->admin_dsn);
	}
	anfu_config_free(cfg);
	return r < 0 ? 1 : 0;
}

/* mkdir -p; the last component gets 0700, parents 0755. */
static int make_dirs(const char *path, bool *ret_created)
{
	char buf[PATH_MAX];
	struct stat st;

	if (anfu_strlcpy(buf, path, sizeof(buf)) < 0)
		return ANFU_ELIMIT;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return ANFU_EIO;
		*p = '/';
	}
	if (mkdir(buf, 0700) == 0) {
		*ret_created = true;
		return 0;
	}
	if (errno != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
		return ANFU_EIO;
	*ret_created = false;
	return 0;
}

/* Writes DATA/anfu.conf unless it exists. */
static int write_config(const char *path, const char *level, const char *crypto, bool *ret_created)
{
	char ts[32];
	FILE *f;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno != EEXIST)
			return ANFU_EIO;
		*ret_created = false;
		return 0;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return ANFU_EIO;
	}
	anfu_clock_format(anfu_clock_now_ms(), ts);
	fprintf(f,
		"# anfu configuration, written by `anfu init` %s.\n"
		"# Every option and its default: docs/configuration.md and\n"
		"# etc/anfu.conf.example. Unset options take their defaults.\n"
		"\n"
		"[server]\n"
		"level = %s\n"
		"crypto = %s\n",
		ts, level, crypto);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return ANFU_EIO;
	}
	*ret_created = true;
	return fclose(f) == 0 ? 0 : ANFU_EIO;
}

/* The crypto profile the (possibly pre-existing) config file selects. */
static int profile_of(const char *conf, const char *data, enum anfu_crypto_profile *ret)
{
	struct anfu_config *cfg = NULL;
	char err[512];
	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	size_t ntables = anfu_app_config_tables(tables);
	int r = anfu_config_load(conf, data, tables, ntables, &cfg, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "anfu init: %s\n", err);
		return r;
	}
	*ret = cfg->crypto;
	anfu_config_free(cfg);
	return 0;
}

static int audit_key(struct anfu_app *b, const char *use, const char *kid)
{
	json_t *det = json_pack("{s:s,s:s}", "use", use, "key_id", kid);
	int r = anfu_app_audit(b, "keys.generated", "key", kid, det);

	json_decref(det);
	return r;
}

/* The first administrator's name: --admin, or asked on a terminal. */
static const char *admin_name(const char *given, char *buf, size_t cap)
{
	size_t n;

	if (given || !isatty(STDIN_FILENO))
		return given;
	printf("Name of the first administrator (not \"admin\"): ");
	fflush(stdout);
	if (!fgets(buf, (int)cap, stdin))
		return NULL;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return n ? buf : NULL;
}

/* Creates the first administrator unless staff exists already. */
static int make_admin(struct anfu_app *b, const char *name)
{
	char pw[64], id[ANFU_ID_MAX], err[256] = "";
	int r = anfu_app_start(b, err, sizeof(err));

	if (r == 0)
		r = anfu_iam_bootstrap_admin(b->iam, name, pw, sizeof(pw), id, sizeof(id));
	if (r == ANFU_ECONFLICT) {
		printf("  %-12s a staff account exists already; none created\n", "admin");
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "anfu init: cannot create the administrator '%s': %s%s\n", name,
			err[0] ? err : anfu_strerror(r),
			r == ANFU_EINVAL ? " (reserved or invalid name)" : "");
		return r;
	}
	printf("  %-12s %s (%s), initial password: %s\n"
	       "               shown once; it must be changed at the first login\n",
	       "admin", name, id, pw);
	anfu_wipe(pw, sizeof(pw));
	return 0;
}

static void report(const char *what, const char *detail, bool created)
{
	printf("  %-12s %s (%s)\n", what, detail, created ? "created" : "exists, kept");
}

/* Audits and prints what was made. */
static int finish(struct anfu_app *b, const struct anfu_keys_made *made, bool conf_created,
		  const char *conf_path)
{
	char tls[PATH_MAX], key[PATH_MAX];
	struct anfu_db *db = NULL;
	int r = 0;

	if (made->tls)
		r = audit_key(b, "tls", "tls-server");
	if (r == 0 && made->audit)
		r = audit_key(b, "audit", made->audit_kid);
	if (r == 0 && made->master)
		r = audit_key(b, "data-master", anfu_keys_master_kid(b->keys));
	if (r == 0)
		r = anfu_store_db(b->store, &db);
	if (r == 0)
		r = anfu_audit_checkpoint(b->audit, db, true, NULL);
	if (r < 0)
		return r;
	(void)anfu_keys_tls_default_paths(b->data_dir, tls, sizeof(tls), key, sizeof(key));
	report("config", conf_path, conf_created);
	printf("  %-12s %s (schema ", "database",
	       strcmp(b->cfg->database.backend, "postgresql") == 0 ? "PostgreSQL server"
								   : b->cfg->database.path);
	for (size_t i = 0; i < b->nschema; i++)
		printf("%s%s %d", i ? ", " : "", b->schema[i].module,
		       anfu_migrate_latest(&b->schema[i]));
	printf("; %d migration(s) applied)\n", b->migrations_applied);
	report("tls cert", tls, made->tls);
	report("audit key", anfu_keys_audit_kid(b->keys), made->audit);
	report("master key", anfu_keys_master_kid(b->keys), made->master);
	printf("  %-12s %s\n", "audit log", b->cfg->audit.checkpoint_file);
	return 0;
}

int cmd_init(int argc, char **argv)
{
	struct cli_opts o;
	struct anfu_keys_made made = { 0 };
	struct anfu_app *b = NULL;
	char conf[PATH_MAX], err[512] = "";
	bool dir_created = false, conf_created = false, crypto_given;
	enum anfu_crypto_profile cp;
	char namebuf[64];
	const char *admin;
	bool done = false;
	int r = cli_parse(argc, argv,
			  "data,crypto,level,admin,postgresql,print-sql,admin-dsn,readonly-role",
			  &o);

	if (r != 0)
		return r;
	if (o.help) {
		init_usage();
		return 0;
	}
	if ((o.print_sql || o.admin_dsn || o.readonly_role) && !o.postgresql) {
		fprintf(stderr, "anfu init: --print-sql, --admin-dsn and --readonly-role go with "
				"--postgresql\n");
		return 2;
	}
	if (o.postgresql) {
		r = init_postgresql(&o, &done);
		if (r != 0 || done)
			return r;
	}
	crypto_given = o.crypto != NULL;
	if (!o.crypto)
		o.crypto = "intl";
	if (!o.level)
		o.level = "enhanced";
	if ((strcmp(o.crypto, "intl") && strcmp(o.crypto, "gm")) ||
	    (strcmp(o.level, "basic") && strcmp(o.level, "enhanced"))) {
		fprintf(stderr, "anfu init: --crypto is intl or gm, --level basic or enhanced\n");
		return 2;
	}
	if (make_dirs(o.data, &dir_created) < 0 ||
	    anfu_app_config_path(o.data, conf, sizeof(conf)) < 0 ||
	    write_config(conf, o.level, o.crypto, &conf_created) < 0) {
		fprintf(stderr, "anfu init: cannot create %s: %s\n", o.data, strerror(errno));
		return 1;
	}
	r = profile_of(conf, o.data, &cp);
	if (r < 0)
		return 1;
	if (!conf_created && crypto_given &&
	    (cp == ANFU_CRYPTO_GM) != (strcmp(o.crypto, "gm") == 0)) {
		fprintf(stderr, "anfu init: %s already sets another crypto profile\n", conf);
		return 1;
	}
	printf("anfu init: data directory %s (%s)\n", o.data,
	       dir_created ? "created" : "exists, kept");
	r = anfu_keys_init_dir(o.data, cp, &made);
	if (r < 0) {
		fprintf(stderr, "anfu init: cannot create keys: %s\n", anfu_strerror(r));
		return 1;
	}
	/* With [database] owner_dsn the migrations run as the owner role. */
	r = anfu_app_open(o.data, NULL, ANFU_APP_MIGRATE | ANFU_APP_OWNER, &b, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu init: %s\n", err);
	} else {
		r = grant_app_role(b);
		if (r < 0)
			err[0] = 'x'; /* reported already */
	}
	if (r == 0)
		r = finish(b, &made, conf_created, conf);
	admin = r == 0 ? admin_name(o.admin, namebuf, sizeof(namebuf)) : NULL;
	if (admin) {
		r = make_admin(b, admin);
		if (r < 0)
			err[0] = 'x'; /* reported already */
	} else if (r == 0) {
		printf("  %-12s none created (use --admin NAME)\n", "admin");
	}
	if (r < 0 && err[0] == '\0')
		fprintf(stderr, "anfu init: cannot write the audit log: %s\n", anfu_strerror(r));
	anfu_app_close(b);
	return r < 0 ? 1 : 0;
}
