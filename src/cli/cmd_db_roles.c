/*
 * cli/cmd_db_roles: the PostgreSQL roles of an installation (IAM-LP-02,
 * AUD-PROT-01; docs/deployment.md, "Roles"): the SQL that creates the
 * owner role and the application role, and the grants the application
 * role gets on the tables the owner's migrations made.
 *
 * The owner owns the schema and runs the migrations; anfud connects as the
 * application role: SELECT and INSERT on every table, UPDATE and DELETE
 * except where append_only[] below denies them, no CREATE on the schema
 * (no DDL), no TEMPORARY on the database. The role names come from the
 * configuration ([database] dsn and owner_dsn), which the data directory's
 * owner wrote; they are checked to be plain lower-case identifiers, so the
 * SQL built here quotes nothing that came from elsewhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* The tables whose rows the application role may not change or delete,
 * each with the privileges it does not get: the one list of them (every
 * append-only trigger of the migrations has its entry here;
 * tests/api/test_pg_roles.py checks that against the triggers). A table
 * missing in this build (its module left out) is skipped. */
static const struct {
	const char *table;
	const char *denied;
} append_only[] = {
	{ "audit_log", "UPDATE, DELETE" },	  /* AUD-PROT-01 */
	{ "audit_checkpoint", "UPDATE, DELETE" }, /* AUD-PROT-01 */
	{ "audit_head", "DELETE" },		  /* the chain's head moves, never goes */
	{ "ledger_transfer", "UPDATE, DELETE" },  /* the journal (docs/ledger.md) */
	{ "ledger_batch", "UPDATE, DELETE" },	  /* the chain of batches */
	{ "ledger_head", "DELETE" },
	{ "iam_approval", "DELETE" },	 /* archived (IAM-ACCT-03); updates while pending */
	{ "receipt", "UPDATE, DELETE" }, /* a signed receipt never changes (docs/receipts.md) */
	{ "dispute_event", "UPDATE, DELETE" },		/* a dispute's history (docs/disputes.md) */
	{ "schema_version", "INSERT, UPDATE, DELETE" }, /* the owner's migrations only */
};

/* A role or database name spliced into SQL: lower-case letters, digits
 * and '_', not starting with a digit, at most 63 bytes (NAMEDATALEN). */
static bool plain_ident(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* Value of keyword in dsn into out: a plain identifier, or an error. */
static int dsn_name(const char *dsn, const char *what, char *out, size_t cap, char *err,
		    size_t errlen)
{
	int r = anfu_store_pg_dsn_user(dsn, out, cap);

	if (r == ANFU_ENOTFOUND)
		snprintf(err, errlen, "[database] %s names no user (user=...)", what);
	else if (r < 0 || !plain_ident(out))
		snprintf(err, errlen,
			 "[database] %s: the user must be a plain lower-case name "
			 "(letters, digits, _)",
			 what);
	else
		return 0;
	return r < 0 ? r : ANFU_EINVAL;
}

int cli_pg_roles_of(const struct anfu_config *cfg, const char *readonly, struct cli_pg_roles *ret,
		    char *err, size_t errlen)
{
	struct cli_pg_roles r = { 0 };
	int rc;

	if (!anfu_config_pg_owner(cfg)) {
		snprintf(err, errlen,
			 "the configuration needs [database] backend = postgresql, dsn (the "
			 "application role's connection) and owner_dsn (the owner's)");
		return ANFU_EINVAL;
	}
	rc = dsn_name(cfg->database.dsn, "dsn", r.app, sizeof(r.app), err, errlen);
	if (rc == 0)
		rc = dsn_name(cfg->database.owner_dsn, "owner_dsn", r.owner, sizeof(r.owner), err,
			      errlen);
	if (rc < 0)
		return rc;
	if (strcmp(r.app, r.owner) == 0) {
		snprintf(err, errlen, "[database] dsn and owner_dsn name the same user");
		return ANFU_EINVAL;
	}
	if (readonly && (!plain_ident(readonly) || strcmp(readonly, r.app) == 0 ||
			 strcmp(readonly, r.owner) == 0)) {
		snprintf(err, errlen,
			 "--readonly-role: a plain lower-case name other than the owner's and "
			 "the application role's");
		return ANFU_EINVAL;
	}
	if (readonly)
		memcpy(r.readonly, readonly, strlen(readonly) + 1);
	*ret = r;
	return 0;
}

/* The read-only role (IAM-LP-02: reports, auditors): SELECT on every
 * table, now and after later migrations, nothing else. */
static int readonly_sql(const struct cli_pg_roles *ro, struct anfu_buf *out)
{
	return anfu_buf_appendf(
		out,
		"DO $$BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %%I TO \"%s\"', "
		"current_database()); END$$;\n"
		"GRANT USAGE ON SCHEMA public TO \"%s\";\n"
		"ALTER DEFAULT PRIVILEGES FOR ROLE \"%s\" IN SCHEMA public GRANT SELECT ON TABLES "
		"TO \"%s\";\n"
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"%s\";\n",
		ro->readonly, ro->readonly, ro->owner, ro->readonly, ro->readonly);
}

int cli_pg_roles_sql(const struct cli_pg_roles *ro, struct anfu_buf *out)
{
	const char *roles[3] = { ro->owner, ro->app, ro->readonly };
	int n = ro->readonly[0] ? 3 : 2, r = 0;

	for (int i = 0; i < n && r == 0; i++)
		r = anfu_buf_appendf(out,
				     "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE "
				     "rolname = '%s') THEN CREATE ROLE \"%s\" LOGIN; END IF; "
				     "END$$;\n"
				     "ALTER ROLE \"%s\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
				     "NOREPLICATION NOBYPASSRLS;\n",
				     roles[i], roles[i], roles[i]);
	if (r == 0)
		r = anfu_buf_appendf(
			out,
			"DO $$BEGIN EXECUTE format('REVOKE ALL ON DATABASE %%I FROM PUBLIC', "
			"current_database()); EXECUTE format('GRANT CONNECT ON DATABASE %%I TO "
			"\"%s\", \"%s\"', current_database()); END$$;\n"
			"ALTER SCHEMA public OWNER TO \"%s\";\n"
			"REVOKE ALL ON SCHEMA public FROM PUBLIC;\n"
			"GRANT USAGE ON SCHEMA public TO \"%s\";\n"
			"ALTER DEFAULT PRIVILEGES FOR ROLE \"%s\" IN SCHEMA public GRANT SELECT, "
			"INSERT ON TABLES TO \"%s\";\n"
			"ALTER DEFAULT PRIVILEGES FOR ROLE \"%s\" IN SCHEMA public GRANT USAGE, "
			"SELECT ON SEQUENCES TO \"%s\";\n",
			ro->owner, ro->app, ro->owner, ro->app, ro->owner, ro->app, ro->owner,
			ro->app);
	if (r == 0 && ro->readonly[0])
		r = readonly_sql(ro, out);
	return r;
}

int cli_pg_grants_sql(const struct cli_pg_roles *ro, struct anfu_buf *out)
{
	int r = anfu_buf_appendf(out,
				 "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \"%s\";\n"
				 "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
				 "public TO \"%s\";\n",
				 ro->app, ro->app);

	for (size_t i = 0; r == 0 && i < sizeof(append_only) / sizeof(append_only[0]); i++)
		r = anfu_buf_appendf(out,
				     "DO $$BEGIN IF to_regclass('public.%s') IS NOT NULL THEN "
				     "REVOKE %s ON public.%s FROM \"%s\"; END IF; END$$;\n",
				     append_only[i].table, append_only[i].denied,
				     append_only[i].table, ro->app);
	if (r == 0)
		r = anfu_buf_appendf(out,
				     "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "
				     "\"%s\";\n",
				     ro->app);
	return r;
}

int cli_pg_grant(struct anfu_db *db, const struct cli_pg_roles *ro)
{
	struct anfu_buf sql;
	int r;

	anfu_buf_init(&sql, ANFU_LIMIT_CLI_SQL_BYTES);
	/* One simple-query string: PostgreSQL runs it as one transaction, so
	 * the application role never sees the grants half done. */
	r = cli_pg_grants_sql(ro, &sql);
	if (r == 0)
		r = db->ops->exec_script(db, sql.data);
	anfu_buf_free(&sql);
	return r;
}

/* Makes a random password and writes it to path (mode 0600, never over an
 * existing file): *ret_made false when path exists (nothing set then). */
static int new_password_file(const char *path, char *pw, size_t cap, bool *ret_made)
{
	unsigned char raw[24];
	int fd;
	bool ok;

	if (cap < 2 * sizeof(raw) + 1)
		return ANFU_EINVAL;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == EEXIST) {
		*ret_made = false;
		return 0;
	}
	if (fd < 0)
		return ANFU_EIO;
	anfu_crypto_random(raw, sizeof(raw));
	anfu_hex_encode(raw, sizeof(raw), pw);
	anfu_wipe(raw, sizeof(raw));
	ok = write(fd, pw, strlen(pw)) == (ssize_t)strlen(pw) && write(fd, "\n", 1) == 1 &&
	     fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok) {
		(void)unlink(path);
		anfu_wipe(pw, cap);
		return ANFU_EIO;
	}
	*ret_made = true;
	return 0;
}

/* Gives role a new random password kept in path, unless path exists (the
 * role's password is then the administrator's business). */
static int role_password(struct anfu_db *db, const char *role, const char *path)
{
	char pw[64];
	bool made = false;
	int r = new_password_file(path, pw, sizeof(pw), &made);

	if (r < 0) {
		fprintf(stderr, "anfu init: cannot write %s: %s\n", path, strerror(errno));
		return r;
	}
	if (made) {
		r = anfu_store_pg_set_password(db, role, pw);
		anfu_wipe(pw, sizeof(pw));
		if (r < 0) {
			(void)unlink(path);
			fprintf(stderr, "anfu init: cannot set the password of role %s: %s\n", role,
				anfu_strerror(r));
			return r;
		}
	}
	printf("  %-12s %s: password in %s (%s)\n", "db role", role, path,
	       made ? "created" : "exists, kept");
	return 0;
}

int cli_pg_create_roles(const struct anfu_config *cfg, const struct cli_pg_roles *ro,
			const char *admin_dsn)
{
	struct anfu_store_cfg scfg = {
		.backend = "postgresql",
		.dsn = admin_dsn,
		.sslmode = cfg->database.sslmode,
		.busy_timeout_ms = (int)cfg->database.busy_timeout_ms,
	};
	struct anfu_db *db = NULL;
	struct anfu_buf sql;
	int r;

	anfu_buf_init(&sql, ANFU_LIMIT_CLI_SQL_BYTES);
	r = cli_pg_roles_sql(ro, &sql);
	if (r == 0)
		r = anfu_db_open(&scfg, &db);
	if (r < 0) {
		fprintf(stderr, "anfu init: cannot connect with --admin-dsn: %s\n",
			anfu_strerror(r));
		goto out;
	}
	r = db->ops->exec_script(db, sql.data);
	if (r < 0) {
		fprintf(stderr,
			"anfu init: cannot create the roles (the --admin-dsn user must be a "
			"superuser): %s\n",
			anfu_strerror(r));
		goto out;
	}
	r = role_password(db, ro->owner, cfg->database.owner_password_file);
	if (r == 0)
		r = role_password(db, ro->app, cfg->database.password_file);
	if (r == 0 && ro->readonly[0])
		printf("  %-12s %s: read-only; its password is yours to set (\\password)\n",
		       "db role", ro->readonly);
out:
	anfu_db_close(db);
	anfu_buf_free(&sql);
	return r;
}
