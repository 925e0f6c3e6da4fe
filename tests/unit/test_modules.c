/*
 * tests/unit/test_modules: the module descriptors and the app core that
 * iterates them (src/app/modules.c, src/app/routes.c, api/context.c).
 *
 * The list of this build (platform first, then the list of the top
 * meson.build), and, on made-up modules a, b and c: start in list order
 * with each module's own parsed options, stop in reverse, a failed start
 * that names its module, approval types and jobs wired for the service,
 * and a handler's way to its service. Runs on the fixture's store (for the
 * scheduler); trusts config/ and jobs/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/module.h"
#include "app/app.h"
#include "base/err.h"
#include "config/config.h"
#include "config/option.h"
#include "http/http.h"
#include "iam/api/module.h"
#include "iam/approval.h"
#include "iam/config.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "fixture.h"

/* ---- made-up modules ------------------------------------------------------ */

/* What the modules did, in order ("start a,stop a,..."). */
static char journal[256];
/* What b's start got as its options, and the interval b's job was asked
 * for with which service. */
static const void *b_got_config;
static const void *interval_asked_by;

static void note(const char *what, const char *name)
{
	size_t len = strlen(journal);

	(void)snprintf(journal + len, sizeof(journal) - len, "%s %s,", what, name);
}

struct b_config {
	int64_t n;
	bool on;
};

#define ANFU_CONFIG_STRUCT struct b_config
static const struct anfu_config_option b_options[] = {
	ANFU_OPT_INT("b", "n", n, 1, 10, 3, NULL, NULL, "A number."),
	ANFU_OPT_BOOL("b", "on", on, "false", NULL, "A switch."),
};
static const struct anfu_config_table b_table = { "b", b_options, 2, sizeof(struct b_config) };

/* Each service is a distinct static object, so a test can tell them
 * apart. */
static int svc_a, svc_b, svc_c;
static bool c_fails;

static int start_a(struct anfu_app *app, const void *config, void **ret_svc)
{
	(void)app;
	assert_null(config);
	note("start", "a");
	*ret_svc = &svc_a;
	return 0;
}

static int start_b(struct anfu_app *app, const void *config, void **ret_svc)
{
	(void)app;
	b_got_config = config;
	note("start", "b");
	*ret_svc = &svc_b;
	return 0;
}

static int start_c(struct anfu_app *app, const void *config, void **ret_svc)
{
	(void)app;
	(void)config;
	note("start", "c");
	if (c_fails)
		return ANFU_EIO;
	*ret_svc = &svc_c;
	return 0;
}

static void stop_any(void *svc)
{
	note("stop", svc == &svc_a ? "a" : svc == &svc_b ? "b" : svc == &svc_c ? "c" : "?");
}

static int job_b(void *ud, struct anfu_db *db, const char **result)
{
	(void)ud;
	(void)db;
	*result = "ok";
	return 0;
}

static int64_t b_interval(const void *svc)
{
	interval_asked_by = svc;
	return 60 * 1000;
}

static const struct anfu_job_def b_job_defs[] = {
	{ "test.b_job", 0, -1, b_interval, job_b },
};
static const struct anfu_job_table b_jobs = { b_job_defs, 1 };

static int type_validate(struct anfu_iam *iam, struct anfu_db *db, const json_t *payload,
			 char *summary, size_t cap, struct anfu_iam_err *err)
{
	(void)iam;
	(void)db;
	(void)payload;
	(void)summary;
	(void)cap;
	(void)err;
	return 0;
}

static int type_execute(struct anfu_iam *iam, struct anfu_tx *tx, const struct anfu_iam_ctx *ctx,
			const char *approval_id, const json_t *payload, json_t **result,
			struct anfu_iam_err *err)
{
	(void)iam;
	(void)tx;
	(void)ctx;
	(void)approval_id;
	(void)payload;
	(void)result;
	(void)err;
	return 0;
}

static const struct anfu_approval_type c_types[] = {
	{ "test_modules_c", "test.approval.c", type_validate, type_execute, NULL, NULL, false },
};
static const struct anfu_approval_table c_approvals = { c_types, 1 };

static const struct anfu_module mod_a = { .name = "a", .start = start_a, .stop = stop_any };
static const struct anfu_module mod_b = {
	.name = "b",
	.config = &b_table,
	.start = start_b,
	.stop = stop_any,
	.jobs = &b_jobs,
};
static const struct anfu_module mod_c = {
	.name = "c",
	.start = start_c,
	.stop = stop_any,
	.approvals = &c_approvals,
};
static const struct anfu_module *const abc[] = { &mod_a, &mod_b, &mod_c };

/* ---- fixture: an app of a, b and c on the fixture's store ---------------------- */

struct fix {
	struct anfu_fixture *fx;
	struct anfu_app app;
	void *services[3];
	struct anfu_config *cfg;
};

static int setup(void **state)
{
	static const struct anfu_fixture_opts opts = { .name = "modules" };
	const struct anfu_config_table *const tables[] = { &b_table };
	static const char text[] = "[b]\nn = 7\n";
	struct fix *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	assert_int_equal(fixture_open(FIXTURE_AUDIT, &opts, &f->fx), 0);
	assert_int_equal(anfu_config_load_text(text, sizeof(text) - 1, "t.conf", f->fx->dir, tables,
					       1, &f->cfg, err, sizeof(err)),
			 0);
	f->app.cfg = f->cfg;
	f->app.store = f->fx->store;
	assert_int_equal(anfu_jobs_new(f->fx->tx, &f->app.jobs), 0);
	f->app.modules = abc;
	f->app.nmodules = 3;
	f->app.services = f->services;
	journal[0] = '\0';
	b_got_config = NULL;
	interval_asked_by = NULL;
	c_fails = false;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	anfu_app_stop_modules(&f->app);
	anfu_jobs_free(f->app.jobs);
	anfu_config_free(f->cfg);
	fixture_close(f->fx);
	free(f);
	return 0;
}

/* ---- the list of this build --------------------------------------------------- */

static bool in_list(const struct anfu_module *m)
{
	for (size_t i = 0; i < anfu_app_nmodules; i++)
		if (anfu_app_modules[i] == m)
			return true;
	return false;
}

static void test_the_list_has_the_platform_first_then_the_modules(void **state)
{
	(void)state;
	assert_true(anfu_app_nmodules >= 3);
	assert_ptr_equal(anfu_app_modules[0], &anfu_core_module);
	assert_ptr_equal(anfu_app_modules[1], &anfu_notify_module);
	assert_true(in_list(&anfu_iam_module));
	for (size_t i = 0; i < anfu_app_nmodules; i++) {
		const struct anfu_module *m = anfu_app_modules[i];

		assert_non_null(m->name);
		/* A module's sequence carries its name (schema_version.module). */
		if (m->migrations)
			assert_string_equal(m->migrations->module, m->name);
		if (m->config)
			assert_string_equal(m->config->owner, m->name);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(anfu_app_modules[k]->name, m->name);
	}
}

static void test_tables_and_migrations_follow_the_list(void **state)
{
	const struct anfu_config_table *tables[ANFU_LIMIT_MODULES];
	struct anfu_migration_set schema[ANFU_LIMIT_MODULES];
	size_t nt = anfu_app_config_tables(tables), ns = anfu_app_schema(schema), t = 0, s = 0;

	(void)state;
	for (size_t i = 0; i < anfu_app_nmodules; i++) {
		const struct anfu_module *m = anfu_app_modules[i];

		if (m->config)
			assert_ptr_equal(tables[t++], m->config);
		if (m->migrations)
			assert_string_equal(schema[s++].module, m->name);
	}
	assert_int_equal(t, nt);
	assert_int_equal(s, ns);
	assert_string_equal(schema[0].module, "core");
	assert_string_equal(schema[1].module, "notify");
	assert_true(nt >= 1);
	assert_ptr_equal(tables[0], &anfu_iam_config_table);
}

struct route_walk {
	int n;
	char first[64], last[64];
	bool iam_login;
};

static void walk_route(void *ud, const struct anfu_route *rt)
{
	struct route_walk *w = ud;

	if (w->n++ == 0)
		(void)snprintf(w->first, sizeof(w->first), "%s", rt->pattern);
	(void)snprintf(w->last, sizeof(w->last), "%s", rt->pattern);
	if (strcmp(rt->pattern, "/api/v1/auth/login") == 0)
		w->iam_login = true;
}

/* The platform's routes first, the modules' (iam's), the test hooks'
 * last. */
static void test_routes_are_the_platforms_the_modules_then_the_test_hooks(void **state)
{
	struct anfu_router *r = anfu_router_new();
	struct route_walk w = { 0 };

	(void)state;
	assert_int_equal(anfu_app_register_routes(r), 0);
	anfu_router_foreach(r, walk_route, &w);
	assert_string_equal(w.first, "/healthz");
	assert_true(w.iam_login);
#ifdef ANFU_TEST_HOOKS
	assert_string_equal(w.last, "/test/v1/session-probe");
#endif
	anfu_router_free(r);
}

/* ---- starting and stopping ------------------------------------------------------- */

static void test_modules_start_in_list_order_and_stop_in_reverse(void **state)
{
	struct fix *f = *state;
	char err[256] = "";

	assert_int_equal(anfu_app_start_modules(&f->app, err, sizeof(err)), 0);
	assert_string_equal(journal, "start a,start b,start c,");
	assert_ptr_equal(f->services[0], &svc_a);
	assert_ptr_equal(f->services[1], &svc_b);
	assert_ptr_equal(f->services[2], &svc_c);
	journal[0] = '\0';
	anfu_app_stop_modules(&f->app);
	assert_string_equal(journal, "stop c,stop b,stop a,");
	assert_null(f->services[0]);
	/* Stopping again stops nothing twice. */
	journal[0] = '\0';
	anfu_app_stop_modules(&f->app);
	assert_string_equal(journal, "");
}

/* b gets the struct config/ filled from its own table: the file's value,
 * the defaults for the rest; a gets NULL (no table). */
static void test_a_module_gets_its_own_parsed_options(void **state)
{
	struct fix *f = *state;
	const struct b_config *bc;
	char err[256] = "";

	assert_int_equal(anfu_app_start_modules(&f->app, err, sizeof(err)), 0);
	bc = b_got_config;
	assert_non_null(bc);
	assert_ptr_equal(bc, anfu_config_module(f->cfg, &b_table));
	assert_int_equal(bc->n, 7);
	assert_false(bc->on);
}

static void test_a_failed_start_names_the_module_and_stops_what_started(void **state)
{
	struct fix *f = *state;
	char err[256] = "";

	c_fails = true;
	assert_int_equal(anfu_app_start_modules(&f->app, err, sizeof(err)), ANFU_EIO);
	assert_non_null(strstr(err, "module c: cannot start"));
	assert_null(f->services[2]);
	journal[0] = '\0';
	anfu_app_stop_modules(&f->app);
	assert_string_equal(journal, "stop b,stop a,");
}

/* b's job is scheduled for b's service: its interval comes from b's
 * service, and the name is taken in the scheduler. */
static void test_a_modules_jobs_are_scheduled_for_its_service(void **state)
{
	struct fix *f = *state;
	char err[256] = "";

	assert_int_equal(anfu_app_start_modules(&f->app, err, sizeof(err)), 0);
	assert_ptr_equal(interval_asked_by, &svc_b);
	assert_int_equal(anfu_jobs_add(f->app.jobs, "test.b_job", 1000, 0, job_b, NULL),
			 ANFU_EEXIST);
}

static void test_a_modules_approval_types_are_registered_once(void **state)
{
	static const struct anfu_approval_type impostor = { "test_modules_c",
							    "test.approval.other",
							    type_validate,
							    type_execute,
							    NULL,
							    NULL,
							    false };
	static const struct anfu_approval_table imp_table = { &impostor, 1 };
	static const struct anfu_module imp = { .name = "imp", .approvals = &imp_table };
	struct fix *f = *state;
	char err[256] = "";

	assert_int_equal(anfu_app_start_modules(&f->app, err, sizeof(err)), 0);
	assert_ptr_equal(anfu_approval_type_find("test_modules_c"), &c_types[0]);
	/* Again (another app in this process): the same type is no error. */
	assert_int_equal(anfu_app_register_approvals(&mod_c), 0);
	/* Another type under that name is. */
	assert_int_equal(anfu_app_register_approvals(&imp), ANFU_EEXIST);
	assert_ptr_equal(anfu_approval_type_find("test_modules_c"), &c_types[0]);
}

/* A handler finds its module's service; another module's or an unknown
 * one gives NULL. */
static void test_a_handler_finds_its_modules_service(void **state)
{
	struct fix *f = *state;
	char err[256] = "";

	assert_null(anfu_api_service(&f->app, &mod_b));
	assert_int_equal(anfu_app_start_modules(&f->app, err, sizeof(err)), 0);
	assert_ptr_equal(anfu_api_service(&f->app, &mod_b), &svc_b);
	assert_ptr_equal(anfu_api_service(&f->app, &mod_c), &svc_c);
	assert_null(anfu_api_service(&f->app, &anfu_iam_module));
	assert_null(anfu_api_service(NULL, &mod_b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_list_has_the_platform_first_then_the_modules),
		cmocka_unit_test(test_tables_and_migrations_follow_the_list),
		cmocka_unit_test(test_routes_are_the_platforms_the_modules_then_the_test_hooks),
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_modules_start_in_list_order_and_stop_in_reverse),
		T(test_a_module_gets_its_own_parsed_options),
		T(test_a_failed_start_names_the_module_and_stops_what_started),
		T(test_a_modules_jobs_are_scheduled_for_its_service),
		T(test_a_modules_approval_types_are_registered_once),
		T(test_a_handler_finds_its_modules_service),
#undef T
	};

	return cmocka_run_group_tests(tests, fixture_group_setup, NULL);
}
