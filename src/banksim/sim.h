/*
 * banksim/sim: the simulator bank's state (its own SQLite file: card
 * holders and balances, payments, codes it "sent", the nonces it saw) and
 * its rules: card checks, debits and credits settled later by signed
 * callbacks, each behaviour a test can ask for (docs/bank.md, "The
 * simulator"). A development and test tool: never a real bank.
 *
 * Thread-safe: each call uses the calling thread's connection.
 */
#ifndef ANFU_BANKSIM_SIM_H
#define ANFU_BANKSIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct anfu_store;
struct anfu_named_key;
struct anfu_sigkey;

struct sim {
	struct anfu_store *store;
	struct anfu_named_key *key; /* signs callbacks ("banksim") */
	char bank_id[17];
	int64_t delay_ms; /* auto-settle after this; 0: only /sim/v1/settle */
	int64_t hang_ms;  /* "timeout" behaviour: answer this late */
	int64_t clock_offset_ms;
	pthread_mutex_t lock; /* peer fields below */
	char *peer_url, *peer_ca, *peer_key_path;
	struct anfu_sigkey *peer_key; /* anfud's "bank-client" public key */
};

/* The behaviours a card or a payment can be given. */
#define SIM_BEHAVIOURS "normal, decline, fail, timeout, late, twice, replay, misreport"

int64_t sim_now_ms(const struct sim *s);
int sim_open(struct sim *s, const char *dir);
void sim_close(struct sim *s);

/* Loads anfud's public key when the peer was set (lazily: anfud may start
 * after the simulator). Returns 0 or ANFU_ENOTFOUND (no peer yet). */
int sim_peer_key(struct sim *s, struct anfu_sigkey **ret);
int sim_set_peer(struct sim *s, const char *url, const char *ca, const char *key_path);

/* Bank API: each fills *ret (a JSON object, the caller's) and returns the
 * HTTP status, or a negative error. */
int sim_card_verify(struct sim *s, json_t *in, json_t **ret);
int sim_card_confirm(struct sim *s, json_t *in, json_t **ret);
int sim_payment(struct sim *s, const char *kind, json_t *in, json_t **ret, bool *ret_hang);
int sim_payment_status(struct sim *s, const char *serial, json_t **ret);
int sim_statement(struct sim *s, const char *day, json_t **ret);
/* A nonce never seen: 0, else ANFU_EEXIST. */
int sim_nonce(struct sim *s, const char *nonce, int64_t ts);

/* Control API (tests, make run). */
int sim_add_card(struct sim *s, json_t *in, json_t **ret);
int sim_set_behaviour(struct sim *s, json_t *in, json_t **ret);
int sim_sms(struct sim *s, const char *phone, json_t **ret);
/* Settles pending payments (serial NULL: every due one; late: also send
 * the callbacks held back by "late") and sends their callbacks now; *ret
 * lists each callback's HTTP status at anfud. */
int sim_settle(struct sim *s, const char *serial, bool late, bool due_only, json_t **ret);

#endif
