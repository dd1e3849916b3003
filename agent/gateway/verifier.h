/*
 * verifier — privilege separation for what comes from the release server
 * (docs/privsep.md). A child process, started from the program's own
 * binary (so it inherits no memory of the parent: no Kubernetes
 * credentials, no store, no open descriptor but its socket), speaks HTTP
 * for the parent and checks what comes back first: pointer signatures
 * (sigfile, YAML) and whole bundles (gzip, tar, bundle.yaml, digests). It
 * runs sandboxed (platform/sandbox.h: nobody, no capabilities, Landlock
 * read-only on the few files it needs) and dies with its parent.
 *
 * The parent trusts none of it: what the child hands over is checked again
 * where it counts (the pointer's signatures, the bundle's sha256 from the
 * pointer, the whole bundle as it is stored), so a child that lies is
 * caught. A child that dies or breaks the protocol is an error (E_INTERNAL,
 * logged), never "nothing new"; the next request starts a fresh one.
 *
 * Protocol: one socketpair, frames of a 4-byte type and a 4-byte length,
 * at most VERIFIER_FRAME_MAX bytes, each field length-prefixed; one
 * request at a time, answered in order.
 */
#ifndef OUTPOST_VERIFIER_H
#define OUTPOST_VERIFIER_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "features.h"
#include "http.h"
#include "tar.h"
#include "trust.h"

/* The argument the child is started with (after the global options). */
#define VERIFIER_COMMAND "verifier-child"

struct verifier;

/* The trust root in force, as bytes: the child parses it itself. */
struct verifier_root {
	const char *root, *sig;
	size_t len, siglen;
};

/* What the child runs HTTP with (set up by upstream before the sandbox). */
typedef int (*verifier_http_fn)(void *ctx, const struct http_request *q,
				struct http_response *r);

#if IS_ENABLED(CONFIG_PRIVSEP)

/* A verifier whose child loads its configuration (the TLS settings) from
 * the file config, the agent's own (it must outlive v); no child yet (the
 * first request starts it). 0 or E_NOMEM. */
int verifier_new(struct verifier **out, const char *config);
/* Ends the child (it is killed, and reaped). Accepts NULL. */
void verifier_free(struct verifier *v);

/* As http_do(), run by the child: r is filled in either way, the caller
 * frees it; E_INTERNAL when the child died or broke the protocol. */
int verifier_http(struct verifier *v, const struct http_request *q, struct http_response *r);

/* The child's pointer_verify() of data and sig under root: 0, its error
 * (logged by the child), or E_INTERNAL. The parent still checks itself. */
int verifier_pointer(struct verifier *v, const struct verifier_root *root, const char *name,
		     const char *data, size_t len, const char *sig, size_t siglen,
		     const struct verify_ctx *ctx);

/*
 * The child's check of a whole bundle read from read(rctx): exactly size
 * bytes of the given sha256, then bundle_read() under root and vctx (at
 * most max bytes unpacked). 0, its error (logged by the child), a read
 * error, or E_INTERNAL.
 */
int verifier_bundle(struct verifier *v, const struct verifier_root *root, read_fn read,
		    void *rctx, const char *name, uint64_t max, const struct verify_ctx *vctx,
		    const unsigned char sha256[SHA256_LEN], int64_t size);

/*
 * The child's side: sandbox itself (readable: the files it may still
 * read, NULL-ended), then serve requests on descriptor 3 until the parent
 * closes it, running HTTP through http(ctx). Exit status for main().
 */
int verifier_serve(const char *const *readable, verifier_http_fn http, void *ctx);

#else

static inline int verifier_new(struct verifier **out, const char *config)
{
	(void)config;
	*out = NULL;
	return 0;
}

static inline void verifier_free(struct verifier *v)
{
	(void)v;
}

static inline int verifier_http(struct verifier *v, const struct http_request *q,
				struct http_response *r)
{
	(void)v, (void)q, (void)r;
	return E_UNSUPPORTED;
}

static inline int verifier_pointer(struct verifier *v, const struct verifier_root *root,
				   const char *name, const char *data, size_t len,
				   const char *sig, size_t siglen, const struct verify_ctx *ctx)
{
	(void)v, (void)root, (void)name, (void)data, (void)len, (void)sig, (void)siglen,
	(void)ctx;
	return 0;
}

static inline int verifier_bundle(struct verifier *v, const struct verifier_root *root,
				  read_fn read, void *rctx, const char *name, uint64_t max,
				  const struct verify_ctx *vctx,
				  const unsigned char sha256[SHA256_LEN], int64_t size)
{
	(void)v, (void)root, (void)read, (void)rctx, (void)name, (void)max, (void)vctx,
	(void)sha256, (void)size;
	return 0;
}

static inline int verifier_serve(const char *const *readable, verifier_http_fn http, void *ctx)
{
	(void)readable, (void)http, (void)ctx;
	return 2;
}

#endif

#endif
