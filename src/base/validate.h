/*
 * base/validate: format checks for identifiers that arrive from outside.
 *
 * Pure functions over {ptr,len}; none of them allocate. They check shape
 * and check digits only, never whether a number exists.
 */
#ifndef ANFU_BASE_VALIDATE_H
#define ANFU_BASE_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* GB 11643-1999 18-digit resident identity number: digits, a real birth
 * date (1900-01-01 .. 2099-12-31) and the ISO 7064 MOD 11-2 check
 * character (0-9 or X; lower-case x is refused). */
bool anfu_valid_resident_id(const char *s, size_t len);
/* Bank card number: 12 to 19 digits passing the Luhn check. */
bool anfu_valid_bank_card(const char *s, size_t len);
/* Mainland China mobile number: 11 digits, 1[3-9]xxxxxxxxx, optionally
 * prefixed with "+86" or "86". */
bool anfu_valid_mobile_cn(const char *s, size_t len);
/* Normalises a valid mobile number to its 11 digits (out cap >= 12). */
int anfu_mobile_normalize(const char *s, size_t len, char *out, size_t cap);
/* A plain email address: local@domain.tld, ASCII, <= 254 bytes. */
bool anfu_valid_email(const char *s, size_t len);
/* A login username: 3-32 of [A-Za-z0-9._-], starting with a letter. */
bool anfu_valid_username(const char *s, size_t len);
/* Birth date (YYYYMMDD) embedded in a valid resident id. */
int anfu_resident_id_birth(const char *s, size_t len, char out[9]);

#endif
