/*
 * web/api/module: the web module's descriptor (api/module.h), for the
 * module list (src/app/), and its handlers.
 */
#ifndef ANFU_WEB_API_MODULE_H
#define ANFU_WEB_API_MODULE_H

#include "api/module.h"

extern const struct anfu_module anfu_web_module;

struct anfu_req;
struct anfu_resp;
struct anfu_buf;

/* assets.c: GET /static/{name}, the compiled-in assets. */
int anfu_web_api_static(struct anfu_req *req, struct anfu_resp *resp);
/* pages.c: the HTML pages. */
int anfu_web_api_login_page(struct anfu_req *req, struct anfu_resp *resp);
int anfu_web_api_account_page(struct anfu_req *req, struct anfu_resp *resp);
/* keypad.c: POST /api/v1/me/keypads/{id}/check, the payment password
 * entered on a shuffled keypad, checked. */
int anfu_web_api_keypad_check(struct anfu_req *req, struct anfu_resp *resp);

/* For pages of other modules (the cashier page, wave 2): the page's
 * language ("zh"/"en": ?lang=, then Accept-Language); the page head up to
 * and including <body followed by nothing (the caller adds its data-
 * attributes and ">"); the header bar with the language switch for
 * path; and the end. Each returns 0 or ANFU_ELIMIT. */
const char *anfu_web_api_lang(const struct anfu_req *req);
int anfu_web_api_page_head(struct anfu_buf *out, const char *lang, const char *title,
			   const char *script);
int anfu_web_api_page_bar(struct anfu_req *req, struct anfu_buf *out, const char *lang);
int anfu_web_api_page_end(struct anfu_buf *out);
/* Hands the finished page out to resp (200 text/html, no-store: pages
 * may show personal data, WEB-BACK-01); out is emptied. */
int anfu_web_api_page_send(struct anfu_req *req, struct anfu_resp *resp, struct anfu_buf *out);
/* A 303 to location (an arena or static string). */
int anfu_web_api_redirect(struct anfu_resp *resp, const char *location);

#endif
