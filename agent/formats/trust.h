/*
 * trust — the trust root (root.yaml) and the signature policy built on it:
 * who may sign what, and how many of them must. See docs/formats.md.
 *
 * A struct trust is a parsed root: its version, expiry, P-256 keys and two
 * roles, `root` (signs root.yaml) and `release` (signs release pointers and
 * bundles), each a set of key ids and a threshold. trust_check() counts the
 * distinct keys of a role with a valid signature over some bytes: a key
 * counts once however many lines it signs, and a signature by a key outside
 * the role counts for nothing.
 */
#ifndef OUTPOST_TRUST_H
#define OUTPOST_TRUST_H

#include <stddef.h>
#include <stdint.h>

enum trust_role { ROLE_ROOT, ROLE_RELEASE };

#define ROOT_MAX_SIZE (64 * 1024)
#define SIG_MAX_SIZE (16 * 1024)
#define TRUST_MAX_KEYS 32

struct trust;

/*
 * What a check of signed metadata is measured against, fixed once per
 * update (as TUF does): now is the clock, but never earlier than the newest
 * signed `created` time already accepted (devices without a real-time clock
 * boot in 1970); min_sequence is the highest sequence already accepted for
 * the app (anti-rollback; 0 = none); app, when set, is the app expected.
 */
struct verify_ctx {
	int64_t now;
	int64_t min_sequence;
	const char *app;
	int64_t max_created;    /* a later `created` is refused; 0: not checked */
};

/*
 * A `created` time later than the system clock by more than this is
 * refused, when the clock can be trusted: signed metadata from the future
 * would raise the clock floor past every later expiry.
 */
#define TRUST_CREATED_SKEW 86400
/* A clock before this (2025-01-01) is a device that booted without one. */
#define TRUST_CLOCK_PLAUSIBLE 1735689600LL

/*
 * The max_created of a verify_ctx: clock + TRUST_CREATED_SKEW when the
 * system clock is trustworthy (not before the clock floor, nor before
 * TRUST_CLOCK_PLAUSIBLE), else 0 (nothing to measure against).
 */
int64_t trust_created_limit(int64_t clock, int64_t floor);

/* E_EXPIRED (logged) when max_created is set and created is later. */
int trust_check_created(const char *name, int64_t created, int64_t max_created);

/*
 * Parse root.yaml bytes (not checking any signature). *out is the caller's,
 * freed with trust_free(). E_FORMAT / E_LIMIT / E_UNSUPPORTED / E_NOMEM,
 * logged with file:line:column.
 */
int trust_parse(const char *name, const char *data, size_t len, struct trust **out);

/*
 * Is data signed by at least the threshold of role's keys? sig is the
 * signature file's bytes. 0 when it is; otherwise logged, naming what was
 * found: E_SIGNATURE (unsigned, below threshold, bad signatures, one key
 * counted once), E_UNTRUSTED (only keys the root does not give this role),
 * E_FORMAT / E_LIMIT (a malformed signature file).
 */
int trust_check(const struct trust *t, enum trust_role role, const char *name,
		const void *data, size_t len, const char *sig, size_t siglen);

/*
 * Accept a first root (flashed with the gateway or given to the tools):
 * parsed, signed by its own root threshold, not expired at now.
 */
int trust_load(const char *name, const char *data, size_t len, const char *sig,
	       size_t siglen, int64_t now, struct trust **out);

/*
 * Accept a new root in place of cur: version greater than cur's, not
 * expired at now, signed by a threshold of cur's root keys AND by a
 * threshold of its own. E_ROLLBACK for an older or equal version, the
 * trust_check() errors otherwise. *out is the new root.
 */
int trust_rotate(const struct trust *cur, const char *name, const char *data,
		 size_t len, const char *sig, size_t siglen, int64_t now,
		 struct trust **out);

/*
 * Whether next replaces the release keys of cur: at least cur's release
 * threshold of its release keys are gone from next's release role, so the
 * floors that rest on their signatures (per-app sequences, the clock
 * floor) rest on keys no longer trusted, and are reset (TUF's recovery
 * from a fast-forward attack). 1 or 0.
 */
int trust_release_keys_replaced(const struct trust *cur, const struct trust *next);

int64_t trust_version(const struct trust *t);
int64_t trust_expires(const struct trust *t);
/* Keys and their ids, for `outpost root` tools: index 0..trust_key_count()-1. */
size_t trust_key_count(const struct trust *t);
const char *trust_key_id(const struct trust *t, size_t i);
/* The PEM text of key i, as root.yaml gives it. */
const char *trust_key_pem(const struct trust *t, size_t i);
/* Whether key i belongs to role. */
int trust_key_in_role(const struct trust *t, enum trust_role role, size_t i);
/* A role's threshold and number of keys. */
int trust_threshold(const struct trust *t, enum trust_role role);
size_t trust_role_size(const struct trust *t, enum trust_role role);

/* E_EXPIRED (logged) when expires <= now. */
int trust_check_expiry(const char *name, int64_t expires, int64_t now);

void trust_free(struct trust *t);

#endif
