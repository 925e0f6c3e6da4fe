/*
 * iam/config: the options of the identity module and the struct they fill
 * (sections password.*, session, session.*, argon2, lockout, captcha, mfa,
 * accounts, alerts; docs/configuration.md).
 *
 * Owns the option table (iam/options.c), which reaches config/ through
 * iam's module descriptor; config/ parses the file into a struct
 * anfu_iam_config it owns, which the service reads as iam->cfg. Immutable
 * once loaded; any thread may read it.
 */
#ifndef ANFU_IAM_CONFIG_H
#define ANFU_IAM_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/profile.h"

/* Password policy of one role class (IAM-PWD-*). */
struct anfu_config_password {
	int64_t min_length;
	int64_t classes_required; /* character classes: 4, or 3 (customers only) */
	int64_t history;	  /* refuse the last N passwords */
	int64_t max_age_days;
	int64_t remind_days; /* remind this many days before expiry */
};

/* Session policy of one role class (IAM-SESS-*, WEB-CONC-02). */
struct anfu_config_session {
	int64_t idle_minutes;
	int64_t absolute_minutes;
	int64_t max_sessions;
};

struct anfu_iam_config {
	/* Indexed by enum anfu_role_class. */
	struct anfu_config_password password[ANFU_CLASS_COUNT];
	struct anfu_config_session session[ANFU_CLASS_COUNT];

	struct {
		char *on_limit;	  /* "end_oldest" | "refuse" */
		bool bind_ip;	  /* under level=enhanced: bind to the client IP */
		bool bind_device; /* under level=enhanced: bind to the device */
	} sessions;

	struct {
		int64_t opslimit;	/* Argon2id passes */
		int64_t memlimit_kib;	/* Argon2id memory */
		int64_t max_concurrent; /* hashes running at once */
	} argon2;

	struct {
		int64_t user_threshold;	 /* customers, merchants */
		int64_t user_minutes;	 /* their lock duration */
		int64_t staff_threshold; /* operators, admins: until unlocked */
		int64_t pay_threshold;	 /* payment password */
		int64_t pay_minutes;
		int64_t ip_failures; /* credential stuffing: failures per IP */
		int64_t ip_window_s;
		int64_t ip_block_s;
	} lockout;

	struct {
		char *mode; /* "always" | "after_failures" */
		int64_t after_failures;
		int64_t ttl_s;
		int64_t length;
	} captcha;

	struct {
		int64_t code_ttl_s; /* SMS / email codes */
		int64_t code_max_attempts;
		int64_t code_resend_s;
		int64_t stepup_window_s; /* a second factor counts this long */
		int64_t reset_ttl_s;	 /* password reset */
		char *totp_issuer;
		bool customer_always;	   /* customers: MFA at every login */
		int64_t device_trust_days; /* a trusted device counts this long */
	} mfa;

	struct {
		int64_t dormant_days;
		int64_t review_interval_days;
		int64_t temporary_max_days;
	} accounts;

	struct {
		int64_t mail_window_s; /* one privilege-attempt mail per actor */
	} alerts;
};

struct anfu_config_table;

/* iam's option table (iam/options.c). */
extern const struct anfu_config_table anfu_iam_config_table;

#endif
