/*
 * base/mem: allocation that aborts on real out-of-memory, and wiping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

static void oom(size_t n)
{
	/* No allocation, no logging machinery: just say why and stop. */
	fprintf(stderr, "anfu: out of memory allocating %zu bytes\n", n);
	abort();
}

void *anfu_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *anfu_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *anfu_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *anfu_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom(strlen(s) + 1);
	return p;
}

char *anfu_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom(n + 1);
	return p;
}

void anfu_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

void anfu_free_secret(char *s)
{
	if (!s)
		return;
	anfu_wipe(s, strlen(s));
	free(s);
}
