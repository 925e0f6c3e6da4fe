/*
 * ledger/account: the account kinds (one table: each kind's asset, owner
 * type and flags), reading and writing an account row, and opening an
 * account (a writer command).
 *
 * Owns the rows of ledger_account. Trusts the writer to call the write
 * functions inside its transaction; checks every spec against the table.
 * Every balance read and every balance write asserts the invariants
 * (each balance >= 0, the flags honoured): they hold unless the ledger
 * itself is broken, and a broken ledger must stop.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "base/assert.h"
#include "base/err.h"
#include "base/rand.h"
#include "base/str.h"
#include "ledger/internal.h"
#include "store/store.h"
#include "tx/tx.h"

#define LIAB ANFU_LEDGER_ACC_DEBITS_MUST_NOT_EXCEED_CREDITS
#define ASSET ANFU_LEDGER_ACC_CREDITS_MUST_NOT_EXCEED_DEBITS

/* The kinds: asset, owner type, flags. An account of a kind has exactly
 * these (docs/ledger.md, "Accounts"). */
struct kind_row {
	const char *kind, *asset, *owner_type;
	uint32_t flags;
};
static const struct kind_row kinds[] = {
	{ "customer_wallet", "CNY", "customer", LIAB },
	{ "merchant_pending", "CNY", "merchant", LIAB },
	{ "merchant_settled", "CNY", "merchant", LIAB },
	{ "platform_escrow", "CNY", "platform", LIAB },
	{ "platform_fee", "CNY", "platform", 0 },
	{ "bank_reserve", "CNY", "bank", ASSET },
	{ "bank_clearing", "CNY", "bank", 0 },
	{ "points_liability", "POINTS", "platform", 0 },
	{ "customer_points", "POINTS", "customer", LIAB },
	{ "suspense", "CNY", "platform", 0 },
};

static bool owner_id_ok(const char *s)
{
	size_t n = s ? strnlen(s, ANFU_LIMIT_LEDGER_OWNER_BYTES + 1) : 0;

	if (n == 0 || n > ANFU_LIMIT_LEDGER_OWNER_BYTES)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int ledger_account_spec_check(const struct anfu_ledger_account_spec *s, uint32_t *ret_flags)
{
	if (!s || !s->kind || !s->asset || !s->owner_type || !owner_id_ok(s->owner_id))
		return ANFU_EINVAL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].kind, s->kind) != 0)
			continue;
		if (strcmp(kinds[i].asset, s->asset) != 0 ||
		    strcmp(kinds[i].owner_type, s->owner_type) != 0)
			return ANFU_EINVAL;
		*ret_flags = kinds[i].flags;
		return 0;
	}
	return ANFU_EINVAL;
}

void ledger_account_assert(const struct anfu_ledger_account *a)
{
	ANFU_ASSERT(a->debits_pending >= 0 && a->debits_posted >= 0);
	ANFU_ASSERT(a->credits_pending >= 0 && a->credits_posted >= 0);
	ANFU_ASSERT(a->debits_pending <= INT64_MAX - a->debits_posted);
	ANFU_ASSERT(a->credits_pending <= INT64_MAX - a->credits_posted);
	if (a->flags & LIAB)
		ANFU_ASSERT(a->debits_pending + a->debits_posted <= a->credits_posted);
	if (a->flags & ASSET)
		ANFU_ASSERT(a->credits_pending + a->credits_posted <= a->debits_posted);
}

#define ACCOUNT_COLS                                                                           \
	"id, asset, kind, owner_type, owner_id, flags, state, debits_pending, debits_posted, " \
	"credits_pending, credits_posted, created_ms"

static int account_row(void *ud, const struct anfu_row *row)
{
	struct anfu_ledger_account *a = ud;
	char *const dst[] = {
		a->id, a->asset, a->kind, a->owner_type, a->owner_id, NULL, a->state
	};
	const size_t cap[] = { sizeof(a->id),	      sizeof(a->asset),	   sizeof(a->kind),
			       sizeof(a->owner_type), sizeof(a->owner_id), 0,
			       sizeof(a->state) };

	for (int c = 0; c < 7; c++) {
		const char *s = dst[c] ? anfu_row_text(row, c, NULL) : NULL;

		if (dst[c] && (!s || anfu_strlcpy(dst[c], s, cap[c]) < 0))
			return ANFU_ESCHEMA;
	}
	a->flags = (uint32_t)anfu_row_int(row, 5);
	a->debits_pending = anfu_row_int(row, 7);
	a->debits_posted = anfu_row_int(row, 8);
	a->credits_pending = anfu_row_int(row, 9);
	a->credits_posted = anfu_row_int(row, 10);
	a->created_ms = anfu_row_int(row, 11);
	return 1;
}

/* Runs sql (one row of ACCOUNT_COLS, parameters p) into *ret. */
static int account_query(struct anfu_db *db, const char *sql, const struct anfu_param *p, size_t np,
			 struct anfu_ledger_account *ret)
{
	struct anfu_ledger_account a;
	int r;

	memset(&a, 0, sizeof(a));
	a.id[0] = '\0';
	r = anfu_db_exec(db, sql, p, np, account_row, &a, NULL);
	if (r < 0)
		return r;
	if (a.id[0] == '\0')
		return ANFU_ENOTFOUND;
	ledger_account_assert(&a);
	*ret = a;
	return 0;
}

int ledger_account_read(struct anfu_db *db, const char *id, struct anfu_ledger_account *ret)
{
	const struct anfu_param p[] = { ANFU_PS(id) };

	return account_query(db, "SELECT " ACCOUNT_COLS " FROM ledger_account WHERE id = $1", p, 1,
			     ret);
}

bool ledger_account_sent_ok(const struct anfu_ledger_account *a)
{
	if (a->id[0] == '\0')
		return false;
	ledger_account_assert(a);
	return true;
}

void ledger_sql_in_list(char *out, size_t cap, const char *head, size_t f, size_t k,
			const char *tail)
{
	size_t len = (size_t)snprintf(out, cap, "%s", head);

	ANFU_ASSERT(k >= 1);
	for (size_t i = 0; i < k; i++) {
		ANFU_ASSERT(len < cap);
		len += (size_t)snprintf(out + len, cap - len, "%s$%zu", i ? ", " : "", f + i);
	}
	ANFU_ASSERT(len < cap);
	len += (size_t)snprintf(out + len, cap - len, "%s", tail);
	ANFU_ASSERT(len < cap);
}

/* A row of ledger_account_send_reads to its taker. */
static int reads_row(void *ud, const struct anfu_row *row)
{
	struct ledger_reads *rd = ud;
	struct anfu_ledger_account a;

	memset(&a, 0, sizeof(a));
	if (account_row(&a, row) < 0)
		return ANFU_ESCHEMA;
	ledger_account_assert(&a);
	rd->take(rd->ud, &a);
	return 0;
}

_Static_assert(LEDGER_READ_IDS <= ANFU_LIMIT_SQL_PARAMS, "one statement's ids");

int ledger_account_send_reads(struct anfu_db *db, const char *const *ids, size_t n,
			      struct ledger_reads *rd)
{
	char sql[256 + LEDGER_READ_IDS * 8];
	struct anfu_param p[LEDGER_READ_IDS];
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i += LEDGER_READ_IDS) {
		size_t k = n - i < LEDGER_READ_IDS ? n - i : LEDGER_READ_IDS, w = 1;

		/* Lists of 1, 2, 4 ... 64 ids (the last one repeated to fill):
		 * a few statements to prepare, not one per length. */
		while (w < k)
			w *= 2;
		for (size_t j = 0; j < w; j++)
			p[j] = ANFU_PS(ids[i + (j < k ? j : k - 1)]);
		ledger_sql_in_list(sql, sizeof(sql),
				   "SELECT " ACCOUNT_COLS " FROM ledger_account WHERE id IN (", 1,
				   w, ")");
		r = anfu_db_send(db, sql, p, w, reads_row, rd, -1);
	}
	return r;
}

/* The statement of ledger_account_write_many for k accounts: only its
 * placeholders vary ("$1".."$95"), never a value. */
static void write_many_sql(size_t k, char *sql, size_t cap)
{
	size_t len;

	ANFU_ASSERT(k >= 1 && k <= LEDGER_BALANCE_ROWS);
	len = (size_t)snprintf(sql, cap,
			       "UPDATE ledger_account SET debits_pending = v.column2, "
			       "debits_posted = v.column3, credits_pending = v.column4, "
			       "credits_posted = v.column5 FROM (VALUES ");
	for (size_t i = 0; i < k; i++) {
		size_t b = 5 * i;

		ANFU_ASSERT(len < cap);
		len += (size_t)snprintf(sql + len, cap - len, "%s($%zu, $%zu, $%zu, $%zu, $%zu)",
					i ? ", " : "", b + 1, b + 2, b + 3, b + 4, b + 5);
	}
	ANFU_ASSERT(len < cap);
	len += (size_t)snprintf(sql + len, cap - len, ") AS v WHERE ledger_account.id = v.column1");
	ANFU_ASSERT(len < cap);
}

int ledger_account_write_many(struct anfu_db *db, const struct anfu_ledger_account *a, size_t n)
{
	char sql[256 + LEDGER_BALANCE_ROWS * 32];
	struct anfu_param p[LEDGER_BALANCE_ROWS * 5];
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i += LEDGER_BALANCE_ROWS) {
		size_t k = n - i < LEDGER_BALANCE_ROWS ? n - i : LEDGER_BALANCE_ROWS;

		for (size_t j = 0; j < k; j++) {
			const struct anfu_ledger_account *x = &a[i + j];

			ledger_account_assert(x);
			p[5 * j] = ANFU_PSN(x->id, strlen(x->id));
			p[5 * j + 1] = ANFU_PI(x->debits_pending);
			p[5 * j + 2] = ANFU_PI(x->debits_posted);
			p[5 * j + 3] = ANFU_PI(x->credits_pending);
			p[5 * j + 4] = ANFU_PI(x->credits_posted);
		}
		write_many_sql(k, sql, sizeof(sql));
		r = anfu_db_send(db, sql, p, 5 * k, NULL, NULL, (int64_t)k);
	}
	return r;
}

int ledger_account_find(struct anfu_db *db, const struct anfu_ledger_account_spec *s,
			struct anfu_ledger_account *ret)
{
	const struct anfu_param q[] = { ANFU_PS(s->owner_type), ANFU_PS(s->owner_id),
					ANFU_PS(s->kind), ANFU_PS(s->asset) };

	return account_query(db,
			     "SELECT " ACCOUNT_COLS " FROM ledger_account WHERE owner_type = $1 "
			     "AND owner_id = $2 AND kind = $3 AND asset = $4",
			     q, 4, ret);
}

int ledger_open_cmd(struct anfu_tx *tx, struct ledger_open *o, int64_t now_ms)
{
	const struct anfu_ledger_account_spec *s = o->spec;
	struct anfu_db *db = anfu_tx_db(tx);
	char id[ANFU_ID_MAX];
	int r;

	r = ledger_account_find(db, s, &o->acc);
	if (r != ANFU_ENOTFOUND)
		return r;
	r = anfu_id_new("acc", id, sizeof(id));
	if (r < 0)
		return r;
	{
		const struct anfu_param p[] = { ANFU_PSN(id, strlen(id)),
						ANFU_PS(s->asset),
						ANFU_PS(s->kind),
						ANFU_PS(s->owner_type),
						ANFU_PS(s->owner_id),
						ANFU_PI(o->flags),
						ANFU_PS(ledger_acc_state_name(LEDGER_ACC_NORMAL)),
						ANFU_PI(now_ms) };

		r = anfu_db_exec(
			db,
			"INSERT INTO ledger_account (id, asset, kind, owner_type, owner_id, "
			"flags, state, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
			p, 8, NULL, NULL, NULL);
	}
	if (r == 0)
		r = anfu_tx_audit(tx, "ledger.account_opened", "ledger_account", id, "success",
				  json_pack("{s:s, s:s, s:s, s:i}", "kind", s->kind, "asset",
					    s->asset, "owner_type", s->owner_type, "flags",
					    (int)o->flags));
	if (r == 0)
		r = ledger_account_read(db, id, &o->acc);
	return r;
}
