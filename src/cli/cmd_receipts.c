/*
 * cli/cmd_receipts: `anfu receipts key` prints the receipt public key;
 * `anfu receipts verify FILE [--key PUBFILE]` verifies an electronic
 * receipt offline (docs/receipts.md), with the key of the data directory
 * or the one given. Trusts nothing in the receipt or the key file (both
 * size-capped; the key id is computed from the key, not read from it).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "cli/cli.h"
#include "crypto/crypto.h"
#include "keys/keys.h"
#include "receipt/receipt.h"

#define KEYFILE_MAX 8192 /* a "# anfu-key" header and one PEM public key */

static void receipts_usage(FILE *f)
{
	fprintf(f, "usage: anfu receipts key [--data DIR]\n"
		   "       anfu receipts verify FILE [--key PUBFILE] [--data DIR]\n"
		   "\n"
		   "key: prints the receipt public key (PEM after a comment line naming\n"
		   "its key id and algorithm), for verifying receipts without anfu.\n"
		   "verify: checks the receipt's signature over its canonical body with\n"
		   "PUBFILE (the output of `anfu receipts key`, or a PEM public key), by\n"
		   "default DIR/keys/receipt.pub; prints its facts and exits 0 for a good\n"
		   "receipt, 1 for one that does not verify.\n");
}

/* The whole file path (at most cap - 1 bytes), NUL-terminated, malloc'd. */
static int read_file(const char *path, size_t cap, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	size_t n;

	if (!f)
		return ANFU_ENOTFOUND;
	b = malloc(cap);
	if (!b) {
		(void)fclose(f);
		return ANFU_EINTERNAL;
	}
	n = fread(b, 1, cap, f);
	if (ferror(f) || n == cap) {
		(void)fclose(f);
		free(b);
		return ANFU_ELIMIT;
	}
	(void)fclose(f);
	b[n] = '\0';
	*ret = b;
	*ret_len = n;
	return 0;
}

/* The public key in file path (from its PEM block) and its key id. */
static int load_key(const char *path, struct anfu_sigkey **ret, char kid[ANFU_KID_MAX])
{
	struct anfu_sigkey *k = NULL;
	char *text = NULL;
	const char *pem;
	size_t len = 0;
	int r = read_file(path, KEYFILE_MAX, &text, &len);

	if (r < 0)
		return r;
	pem = strstr(text, "-----BEGIN PUBLIC KEY-----");
	r = pem ? anfu_sigkey_from_pem(pem, len - (size_t)(pem - text), &k) : ANFU_EINVAL;
	if (r == 0 && anfu_sigkey_has_private(k))
		r = ANFU_EINVAL;
	if (r == 0)
		r = anfu_keys_kid_for(k, kid);
	free(text);
	if (r < 0) {
		anfu_sigkey_free(k);
		return r < 0 ? r : ANFU_EINVAL;
	}
	*ret = k;
	return 0;
}

static void default_key(const struct cli_opts *o, char *path, size_t cap)
{
	(void)snprintf(path, cap, "%s/keys/receipt.pub", o->data);
}

static int receipts_key(const struct cli_opts *o)
{
	char path[1024], kid[ANFU_KID_MAX];
	struct anfu_sigkey *k = NULL;
	char *pem = NULL;
	int r;

	default_key(o, path, sizeof(path));
	r = load_key(path, &k, kid);
	if (r == 0)
		r = anfu_sigkey_public_pem(k, &pem);
	if (r < 0) {
		fprintf(stderr,
			"anfu receipts: no receipt key at %s (%s); anfud makes it when it "
			"first starts\n",
			path, anfu_strerror(r));
		anfu_sigkey_free(k);
		return 1;
	}
	printf("# anfu-key id=%s alg=%s use=receipt\n%s", kid, anfu_sig_name(anfu_sigkey_alg(k)),
	       pem);
	free(pem);
	anfu_sigkey_free(k);
	return 0;
}

static void print_facts(const char *kid, json_t *body)
{
	const char *name;
	json_t *v;

	printf("receipt verified: signed by %s\n", kid);
	json_object_foreach(body, name, v)
	{
		char *t = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

		printf("%s: %s\n", name, t ? t : json_is_string(v) ? json_string_value(v) : "?");
		free(t);
	}
}

static int receipts_verify(const struct cli_opts *o, const char *file)
{
	char path[1024], kid[ANFU_KID_MAX];
	struct anfu_sigkey *k = NULL;
	json_t *body = NULL;
	char *doc = NULL;
	size_t len = 0;
	int r;

	if (o->key)
		(void)snprintf(path, sizeof(path), "%s", o->key);
	else
		default_key(o, path, sizeof(path));
	r = load_key(path, &k, kid);
	if (r < 0) {
		fprintf(stderr, "anfu receipts: cannot read a public key from %s: %s\n", path,
			anfu_strerror(r));
		return 1;
	}
	r = read_file(file, ANFU_LIMIT_RECEIPT_BYTES + 1, &doc, &len);
	if (r < 0)
		fprintf(stderr, "anfu receipts: cannot read %s: %s\n", file,
			r == ANFU_ELIMIT ? "larger than a receipt" : anfu_strerror(r));
	else
		r = anfu_receipt_verify(doc, len, k, kid, &body);
	if (r == ANFU_EINVAL)
		fprintf(stderr, "receipt NOT verified: malformed receipt (not {alg, body, kid, "
				"sig} JSON)\n");
	else if (r == ANFU_ENOTFOUND && doc)
		fprintf(stderr,
			"receipt NOT verified: unknown key id (the receipt names "
			"another key than %s)\n",
			kid);
	else if (r == ANFU_ECRYPTO)
		fprintf(stderr,
			"receipt NOT verified: bad signature: the receipt was changed "
			"or not signed by key %s\n",
			kid);
	if (r == 0)
		print_facts(kid, body);
	json_decref(body);
	free(doc);
	anfu_sigkey_free(k);
	return r < 0 ? 1 : 0;
}

int cmd_receipts(int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "";
	bool verify = strcmp(sub, "verify") == 0;
	char *args[32];
	const char *file = NULL;
	struct cli_opts o;
	int n = 0, r;

	if (strcmp(sub, "--help") == 0) {
		receipts_usage(stdout);
		return 0;
	}
	if ((strcmp(sub, "key") != 0 && !verify) || argc > 30) {
		receipts_usage(stderr);
		return 2;
	}
	/* FILE is verify's one operand; the options are the common ones. */
	args[n++] = verify ? "receipts verify" : "receipts key";
	for (int i = 2; i < argc; i++) {
		if (verify && !file && argv[i][0] != '-' &&
		    (i == 2 || strcmp(argv[i - 1], "--key") != 0) &&
		    strcmp(argv[i - 1], "--data") != 0)
			file = argv[i];
		else
			args[n++] = argv[i];
	}
	args[n] = NULL;
	r = cli_parse(n, args, verify ? "data,key" : "data", &o);
	if (r != 0)
		return r;
	if (o.help) {
		receipts_usage(stdout);
		return 0;
	}
	if (!verify)
		return receipts_key(&o);
	if (!file) {
		receipts_usage(stderr);
		return 2;
	}
	return receipts_verify(&o, file);
}
