/*
 * http/router: the route table, matched on method + path.
 *
 * Owns a fixed table of ANFU_LIMIT_ROUTES routes (copied at registration,
 * never moved, so route pointers stay valid for the router's life) and the
 * parsed segments of each pattern. Trusts the registering code only to the
 * extent of what anfu_router_add() checks: every route has an access class,
 * a permission and a handler, and a well-formed pattern. Trusts nothing in
 * the paths it matches. Registration is single-threaded and happens before
 * the server starts; matching is read-only and safe from any thread.
 *
 * Patterns are "/" or "/seg/seg/...", where a segment is a literal of
 * unreserved URL characters or a parameter "{name}". Matching is exact per
 * segment (no trailing-slash or case folding). Among the patterns that
 * match a path and method, the one with a literal at the first position
 * where they differ wins.
 */
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/err.h"
#include "base/mem.h"
#include "http/http.h"
#include "http/internal.h"

struct seg {
	const char *p; /* literal text, or the parameter name */
	size_t len;
	bool param;
};

struct entry {
	struct anfu_route route; /* strings point to the copies below */
	char *method;
	char *pattern;
	char *permission;
	struct seg segs[ANFU_LIMIT_PATH_SEGMENTS];
	int nsegs;
	unsigned param_mask; /* bit i set: segment i is a parameter */
};

struct anfu_router {
	struct entry e[ANFU_LIMIT_ROUTES];
	int n;
};

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE" };

struct anfu_router *anfu_router_new(void)
{
	return anfu_xcalloc(1, sizeof(struct anfu_router));
}

void anfu_router_free(struct anfu_router *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->n; i++) {
		free(r->e[i].method);
		free(r->e[i].pattern);
		free(r->e[i].permission);
	}
	free(r);
}

static bool method_known(const char *m)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m, methods[i]) == 0)
			return true;
	return false;
}

static bool literal_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static bool param_name_ok(const char *p, size_t len)
{
	if (len == 0 || !((p[0] >= 'a' && p[0] <= 'z') || p[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return false;
	return true;
}

/* Parses one segment [p, p+len) of a pattern into *s. */
static int parse_seg(const char *p, size_t len, struct seg *s)
{
	if (len >= 2 && p[0] == '{' && p[len - 1] == '}') {
		if (!param_name_ok(p + 1, len - 2))
			return ANFU_EINVAL;
		*s = (struct seg){ p + 1, len - 2, true };
		return 0;
	}
	if (len == 0)
		return ANFU_EINVAL;
	for (size_t i = 0; i < len; i++)
		if (!literal_char(p[i]))
			return ANFU_EINVAL;
	*s = (struct seg){ p, len, false };
	return 0;
}

static bool param_repeated(const struct entry *e, const struct seg *s)
{
	for (int i = 0; i < e->nsegs; i++)
		if (e->segs[i].param && e->segs[i].len == s->len &&
		    memcmp(e->segs[i].p, s->p, s->len) == 0)
			return true;
	return false;
}

/* Splits e->pattern (already copied) into segments. */
static int parse_pattern(struct entry *e)
{
	const char *p = e->pattern;
	size_t len = strlen(p);
	int nparams = 0;

	if (len == 0 || len > ANFU_LIMIT_PATH_BYTES || p[0] != '/')
		return ANFU_EINVAL;
	if (len == 1)
		return 0;
	for (size_t i = 1; i <= len;) {
		const char *end = memchr(p + i, '/', len - i);
		size_t slen = end ? (size_t)(end - (p + i)) : len - i;
		struct seg s;

		if (e->nsegs == ANFU_LIMIT_PATH_SEGMENTS || parse_seg(p + i, slen, &s) < 0)
			return ANFU_EINVAL;
		if (s.param) {
			if (nparams == ANFU_LIMIT_PATH_PARAMS || param_repeated(e, &s))
				return ANFU_EINVAL;
			nparams++;
			e->param_mask |= 1u << e->nsegs;
		}
		e->segs[e->nsegs++] = s;
		i += slen + 1;
	}
	return 0;
}

/* Same method and same shape: literals equal, parameters at the same
 * positions (their names do not matter). */
static bool same_route(const struct entry *a, const struct entry *b)
{
	if (strcmp(a->method, b->method) != 0 || a->nsegs != b->nsegs ||
	    a->param_mask != b->param_mask)
		return false;
	for (int i = 0; i < a->nsegs; i++)
		if (!a->segs[i].param && (a->segs[i].len != b->segs[i].len ||
					  memcmp(a->segs[i].p, b->segs[i].p, a->segs[i].len) != 0))
			return false;
	return true;
}

static void entry_clear(struct entry *e)
{
	free(e->method);
	free(e->pattern);
	free(e->permission);
	memset(e, 0, sizeof(*e));
}

int anfu_router_add(struct anfu_router *r, const struct anfu_route *route)
{
	struct entry *e;

	if (!r || !route || !route->method || !route->pattern || !route->handler ||
	    !route->permission || route->permission[0] == '\0')
		return ANFU_EINVAL;
	if (route->access < ANFU_ACCESS_PUBLIC || route->access > ANFU_ACCESS_ADMIN ||
	    !method_known(route->method))
		return ANFU_EINVAL;
	if (r->n == ANFU_LIMIT_ROUTES)
		return ANFU_ELIMIT;
	e = &r->e[r->n];
	e->method = anfu_xstrdup(route->method);
	e->pattern = anfu_xstrdup(route->pattern);
	e->permission = anfu_xstrdup(route->permission);
	if (parse_pattern(e) < 0)
		goto fail;
	for (int i = 0; i < r->n; i++)
		if (same_route(&r->e[i], e))
			goto fail;
	e->route = *route;
	e->route.method = e->method;
	e->route.pattern = e->pattern;
	e->route.permission = e->permission;
	r->n++;
	ANFU_ASSERT(r->n <= ANFU_LIMIT_ROUTES && e->nsegs <= ANFU_LIMIT_PATH_SEGMENTS);
	return 0;
fail:
	entry_clear(e);
	return ANFU_EINVAL;
}

int anfu_router_add_all(struct anfu_router *r, const struct anfu_route *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int ret = anfu_router_add(r, &routes[i]);

		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Splits a request path into segments; false when it cannot match any
 * pattern (no leading '/', empty segment, too many segments). */
static bool split_path(struct anfu_str path, struct anfu_str *segs, int *ret_n)
{
	int n = 0;

	if (path.len == 0 || path.ptr[0] != '/' || path.len > ANFU_LIMIT_PATH_BYTES)
		return false;
	for (size_t i = 1; i < path.len;) {
		const char *end = memchr(path.ptr + i, '/', path.len - i);
		size_t slen = end ? (size_t)(end - (path.ptr + i)) : path.len - i;

		if (slen == 0 || n == ANFU_LIMIT_PATH_SEGMENTS)
			return false;
		segs[n++] = (struct anfu_str){ path.ptr + i, slen };
		i += slen + 1;
		if (end && i == path.len)
			return false; /* trailing slash */
	}
	*ret_n = n;
	return true;
}

static bool pattern_matches(const struct entry *e, const struct anfu_str *segs, int n)
{
	if (e->nsegs != n)
		return false;
	for (int i = 0; i < n; i++)
		if (!e->segs[i].param && (e->segs[i].len != segs[i].len ||
					  memcmp(e->segs[i].p, segs[i].ptr, segs[i].len) != 0))
			return false;
	return true;
}

/* Literal before parameter at the first differing position: the smaller
 * mask, read from the first segment as the most significant, wins. */
static bool more_specific(const struct entry *a, const struct entry *b)
{
	for (int i = 0; i < a->nsegs; i++) {
		bool pa = a->param_mask & (1u << i), pb = b->param_mask & (1u << i);

		if (pa != pb)
			return !pa;
	}
	return false;
}

static bool served_on(const struct anfu_route *rt, bool admin_listener)
{
	if (rt->access == ANFU_ACCESS_ADMIN || (rt->flags & ANFU_ROUTE_ADMIN_LISTENER))
		return admin_listener;
	if (rt->flags & ANFU_ROUTE_BOTH)
		return true;
	return !admin_listener;
}

/* Adds method to the Allow list unless it is there already. */
static void allow_add(char *allow, size_t cap, const char *method)
{
	size_t len = strlen(allow), mlen = strlen(method);
	const char *p = allow;

	while ((p = strstr(p, method)) != NULL) {
		if ((p == allow || p[-1] == ' ') && (p[mlen] == ',' || p[mlen] == '\0'))
			return;
		p += mlen;
	}
	if (len + mlen + 3 > cap)
		return;
	if (len > 0) {
		memcpy(allow + len, ", ", 2);
		len += 2;
	}
	memcpy(allow + len, method, mlen + 1);
}

static void fill_params(const struct entry *e, const struct anfu_str *segs,
			struct anfu_route_match *m)
{
	m->nparams = 0;
	for (int i = 0; i < e->nsegs; i++) {
		if (!e->segs[i].param)
			continue;
		/* parse_pattern admitted at most ANFU_LIMIT_PATH_PARAMS. */
		ANFU_ASSERT(m->nparams < ANFU_LIMIT_PATH_PARAMS);
		m->param_names[m->nparams] = (struct anfu_str){ e->segs[i].p, e->segs[i].len };
		m->param_values[m->nparams] = segs[i];
		m->nparams++;
	}
}

static int match(const struct anfu_router *r, const char *method, struct anfu_str path,
		 int listener, struct anfu_route_match *m)
{
	struct anfu_str segs[ANFU_LIMIT_PATH_SEGMENTS];
	const struct entry *best = NULL;
	bool any = false;
	int n = 0;

	memset(m, 0, sizeof(*m));
	if (!r || !method || !split_path(path, segs, &n))
		return ANFU_ENOTFOUND;
	for (int i = 0; i < r->n; i++) {
		const struct entry *e = &r->e[i];

		if ((listener >= 0 && !served_on(&e->route, listener == 1)) ||
		    !pattern_matches(e, segs, n))
			continue;
		any = true;
		allow_add(m->allow, sizeof(m->allow), e->method);
		if (strcmp(e->method, method) == 0 && (!best || more_specific(e, best)))
			best = e;
	}
	if (!best) {
		if (!any)
			m->allow[0] = '\0';
		return any ? ANFU_ECONFLICT : ANFU_ENOTFOUND;
	}
	m->route = &best->route;
	fill_params(best, segs, m);
	return 0;
}

int anfu_router_match(const struct anfu_router *r, const char *method, struct anfu_str path,
		      struct anfu_route_match *m)
{
	return match(r, method, path, -1, m);
}

int anfu_router_match_on(const struct anfu_router *r, const char *method, struct anfu_str path,
			 bool admin_listener, struct anfu_route_match *m)
{
	return match(r, method, path, admin_listener ? 1 : 0, m);
}

void anfu_router_foreach(const struct anfu_router *r,
			 void (*fn)(void *ud, const struct anfu_route *route), void *ud)
{
	if (!r || !fn)
		return;
	for (int i = 0; i < r->n; i++)
		fn(ud, &r->e[i].route);
}

int anfu_router_count(const struct anfu_router *r)
{
	return r ? r->n : 0;
}

int anfu_router_index(const struct anfu_router *r, const struct anfu_route *route)
{
	for (int i = 0; r && route && i < r->n; i++)
		if (&r->e[i].route == route)
			return i;
	return -1;
}

const struct anfu_route *anfu_router_at(const struct anfu_router *r, int i)
{
	return r && i >= 0 && i < r->n ? &r->e[i].route : NULL;
}
