/*
 * base/text: the one rule for names and free text people read — login and
 * display names, real names, reasons and notes given by operators, every
 * string a service stores and shows to people.
 *
 * Text must be well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) and may hold no character of the
 * general categories Cc (controls, C0 and C1, DEL: also TAB, CR and LF),
 * Cf (format characters: soft hyphen, zero-width characters, bidi marks,
 * embeddings, overrides and isolates, the BOM, ...), Zl or Zp (line and
 * paragraph separators). Multi-line text is therefore refused too: names,
 * reasons and notes are one line, shown in one-line lists, summaries,
 * notices and exports. Accepted text is stored and compared in Unicode
 * Normalization Form C, so a composed "é" and "e" + U+0301 are one value.
 *
 * The categories and the normalisation come from libunistring (Debian's
 * Unicode tables); none are written here. Pure functions, thread-safe.
 */
#ifndef ANFU_BASE_TEXT_H
#define ANFU_BASE_TEXT_H

#include <stddef.h>

enum anfu_text_fault {
	ANFU_TEXT_OK = 0,
	ANFU_TEXT_INVALID_UTF8, /* not well-formed UTF-8 */
	ANFU_TEXT_CONTROL,	/* a Cc character */
	ANFU_TEXT_FORMAT,	/* a Cf character */
	ANFU_TEXT_SEPARATOR,	/* U+2028 or U+2029 (Zl, Zp) */
};

/* The first fault of s (len bytes, not NUL-terminated; NULL only with len
 * 0), or ANFU_TEXT_OK. When ret_at is not NULL and there is a fault,
 * *ret_at is the byte offset where it starts. */
enum anfu_text_fault anfu_text_check(const char *s, size_t len, size_t *ret_at);

/* The NFC form of s (len bytes) after anfu_text_check(): *ret is malloc'd,
 * NUL-terminated and owned by the caller (free()), *ret_len its length in
 * bytes. Returns 0, or ANFU_EINVAL with *ret_fault set (ret_fault may be
 * NULL) and nothing else written. Aborts when memory runs out. */
int anfu_text_normalize(const char *s, size_t len, char **ret, size_t *ret_len,
			enum anfu_text_fault *ret_fault);

/* A stable name of a fault for logs and tests ("control", "format", ...). */
const char *anfu_text_fault_name(enum anfu_text_fault f);

#endif
