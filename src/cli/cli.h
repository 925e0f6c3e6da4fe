/*
 * cli: the anfu administration command. Internal header of src/cli/.
 *
 * Every command takes --help and --data DIR (default: the directory `make
 * run` uses), works without a terminal (scripts and tests drive it), prints
 * results on stdout and problems on stderr, and exits 0 on success, 1 on
 * failure, 2 on a usage error.
 */
#ifndef ANFU_CLI_CLI_H
#define ANFU_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cli_opts {
	const char *data;	   /* --data */
	const char *config;	   /* --config */
	const char *out;	   /* --out */
	const char *crypto;	   /* --crypto */
	const char *level;	   /* --level */
	const char *admin;	   /* --admin */
	const char *name;	   /* --name */
	const char *role;	   /* --role */
	const char *account;	   /* --account */
	const char *limit;	   /* --limit */
	const char *admin_dsn;	   /* --admin-dsn */
	const char *readonly_role; /* --readonly-role */
	const char *to;		   /* --to */
	const char *key;	   /* --key */
	bool show;		   /* --show */
	bool postgresql;	   /* --postgresql */
	bool print_sql;		   /* --print-sql */
	bool help;		   /* --help */
};

/* Parses the options common to all commands (argv[0] is the command name).
 * `allowed` lists the long options this command accepts ("data,config").
 * Returns 0, or 2 after printing the usage error. */
int cli_parse(int argc, char **argv, const char *allowed, struct cli_opts *o);

/* Prints a progress line on stderr when it is a terminal. */
void cli_progress(int64_t done, int64_t total);

/* ---- PostgreSQL roles (cmd_db_roles.c) -------------------------------- */

struct anfu_buf;
struct anfu_config;
struct anfu_db;

/* The role names of an installation: the users of [database] owner_dsn
 * and dsn. */
struct cli_pg_roles {
	char owner[64];
	char app[64];
	char readonly[64]; /* "" or the read-only role (--readonly-role) */
};

/* Fills *ret from cfg (backend postgresql with owner_dsn; both users plain
 * lower-case names, distinct) and readonly (NULL: none; else a plain name
 * distinct from both); otherwise ANFU_EINVAL with err saying why, *ret
 * unwritten. */
int cli_pg_roles_of(const struct anfu_config *cfg, const char *readonly, struct cli_pg_roles *ret,
		    char *err, size_t errlen);
/* Appends to out the SQL an administrator runs once (idempotent): the
 * roles (LOGIN, no other attribute, no password), CONNECT on the database
 * for them only, the schema public owned by the owner with USAGE for the
 * others, and default privileges on what the owner creates later (SELECT,
 * INSERT for the application role; SELECT for the read-only role, which
 * also gets SELECT on the tables that exist). */
int cli_pg_roles_sql(const struct cli_pg_roles *ro, struct anfu_buf *out);
/* Appends to out the grants of the application role on the tables that
 * exist: everything but what the append-only list denies. */
int cli_pg_grants_sql(const struct cli_pg_roles *ro, struct anfu_buf *out);
/* Runs the grants over db (the owner's, or an administrator's connection)
 * in one transaction. */
int cli_pg_grant(struct anfu_db *db, const struct cli_pg_roles *ro);
/* Connects with admin_dsn (a superuser; password from libpq's environment),
 * runs the roles SQL and gives each role a random password kept in its
 * password file (owner_password_file, password_file) unless that file
 * exists. Reports on stdout, problems on stderr. */
int cli_pg_create_roles(const struct anfu_config *cfg, const struct cli_pg_roles *ro,
			const char *admin_dsn);

/* `anfu db copy` (cmd_db_copy.c); argv[0] is "copy". */
int cmd_db_copy(int argc, char **argv);
/* Its usage lines, for `anfu db --help`. */
void cmd_db_copy_usage(void);

int cmd_init(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_routes(int argc, char **argv);
int cmd_staff(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
/* cmd_receipts.c: `anfu receipts key|verify` (docs/receipts.md). */
int cmd_receipts(int argc, char **argv);

#endif
