/*
 * bundle — release bundles (docs/formats.md): reading and verifying them
 * as a stream, and packing them for the tools.
 *
 * bundle_read() pulls a bundle (tar, or tar.gz) from a read callback and
 * stops at the first thing that is not as signed: bundle.yaml must be the
 * first member and bundle.yaml.sig the second; the signature is checked
 * against the trust root before bundle.yaml is parsed; then every member
 * must be the next file bundle.yaml lists, with exactly its size (the tar
 * header is compared before any data is read) and sha256. Files not
 * listed, missing or out of order refuse the whole bundle. Every manifest
 * must split into Kubernetes objects. Only then does the caller get a
 * struct bundle; nothing is returned half-checked.
 */
#ifndef OUTPOST_BUNDLE_H
#define OUTPOST_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "crypto.h"
#include "pointer.h"
#include "tar.h"
#include "trust.h"

#define BUNDLE_META_MAX (1024 * 1024)
#define BUNDLE_FILES_MAX 1024
#define BUNDLE_PROBES_MAX 16

struct bundle_file {
	char *name;
	char *data;             /* len bytes and a NUL; NULL when read to a sink */
	size_t len;
	unsigned char sha256[SHA256_LEN];
};

struct bundle_probe {
	char *name, *url;
	int status;             /* expected HTTP status; 0 = any 2xx */
	int timeout;            /* seconds */
};

struct bundle {
	char app[64];
	int64_t sequence;
	char version[129];
	int64_t created, expires;       /* expires 0: not set */
	char *meta, *sig;               /* bundle.yaml and its signature file */
	size_t meta_len, sig_len;
	size_t nfiles;
	struct bundle_file *files;
	int64_t health_timeout;         /* 0: not set */
	size_t nprobes;
	struct bundle_probe *probes;
	int prune;                      /* delete what the previous release had */
	int keep_on_first_failure;      /* a failed first install stays in place */
	uint64_t raw_size;              /* bytes of the bundle as read */
	unsigned char digest[SHA256_LEN]; /* sha256 of the bundle as read */
};

/*
 * Read and verify a bundle from read(ctx, ...), at most max_size raw bytes
 * (and as many decompressed). With t, bundle.yaml must carry the release
 * threshold of t and pass ctx (app, expiry, anti-rollback); t NULL skips
 * the signature and ctx (for `bundle inspect` only) but every structural
 * and digest check still holds. *out is the caller's (bundle_free()).
 * Errors are logged once with the reason: E_SIGNATURE/E_UNTRUSTED,
 * E_EXPIRED, E_ROLLBACK, E_DIGEST, E_FORMAT, E_TRUNCATED, E_LIMIT, E_NOMEM,
 * E_UNSUPPORTED, or the source's error.
 */
int bundle_read(read_fn read, void *ctx, const char *name, uint64_t max_size,
		const struct trust *t, const struct verify_ctx *vctx,
		struct bundle **out);

/*
 * Where bundle_read_sink() puts the listed files instead of memory, so
 * that a big bundle is stored as it is read. begin(ctx, b) is called once
 * bundle.yaml is verified and parsed (b->files lists names, sizes and
 * sha256; raw_size and digest are not known yet); a non-zero return
 * refuses the bundle. file(ctx, index, offset, data, len) then takes each
 * listed file in order: at least one call per file (offset 0, len 0 for an
 * empty one), a manifest whole once its digest and objects are checked,
 * any other file in chunks as it is read, its digest checked after its
 * last chunk. So everything given to the sink is provisional: keep it only
 * when bundle_read_sink() returns 0 (a store transaction to commit), and
 * drop it otherwise. Non-zero from file refuses the bundle.
 */
struct bundle_sink {
	int (*begin)(void *ctx, const struct bundle *b);
	int (*file)(void *ctx, size_t index, uint64_t offset, const void *data, size_t len);
	void *ctx;
};

/*
 * bundle_read() with the files going to sink (NULL: kept in memory, as
 * bundle_read()). The returned bundle then has no file data (NULL). Memory:
 * the largest manifest (with its parse), not the bundle.
 */
int bundle_read_sink(read_fn read, void *ctx, const char *name, uint64_t max_size,
		     const struct trust *t, const struct verify_ctx *vctx,
		     const struct bundle_sink *sink, struct bundle **out);

/* A read_fn over the file descriptor ctx points at (an int); E_IO logged. */
int bundle_fd_read(void *ctx, void *buf, size_t len);

/* The same from a file (or "-" for standard input). */
int bundle_read_file(const char *path, uint64_t max_size, const struct trust *t,
		     const struct verify_ctx *vctx, struct bundle **out);

void bundle_free(struct bundle *b);

/*
 * Parse bundle.yaml bytes already verified (kept in the state store) into
 * a bundle without file data: its release, file list, health and policy.
 */
int bundle_parse(const char *name, const char *meta, size_t len, struct bundle **out);

/*
 * Is b the bundle that p points at: the same size and sha256 as read, and
 * the same app and sequence inside? E_DIGEST / E_FORMAT (logged) when not,
 * so metadata of one release cannot be paired with another's bundle.
 */
int bundle_matches_pointer(const struct bundle *b, const struct pointer *p,
			   const char *name);

/* Whether a bundle file is a manifest to apply: *.yaml, *.yml, *.json. */
int bundle_is_manifest(const char *name);

/* What `outpost bundle pack` puts into bundle.yaml besides the files. */
struct bundle_spec {
	const char *app, *version;
	int64_t sequence, created, expires;     /* expires 0: none */
	int64_t health_timeout;                 /* 0: none */
	size_t nprobes;
	const char *const *probes;              /* URLs */
	int no_prune, keep_on_first_failure;
};

/*
 * Build bundle.yaml text for spec and files (names, bytes) into meta.
 * Deterministic: the same input gives the same bytes.
 */
int bundle_write_meta(struct buf *meta, const struct bundle_spec *spec,
		      const struct bundle_file *files, size_t n);

/*
 * Write a bundle: bundle.yaml, its signature file, then the files, as tar,
 * gzip-compressed when gzip is set. out receives the bytes.
 */
int bundle_write(struct buf *out, const char *meta, size_t meta_len,
		 const char *sig, size_t sig_len, const struct bundle_file *files,
		 size_t n, int gzip);

#endif
