/*
 * iam/approval: the generic four-eyes (maker-checker) service
 * (IAM-SOD-03, IAM-ACCT-03).
 *
 * Owns iam_approval and the "approval" counter. A maker holding
 * "<perm_prefix>.request" files a request: it gets the next sequential
 * number and stays pending. A different person holding
 * "<perm_prefix>.approve" approves it, and the registered executor runs in
 * the same transaction as the decision (executed, or failed with the
 * reason, e.g. a role conflict discovered at execution), or rejects it.
 * Every step is audited. Later issues register more types (adjustments,
 * rule changes, key operations): a type is a name, a permission prefix, a
 * payload validator, an executor and, optionally, the account a request is
 * about (subject), whose owner may not decide it either (nor file it, with
 * maker_not_subject), and what the checker must confirm at approval.
 * Requests are archived: never deleted, and unchangeable once decided
 * (enforced by the database, migration 0004).
 */
#ifndef ANFU_IAM_APPROVAL_H
#define ANFU_IAM_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct anfu_db;
struct anfu_tx;
struct anfu_iam;
struct anfu_iam_ctx;
struct anfu_principal;
struct anfu_iam_err;
struct anfu_approval_view;

struct anfu_approval_type {
	const char *name;	 /* "create_operator" */
	const char *perm_prefix; /* "iam.approval.create_operator" */
	/* Checks a payload at filing time; writes a one-line summary for
	 * people (no personal data in clear). ANFU_EINVAL with err set. */
	int (*validate)(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			char *summary, size_t cap, struct anfu_iam_err *err);
	/* Carries the request out inside the decision's transaction tx (a
	 * step of it: anfu_tx_step); *result (owned by the caller afterwards,
	 * may stay NULL) is stored. A failure marks the request failed and
	 * leaves everything else unchanged, records it staged included. */
	int (*execute)(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const char *approval_id, const json_t *payload, json_t **result,
		       struct anfu_iam_err *err);
	/* Optional (NULL: the request is about nobody in particular): the id
	 * of the existing account the request changes, or NULL. Nobody
	 * decides a request about their own account (approval_self). */
	const char *(*subject)(const json_t *payload);
	/* Optional (NULL: approving needs nothing but the decision): checks
	 * what the checker supplies at approval (confirm, may be NULL)
	 * against the payload, e.g. the channel a credential goes to, typed
	 * again by the checker. ANFU_EINVAL (missing or malformed) or
	 * ANFU_ECONFLICT (confirmation_mismatch) with err set. */
	int (*confirm)(const json_t *payload, const json_t *confirm, struct anfu_iam_err *err);
	/* The maker may not file it about their own account (forbidden). */
	bool maker_not_subject;
	/* Optional (NULL: iam's own transaction): runs the decision's
	 * transaction, fn(tx, ud), where the type's owner writes, and returns
	 * what anfu_tx_run would: the ledger runs it as a command of its
	 * single writer (anfu_ledger_run), so that the executor's change is
	 * the writer's and commits with the decision. checker and ctx are the
	 * decision's (for the records of the runner's transaction). */
	int (*run)(const struct anfu_iam_ctx *ctx, const struct anfu_principal *checker,
		   int (*fn)(struct anfu_tx *tx, void *ud), void *ud);
};

/* A module's approval types: the array and its length. */
struct anfu_approval_table {
	const struct anfu_approval_type *types;
	size_t n;
};

/* Registers a type (at start-up, before any request). ANFU_EEXIST for a
 * duplicate name, ANFU_ELIMIT when the registry is full. */
int anfu_approval_register(const struct anfu_approval_type *t);
const struct anfu_approval_type *anfu_approval_type_find(const char *name);

/* File / decide / read: see iam.h (anfu_iam_approval_*), which wraps these
 * with the transaction and the audit record. They run inside tx. */
int anfu_approval_file(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
		       const struct anfu_principal *maker, const char *type, const json_t *payload,
		       struct anfu_approval_view *ret, struct anfu_iam_err *err);
int anfu_approval_decide(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			 const struct anfu_principal *checker, const char *approval_id,
			 bool approve, const char *note, const json_t *confirm,
			 struct anfu_approval_view *ret, struct anfu_iam_err *err);
/* The approval (id, number, type, summary, maker, status, ...), without
 * its payload; the caller clears *ret. */
int anfu_approval_get(struct anfu_db *db, const char *approval_id, struct anfu_approval_view *ret);

#endif
