/*
 * iam/api/handlers: the HTTP handlers of the identity module, shared
 * between its files and its route table (iam/api/routes.c). Internal to
 * src/iam/api/; the helpers every service shares are api/handlers.h.
 */
#ifndef ANFU_IAM_API_HANDLERS_H
#define ANFU_IAM_API_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/handlers.h"
#include "http/http.h"

struct anfu_login_result;
struct anfu_user_view;
struct anfu_iam_err;

/* session_out.c */
/* Sets the session cookie (HttpOnly, Secure, SameSite=Strict, Path=/) of
 * the listener req arrived on; value NULL clears it. */
int anfu_api_cookie(struct anfu_req *req, struct anfu_resp *resp, const char *value);
/* Sets the trusted-device cookie (ANFU_DEVICE_COOKIE: __Host- prefix,
 * HttpOnly, Secure, Path=/, SameSite=Strict) with Max-Age max_age_s > 0. */
int anfu_api_device_cookie(struct anfu_req *req, struct anfu_resp *resp, const char *value,
			   int64_t max_age_s);
/* A user's view as the JSON object every route shows (caller owns the
 * reference); NULL for a NULL view. */
json_t *anfu_api_user_json(const struct anfu_user_view *v);
/* The JSON body of a login / MFA / step-up result (never the session id:
 * that goes only into the cookie). */
json_t *anfu_api_login_json(const struct anfu_req *req, const struct anfu_login_result *lr);
/* Answers a session renewed by a password change or TOTP confirmation
 * (IAM-SESS-07): the new cookie, and 200 {csrf_token, state,
 * required_actions}. */
int anfu_api_session_renewed(struct anfu_req *req, struct anfu_resp *resp,
			     const struct anfu_login_result *lr);
/* Fails req with the IAM error code when there is one, else err. */
int anfu_api_iam_fail(struct anfu_req *req, int err, const struct anfu_iam_err *e);
/* The unauthorised-use warning shown to staff (IAM-ADM-03), "zh"/"en". */
const char *anfu_api_banner_text(const char *lang);
/* A PNG as a data: URI string in the arena. */
int anfu_api_png_uri(struct anfu_req *req, const unsigned char *png, size_t len, const char **ret);

/* auth.c: /api/v1/captcha, /api/v1/auth/... and the admin twins */
int anfu_api_captcha(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_captcha_image(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_codes(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_register_user(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_login(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_mfa(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_step_up(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_logout(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_reset(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_reset_confirm(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_banner(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_password_strength(struct anfu_req *req, struct anfu_resp *resp);

/* me.c: /api/v1/me/... and /admin/v1/me/... */
int anfu_api_me(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_logins(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_sessions(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_sessions_end(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_session_end(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_password(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_payment_password(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_payment_verify(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_totp(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_totp_remove(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_totp_confirm(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_devices(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_device_remove(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_devices_remove(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_phone(struct anfu_req *req, struct anfu_resp *resp);
/* reserved.c: the anti-phishing reserved message (WEB-PHISH-01). */
/* POST /api/v1/auth/reserved-message: the message of the name given, ""
 * for every name without one to show (the login page's first step). */
int anfu_api_auth_reserved(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_reserved_get(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_reserved_put(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_me_email(struct anfu_req *req, struct anfu_resp *resp);

/* admin.c: /admin/v1/users, approvals, reports */
int anfu_api_admin_users(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_create(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_merchant_users(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_merchant_user_create(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_merchant_user_disable(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_merchant_user_enable(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_disable(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_enable(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_unlock(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_force_password(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_reset_password(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_validity(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_user_handover(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_approval_file(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_approvals(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_approval(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_approval_approve(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_approval_reject(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_alerts(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_alert_ack(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_review(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_review_run(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_recerts(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_recert_create(struct anfu_req *req, struct anfu_resp *resp);
int anfu_api_admin_recert_signoff(struct anfu_req *req, struct anfu_resp *resp);

#endif
