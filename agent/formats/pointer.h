/*
 * pointer — the release pointer, channels/<app>/release.yaml: which bundle
 * is the app's current release, how often to poll, when to apply, and to
 * which share of the fleet (docs/formats.md).
 */
#ifndef OUTPOST_POINTER_H
#define OUTPOST_POINTER_H

#include <stdint.h>

#include "crypto.h"
#include "trust.h"

#define POINTER_URL_MAX 2048

struct pointer {
	char app[64];
	int64_t sequence;
	char version[129];
	int64_t created, expires;
	char url[POINTER_URL_MAX + 1];  /* as written: relative or absolute */
	int64_t size;
	unsigned char sha256[SHA256_LEN];
	struct {
		int64_t interval, jitter;   /* seconds; 0 = not set */
		int window;                 /* 1 when start/end are set */
		int start, end;             /* minutes after midnight, local to offset */
		int utc_offset;             /* minutes east of UTC */
	} schedule;
	struct {
		int percent;                /* 100 when not set */
		char salt[129];
	} rollout;
	int64_t health_timeout;         /* seconds; 0 = not set */
};

/*
 * Check that data is a release pointer signed by the root's release
 * threshold, then parse it into *p and check it against ctx: the app,
 * expiry (E_EXPIRED) and anti-rollback (E_ROLLBACK). The signature is
 * checked before a byte is parsed. Errors are logged.
 */
int pointer_verify(const struct trust *t, const char *name, const char *data,
		   size_t len, const char *sig, size_t siglen,
		   const struct verify_ctx *ctx, struct pointer *p);

/* Parse without checking signature, expiry or sequence (for tools). */
int pointer_parse(const char *name, const char *data, size_t len, struct pointer *p);

/* "HH:MM" → minutes after midnight; "+HH:MM"/"-HH:MM" → minutes. E_FORMAT. */
int pointer_parse_clock(const char *s, int *minutes);
int pointer_parse_offset(const char *s, int *minutes);

#endif
