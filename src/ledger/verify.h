/*
 * ledger/verify: `anfu ledger verify`, the ledger's integrity check
 * (docs/ledger.md, "Verification").
 *
 * Recomputes from the journal (ledger_transfer) and the holds
 * (ledger_hold) what the writer keeps, and compares: the journal's seq and
 * ts_us, the hash chain of batches (ledger_batch), the writer's cursors
 * (ledger_head), the accounts each transfer names, the holds and the
 * transfers that closed them, every account's four balances, Σ debits =
 * Σ credits per asset, and the accounts' balance limits (flags). Trusts
 * nothing in the tables: the triggers may have been dropped and any row
 * changed, deleted or inserted. Reads only.
 */
#ifndef ANFU_LEDGER_VERIFY_H
#define ANFU_LEDGER_VERIFY_H

#include <stdint.h>

#include "crypto/crypto.h"

struct anfu_db;

/* The checks, in the order they run; a report's `failed` has the bit of
 * every check that found something. */
enum anfu_ledger_check {
	ANFU_LEDGER_CHECK_JOURNAL = 1u << 0, /* seq 1, 2, 3 … no gaps; ts_us strictly rising */
	ANFU_LEDGER_CHECK_CHAIN = 1u << 1,   /* batches contiguous, each hash recomputed, chained */
	ANFU_LEDGER_CHECK_BATCHES = 1u << 2, /* every transfer in the batch its batch_seq names */
	ANFU_LEDGER_CHECK_HEAD = 1u << 3,    /* ledger_head is the last batch's */
	ANFU_LEDGER_CHECK_ACCOUNTS = 1u << 4, /* both accounts exist, share the asset, differ */
	ANFU_LEDGER_CHECK_HOLDS = 1u << 5, /* holds match their pending, post and void transfers */
	ANFU_LEDGER_CHECK_BALANCES = 1u << 6, /* four balances recomputed from journal and holds */
	ANFU_LEDGER_CHECK_ASSETS = 1u << 7,   /* per asset Σ debits = Σ credits */
	ANFU_LEDGER_CHECK_LIMITS = 1u << 8,   /* flagged accounts not overdrawn */
};

/* Bytes of a report's problem text (with the NUL): one line naming a row
 * and two or three values; longer text is cut. */
#define ANFU_LEDGER_PROBLEM_MAX 256

struct anfu_ledger_verify_report {
	int64_t transfers; /* journal rows read */
	int64_t batches;   /* batch rows read */
	int64_t accounts;  /* account rows */
	int64_t holds;	   /* hold rows */
	unsigned failed;   /* ANFU_LEDGER_CHECK_* bits of the checks that failed */
	/* The first problem of the first check that failed, naming its row
	 * ("" when everything verified). */
	char problem[ANFU_LEDGER_PROBLEM_MAX];
};

/*
 * Runs every check on db, in one read transaction (a consistent snapshot
 * while anfud writes), alg being the deployment's hash (SHA-256 intl,
 * SM3 gm: the one the writer chains with). Fills *rep whatever the outcome
 * (rep is a report, not a result).
 *
 * Returns 0 when everything verified; ANFU_ECORRUPT when a check found a
 * difference (rep->problem names the first bad row, rep->failed every
 * check that failed); ANFU_EINVAL for NULL arguments; the store's error
 * (ANFU_EIO, ANFU_EBUSY …) when the tables could not be read, e.g. when
 * the ledger's tables are missing (then rep->failed is 0 and
 * rep->problem says so). A balance sum that overflows int64 (possible
 * only after tampering) is such a store error too.
 * Must not be called inside a transaction of db.
 */
int anfu_ledger_verify(struct anfu_db *db, enum anfu_hash_alg alg,
		       struct anfu_ledger_verify_report *rep);

#endif
