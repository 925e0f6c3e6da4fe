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

/* The page frame other modules use too (the cashier page): web/page.h. */
#include "web/page.h"

#endif
