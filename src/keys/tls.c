/*
 * keys/tls: the HTTPS listener's certificate and private key files.
 *
 * Owns DATA/tls/server.crt (PEM, 0644) and DATA/tls/server.key (the header
 * line, then a PKCS#8 PEM, 0600) and the reading of operator-supplied
 * certificate/key files. What is handed to the HTTP layer is the PEM from
 * the first "-----BEGIN" line on, so comment lines never reach GnuTLS.
 * Operator paths may be symbolic links (certbot's live/ directory is);
 * the key file's own mode must still keep group and others out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/limits.h"
#include "base/mem.h"
#include "keys/keys_impl.h"

/* A malloc'd copy of text from its first line starting "-----BEGIN". */
static int pem_from(const char *text, size_t len, char **ret)
{
	static const char tag[] = "-----BEGIN";
	size_t i = 0;

	while (i < len) {
		if (len - i >= sizeof(tag) - 1 && memcmp(text + i, tag, sizeof(tag) - 1) == 0) {
			*ret = anfu_xstrndup(text + i, len - i);
			return 0;
		}
		while (i < len && text[i] != '\n')
			i++;
		i++;
	}
	return ANFU_EINVAL;
}

/* Errors: those of reading (ANFU_ENOTFOUND, ANFU_EPERM for a key file
 * others can read, ANFU_ELIMIT, ANFU_EIO) and ANFU_EINVAL for a file with
 * no PEM block. Both outputs are written only on success. */
int anfu_keys_tls_load(const char *cert_path, const char *key_path, char **ret_cert_pem,
		       char **ret_key_pem)
{
	char *cert_text = NULL, *key_text = NULL, *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	int r;

	if (!cert_path || !key_path || !ret_cert_pem || !ret_key_pem)
		return ANFU_EINVAL;
	r = anfu_keyfile_read(key_path, true, false, &key_text, &key_len);
	if (r < 0)
		goto out;
	r = anfu_keyfile_read(cert_path, false, false, &cert_text, &cert_len);
	if (r < 0)
		goto out;
	r = pem_from(key_text, key_len, &key);
	if (r < 0)
		goto out;
	r = pem_from(cert_text, cert_len, &cert);
	if (r < 0)
		goto out;
	*ret_cert_pem = cert;
	*ret_key_pem = key;
	cert = key = NULL;
	r = 0;
out:
	free(cert);
	anfu_free_secret(key);
	anfu_keyfile_release(cert_text, cert_len);
	anfu_keyfile_release(key_text, key_len);
	return r;
}

/* DATA/tls/server.crt and DATA/tls/server.key; ANFU_ELIMIT when either does
 * not fit its buffer (neither buffer is then written). */
int anfu_keys_tls_default_paths(const char *datadir, char *cert, size_t certcap, char *key,
				size_t keycap)
{
	char c[ANFU_LIMIT_KEY_PATH_BYTES], k[ANFU_LIMIT_KEY_PATH_BYTES];
	size_t clen, klen;

	if (!datadir || !cert || !key)
		return ANFU_EINVAL;
	if (anfu_keys_path(c, sizeof(c), datadir, KEYS_TLS_DIR, KEYS_TLS_CERT) < 0 ||
	    anfu_keys_path(k, sizeof(k), datadir, KEYS_TLS_DIR, KEYS_TLS_KEY) < 0)
		return ANFU_ELIMIT;
	clen = strlen(c);
	klen = strlen(k);
	if (clen >= certcap || klen >= keycap)
		return ANFU_ELIMIT;
	memcpy(cert, c, clen + 1);
	memcpy(key, k, klen + 1);
	return 0;
}
