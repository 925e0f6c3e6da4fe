/*
 * tests/unit/test_status: the account status table (src/iam/status.c) —
 * every allowed transition, the refusal of every other one, the atomic
 * statements made from the table on a real database, and the effective
 * state derived from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/limits.h"
#include "iam/internal.h"
#include "iam/status.h"
#include "store/store.h"

#include "fixture.h"

#define A ANFU_ACCOUNT_ACTIVE
#define L ANFU_ACCOUNT_LOCKED
#define D ANFU_ACCOUNT_DISABLED
#define E ANFU_ACCOUNT_EXPIRED
#define NONE (-1)

/* The table as the docs state it (docs/architecture.md, "The identity
 * module"): expect[event][from] is the status it leads to, NONE when the
 * move is refused. Written out here, independently of status.c. */
static const int expect[IAM_STATUS_EVENT_COUNT][ANFU_ACCOUNT_STATUS_COUNT] = {
	/*                                   active  locked  disabled expired */
	[IAM_STATUS_FAILURES_REACHED] = { L, L, NONE, NONE },
	[IAM_STATUS_LOCK_OVER] = { NONE, A, NONE, NONE },
	[IAM_STATUS_RESET] = { NONE, A, NONE, NONE },
	[IAM_STATUS_UNLOCK] = { NONE, A, NONE, NONE },
	[IAM_STATUS_BREAKGLASS_RESTORE] = { NONE, A, NONE, NONE },
	[IAM_STATUS_DISABLE] = { D, D, NONE, D },
	[IAM_STATUS_ENABLE] = { NONE, NONE, A, NONE },
	[IAM_STATUS_VALIDITY_ENDED] = { E, E, NONE, E },
};

/* req: IAM-LOCK-01, IAM-LOCK-02 */
static void test_every_transition_of_the_table(void **state)
{
	int allowed = 0, refused = 0;

	(void)state;
	for (int ev = 0; ev < IAM_STATUS_EVENT_COUNT; ev++) {
		for (int from = 0; from < ANFU_ACCOUNT_STATUS_COUNT; from++) {
			enum anfu_account_status to = ANFU_ACCOUNT_STATUS_COUNT;
			int r = iam_status_next(from, ev, &to);

			if (expect[ev][from] == NONE) {
				/* refused, and the output left alone */
				assert_int_equal(r, ANFU_ECONFLICT);
				assert_int_equal(to, ANFU_ACCOUNT_STATUS_COUNT);
				refused++;
			} else {
				assert_int_equal(r, 0);
				assert_int_equal(to, expect[ev][from]);
				allowed++;
			}
		}
	}
	assert_int_equal(allowed, 13);
	assert_int_equal(refused, 19);
}

static void test_out_of_range_is_invalid(void **state)
{
	enum anfu_account_status to = A;

	(void)state;
	assert_int_equal(iam_status_next(ANFU_ACCOUNT_STATUS_COUNT, IAM_STATUS_DISABLE, &to),
			 ANFU_EINVAL);
	assert_int_equal(iam_status_next(A, IAM_STATUS_EVENT_COUNT, &to), ANFU_EINVAL);
	assert_int_equal(iam_status_next(A, IAM_STATUS_DISABLE, NULL), ANFU_EINVAL);
}

static void test_names_round_trip(void **state)
{
	static const char *const names[] = { "active", "locked", "disabled", "expired" };
	enum anfu_account_status s = L;

	(void)state;
	for (int i = 0; i < ANFU_ACCOUNT_STATUS_COUNT; i++) {
		assert_string_equal(iam_status_name(i), names[i]);
		assert_int_equal(iam_status_parse(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	s = L;
	assert_int_equal(iam_status_parse("Active", &s), ANFU_EINVAL);
	assert_int_equal(iam_status_parse("", &s), ANFU_EINVAL);
	assert_int_equal(s, L);
}

/* req: IAM-LOCK-02, IAM-ACCT-06 */
static void test_effective_state(void **state)
{
	struct iam_user u;
	int64_t now = 1000000;

	(void)state;
	memset(&u, 0, sizeof(u));
	u.status = A;
	assert_int_equal(iam_user_status(&u, now), A);
	/* validity ended: active, locked and expired read as expired */
	u.expires_ms = now;
	assert_int_equal(iam_user_status(&u, now), E);
	assert_int_equal(iam_user_status(&u, now - 1), A);
	u.status = L;
	assert_int_equal(iam_user_status(&u, now), E);
	/* ... but a disabled account stays disabled */
	u.status = D;
	assert_int_equal(iam_user_status(&u, now), D);
	assert_string_equal(iam_user_state(&u, now), "disabled");
	u.expires_ms = 0;
	/* a timed lock is over at exactly locked_until */
	u.status = L;
	u.locked_until_ms = now;
	assert_int_equal(iam_user_status(&u, now - 1), L);
	assert_int_equal(iam_user_status(&u, now), A);
	/* a lock without an end (staff) stays */
	u.locked_until_ms = 0;
	assert_int_equal(iam_user_status(&u, now + 1000000), L);
	assert_string_equal(iam_user_state(&u, now), "locked");
}

/* ---- the statements, on a database ----------------------------------------------- */

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "status", .frozen_clock = true };

	return fixture_setup(state, FIXTURE_IAM, &opts);
}

static void make(struct anfu_fixture *f, const char *login, const char *status,
		 char id[ANFU_ID_MAX])
{
	struct iam_new_user nu = { 0 };
	struct anfu_param p[2];

	nu.kind = ANFU_USER_CUSTOMER;
	nu.login = login;
	nu.login_kind = "email";
	nu.password_hash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
	nu.lang = "en";
	nu.created_by = "system";
	nu.pwd_reason = "initial";
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_user_insert(f->iam, f->db, &nu, id), 0);
	p[0] = (struct anfu_param)ANFU_PS(status);
	p[1] = (struct anfu_param)ANFU_PSN(id, strlen(id));
	assert_int_equal(anfu_db_exec(f->db,
				      "UPDATE iam_user SET status = $1, failures = 3,"
				      " locked_until_ms = 77 WHERE id = $2",
				      p, 2, NULL, NULL, NULL),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
}

static void status_of(struct anfu_fixture *f, const char *id, char out[FIXTURE_TEXT_MAX])
{
	fixture_text(f->db, "SELECT status FROM iam_user WHERE id = $1", id, out);
}

static int64_t update(struct anfu_fixture *f, const char *id, enum iam_status_event ev,
		      const char *also)
{
	int64_t changed = -1;

	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_status_update(f->db, id, ev, also, NULL, NULL, 0, &changed), 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	return changed;
}

/* Every event from every stored status: the row changes exactly when the
 * table allows it, to the table's status, with the caller's columns;
 * otherwise nothing of the row changes. */
static void test_update_follows_the_table(void **state)
{
	struct anfu_fixture *f = *state;
	int n = 0;

	for (int ev = 0; ev < IAM_STATUS_EVENT_COUNT; ev++) {
		for (int from = 0; from < ANFU_ACCOUNT_STATUS_COUNT; from++) {
			char id[ANFU_ID_MAX], login[64], st[FIXTURE_TEXT_MAX];
			int64_t changed;

			(void)snprintf(login, sizeof(login), "u%d@example.com", n++);
			make(f, login, iam_status_name(from), id);
			changed = update(f, id, ev, "failures = 0");
			status_of(f, id, st);
			if (expect[ev][from] == NONE) {
				assert_int_equal(changed, 0);
				assert_string_equal(st, iam_status_name(from));
				assert_int_equal(
					fixture_count(f->db,
						      "SELECT failures FROM iam_user WHERE id = $1",
						      id),
					3);
			} else {
				assert_int_equal(changed, 1);
				assert_string_equal(st, iam_status_name(expect[ev][from]));
				assert_int_equal(
					fixture_count(f->db,
						      "SELECT failures FROM iam_user WHERE id = $1",
						      id),
					0);
			}
		}
	}
}

static void test_update_with_parameters_and_condition(void **state)
{
	struct anfu_fixture *f = *state;
	struct anfu_param p[1] = { ANFU_PI(76) };
	char id[ANFU_ID_MAX], st[FIXTURE_TEXT_MAX];
	int64_t changed = -1;

	make(f, "cond@example.com", "locked", id);
	/* the caller's condition holds back an allowed move */
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_status_update(f->db, id, IAM_STATUS_UNLOCK, "failures = $2",
					   "locked_until_ms <= $2", p, 1, &changed),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(changed, 0);
	status_of(f, id, st);
	assert_string_equal(st, "locked");
	p[0] = (struct anfu_param)ANFU_PI(77);
	assert_int_equal(anfu_db_begin(f->db), 0);
	assert_int_equal(iam_status_update(f->db, id, IAM_STATUS_UNLOCK, "failures = $2",
					   "locked_until_ms <= $2", p, 1, &changed),
			 0);
	assert_int_equal(anfu_db_commit(f->db), 0);
	assert_int_equal(changed, 1);
	status_of(f, id, st);
	assert_string_equal(st, "active");
	assert_int_equal(fixture_count(f->db, "SELECT failures FROM iam_user WHERE id = $1", id),
			 77);
	/* an unknown user changes nothing */
	assert_int_equal(update(f, "usr_nobody", IAM_STATUS_DISABLE, NULL), 0);
}

/* The CASE form moves an allowed status and keeps any other. */
static void test_case_follows_the_table(void **state)
{
	struct anfu_fixture *f = *state;
	int n = 0;

	for (int ev = 0; ev < IAM_STATUS_EVENT_COUNT; ev++) {
		char sql[2 * ANFU_LIMIT_IAM_STATUS_SQL], cs[ANFU_LIMIT_IAM_STATUS_SQL];

		assert_int_equal(iam_status_case(ev, "failures = 3", cs, sizeof(cs)), 0);
		(void)snprintf(sql, sizeof(sql), "UPDATE iam_user SET status = %s WHERE id = $1",
			       cs);
		for (int from = 0; from < ANFU_ACCOUNT_STATUS_COUNT; from++) {
			char id[ANFU_ID_MAX], login[64], st[FIXTURE_TEXT_MAX];
			struct anfu_param p[1];

			(void)snprintf(login, sizeof(login), "c%d@example.com", n++);
			make(f, login, iam_status_name(from), id);
			p[0] = (struct anfu_param)ANFU_PSN(id, strlen(id));
			assert_int_equal(anfu_db_exec(f->db, sql, p, 1, NULL, NULL, NULL), 0);
			status_of(f, id, st);
			assert_string_equal(st, iam_status_name(expect[ev][from] == NONE
									? from
									: expect[ev][from]));
		}
	}
	/* a buffer too small is refused, not cut */
	{
		char small[16];
		assert_int_equal(iam_status_case(IAM_STATUS_DISABLE, NULL, small, sizeof(small)),
				 ANFU_ELIMIT);
	}
}

/* The condition a statement's other columns follow is the table's. */
static void test_when_names_the_from_states(void **state)
{
	char w[ANFU_LIMIT_IAM_STATUS_SQL], small[12];

	(void)state;
	assert_int_equal(iam_status_when(IAM_STATUS_LOCK_OVER, NULL, w, sizeof(w)), 0);
	assert_string_equal(w, "status IN ('locked')");
	assert_int_equal(iam_status_when(IAM_STATUS_DISABLE, "x = 1", w, sizeof(w)), 0);
	assert_string_equal(w, "status IN ('active', 'locked', 'expired') AND x = 1");
	assert_int_equal(iam_status_when(IAM_STATUS_DISABLE, NULL, small, sizeof(small)),
			 ANFU_ELIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_transition_of_the_table),
		cmocka_unit_test(test_out_of_range_is_invalid),
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_effective_state),
		cmocka_unit_test(test_when_names_the_from_states),
		cmocka_unit_test_setup_teardown(test_update_follows_the_table, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_update_with_parameters_and_condition, setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_case_follows_the_table, setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
