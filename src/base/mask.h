/*
 * base/mask: the one rule set for showing personal data masked
 * (DATA-MASK-01..08). Every output surface (API responses, exports,
 * notifications, logs) masks through these functions and nothing else.
 *
 * Pure functions over {ptr,len}. Each writes a NUL-terminated result into
 * out (cap bytes) and returns 0, ANFU_ELIMIT when out is too small, or
 * ANFU_EINVAL for input that does not have the expected shape (the caller
 * then shows "***" rather than the value). Outputs are written only on
 * success.
 */
#ifndef ANFU_BASE_MASK_H
#define ANFU_BASE_MASK_H

#include <stddef.h>

/* Largest masked output of any rule for inputs within the API limits. */
#define ANFU_MASK_MAX 256

/* Mobile number: "****" + last 4 digits ("13800001050" -> "****1050");
 * a +86/86 prefix is dropped first. DATA-MASK-01. */
int anfu_mask_mobile(const char *s, size_t len, char *out, size_t cap);

/* Landline: area code + "****" + last 3 digits
 * ("0571-87654123" -> "0571-****123"). DATA-MASK-02. */
int anfu_mask_landline(const char *s, size_t len, char *out, size_t cap);

/* Email: local part's first 3 characters (or all, if shorter) + "**",
 * "@", the domain's first character + "**", then the last "." and what
 * follows ("tt@163.com" -> "tt**@1**.com"). DATA-MASK-03. */
int anfu_mask_email(const char *s, size_t len, char *out, size_t cap);

/* Nickname: first and last character (UTF-8 aware) with "**" between
 * ("alice1" -> "a**1"); a one-character name becomes that character +
 * "**". DATA-MASK-04. */
int anfu_mask_nickname(const char *s, size_t len, char *out, size_t cap);

/* Delivery address: only province, city and district/county are kept,
 * i.e. everything up to and including the first 区, 县 or 旗 (or, failing
 * those, the first 市), then "****". DATA-MASK-05. */
int anfu_mask_address(const char *s, size_t len, char *out, size_t cap);

/* Resident ID / ID document number: first and last character, every
 * character between as '*' ("11010519491231002X" -> "1****************X").
 * DATA-MASK-06. */
int anfu_mask_id_number(const char *s, size_t len, char *out, size_t cap);

/* Bank card or payment account number: first 6 and last 4 digits, the
 * rest '*'. DATA-MASK-07. */
int anfu_mask_bank_card(const char *s, size_t len, char *out, size_t cap);

/* Real name: "*" for every character but the last ("张三" -> "*三"). */
int anfu_mask_name(const char *s, size_t len, char *out, size_t cap);

#endif
