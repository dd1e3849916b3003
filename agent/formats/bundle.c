/* bundle — read, verify and write release bundles. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "doc.h"
#include "error.h"
#include "gzip.h"
#include "manifest.h"
#include "mem.h"
#include "meta.h"

/* The raw bundle as it arrives: hashed, counted, capped. */
struct raw {
	read_fn read;
	void *ctx;
	struct sha256 hash;
	uint64_t size, max;
	const char *name;
};

static int raw_read(void *ctx, void *buf, size_t len)
{
	struct raw *r = ctx;
	int n;

	if (r->size >= r->max) {
		/* one byte past the cap is enough to know it is too big */
		unsigned char probe;

		n = r->read(r->ctx, &probe, 1);
		if (n > 0)
			return error(E_LIMIT, "%s: larger than %llu bytes", r->name,
				     (unsigned long long)r->max);
		return n;
	}
	if (len > r->max - r->size)
		len = (size_t)(r->max - r->size);
	n = r->read(r->ctx, buf, len);
	if (n > 0) {
		sha256_update(&r->hash, buf, (size_t)n);
		r->size += (uint64_t)n;
	}
	return n;
}

void bundle_free(struct bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nfiles; i++) {
		mem_free(b->files[i].name);
		mem_free(b->files[i].data);
	}
	for (size_t i = 0; i < b->nprobes; i++) {
		mem_free(b->probes[i].name);
		mem_free(b->probes[i].url);
	}
	mem_free(b->files);
	mem_free(b->probes);
	mem_free(b->meta);
	mem_free(b->sig);
	mem_free(b);
}

/* Read the whole current tar entry (size bytes, at most max) into *data. */
static int read_entry(struct tar_reader *tr, const char *bname, const struct tar_entry *e,
		      uint64_t max, char **data, size_t *len)
{
	struct buf b = BUF_INIT((size_t)max);
	int rc;

	if (e->size > max)
		return error(E_LIMIT, "%s: %s is %llu bytes, more than %llu allowed", bname,
			     e->name, (unsigned long long)e->size, (unsigned long long)max);
	rc = buf_grow(&b, (size_t)e->size);
	while (!rc && b.len < e->size) {
		int n = tar_read(tr, b.data + b.len, (size_t)e->size - b.len);

		if (n <= 0)
			rc = n ? n : error(E_TRUNCATED, "%s: %s ends early", bname, e->name);
		else
			b.len += (size_t)n;
	}
	if (rc) {
		buf_free(&b);
		return rc;
	}
	b.data[b.len] = '\0';
	*data = buf_detach(&b, len);
	return *data ? 0 : E_NOMEM;
}

/* The next member must be called want; it is read whole. */
static int expect_entry(struct tar_reader *tr, const char *bname, const char *want,
			uint64_t max, char **data, size_t *len)
{
	struct tar_entry e;
	int rc = tar_next(tr, &e);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return error(E_FORMAT, "%s: %s is missing", bname, want);
	if (strcmp(e.name, want) != 0)
		return error(E_FORMAT, "%s: member '%s' where %s must be", bname, e.name, want);
	return read_entry(tr, bname, &e, max, data, len);
}

static int parse_probes(struct bundle *b, const struct doc *d, const struct node *list)
{
	static const char *const allowed[] = { "name", "url", "status", "timeout", NULL };

	if (list->type != NODE_SEQ)
		return doc_error(d, list, E_FORMAT, "'probes' must be a list");
	if (list->len > BUNDLE_PROBES_MAX)
		return doc_error(d, list, E_LIMIT, "more than %d probes", BUNDLE_PROBES_MAX);
	b->probes = mem_zalloc(list->len ? list->len : 1, sizeof(*b->probes));
	if (!b->probes)
		return E_NOMEM;
	for (size_t i = 0; i < list->len; i++) {
		const struct node *p = list->items[i];
		struct bundle_probe *pr = &b->probes[i];
		const char *name = NULL, *url = NULL;
		int64_t status = 0, timeout = 5;
		int rc = node_check_keys(d, p, allowed);

		if (!rc)
			rc = meta_str(d, p, "url", 2048, 1, &url);
		if (!rc)
			rc = meta_str(d, p, "name", 63, 0, &name);
		if (!rc)
			rc = meta_int(d, p, "status", 100, 599, 0, &status);
		if (!rc)
			rc = meta_int(d, p, "timeout", 1, 300, 0, &timeout);
		if (rc)
			return rc;
		if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
			return doc_error(d, node_map_get(p, "url"), E_FORMAT,
					 "probe url must be http:// or https://");
		pr->url = mem_strdup(url);
		pr->name = mem_strdup(name ? name : url);
		b->nprobes++;
		if (!pr->url || !pr->name)
			return E_NOMEM;
		pr->status = (int)status;
		pr->timeout = (int)timeout;
	}
	return 0;
}

static int parse_meta(struct bundle *b, const char *name)
{
	static const char *const allowed[] = { "outpost", "app", "version", "sequence",
		"created", "expires", "files", "health", "policy", NULL };
	static const char *const file_keys[] = { "name", "size", "sha256", NULL };
	static const char *const health_keys[] = { "timeout", "probes", NULL };
	static const char *const policy_keys[] = { "prune", "on_first_install_failure", NULL };
	const char *app, *version, *fail_policy = NULL;
	const struct node *files, *health, *policy;
	struct doc *d;
	struct node *root;
	int rc;

	rc = meta_load(name, b->meta, b->meta_len, BUNDLE_META_MAX, "bundle/v1", &d, &root);
	if (rc)
		return rc;
	rc = node_check_keys(d, root, allowed);
	if (!rc)
		rc = meta_app(d, root, "app", &app);
	if (!rc)
		rc = meta_str(d, root, "version", 128, 1, &version);
	if (!rc)
		rc = meta_int(d, root, "sequence", 1, META_SEQUENCE_MAX, 1, &b->sequence);
	if (!rc)
		rc = meta_time(d, root, "created", 1, &b->created);
	if (!rc)
		rc = meta_time(d, root, "expires", 0, &b->expires);
	if (rc)
		goto out;
	memcpy(b->app, app, strlen(app) + 1);
	memcpy(b->version, version, strlen(version) + 1);

	files = node_map_get(root, "files");
	if (!files || files->type != NODE_SEQ || files->len == 0) {
		rc = doc_error(d, files ? files : root, E_FORMAT,
			       "'files' must list the bundle's files");
		goto out;
	}
	if (files->len > BUNDLE_FILES_MAX) {
		rc = doc_error(d, files, E_LIMIT, "more than %d files", BUNDLE_FILES_MAX);
		goto out;
	}
	b->files = mem_zalloc(files->len, sizeof(*b->files));
	if (!b->files) {
		rc = E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < files->len && !rc; i++) {
		const struct node *f = files->items[i];
		struct bundle_file *bf = &b->files[i];
		const char *fname;
		int64_t size;

		rc = node_check_keys(d, f, file_keys);
		if (!rc)
			rc = meta_str(d, f, "name", TAR_NAME_MAX, 1, &fname);
		if (!rc)
			rc = meta_int(d, f, "size", 0, (int64_t)1 << 40, 1, &size);
		if (!rc)
			rc = meta_sha256(d, f, "sha256", bf->sha256);
		if (rc)
			break;
		if (strcmp(fname, "bundle.yaml") == 0 || strcmp(fname, "bundle.yaml.sig") == 0)
			rc = doc_error(d, f, E_FORMAT, "'%s' cannot be a listed file", fname);
		for (size_t j = 0; !rc && j < i; j++)
			if (strcmp(b->files[j].name, fname) == 0)
				rc = doc_error(d, f, E_FORMAT, "file '%s' listed twice", fname);
		if (rc)
			break;
		bf->name = mem_strdup(fname);
		bf->len = (size_t)size;
		b->nfiles++;
		if (!bf->name)
			rc = E_NOMEM;
	}
	health = node_map_get(root, "health");
	if (!rc && health) {
		rc = node_check_keys(d, health, health_keys);
		if (!rc)
			rc = meta_int(d, health, "timeout", 1, 86400, 0, &b->health_timeout);
		if (!rc && node_map_get(health, "probes"))
			rc = parse_probes(b, d, node_map_get(health, "probes"));
	}
	b->prune = 1;
	policy = node_map_get(root, "policy");
	if (!rc && policy) {
		const struct node *prune = node_map_get(policy, "prune");

		rc = node_check_keys(d, policy, policy_keys);
		if (!rc && prune && node_bool(prune, &b->prune))
			rc = doc_error(d, prune, E_FORMAT, "'prune' must be true or false");
		if (!rc)
			rc = meta_str(d, policy, "on_first_install_failure", 16, 0, &fail_policy);
		if (!rc && fail_policy) {
			if (strcmp(fail_policy, "keep") == 0)
				b->keep_on_first_failure = 1;
			else if (strcmp(fail_policy, "prune") != 0)
				rc = doc_error(d, node_map_get(policy, "on_first_install_failure"),
					       E_FORMAT, "'on_first_install_failure' must be "
					       "prune or keep");
		}
	}
out:
	doc_free(d);
	return rc;
}

int bundle_matches_pointer(const struct bundle *b, const struct pointer *p,
			   const char *name)
{
	if (b->raw_size != (uint64_t)p->size)
		return error(E_DIGEST, "%s: %llu bytes, the release pointer says %lld", name,
			     (unsigned long long)b->raw_size, (long long)p->size);
	if (memcmp(b->digest, p->sha256, SHA256_LEN) != 0)
		return error(E_DIGEST, "%s: sha256 differs from the release pointer's", name);
	if (strcmp(b->app, p->app) != 0 || b->sequence != p->sequence)
		return error(E_FORMAT, "%s: holds %s sequence %lld, the pointer names %s "
			     "sequence %lld", name, b->app, (long long)b->sequence, p->app,
			     (long long)p->sequence);
	return 0;
}

int bundle_is_manifest(const char *name)
{
	size_t n = strlen(name);

	if (strcmp(name, "bundle.yaml") == 0)   /* the bundle's own manifest */
		return 0;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

int bundle_parse(const char *name, const char *meta, size_t len, struct bundle **out)
{
	struct bundle *b = mem_zalloc(1, sizeof(*b));
	int rc;

	*out = NULL;
	if (!b)
		return E_NOMEM;
	b->meta = mem_strndup(meta, len);
	b->meta_len = len;
	rc = b->meta ? parse_meta(b, name) : E_NOMEM;
	if (rc) {
		bundle_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* A manifest must split into Kubernetes objects. */
static int check_manifest(const char *name, const char *file, const char *data, size_t len)
{
	struct manifest *m = NULL;
	char where[512];
	int rc;

	snprintf(where, sizeof(where), "%s:%s", name, file);
	rc = manifest_load(where, data, len, NULL, &m);
	manifest_free(m);
	return rc;
}

#define STREAM_CHUNK (64 * 1024)

/*
 * A file that is not a manifest, to the sink as it is read, hashed on the
 * way: its digest is known only at its end, so the sink's writes are
 * provisional until bundle_read() returns 0.
 */
static int stream_entry(struct tar_reader *tr, const char *bname, struct bundle_file *f,
			size_t index, const struct bundle_sink *sink)
{
	unsigned char *chunk = mem_alloc(1, STREAM_CHUNK), digest[SHA256_LEN];
	struct sha256 h;
	uint64_t off = 0;
	/* one call at offset 0 per file: an empty one gets it here */
	int rc = !chunk ? E_NOMEM : f->len ? 0 : sink->file(sink->ctx, index, 0, NULL, 0);

	sha256_init(&h);
	while (!rc && off < f->len) {
		size_t want = f->len - off > STREAM_CHUNK ? STREAM_CHUNK : (size_t)(f->len - off);
		int n = tar_read(tr, chunk, want);

		if (n <= 0) {
			rc = n ? n : error(E_TRUNCATED, "%s: %s ends early", bname, f->name);
			break;
		}
		sha256_update(&h, chunk, (size_t)n);
		rc = sink->file(sink->ctx, index, off, chunk, (size_t)n);
		off += (uint64_t)n;
	}
	sha256_final(&h, digest);
	if (!rc && memcmp(digest, f->sha256, SHA256_LEN) != 0)
		rc = error(E_DIGEST, "%s: '%s' does not match its sha256 in bundle.yaml", bname,
			   f->name);
	mem_free(chunk);
	return rc;
}

int bundle_read(read_fn read, void *ctx, const char *name, uint64_t max_size,
		const struct trust *t, const struct verify_ctx *vctx,
		struct bundle **out)
{
	return bundle_read_sink(read, ctx, name, max_size, t, vctx, NULL, out);
}

int bundle_read_sink(read_fn read, void *ctx, const char *name, uint64_t max_size,
		     const struct trust *t, const struct verify_ctx *vctx,
		     const struct bundle_sink *sink, struct bundle **out)
{
	struct tar_limits lim = { BUNDLE_FILES_MAX + 2, max_size, max_size, TAR_NAME_MAX };
	struct raw raw = { read, ctx, { { 0 } }, 0, max_size, name };
	struct gzip_reader *gz = NULL;
	struct tar_reader *tr = NULL;
	struct gzip_peek peek;
	struct bundle *b;
	struct tar_entry e;
	int rc;

	*out = NULL;
	b = mem_zalloc(1, sizeof(*b));
	if (!b)
		return E_NOMEM;
	sha256_init(&raw.hash);
	rc = gzip_peek_init(&peek, raw_read, &raw);
	if (rc == 1) {
		rc = gzip_reader_new(&gz, gzip_peek_read, &peek, max_size);
		if (!rc)
			rc = tar_reader_new(&tr, gzip_read, gz, &lim);
	} else if (rc == 0) {
		rc = tar_reader_new(&tr, gzip_peek_read, &peek, &lim);
	}
	if (!rc)
		rc = expect_entry(tr, name, "bundle.yaml", BUNDLE_META_MAX, &b->meta, &b->meta_len);
	if (!rc)
		rc = expect_entry(tr, name, "bundle.yaml.sig", SIG_MAX_SIZE, &b->sig, &b->sig_len);
	if (!rc && t)
		rc = trust_check(t, ROLE_RELEASE, name, b->meta, b->meta_len, b->sig, b->sig_len);
	if (!rc)
		rc = parse_meta(b, name);
	if (!rc && t && vctx) {
		if (vctx->app && strcmp(vctx->app, b->app) != 0)
			rc = error(E_FORMAT, "%s: bundle of app '%s', expected '%s'", name,
				   b->app, vctx->app);
		else if (b->expires)
			rc = trust_check_expiry(name, b->expires, vctx->now);
		if (!rc)
			rc = trust_check_created(name, b->created, vctx->max_created);
		if (!rc && b->sequence < vctx->min_sequence)
			rc = error(E_ROLLBACK, "%s: sequence %lld is older than %lld, already "
				   "accepted for '%s'", name, (long long)b->sequence,
				   (long long)vctx->min_sequence, b->app);
	}
	if (!rc && sink && sink->begin)
		rc = sink->begin(sink->ctx, b);
	for (size_t i = 0; !rc && i < b->nfiles; i++) {
		struct bundle_file *f = &b->files[i];
		unsigned char digest[SHA256_LEN];
		size_t listed = f->len;

		rc = tar_next(tr, &e);
		if (rc == 0)
			rc = error(E_FORMAT, "%s: listed file '%s' is missing", name, f->name);
		if (rc < 0)
			break;
		if (strcmp(e.name, f->name) != 0) {
			rc = error(E_FORMAT, "%s: member '%s' where listed file '%s' must be",
				   name, e.name, f->name);
			break;
		}
		if (e.size != listed) {
			rc = error(E_DIGEST, "%s: '%s' is %llu bytes, bundle.yaml says %zu",
				   name, f->name, (unsigned long long)e.size, listed);
			break;
		}
		if (sink && !bundle_is_manifest(f->name)) {
			rc = stream_entry(tr, name, f, i, sink);
			continue;
		}
		/* a manifest is read whole: it must parse before it is kept */
		rc = read_entry(tr, name, &e, listed, &f->data, &f->len);
		if (rc)
			break;
		sha256(f->data, f->len, digest);
		if (memcmp(digest, f->sha256, SHA256_LEN) != 0)
			rc = error(E_DIGEST, "%s: '%s' does not match its sha256 in bundle.yaml",
				   name, f->name);
		/* with a sink a manifest is checked before it is given away;
		 * without, after the archive's own structure (below) */
		if (!rc && sink && bundle_is_manifest(f->name))
			rc = check_manifest(name, f->name, f->data, f->len);
		if (!rc && sink) {
			/* given away: one file in memory at a time */
			rc = sink->file(sink->ctx, i, 0, f->data, f->len);
			mem_free(f->data);
			f->data = NULL;
		}
	}
	if (!rc) {
		rc = tar_next(tr, &e);
		if (rc == 1)
			rc = error(E_FORMAT, "%s: member '%s' is not listed in bundle.yaml",
				   name, e.name);
	}
	for (size_t i = 0; !rc && !sink && i < b->nfiles; i++)
		if (bundle_is_manifest(b->files[i].name))
			rc = check_manifest(name, b->files[i].name, b->files[i].data,
					    b->files[i].len);
	tar_reader_free(tr);
	gzip_reader_free(gz);
	if (rc) {
		bundle_free(b);
		return rc;
	}
	b->raw_size = raw.size;
	sha256_final(&raw.hash, b->digest);
	*out = b;
	return 0;
}

int bundle_fd_read(void *ctx, void *buf, size_t len)
{
	int fd = *(int *)ctx;

	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0)
			return (int)n;
		if (errno != EINTR)
			return error(E_IO, "reading the bundle: %s", strerror(errno));
	}
}

int bundle_read_file(const char *path, uint64_t max_size, const struct trust *t,
		     const struct verify_ctx *vctx, struct bundle **out)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	*out = NULL;
	if (fd < 0)
		return error(errno == ENOENT ? E_NOTFOUND : E_IO, "%s: %s", path, strerror(errno));
	rc = bundle_read(bundle_fd_read, &fd, path, max_size, t, vctx, out);
	if (fd > 0)
		close(fd);
	return rc;
}

int bundle_write_meta(struct buf *meta, const struct bundle_spec *spec,
		      const struct bundle_file *files, size_t n)
{
	char created[META_TIME_LEN + 1], expires[META_TIME_LEN + 1];
	int rc;

	meta_time_format(spec->created, created);
	rc = buf_addf(meta, "outpost: bundle/v1\napp: %s\nversion: \"%s\"\nsequence: %lld\n"
		      "created: %s\n", spec->app, spec->version, (long long)spec->sequence,
		      created);
	if (!rc && spec->expires) {
		meta_time_format(spec->expires, expires);
		rc = buf_addf(meta, "expires: %s\n", expires);
	}
	if (!rc)
		rc = buf_addstr(meta, "files:\n");
	for (size_t i = 0; !rc && i < n; i++) {
		char hex[SHA256_HEX_LEN + 1];

		sha256_hex(files[i].sha256, hex);
		rc = buf_addf(meta, "  - name: \"%s\"\n    size: %zu\n    sha256: %s\n",
			      files[i].name, files[i].len, hex);
	}
	if (!rc && (spec->health_timeout || spec->nprobes)) {
		rc = buf_addstr(meta, "health:\n");
		if (!rc && spec->health_timeout)
			rc = buf_addf(meta, "  timeout: %lld\n", (long long)spec->health_timeout);
		if (!rc && spec->nprobes)
			rc = buf_addstr(meta, "  probes:\n");
		for (size_t i = 0; !rc && i < spec->nprobes; i++)
			rc = buf_addf(meta, "    - url: \"%s\"\n", spec->probes[i]);
	}
	if (!rc && (spec->no_prune || spec->keep_on_first_failure))
		rc = buf_addf(meta, "policy:\n  prune: %s\n  on_first_install_failure: %s\n",
			      spec->no_prune ? "false" : "true",
			      spec->keep_on_first_failure ? "keep" : "prune");
	return rc;
}

int bundle_write(struct buf *out, const char *meta, size_t meta_len,
		 const char *sig, size_t sig_len, const struct bundle_file *files,
		 size_t n, int gzip)
{
	struct buf tar = BUF_INIT(out->max);
	int rc = tar_write_entry(&tar, "bundle.yaml", meta, meta_len);

	if (!rc)
		rc = tar_write_entry(&tar, "bundle.yaml.sig", sig, sig_len);
	for (size_t i = 0; !rc && i < n; i++)
		rc = tar_write_entry(&tar, files[i].name, files[i].data, files[i].len);
	if (!rc)
		rc = tar_write_end(&tar);
	if (!rc && gzip)
		rc = gzip_compress(out, tar.data, tar.len);
	else if (!rc)
		rc = buf_add(out, tar.data, tar.len);
	buf_free(&tar);
	return rc;
}
