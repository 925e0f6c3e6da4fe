/*
 * dispute: transaction disputes (交易纠纷, FUNC-PAY-13; docs/disputes.md).
 * A customer lodges a complaint about a transaction of another module (a
 * "subject": a wallet transfer, later a payment); an operator takes and
 * resolves it, optionally with a refund the subject's module executes; the
 * customer confirms the resolution (or it is confirmed at the deadline) or
 * withdraws the complaint before it is resolved.
 *
 * Owns the tables dispute, dispute_event, dispute_reminder
 * (src/dispute/migrations/) and the [dispute] options. Knows no other
 * module: the subjects' modules register providers (struct
 * anfu_dispute_subject_ops). Every state change is a dispute_event row and
 * an audit record in one transaction. Thread-safe after start: the
 * provider table is written only before the server starts.
 */
#ifndef ANFU_DISPUTE_DISPUTE_H
#define ANFU_DISPUTE_DISPUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/limits.h"
#include "base/rand.h"

struct anfu_actor;
struct anfu_config_table;
struct anfu_job_table;
struct anfu_migration_set;
struct anfu_tx;
struct anfu_tx_exec;

/* The [dispute] options (dispute/options.c). */
struct anfu_dispute_config {
	int64_t take_hours;   /* an open dispute should be taken within, per round */
	int64_t handle_days;  /* a dispute should be resolved within, per round */
	int64_t confirm_days; /* a resolution is confirmed by itself after */
};

/* ---- subjects: what the owning module tells about a transaction ---- */

struct anfu_dispute_subject {
	char customer_id[ANFU_ID_MAX];			 /* the party that may lodge (the asker) */
	char counterparty_id[ANFU_ID_MAX];		 /* the other user party, or "" */
	char merchant_id[ANFU_ID_MAX];			 /* the merchant party, or "" */
	int64_t amount;					 /* fen, > 0 */
	char currency[4];				 /* "CNY" */
	int64_t time_ms;				 /* when the transaction happened */
	char description[ANFU_LIMIT_DISPUTE_DESC_BYTES]; /* masked, for people */
};

struct anfu_dispute_refund_result {
	char ref[ANFU_ID_MAX]; /* the provider's record of the refund */
};

/* A provider: the module owning a kind of subject answers for it. Every
 * function runs on the calling thread, outside any transaction of the
 * dispute module; ud is the one given at registration. */
struct anfu_dispute_subject_ops {
	/* The subject ref as user_id sees it: 0 and *ret (user_id is its
	 * customer_id) when it exists and user_id is a customer party of it;
	 * ANFU_ENOTFOUND otherwise (no such ref, or not user_id's). */
	int (*lookup)(void *ud, const char *ref, const char *user_id,
		      struct anfu_dispute_subject *ret);
	/* Optional (NULL: resolutions of this kind refund nothing). Refunds
	 * amount (fen, 0 < amount <= the subject's amount) of ref to its
	 * customer, idempotent on key: the same key again executes nothing
	 * and answers the first result. 0 and *ret; a negative code when it
	 * did not happen (the dispute module retries with the same key). */
	int (*refund)(void *ud, const struct anfu_actor *actor, const char *ref, int64_t amount,
		      const char *reason, const char *key, struct anfu_dispute_refund_result *ret);
	/* Optional (NULL: the merchant party is told nothing). Queues a
	 * notice (zh-CN and English, the texts the dispute module made) to
	 * the users of merchant_id, the merchant party of ref, inside the
	 * dispute module's transaction tx. 0 or a negative code (the change
	 * is then not made). */
	int (*notice)(void *ud, struct anfu_tx *tx, const char *ref, const char *merchant_id,
		      const char *zh, const char *en);
};

/* ---- disputes ---- */

enum anfu_dispute_event {
	ANFU_DISPUTE_EV_TAKE,	      /* an operator takes it */
	ANFU_DISPUTE_EV_RESOLVE,      /* the operator's resolution */
	ANFU_DISPUTE_EV_CONFIRM,      /* the customer accepts the resolution */
	ANFU_DISPUTE_EV_AUTO_CONFIRM, /* the confirmation deadline passed */
	ANFU_DISPUTE_EV_WITHDRAW,     /* the customer withdraws the complaint */
	ANFU_DISPUTE_EV_REOPEN,	      /* the customer disagrees with the resolution */
};
#define ANFU_DISPUTE_NEVENTS 6
#define ANFU_DISPUTE_NSTATES 5

/* The state after event in state from, or NULL when the table has no such
 * row (the event is refused). Pure (dispute/states.c). */
const char *anfu_dispute_transition(const char *from, enum anfu_dispute_event ev);
/* Every state name, in table order (ANFU_DISPUTE_NSTATES). */
extern const char *const anfu_dispute_states[];
/* True for a state no event leaves (confirmed, withdrawn). */
bool anfu_dispute_state_final(const char *state);
/* The event's name ("take", ...), for records. */
const char *anfu_dispute_event_name(enum anfu_dispute_event ev);

struct anfu_dispute {
	char id[ANFU_ID_MAX]; /* "dsp_..." */
	char kind[ANFU_LIMIT_DISPUTE_KIND_BYTES];
	char ref[ANFU_LIMIT_DISPUTE_REF_BYTES];
	struct anfu_dispute_subject subject;
	char category[24];
	char reason[ANFU_LIMIT_DISPUTE_TEXT_BYTES];
	char state[16];
	char operator_id[ANFU_ID_MAX];
	char resolution[ANFU_LIMIT_DISPUTE_TEXT_BYTES];
	int64_t refund_amount;
	char refund_state[8]; /* "none", "pending", "done" */
	char refund_ref[ANFU_ID_MAX];
	int64_t created_ms, taken_ms, resolved_ms, closed_ms, updated_ms;
	int64_t reopens;	 /* times the complainant reopened it */
	int64_t refunded_before; /* fen the refunds of earlier resolutions made */
};

struct anfu_dispute_event_row {
	int64_t seq;
	int64_t at_ms;
	char actor_id[ANFU_ID_MAX];
	char actor_type[16];
	char event[16];
	char from_state[16], to_state[16];
	char note[ANFU_LIMIT_DISPUTE_TEXT_BYTES];
};

struct anfu_dispute_lodge {
	const char *kind, *ref, *category, *description; /* NUL-terminated, checked */
};

/* A list's filter: every non-NULL field must match. The cursor (after_ms,
 * after_id) continues a list past its last item (created_ms, id ascending). */
struct anfu_dispute_filter {
	const char *customer_id;
	const char *party_user_id; /* the customer or the counterparty */
	const char *merchant_id;
	const char *state;
	int64_t after_ms;
	const char *after_id; /* NULL: from the start */
};

/* What one run of the deadline job did. */
struct anfu_dispute_deadline_report {
	int take_reminders, handle_reminders, auto_confirmed, refunds_retried;
};

struct anfu_dispute;
struct anfu_disputes;

/* A notice to a user inside tx (the user's channels and language). */
typedef int (*anfu_dispute_notice_fn)(void *ud, struct anfu_tx *tx, const char *user_id,
				      const char *zh, const char *en);

/* How user_id is shown to another party of a transaction, into out (cap
 * bytes): masked (DATA-MASK-*), never in clear. 0; ANFU_ENOTFOUND for no
 * such user; another negative code (the change is then not made). Called
 * inside the dispute module's transaction, on its thread. */
typedef int (*anfu_dispute_shown_fn)(void *ud, const char *user_id, char *out, size_t cap);

struct anfu_dispute_deps {
	const struct anfu_dispute_config *cfg; /* borrowed, outlives the service */
	struct anfu_tx_exec *tx;	       /* borrowed */
	anfu_dispute_notice_fn notice;	       /* NULL: no notices */
	void *notice_ud;
	anfu_dispute_shown_fn shown; /* NULL: the complainant is shown as "***" */
	void *shown_ud;
};

/* Makes the service (deps' pointers borrowed). 0 or ANFU_EINVAL. */
int anfu_disputes_new(const struct anfu_dispute_deps *deps, struct anfu_disputes **ret);
/* NULL-safe. */
void anfu_disputes_free(struct anfu_disputes *d);

/* Registers the provider of kind (a short lowercase name; ops and ud
 * borrowed, outliving the service). Call before the server starts.
 * ANFU_EEXIST for a kind already registered, ANFU_ELIMIT beyond
 * ANFU_LIMIT_DISPUTE_KINDS. */
int anfu_dispute_register(struct anfu_disputes *d, const char *kind,
			  const struct anfu_dispute_subject_ops *ops, void *ud);
/* The dispute service inside the dispute module's started service svc
 * (what the app keeps for the module "dispute"; it also holds the test
 * provider), for a module listed after it that registers its kinds at its
 * start; NULL for NULL. Defined by dispute/api/module.c. */
struct anfu_disputes *anfu_dispute_api_of(void *svc);

/*
 * The operations. Each returns 0 with *ret_refusal NULL and *ret (when
 * given) the dispute as it is now, or 0 with *ret_refusal a stable code
 * (base/refusal.h) and nothing changed, or a negative ANFU_E* code.
 * customer_id / operator ids come from the caller's principal; a dispute
 * that is not customer_id's is dispute_not_found for them.
 */
int anfu_dispute_open(struct anfu_disputes *d, const struct anfu_actor *actor,
		      const char *customer_id, const struct anfu_dispute_lodge *in,
		      struct anfu_dispute *ret, const char **ret_refusal);
int anfu_dispute_take(struct anfu_disputes *d, const struct anfu_actor *actor, const char *id,
		      struct anfu_dispute *ret, const char **ret_refusal);
/* refund_amount 0: no refund. A resolution already made with the same
 * text and refund is answered again (and a refund still pending is
 * retried with its key): a retried resolve executes the refund once. */
int anfu_dispute_resolve(struct anfu_disputes *d, const struct anfu_actor *actor, const char *id,
			 const char *resolution, int64_t refund_amount, struct anfu_dispute *ret,
			 const char **ret_refusal);
int anfu_dispute_confirm(struct anfu_disputes *d, const struct anfu_actor *actor,
			 const char *customer_id, const char *id, struct anfu_dispute *ret,
			 const char **ret_refusal);
int anfu_dispute_withdraw(struct anfu_disputes *d, const struct anfu_actor *actor,
			  const char *customer_id, const char *id, struct anfu_dispute *ret,
			  const char **ret_refusal);
/* The complainant disagrees with the resolution: resolved -> open (the
 * operators' queue again), reason the note. At most
 * ANFU_LIMIT_DISPUTE_REOPENS per dispute (dispute_reopen_limit); not while
 * the resolution's refund is pending (dispute_refund_pending). */
int anfu_dispute_reopen(struct anfu_disputes *d, const struct anfu_actor *actor,
			const char *customer_id, const char *id, const char *reason,
			struct anfu_dispute *ret, const char **ret_refusal);
/* A message (evidence text) of the customer (customer_id) or an operator
 * (customer_id NULL) while the dispute is not final. */
int anfu_dispute_message(struct anfu_disputes *d, const struct anfu_actor *actor,
			 const char *customer_id, const char *id, const char *text,
			 const char **ret_refusal);

/* The dispute id: 0 and *ret, or ANFU_ENOTFOUND. */
int anfu_dispute_get(struct anfu_disputes *d, const char *id, struct anfu_dispute *ret);
/* Its events in order into out (cap, the caller's); *ret_n how many. */
int anfu_dispute_events(struct anfu_disputes *d, const char *id, struct anfu_dispute_event_row *out,
			size_t cap, size_t *ret_n);
/* Disputes matching f, oldest first, at most cap (<= ANFU_LIMIT_DISPUTE_PAGE). */
int anfu_dispute_list(struct anfu_disputes *d, const struct anfu_dispute_filter *f,
		      struct anfu_dispute *out, size_t cap, size_t *ret_n);

/* The deadlines (job "dispute.deadlines"): a reminder once per dispute and
 * round of handling (from lodging, from each reopen) when it is not taken
 * take_hours after the round began, or not resolved handle_days after it
 * (an audit record "dispute.reminder" and an operator alert in the log);
 * a resolution confirm_days old is confirmed; refunds left pending are
 * retried. Idempotent. */
int anfu_dispute_deadlines(struct anfu_disputes *d, struct anfu_dispute_deadline_report *ret);

extern const struct anfu_migration_set anfu_dispute_migrations;
extern const struct anfu_config_table anfu_dispute_config_table;

#endif
