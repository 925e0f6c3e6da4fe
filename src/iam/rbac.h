/*
 * iam/rbac: roles, permissions, grants and separation of duties
 * (IAM-RBAC-*, IAM-LP-01, IAM-SOD-01, -02).
 *
 * Owns the queries on iam_role, iam_permission, iam_role_permission,
 * iam_role_conflict and iam_user_role. Permissions come only from roles
 * (no per-user grants, no wildcards). Conflicts are refused when a grant
 * would make an account hold two conflicting roles (the table) or both the
 * request and the approve permission of the same approval type (the rule:
 * "X.request" and "X.approve"). All work happens on the caller's
 * connection, inside the caller's transaction where one is open.
 */
#ifndef ANFU_IAM_RBAC_H
#define ANFU_IAM_RBAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/profile.h"

struct anfu_db;
struct anfu_principal;

/* Fills p->perms/nperms and p->roles from the user's roles and reports the
 * role class of a staff account (privileged role -> ANFU_CLASS_ADMIN). */
int anfu_rbac_load(struct anfu_db *db, const char *user_id, struct anfu_principal *p);

/* The role class of a user of kind ("customer", "merchant", "staff"). */
int anfu_rbac_class(struct anfu_db *db, const char *user_id, const char *kind,
		    enum anfu_role_class *ret);

/* Roles of the user, comma-separated, in out. */
int anfu_rbac_roles(struct anfu_db *db, const char *user_id, char *out, size_t cap);

/* True when role exists and is meant for accounts of kind. */
int anfu_rbac_role_fits(struct anfu_db *db, const char *role, const char *kind, bool *ret);

/* Checks that user_id may additionally hold role: 0, or ANFU_ECONFLICT
 * with reason (static text or copied into reason) naming the conflict. */
int anfu_rbac_check_grant(struct anfu_db *db, const char *user_id, const char *role, char *reason,
			  size_t cap);

/* Checks that one account may hold all of roles[0..n) together (the roles
 * of an account about to be created): 0, ANFU_ENOTFOUND for an unknown
 * role, or ANFU_ECONFLICT with reason as anfu_rbac_check_grant. */
int anfu_rbac_check_set(struct anfu_db *db, const char *const *roles, size_t n, char *reason,
			size_t cap);

/* Grants / revokes (no audit here: the caller audits in its transaction).
 * Grant refuses conflicts (ANFU_ECONFLICT) and duplicates (ANFU_EEXIST),
 * an unknown role (ANFU_ENOTFOUND) and a role not meant for the account's
 * kind (ANFU_EINVAL); revoke of a role not held is ANFU_ENOTFOUND. */
int anfu_rbac_grant(struct anfu_db *db, const char *user_id, const char *role,
		    const char *granted_by, const char *approval_id, int64_t now_ms, char *reason,
		    size_t cap);
int anfu_rbac_revoke(struct anfu_db *db, const char *user_id, const char *role);

/* True when some active account other than except_user_id holds perm. */
int anfu_rbac_anyone_holds(struct anfu_db *db, const char *perm, const char *except_user_id,
			   bool *ret);

#endif
