/*
 * store: database access behind a table of function pointers.
 *
 * struct anfu_store_ops has an SQLite implementation (store/sqlite.c) and a
 * PostgreSQL one (store/pg.c). Every statement anfu runs is portable SQL for
 * SQLite 3.40 and PostgreSQL 15 (docs/architecture.md lists the subset) and
 * is parameterised with $1..$n; nothing is ever concatenated into SQL.
 *
 * Connections are per thread (anfu_store_db() hands each thread its own);
 * a connection is used by one thread at a time. Only this module includes
 * sqlite3.h / libpq-fe.h. Migrations (store/migrate.c) are numbered SQL
 * files of each module compiled into the binary.
 */
#ifndef ANFU_STORE_STORE_H
#define ANFU_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/hist.h"
#include "base/limits.h"

enum anfu_param_type {
	ANFU_P_NULL = 0,
	ANFU_P_INT,
	ANFU_P_TEXT,
};

/* A statement parameter; borrowed for the duration of the call. */
struct anfu_param {
	enum anfu_param_type type;
	int64_t i;
	const char *s;
	size_t len; /* (size_t)-1: strlen(s) */
};

/* ANFU_PS(NULL) is a NULL text: its len stays (size_t)-1, which tells
 * PostgreSQL to type it text (needed where nothing else does, as in
 * "$2 IS NULL OR id = $2"); ANFU_PNULL leaves the type to the statement
 * (a NULL for an INTEGER or BIGINT column). */
#define ANFU_PI(v) ((struct anfu_param){ .type = ANFU_P_INT, .i = (int64_t)(v) })
#define ANFU_PS(v)            \
	((struct anfu_param){ \
		.type = (v) ? ANFU_P_TEXT : ANFU_P_NULL, .s = (v), .len = (size_t)-1 })
#define ANFU_PSN(v, n) ((struct anfu_param){ .type = ANFU_P_TEXT, .s = (v), .len = (n) })
#define ANFU_PNULL ((struct anfu_param){ .type = ANFU_P_NULL })

/* A result row, valid only inside the row callback. */
struct anfu_row;

int anfu_row_count(const struct anfu_row *r);
bool anfu_row_is_null(const struct anfu_row *r, int col);
int64_t anfu_row_int(const struct anfu_row *r, int col);
/* Text of a column (NUL-terminated, valid until the callback returns);
 * *ret_len may be NULL. NULL columns give NULL. */
const char *anfu_row_text(const struct anfu_row *r, int col, size_t *ret_len);

/* Called for each row; return 0 to continue, non-zero to stop (that value
 * is then returned by the exec call if negative, else 0). */
typedef int (*anfu_row_fn)(void *ud, const struct anfu_row *r);

struct anfu_db; /* one connection */

struct anfu_store_cfg {
	const char *backend; /* "sqlite" (or NULL / "") or "postgresql" */
	const char *path;    /* sqlite: database file */
	int busy_timeout_ms; /* sqlite: busy timeout; postgresql: lock_timeout */
	/* postgresql only (all borrowed): */
	const char *dsn;	   /* libpq conninfo or URI, without a password */
	const char *password;	   /* NULL: password_file, else libpq's own
				   * (PGPASSWORD, ~/.pgpass) */
	const char *password_file; /* read by anfu_store_new() when it exists */
	const char *sslmode;	   /* NULL or "": libpq's default */
	int statement_timeout_ms;  /* 0: none */
	int pool_size;		   /* connections anfu_store_db() opens; 0: no cap */
};

struct anfu_store_ops {
	const char *name;    /* "sqlite" / "postgresql" */
	const char *dialect; /* migration dialect suffix: "sqlite" / "pg" */
	int (*open)(const struct anfu_store_cfg *cfg, struct anfu_db **ret);
	void (*close)(struct anfu_db *db);
	/* BEGIN (write: take the write lock up front: BEGIN IMMEDIATE on
	 * SQLite; on PostgreSQL READ COMMITTED plus one advisory lock every
	 * write transaction takes, so writers run one at a time as on
	 * SQLite. read: one snapshot for the whole transaction). */
	int (*begin)(struct anfu_db *db, bool write);
	int (*commit)(struct anfu_db *db);
	int (*rollback)(struct anfu_db *db);
	int (*savepoint)(struct anfu_db *db, const char *name);
	int (*release)(struct anfu_db *db, const char *name);
	int (*rollback_to)(struct anfu_db *db, const char *name);
	/* One parameterised statement; rows go to fn (may be NULL); the number
	 * of changed rows goes to *ret_changes (may be NULL). */
	int (*exec)(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		    anfu_row_fn fn, void *ud, int64_t *ret_changes);
	/* Several statements without parameters (migrations only). */
	int (*exec_script)(struct anfu_db *db, const char *sql);
	/* Pipelining (anfu_db_send below); NULL on a backend whose statements
	 * cost no round trip (SQLite): anfu_db_send then runs exec at once. */
	int (*send)(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		    anfu_row_fn fn, void *ud, int64_t expect_changes);
	int (*flush)(struct anfu_db *db);
	/* Test hook: cap the database size at its current size plus extra
	 * pages, so the next growth fails with ANFU_EFULL. SQLite only:
	 * ANFU_EINVAL on PostgreSQL. */
	int (*limit_size)(struct anfu_db *db, int64_t extra_pages);
	/* Cluster leases (anfu_db_lease_try below); NULL on a backend that
	 * serves one node (SQLite): every lease is trivially held there. */
	int (*lease_try)(struct anfu_db *db, int32_t key, bool *ret_held);
	int (*lease_release)(struct anfu_db *db, int32_t key);
};

/* Base of every connection: the ops it belongs to. Implementations embed
 * it as their first member. */
struct anfu_db {
	const struct anfu_store_ops *ops;
	int tx_depth; /* 0: no transaction open */
};

extern const struct anfu_store_ops anfu_store_sqlite_ops;
extern const struct anfu_store_ops anfu_store_pg_ops;

/* The statement that appends one row to a journal whose no_replace
 * trigger raises FAIL (ledger_transfer, audit_log): "INSERT OR FAIL "
 * tail on SQLite, "INSERT " tail on PostgreSQL (ANFU_DB_APPEND_SQL(db,
 * "INTO t (...) VALUES (...)"), tail a literal). A single-row insert
 * checks every constraint before it writes, so FAIL and the default
 * ABORT leave the same nothing behind; but an ABORT that may come from a
 * trigger or a constraint makes SQLite open a statement journal for the
 * insert and copy every page it touches into it first (about 20 page
 * copies per ledger transfer with its audit record: docs/benchmarks.md
 * §6.10). PostgreSQL keeps no such journal and knows no OR FAIL. */
static inline const char *anfu_db_append_sql(const struct anfu_db *db, const char *sqlite,
					     const char *pg)
{
	return strcmp(db->ops->dialect, "sqlite") == 0 ? sqlite : pg;
}
#define ANFU_DB_APPEND_SQL(db, tail) \
	anfu_db_append_sql((db), "INSERT OR FAIL " tail, "INSERT " tail)

/* Error mapping: unique/primary-key violations give ANFU_EEXIST, other
 * constraint violations (CHECK, foreign key, trigger RAISE) ANFU_ECONFLICT,
 * a full disk or size cap ANFU_EFULL, lock timeouts ANFU_EBUSY, anything
 * else ANFU_EIO. The SQL text and the engine's message are logged, never
 * returned to a client.
 *
 * PostgreSQL, by SQLSTATE: 23505 ANFU_EEXIST; other 23xxx and P0001
 * (RAISE) ANFU_ECONFLICT; 53100 ANFU_EFULL; 55P03, 40001, 40P01, 57014
 * (lock, serialization, deadlock, statement timeout) ANFU_EBUSY; a lost
 * connection (class 08, 57P0x, or libpq reports it bad) ANFU_EIO, and the
 * connection reconnects at its next use outside a transaction. A failed
 * statement inside a transaction fails the transaction on PostgreSQL:
 * later statements give ANFU_EIO until the caller rolls back (or back to
 * a savepoint). */

/* Checks a PostgreSQL dsn without connecting: ANFU_EINVAL with a message
 * in errbuf (which never quotes the dsn) when it does not parse, carries
 * a password (password=, or a URI's user:password@) or sets sslmode
 * (database.sslmode does). */
int anfu_store_pg_check_dsn(const char *dsn, char *errbuf, size_t errlen);

/* The user a PostgreSQL dsn names, into out (cap bytes): ANFU_ENOTFOUND
 * when it names none, ANFU_EINVAL when it does not parse, ANFU_ELIMIT when
 * out is too small (out is then unwritten). Connects to nothing. */
int anfu_store_pg_dsn_user(const char *dsn, char *out, size_t cap);
/* Sets the password of role over db (a PostgreSQL connection outside a
 * transaction, of a role allowed to ALTER ROLE): the client computes the
 * verifier (the server's password_encryption, SCRAM-SHA-256), so the
 * password never reaches the server, its statement log or anfu's log.
 * password is borrowed; the caller wipes it. ANFU_EINVAL on SQLite. */
int anfu_store_pg_set_password(struct anfu_db *db, const char *role, const char *password);

/* Wrappers that dispatch through db->ops. */
int anfu_db_open(const struct anfu_store_cfg *cfg, struct anfu_db **ret);
void anfu_db_close(struct anfu_db *db);
/* Write transactions are begun, committed and rolled back by the
 * transaction executor (src/tx/) and by migrations only; everyone else
 * calls anfu_tx_run(). A read-only transaction (a consistent snapshot for
 * verification, export, reports) is begun and ended here directly. */
int anfu_db_begin(struct anfu_db *db);	    /* write transaction */
int anfu_db_begin_read(struct anfu_db *db); /* read-only transaction */
int anfu_db_commit(struct anfu_db *db);	    /* observed in the commit histogram */
int anfu_db_rollback(struct anfu_db *db);   /* NULL-safe, no-op outside a tx */
/* Ends the read-only transaction of anfu_db_begin_read() (it rolls back
 * whatever is open, so it also ends one a caller left behind); NULL-safe,
 * no-op outside a transaction. */
int anfu_db_end_read(struct anfu_db *db);
int anfu_db_exec(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		 anfu_row_fn fn, void *ud, int64_t *ret_changes);
/* Sends a statement without waiting for its outcome. On PostgreSQL it
 * goes out in libpq's pipeline mode, and its outcome is read with those of
 * everything else sent, in one round trip, by the next anfu_db_flush() or
 * by any other call on db (a statement, a savepoint, the commit), which
 * returns the first failure among them; on SQLite (no round trips) it runs
 * at once and send returns its outcome. Either way the failure is the
 * store's own (it fails the transaction, or the step, as an exec's would);
 * statements after a failed one are not run. fn (may be NULL) gets the
 * rows when the outcome arrives, so ud must live until the flush; the
 * parameters are copied at once. expect_changes >= 0: the statement must
 * change exactly that many rows, else ANFU_EINTERNAL (-1: any). Inside a
 * write transaction only, on the thread that owns db. */
int anfu_db_send(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		 anfu_row_fn fn, void *ud, int64_t expect_changes);
/* Reads the outcome of every statement sent and not yet read: 0, or the
 * first failure (see anfu_db_send). Nothing sent: 0 at no cost. */
int anfu_db_flush(struct anfu_db *db);
/* Runs a query expected to return at most one row whose first column is an
 * integer; ANFU_ENOTFOUND when there is no row. */
int anfu_db_query_int(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
		      int64_t *ret);

/* ---- cluster leases (several nodes on one database) ------------------ */

/* The key of the lease named name (FNV-1a, 31 bits): the same on every
 * node. Two names may share a key; whoever registers names refuses that
 * (jobs/jobs.c). */
int32_t anfu_db_lease_key(const char *name);
/* Tries to take the lease key for db's connection without waiting:
 * *ret_held is true when this connection holds it now (it was free), false
 * when another connection holds it. On PostgreSQL a session-level advisory
 * lock (two-key form, class "anfu", which never meets the writers'
 * one-key lock): no other connection of any node can hold it until
 * anfu_db_lease_release() or until this connection ends, so a node that
 * dies (or loses its connection) releases its leases. Taking a lease
 * already held by the same connection nests: release as often as taken.
 * On SQLite (one node) always held. Outside a transaction only
 * (ANFU_EINVAL); a lost connection gives ANFU_EIO. */
int anfu_db_lease_try(struct anfu_db *db, int32_t key, bool *ret_held);
/* Releases a lease db took; a lease the connection no longer holds (its
 * session was lost and reconnected meanwhile) is no error. Outside a
 * transaction only (ANFU_EINVAL). */
int anfu_db_lease_release(struct anfu_db *db, int32_t key);

/* Commit latency of every anfu_db_commit(), for /metrics. */
extern struct anfu_hist anfu_store_commit_hist;
/* How long each write transaction on SQLite waited for the process's write
 * lock of its file (held by another connection's transaction, or by the
 * checkpointer's RESTART), for /metrics; a take without waiting counts 0. */
extern struct anfu_hist anfu_store_wlock_wait_hist;

/* How often, since the process started, an SQLite connection of this
 * process slept in its busy handler (the write lock held by another
 * connection). The process's own writers queue on an in-process lock per
 * database file instead (store/sqlite.c), so this counts waits behind other
 * processes, or behind the same thread's other connection. Any thread. */
uint64_t anfu_store_sqlite_busy_calls(void);
#ifdef ANFU_TEST_HOOKS
/* Test hook: how many of this process's threads wait in the queue of db's
 * database file's write lock now (0 for a connection of another backend
 * or of no file). Any thread. */
int anfu_store_sqlite_write_waiters(struct anfu_db *db);
#endif

/* ---- per-thread connections ----------------------------------------- */

struct anfu_store; /* configuration plus one connection per thread */

/* Copies cfg. For PostgreSQL without cfg->password, reads the password
 * from cfg->password_file when that file exists: ANFU_EPERM (logged) when
 * it is not a regular file of mode 0600 or stricter or is a link,
 * ANFU_ELIMIT when longer than ANFU_LIMIT_DB_PASSWORD_BYTES, ANFU_EIO when
 * unreadable. Connects to nothing. */
int anfu_store_new(const struct anfu_store_cfg *cfg, struct anfu_store **ret);
/* Closes every connection; call after all threads using it are gone. */
void anfu_store_free(struct anfu_store *s);
/* The calling thread's connection, opened on first use. */
int anfu_store_db(struct anfu_store *s, struct anfu_db **ret);
#ifdef ANFU_TEST_HOOKS
/* Test hook: the connections s opens from now on are opened by
 * ops->open (a test's wrapper of the backend, e.g. one that injects
 * faults; its open sets the connection's ops) instead of the backend the
 * configuration names; NULL goes back to that backend. Connections
 * already open keep theirs, so a test sets it before the threads whose
 * connections it wraps make their first call. */
void anfu_store_set_opener(struct anfu_store *s, const struct anfu_store_ops *ops);
#endif

/* ---- copying a database (anfu db copy) -------------------------------- */

struct anfu_store_copy_report {
	int tables;	   /* tables copied */
	int64_t rows;	   /* rows copied */
	char problem[192]; /* what went wrong, for people ("" on success) */
};

/* Copies every table of `from` into `to`, both at the same schema (the
 * caller migrated `to`; anfu's tables only, INTEGER/BIGINT and TEXT
 * columns): from one read snapshot of `from`, in one write transaction of
 * `to`, parents before the tables that reference them. Rows `to` holds
 * (the migrations' seeds) give way to the source's: a table with one row
 * on both sides (a chain's head, which may never be deleted) is updated,
 * any other is emptied first. After the commit every table's row count is
 * compared. progress (may be NULL) is called now and then and at the end.
 * Returns 0 with *rep filled; ANFU_ESCHEMA when the two have different
 * tables or a column type outside the subset, ANFU_ELIMIT beyond
 * ANFU_LIMIT_DB_COPY_TABLES / _COLUMNS, the store's error of a statement
 * (the transaction then rolled back: `to` is as before), ANFU_ECORRUPT
 * when a count differs after the commit; rep->problem says which. Call
 * outside any transaction of either connection. */
int anfu_store_copy(struct anfu_db *from, struct anfu_db *to,
		    void (*progress)(int64_t done, int64_t total),
		    struct anfu_store_copy_report *rep);

/* ---- migrations ------------------------------------------------------ */

/* Each module has its own sequence of migrations, src/<module>/migrations/
 * NNNN_name.sql (+ .sqlite.sql / .pg.sql dialect parts), compiled into a
 * table by scripts/embed_migrations.py, which refuses a gap. */
struct anfu_migration {
	const char *module; /* "core", "iam" */
	int version;	    /* 1.. within the module */
	const char *name;
	const char *sql;	/* portable part */
	const char *sql_sqlite; /* dialect part, or NULL */
	const char *sql_pg;	/* dialect part, or NULL */
};

/* One module's migrations, versions 1..n in order. */
struct anfu_migration_set {
	const char *module;
	const struct anfu_migration *migrations;
	size_t n;
};

/* Modules one anfu_migrate() call takes. */
#define ANFU_MIGRATE_SETS_MAX ANFU_LIMIT_MODULES

/* Called inside a migration's transaction after its SQL ran, so the caller
 * can append the "migration applied" audit record atomically. */
typedef int (*anfu_migrate_fn)(void *ud, struct anfu_db *db, const struct anfu_migration *m);

/* The version of module recorded in db: 0 when it has none or db has no
 * schema table; a database of the legacy global numbering (1..5) answers
 * through the legacy map. Changes nothing. ANFU_ESCHEMA for an implausible
 * version. */
int anfu_migrate_version(struct anfu_db *db, const char *module, int *ret);
/* Latest version set knows (0 for an empty set or NULL). */
int anfu_migrate_latest(const struct anfu_migration_set *set);
/* Checks db against the n sets without changing it: ret_versions (n ints,
 * may be NULL) gets each module's version, *ret_pending (may be NULL) the
 * number of migrations not applied yet. ANFU_ESCHEMA (logged) when a
 * module's version is newer than its set; outputs are then unwritten. */
int anfu_migrate_status(struct anfu_db *db, const struct anfu_migration_set *sets, size_t n,
			int *ret_versions, int *ret_pending);
/* Brings db up to the n sets (at most ANFU_MIGRATE_SETS_MAX), set by set in
 * the order given, each migration in its own transaction: a legacy
 * schema_version is first converted through the legacy map, then every
 * missing migration runs. Refuses (ANFU_ESCHEMA) a database newer than
 * this binary in any module before changing anything. ret_from and ret_to
 * (n ints each, may be NULL) get each module's version before and after,
 * only on success. Call outside any transaction (ANFU_EINVAL otherwise). */
int anfu_migrate(struct anfu_db *db, const struct anfu_migration_set *sets, size_t n,
		 anfu_migrate_fn on_applied, void *ud, int *ret_from, int *ret_to);

#endif
