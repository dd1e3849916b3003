/*
 * cmd_sign — the signing tools: `keygen`, `sign` and `verify`.
 *
 * They make and check the detached `<file>.sig` files (agent/formats/sigfile.h)
 * that the agent requires on everything it applies, and interoperate with
 * openssl: keys are ordinary PEM files, signatures ordinary DER. verify is
 * the generic k-of-n primitive; trust-root policy lives elsewhere in agent/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "crypto.h"
#include "error.h"
#include "file.h"
#include "log.h"
#include "opts.h"
#include "sigfile.h"
#include "signer.h"

#define SIGNED_FILE_MAX (64UL << 20)   /* streamed, never held whole */
#define MAX_PUBS 16

/* --- files ------------------------------------------------------------------ */

/* SHA-256 of path's exact bytes, streamed, at most max bytes. Logged. */
static int hash_file(const char *path, size_t max, unsigned char digest[SHA256_LEN])
{
	static char chunk[64 * 1024];
	struct sha256 c;
	size_t total = 0;
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error(errno == ENOENT ? E_NOTFOUND : E_IO, "%s: %s", path, strerror(errno));
	sha256_init(&c);
	while (!rc && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = error(E_IO, "%s: read: %s", path, strerror(errno));
		else if ((size_t)n > max - total)
			rc = error(E_LIMIT, "%s: larger than %zu bytes; outpost signs files up to "
				   "that size", path, max);
		else
			sha256_update(&c, chunk, (size_t)n);
		total += n > 0 ? (size_t)n : 0;
	}
	close(fd);
	sha256_final(&c, digest);
	return rc;
}

/* Read a PEM key file (NUL-terminated in out). */
static int key_file_read(const char *path, struct buf *out)
{
	int rc = file_read(path, KEY_FILE_MAX, out);

	if (!rc && memchr(out->data, '\0', out->len))
		rc = error(E_FORMAT, "%s: NUL byte in a PEM file", path);
	return rc;
}

/* --- arguments ------------------------------------------------------------- */

const char cmd_keygen_usage[] = "-o NAME";
const char cmd_sign_usage[] = "FILE --key KEY.key [-o SIGFILE]";
const char cmd_verify_usage[] =
	"FILE --pub KEY.pub [--pub KEY.pub ...] [--sig SIGFILE] [--threshold N]";

/* The signature file: sigpath as given, else FILE.sig built in def; NULL logged. */
static const char *sig_path(const char *cmd, const char *file, const char *sigpath,
			    struct buf *def)
{
	int rc;

	if (sigpath)
		return sigpath;
	rc = buf_addf(def, "%s.sig", file);
	if (rc)
		return error(rc, "%s: %s: %s", cmd, file, err_str(rc)), NULL;
	return def->data;
}

/* --- keygen ---------------------------------------------------------------- */

int cmd_keygen(int argc, char **argv)
{
	const char *name = NULL;
	struct buf keypath = BUF_INIT(4096), pubpath = BUF_INIT(4096);
	struct buf pem = BUF_INIT(KEY_FILE_MAX), pub = BUF_INIT(KEY_FILE_MAX);
	struct privkey *k = NULL;
	int rc;
	const struct opt table[] = {
		OPT_STRING(NULL, 'o', &name, "NAME", "write NAME.key and NAME.pub"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("keygen", NULL, table, NULL, 0);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!name || !*name)
		return cmd_bad_usage(argv[0], "-o NAME is required", NULL);

	rc = buf_addf(&keypath, "%s.key", name);
	if (!rc)
		rc = buf_addf(&pubpath, "%s.pub", name);
	if (rc) {
		error(rc, "keygen: %s: %s", name, err_str(rc));
		goto out;
	}
	/* check both names before writing either, so a clash leaves nothing */
	if (access(keypath.data, F_OK) == 0)
		rc = error(E_STATE, "%s: already exists, not overwriting", keypath.data);
	else if (access(pubpath.data, F_OK) == 0)
		rc = error(E_STATE, "%s: already exists, not overwriting", pubpath.data);
	if (!rc)
		rc = privkey_generate(&k);
	if (!rc)
		rc = privkey_to_pem(k, &pem);
	if (!rc)
		rc = privkey_pubkey_pem(k, &pub);
	if (!rc)
		rc = file_create(keypath.data, pem.data, pem.len, 0600);
	/* NAME.pub appeared since the check: take the key back */
	if (!rc && (rc = file_create(pubpath.data, pub.data, pub.len, 0644)) != 0)
		unlink(keypath.data);
	if (!rc) {
		printf("%s\n", privkey_id(k));
		log_info("keygen: wrote %s (private, mode 0600) and %s", keypath.data, pubpath.data);
	}
out:
	crypto_wipe(pem.data, pem.len);
	buf_free(&pem);
	buf_free(&pub);
	buf_free(&keypath);
	buf_free(&pubpath);
	privkey_free(k);
	return rc ? 1 : 0;
}

/* --- sign ------------------------------------------------------------------- */

int cmd_sign(int argc, char **argv)
{
	const char *file = NULL, *keypath = NULL, *sigpath = NULL;
	struct buf sigdefault = BUF_INIT(4096), pem = BUF_INIT(KEY_FILE_MAX);
	struct buf old = BUF_INIT(SIGFILE_MAX_SIZE), new = BUF_INIT(SIGFILE_MAX_SIZE);
	unsigned char digest[SHA256_LEN], sig[ECDSA_SIG_MAX];
	struct privkey *k = NULL;
	struct stat st;
	size_t siglen;
	int rc;
	const struct opt table[] = {
		OPT_STRING("key", 0, &keypath, "KEY.key", "the private key to sign with"),
		OPT_STRING(NULL, 'o', &sigpath, "SIGFILE", "the signature file (default FILE.sig)"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("sign", NULL, table, &file, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!file)
		return cmd_bad_usage(argv[0], "FILE is required", NULL);
	if (!keypath)
		return cmd_bad_usage(argv[0], "--key KEY.key is required", NULL);
	sigpath = sig_path(argv[0], file, sigpath, &sigdefault);
	if (!sigpath)
		return 1;

	rc = key_file_read(keypath, &pem);
	if (!rc)
		rc = privkey_from_pem(&k, pem.data, keypath);
	crypto_wipe(pem.data, pem.len);
	if (!rc)
		rc = hash_file(file, SIGNED_FILE_MAX, digest);
	if (!rc)
		rc = privkey_sign(k, digest, sig, &siglen);
	/* a missing signature file is started afresh */
	if (!rc && access(sigpath, F_OK) == 0)
		rc = file_read(sigpath, SIGFILE_MAX_SIZE, &old);
	if (!rc)
		rc = sigfile_update(&new, old.data, old.len, sigpath, privkey_id(k), sig, siglen);
	/* keep the mode of the file it replaces; a new one is world-readable */
	if (!rc)
		rc = file_write_atomic(sigpath, new.data, new.len,
				       stat(sigpath, &st) == 0 ? st.st_mode & 07777 : 0644);
	if (!rc) {
		printf("%s\n", privkey_id(k));
		log_info("sign: %s signed by %s in %s", file, privkey_id(k), sigpath);
	}
	privkey_free(k);
	buf_free(&pem);
	buf_free(&old);
	buf_free(&new);
	buf_free(&sigdefault);
	return rc ? 1 : 0;
}

/* --- verify ---------------------------------------------------------------- */

struct given {
	struct pubkey *key;
	const char *path;
};

/* Load --pub files; a key given twice is kept once. */
static int load_pubs(const char **paths, size_t n, struct given *keys, size_t *nkeys)
{
	int rc = 0;

	*nkeys = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		struct buf pem = BUF_INIT(KEY_FILE_MAX);
		struct pubkey *k = NULL;
		size_t j;

		rc = key_file_read(paths[i], &pem);
		if (!rc)
			rc = pubkey_from_pem(&k, pem.data, paths[i]);
		buf_free(&pem);
		if (rc)
			break;
		for (j = 0; j < *nkeys; j++)
			if (strcmp(pubkey_id(keys[j].key), pubkey_id(k)) == 0)
				break;
		if (j < *nkeys) {
			log_warn("verify: %s is the same key as %s; it counts once",
				 paths[i], keys[j].path);
			pubkey_free(k);
			continue;
		}
		keys[*nkeys].key = k;
		keys[(*nkeys)++].path = paths[i];
	}
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	const char *file = NULL, *sigpath = NULL, *paths[MAX_PUBS];
	struct buf sigdefault = BUF_INIT(4096), data = BUF_INIT(SIGFILE_MAX_SIZE);
	struct given keys[MAX_PUBS];
	unsigned char digest[SHA256_LEN];
	struct sigfile sf;
	long long threshold = 1;
	unsigned long good = 0;
	size_t nkeys = 0, npaths = 0;
	int rc;
	const struct opt table[] = {
		OPT_LIST("pub", 0, paths, &npaths, "KEY.pub", "a public key that may have signed"),
		OPT_STRING("sig", 0, &sigpath, "SIGFILE", "the signature file (default FILE.sig)"),
		OPT_INT("threshold", 0, &threshold, 1, MAX_PUBS, "N",
			"how many of the keys must have signed (default 1)"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("verify", NULL, table, &file, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!file)
		return cmd_bad_usage(argv[0], "FILE is required", NULL);
	if (!npaths)
		return cmd_bad_usage(argv[0], "at least one --pub KEY.pub is required", NULL);
	sigpath = sig_path(argv[0], file, sigpath, &sigdefault);
	if (!sigpath)
		return 1;

	rc = load_pubs(paths, npaths, keys, &nkeys);
	if (!rc)
		rc = hash_file(file, SIGNED_FILE_MAX, digest);
	if (!rc)
		rc = file_read(sigpath, SIGFILE_MAX_SIZE, &data);
	if (!rc)
		rc = sigfile_parse(&sf, data.data, data.len, sigpath);
	for (size_t i = 0; !rc && i < nkeys; i++) {
		const char *id = pubkey_id(keys[i].key);
		const struct sigline *l = sigfile_find(&sf, id, NULL);
		int ok = 0;

		if (!l)
			log_info("verify: %s has no signature by %s (%s)", sigpath, id, keys[i].path);
		/* every line of the key is looked at; it counts once however many are good */
		for (; l; l = sigfile_find(&sf, id, l)) {
			int v = pubkey_verify(keys[i].key, digest, l->sig, l->sig_len);

			if (v == E_NOMEM)
				rc = error(v, "verify: out of memory checking %s", sigpath);
			else if (v)
				log_warn("verify: %s line %u: the signature by %s (%s) does not match %s",
					 sigpath, l->lineno, id, keys[i].path, file);
			else
				ok = 1;
		}
		if (ok) {
			printf("verified %s %s\n", id, keys[i].path);
			good++;
		}
	}
	if (!rc && good < (unsigned long)threshold) {
		rc = error(E_SIGNATURE, "verify: %s: %lu of %lld required signatures verified "
			   "(%zu distinct key%s given, signatures from %s)", file, good, threshold,
			   nkeys, nkeys == 1 ? "" : "s", sigpath);
	}
	for (size_t i = 0; i < nkeys; i++)
		pubkey_free(keys[i].key);
	buf_free(&data);
	buf_free(&sigdefault);
	return rc ? 1 : 0;
}
