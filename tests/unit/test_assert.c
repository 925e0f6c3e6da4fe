/*
 * tests/unit/test_assert: ANFU_ASSERT (base/assert.h) and the invariants
 * the platform asserts.
 *
 * A failed assertion aborts the process, so each case that must fail runs
 * in a forked child with its stderr (where the application log goes when
 * no log file is open) in a temporary file; the parent checks that the
 * child died of SIGABRT and that it wrote exactly one log line, the
 * "assert.failed" error naming the expression and where it is.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/assert.h"
#include "tx/internal.h"

/* What a child run of fn left: its wait status and its stderr. */
struct child {
	int status;
	char out[4096];
};

static void run_child(void (*fn)(void), struct child *ret)
{
	FILE *f = tmpfile();
	pid_t pid;
	size_t n;

	assert_non_null(f);
	(void)fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &no_core);
		(void)dup2(fileno(f), STDERR_FILENO);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &ret->status, 0), pid);
	rewind(f);
	n = fread(ret->out, 1, sizeof(ret->out) - 1, f);
	ret->out[n] = '\0';
	(void)fclose(f);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The child aborted and logged one "assert.failed" line naming expr. */
static void assert_aborted_with(const struct child *c, const char *expr, const char *func)
{
	assert_true(WIFSIGNALED(c->status));
	assert_int_equal(WTERMSIG(c->status), SIGABRT);
	assert_int_equal(count_lines(c->out), 1);
	assert_non_null(strstr(c->out, "\"level\":\"error\""));
	assert_non_null(strstr(c->out, "\"event\":\"assert.failed\""));
	assert_non_null(strstr(c->out, expr));
	assert_non_null(strstr(c->out, func));
}

static volatile int one = 1;

static void fails(void)
{
	ANFU_ASSERT(one == 2);
}

static void test_a_false_assertion_aborts_with_one_log_line(void **state)
{
	struct child c;

	(void)state;
	run_child(fails, &c);
	assert_aborted_with(&c, "one == 2", "fails");
	assert_non_null(strstr(c.out, "test_assert.c:"));
}

static void holds(void)
{
	int evaluated = 0;

	ANFU_ASSERT(++evaluated == 1);
	if (evaluated != 1)
		_exit(3);
}

static void test_a_true_assertion_goes_on_and_evaluates_once(void **state)
{
	struct child c;

	(void)state;
	run_child(holds, &c);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 0);
	assert_string_equal(c.out, "");
}

/* The executor runs a transaction's hooks only after its commit
 * (tx/exec.c): hooks of a transaction that did not commit abort. */
static void hook(void *ud)
{
	(void)ud;
	_exit(4);
}

static void hooks_without_commit(void)
{
	struct tx_hook h = { hook, NULL };
	struct anfu_tx tx = { .hooks = &h, .nhooks = 1, .caphooks = 1 };

	tx_run_hooks(&tx);
}

static void test_hooks_of_an_uncommitted_transaction_abort(void **state)
{
	struct child c;

	(void)state;
	run_child(hooks_without_commit, &c);
	assert_aborted_with(&c, "tx->committed", "tx_run_hooks");
}

static void hooks_after_commit(void)
{
	struct tx_hook h = { hook, NULL };
	struct anfu_tx tx = { .hooks = &h, .nhooks = 1, .caphooks = 1, .committed = true };

	tx_run_hooks(&tx);
}

static void test_hooks_of_a_committed_transaction_run(void **state)
{
	struct child c;

	(void)state;
	run_child(hooks_after_commit, &c);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_false_assertion_aborts_with_one_log_line),
		cmocka_unit_test(test_a_true_assertion_goes_on_and_evaluates_once),
		cmocka_unit_test(test_hooks_of_an_uncommitted_transaction_abort),
		cmocka_unit_test(test_hooks_of_a_committed_transaction_run),
	};

	return cmocka_run_group_tests_name("assert", tests, NULL, NULL);
}
