/*
 * iam/options: the option table of the identity module (iam/config.h).
 *
 * Owns the table: section, key, type, field of struct anfu_iam_config,
 * default, range, the requirement IDs each option serves and its line of
 * documentation; config/ parses, checks and documents it like the
 * platform's (docs/configuration.md). Trusts nothing; static data checked
 * at compile time (field types) and when a configuration is made
 * (defaults parse under their range).
 */
#include <stddef.h>

#include "config/option.h"
#include "iam/config.h"

#define ANFU_CONFIG_STRUCT struct anfu_iam_config

static const char *const on_limit_values[] = { "end_oldest", "refuse", NULL };
static const char *const captcha_values[] = { "always", "after_failures", NULL };

/* Password policy of one role class (C1-C4, C13). */
#define PASSWORD_OPTS(sec, i, cls_lo, age_hi, age_doc)                                             \
	ANFU_OPT_INT(sec, "min_length", password[i].min_length, 8, 128, 8, "characters",           \
		     "IAM-PWD-01", "Shortest password accepted (never below 8)."),                 \
		ANFU_OPT_INT(                                                                      \
			sec, "classes_required", password[i].classes_required, cls_lo, 4, 4, NULL, \
			"IAM-PWD-02",                                                              \
			"Character classes a password needs (upper, lower, digit, special)."),     \
		ANFU_OPT_INT(sec, "history", password[i].history, 5, 24, 5, "passwords",           \
			     "IAM-PWD-06, IAM-PWD-10",                                             \
			     "A new password must differ from this many "                          \
			     "previous ones."),                                                    \
		ANFU_OPT_INT(sec, "max_age_days", password[i].max_age_days, 1, age_hi, age_hi,     \
			     "days", "IAM-PWD-07", age_doc),                                       \
		ANFU_OPT_INT(sec, "remind_days", password[i].remind_days, 1, 60, 14, "days",       \
			     "IAM-PWD-08",                                                         \
			     "Remind the user this many days before the password "                 \
			     "expires.")

/* Session policy of one role class (C7, IAM-SESS-01, -05, WEB-CONC-02). */
#define SESSION_OPTS(sec, i, idle_hi, idle_def, abs_hi, abs_def, max_hi, max_def)               \
	ANFU_OPT_INT(sec, "idle_minutes", session[i].idle_minutes, 1, idle_hi, idle_def, "min", \
		     "IAM-SESS-01", "A session unused this long ends."),                        \
		ANFU_OPT_INT(sec, "absolute_minutes", session[i].absolute_minutes, 10, abs_hi,  \
			     abs_def, "min", "IAM-SESS-05",                                     \
			     "A session ends this long after login, "                           \
			     "used or not."),                                                   \
		ANFU_OPT_INT(sec, "max_sessions", session[i].max_sessions, 1, max_hi, max_def,  \
			     NULL, "WEB-CONC-02",                                               \
			     "Concurrent sessions of one user (see session.on_limit).")

static const struct anfu_config_option iam_options[] = {
	/* [password.<class>] */
	PASSWORD_OPTS("password.customer", ANFU_CLASS_CUSTOMER, 3, 180,
		      "Customers must change their password after this many days."),
	PASSWORD_OPTS("password.merchant", ANFU_CLASS_MERCHANT, 4, 180,
		      "Merchant users must change their password after this many days."),
	PASSWORD_OPTS("password.operator", ANFU_CLASS_OPERATOR, 4, 30,
		      "Operators must change their password after this many days."),
	PASSWORD_OPTS("password.admin", ANFU_CLASS_ADMIN, 4, 30,
		      "Administrators must change their password after this many days."),

	/* [session], [session.<class>] */
	ANFU_OPT_ENUM_TEXT("session", "on_limit", sessions.on_limit, on_limit_values, "end_oldest",
			   "WEB-CONC-02",
			   "A login beyond max_sessions ends the user's oldest session (and "
			   "tells the user) or is refused."),
	ANFU_OPT_BOOL("session", "bind_ip", sessions.bind_ip, "true", "IAM-SESS-06",
		      "Under level = enhanced, a session ends when its client IP changes "
		      "(set false for mobile networks; the device binding stays)."),
	ANFU_OPT_BOOL("session", "bind_device", sessions.bind_device, "true", "IAM-SESS-06",
		      "Under level = enhanced, a session ends when its device fingerprint "
		      "changes."),
	SESSION_OPTS("session.customer", ANFU_CLASS_CUSTOMER, 30, 15, 1440, 240, 10, 3),
	SESSION_OPTS("session.merchant", ANFU_CLASS_MERCHANT, 30, 15, 1440, 240, 10, 3),
	SESSION_OPTS("session.operator", ANFU_CLASS_OPERATOR, 10, 10, 720, 480, 3, 1),
	SESSION_OPTS("session.admin", ANFU_CLASS_ADMIN, 4, 4, 720, 480, 3, 1),

	/* [argon2] */
	ANFU_OPT_INT("argon2", "opslimit", argon2.opslimit, 1, 10, 2, "passes", "IAM-PWD-09",
		     "Argon2id time cost of password hashes (login and payment)."),
	ANFU_OPT_INT("argon2", "memlimit_kib", argon2.memlimit_kib, 8192, 1048576, 65536, "KiB",
		     "IAM-PWD-09", "Argon2id memory cost of one password hash."),
	ANFU_OPT_INT("argon2", "max_concurrent", argon2.max_concurrent, 1, 64, 4, "hashes",
		     "WEB-DOS-01",
		     "Password hashes computed at once; more wait, so a login flood cannot "
		     "exhaust memory (peak = this x memlimit_kib)."),

	/* [lockout] */
	ANFU_OPT_INT("lockout", "user_threshold", lockout.user_threshold, 1, 5, 5, "failures",
		     "IAM-LOCK-01, IAM-LOCK-05",
		     "Consecutive failed logins that lock a customer or merchant account."),
	ANFU_OPT_INT("lockout", "user_minutes", lockout.user_minutes, 30, 10080, 30, "min",
		     "IAM-LOCK-02", "How long such a lock lasts (an operator may unlock sooner)."),
	ANFU_OPT_INT("lockout", "staff_threshold", lockout.staff_threshold, 1, 3, 3, "failures",
		     "IAM-LOCK-01, IAM-LOCK-02",
		     "Consecutive failed logins that lock an operator or administrator "
		     "until another administrator unlocks it."),
	ANFU_OPT_INT("lockout", "pay_threshold", lockout.pay_threshold, 1, 5, 5, "failures",
		     "IAM-LOCK-03", "Consecutive wrong payment passwords that lock payments."),
	ANFU_OPT_INT("lockout", "pay_minutes", lockout.pay_minutes, 30, 10080, 30, "min",
		     "IAM-LOCK-03", "How long payments stay locked."),
	ANFU_OPT_INT("lockout", "ip_failures", lockout.ip_failures, 5, 10000, 20, "failures",
		     "IAM-ANOM-02",
		     "Failed logins from one IP address across accounts within ip_window "
		     "that count as credential stuffing."),
	ANFU_OPT_INT("lockout", "ip_window", lockout.ip_window_s, 60, 86400, 600, "s",
		     "IAM-ANOM-02", "Window for ip_failures."),
	ANFU_OPT_INT("lockout", "ip_block", lockout.ip_block_s, 60, 86400, 900, "s", "IAM-ANOM-02",
		     "How long such an address is refused logins."),

	/* [captcha] */
	ANFU_OPT_ENUM_TEXT("captcha", "mode", captcha.mode, captcha_values, "always",
			   "IAM-CAP-01, C15",
			   "always: every login needs a captcha; after_failures: only after "
			   "after_failures failed logins of the account or address."),
	ANFU_OPT_INT("captcha", "after_failures", captcha.after_failures, 0, 1, 1, "failures",
		     "IAM-CAP-01, C15",
		     "Failures before a captcha is required (mode "
		     "after_failures)."),
	ANFU_OPT_INT("captcha", "ttl", captcha.ttl_s, 30, 300, 120, "s", "IAM-CAP-02",
		     "A captcha is valid this long, and once."),
	ANFU_OPT_INT("captcha", "length", captcha.length, 4, 8, 5, "characters", "IAM-CAP-02",
		     "Letters and digits in a captcha."),

	/* [mfa] */
	ANFU_OPT_INT("mfa", "code_ttl", mfa.code_ttl_s, 60, 600, 300, "s", "IAM-MFA-07, IAM-MFA-08",
		     "SMS and email codes are valid this long (at most 10 minutes), once."),
	ANFU_OPT_INT("mfa", "code_max_attempts", mfa.code_max_attempts, 1, 10, 5, "attempts",
		     "IAM-MFA-07", "Wrong entries after which a code is void."),
	ANFU_OPT_INT("mfa", "code_resend", mfa.code_resend_s, 0, 600, 60, "s", "RISK-RN-03",
		     "Shortest interval between two codes to the same phone or address."),
	ANFU_OPT_INT("mfa", "stepup_window", mfa.stepup_window_s, 60, 900, 300, "s", "IAM-MFA-02",
		     "A second factor verified this recently allows a sensitive operation."),
	ANFU_OPT_INT("mfa", "reset_ttl", mfa.reset_ttl_s, 60, 600, 600, "s", "IAM-RST-03",
		     "A password reset must be completed within this time."),
	ANFU_OPT_TEXT("mfa", "totp_issuer", ANFU_OPT_STRING, mfa.totp_issuer, "anfu", "IAM-MFA-01",
		      "Issuer shown by authenticator apps for TOTP enrolments."),
	ANFU_OPT_BOOL("mfa", "customer_always", mfa.customer_always, "false", "IAM-MFA-01, C14",
		      "true: customers give a second factor at every login; false: only on "
		      "an unknown device or an anomalous login (operators always do)."),
	ANFU_OPT_INT("mfa", "device_trust_days", mfa.device_trust_days, 1, 365, 30, "days",
		     "IAM-MFA-01, IAM-MFA-03",
		     "A device trusted after a full second-factor login stands in for the "
		     "possession factor this long; then the next login asks for a factor again "
		     "(and may trust the device anew)."),

	/* [accounts] */
	ANFU_OPT_INT("accounts", "dormant_days", accounts.dormant_days, 30, 365, 90, "days",
		     "IAM-ACCT-05", "Accounts unused this long are reported as dormant."),
	ANFU_OPT_INT("accounts", "review_interval_days", accounts.review_interval_days, 1, 30, 30,
		     "days", "IAM-ACCT-05, C19",
		     "The dormant / expired / temporary account report runs this often."),
	ANFU_OPT_INT("accounts", "temporary_max_days", accounts.temporary_max_days, 1, 90, 30,
		     "days", "IAM-ACCT-07", "Longest validity of a temporary or test account."),

	/* [alerts] */
	ANFU_OPT_INT("alerts", "mail_window", alerts.mail_window_s, 60, 3600, 300, "s",
		     "AUD-ALERT-01",
		     "An attempt beyond one's privileges mails the administrators at once; "
		     "further attempts of the same account within this window are counted on "
		     "its alert without another mail."),
};

const struct anfu_config_table anfu_iam_config_table = {
	.owner = "iam",
	.options = iam_options,
	.noptions = sizeof(iam_options) / sizeof(iam_options[0]),
	.size = sizeof(struct anfu_iam_config),
};
