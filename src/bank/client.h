/*
 * bank/client: one signed HTTPS request of the bank channel (both
 * directions: anfud's connector, anfu-banksim's callbacks).
 */
#ifndef ANFU_BANK_CLIENT_H
#define ANFU_BANK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "bank/bank.h"

/* One request; everything borrowed. */
struct anfu_bank_call {
	const char *base_url; /* "https://127.0.0.1:8643" */
	const char *ca_file;  /* the peer's certificate: the only one trusted */
	const char *method;   /* "GET" | "POST" */
	const char *path;     /* "/bank/v1/debits" */
	const char *body;     /* NUL-terminated JSON, or NULL (GET) */
	int64_t timeout_ms;
	anfu_bank_sign_fn sign;
	void *sign_ud;
	/* NULL / 0: a fresh nonce and the clock's time. Set: these (the
	 * simulator's "replay" behaviour sends one message twice). */
	const char *nonce;
	int64_t ts_ms;
};

/* Sends c signed and waits for the answer: 0 with *ret_status (HTTP) and
 * *ret_body (malloc'd, NUL-terminated, the caller's); ANFU_ETIMEDOUT when
 * there was no answer (timeout, connection refused or lost, TLS failure:
 * the request may or may not have arrived); ANFU_ELIMIT for an answer
 * over ANFU_LIMIT_BANK_ANSWER_BYTES; ANFU_EINVAL for bad arguments. */
int anfu_bank_http_call(const struct anfu_bank_call *c, int *ret_status, char **ret_body);

#endif
