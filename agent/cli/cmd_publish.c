/*
 * cmd_publish — the tools a release server's operator uses, in the same
 * binary as the agent: `root` (create, sign, rotate and check trust roots),
 * `bundle` (pack, sign, verify, inspect release bundles) and `release`
 * (create the signed release pointer of a channel). See docs/formats.md.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "cmd.h"
#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "mem.h"
#include "meta.h"
#include "opts.h"
#include "secrets.h"
#include "pointer.h"
#include "sigfile.h"
#include "signer.h"
#include "trust.h"

#define MAX_KEYS 16
#define MAX_PROBES 16
#define BUNDLE_MAX ((uint64_t)CONFIG_MAX_BUNDLE_KB * 1024)

const char cmd_root_usage[] =
	"init --key KEY [--key KEY ...] [--threshold N] [--release-key PUB ...]\n"
	"                      [--release-threshold N] [--expires WHEN] -o root.yaml\n"
	"       outpost root sign root.yaml --key KEY\n"
	"       outpost root rotate --from OLD.yaml [--add-key PUB ...] [--add-release-key PUB ...]\n"
	"                      [--remove-key ID ...] [--threshold N] [--release-threshold N] [--expires WHEN]\n"
	"                      [--key KEY ...] -o NEW.yaml\n"
	"       outpost root verify root.yaml [--from OLD.yaml]\n"
	"       outpost root publish root.yaml -o ROOTS_DIR";
const char cmd_bundle_usage[] =
	"pack --app APP --version V --sequence N DIR|- -o FILE [--key KEY ...] [--gzip]\n"
	"                      [--expires WHEN] [--health-timeout S] [--probe URL ...]\n"
	"                      [--no-prune] [--keep-on-first-failure]\n"
	"       outpost bundle sign FILE --key KEY\n"
	"       outpost bundle verify FILE --root root.yaml [--min-sequence N] [--identity FILE]\n"
	"       outpost bundle inspect FILE [--json]";
const char cmd_release_usage[] =
	"create --bundle FILE --url URL -o release.yaml [--key KEY ...] [--expires WHEN]\n"
	"                      [--interval S] [--jitter S] [--window HH:MM-HH:MM]\n"
	"                      [--utc-offset +HH:MM] [--percent P] [--salt S]\n"
	"                      [--health-timeout S]\n"
	"       outpost release verify release.yaml --root root.yaml [--bundle FILE]\n"
	"                      [--min-sequence N]";

/* The time of everything a tool writes: SOURCE_DATE_EPOCH when set, so
 * packing the same input twice gives the same bytes. */
static int64_t tool_now(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (s && *s) {
		v = strtoll(s, &end, 10);
		if (!*end && v >= 0)
			return v;
	}
	return (int64_t)time(NULL);
}

/* --expires WHEN when it was given: 0, or the exit status of bad usage. */
static int expires_opt(const struct opts *o, const char *when, int64_t now, int64_t *out)
{
	if (!when || opts_when(when, now, out) == 0)
		return 0;
	return opts_refuse(o, "bad value for --expires %s", when);
}

/* Write a file and its signature file (path + ".sig"). */
static int write_signed(const char *path, const struct buf *data, const struct buf *sig)
{
	char sigpath[4096];
	int rc = file_write_atomic(path, data->data, data->len, 0644);

	if (rc)
		return rc;
	if (snprintf(sigpath, sizeof(sigpath), "%s.sig", path) >= (int)sizeof(sigpath))
		return error(E_USAGE, "%s: path too long", path);
	return file_write_atomic(sigpath, sig->data, sig->len, 0644);
}

static int read_with_sig(const char *path, struct buf *data, struct buf *sig)
{
	char sigpath[4096];
	int rc = file_read(path, ROOT_MAX_SIZE, data);

	if (rc)
		return rc;
	if (snprintf(sigpath, sizeof(sigpath), "%s.sig", path) >= (int)sizeof(sigpath))
		return error(E_USAGE, "%s: path too long", path);
	rc = file_read(sigpath, SIG_MAX_SIZE, sig);
	return rc == E_NOTFOUND ? 0 : rc;
}

/* --- root ------------------------------------------------------------------- */

struct root_keys {
	size_t n;
	char id[MAX_KEYS * 2][KEYID_LEN + 1];
	struct buf pem[MAX_KEYS * 2];
};

/* Add a public key (PEM text) unless present; its index, or an error. */
static int root_keys_add(struct root_keys *k, const char *pem, const char *name)
{
	struct pubkey *pub;
	int rc = pubkey_from_pem(&pub, pem, name);

	if (rc)
		return rc;
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->id[i], pubkey_id(pub)) == 0) {
			pubkey_free(pub);
			return (int)i;
		}
	if (k->n == MAX_KEYS * 2) {
		pubkey_free(pub);
		return error(E_LIMIT, "more than %d keys", MAX_KEYS * 2);
	}
	memcpy(k->id[k->n], pubkey_id(pub), KEYID_LEN + 1);
	pubkey_free(pub);
	buf_init(&k->pem[k->n], KEY_FILE_MAX);
	rc = buf_addstr(&k->pem[k->n], pem);
	if (rc)
		return rc;
	return (int)k->n++;
}

/* The public key of a key given on the command line: NAME(.pub), or the
 * public half of a private key file NAME.key. */
static int root_keys_add_file(struct root_keys *k, const char *path)
{
	struct buf pem = BUF_INIT(KEY_FILE_MAX);
	int rc;

	if (strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".key") == 0) {
		struct buf key = BUF_INIT(KEY_FILE_MAX);
		struct privkey *priv = NULL;

		rc = file_read(path, KEY_FILE_MAX, &key);
		if (!rc)
			rc = privkey_from_pem(&priv, key.data, path);
		if (!rc)
			rc = privkey_pubkey_pem(priv, &pem);
		crypto_wipe(key.data, key.len);
		buf_free(&key);
		privkey_free(priv);
	} else {
		rc = signer_read_pub(path, &pem);
	}
	if (!rc)
		rc = root_keys_add(k, pem.data, path);
	buf_free(&pem);
	return rc;
}

static void root_keys_free(struct root_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		buf_free(&k->pem[i]);
}

struct role_spec {
	size_t n;
	int key[MAX_KEYS * 2];
	long long threshold;
};

static int role_add(struct role_spec *r, int key)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->key[i] == key)
			return 0;
	if (r->n == MAX_KEYS * 2)
		return error(E_LIMIT, "more than %d keys in a role", MAX_KEYS * 2);
	r->key[r->n++] = key;
	return 0;
}

static int write_role(struct buf *out, const char *name, const struct root_keys *k,
		      const struct role_spec *r)
{
	int rc = buf_addf(out, "  %s:\n    threshold: %lld\n    keys:\n", name, r->threshold);

	for (size_t i = 0; !rc && i < r->n; i++)
		rc = buf_addf(out, "      - %s\n", k->id[r->key[i]]);
	return rc;
}

/* root.yaml text for the given keys and roles. */
static int write_root(struct buf *out, int64_t version, int64_t expires,
		      const struct root_keys *k, const struct role_spec *root,
		      const struct role_spec *release)
{
	char when[META_TIME_LEN + 1];
	int rc;

	meta_time_format(expires, when);
	rc = buf_addf(out, "outpost: root/v1\nversion: %lld\nexpires: %s\nkeys:\n",
		      (long long)version, when);
	for (size_t i = 0; !rc && i < k->n; i++) {
		int used = 0;

		for (size_t j = 0; j < root->n; j++)
			used |= root->key[j] == (int)i;
		for (size_t j = 0; j < release->n; j++)
			used |= release->key[j] == (int)i;
		if (!used)
			continue;
		rc = buf_addf(out, "  %s: |\n", k->id[i]);
		for (const char *p = k->pem[i].data; !rc && *p;) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);

			if (n)
				rc = buf_addf(out, "    %.*s\n", (int)n, p);
			p += n + (nl != NULL);
		}
	}
	if (!rc)
		rc = buf_addstr(out, "roles:\n");
	if (!rc)
		rc = write_role(out, "root", k, root);
	if (!rc)
		rc = write_role(out, "release", k, release);
	return rc;
}

static int check_threshold(const char *what, struct role_spec *r)
{
	if (r->threshold == 0)
		r->threshold = 1;
	if (r->threshold < 1 || (size_t)r->threshold > r->n)
		return error(E_USAGE, "%s threshold %lld: must be from 1 to %zu", what,
			     r->threshold, r->n);
	return 0;
}

/* Sign text with each key and write path and path.sig. */
static int sign_and_write(const char *path, const struct buf *text, const char **keys,
			  size_t nkeys, struct buf *sig)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < nkeys; i++)
		rc = signer_sign(keys[i], text->data, text->len, sig);
	if (!rc)
		rc = write_signed(path, text, sig);
	return rc;
}

static int root_init(int argc, char **argv)
{
	const char *keys[MAX_KEYS], *rel[MAX_KEYS], *out = NULL, *when = NULL;
	size_t nkeys = 0, nrel = 0;
	struct root_keys k = { 0 };
	struct role_spec root = { 0 }, release = { 0 };
	struct buf text = BUF_INIT(ROOT_MAX_SIZE), sig = BUF_INIT(SIG_MAX_SIZE);
	int64_t now = tool_now(), expires = now + 365 * 86400;
	struct trust *t = NULL;
	int rc = 0;
	const struct opt table[] = {
		OPT_LIST("key", 0, keys, &nkeys, "KEY", "a root key: its .key signs, its .pub is listed"),
		OPT_LIST("release-key", 0, rel, &nrel, "PUB", "a release key (default: the root keys)"),
		OPT_INT("threshold", 0, &root.threshold, 1, MAX_KEYS, "N", "root signatures needed"),
		OPT_INT("release-threshold", 0, &release.threshold, 1, MAX_KEYS, "N",
			"release signatures needed"),
		OPT_STRING("expires", 0, &when, "WHEN", "a UTC time or a duration (default 365d)"),
		OPT_STRING(NULL, 'o', &out, "FILE", "the root.yaml to write"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("root", "init", table, NULL, 0);

	if (opts_parse(&o, argc, argv) || (rc = expires_opt(&o, when, now, &expires)))
		return 2;
	if (!nkeys || !out)
		return cmd_bad_usage("root", "init: --key and -o are required", NULL);
	for (size_t i = 0; !rc && i < nkeys; i++) {
		rc = root_keys_add_file(&k, keys[i]);
		if (rc >= 0)
			rc = role_add(&root, rc);
	}
	for (size_t i = 0; !rc && i < nrel; i++) {
		rc = root_keys_add_file(&k, rel[i]);
		if (rc >= 0)
			rc = role_add(&release, rc);
	}
	if (!rc && !nrel) /* one set of keys for both roles */
		for (size_t i = 0; i < root.n; i++)
			role_add(&release, root.key[i]);
	if (!rc)
		rc = check_threshold("root", &root);
	if (!rc)
		rc = check_threshold("release", &release);
	if (!rc)
		rc = write_root(&text, 1, expires, &k, &root, &release);
	if (!rc)
		rc = sign_and_write(out, &text, keys, nkeys, &sig);
	if (!rc)
		rc = trust_load(out, text.data, text.len, sig.data, sig.len, now, &t);
	if (!rc)
		printf("%s: version 1, root %lld of %zu keys, release %lld of %zu keys\n",
		       out, root.threshold, root.n, release.threshold, release.n);
	trust_free(t);
	root_keys_free(&k);
	buf_free(&text);
	buf_free(&sig);
	return rc ? 1 : 0;
}

/* Load a root and check it stands: self-signed, or rotated from `from`. */
static int root_load(const char *path, const char *from, int64_t now, struct trust **out)
{
	struct buf a = BUF_INIT(ROOT_MAX_SIZE), as = BUF_INIT(SIG_MAX_SIZE);
	struct buf b = BUF_INIT(ROOT_MAX_SIZE), bs = BUF_INIT(SIG_MAX_SIZE);
	struct trust *old = NULL;
	int rc;

	*out = NULL;
	rc = read_with_sig(path, &a, &as);
	if (!rc && from)
		rc = read_with_sig(from, &b, &bs);
	if (!rc && from)
		rc = trust_load(from, b.data, b.len, bs.data, bs.len, now, &old);
	if (!rc && from)
		rc = trust_rotate(old, path, a.data, a.len, as.data, as.len, now, out);
	else if (!rc)
		rc = trust_load(path, a.data, a.len, as.data, as.len, now, out);
	trust_free(old);
	buf_free(&a);
	buf_free(&as);
	buf_free(&b);
	buf_free(&bs);
	return rc;
}

static int root_verify(int argc, char **argv)
{
	const char *path = NULL, *from = NULL;
	struct trust *t;
	char when[META_TIME_LEN + 1];
	int rc;
	const struct opt table[] = {
		OPT_STRING("from", 0, &from, "OLD.yaml", "check it as a rotation from OLD.yaml"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("root", "verify", table, &path, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!path)
		return cmd_bad_usage("root", "verify: which root.yaml?", NULL);
	rc = root_load(path, from, (int64_t)time(NULL), &t);
	if (rc)
		return 1;
	meta_time_format(trust_expires(t), when);
	printf("%s: valid, version %lld, expires %s, root %d of %zu keys, release %d of %zu"
	       " keys\n", path, (long long)trust_version(t), when,
	       trust_threshold(t, ROLE_ROOT), trust_role_size(t, ROLE_ROOT),
	       trust_threshold(t, ROLE_RELEASE), trust_role_size(t, ROLE_RELEASE));
	trust_free(t);
	return 0;
}

static int root_sign(int argc, char **argv)
{
	const char *path = NULL, *key = NULL;
	struct buf text = BUF_INIT(ROOT_MAX_SIZE), sig = BUF_INIT(SIG_MAX_SIZE);
	int rc;
	const struct opt table[] = {
		OPT_STRING("key", 0, &key, "KEY", "the root key to add a signature with"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("root", "sign", table, &path, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!path || !key)
		return cmd_bad_usage("root", "sign: FILE and --key are required", NULL);
	rc = read_with_sig(path, &text, &sig);
	if (!rc)
		rc = sign_and_write(path, &text, &key, 1, &sig);
	buf_free(&text);
	buf_free(&sig);
	return rc ? 1 : 0;
}

static int root_rotate(int argc, char **argv)
{
	const char *from = NULL, *out = NULL, *keys[MAX_KEYS], *add[MAX_KEYS],
		   *removed[MAX_KEYS], *radd[MAX_KEYS], *when = NULL;
	size_t nkeys = 0, nadd = 0, nremoved = 0, nradd = 0;
	struct buf old = BUF_INIT(ROOT_MAX_SIZE), oldsig = BUF_INIT(SIG_MAX_SIZE);
	struct buf text = BUF_INIT(ROOT_MAX_SIZE), sig = BUF_INIT(SIG_MAX_SIZE);
	struct role_spec root = { 0 }, release = { 0 };
	long long threshold = 0, rthreshold = 0;
	int64_t now = tool_now(), expires = now + 365 * 86400;
	struct root_keys k = { 0 };
	struct trust *cur = NULL, *next = NULL;
	int rc = 0;
	const struct opt table[] = {
		OPT_STRING("from", 0, &from, "OLD.yaml", "the root to rotate from"),
		OPT_LIST("key", 0, keys, &nkeys, "KEY", "a key that signs the new root"),
		OPT_LIST("add-key", 0, add, &nadd, "PUB", "a root key to add"),
		OPT_LIST("add-release-key", 0, radd, &nradd, "PUB", "a release key to add"),
		OPT_LIST("remove-key", 0, removed, &nremoved, "ID", "a key to remove"),
		OPT_INT("threshold", 0, &threshold, 1, MAX_KEYS, "N", "root signatures needed"),
		OPT_INT("release-threshold", 0, &rthreshold, 1, MAX_KEYS, "N",
			"release signatures needed"),
		OPT_STRING("expires", 0, &when, "WHEN", "a UTC time or a duration (default 365d)"),
		OPT_STRING(NULL, 'o', &out, "FILE", "the new root to write"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("root", "rotate", table, NULL, 0);

	if (opts_parse(&o, argc, argv) || (rc = expires_opt(&o, when, now, &expires)))
		return 2;
	if (!from || !out)
		return cmd_bad_usage("root", "rotate: --from and -o are required", NULL);
	rc = read_with_sig(from, &old, &oldsig);
	if (!rc)
		rc = trust_load(from, old.data, old.len, oldsig.data, oldsig.len, now, &cur);
	/* start from the current roles, then apply the changes */
	for (size_t i = 0; !rc && cur && i < trust_key_count(cur); i++) {
		const char *id = trust_key_id(cur, i);
		int gone = 0, idx;

		for (size_t j = 0; j < nremoved; j++)
			gone |= strcmp(removed[j], id) == 0;
		if (gone)
			continue;
		idx = root_keys_add(&k, trust_key_pem(cur, i), id);
		if (idx < 0)
			rc = idx;
		if (!rc && trust_key_in_role(cur, ROLE_ROOT, i))
			rc = role_add(&root, idx);
		if (!rc && trust_key_in_role(cur, ROLE_RELEASE, i))
			rc = role_add(&release, idx);
	}
	for (size_t i = 0; !rc && i < nadd; i++) {
		int idx = root_keys_add_file(&k, add[i]);

		rc = idx < 0 ? idx : role_add(&root, idx);
	}
	for (size_t i = 0; !rc && i < nradd; i++) {
		int idx = root_keys_add_file(&k, radd[i]);

		rc = idx < 0 ? idx : role_add(&release, idx);
	}
	if (rc)
		goto out;
	root.threshold = threshold ? threshold : trust_threshold(cur, ROLE_ROOT);
	release.threshold = rthreshold ? rthreshold : trust_threshold(cur, ROLE_RELEASE);
	rc = check_threshold("root", &root);
	if (!rc)
		rc = check_threshold("release", &release);
	if (!rc)
		rc = write_root(&text, trust_version(cur) + 1, expires, &k, &root, &release);
	if (!rc)
		rc = sign_and_write(out, &text, keys, nkeys, &sig);
	if (!rc) {
		printf("%s: version %lld written\n", out, (long long)trust_version(cur) + 1);
		if (trust_rotate(cur, out, text.data, text.len, sig.data, sig.len, now, &next))
			printf("%s: not yet accepted by gateways: add signatures with "
			       "`outpost root sign %s --key KEY`\n", out, out);
		else
			printf("%s: accepted as the successor of %s\n", out, from);
	}
out:
	trust_free(cur);
	trust_free(next);
	root_keys_free(&k);
	buf_free(&old);
	buf_free(&oldsig);
	buf_free(&text);
	buf_free(&sig);
	return rc ? 1 : 0;
}

/*
 * Publish a root where gateways walk the chain (docs/server.md): as
 * DIR/<version>.root.yaml(.sig), checked first as gateways will check it:
 * a rotation of DIR/<version - 1>.root.yaml when that is there, else a
 * root that stands on its own signatures. A different root of the same
 * version already there is refused.
 */
static int root_publish(int argc, char **argv)
{
	const char *path = NULL, *dir = NULL;
	struct buf text = BUF_INIT(ROOT_MAX_SIZE), sig = BUF_INIT(SIG_MAX_SIZE);
	struct buf have = BUF_INIT(ROOT_MAX_SIZE), hsig = BUF_INIT(SIG_MAX_SIZE);
	char prev[4096], dst[4096];
	struct trust *t = NULL, *p = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc;
	const struct opt table[] = {
		OPT_STRING(NULL, 'o', &dir, "DIR", "the server's roots/ directory"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("root", "publish", table, &path, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!path || !dir)
		return cmd_bad_usage("root", "publish: root.yaml and -o DIR are required", NULL);
	rc = read_with_sig(path, &text, &sig);
	if (!rc)
		rc = trust_parse(path, text.data, text.len, &t);
	if (rc)
		goto out;
	snprintf(prev, sizeof(prev), "%s/%lld.root.yaml", dir, (long long)trust_version(t) - 1);
	if (snprintf(dst, sizeof(dst), "%s/%lld.root.yaml", dir,
		     (long long)trust_version(t)) >= (int)sizeof(dst)) {
		rc = error(E_USAGE, "%s: path too long", dir);
		goto out;
	}
	trust_free(t);
	t = NULL;
	rc = root_load(path, access(prev, F_OK) == 0 ? prev : NULL, now, &p);
	if (rc)
		goto out;
	if (access(dst, F_OK) == 0)
		rc = read_with_sig(dst, &have, &hsig);
	if (!rc && have.len && (have.len != text.len || memcmp(have.data, text.data, text.len)))
		rc = error(E_STATE, "%s: a different root of version %lld is published there: "
			   "refused (a version names one root only)", dst,
			   (long long)trust_version(p));
	if (!rc && mkdir(dir, 0755) && errno != EEXIST)
		rc = error(E_IO, "%s: %s", dir, strerror(errno));
	if (!rc)
		rc = write_signed(dst, &text, &sig);
	if (!rc)
		printf("%s: version %lld published%s%s\n", dst, (long long)trust_version(p),
		       access(prev, F_OK) == 0 ? ", a verified rotation of " : "",
		       access(prev, F_OK) == 0 ? prev : "");
out:
	trust_free(t);
	trust_free(p);
	buf_free(&text);
	buf_free(&sig);
	buf_free(&have);
	buf_free(&hsig);
	return rc ? 1 : 0;
}

int cmd_root(int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "init", root_init }, { "sign", root_sign }, { "rotate", root_rotate },
		{ "verify", root_verify }, { "publish", root_publish }, { NULL, NULL }
	};

	return cmd_dispatch("root", subs, argc, argv);
}

/* --- bundle ----------------------------------------------------------------- */

struct file_list {
	size_t n;
	struct bundle_file f[BUNDLE_FILES_MAX];
	uint64_t total;
};

static void file_list_free(struct file_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		mem_free(l->f[i].name);
		mem_free(l->f[i].data);
	}
	l->n = 0;
}

static int file_list_add(struct file_list *l, const char *name, const char *path)
{
	struct buf data = BUF_INIT((size_t)BUNDLE_MAX);
	struct bundle_file *f;
	int rc;

	if (l->n == BUNDLE_FILES_MAX)
		return error(E_LIMIT, "more than %d files", BUNDLE_FILES_MAX);
	rc = file_read(path, (size_t)(BUNDLE_MAX - l->total), &data);
	if (rc)
		return rc;
	f = &l->f[l->n];
	f->name = mem_strdup(name);
	f->data = buf_detach(&data, &f->len);
	if (!f->name || !f->data) {
		mem_free(f->name);
		mem_free(f->data);
		return E_NOMEM;
	}
	sha256(f->data, f->len, f->sha256);
	l->total += f->len;
	l->n++;
	return 0;
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Add DIR's manifests, recursively, in byte order of their paths. */
static int collect(struct file_list *l, const char *dir, const char *rel, int depth)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, name_cmp), rc = 0;

	if (n < 0)
		return error(E_IO, "%s: cannot read the directory", dir);
	if (depth > 8)
		rc = error(E_LIMIT, "%s: directories nested deeper than 8", dir);
	for (int i = 0; i < n; i++) {
		char path[4096], name[512];
		struct stat st;

		if (!rc && ents[i]->d_name[0] != '.' &&
		    snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name) < (int)sizeof(path) &&
		    snprintf(name, sizeof(name), "%s/%s", rel, ents[i]->d_name) < (int)sizeof(name) &&
		    stat(path, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc = collect(l, path, name, depth + 1);
			else if (S_ISREG(st.st_mode) &&
				 (bundle_is_manifest(name) || secrets_member_is_encrypted(name)))
				rc = file_list_add(l, name, path);
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

/* Bytes in memory as a read_fn source. */
struct mem_src {
	const char *p;
	size_t left;
};

static int mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_src *m = ctx;
	size_t n = len < m->left ? len : m->left;

	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (int)n;
}

static int bundle_pack(int argc, char **argv)
{
	const char *keys[MAX_KEYS], *probes[MAX_PROBES], *in = NULL, *out = NULL, *when = NULL;
	size_t nkeys = 0, nprobes = 0;
	struct bundle_spec spec = { 0 };
	struct file_list *files;
	struct buf meta = BUF_INIT(BUNDLE_META_MAX), sig = BUF_INIT(SIG_MAX_SIZE);
	struct buf bundle = BUF_INIT((size_t)BUNDLE_MAX);
	long long seq = 0, ht = 0;
	int gzip = 0, rc = 0;
	const struct opt table[] = {
		OPT_STRING("app", 0, &spec.app, "APP", "the app (a DNS label)"),
		OPT_STRING("version", 0, &spec.version, "V", "the release's version"),
		OPT_INT("sequence", 0, &seq, 1, META_SEQUENCE_MAX, "N", "the release's sequence"),
		OPT_LIST("key", 0, keys, &nkeys, "KEY", "a release key to sign with"),
		OPT_STRING("expires", 0, &when, "WHEN", "a UTC time or a duration"),
		OPT_INT("health-timeout", 0, &ht, 1, 86400, "S", "seconds to become healthy"),
		OPT_LIST("probe", 0, probes, &nprobes, "URL", "an HTTP health probe"),
		OPT_STRING(NULL, 'o', &out, "FILE", "the bundle to write"),
		OPT_FLAG("gzip", 0, &gzip, "compress the bundle"),
		OPT_FLAG("no-prune", 0, &spec.no_prune, "keep objects the release drops"),
		OPT_FLAG("keep-on-first-failure", 0, &spec.keep_on_first_failure,
			 "a failed first install stays in place"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("bundle", "pack", table, &in, 1);

	spec.created = tool_now();
	if (opts_parse(&o, argc, argv) || (rc = expires_opt(&o, when, spec.created, &spec.expires)))
		return 2;
	if (!spec.app || !spec.version || !seq || !in || !out)
		return cmd_bad_usage("bundle", "pack: --app, --version, --sequence, the input "
				     "and -o are required", NULL);
	if (!meta_is_dns_label(spec.app))
		return cmd_bad_usage("bundle", "pack: --app must be a DNS label:", spec.app);
	if (gzip && !IS_ENABLED(CONFIG_GZIP))
		return error(E_UNSUPPORTED, "bundle pack: this build has no gzip support"), 1;
	spec.sequence = seq;
	spec.health_timeout = ht;
	spec.probes = probes;
	spec.nprobes = nprobes;
	files = mem_zalloc(1, sizeof(*files));
	if (!files)
		return error(E_NOMEM, "bundle pack: %s", err_str(E_NOMEM)), 1;
	if (strcmp(in, "-") == 0)
		rc = file_list_add(files, "manifests/stdin.yaml", "-");
	else
		rc = collect(files, in, "manifests", 0);
	if (!rc && files->n == 0)
		rc = error(E_NOTFOUND, "bundle pack: no .yaml, .yml or .json files in %s", in);
	if (!rc)
		rc = bundle_write_meta(&meta, &spec, files->f, files->n);
	for (size_t i = 0; !rc && i < nkeys; i++)
		rc = signer_sign(keys[i], meta.data, meta.len, &sig);
	if (!rc)
		rc = bundle_write(&bundle, meta.data, meta.len, sig.data, sig.len, files->f,
				  files->n, gzip);
	if (!rc) {
		/* what we made must read back, with the checks and the size cap of
		 * bundle verify (but the trust), before the output appears; it is
		 * written through a temporary file and a rename */
		struct mem_src src = { bundle.data, bundle.len };
		struct bundle *b = NULL;

		rc = bundle_read(mem_read, &src, out, BUNDLE_MAX, NULL, NULL, &b);
		if (!rc)
			rc = file_write_atomic(out, bundle.data, bundle.len, 0644);
		if (!rc)
			printf("%s: %s %s sequence %lld, %zu files, %zu bytes, %zu signature%s\n",
			       out, spec.app, spec.version, seq, files->n, bundle.len, nkeys,
			       nkeys == 1 ? "" : "s");
		bundle_free(b);
	}
	file_list_free(files);
	mem_free(files);
	buf_free(&meta);
	buf_free(&sig);
	buf_free(&bundle);
	return rc ? 1 : 0;
}

/* Whether the bundle file starts with the gzip magic. */
static int bundle_is_gzip(const char *path)
{
	struct buf head = BUF_INIT((size_t)BUNDLE_MAX + BUNDLE_META_MAX);
	int gz = 0;

	if (file_read(path, (size_t)BUNDLE_MAX + BUNDLE_META_MAX, &head) == 0)
		gz = head.len >= 2 && (unsigned char)head.data[0] == 0x1f &&
		     (unsigned char)head.data[1] == 0x8b;
	buf_free(&head);
	return gz;
}

static int bundle_sign(int argc, char **argv)
{
	const char *path = NULL, *keys[MAX_KEYS];
	size_t nkeys = 0;
	struct buf sig = BUF_INIT(SIG_MAX_SIZE);
	struct buf out = BUF_INIT((size_t)BUNDLE_MAX + BUNDLE_META_MAX);
	struct bundle *b = NULL;
	int rc;
	const struct opt table[] = {
		OPT_LIST("key", 0, keys, &nkeys, "KEY", "a release key to add a signature with"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("bundle", "sign", table, &path, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!path || !nkeys)
		return cmd_bad_usage("bundle", "sign: FILE and --key are required", NULL);
	rc = bundle_read_file(path, BUNDLE_MAX + BUNDLE_META_MAX, NULL, NULL, &b);
	if (!rc)
		rc = buf_add(&sig, b->sig, b->sig_len);
	for (size_t i = 0; !rc && i < nkeys; i++)
		rc = signer_sign(keys[i], b->meta, b->meta_len, &sig);
	if (!rc)
		rc = bundle_write(&out, b->meta, b->meta_len, sig.data, sig.len, b->files,
				  b->nfiles, bundle_is_gzip(path));
	if (!rc)
		rc = file_write_atomic(path, out.data, out.len, 0644);
	if (!rc)
		printf("%s: signed by %zu key%s\n", path, nkeys, nkeys == 1 ? "" : "s");
	bundle_free(b);
	buf_free(&sig);
	buf_free(&out);
	return rc ? 1 : 0;
}

static void print_bundle(const struct bundle *b, int json)
{
	char created[META_TIME_LEN + 1], hex[SHA256_HEX_LEN + 1];

	meta_time_format(b->created, created);
	sha256_hex(b->digest, hex);
	if (!json) {
		printf("app %s\nversion %s\nsequence %lld\ncreated %s\nsha256 %s\nsize %llu\n",
		       b->app, b->version, (long long)b->sequence, created, hex,
		       (unsigned long long)b->raw_size);
		for (size_t i = 0; i < b->nfiles; i++) {
			struct buf what = BUF_INIT(64 * 1024);

			printf("file %s %zu\n", b->files[i].name, b->files[i].len);
			if (secrets_describe(b->files[i].name, b->files[i].data, b->files[i].len,
					     &what) == 0)
				printf("encrypted %s %s\n", b->files[i].name, what.data);
			buf_free(&what);
		}
		return;
	}
	/* app and names were checked: DNS label, printable tar names; version is
	 * printable ASCII, so only '"' and '\\' need escaping. */
	printf("{\"app\":\"%s\",\"version\":\"", b->app);
	for (const char *p = b->version; *p; p++)
		printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	printf("\",\"sequence\":%lld,\"created\":\"%s\",\"sha256\":\"%s\",\"size\":%llu,"
	       "\"files\":[", (long long)b->sequence, created, hex,
	       (unsigned long long)b->raw_size);
	for (size_t i = 0; i < b->nfiles; i++) {
		sha256_hex(b->files[i].sha256, hex);
		printf("%s{\"name\":\"", i ? "," : "");
		for (const char *p = b->files[i].name; *p; p++)
			printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
		printf("\",\"size\":%zu,\"sha256\":\"%s\"", b->files[i].len, hex);
		struct buf what = BUF_INIT(64 * 1024), q = BUF_INIT(128 * 1024);
		/* "age X25519, ..." or "sops age1..., ...": recipients are public */
		if (secrets_describe(b->files[i].name, b->files[i].data, b->files[i].len,
				     &what) == 0 && !doc_json_quote(&q, what.data, what.len))
			printf(",\"encrypted\":%s", q.data);
		buf_free(&what);
		buf_free(&q);
		printf("}");
	}
	printf("]}\n");
}

static int bundle_check(int argc, char **argv, int verify)
{
	const char *path = NULL, *root = NULL, *identity = NULL;
	struct verify_ctx ctx = { (int64_t)time(NULL), 0, NULL,
				  trust_created_limit((int64_t)time(NULL), 0) };
	struct trust *t = NULL;
	struct bundle *b = NULL;
	long long min = 0;
	int json = 0, rc = 0;
	const struct opt vtable[] = {
		OPT_STRING("root", 0, &root, "root.yaml", "the trust root"),
		OPT_INT("min-sequence", 0, &min, 0, META_SEQUENCE_MAX, "N",
			"the highest sequence already accepted"),
		OPT_STRING("identity", 0, &identity, "FILE",
			   "an age identity that must open every encrypted file"),
		{ 0 }
	}, itable[] = {
		OPT_FLAG("json", 0, &json, "print JSON"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("bundle", verify ? "verify" : "inspect",
				  verify ? vtable : itable, &path, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	ctx.min_sequence = min;
	if (!path || (verify && !root))
		return cmd_bad_usage("bundle", verify ? "verify: FILE and --root are required" :
				     "inspect: which FILE?", NULL);
	if (verify)
		rc = root_load(root, NULL, ctx.now, &t);
	if (!rc)
		rc = bundle_read_file(path, BUNDLE_MAX, t, verify ? &ctx : NULL, &b);
	if (!rc && verify && identity) {
		size_t n = 0;

		rc = secrets_check_files(identity, b->files, b->nfiles, &n);
		if (!rc)
			printf("%s: %zu encrypted file%s, every one opens with %s\n", path, n,
			       n == 1 ? "" : "s", identity);
	}
	if (!rc && verify)
		printf("%s: verified: %s %s sequence %lld, %zu files, signed by the release "
		       "threshold of %s\n", path, b->app, b->version, (long long)b->sequence,
		       b->nfiles, root);
	else if (!rc)
		print_bundle(b, json);
	bundle_free(b);
	trust_free(t);
	return rc ? 1 : 0;
}

static int bundle_verify(int argc, char **argv)
{
	return bundle_check(argc, argv, 1);
}

static int bundle_inspect(int argc, char **argv)
{
	return bundle_check(argc, argv, 0);
}

int cmd_bundle(int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "pack", bundle_pack }, { "sign", bundle_sign }, { "verify", bundle_verify },
		{ "inspect", bundle_inspect }, { NULL, NULL }
	};

	return cmd_dispatch("bundle", subs, argc, argv);
}

/* --- release ---------------------------------------------------------------- */

static int release_create(int argc, char **argv)
{
	const char *bundle = NULL, *url = NULL, *out = NULL, *window = NULL, *offset = NULL,
		   *salt = NULL, *keys[MAX_KEYS], *when = NULL;
	size_t nkeys = 0;
	long long interval = 0, jitter = 0, percent = -1, ht = 0;
	int64_t now = tool_now(), expires = now + 30 * 86400;
	struct buf text = BUF_INIT(64 * 1024), sig = BUF_INIT(SIG_MAX_SIZE);
	char created[META_TIME_LEN + 1], until[META_TIME_LEN + 1], hex[SHA256_HEX_LEN + 1];
	struct pointer check;
	struct bundle *b = NULL;
	int rc = 0, m;
	const struct opt table[] = {
		OPT_STRING("bundle", 0, &bundle, "FILE", "the bundle the release points to"),
		OPT_STRING("url", 0, &url, "URL", "where gateways download the bundle"),
		OPT_STRING(NULL, 'o', &out, "FILE", "the release.yaml to write"),
		OPT_LIST("key", 0, keys, &nkeys, "KEY", "a release key to sign with"),
		OPT_STRING("expires", 0, &when, "WHEN", "a UTC time or a duration (default 30d)"),
		OPT_INT("interval", 0, &interval, 10, 7 * 86400, "S", "seconds between polls"),
		OPT_INT("jitter", 0, &jitter, 0, 86400, "S", "random seconds added to a poll"),
		OPT_STRING("window", 0, &window, "HH:MM-HH:MM", "when gateways may apply"),
		OPT_STRING("utc-offset", 0, &offset, "+HH:MM", "the window's time zone"),
		OPT_INT("percent", 0, &percent, 0, 100, "P", "the share of gateways to roll out to"),
		OPT_STRING("salt", 0, &salt, "S", "picks the cohort (default: the app)"),
		OPT_INT("health-timeout", 0, &ht, 1, 86400, "S", "seconds to become healthy"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("release", "create", table, NULL, 0);

	if (opts_parse(&o, argc, argv) || (rc = expires_opt(&o, when, now, &expires)))
		return 2;
	if (offset && pointer_parse_offset(offset, &m))
		return opts_refuse(&o, "bad value for --utc-offset %s", offset);
	if (!bundle || !url || !out)
		return cmd_bad_usage("release", "create: --bundle, --url and -o are required", NULL);
	rc = bundle_read_file(bundle, BUNDLE_MAX, NULL, NULL, &b);
	if (rc)
		return 1;
	meta_time_format(now, created);
	meta_time_format(expires, until);
	sha256_hex(b->digest, hex);
	rc = buf_addf(&text, "outpost: release/v1\napp: %s\nsequence: %lld\nversion: \"%s\"\n"
		      "created: %s\nexpires: %s\nbundle:\n  url: \"%s\"\n  size: %llu\n"
		      "  sha256: %s\n", b->app, (long long)b->sequence, b->version, created,
		      until, url, (unsigned long long)b->raw_size, hex);
	if (!rc && (interval || jitter || window || offset))
		rc = buf_addstr(&text, "schedule:\n");
	if (!rc && interval)
		rc = buf_addf(&text, "  interval: %lld\n", interval);
	if (!rc && jitter)
		rc = buf_addf(&text, "  jitter: %lld\n", jitter);
	if (!rc && window)
		rc = buf_addf(&text, "  window: \"%s\"\n", window);
	if (!rc && offset)
		rc = buf_addf(&text, "  utc_offset: \"%s\"\n", offset);
	if (!rc && (percent >= 0 || salt))
		rc = buf_addf(&text, "rollout:\n  percent: %lld\n  salt: \"%s\"\n",
			      percent >= 0 ? percent : 100, salt ? salt : b->app);
	if (!rc && ht)
		rc = buf_addf(&text, "health:\n  timeout: %lld\n", ht);
	/* what we publish must parse as a gateway will parse it */
	if (!rc)
		rc = pointer_parse(out, text.data, text.len, &check);
	if (!rc)
		rc = sign_and_write(out, &text, keys, nkeys, &sig);
	if (!rc)
		printf("%s: %s sequence %lld -> %s (%llu bytes), %zu signature%s\n", out, b->app,
		       (long long)b->sequence, url, (unsigned long long)b->raw_size, nkeys,
		       nkeys == 1 ? "" : "s");
	bundle_free(b);
	buf_free(&text);
	buf_free(&sig);
	return rc ? 1 : 0;
}

static int release_verify(int argc, char **argv)
{
	const char *path = NULL, *root = NULL, *bpath = NULL;
	struct verify_ctx ctx = { (int64_t)time(NULL), 0, NULL,
				  trust_created_limit((int64_t)time(NULL), 0) };
	struct buf text = BUF_INIT(64 * 1024), sig = BUF_INIT(SIG_MAX_SIZE);
	struct trust *t = NULL;
	struct bundle *b = NULL;
	struct pointer p;
	long long min = 0;
	int rc;
	const struct opt table[] = {
		OPT_STRING("root", 0, &root, "root.yaml", "the trust root"),
		OPT_STRING("bundle", 0, &bpath, "FILE", "also check that FILE is the bundle named"),
		OPT_INT("min-sequence", 0, &min, 0, META_SEQUENCE_MAX, "N",
			"the highest sequence already accepted"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("release", "verify", table, &path, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	ctx.min_sequence = min;
	if (!path || !root)
		return cmd_bad_usage("release", "verify: FILE and --root are required", NULL);
	rc = root_load(root, NULL, ctx.now, &t);
	if (!rc)
		rc = read_with_sig(path, &text, &sig);
	if (!rc)
		rc = pointer_verify(t, path, text.data, text.len, sig.data, sig.len, &ctx, &p);
	if (!rc && bpath) {
		ctx.app = p.app;
		rc = bundle_read_file(bpath, (uint64_t)p.size, t, &ctx, &b);
		if (!rc)
			rc = bundle_matches_pointer(b, &p, bpath);
	}
	if (!rc)
		printf("%s: verified: %s sequence %lld%s%s\n", path, p.app, (long long)p.sequence,
		       bpath ? ", bundle " : "", bpath ? bpath : "");
	bundle_free(b);
	trust_free(t);
	buf_free(&text);
	buf_free(&sig);
	return rc ? 1 : 0;
}

int cmd_release(int argc, char **argv)
{
	static const struct subcmd subs[] = {
		{ "create", release_create }, { "verify", release_verify }, { NULL, NULL }
	};

	return cmd_dispatch("release", subs, argc, argv);
}
