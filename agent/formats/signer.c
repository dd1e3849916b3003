/* signer — sign bytes with a key file into a signature file. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "file.h"
#include "sigfile.h"
#include "signer.h"

/* path as given when it exists, else path + suffix. */
static const char *resolve(const char *path, const char *suffix, char *tmp, size_t cap)
{
	if (access(path, F_OK) == 0 || snprintf(tmp, cap, "%s%s", path, suffix) >= (int)cap)
		return path;
	return access(tmp, F_OK) == 0 ? tmp : path;
}

int signer_read_pub(const char *path, struct buf *out)
{
	char tmp[4096];

	return file_read(resolve(path, ".pub", tmp, sizeof(tmp)), KEY_FILE_MAX, out);
}

int signer_sign(const char *keypath, const void *data, size_t len, struct buf *sig)
{
	struct buf pem = BUF_INIT(KEY_FILE_MAX), next = BUF_INIT(SIGFILE_MAX_SIZE);
	unsigned char digest[SHA256_LEN], der[ECDSA_SIG_MAX];
	struct privkey *key = NULL;
	char tmp[4096];
	const char *path = resolve(keypath, ".key", tmp, sizeof(tmp));
	size_t derlen;
	int rc;

	rc = file_read(path, KEY_FILE_MAX, &pem);
	if (!rc)
		rc = privkey_from_pem(&key, pem.data, path);
	if (!rc) {
		sha256(data, len, digest);
		rc = privkey_sign(key, digest, der, &derlen);
	}
	if (!rc)
		rc = sigfile_update(&next, sig->data, sig->len, "signature file",
				    privkey_id(key), der, derlen);
	if (!rc) {
		buf_reset(sig);
		rc = buf_add(sig, next.data, next.len);
	}
	crypto_wipe(pem.data, pem.len);
	buf_free(&pem);
	buf_free(&next);
	privkey_free(key);
	return rc;
}
