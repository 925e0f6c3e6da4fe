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

#endif
