/*
 * iam/rbac: roles, permissions, grants and separation of duties
 * (IAM-RBAC-01, IAM-LP-01, IAM-SOD-01, IAM-SOD-02).
 *
 * Owns the queries on iam_role, iam_permission, iam_role_permission,
 * iam_role_conflict and iam_user_role. Trusts the caller for the
 * transaction (everything runs on the caller's connection, inside its
 * transaction when one is open) and for the audit record of a grant or a
 * revocation; trusts the seeded tables for what each role means.
 *
 * Separation of duties is checked on the role set an account would hold
 * after a grant: no pair of roles listed in iam_role_conflict (in either
 * order), and no permission prefix P with both "P.request" and
 * "P.approve" (the maker-checker rule, so no one can approve what they
 * filed). Sets are small and bounded (ANFU_LIMIT_IAM_ROLES, ANFU_LIMIT_IAM_ROLE_PERMS), so
 * the checks are done in memory over sorted arrays.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/assert.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "base/log.h"
#include "iam/iam.h"
#include "iam/rbac.h"
#include "store/store.h"

/* A role set is checked on more permissions than a principal keeps, so
 * that an over-large grant is refused as a limit, not misjudged. */
_Static_assert(ANFU_LIMIT_IAM_ROLE_PERMS > ANFU_PRINCIPAL_MAX_PERMS,
	       "a role set must be checked on more permissions than a principal keeps");
#define RBAC_NAME_MAX ANFU_PERM_NAME_MAX

struct names {
	size_t n;
	size_t cap;
	int err; /* ANFU_ELIMIT once something did not fit */
	char (*v)[RBAC_NAME_MAX];
};

static int names_add(struct names *s, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return 0;
	if (len >= RBAC_NAME_MAX || s->n >= s->cap) {
		s->err = ANFU_ELIMIT;
		return ANFU_ELIMIT;
	}
	memcpy(s->v[s->n], name, len + 1);
	s->n++;
	ANFU_ASSERT(s->n <= s->cap);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Sorts and removes duplicates. */
static void names_normalize(struct names *s)
{
	size_t w = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), name_cmp);
	for (size_t i = 1; i < s->n; i++) {
		if (strcmp(s->v[i], s->v[w]) != 0) {
			w++;
			if (w != i)
				memcpy(s->v[w], s->v[i], RBAC_NAME_MAX);
		}
	}
	s->n = w + 1;
}

static bool names_has(const struct names *s, const char *name)
{
	return bsearch(name, s->v, s->n, sizeof(s->v[0]), name_cmp) != NULL;
}

static int names_row_cb(void *ud, const struct anfu_row *r)
{
	struct names *s = ud;

	return names_add(s, anfu_row_text(r, 0, NULL)) < 0 ? 1 : 0;
}

/* Appends the first column of every row of a query with one text
 * parameter. */
static int names_query(struct anfu_db *db, const char *sql, const char *arg, struct names *s)
{
	struct anfu_param p[1] = { ANFU_PS(arg) };
	int r = anfu_db_exec(db, sql, p, 1, names_row_cb, s, NULL);

	if (r < 0)
		return r;
	return s->err;
}

static int user_roles(struct anfu_db *db, const char *user_id, struct names *s)
{
	return names_query(db, "SELECT role FROM iam_user_role WHERE user_id = $1", user_id, s);
}

static int role_perms(struct anfu_db *db, const char *role, struct names *s)
{
	return names_query(db, "SELECT permission FROM iam_role_permission WHERE role = $1", role,
			   s);
}

/* Joins s with commas into out; ANFU_ELIMIT when it does not fit. */
static int names_join(const struct names *s, char *out, size_t cap)
{
	size_t used = 0;

	if (cap == 0)
		return ANFU_ELIMIT;
	out[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		size_t len = strlen(s->v[i]);

		if (used + len + (i ? 1 : 0) + 1 > cap)
			return ANFU_ELIMIT;
		if (i)
			out[used++] = ',';
		memcpy(out + used, s->v[i], len + 1);
		used += len;
	}
	return 0;
}

static void reason_set(char *reason, size_t cap, const char *a, const char *b)
{
	if (reason && cap > 0)
		(void)snprintf(reason, cap, "%s%s", a, b ? b : "");
}

/* ---- the separation-of-duties check -------------------------------------- */

struct conflict_scan {
	const struct names *roles;
	char *reason;
	size_t cap;
	bool found;
};

static int conflict_row_cb(void *ud, const struct anfu_row *r)
{
	struct conflict_scan *c = ud;
	const char *a = anfu_row_text(r, 0, NULL);
	const char *b = anfu_row_text(r, 1, NULL);

	if (!a || !b || !names_has(c->roles, a) || !names_has(c->roles, b))
		return 0;
	reason_set(c->reason, c->cap, anfu_row_text(r, 2, NULL), NULL);
	c->found = true;
	return 1;
}

/* The maker-checker rule over a sorted permission set: the first prefix P
 * with both "P.request" and "P.approve", copied into prefix. */
static bool maker_checker_clash(const struct names *perms, char *prefix, size_t cap)
{
	static const char req[] = ".request";
	char approve[RBAC_NAME_MAX + 8];

	for (size_t i = 0; i < perms->n; i++) {
		const char *p = perms->v[i];
		size_t len = strlen(p);

		if (len <= sizeof(req) - 1 || strcmp(p + len - (sizeof(req) - 1), req) != 0)
			continue;
		(void)snprintf(approve, sizeof(approve), "%.*s.approve",
			       (int)(len - (sizeof(req) - 1)), p);
		if (names_has(perms, approve)) {
			(void)snprintf(prefix, cap, "%.*s", (int)(len - (sizeof(req) - 1)), p);
			return true;
		}
	}
	return false;
}

/* Checks a whole role set (sorted, unique): 0, ANFU_ECONFLICT with reason,
 * or ANFU_ELIMIT / a database error. */
static int check_role_set(struct anfu_db *db, const struct names *roles, char *reason, size_t cap)
{
	char(*pv)[RBAC_NAME_MAX] = calloc(ANFU_LIMIT_IAM_ROLE_PERMS, RBAC_NAME_MAX);
	struct names perms = { 0, ANFU_LIMIT_IAM_ROLE_PERMS, 0, pv };
	struct conflict_scan cs = { roles, reason, cap, false };
	char prefix[RBAC_NAME_MAX];
	int r;

	if (!pv)
		abort();
	r = anfu_db_exec(db, "SELECT role_a, role_b, reason FROM iam_role_conflict", NULL, 0,
			 conflict_row_cb, &cs, NULL);
	if (r < 0)
		goto out;
	if (cs.found) {
		r = ANFU_ECONFLICT;
		goto out;
	}
	for (size_t i = 0; i < roles->n; i++) {
		r = role_perms(db, roles->v[i], &perms);
		if (r < 0)
			goto out;
	}
	names_normalize(&perms);
	if (maker_checker_clash(&perms, prefix, sizeof(prefix))) {
		reason_set(reason, cap, "maker and checker of ", prefix);
		r = ANFU_ECONFLICT;
		goto out;
	}
	r = 0;
out:
	free(pv);
	return r;
}

static int role_kind_cb(void *ud, const struct anfu_row *r)
{
	char *kind = ud;
	const char *k = anfu_row_text(r, 0, NULL);

	(void)snprintf(kind, 16, "%s", k ? k : "");
	return 1;
}

/* The kind of a role into kind[16] ("" when the role does not exist). */
static int role_kind(struct anfu_db *db, const char *role, char kind[16])
{
	struct anfu_param p[1] = { ANFU_PS(role) };

	kind[0] = '\0';
	return anfu_db_exec(db, "SELECT kind FROM iam_role WHERE name = $1", p, 1, role_kind_cb,
			    kind, NULL);
}

/* ---- public functions ----------------------------------------------------- */

int anfu_rbac_check_set(struct anfu_db *db, const char *const *roles, size_t n, char *reason,
			size_t cap)
{
	char rv[ANFU_LIMIT_IAM_ROLES][RBAC_NAME_MAX];
	struct names set = { 0, ANFU_LIMIT_IAM_ROLES, 0, rv };
	char kind[16];
	int r;

	if (!db || (!roles && n > 0))
		return ANFU_EINVAL;
	for (size_t i = 0; i < n; i++) {
		r = role_kind(db, roles[i], kind);
		if (r < 0)
			return r;
		if (kind[0] == '\0')
			return ANFU_ENOTFOUND;
		if (names_add(&set, roles[i]) < 0)
			return ANFU_ELIMIT;
	}
	names_normalize(&set);
	return check_role_set(db, &set, reason, cap);
}

int anfu_rbac_check_grant(struct anfu_db *db, const char *user_id, const char *role, char *reason,
			  size_t cap)
{
	char rv[ANFU_LIMIT_IAM_ROLES][RBAC_NAME_MAX];
	struct names set = { 0, ANFU_LIMIT_IAM_ROLES, 0, rv };
	char kind[16];
	int r;

	if (!db || !user_id || !role)
		return ANFU_EINVAL;
	r = role_kind(db, role, kind);
	if (r < 0)
		return r;
	if (kind[0] == '\0')
		return ANFU_ENOTFOUND;
	r = user_roles(db, user_id, &set);
	if (r < 0)
		return r;
	if (names_add(&set, role) < 0)
		return ANFU_ELIMIT;
	names_normalize(&set);
	return check_role_set(db, &set, reason, cap);
}

int anfu_rbac_grant(struct anfu_db *db, const char *user_id, const char *role,
		    const char *granted_by, const char *approval_id, int64_t now_ms, char *reason,
		    size_t cap)
{
	struct anfu_param p[5] = { ANFU_PS(user_id), ANFU_PS(role), ANFU_PI(now_ms),
				   ANFU_PS(granted_by), ANFU_PS(approval_id) };
	int64_t held = 0;
	int r;

	if (!db || !user_id || !role || !granted_by)
		return ANFU_EINVAL;
	r = anfu_db_query_int(db,
			      "SELECT COUNT(*) FROM iam_user_role WHERE user_id = $1 AND role = $2",
			      p, 2, &held);
	if (r < 0)
		return r;
	if (held > 0)
		return ANFU_EEXIST;
	r = anfu_rbac_check_grant(db, user_id, role, reason, cap);
	if (r < 0)
		return r;
	/* A role is only ever given to the kind of account it is meant for
	 * (callers check this too; a staff role on a customer would be the
	 * worst mistake to let through). */
	r = anfu_db_query_int(db,
			      "SELECT COUNT(*) FROM iam_user u JOIN iam_role r ON r.name = $2 "
			      "WHERE u.id = $1 AND r.kind = u.kind",
			      p, 2, &held);
	if (r < 0)
		return r;
	if (held == 0)
		return ANFU_EINVAL;
	return anfu_db_exec(db,
			    "INSERT INTO iam_user_role (user_id, role, granted_ms, granted_by, "
			    "approval_id) VALUES ($1, $2, $3, $4, $5)",
			    p, 5, NULL, NULL, NULL);
}

int anfu_rbac_revoke(struct anfu_db *db, const char *user_id, const char *role)
{
	struct anfu_param p[2] = { ANFU_PS(user_id), ANFU_PS(role) };
	int64_t changes = 0;
	int r;

	if (!db || !user_id || !role)
		return ANFU_EINVAL;
	r = anfu_db_exec(db, "DELETE FROM iam_user_role WHERE user_id = $1 AND role = $2", p, 2,
			 NULL, NULL, &changes);
	if (r < 0)
		return r;
	return changes == 0 ? ANFU_ENOTFOUND : 0;
}

int anfu_rbac_role_fits(struct anfu_db *db, const char *role, const char *kind, bool *ret)
{
	char rk[16];
	int r;

	if (!db || !role || !kind || !ret)
		return ANFU_EINVAL;
	r = role_kind(db, role, rk);
	if (r < 0)
		return r;
	*ret = rk[0] != '\0' && strcmp(rk, kind) == 0;
	return 0;
}

int anfu_rbac_roles(struct anfu_db *db, const char *user_id, char *out, size_t cap)
{
	char rv[ANFU_LIMIT_IAM_ROLES][RBAC_NAME_MAX];
	struct names set = { 0, ANFU_LIMIT_IAM_ROLES, 0, rv };
	char tmp[ANFU_LIMIT_IAM_ROLES * RBAC_NAME_MAX];
	int r;

	if (!db || !user_id || !out)
		return ANFU_EINVAL;
	r = user_roles(db, user_id, &set);
	if (r < 0)
		return r;
	names_normalize(&set);
	r = names_join(&set, tmp, sizeof(tmp) < cap ? sizeof(tmp) : cap);
	if (r < 0)
		return r;
	memcpy(out, tmp, strlen(tmp) + 1);
	return 0;
}

int anfu_rbac_class(struct anfu_db *db, const char *user_id, const char *kind,
		    enum anfu_role_class *ret)
{
	struct anfu_param p[1] = { ANFU_PS(user_id) };
	int64_t privileged = 0;
	int r;

	if (!db || !user_id || !kind || !ret)
		return ANFU_EINVAL;
	if (strcmp(kind, "customer") == 0) {
		*ret = ANFU_CLASS_CUSTOMER;
		return 0;
	}
	if (strcmp(kind, "merchant") == 0) {
		*ret = ANFU_CLASS_MERCHANT;
		return 0;
	}
	if (strcmp(kind, "staff") != 0)
		return ANFU_EINVAL;
	r = anfu_db_query_int(db,
			      "SELECT COUNT(*) FROM iam_user_role ur JOIN iam_role r "
			      "ON r.name = ur.role WHERE ur.user_id = $1 AND r.privileged = 1",
			      p, 1, &privileged);
	if (r < 0)
		return r;
	*ret = privileged > 0 ? ANFU_CLASS_ADMIN : ANFU_CLASS_OPERATOR;
	return 0;
}

static int kind_cb(void *ud, const struct anfu_row *r)
{
	char *kind = ud;
	const char *k = anfu_row_text(r, 0, NULL);

	(void)snprintf(kind, 16, "%s", k ? k : "");
	return 1;
}

/* Roles (joined) and permissions (sorted, unique) of user_id into the
 * given sets. */
static int load_sets(struct anfu_db *db, const char *user_id, struct names *roles,
		     struct names *perms)
{
	int r = user_roles(db, user_id, roles);

	if (r < 0)
		return r;
	names_normalize(roles);
	for (size_t i = 0; i < roles->n; i++) {
		r = role_perms(db, roles->v[i], perms);
		if (r < 0)
			return r;
	}
	names_normalize(perms);
	return 0;
}

int anfu_rbac_load(struct anfu_db *db, const char *user_id, struct anfu_principal *p)
{
	char rv[ANFU_LIMIT_IAM_ROLES][RBAC_NAME_MAX];
	char(*pv)[RBAC_NAME_MAX] = NULL;
	struct names roles = { 0, ANFU_LIMIT_IAM_ROLES, 0, rv };
	struct names perms = { 0, ANFU_LIMIT_IAM_ROLE_PERMS, 0, NULL };
	struct anfu_param q[1] = { ANFU_PS(user_id) };
	char kind[16] = "";
	char joined[sizeof(p->roles)];
	enum anfu_role_class cls;
	int r;

	if (!db || !user_id || !p)
		return ANFU_EINVAL;
	pv = calloc(ANFU_LIMIT_IAM_ROLE_PERMS, RBAC_NAME_MAX);
	if (!pv)
		abort();
	perms.v = pv;
	r = anfu_db_exec(db, "SELECT kind FROM iam_user WHERE id = $1", q, 1, kind_cb, kind, NULL);
	if (r < 0)
		goto out;
	r = ANFU_ENOTFOUND;
	if (kind[0] == '\0')
		goto out;
	r = load_sets(db, user_id, &roles, &perms);
	if (r < 0)
		goto out;
	r = ANFU_ELIMIT;
	if (perms.n > ANFU_PRINCIPAL_MAX_PERMS) {
		anfu_log_error("iam.rbac", "user %s holds %zu permissions (limit %d)", user_id,
			       perms.n, ANFU_PRINCIPAL_MAX_PERMS);
		goto out;
	}
	r = names_join(&roles, joined, sizeof(joined));
	if (r < 0)
		goto out;
	r = anfu_rbac_class(db, user_id, kind, &cls);
	if (r < 0)
		goto out;
	memcpy(p->roles, joined, sizeof(joined));
	p->role_class = cls;
	p->nperms = (int)perms.n;
	for (size_t i = 0; i < perms.n; i++)
		memcpy(p->perms[i], perms.v[i], ANFU_PERM_NAME_MAX);
	r = 0;
out:
	free(pv);
	return r;
}

int anfu_rbac_anyone_holds(struct anfu_db *db, const char *perm, const char *except_user_id,
			   bool *ret)
{
	struct anfu_param p[3] = { ANFU_PS(perm), ANFU_PS(except_user_id ? except_user_id : ""),
				   ANFU_PI(anfu_clock_now_ms()) };
	int64_t n = 0;
	int r;

	if (!db || !perm || !ret)
		return ANFU_EINVAL;
	r = anfu_db_query_int(db,
			      "SELECT COUNT(*) FROM iam_user u "
			      "JOIN iam_user_role ur ON ur.user_id = u.id "
			      "JOIN iam_role_permission rp ON rp.role = ur.role "
			      "WHERE rp.permission = $1 AND u.id <> $2 AND u.status = 'active' "
			      "AND (u.expires_ms IS NULL OR u.expires_ms > $3)",
			      p, 3, &n);
	if (r < 0)
		return r;
	*ret = n > 0;
	return 0;
}

/* ---- the permission check of a request ------------------------------------ */

bool anfu_principal_can(const struct anfu_principal *p, const char *perm)
{
	if (!p || !perm || !perm[0])
		return false;
	for (int i = 0; i < p->nperms && i < ANFU_PRINCIPAL_MAX_PERMS; i++)
		if (strcmp(p->perms[i], perm) == 0)
			return true;
	return false;
}
