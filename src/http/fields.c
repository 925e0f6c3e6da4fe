/*
 * http/fields: what a handler reads of its request besides the body: a
 * header, a cookie or a query parameter by name, and the language of the
 * answer (Accept-Language: "zh..." gives Chinese, anything else English).
 *
 * Owns nothing: the values belong to libmicrohttpd's connection and live
 * as long as the request. Trusts MHD for the parsing (the framing filter,
 * http/framing.c, already refused malformed heads).
 */
#include <string.h>
#include <strings.h>

#include <microhttpd.h>

#include "http/internal.h"

static const char *lookup(const struct anfu_req *req, enum MHD_ValueKind kind, const char *name)
{
	if (!req || !req->conn || !name)
		return NULL;
	return MHD_lookup_connection_value(req->conn, kind, name);
}

const char *anfu_req_header(const struct anfu_req *req, const char *name)
{
	return lookup(req, MHD_HEADER_KIND, name);
}

const char *anfu_req_cookie(const struct anfu_req *req, const char *name)
{
	return lookup(req, MHD_COOKIE_KIND, name);
}

const char *anfu_req_query(const struct anfu_req *req, const char *name)
{
	return lookup(req, MHD_GET_ARGUMENT_KIND, name);
}

const char *anfu_req_lang(const struct anfu_req *req)
{
	const char *al = anfu_req_header(req, MHD_HTTP_HEADER_ACCEPT_LANGUAGE);

	while (al && (*al == ' ' || *al == '\t'))
		al++;
	return al && strncasecmp(al, "zh", 2) == 0 ? "zh" : "en";
}
