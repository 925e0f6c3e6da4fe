/*
 * iam/api/routes: the route table of the identity module, which its module
 * descriptor declares (iam/api/module.c).
 *
 * Every route names its access class and its permission; the router refuses
 * one without (http/router.c), `anfu routes` prints the table, and
 * tests/api/test_docs.py keeps docs/openapi.yaml equal to it.
 */
#include <stddef.h>

#include "api/module.h"
#include "http/http.h"
#include "iam/api/handlers.h"
#include "iam/api/module.h"
#include "iam/iam.h"

#define PUB ANFU_ACCESS_PUBLIC
#define SES ANFU_ACCESS_SESSION
#define ADM ANFU_ACCESS_ADMIN
#define PP ANFU_PERM_PUBLIC
#define PS ANFU_PERM_SESSION
#define MFA ANFU_ROUTE_MFA_PENDING
#define RA ANFU_ROUTE_REQUIRED_ACTION
#define ADML ANFU_ROUTE_ADMIN_LISTENER
/* Handlers that hash or verify a password (Argon2id, iam/pwhash.c) run on
 * the offload pool, not on the worker that owns the connection. */
#define OFF ANFU_ROUTE_OFFLOAD

static const struct anfu_route routes[] = {
	/* Customers and merchant users: anonymous and half-way steps. */
	{ "POST", "/api/v1/captcha", PUB, PP, anfu_api_captcha, 0 },
	{ "GET", "/api/v1/captcha/{id}/image", PUB, PP, anfu_api_captcha_image, 0 },
	{ "POST", "/api/v1/auth/codes", PUB, PP, anfu_api_codes, MFA },
	{ "POST", "/api/v1/auth/register", PUB, PP, anfu_api_register_user, OFF },
	{ "POST", "/api/v1/auth/reserved-message", PUB, PP, anfu_api_auth_reserved, 0 },
	{ "POST", "/api/v1/auth/login", PUB, PP, anfu_api_login, OFF },
	{ "POST", "/api/v1/auth/mfa", SES, PS, anfu_api_mfa, MFA },
	{ "POST", "/api/v1/auth/step-up", SES, PS, anfu_api_step_up, 0 },
	{ "POST", "/api/v1/auth/logout", SES, PS, anfu_api_logout, MFA | RA },
	{ "POST", "/api/v1/auth/password-reset", PUB, PP, anfu_api_reset, 0 },
	{ "POST", "/api/v1/auth/password-reset/confirm", PUB, PP, anfu_api_reset_confirm, OFF },
	{ "POST", "/api/v1/password-strength", PUB, PP, anfu_api_password_strength, 0 },

	/* Self service. */
	{ "GET", "/api/v1/me", SES, "self.profile.read", anfu_api_me, RA },
	{ "GET", "/api/v1/me/logins", SES, "self.profile.read", anfu_api_me_logins, 0 },
	{ "GET", "/api/v1/me/reserved-message", SES, "self.profile.read", anfu_api_me_reserved_get,
	  0 },
	{ "PUT", "/api/v1/me/reserved-message", SES, "self.profile.update",
	  anfu_api_me_reserved_put, 0 },
	{ "GET", "/api/v1/me/sessions", SES, "self.sessions.manage", anfu_api_me_sessions, 0 },
	{ "DELETE", "/api/v1/me/sessions", SES, "self.sessions.manage", anfu_api_me_sessions_end,
	  0 },
	{ "DELETE", "/api/v1/me/sessions/{id}", SES, "self.sessions.manage",
	  anfu_api_me_session_end, 0 },
	{ "POST", "/api/v1/me/password", SES, "self.password.change", anfu_api_me_password,
	  RA | OFF },
	{ "POST", "/api/v1/me/payment-password", SES, "self.payment_password.manage",
	  anfu_api_me_payment_password, OFF },
	{ "POST", "/api/v1/me/payment-password/verify", SES, "self.payment_password.manage",
	  anfu_api_me_payment_verify, OFF },
	{ "POST", "/api/v1/me/totp", SES, "self.mfa.manage", anfu_api_me_totp, RA },
	{ "DELETE", "/api/v1/me/totp", SES, "self.mfa.manage", anfu_api_me_totp_remove, 0 },
	{ "POST", "/api/v1/me/totp/confirm", SES, "self.mfa.manage", anfu_api_me_totp_confirm, RA },
	{ "GET", "/api/v1/me/devices", SES, "self.devices.manage", anfu_api_me_devices, 0 },
	{ "DELETE", "/api/v1/me/devices", SES, "self.devices.manage", anfu_api_me_devices_remove,
	  0 },
	{ "DELETE", "/api/v1/me/devices/{id}", SES, "self.devices.manage",
	  anfu_api_me_device_remove, 0 },
	/* Merchant administrators manage their own merchant's staff. */
	{ "GET", "/api/v1/merchant/users", SES, "merchant.staff.manage", anfu_api_merchant_users,
	  0 },
	{ "POST", "/api/v1/merchant/users", SES, "merchant.staff.manage",
	  anfu_api_merchant_user_create, 0 },
	{ "POST", "/api/v1/merchant/users/{id}/disable", SES, "merchant.staff.manage",
	  anfu_api_merchant_user_disable, 0 },
	{ "POST", "/api/v1/merchant/users/{id}/enable", SES, "merchant.staff.manage",
	  anfu_api_merchant_user_enable, 0 },
	{ "POST", "/api/v1/me/phone", SES, "self.profile.update", anfu_api_me_phone, 0 },
	{ "POST", "/api/v1/me/email", SES, "self.profile.update", anfu_api_me_email, 0 },

	/* Operators, on the admin listener. */
	{ "GET", "/admin/v1/banner", PUB, PP, anfu_api_banner, ADML },
	{ "POST", "/admin/v1/captcha", PUB, PP, anfu_api_captcha, ADML },
	{ "GET", "/admin/v1/captcha/{id}/image", PUB, PP, anfu_api_captcha_image, ADML },
	{ "POST", "/admin/v1/auth/codes", PUB, PP, anfu_api_codes, ADML | MFA },
	{ "POST", "/admin/v1/auth/login", PUB, PP, anfu_api_login, ADML | OFF },
	{ "POST", "/admin/v1/auth/mfa", ADM, PS, anfu_api_mfa, MFA },
	{ "POST", "/admin/v1/auth/step-up", ADM, PS, anfu_api_step_up, 0 },
	{ "POST", "/admin/v1/auth/logout", ADM, PS, anfu_api_logout, MFA | RA },
	{ "GET", "/admin/v1/me", ADM, "self.profile.read", anfu_api_me, RA },
	{ "GET", "/admin/v1/me/logins", ADM, "self.profile.read", anfu_api_me_logins, 0 },
	{ "GET", "/admin/v1/me/sessions", ADM, "self.sessions.manage", anfu_api_me_sessions, 0 },
	{ "DELETE", "/admin/v1/me/sessions", ADM, "self.sessions.manage", anfu_api_me_sessions_end,
	  0 },
	{ "DELETE", "/admin/v1/me/sessions/{id}", ADM, "self.sessions.manage",
	  anfu_api_me_session_end, 0 },
	{ "POST", "/admin/v1/me/password", ADM, "self.password.change", anfu_api_me_password,
	  RA | OFF },
	{ "POST", "/admin/v1/me/totp", ADM, "self.mfa.manage", anfu_api_me_totp, RA },
	{ "POST", "/admin/v1/me/phone", ADM, "self.profile.update", anfu_api_me_phone, 0 },
	{ "POST", "/admin/v1/me/email", ADM, "self.profile.update", anfu_api_me_email, 0 },
	{ "POST", "/admin/v1/me/totp/confirm", ADM, "self.mfa.manage", anfu_api_me_totp_confirm,
	  RA },

	{ "GET", "/admin/v1/users", ADM, "iam.user.read", anfu_api_admin_users, 0 },
	{ "POST", "/admin/v1/users", ADM, "iam.user.create", anfu_api_admin_user_create, 0 },
	{ "GET", "/admin/v1/users/{id}", ADM, "iam.user.read", anfu_api_admin_user, 0 },
	{ "POST", "/admin/v1/users/{id}/disable", ADM, "iam.user.disable",
	  anfu_api_admin_user_disable, 0 },
	{ "POST", "/admin/v1/users/{id}/enable", ADM, "iam.user.disable",
	  anfu_api_admin_user_enable, 0 },
	{ "POST", "/admin/v1/users/{id}/unlock", ADM, "iam.user.unlock", anfu_api_admin_user_unlock,
	  0 },
	{ "POST", "/admin/v1/users/{id}/force-password-change", ADM, "iam.user.force_password",
	  anfu_api_admin_user_force_password, 0 },
	{ "POST", "/admin/v1/users/{id}/reset-password", ADM, "iam.user.force_password",
	  anfu_api_admin_user_reset_password, OFF },
	{ "POST", "/admin/v1/users/{id}/validity", ADM, "iam.user.create",
	  anfu_api_admin_user_validity, OFF },
	{ "POST", "/admin/v1/users/{id}/handover", ADM, "iam.user.create",
	  anfu_api_admin_user_handover, OFF },

	/* Four-eyes approvals: the type decides which request / approve
	 * permission the service demands. */
	{ "POST", "/admin/v1/approvals", ADM, "iam.approval.read", anfu_api_admin_approval_file,
	  0 },
	{ "GET", "/admin/v1/approvals", ADM, "iam.approval.read", anfu_api_admin_approvals, 0 },
	{ "GET", "/admin/v1/approvals/{id}", ADM, "iam.approval.read", anfu_api_admin_approval, 0 },
	{ "POST", "/admin/v1/approvals/{id}/approve", ADM, "iam.approval.read",
	  anfu_api_admin_approval_approve, 0 },
	{ "POST", "/admin/v1/approvals/{id}/reject", ADM, "iam.approval.read",
	  anfu_api_admin_approval_reject, 0 },

	/* Privilege-attempt alerts (AUD-ALERT-01). */
	{ "GET", "/admin/v1/alerts", ADM, "iam.alert.manage", anfu_api_admin_alerts, 0 },
	{ "POST", "/admin/v1/alerts/{id}/acknowledge", ADM, "iam.alert.manage",
	  anfu_api_admin_alert_ack, 0 },

	{ "GET", "/admin/v1/reports/account-review", ADM, "iam.review.read", anfu_api_admin_review,
	  0 },
	{ "POST", "/admin/v1/reports/account-review", ADM, "iam.review.read",
	  anfu_api_admin_review_run, 0 },
	{ "GET", "/admin/v1/reports/recertification", ADM, "iam.recert.read",
	  anfu_api_admin_recerts, 0 },
	{ "POST", "/admin/v1/reports/recertification", ADM, "iam.recert.read",
	  anfu_api_admin_recert_create, 0 },
	{ "POST", "/admin/v1/reports/recertification/{id}/sign-off", ADM, "iam.recert.signoff",
	  anfu_api_admin_recert_signoff, 0 },
};

const struct anfu_route_table anfu_iam_routes = { routes, sizeof(routes) / sizeof(routes[0]) };
