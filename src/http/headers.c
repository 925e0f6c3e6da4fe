/*
 * http/headers: the security headers every response carries (WEB-HDR-01,
 * WEB-BACK-01, WEB-XSS-01, WEB-ERR-01).
 *
 * Owns the header set. Trusts the path (already validated by the request
 * code) and the request id (ours). No Server header and no version banner
 * is ever added; libmicrohttpd adds none of its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "base/err.h"
#include "http/internal.h"

/* Path prefixes whose responses (data and errors alike) must never be
 * stored by a browser or proxy. */
static const char *const no_store_prefixes[] = { "/api/", "/open/", "/admin/", "/test/" };

static const struct {
	const char *name;
	const char *value;
} fixed[] = {
	{ "Content-Security-Policy",
	  "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
};

bool anfu_http_path_no_store(const char *path)
{
	for (size_t i = 0; path && i < sizeof(no_store_prefixes) / sizeof(no_store_prefixes[0]);
	     i++)
		if (strncmp(path, no_store_prefixes[i], strlen(no_store_prefixes[i])) == 0)
			return true;
	return false;
}

int anfu_http_security_headers(struct MHD_Response *r, bool no_store, int64_t hsts_max_age,
			       const char *request_id)
{
	char hsts[64];

	if (hsts_max_age < 0)
		hsts_max_age = 0;
	(void)snprintf(hsts, sizeof(hsts), "max-age=%" PRId64 "; includeSubDomains", hsts_max_age);
	if (MHD_add_response_header(r, "X-Request-Id", request_id) != MHD_YES ||
	    MHD_add_response_header(r, "Strict-Transport-Security", hsts) != MHD_YES)
		return ANFU_EINVAL;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (MHD_add_response_header(r, fixed[i].name, fixed[i].value) != MHD_YES)
			return ANFU_EINVAL;
	if (no_store && MHD_add_response_header(r, "Cache-Control", "no-store") != MHD_YES)
		return ANFU_EINVAL;
	return 0;
}
