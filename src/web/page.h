/*
 * web/page: the frame of a server-rendered page, for the pages of other
 * modules (the cashier page, pay/api/cashier.c) as for web's own
 * (docs/web.md, "Adding a page"). Implemented in src/web/api/pages.c (they
 * speak HTTP: only a module's api/ code calls them); declared here because
 * a module's api/ headers are its own (scripts/lint-includes.py, svc-api).
 */
#ifndef ANFU_WEB_PAGE_H
#define ANFU_WEB_PAGE_H

struct anfu_app;
struct anfu_buf;
struct anfu_req;
struct anfu_resp;
struct anfu_web;

/* The page's language ("zh"/"en": ?lang=, then Accept-Language); the page head up to
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

/* The started web service of app (the keypads), or NULL before start. */
struct anfu_web *anfu_web_api_service_of(const struct anfu_app *app);

#endif
