/*
 * base/profile: the two configuration profiles every module may consult.
 */
#ifndef ANFU_BASE_PROFILE_H
#define ANFU_BASE_PROFILE_H

/* Security level (003 §3, 004 basic/enhanced requirements). */
enum anfu_level {
	ANFU_LEVEL_BASIC = 0,
	ANFU_LEVEL_ENHANCED = 1,
};

/* Cryptographic profile: intl = Ed25519, SHA-256, AES-256-GCM;
 * gm = SM2, SM3, SM4-GCM (GM/T 0002-0004). */
enum anfu_crypto_profile {
	ANFU_CRYPTO_INTL = 0,
	ANFU_CRYPTO_GM = 1,
};

/* Role class: the population a password, lockout and session policy applies
 * to (requirements C4-C7). Staff holding a privileged role are "admin". */
enum anfu_role_class {
	ANFU_CLASS_CUSTOMER = 0,
	ANFU_CLASS_MERCHANT = 1,
	ANFU_CLASS_OPERATOR = 2,
	ANFU_CLASS_ADMIN = 3,
};

#define ANFU_CLASS_COUNT 4

#endif
