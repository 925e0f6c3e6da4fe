/*
 * Unit tests for crypto/: published test vectors for every primitive, the
 * failure paths (tampered tags, modified messages and signatures, wrong
 * passwords) and the strictness of the text encodings.
 *
 * The certificate test reads the generated certificate back with OpenSSL
 * directly, so that its profile is checked independently of crypto/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/rand.h"
#include "crypto/crypto.h"

/* Decodes hex of either case (test vectors are printed both ways). */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[256];
	size_t n = unhex(want_hex, want, sizeof(want));

	assert_int_equal(n, len);
	assert_memory_equal(got, want, len);
}

static int setup(void **state)
{
	(void)state;
	return anfu_crypto_init() == 0 ? 0 : -1;
}

/* ---- hashes ---------------------------------------------------------- */

/* req: DATA-TX-03 */
static void test_sha256_fips180_abc(void **state)
{
	uint8_t out[ANFU_HASH_LEN];

	(void)state;
	assert_int_equal(anfu_hash(ANFU_HASH_SHA256, "abc", 3, out), 0);
	assert_hex(out, sizeof(out),
		   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* req: DATA-TX-03 */
static void test_sha256_fips180_448_bit_message(void **state)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t out[ANFU_HASH_LEN];

	(void)state;
	assert_int_equal(anfu_hash(ANFU_HASH_SHA256, m, strlen(m), out), 0);
	assert_hex(out, sizeof(out),
		   "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* req: DATA-TX-07 */
static void test_sm3_gbt32905_abc(void **state)
{
	uint8_t out[ANFU_HASH_LEN];

	(void)state;
	assert_int_equal(anfu_hash(ANFU_HASH_SM3, "abc", 3, out), 0);
	assert_hex(out, sizeof(out),
		   "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

/* req: DATA-TX-07 */
static void test_sm3_gbt32905_512_bit_message(void **state)
{
	char m[65] = "";
	uint8_t out[ANFU_HASH_LEN];

	(void)state;
	for (int i = 0; i < 16; i++)
		memcpy(m + 4 * i, "abcd", 4);
	assert_int_equal(anfu_hash(ANFU_HASH_SM3, m, 64, out), 0);
	assert_hex(out, sizeof(out),
		   "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

static void test_hash_incremental_equals_one_shot(void **state)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	enum anfu_hash_alg algs[] = { ANFU_HASH_SHA256, ANFU_HASH_SM3 };

	(void)state;
	for (size_t a = 0; a < 2; a++) {
		struct anfu_hash_ctx *c = NULL;
		uint8_t one[ANFU_HASH_LEN], inc[ANFU_HASH_LEN];

		assert_int_equal(anfu_hash(algs[a], m, strlen(m), one), 0);
		assert_int_equal(anfu_hash_begin(algs[a], &c), 0);
		assert_int_equal(anfu_hash_update(c, m, 7), 0);
		assert_int_equal(anfu_hash_update(c, m + 7, 0), 0);
		assert_int_equal(anfu_hash_update(c, m + 7, strlen(m) - 7), 0);
		assert_int_equal(anfu_hash_final(c, inc), 0);
		assert_memory_equal(one, inc, sizeof(one));
	}
}

static void test_hash_names_round_trip_and_unknown_rejected(void **state)
{
	enum anfu_hash_alg h = ANFU_HASH_SM3;
	enum anfu_sig_alg s = ANFU_SIG_SM2;

	(void)state;
	assert_string_equal(anfu_hash_name(ANFU_HASH_SHA256), "sha256");
	assert_string_equal(anfu_hash_name(ANFU_HASH_SM3), "sm3");
	assert_int_equal(anfu_hash_from_name("sha256", &h), 0);
	assert_int_equal(h, ANFU_HASH_SHA256);
	assert_int_equal(anfu_hash_from_name("SHA256", &h), ANFU_EINVAL);
	assert_int_equal(anfu_hash_from_name("md5", &h), ANFU_EINVAL);
	assert_int_equal(h, ANFU_HASH_SHA256);
	assert_int_equal(anfu_sig_from_name("ed25519", &s), 0);
	assert_int_equal(s, ANFU_SIG_ED25519);
	assert_int_equal(anfu_sig_from_name("rsa", &s), ANFU_EINVAL);
	assert_string_equal(anfu_sig_name(ANFU_SIG_SM2), "sm2");
	assert_string_equal(anfu_aead_name(ANFU_AEAD_SM4GCM), "sm4-gcm");
	assert_int_equal(anfu_aead_key_len(ANFU_AEAD_AES256GCM), 32);
	assert_int_equal(anfu_aead_key_len(ANFU_AEAD_SM4GCM), 16);
}

/* ---- HMAC and HKDF ------------------------------------------------------ */

static void test_hmac_sha256_rfc4231_case1(void **state)
{
	uint8_t key[20], out[ANFU_HASH_LEN];

	(void)state;
	memset(key, 0x0b, sizeof(key));
	assert_int_equal(anfu_hmac(ANFU_HASH_SHA256, key, sizeof(key), "Hi There", 8, out), 0);
	assert_hex(out, sizeof(out),
		   "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

static void test_hmac_sha256_rfc4231_case2(void **state)
{
	const char *data = "what do ya want for nothing?";
	uint8_t out[ANFU_HASH_LEN];

	(void)state;
	assert_int_equal(anfu_hmac(ANFU_HASH_SHA256, "Jefe", 4, data, strlen(data), out), 0);
	assert_hex(out, sizeof(out),
		   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

/* HMAC-SM3 has no RFC vector: check it against RFC 2104 built by hand from
 * the (vector-tested) SM3. req: DATA-TX-07 */
static void test_hmac_sm3_matches_rfc2104_construction(void **state)
{
	const char *key = "anfu hmac-sm3 test key", *msg = "message";
	uint8_t block[64] = { 0 }, pad[64], inner[ANFU_HASH_LEN], want[ANFU_HASH_LEN];
	uint8_t got[ANFU_HASH_LEN];
	struct anfu_hash_ctx *c = NULL;

	(void)state;
	memcpy(block, key, strlen(key));
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	assert_int_equal(anfu_hash_begin(ANFU_HASH_SM3, &c), 0);
	assert_int_equal(anfu_hash_update(c, pad, 64), 0);
	assert_int_equal(anfu_hash_update(c, msg, strlen(msg)), 0);
	assert_int_equal(anfu_hash_final(c, inner), 0);
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	assert_int_equal(anfu_hash_begin(ANFU_HASH_SM3, &c), 0);
	assert_int_equal(anfu_hash_update(c, pad, 64), 0);
	assert_int_equal(anfu_hash_update(c, inner, sizeof(inner)), 0);
	assert_int_equal(anfu_hash_final(c, want), 0);
	assert_int_equal(anfu_hmac(ANFU_HASH_SM3, key, strlen(key), msg, strlen(msg), got), 0);
	assert_memory_equal(got, want, sizeof(got));
}

static void test_hkdf_sha256_rfc5869_case1(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	assert_int_equal(anfu_hkdf(ANFU_HASH_SHA256, ikm, sizeof(ikm), salt, sizeof(salt), info,
				   sizeof(info), okm, sizeof(okm)),
			 0);
	assert_hex(okm, sizeof(okm),
		   "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c"
		   "5db02d56ecc4c5bf34007208d5b887185865");
}

static void test_hkdf_rejects_output_longer_than_255_blocks(void **state)
{
	static uint8_t out[255 * ANFU_HASH_LEN + 1];

	(void)state;
	assert_int_equal(anfu_hkdf(ANFU_HASH_SHA256, "k", 1, NULL, 0, NULL, 0, out, sizeof(out)),
			 ANFU_EINVAL);
	assert_int_equal(
		anfu_hkdf(ANFU_HASH_SHA256, "k", 1, NULL, 0, NULL, 0, out, sizeof(out) - 1), 0);
}

/* ---- signatures ------------------------------------------------------- */

/* PEM of a DER blob made of a fixed header followed by 32 raw key bytes. */
static char *pem_from_raw(const char *label, const char *der_header_hex, const char *raw_hex,
			  const char *preamble)
{
	uint8_t der[128];
	size_t n = unhex(der_header_hex, der, sizeof(der));
	char *b64, *pem;
	size_t cap;

	n += unhex(raw_hex, der + n, sizeof(der) - n);
	b64 = anfu_base64_encode(der, n);
	cap = strlen(b64) + strlen(preamble) + 2 * strlen(label) + 64;
	pem = malloc(cap);
	assert_non_null(pem);
	snprintf(pem, cap, "%s-----BEGIN %s-----\n%s\n-----END %s-----\n", preamble, label, b64,
		 label);
	free(b64);
	return pem;
}

#define ED25519_PKCS8_HEADER "302e020100300506032b657004220420"
#define ED25519_SPKI_HEADER "302a300506032b6570032100"

struct ed25519_vector {
	const char *seed, *pub, *msg, *sig;
};

static const struct ed25519_vector rfc8032[] = {
	{ "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
};

static void check_ed25519_vector(const struct ed25519_vector *v)
{
	char *priv_pem = pem_from_raw("PRIVATE KEY", ED25519_PKCS8_HEADER, v->seed,
				      "# anfu-key id=test alg=ed25519\n");
	char *pub_pem = pem_from_raw("PUBLIC KEY", ED25519_SPKI_HEADER, v->pub, "");
	struct anfu_sigkey *priv = NULL, *pub = NULL;
	uint8_t msg[8], sig[ANFU_SIG_MAX];
	size_t msglen = unhex(v->msg, msg, sizeof(msg)), siglen = sizeof(sig);

	assert_int_equal(anfu_sigkey_from_pem(priv_pem, strlen(priv_pem), &priv), 0);
	assert_int_equal(anfu_sigkey_from_pem(pub_pem, strlen(pub_pem), &pub), 0);
	assert_int_equal(anfu_sigkey_alg(priv), ANFU_SIG_ED25519);
	assert_true(anfu_sigkey_has_private(priv));
	assert_false(anfu_sigkey_has_private(pub));
	assert_int_equal(anfu_sign(priv, msg, msglen, sig, &siglen), 0);
	assert_int_equal(siglen, 64);
	assert_hex(sig, siglen, v->sig);
	assert_int_equal(anfu_verify(pub, msg, msglen, sig, siglen), 0);
	anfu_sigkey_free(priv);
	anfu_sigkey_free(pub);
	free(priv_pem);
	free(pub_pem);
}

/* req: AUD-STO-02 */
static void test_ed25519_rfc8032_test1(void **state)
{
	(void)state;
	check_ed25519_vector(&rfc8032[0]);
}

/* req: AUD-STO-02 */
static void test_ed25519_rfc8032_test2(void **state)
{
	(void)state;
	check_ed25519_vector(&rfc8032[1]);
}

static void test_fingerprint_is_sha256_of_spki_der(void **state)
{
	char *pub_pem = pem_from_raw("PUBLIC KEY", ED25519_SPKI_HEADER, rfc8032[0].pub, "");
	struct anfu_sigkey *pub = NULL;
	uint8_t der[64], want[ANFU_HASH_LEN], got[ANFU_HASH_LEN];
	size_t n;

	(void)state;
	n = unhex(ED25519_SPKI_HEADER, der, sizeof(der));
	n += unhex(rfc8032[0].pub, der + n, sizeof(der) - n);
	assert_int_equal(anfu_hash(ANFU_HASH_SHA256, der, n, want), 0);
	assert_int_equal(anfu_sigkey_from_pem(pub_pem, strlen(pub_pem), &pub), 0);
	assert_int_equal(anfu_sigkey_fingerprint(pub, got), 0);
	assert_memory_equal(got, want, sizeof(got));
	anfu_sigkey_free(pub);
	free(pub_pem);
}

static void test_ed25519_rejects_modified_message(void **state)
{
	struct anfu_sigkey *k = NULL;
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);

	(void)state;
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_ED25519, &k), 0);
	assert_int_equal(anfu_sign(k, "checkpoint 1", 12, sig, &siglen), 0);
	assert_int_equal(anfu_verify(k, "checkpoint 1", 12, sig, siglen), 0);
	assert_int_equal(anfu_verify(k, "checkpoint 2", 12, sig, siglen), ANFU_ECRYPTO);
	anfu_sigkey_free(k);
}

/* req: DATA-TX-07, DATA-TX-03 */
static void test_sm2_sign_verify_round_trip(void **state)
{
	struct anfu_sigkey *k = NULL;
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);

	(void)state;
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_SM2, &k), 0);
	assert_int_equal(anfu_sigkey_alg(k), ANFU_SIG_SM2);
	assert_int_equal(anfu_sign(k, "abc", 3, sig, &siglen), 0);
	assert_true(siglen > 0 && siglen <= 72);
	assert_int_equal(anfu_verify(k, "abc", 3, sig, siglen), 0);
	anfu_sigkey_free(k);
}

/* req: DATA-TX-07 */
static void test_sm2_rejects_modified_message(void **state)
{
	struct anfu_sigkey *k = NULL;
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);

	(void)state;
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_SM2, &k), 0);
	assert_int_equal(anfu_sign(k, "amount=100", 10, sig, &siglen), 0);
	assert_int_equal(anfu_verify(k, "amount=900", 10, sig, siglen), ANFU_ECRYPTO);
	anfu_sigkey_free(k);
}

/* req: DATA-TX-07 */
static void test_sm2_rejects_modified_signature(void **state)
{
	struct anfu_sigkey *k = NULL;
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = sizeof(sig);

	(void)state;
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_SM2, &k), 0);
	assert_int_equal(anfu_sign(k, "abc", 3, sig, &siglen), 0);
	sig[siglen - 5] ^= 0x01;
	assert_int_equal(anfu_verify(k, "abc", 3, sig, siglen), ANFU_ECRYPTO);
	sig[siglen - 5] ^= 0x01;
	assert_int_equal(anfu_verify(k, "abc", 3, sig, siglen - 1), ANFU_ECRYPTO);
	anfu_sigkey_free(k);
}

/* A signature made outside anfu, by the OpenSSL command line as docs/audit.md
 * describes (SM3 digest, distinguishing id 1234567812345678):
 *   openssl pkeyutl -sign -inkey key.pem -rawin -digest sm3 \
 *       -pkeyopt distid:1234567812345678 -in abc.txt
 * verifies, and one byte of the message changed does not. A round trip
 * alone would pass with any id or digest, as long as signing and verifying
 * agreed; auditors' tools would not. req: DATA-TX-07, AUD-STO-02 */
static void test_sm2_verifies_a_signature_made_by_openssl(void **state)
{
	static const char pem[] =
		"-----BEGIN PUBLIC KEY-----\n"
		"MFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAEv5fgcSWCu3xvRop1ehUW20BqajXk\n"
		"/+H8Y0G1W5uX4sxH5uRQe2y5LSsRgxIMpQtU6qiRCocd55vrVi0bm7KIoQ==\n"
		"-----END PUBLIC KEY-----\n";
	static const char sig_hex[] =
		"3046022100cb1191cba418a3beed9b3591aac73a5ca26079ec8e19e209801eab3e1347ab87"
		"022100f5659d5b511e6cb0852613c06dd6a42e6d21beaaddb8383cb8faa73ab7af14cc";
	struct anfu_sigkey *k = NULL;
	uint8_t sig[72];

	(void)state;
	assert_int_equal(anfu_hex_decode(sig_hex, strlen(sig_hex), sig, sizeof(sig)), 0);
	assert_int_equal(anfu_sigkey_from_pem(pem, strlen(pem), &k), 0);
	assert_int_equal(anfu_sigkey_alg(k), ANFU_SIG_SM2);
	assert_int_equal(anfu_verify(k, "abc", 3, sig, sizeof(sig)), 0);
	assert_int_equal(anfu_verify(k, "abd", 3, sig, sizeof(sig)), ANFU_ECRYPTO);
	anfu_sigkey_free(k);
}

/* A key survives PEM export and import: the public PEM verifies what the
 * re-imported private key signs. */
static void test_sm2_pem_round_trip_keeps_the_key(void **state)
{
	struct anfu_sigkey *k = NULL, *priv = NULL, *pub = NULL;
	char *priv_pem = NULL, *pub_pem = NULL;
	uint8_t sig[ANFU_SIG_MAX], fp1[ANFU_HASH_LEN], fp2[ANFU_HASH_LEN];
	size_t siglen = sizeof(sig);

	(void)state;
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_SM2, &k), 0);
	assert_int_equal(anfu_sigkey_private_pem(k, &priv_pem), 0);
	assert_int_equal(anfu_sigkey_public_pem(k, &pub_pem), 0);
	assert_non_null(strstr(priv_pem, "-----BEGIN PRIVATE KEY-----"));
	assert_non_null(strstr(pub_pem, "-----BEGIN PUBLIC KEY-----"));
	assert_int_equal(anfu_sigkey_from_pem(priv_pem, strlen(priv_pem), &priv), 0);
	assert_int_equal(anfu_sigkey_from_pem(pub_pem, strlen(pub_pem), &pub), 0);
	assert_int_equal(anfu_sigkey_alg(pub), ANFU_SIG_SM2);
	assert_int_equal(anfu_sigkey_fingerprint(k, fp1), 0);
	assert_int_equal(anfu_sigkey_fingerprint(pub, fp2), 0);
	assert_memory_equal(fp1, fp2, sizeof(fp1));
	assert_int_equal(anfu_sign(priv, "x", 1, sig, &siglen), 0);
	assert_int_equal(anfu_verify(pub, "x", 1, sig, siglen), 0);
	anfu_free_secret(priv_pem);
	free(pub_pem);
	anfu_sigkey_free(k);
	anfu_sigkey_free(priv);
	anfu_sigkey_free(pub);
}

static void test_sign_refuses_public_key_and_small_buffer(void **state)
{
	struct anfu_sigkey *k = NULL, *pub = NULL;
	char *pub_pem = NULL, *priv_pem = (char *)"unchanged";
	uint8_t sig[ANFU_SIG_MAX];
	size_t siglen = ANFU_SIG_MAX - 1;

	(void)state;
	assert_int_equal(anfu_sigkey_generate(ANFU_SIG_ED25519, &k), 0);
	assert_int_equal(anfu_sign(k, "m", 1, sig, &siglen), ANFU_EINVAL);
	assert_int_equal(siglen, ANFU_SIG_MAX - 1);
	assert_int_equal(anfu_sigkey_public_pem(k, &pub_pem), 0);
	assert_int_equal(anfu_sigkey_from_pem(pub_pem, strlen(pub_pem), &pub), 0);
	siglen = sizeof(sig);
	assert_int_equal(anfu_sign(pub, "m", 1, sig, &siglen), ANFU_EINVAL);
	assert_int_equal(anfu_sigkey_private_pem(pub, &priv_pem), ANFU_EINVAL);
	assert_string_equal(priv_pem, "unchanged");
	free(pub_pem);
	anfu_sigkey_free(k);
	anfu_sigkey_free(pub);
}

static void test_sigkey_from_pem_rejects_other_keys_and_garbage(void **state)
{
	struct anfu_sigkey *k = NULL;
	char *cert = NULL, *key = NULL;
	const char *garbage = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	const char *legacy = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";

	(void)state;
	/* A P-256 key is a valid PKCS#8 key, but not one anfu signs with. */
	assert_int_equal(anfu_crypto_selfsigned_cert("localhost", 1, &cert, &key), 0);
	assert_int_equal(anfu_sigkey_from_pem(key, strlen(key), &k), ANFU_EINVAL);
	assert_int_equal(anfu_sigkey_from_pem(cert, strlen(cert), &k), ANFU_EINVAL);
	assert_int_equal(anfu_sigkey_from_pem(garbage, strlen(garbage), &k), ANFU_EINVAL);
	assert_int_equal(anfu_sigkey_from_pem(legacy, strlen(legacy), &k), ANFU_EINVAL);
	assert_int_equal(anfu_sigkey_from_pem("", 0, &k), ANFU_EINVAL);
	assert_null(k);
	free(cert);
	anfu_free_secret(key);
}

/* ---- AEAD ------------------------------------------------------------- */

/* McGrew & Viega, "The GCM mode of operation", test case 16 (256-bit key,
 * 96-bit IV, AAD, 60-byte plaintext). */
#define GCM16_KEY "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define GCM16_IV "cafebabefacedbaddecaf888"
#define GCM16_AAD "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM16_PT                                                           \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM16_CT_TAG                                                       \
	"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"         \
	"76fc6ece0f4e1768cddf8853bb2d551b"

/* RFC 8998 appendix A.1 (SM4-GCM). */
#define RFC8998_KEY "0123456789ABCDEFFEDCBA9876543210"
#define RFC8998_IV "00001234567800000000ABCD"
#define RFC8998_AAD "FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2"
#define RFC8998_PT                                                         \
	"AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD" \
	"EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA"
#define RFC8998_CT_TAG                                                     \
	"17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735" \
	"D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D" \
	"83DE3541E4C2B58177E065A9BF7B62EC"

struct aead_vector {
	enum anfu_aead_alg alg;
	const char *key, *iv, *aad, *pt, *ct_tag;
};

static const struct aead_vector gcm16 = { ANFU_AEAD_AES256GCM, GCM16_KEY, GCM16_IV,
					  GCM16_AAD,	       GCM16_PT,  GCM16_CT_TAG };
static const struct aead_vector rfc8998 = { ANFU_AEAD_SM4GCM, RFC8998_KEY, RFC8998_IV,
					    RFC8998_AAD,      RFC8998_PT,  RFC8998_CT_TAG };

struct aead_bytes {
	uint8_t key[32], iv[12], aad[32], pt[80], ct[96];
	size_t aadlen, ptlen, ctlen;
};

static void load_vector(const struct aead_vector *v, struct aead_bytes *b)
{
	assert_int_equal(unhex(v->key, b->key, sizeof(b->key)), anfu_aead_key_len(v->alg));
	assert_int_equal(unhex(v->iv, b->iv, sizeof(b->iv)), ANFU_AEAD_IV_LEN);
	b->aadlen = unhex(v->aad, b->aad, sizeof(b->aad));
	b->ptlen = unhex(v->pt, b->pt, sizeof(b->pt));
	b->ctlen = unhex(v->ct_tag, b->ct, sizeof(b->ct));
	assert_int_equal(b->ctlen, b->ptlen + ANFU_AEAD_TAG_LEN);
}

static void check_aead_vector(const struct aead_vector *v)
{
	struct aead_bytes b;
	uint8_t out[96], back[80];

	load_vector(v, &b);
	assert_int_equal(anfu_aead_seal(v->alg, b.key, b.iv, b.aad, b.aadlen, b.pt, b.ptlen, out),
			 0);
	assert_memory_equal(out, b.ct, b.ctlen);
	assert_int_equal(anfu_aead_open(v->alg, b.key, b.iv, b.aad, b.aadlen, b.ct, b.ctlen, back),
			 0);
	assert_memory_equal(back, b.pt, b.ptlen);
}

/* A flipped tag bit is refused and leaves no plaintext behind. */
static void check_aead_rejects_tampered_tag(const struct aead_vector *v)
{
	struct aead_bytes b;
	uint8_t back[80], zeros[80] = { 0 };

	load_vector(v, &b);
	b.ct[b.ctlen - 1] ^= 0x80;
	memset(back, 0xa5, sizeof(back));
	assert_int_equal(anfu_aead_open(v->alg, b.key, b.iv, b.aad, b.aadlen, b.ct, b.ctlen, back),
			 ANFU_ECRYPTO);
	assert_memory_equal(back, zeros, b.ptlen);
}

/* req: DATA-ENC-03 */
static void test_aes256gcm_mcgrew_viega_case16(void **state)
{
	(void)state;
	check_aead_vector(&gcm16);
}

/* req: DATA-ENC-03 */
static void test_aes256gcm_rejects_tampered_tag(void **state)
{
	(void)state;
	check_aead_rejects_tampered_tag(&gcm16);
}

/* req: DATA-ENC-03, DATA-TX-07 */
static void test_sm4gcm_rfc8998_a1(void **state)
{
	(void)state;
	check_aead_vector(&rfc8998);
}

/* req: DATA-ENC-03, DATA-TX-07 */
static void test_sm4gcm_rejects_tampered_tag(void **state)
{
	(void)state;
	check_aead_rejects_tampered_tag(&rfc8998);
}

/* req: DATA-ENC-03 */
static void test_aead_rejects_wrong_aad_and_tampered_ciphertext(void **state)
{
	const struct aead_vector *vs[] = { &gcm16, &rfc8998 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct aead_bytes b;
		uint8_t back[80];

		load_vector(vs[i], &b);
		assert_int_equal(anfu_aead_open(vs[i]->alg, b.key, b.iv, b.aad, b.aadlen - 1, b.ct,
						b.ctlen, back),
				 ANFU_ECRYPTO);
		b.ct[0] ^= 0x01;
		assert_int_equal(anfu_aead_open(vs[i]->alg, b.key, b.iv, b.aad, b.aadlen, b.ct,
						b.ctlen, back),
				 ANFU_ECRYPTO);
	}
}

static void test_aead_round_trips_empty_plaintext(void **state)
{
	enum anfu_aead_alg algs[] = { ANFU_AEAD_AES256GCM, ANFU_AEAD_SM4GCM };
	uint8_t key[32] = { 1 }, iv[12] = { 2 }, ct[ANFU_AEAD_TAG_LEN];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(anfu_aead_seal(algs[i], key, iv, "aad", 3, NULL, 0, ct), 0);
		assert_int_equal(anfu_aead_open(algs[i], key, iv, "aad", 3, ct, sizeof(ct), NULL),
				 0);
		assert_int_equal(anfu_aead_open(algs[i], key, iv, "aae", 3, ct, sizeof(ct), NULL),
				 ANFU_ECRYPTO);
	}
}

/* ---- Argon2id -------------------------------------------------------- */

/* Small parameters keep the tests fast; production values come from config. */
static const struct anfu_pwhash_params fast = { .opslimit = 1, .memlimit = 8u << 20 };
static const struct anfu_pwhash_params fast2 = { .opslimit = 2, .memlimit = 8u << 20 };

/* req: IAM-PWD-09 */
static void test_pwhash_verifies_the_right_password(void **state)
{
	char h[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash(&fast, "Correct-Horse-9", 15, h), 0);
	assert_memory_equal(h, "$argon2id$v=19$m=8192,t=1,p=1$", 30);
	assert_int_equal(anfu_pwhash_verify(h, "Correct-Horse-9", 15), 0);
}

/* req: IAM-PWD-09 */
static void test_pwhash_rejects_a_wrong_password(void **state)
{
	char h[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash(&fast, "Correct-Horse-9", 15, h), 0);
	assert_int_equal(anfu_pwhash_verify(h, "Correct-Horse-8", 15), ANFU_EAUTH);
	assert_int_equal(anfu_pwhash_verify(h, "Correct-Horse-9", 14), ANFU_EAUTH);
	assert_int_equal(anfu_pwhash_verify(h, "", 0), ANFU_EAUTH);
}

/* Two hashes of one password differ (random salt). req: IAM-PWD-09 */
static void test_pwhash_salts_each_hash(void **state)
{
	char a[ANFU_PWHASH_STR_LEN], b[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash(&fast, "pw", 2, a), 0);
	assert_int_equal(anfu_pwhash(&fast, "pw", 2, b), 0);
	assert_string_not_equal(a, b);
}

static void test_pwhash_verify_rejects_malformed_hash(void **state)
{
	char h[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash_verify("", "pw", 2), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_verify("$2b$12$abcdefghijklmnopqrstuv", "pw", 2), ANFU_EINVAL);
	assert_int_equal(anfu_pwhash_verify("$argon2id$v=19$m=8192,t=1,p=1$garbage", "pw", 2),
			 ANFU_EINVAL);
	assert_int_equal(anfu_pwhash(&fast, "pw", 2, h), 0);
	h[strlen(h) - 3] = '!'; /* not base64 */
	assert_int_equal(anfu_pwhash_verify(h, "pw", 2), ANFU_EINVAL);
	*strrchr(h, '$') = '\0'; /* no hash at all */
	assert_int_equal(anfu_pwhash_verify(h, "pw", 2), ANFU_EINVAL);
}

static void test_pwhash_needs_rehash_only_when_params_change(void **state)
{
	char h[ANFU_PWHASH_STR_LEN];

	(void)state;
	assert_int_equal(anfu_pwhash(&fast, "pw", 2, h), 0);
	assert_false(anfu_pwhash_needs_rehash(h, &fast));
	assert_true(anfu_pwhash_needs_rehash(h, &fast2));
	assert_true(anfu_pwhash_needs_rehash("not a hash", &fast));
}

static void test_pwhash_rejects_params_below_minimum(void **state)
{
	struct anfu_pwhash_params weak = { .opslimit = 0, .memlimit = 8u << 20 };
	char h[ANFU_PWHASH_STR_LEN] = "unchanged";

	(void)state;
	assert_int_equal(anfu_pwhash(&weak, "pw", 2, h), ANFU_EINVAL);
	weak = (struct anfu_pwhash_params){ .opslimit = 1, .memlimit = 1024 };
	assert_int_equal(anfu_pwhash(&weak, "pw", 2, h), ANFU_EINVAL);
	assert_string_equal(h, "unchanged");
}

/* ---- encodings, comparison, randomness --------------------------------- */

static void test_hex_round_trip_is_lower_case(void **state)
{
	const uint8_t in[] = { 0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x9a };
	char hex[2 * sizeof(in) + 1];
	uint8_t back[sizeof(in)];

	(void)state;
	anfu_hex_encode(in, sizeof(in), hex);
	assert_string_equal(hex, "0001abcdefff9a");
	assert_int_equal(anfu_hex_decode(hex, strlen(hex), back, sizeof(back)), 0);
	assert_memory_equal(back, in, sizeof(in));
}

struct hex_bad {
	const char *hex;
	size_t outlen;
};

/* Upper case, wrong or odd lengths, and every near-miss character. */
static void test_hex_decode_rejects_non_canonical_input(void **state)
{
	static const struct hex_bad cases[] = {
		{ "ABCD", 2 }, { "aBcd", 2 }, { "abc", 2 }, { "abc", 1 }, { "abcdef", 2 },
		{ "ab", 2 },   { "0g", 1 },   { "/0", 1 },  { ":0", 1 },  { "`0", 1 },
		{ " 0", 1 },   { "0x", 1 },   { "G0", 1 },  { "@0", 1 },
	};
	uint8_t out[4] = { 0x11, 0x22, 0x33, 0x44 };
	const uint8_t before[4] = { 0x11, 0x22, 0x33, 0x44 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
			anfu_hex_decode(cases[i].hex, strlen(cases[i].hex), out, cases[i].outlen),
			ANFU_EINVAL);
		assert_memory_equal(out, before, sizeof(out));
	}
	/* An embedded NUL is a character like any other. */
	assert_int_equal(anfu_hex_decode("a\0", 2, out, 1), ANFU_EINVAL);
}

static void test_hex_decode_accepts_all_256_byte_values(void **state)
{
	uint8_t in[256], back[256];
	char hex[513];

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	anfu_hex_encode(in, sizeof(in), hex);
	assert_int_equal(anfu_hex_decode(hex, 512, back, sizeof(back)), 0);
	assert_memory_equal(back, in, sizeof(in));
}

/* RFC 4648 section 10 vectors, both ways. */
static void test_base64_rfc4648_vectors(void **state)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = {
		"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"
	};

	(void)state;
	for (size_t i = 0; i < 7; i++) {
		char *e = anfu_base64_encode(plain[i], strlen(plain[i]));
		uint8_t *d = NULL;
		size_t n = 99;

		assert_string_equal(e, enc[i]);
		assert_int_equal(anfu_base64_decode(enc[i], strlen(enc[i]), &d, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		if (n)
			assert_memory_equal(d, plain[i], n);
		free(e);
		free(d);
	}
}

static void test_base64_round_trips_binary(void **state)
{
	uint8_t in[257];

	(void)state;
	anfu_crypto_random(in, sizeof(in));
	for (size_t len = 0; len <= sizeof(in); len += 37) {
		char *e = anfu_base64_encode(in, len);
		uint8_t *d = NULL;
		size_t n = 0;

		assert_int_equal(anfu_base64_decode(e, strlen(e), &d, &n), 0);
		assert_int_equal(n, len);
		if (len)
			assert_memory_equal(d, in, len);
		free(e);
		free(d);
	}
}

/* No two strings decode to the same bytes: non-zero pad bits, missing or
 * extra padding, white space and the URL alphabet are all refused. */
static void test_base64_decode_rejects_non_canonical_input(void **state)
{
	static const char *bad[] = {
		"Zh==",	 "Zm9=", "Zg",	 "Zg=",	 "Zg===", "Zm9vYg=\n", "Zm9v\nYmFy", " Zm9v",
		"Zm9v ", "Zm-v", "Zm_v", "Z===", "====",  "Zm9vYmFy=", "=Zm9",	     "Zg==Zg==",
	};
	uint8_t *d = (uint8_t *)"unchanged";
	size_t n = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(anfu_base64_decode(bad[i], strlen(bad[i]), &d, &n), ANFU_EINVAL);
		assert_string_equal((char *)d, "unchanged");
		assert_int_equal(n, 7);
	}
	assert_int_equal(anfu_base64_decode("Zg\0=", 4, &d, &n), ANFU_EINVAL);
}

static void test_crypto_equal_compares_every_byte(void **state)
{
	uint8_t a[33], b[33];

	(void)state;
	anfu_crypto_random(a, sizeof(a));
	memcpy(b, a, sizeof(a));
	assert_true(anfu_crypto_equal(a, b, sizeof(a)));
	assert_true(anfu_crypto_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i += 16) {
		b[i] ^= 0x01;
		assert_false(anfu_crypto_equal(a, b, sizeof(a)));
		b[i] ^= 0x01;
	}
	b[32] ^= 0x80;
	assert_false(anfu_crypto_equal(a, b, sizeof(a)));
	assert_true(anfu_crypto_equal(a, b, 32));
}

static void test_random_fills_with_fresh_bytes(void **state)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };

	(void)state;
	anfu_crypto_random(a, sizeof(a));
	anfu_crypto_random(b, sizeof(b));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
}

/* Time-ordered ids (the ledger journal's): they sort by their
 * millisecond, keep the shape of every id, and differ within one
 * millisecond. */
static void test_ordered_ids_sort_by_their_millisecond(void **state)
{
	const int64_t ms[] = { -5, 0, 1, 61, 62, 1765000000000, 1765000000001, 1765000086400000 };
	char prev[ANFU_ID_MAX] = "", id[ANFU_ID_MAX], again[ANFU_ID_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		assert_int_equal(anfu_id_new_ordered("trf", ms[i], id, sizeof(id)), 0);
		assert_true(anfu_id_valid("trf", id, strlen(id)));
		if (i > 1) /* -5 and 0 are both time 0 */
			assert_true(strcmp(prev, id) < 0);
		memcpy(prev, id, sizeof(prev));
	}
	assert_int_equal(anfu_id_new_ordered("trf", 62 * 62 + 61, id, sizeof(id)), 0);
	assert_memory_equal(id, "trf_00000010z", 4 + 9); /* 62^2 + 61 in base62 */
	assert_int_equal(anfu_id_new_ordered("trf", 1765000000000, id, sizeof(id)), 0);
	assert_int_equal(anfu_id_new_ordered("trf", 1765000000000, again, sizeof(again)), 0);
	assert_memory_equal(id, again, 4 + 9);	      /* the same millisecond */
	assert_string_not_equal(id + 13, again + 13); /* 77 random bits after it */
	assert_int_equal(anfu_id_new_ordered("TRF", 1, id, sizeof(id)), ANFU_EINVAL);
	assert_int_equal(anfu_id_new_ordered("trf", 1, id, 4 + 22), ANFU_EINVAL);
}

/* ---- development certificate ------------------------------------------ */

static bool san_has(GENERAL_NAMES *names, int type, const uint8_t *val, size_t len)
{
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		ASN1_STRING *s = NULL;

		if (g->type != type)
			continue;
		s = type == GEN_DNS ? g->d.dNSName : g->d.iPAddress;
		if ((size_t)ASN1_STRING_length(s) == len &&
		    memcmp(ASN1_STRING_get0_data(s), val, len) == 0)
			return true;
	}
	return false;
}

/* req: DATA-TX-01, DATA-TX-03 */
static void test_selfsigned_cert_has_the_development_profile(void **state)
{
	static const uint8_t v4[4] = { 127, 0, 0, 1 };
	static const uint8_t v6[16] = { [15] = 1 };
	char *cert_pem = NULL, *key_pem = NULL, cn[64];
	BIO *bio = NULL;
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;
	GENERAL_NAMES *san = NULL;
	const ASN1_INTEGER *serial;

	(void)state;
	assert_int_equal(anfu_crypto_selfsigned_cert("anfu-dev", 30, &cert_pem, &key_pem), 0);
	assert_non_null(strstr(key_pem, "-----BEGIN PRIVATE KEY-----"));
	bio = BIO_new_mem_buf(cert_pem, -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	pub = X509_get0_pubkey(x);
	assert_true(EVP_PKEY_is_a(pub, "EC"));
	assert_int_equal(EVP_PKEY_get_bits(pub), 256);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof(cn)) > 0);
	assert_string_equal(cn, "anfu-dev");
	assert_int_equal(X509_check_ca(x), 0);
	/* No keyUsage, so the certificate can be its own trust anchor. */
	assert_int_equal(X509_get_key_usage(x), UINT32_MAX);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	assert_non_null(san);
	assert_true(san_has(san, GEN_DNS, (const uint8_t *)"localhost", 9));
	assert_true(san_has(san, GEN_IPADD, v4, sizeof(v4)));
	assert_true(san_has(san, GEN_IPADD, v6, sizeof(v6)));
	serial = X509_get0_serialNumber(x);
	assert_true(ASN1_STRING_length(serial) >= 8 && ASN1_STRING_length(serial) <= 17);
	GENERAL_NAMES_free(san);
	X509_free(x);
	BIO_free(bio);
	free(cert_pem);
	anfu_free_secret(key_pem);
}

static void test_selfsigned_cert_rejects_bad_arguments(void **state)
{
	char *c = NULL, *k = NULL;
	char longcn[80];

	(void)state;
	memset(longcn, 'a', sizeof(longcn) - 1);
	longcn[sizeof(longcn) - 1] = '\0';
	assert_int_equal(anfu_crypto_selfsigned_cert("", 30, &c, &k), ANFU_EINVAL);
	assert_int_equal(anfu_crypto_selfsigned_cert(longcn, 30, &c, &k), ANFU_EINVAL);
	assert_int_equal(anfu_crypto_selfsigned_cert("x", 0, &c, &k), ANFU_EINVAL);
	assert_null(c);
	assert_null(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips180_abc),
		cmocka_unit_test(test_sha256_fips180_448_bit_message),
		cmocka_unit_test(test_sm3_gbt32905_abc),
		cmocka_unit_test(test_sm3_gbt32905_512_bit_message),
		cmocka_unit_test(test_hash_incremental_equals_one_shot),
		cmocka_unit_test(test_hash_names_round_trip_and_unknown_rejected),
		cmocka_unit_test(test_hmac_sha256_rfc4231_case1),
		cmocka_unit_test(test_hmac_sha256_rfc4231_case2),
		cmocka_unit_test(test_hmac_sm3_matches_rfc2104_construction),
		cmocka_unit_test(test_hkdf_sha256_rfc5869_case1),
		cmocka_unit_test(test_hkdf_rejects_output_longer_than_255_blocks),
		cmocka_unit_test(test_ed25519_rfc8032_test1),
		cmocka_unit_test(test_ed25519_rfc8032_test2),
		cmocka_unit_test(test_fingerprint_is_sha256_of_spki_der),
		cmocka_unit_test(test_ed25519_rejects_modified_message),
		cmocka_unit_test(test_sm2_sign_verify_round_trip),
		cmocka_unit_test(test_sm2_rejects_modified_message),
		cmocka_unit_test(test_sm2_rejects_modified_signature),
		cmocka_unit_test(test_sm2_verifies_a_signature_made_by_openssl),
		cmocka_unit_test(test_sm2_pem_round_trip_keeps_the_key),
		cmocka_unit_test(test_sign_refuses_public_key_and_small_buffer),
		cmocka_unit_test(test_sigkey_from_pem_rejects_other_keys_and_garbage),
		cmocka_unit_test(test_aes256gcm_mcgrew_viega_case16),
		cmocka_unit_test(test_aes256gcm_rejects_tampered_tag),
		cmocka_unit_test(test_sm4gcm_rfc8998_a1),
		cmocka_unit_test(test_sm4gcm_rejects_tampered_tag),
		cmocka_unit_test(test_aead_rejects_wrong_aad_and_tampered_ciphertext),
		cmocka_unit_test(test_aead_round_trips_empty_plaintext),
		cmocka_unit_test(test_pwhash_verifies_the_right_password),
		cmocka_unit_test(test_pwhash_rejects_a_wrong_password),
		cmocka_unit_test(test_pwhash_salts_each_hash),
		cmocka_unit_test(test_pwhash_verify_rejects_malformed_hash),
		cmocka_unit_test(test_pwhash_needs_rehash_only_when_params_change),
		cmocka_unit_test(test_pwhash_rejects_params_below_minimum),
		cmocka_unit_test(test_hex_round_trip_is_lower_case),
		cmocka_unit_test(test_hex_decode_rejects_non_canonical_input),
		cmocka_unit_test(test_hex_decode_accepts_all_256_byte_values),
		cmocka_unit_test(test_base64_rfc4648_vectors),
		cmocka_unit_test(test_base64_round_trips_binary),
		cmocka_unit_test(test_base64_decode_rejects_non_canonical_input),
		cmocka_unit_test(test_crypto_equal_compares_every_byte),
		cmocka_unit_test(test_random_fills_with_fresh_bytes),
		cmocka_unit_test(test_ordered_ids_sort_by_their_millisecond),
		cmocka_unit_test(test_selfsigned_cert_has_the_development_profile),
		cmocka_unit_test(test_selfsigned_cert_rejects_bad_arguments),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
