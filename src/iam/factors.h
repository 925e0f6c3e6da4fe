/*
 * iam/factors: captchas, TOTP and one-time codes: the pieces a login or a
 * sensitive operation checks besides the password.
 *
 * captcha: random letters and digits drawn with libgd on noise (PNG);
 * the answer is kept only as a keyed hash in iam_captcha, valid once and
 * for captcha.ttl (IAM-CAP-02). totp: RFC 6238 via liboath with the last
 * accepted time step stored so no code is accepted twice; enrolment URIs
 * and QR codes via libqrencode drawn as PNG with libgd. codes: 6 random
 * digits, stored as a keyed hash in iam_code, bound to a purpose, a target
 * and a context, valid once and for mfa.code_ttl, void after
 * mfa.code_max_attempts wrong tries (IAM-MFA-07, -08). All database work
 * happens in the caller's transaction on the given connection.
 */
#ifndef ANFU_IAM_FACTORS_H
#define ANFU_IAM_FACTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/rand.h"

struct anfu_db;
struct anfu_vault;

/* ---- captcha ------------------------------------------------------------ */

/* Alphabet without look-alikes (no 0/O, 1/I/l). */
#define ANFU_CAPTCHA_ALPHABET "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

/* Draws text as a noisy PNG; *ret_png is malloc'd. */
int anfu_captcha_render(const char *text, unsigned char **ret_png, size_t *ret_len);

/* What a captcha is for: made for one purpose on one listener, it is
 * accepted only there and for that (IAM-CAP-01). Purposes are the places
 * a captcha is checked: a password login (both listeners), a registration
 * code and a password-reset start (main listener only). */
#define ANFU_CAPTCHA_LOGIN "login"
#define ANFU_CAPTCHA_REGISTER "register"
#define ANFU_CAPTCHA_RESET "reset"

struct anfu_captcha_use {
	const char *purpose; /* ANFU_CAPTCHA_* */
	bool admin;	     /* the admin listener */
};

/* True when purpose is one a client may ask for on that listener: login,
 * register or reset on the main one, login on the admin one. */
bool anfu_captcha_purpose_ok(const char *purpose, bool admin);

/* Creates a captcha of length characters valid for ttl_ms, bound to *use
 * (stored with it, any purpose of ANFU_CAPTCHA_*): stores the keyed hash
 * of the answer and returns the id, the PNG and (for the test hook only)
 * the answer. */
int anfu_captcha_create(struct anfu_db *db, struct anfu_vault *v,
			const struct anfu_captcha_use *use, int length, int64_t ttl_ms,
			char id[ANFU_ID_MAX], unsigned char **ret_png, size_t *ret_len,
			char answer[16]);
/* Consumes a captcha: 0 when the answer matches (case-insensitive), it is
 * live and it was made for *use (same purpose, same listener); ANFU_EAUTH
 * otherwise. A captcha is used up by any attempt, also one for another
 * purpose or listener. */
int anfu_captcha_check(struct anfu_db *db, struct anfu_vault *v, const char *id, const char *answer,
		       const struct anfu_captcha_use *use);
/* The PNG of a live captcha (unused, expires_ms > now_ms) made on that
 * listener, for the same-origin image route: *ret_png (malloc'd, the
 * caller's) and *ret_len written only on success. ANFU_ENOTFOUND alike for
 * an unknown, malformed, used, expired or other listener's captcha;
 * ANFU_ECORRUPT when the kept image does not decode; other negative codes
 * are database failures. Reads only: looking does not use it up. */
int anfu_captcha_image(struct anfu_db *db, const char *id, bool admin, int64_t now_ms,
		       unsigned char **ret_png, size_t *ret_len);

/* ---- TOTP (RFC 6238: SHA-1, 6 digits, 30 s) --------------------------------- */

#define ANFU_TOTP_SECRET_BYTES 20

/* A new random secret, base32 (32 characters + NUL). */
int anfu_totp_secret(char out[64]);
/* "otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1
 * &digits=6&period=30", percent-encoded. */
int anfu_totp_uri(const char *issuer, const char *account, const char *secret_b32, char *out,
		  size_t cap);
/* The URI as a QR code PNG; *ret_png is malloc'd. */
int anfu_totp_qr_png(const char *uri, unsigned char **ret_png, size_t *ret_len);
/* Checks code at now_ms within one step either side; the step must be
 * later than last_step (replay). 0 with *ret_step = the matched step, or
 * ANFU_EAUTH. */
int anfu_totp_verify(const char *secret_b32, const char *code, int64_t now_ms, int64_t last_step,
		     int64_t *ret_step);
/* The code of a step (tests and the test-hook only need it). */
int anfu_totp_code(const char *secret_b32, int64_t now_ms, char out[8]);

/* ---- one-time codes --------------------------------------------------------- */

struct anfu_code_issue {
	const char *purpose;	  /* ANFU_CODE_* */
	const char *channel;	  /* "sms" / "email" */
	const char *target_index; /* blind index of the phone or email */
	const char *user_id;	  /* or NULL */
	const char *context;	  /* binds the code: session id, reset id, ... */
	int64_t ttl_ms;
	int64_t resend_ms; /* refuse (ANFU_ERATE) a new code sooner */
};

/* Issues a code: the 6 digits go to code (to be sent), the keyed hash to
 * iam_code. */
int anfu_code_issue(struct anfu_db *db, struct anfu_vault *v, const struct anfu_code_issue *ci,
		    char id[ANFU_ID_MAX], char code[8], int64_t *ret_expires_ms);
/* Consumes the newest live code for (purpose, target_index, context):
 * 0 on a match (the code is used up), ANFU_EEXPIRED when the newest one has
 * expired, ANFU_EAUTH on a wrong or used code (the attempt counts; after
 * max_attempts the code is void). */
int anfu_code_verify(struct anfu_db *db, struct anfu_vault *v, const char *purpose,
		     const char *target_index, const char *context, const char *code,
		     int max_attempts);

#endif
