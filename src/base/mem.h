/*
 * base/mem: allocation that aborts on real out-of-memory, and wiping.
 *
 * Out of memory is not an error anfu recovers from (STYLE.md); hitting a
 * configured limit is, and goes through the arena or buffer caps instead.
 */
#ifndef ANFU_BASE_MEM_H
#define ANFU_BASE_MEM_H

#include <stddef.h>

/* malloc/calloc/realloc/strdup/strndup that abort() on failure. */
void *anfu_xmalloc(size_t n);
void *anfu_xcalloc(size_t nmemb, size_t size);
void *anfu_xrealloc(void *p, size_t n);
char *anfu_xstrdup(const char *s);
char *anfu_xstrndup(const char *s, size_t n);

/* Overwrites n bytes at p with zeros in a way the compiler cannot drop. */
void anfu_wipe(void *p, size_t n);

/* Wipes then frees a NUL-terminated secret string; NULL is accepted. */
void anfu_free_secret(char *s);

#endif
