/*
 * Unit tests for base/arena: the per-request allocation arena with a cap.
 *
 * Trusts only base/arena.h. Hitting the cap is an ordinary ANFU_ELIMIT
 * (the client sees 413); a refused allocation must hand out nothing and
 * leave both the out-parameter and the used count as they were.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdalign.h>
#include <string.h>

#include <cmocka.h>

#include "base/arena.h"
#include "base/err.h"

#define ALIGN alignof(max_align_t)

static void *const SENTINEL_PTR = (void *)(uintptr_t)0x5a5a5a50;

static void test_arena_alloc_returns_zeroed_memory(void **state)
{
	struct anfu_arena *a = anfu_arena_new(1 << 20);
	static const size_t sizes[] = { 1, 7, 64, 1000, 4096, 5000, 70000 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = NULL;

		assert_int_equal(anfu_arena_alloc(a, sizes[i], (void **)&p), 0);
		for (size_t j = 0; j < sizes[i]; j++)
			if (p[j] != 0)
				fail_msg("size %zu: byte %zu not zero", sizes[i], j);
		/* Dirty it, so a later allocation that reused it would show. */
		memset(p, 0xa5, sizes[i]);
	}
	anfu_arena_free(a);
}

static void test_arena_alloc_is_max_aligned(void **state)
{
	struct anfu_arena *a = anfu_arena_new(1 << 20);
	static const size_t sizes[] = { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 100, 4095, 5000, 3 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		void *p = NULL;

		assert_int_equal(anfu_arena_alloc(a, sizes[i], &p), 0);
		if ((uintptr_t)p % ALIGN != 0)
			fail_msg("size %zu: %p not aligned to %zu", sizes[i], p, (size_t)ALIGN);
	}
	anfu_arena_free(a);
}

/* Allocations never overlap, including a big one that gets a block of its
 * own between small ones. */
static void test_arena_allocations_do_not_overlap(void **state)
{
	struct anfu_arena *a = anfu_arena_new(1 << 20);
	static const size_t sizes[] = { 16, 10000, 16, 4096, 1, 9000, 33 };
	unsigned char *p[sizeof(sizes) / sizeof(sizes[0])];
	const size_t n = sizeof(sizes) / sizeof(sizes[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(anfu_arena_alloc(a, sizes[i], (void **)&p[i]), 0);
		memset(p[i], (int)(i + 1), sizes[i]);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sizes[i]; j++)
			if (p[i][j] != (unsigned char)(i + 1))
				fail_msg("allocation %zu byte %zu overwritten", i, j);
	anfu_arena_free(a);
}

/* req: WEB-DOS-01 (request memory is capped) */
static void test_arena_cap_refuses_and_hands_out_nothing(void **state)
{
	struct anfu_arena *a = anfu_arena_new(4 * ALIGN);
	void *p = NULL;

	(void)state;
	assert_int_equal(anfu_arena_alloc(a, 4 * ALIGN, &p), 0);
	assert_non_null(p);
	assert_int_equal(anfu_arena_used(a), 4 * ALIGN);
	p = SENTINEL_PTR;
	assert_int_equal(anfu_arena_alloc(a, 1, &p), ANFU_ELIMIT);
	assert_ptr_equal(p, SENTINEL_PTR);
	assert_int_equal(anfu_arena_used(a), 4 * ALIGN);
	anfu_arena_free(a);
}

/* Bytes used never exceed the cap, whatever the request sizes.
 * req: WEB-DOS-01 */
static void test_arena_used_never_exceeds_cap(void **state)
{
	static const size_t caps[] = { 0, 1, ALIGN - 1, ALIGN, 100, 4096, 4097, 10000 };
	static const size_t sizes[] = { 1, 5, 16, 17, 100, 3000 };

	(void)state;
	for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct anfu_arena *a = anfu_arena_new(caps[c]);
			void *p;
			int r, count = 0;

			while ((r = anfu_arena_alloc(a, sizes[s], &p)) == 0)
				count++;
			assert_int_equal(r, ANFU_ELIMIT);
			if (anfu_arena_used(a) > caps[c])
				fail_msg("cap %zu size %zu: used %zu", caps[c], sizes[s],
					 anfu_arena_used(a));
			if ((size_t)count * sizes[s] > caps[c])
				fail_msg("cap %zu size %zu: %d handed out", caps[c], sizes[s],
					 count);
			anfu_arena_free(a);
		}
	}
}

/* req: WEB-DOS-01, SDLC-08 */
static void test_arena_refuses_size_overflow(void **state)
{
	struct anfu_arena *a = anfu_arena_new(SIZE_MAX);
	void *p = SENTINEL_PTR;
	char *s = SENTINEL_PTR;

	(void)state;
	assert_int_equal(anfu_arena_alloc(a, SIZE_MAX, &p), ANFU_ELIMIT);
	assert_int_equal(anfu_arena_alloc(a, SIZE_MAX - ALIGN + 2, &p), ANFU_ELIMIT);
	assert_ptr_equal(p, SENTINEL_PTR);
	assert_int_equal(anfu_arena_strndup(a, "x", SIZE_MAX, &s), ANFU_ELIMIT);
	assert_ptr_equal(s, SENTINEL_PTR);
	assert_int_equal(anfu_arena_used(a), 0);
	anfu_arena_free(a);
}

static void test_arena_strndup_copies_and_terminates(void **state)
{
	struct anfu_arena *a = anfu_arena_new(4096);
	char *s = NULL;

	(void)state;
	/* The source is not terminated after n bytes. */
	assert_int_equal(anfu_arena_strndup(a, "abcdef", 3, &s), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(anfu_arena_strndup(a, "x\0y", 3, &s), 0);
	assert_memory_equal(s, "x\0y\0", 4);
	assert_int_equal(anfu_arena_strndup(a, "", 0, &s), 0);
	assert_string_equal(s, "");
	assert_int_equal(anfu_arena_strndup(a, NULL, 0, &s), 0);
	assert_string_equal(s, "");
	anfu_arena_free(a);
}

/* req: WEB-DOS-01 */
static void test_arena_strndup_over_cap_is_refused(void **state)
{
	struct anfu_arena *a = anfu_arena_new(ALIGN);
	char src[2 * ALIGN];
	char *s = SENTINEL_PTR;

	(void)state;
	memset(src, 'x', sizeof(src));
	/* ALIGN bytes plus the terminator do not fit in ALIGN. */
	assert_int_equal(anfu_arena_strndup(a, src, ALIGN, &s), ANFU_ELIMIT);
	assert_ptr_equal(s, SENTINEL_PTR);
	assert_int_equal(anfu_arena_used(a), 0);
	assert_int_equal(anfu_arena_strndup(a, src, ALIGN - 1, &s), 0);
	assert_int_equal(strlen(s), ALIGN - 1);
	anfu_arena_free(a);
}

static void test_arena_used_counts_rounded_bytes(void **state)
{
	struct anfu_arena *a = anfu_arena_new(1 << 16);
	void *p;

	(void)state;
	assert_int_equal(anfu_arena_used(a), 0);
	assert_int_equal(anfu_arena_alloc(a, 1, &p), 0);
	assert_int_equal(anfu_arena_used(a), ALIGN);
	assert_int_equal(anfu_arena_alloc(a, ALIGN + 1, &p), 0);
	assert_int_equal(anfu_arena_used(a), 3 * ALIGN);
	anfu_arena_free(a);
}

static void test_arena_free_is_null_safe(void **state)
{
	(void)state;
	anfu_arena_free(NULL);
	anfu_arena_free(anfu_arena_new(100)); /* never used */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_alloc_returns_zeroed_memory),
		cmocka_unit_test(test_arena_alloc_is_max_aligned),
		cmocka_unit_test(test_arena_allocations_do_not_overlap),
		cmocka_unit_test(test_arena_cap_refuses_and_hands_out_nothing),
		cmocka_unit_test(test_arena_used_never_exceeds_cap),
		cmocka_unit_test(test_arena_refuses_size_overflow),
		cmocka_unit_test(test_arena_strndup_copies_and_terminates),
		cmocka_unit_test(test_arena_strndup_over_cap_is_refused),
		cmocka_unit_test(test_arena_used_counts_rounded_bytes),
		cmocka_unit_test(test_arena_free_is_null_safe),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
