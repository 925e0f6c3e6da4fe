/*
 * base/err: names of the ANFU_E* codes (for logs and CLI messages).
 */
#include "base/err.h"

const char *anfu_strerror(int err)
{
	switch (err) {
	case ANFU_OK: return "OK";
	case ANFU_EINVAL: return "EINVAL";
	case ANFU_ENOTFOUND: return "ENOTFOUND";
	case ANFU_EEXIST: return "EEXIST";
	case ANFU_ECONFLICT: return "ECONFLICT";
	case ANFU_ELIMIT: return "ELIMIT";
	case ANFU_EIO: return "EIO";
	case ANFU_EBUSY: return "EBUSY";
	case ANFU_ECRYPTO: return "ECRYPTO";
	case ANFU_EAUDIT: return "EAUDIT";
	case ANFU_EPERM: return "EPERM";
	case ANFU_EAUTH: return "EAUTH";
	case ANFU_ESCHEMA: return "ESCHEMA";
	case ANFU_ECORRUPT: return "ECORRUPT";
	case ANFU_EFULL: return "EFULL";
	case ANFU_ERANGE: return "ERANGE";
	case ANFU_ELOCKED: return "ELOCKED";
	case ANFU_EEXPIRED: return "EEXPIRED";
	case ANFU_ERATE: return "ERATE";
	case ANFU_EOVERLOAD: return "EOVERLOAD";
	case ANFU_EINTERNAL: return "EINTERNAL";
	case ANFU_ETIMEDOUT: return "ETIMEDOUT";
	default: return "EUNKNOWN";
	}
}
