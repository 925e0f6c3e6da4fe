/*
 * iam/dict: the compiled password word table (private to iam/pwpolicy.c).
 *
 * scripts/embed_dict.py generates the definition (dict_gen.c in the build
 * directory) from the lists in share/dict/: every entry lower-case
 * printable ASCII, deduplicated, sorted by byte value (strcmp order) so
 * that the words sharing a prefix form one contiguous range. Trusted as
 * generated.
 */
#ifndef ANFU_IAM_DICT_H
#define ANFU_IAM_DICT_H

#include <stddef.h>

/* Which lists an entry came from (an entry in several has both bits). */
#define ANFU_DICT_COMMON 0x01u /* share/dict/common-passwords.txt */
#define ANFU_DICT_WORD 0x02u   /* english.txt, pinyin.txt */

struct anfu_dict_word {
	const char *word;    /* NUL-terminated, lower-case ASCII */
	unsigned char len;   /* strlen(word), 1..ANFU_DICT_WORD_MAX */
	unsigned char flags; /* ANFU_DICT_* */
};

/* Longest entry the generator accepts. */
#define ANFU_DICT_WORD_MAX 64

extern const struct anfu_dict_word anfu_dict_words[];
extern const size_t anfu_dict_count;

#endif
