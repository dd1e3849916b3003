/*
 * error — the program's one error enum, and the two tiers of failure.
 *
 * Every fallible function returns 0 (or a count) on success and a negative
 * enum err on failure; callers must look at it. error() logs a sentence once
 * at the place that knows the details and returns the code, so the usual
 * failure path is `return error(E_FORMAT, "bundle %s: %s", name, why);`.
 * die() is only for start-up and broken invariants.
 */
#ifndef OUTPOST_ERROR_H
#define OUTPOST_ERROR_H

enum err {
	E_OK = 0,
	E_NOMEM = -1,       /* out of memory */
	E_LIMIT = -2,       /* input larger than a configured bound */
	E_IO = -3,          /* file or device I/O failed */
	E_USAGE = -4,       /* bad command line */
	E_CONFIG = -5,      /* bad configuration */
	E_FORMAT = -6,      /* malformed input */
	E_CRYPTO = -7,      /* cryptographic library failure */
	E_SIGNATURE = -8,   /* signature missing, bad or below threshold */
	E_UNTRUSTED = -9,   /* signed by a key the trust root does not hold */
	E_DIGEST = -10,     /* content does not match its pinned sha256 */
	E_EXPIRED = -11,    /* metadata past its expiry */
	E_ROLLBACK = -12,   /* older than what this device already accepted */
	E_NETWORK = -13,    /* could not reach the server */
	E_HTTP = -14,       /* the server answered with an error */
	E_API = -15,        /* the Kubernetes API refused a request */
	E_UNAVAILABLE = -16,/* the Kubernetes API is not reachable: unknown */
	E_NOTFOUND = -17,   /* no such object, release or file */
	E_STATE = -18,      /* operation not allowed in the current state */
	E_STORE = -19,      /* the state database failed */
	E_UNSUPPORTED = -20,/* compiled out or not supported */
	E_INTERNAL = -21,   /* a broken invariant */
	E_TRUNCATED = -22, /* input ended before its format says it does */
	E_DENIED = -23,     /* outside what this app may touch, or another's */
	E_NERR = -24
};

/* A sentence for an error code; never NULL. */
const char *err_str(int e);

/* Log "what: why" at error level and return e (a negative enum err). */
int error(int e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Log at error level and exit(1). Start-up and broken invariants only. */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
