/*
 * cli/cmd_ledger: `anfu ledger verify|accounts|account ID|transfers`.
 *
 * verify runs anfu_ledger_verify() (ledger/verify.h) with the deployment's
 * hash and exits 1 naming the first bad row. The listings are read-only
 * views for operators: owners of customer and merchant accounts are
 * masked (base/mask.h: the prefix, then the first and last character),
 * amounts are integers in the asset's minor unit (fen, points). Trusts
 * the data directory it is pointed at no more than the verifier does:
 * every text it prints comes from the database and is printed as data.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/mask.h"
#include "cli/cli.h"
#include "config/config.h"
#include "ledger/verify.h"
#include "store/store.h"

static void ledger_usage(void)
{
	printf("usage: anfu ledger verify [--data DIR] [--config FILE]\n"
	       "       anfu ledger accounts [--limit N] [--data DIR] [--config FILE]\n"
	       "       anfu ledger account ID [--data DIR] [--config FILE]\n"
	       "       anfu ledger transfers [--account ID] [--limit N] [--data DIR]\n"
	       "\n"
	       "verify: recomputes every account's balances from the journal and the\n"
	       "holds, checks debits = credits per asset, the accounts' limits, the\n"
	       "journal's order and the hash chain of its batches; exits 1 naming the\n"
	       "first bad row (docs/ledger.md).\n"
	       "accounts: the first N accounts by id (default %d, at most %d).\n"
	       "account: one account with its balances and open holds.\n"
	       "transfers: the last N transfers, newest first, of one account or all.\n"
	       "Owners of customer and merchant accounts are masked.\n",
	       ANFU_LIMIT_LEDGER_CLI_ROWS_DEFAULT, ANFU_LIMIT_LEDGER_CLI_ROWS);
}

static int verify(struct anfu_app *b, struct anfu_db *db)
{
	struct anfu_ledger_verify_report rep;
	enum anfu_hash_alg h = b->cfg->crypto == ANFU_CRYPTO_GM ? ANFU_HASH_SM3 : ANFU_HASH_SHA256;
	int r = anfu_ledger_verify(db, h, &rep);

	if (r == 0) {
		printf("OK: %" PRId64 " transfers in %" PRId64 " batches, %" PRId64
		       " accounts, %" PRId64 " holds verified\n",
		       rep.transfers, rep.batches, rep.accounts, rep.holds);
		return 0;
	}
	printf("FAILED: %s\n", rep.problem[0] ? rep.problem : anfu_strerror(r));
	return 1;
}

/* Longest id prefix kept before the mask ("usr_", "mer_"). */
#define OWNER_PREFIX_MAX 8

/* The owner as operators may see it: customers and merchants masked
 * ("***" when the id does not have the prefix_rest shape). */
static void owner_text(const char *type, const char *id, char out[ANFU_MASK_MAX])
{
	const char *us = strchr(id, '_');
	char tail[ANFU_MASK_MAX - OWNER_PREFIX_MAX];
	size_t pre;

	if (strcmp(type, "customer") != 0 && strcmp(type, "merchant") != 0) {
		(void)snprintf(out, ANFU_MASK_MAX, "%s", id);
		return;
	}
	pre = us ? (size_t)(us - id) + 1 : 0;
	if (pre == 0 || pre > OWNER_PREFIX_MAX ||
	    anfu_mask_id_number(us + 1, strlen(us + 1), tail, sizeof(tail)) < 0) {
		(void)snprintf(out, ANFU_MASK_MAX, "***");
		return;
	}
	memcpy(out, id, pre);
	memcpy(out + pre, tail, strlen(tail) + 1);
}

static const char *text(const struct anfu_row *row, int c)
{
	const char *s = anfu_row_text(row, c, NULL);

	return s ? s : "";
}

/* Columns of an account row, for the queries below. */
#define ACCOUNT_COLS                                                                           \
	"id, kind, asset, owner_type, owner_id, state, flags, debits_pending, debits_posted, " \
	"credits_pending, credits_posted"

static int account_line(void *ud, const struct anfu_row *row)
{
	char owner[ANFU_MASK_MAX];

	owner_text(text(row, 3), text(row, 4), owner);
	printf("%-28s %-17s %-6s %-8s %-16s %-13s %3" PRId64 " %14" PRId64 " %14" PRId64
	       " %14" PRId64 " %14" PRId64 "\n",
	       text(row, 0), text(row, 1), text(row, 2), text(row, 3), owner, text(row, 5),
	       anfu_row_int(row, 6), anfu_row_int(row, 7), anfu_row_int(row, 8),
	       anfu_row_int(row, 9), anfu_row_int(row, 10));
	(*(int64_t *)ud)++;
	return 0;
}

static void account_header(void)
{
	printf("%-28s %-17s %-6s %-8s %-16s %-13s %3s %14s %14s %14s %14s\n", "id", "kind", "asset",
	       "owner", "owner id", "state", "flg", "debits_pend", "debits_post", "credits_pend",
	       "credits_post");
}

static int list_accounts(struct anfu_db *db, int64_t limit)
{
	const struct anfu_param p[] = { ANFU_PI(limit) };
	int64_t n = 0;
	int r;

	account_header();
	r = anfu_db_exec(db, "SELECT " ACCOUNT_COLS " FROM ledger_account ORDER BY id LIMIT $1", p,
			 1, account_line, &n, NULL);
	if (r == 0)
		printf("(%" PRId64 " accounts)\n", n);
	return r;
}

static int show_account(struct anfu_db *db, const char *id)
{
	const struct anfu_param p[] = { ANFU_PS(id) };
	int64_t n = 0, holds = 0;
	int r;

	r = anfu_db_query_int(db, "SELECT count(*) FROM ledger_account WHERE id = $1", p, 1, &n);
	if (r == 0 && n == 0)
		return ANFU_ENOTFOUND;
	if (r == 0) {
		account_header();
		r = anfu_db_exec(db, "SELECT " ACCOUNT_COLS " FROM ledger_account WHERE id = $1", p,
				 1, account_line, &n, NULL);
	}
	if (r == 0)
		r = anfu_db_query_int(db,
				      "SELECT count(*) FROM ledger_hold h JOIN ledger_transfer t "
				      "ON t.id = h.transfer_id WHERE h.state = 'pending' "
				      "AND (t.debit_account = $1 OR t.credit_account = $1)",
				      p, 1, &holds);
	if (r == 0)
		printf("open holds: %" PRId64 "\n", holds);
	return r;
}

static int transfer_line(void *ud, const struct anfu_row *row)
{
	printf("%8" PRId64 " %-28s %-28s %-28s %14" PRId64 " %-6s %-10s %3" PRId64 " %-28s %" PRId64
	       "\n",
	       anfu_row_int(row, 0), text(row, 1), text(row, 2), text(row, 3), anfu_row_int(row, 4),
	       text(row, 5), text(row, 6), anfu_row_int(row, 7), text(row, 8),
	       anfu_row_int(row, 9));
	(*(int64_t *)ud)++;
	return 0;
}

static int list_transfers(struct anfu_db *db, const char *account, int64_t limit)
{
	const struct anfu_param p[] = { ANFU_PI(limit), ANFU_PS(account) };
	int64_t n = 0;
	int r;

	printf("%8s %-28s %-28s %-28s %14s %-6s %-10s %3s %-28s %s\n", "seq", "id", "debit",
	       "credit", "amount", "asset", "code", "flg", "pending_id", "ts_us");
	r = anfu_db_exec(db,
			 account ? "SELECT seq, id, debit_account, credit_account, amount, asset, "
				   "code, flags, pending_id, ts_us FROM ledger_transfer "
				   "WHERE debit_account = $2 OR credit_account = $2 "
				   "ORDER BY seq DESC LIMIT $1"
				 : "SELECT seq, id, debit_account, credit_account, amount, asset, "
				   "code, flags, pending_id, ts_us FROM ledger_transfer "
				   "ORDER BY seq DESC LIMIT $1",
			 p, account ? 2 : 1, transfer_line, &n, NULL);
	if (r == 0)
		printf("(%" PRId64 " transfers)\n", n);
	return r;
}

/* --limit N: 1..ANFU_LIMIT_LEDGER_CLI_ROWS. Returns 0 or 2 (usage). */
static int parse_limit(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	if (!s) {
		*ret = ANFU_LIMIT_LEDGER_CLI_ROWS_DEFAULT;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > ANFU_LIMIT_LEDGER_CLI_ROWS) {
		fprintf(stderr, "anfu ledger: --limit must be 1..%d\n", ANFU_LIMIT_LEDGER_CLI_ROWS);
		return 2;
	}
	*ret = v;
	return 0;
}

/* Runs subcommand sub (argv[0] is it, the account id follows for
 * "account") on the opened data directory. Returns the exit status. */
static int run(struct anfu_app *b, const char *sub, const char *id, const struct cli_opts *o,
	       int64_t limit)
{
	struct anfu_db *db = NULL;
	int r = anfu_store_db(b->store, &db);

	if (r < 0) {
		fprintf(stderr, "anfu ledger: cannot open the database\n");
		return 1;
	}
	if (strcmp(sub, "verify") == 0)
		return verify(b, db);
	if (strcmp(sub, "accounts") == 0)
		r = list_accounts(db, limit);
	else if (strcmp(sub, "account") == 0)
		r = show_account(db, id);
	else
		r = list_transfers(db, o->account, limit);
	if (r == ANFU_ENOTFOUND) {
		fprintf(stderr, "anfu ledger: no account %s\n", id);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "anfu ledger %s: %s\n", sub, anfu_strerror(r));
		return 1;
	}
	return 0;
}

int cmd_ledger(int argc, char **argv)
{
	static const char *const subs[] = { "verify", "accounts", "account", "transfers" };
	static const char *const allowed[] = { "data,config", "data,config,limit", "data,config",
					       "data,config,account,limit" };
	struct anfu_app *b = NULL;
	struct cli_opts o;
	const char *id = NULL;
	char err[512] = "";
	int64_t limit = 0;
	size_t k = 0;
	int r, skip = 1;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		ledger_usage();
		return 0;
	}
	while (argc >= 2 && k < sizeof(subs) / sizeof(subs[0]) && strcmp(argv[1], subs[k]) != 0)
		k++;
	if (argc < 2 || k == sizeof(subs) / sizeof(subs[0])) {
		fprintf(stderr, "usage: anfu ledger verify|accounts|account ID|transfers "
				"(see --help)\n");
		return 2;
	}
	if (k == 2) { /* account ID */
		if (argc < 3 || argv[2][0] == '-') {
			fprintf(stderr, "usage: anfu ledger account ID [--data DIR]\n");
			return 2;
		}
		id = argv[2];
		skip = 2;
	}
	r = cli_parse(argc - skip, argv + skip, allowed[k], &o);
	if (r == 0 && !o.help)
		r = parse_limit(o.limit, &limit);
	if (r != 0)
		return r;
	if (o.help) {
		ledger_usage();
		return 0;
	}
	r = anfu_app_open(o.data, o.config, ANFU_APP_NO_SCHEMA | ANFU_APP_PUBLIC_ONLY, &b, err,
			  sizeof(err));
	if (r < 0) {
		fprintf(stderr, "anfu ledger: %s\n", err);
		return 1;
	}
	r = run(b, subs[k], id, &o, limit);
	anfu_app_close(b);
	return r;
}
