/*
 * bank/recon: daily reconciliation with each bank (docs/bank.md,
 * "Reconciliation"; FUNC-SETL-06): the bank's statement file of a Shanghai
 * day, fetched through the connector, stored (its SHA-256 and its lines)
 * and compared with the bank_payment rows of that day. Each difference is
 * a row of bank_recon_diff and an audit record; nothing moves money (a
 * human resolves differences). Re-running a day that has not changed
 * writes nothing.
 *
 * Owns the tables bank_recon, bank_recon_line and bank_recon_diff
 * (src/bank/migrations/0003_recon.sql). Trusts the connector to deliver
 * the bank's file over its pinned TLS connection; parses every byte of it
 * as untrusted. Thread-safe: each call uses the calling thread's
 * connection and writes in one transaction of its own (anfu_tx_run: no
 * ledger rows).
 */
#ifndef ANFU_BANK_RECON_H
#define ANFU_BANK_RECON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bank/bank.h"

/* One line of a statement file: "serial,kind,amount,status\n" with serial
 * "bsn_" + [0-9A-Za-z]{1,35}, kind debit | credit, amount a decimal
 * integer in fen, 1..INT64_MAX without sign or leading zero, status
 * succeeded | failed. */
struct anfu_bank_stmt_line {
	char serial[ANFU_BANK_SERIAL_MAX];
	char kind[8];
	int64_t amount;
	enum anfu_bank_status status; /* SUCCEEDED or FAILED */
};

/*
 * Parses a statement file (len bytes, not NUL-terminated, untrusted):
 * every line ends with '\n', no empty line, no serial twice, at most
 * ANFU_LIMIT_BANK_STATEMENT_LINES lines; "" is a day without payments.
 * Returns 0 with *ret (malloc'd, the caller's; NULL when *ret_n is 0) and
 * *ret_n; or ANFU_EINVAL with *err_line the 1-based line at fault
 * (0: the file as a whole, e.g. a missing final newline is its last line)
 * and nothing allocated; ANFU_ELIMIT beyond the line limit.
 */
int anfu_bank_statement_parse(const char *text, size_t len, struct anfu_bank_stmt_line **ret,
			      size_t *ret_n, size_t *err_line);

/* The kinds of difference (bank_recon_diff.kind). */
#define ANFU_BANK_DIFF_NOT_OURS "not_ours"		 /* on the statement only */
#define ANFU_BANK_DIFF_MISSING_AT_BANK "missing_at_bank" /* ours only */
#define ANFU_BANK_DIFF_KIND "kind_differs"
#define ANFU_BANK_DIFF_AMOUNT "amount_differs"
#define ANFU_BANK_DIFF_STATUS "status_differs"

/* A reconciliation of one bank and day. */
struct anfu_bank_recon {
	char bank_id[ANFU_BANK_ID_MAX];
	int64_t day;	 /* YYYYMMDD, Asia/Shanghai */
	char state[16];	 /* reconciled | unreadable */
	char sha256[65]; /* of the statement file, lower-case hex */
	int64_t lines, matched, differences;
	int64_t ran_ms;
};

/* One difference; the side that has nothing has "" and 0. */
struct anfu_bank_recon_diff {
	char serial[ANFU_BANK_SERIAL_MAX];
	char kind[20];
	char payment_id[ANFU_ID_MAX];
	char our_kind[8], our_state[16];
	int64_t our_amount;
	char bank_kind[8], bank_status[16];
	int64_t bank_amount;
};

/* What one reconciliation run did. */
struct anfu_bank_recon_report {
	struct anfu_bank_recon recon;
	bool changed; /* false: the day was reconciled with this outcome already */
	bool skipped; /* anfu_bank_recon_due: the day was done; nothing fetched */
};

/*
 * Reconciles day (YYYYMMDD) of the configured bank: fetches its statement
 * (ops->statement), parses it, compares it with the bank_payment rows of
 * the bank and day (day_cn), and in one transaction replaces the day's
 * lines, differences and bank_recon row and stages the audit records
 * (bank.recon.completed or bank.recon.unreadable, one bank.recon.difference
 * per difference up to ANFU_LIMIT_BANK_RECON_AUDITED). When the file and
 * the outcome are those recorded already, nothing is written
 * (ret->changed false). A payment that failed because the bank never had
 * it (reason not_at_bank) is not expected on the statement. Returns 0 and
 * *ret; ANFU_ETIMEDOUT when the bank gave no statement (nothing written:
 * the job tries again); ANFU_EINVAL for a bad day or no connector;
 * ANFU_ELIMIT beyond ANFU_LIMIT_BANK_RECON_PAYMENTS; or the store's error.
 */
int anfu_bank_reconcile(struct anfu_bank *b, int64_t day, struct anfu_bank_recon_report *ret);

/* The job's run (bank.recon): reconciles yesterday (the Shanghai day
 * before the clock's) unless it has a bank_recon row already
 * (ret->skipped). No connector: nothing (skipped). Errors as
 * anfu_bank_reconcile. */
int anfu_bank_recon_due(struct anfu_bank *b, struct anfu_bank_recon_report *ret);

/* Reconciliations one list returns at most (two months of days). */
#define ANFU_BANK_RECONS_MAX 62
/* Differences one read returns at most (the total is in recon). */
#define ANFU_BANK_RECON_DIFFS_MAX 500

/* The newest reconciliations of the configured bank (at most cap and
 * ANFU_BANK_RECONS_MAX), newest day first; *ret_n how many. */
int anfu_bank_recon_list(struct anfu_bank *b, struct anfu_bank_recon *out, size_t cap,
			 size_t *ret_n);
/* The reconciliation of day and its differences (at most cap and
 * ANFU_BANK_RECON_DIFFS_MAX, by serial); ANFU_ENOTFOUND when the day has
 * none. */
int anfu_bank_recon_get(struct anfu_bank *b, int64_t day, struct anfu_bank_recon *ret,
			struct anfu_bank_recon_diff *diffs, size_t cap, size_t *ret_n);

/* True for a YYYYMMDD that is a calendar date in 1970..9999. */
bool anfu_bank_day_valid(int64_t day);

#endif
