/*
 * dispute/internal: what the dispute module's files share: the service
 * object, the provider table, the row reader.
 */
#ifndef ANFU_DISPUTE_INTERNAL_H
#define ANFU_DISPUTE_INTERNAL_H

#include "dispute/dispute.h"

struct anfu_db;
struct anfu_row;

struct provider {
	char kind[ANFU_LIMIT_DISPUTE_KIND_BYTES];
	const struct anfu_dispute_subject_ops *ops;
	void *ud;
};

struct anfu_disputes {
	const struct anfu_dispute_config *cfg;
	struct anfu_tx_exec *tx;
	anfu_dispute_notice_fn notice;
	void *notice_ud;
	anfu_dispute_shown_fn shown;
	void *shown_ud;
	struct provider providers[ANFU_LIMIT_DISPUTE_KINDS];
	size_t nproviders;
};

/* The columns dispute_row reads, in its order. */
#define DISPUTE_COLUMNS                                                                \
	"id, kind, ref, customer_id, counterparty_id, merchant_id, amount, currency, " \
	"subject_ms, description, category, reason, state, operator_id, resolution, "  \
	"refund_amount, refund_state, refund_ref, created_ms, taken_ms, resolved_ms, " \
	"closed_ms, updated_ms, reopens, refunded"

/* Fills the struct anfu_dispute at ud from a row of DISPUTE_COLUMNS. */
int dispute_row(struct anfu_dispute *out, const struct anfu_row *row);
/* Reads dispute id on db into *ret: 0, ANFU_ENOTFOUND or the store's error. */
int dispute_read(struct anfu_db *db, const char *id, struct anfu_dispute *ret);
/* The provider of kind, or NULL. */
const struct provider *dispute_provider(const struct anfu_disputes *d, const char *kind);

#endif
