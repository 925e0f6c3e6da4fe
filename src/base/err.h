/*
 * base/err: the error codes every anfu function returns.
 *
 * Functions return 0 on success or one of the negative ANFU_E* codes below.
 * The HTTP layer maps each code to a status and a stable error string in one
 * table (http/errors.c); nothing else decides statuses.
 */
#ifndef ANFU_BASE_ERR_H
#define ANFU_BASE_ERR_H

enum anfu_err {
	ANFU_OK = 0,
	ANFU_EINVAL = -1,     /* bad input or argument */
	ANFU_ENOTFOUND = -2,  /* no such object */
	ANFU_EEXIST = -3,     /* object already exists (unique key) */
	ANFU_ECONFLICT = -4,  /* the object's state does not allow it */
	ANFU_ELIMIT = -5,     /* a configured size or count limit was hit */
	ANFU_EIO = -6,	      /* file or database input/output failed */
	ANFU_EBUSY = -7,      /* database busy or resource exhausted */
	ANFU_ECRYPTO = -8,    /* a cryptographic operation or check failed */
	ANFU_EAUDIT = -9,     /* the audit record could not be written */
	ANFU_EPERM = -10,     /* authenticated but not allowed */
	ANFU_EAUTH = -11,     /* not authenticated */
	ANFU_ESCHEMA = -12,   /* database schema unknown or newer than us */
	ANFU_ECORRUPT = -13,  /* integrity check failed (chain, MAC, format) */
	ANFU_EFULL = -14,     /* storage full */
	ANFU_ERANGE = -15,    /* arithmetic overflow or value out of range */
	ANFU_ELOCKED = -16,   /* account or capability locked */
	ANFU_EEXPIRED = -17,  /* code, session or credential expired */
	ANFU_ERATE = -18,     /* rate limit exceeded */
	ANFU_EOVERLOAD = -19, /* too much concurrent work; try again */
	ANFU_EINTERNAL = -20, /* a bug or an unexpected library failure */
	ANFU_ETIMEDOUT = -21, /* a deadline passed before the work was taken */
};

/* Returns a short, static, English name for an error code ("EINVAL"...). */
const char *anfu_strerror(int err);

#endif
