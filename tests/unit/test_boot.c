/*
 * Unit tests of opening a data directory (app/open.c): the refusal of
 * simulator gateways that anfud of a production build asks for
 * (ANFU_APP_REFUSE_SIMULATORS), and the list of simulators the
 * configuration names.
 *
 * Each test writes only an anfu.conf into a fresh directory: a refusal must
 * come before keys, database or audit log are looked at, and a start that
 * passes the check fails next on the missing keys, which the message says.
 * Trusts config/ for parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/app.h"
#include "base/err.h"
#include "config/config.h"

struct fx {
	char dir[64];
	char conf[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/anfu-boot-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	(void)snprintf(f->conf, sizeof(f->conf), "%s/anfu.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	(void)unlink(f->conf);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static void write_conf(const struct fx *f, const char *text)
{
	FILE *fp = fopen(f->conf, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

/* Opens f's directory with flags; returns the result and the message. */
static int open_dir(const struct fx *f, unsigned flags, char *err, size_t cap)
{
	struct anfu_app *b = NULL;
	int r;

	err[0] = '\0';
	r = anfu_app_open(f->dir, NULL, flags, &b, err, cap);
	assert_null(b);
	return r;
}

/* Entries of f's directory besides anfu.conf. */
static int other_files(const struct fx *f)
{
	char path[192];
	struct stat st;
	static const char *const names[] = { "anfu.db", "keys", "log", "audit", "run", "notify" };
	int n = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		if (stat(path, &st) == 0)
			n++;
	}
	return n;
}

/* req: SDLC-04, DATA-ENC-03 */
static void test_simulator_refused_when_asked_and_not_allowed(void **state)
{
	struct fx *f = *state;
	char err[1024];

	write_conf(f, "[server]\nlevel = basic\n");
	assert_int_equal(
		open_dir(f, ANFU_APP_REFUSE_SIMULATORS | ANFU_APP_MIGRATE, err, sizeof(err)),
		ANFU_EPERM);
	assert_non_null(strstr(err, "refusing to start: sms.gateway = simulator"));
	assert_non_null(strstr(err, "set `allow_simulators = true` under [server] in "));
	assert_non_null(strstr(err, f->conf));
	assert_int_equal(other_files(f), 0);
}

/* req: SDLC-04 */
static void test_simulator_passes_when_allowed(void **state)
{
	struct fx *f = *state;
	char err[1024];

	write_conf(f, "[server]\nallow_simulators = true\n");
	assert_int_not_equal(open_dir(f, ANFU_APP_REFUSE_SIMULATORS, err, sizeof(err)), 0);
	assert_null(strstr(err, "refusing"));
	assert_non_null(strstr(err, "cannot load keys"));
}

/* Test-hooks builds of anfud and the CLI do not ask for the check. */
static void test_simulator_passes_without_the_flag(void **state)
{
	struct fx *f = *state;
	char err[1024];

	write_conf(f, "[server]\nlevel = basic\n");
	assert_int_not_equal(open_dir(f, 0, err, sizeof(err)), 0);
	assert_null(strstr(err, "refusing"));
	assert_non_null(strstr(err, "cannot load keys"));
}

/* req: SDLC-04 */
static void test_simulators_are_listed(void **state)
{
	struct anfu_config *c = NULL;
	const char *names[2] = { NULL, NULL };

	(void)state;
	assert_int_equal(anfu_config_defaults("/tmp", NULL, 0, &c), 0);
	assert_int_equal(anfu_config_simulators(c, names, 2), 1);
	assert_string_equal(names[0], "sms.gateway");
	assert_null(names[1]);
	assert_int_equal(anfu_config_simulators(c, NULL, 0), 1);
	anfu_config_free(c);
	assert_int_equal(anfu_config_simulators(NULL, names, 2), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_simulator_refused_when_asked_and_not_allowed),
		T(test_simulator_passes_when_allowed),
		T(test_simulator_passes_without_the_flag),
		cmocka_unit_test(test_simulators_are_listed),
	};

	return cmocka_run_group_tests_name("boot", tests, NULL, NULL);
}
