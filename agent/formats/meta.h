/*
 * meta — the rules every signed metadata file of outpost shares
 * (docs/formats.md): one YAML document, a format tag, no unknown keys,
 * RFC 3339 UTC times, DNS-label app names, sha256 digests in hex. The
 * parsers of the trust root, the release pointer and the bundle manifest
 * are built from these, so each rule is written once.
 *
 * Every getter logs "file:line:column: why" through doc_error() and returns
 * E_FORMAT when a value is missing (if required) or malformed.
 */
#ifndef OUTPOST_META_H
#define OUTPOST_META_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "doc.h"

#define META_TIME_LEN 20        /* "2026-11-26T09:00:00Z" */
#define META_SEQUENCE_MAX 9007199254740992LL    /* 2^53 */

/*
 * Load data (at most max bytes) as exactly one YAML mapping whose key
 * `outpost` is tag, e.g. "root/v1". *doc is the caller's (doc_free()),
 * *root its mapping. E_FORMAT / E_LIMIT / E_NOMEM, logged.
 */
int meta_load(const char *name, const char *data, size_t len, size_t max,
	      const char *tag, struct doc **doc, struct node **root);

/*
 * The text of a scalar as written. Our formats are not typed the YAML way:
 * `version: 1.10` is the string "1.10", and a digest that happens to be
 * all digits is still a digest. NULL for maps, sequences, NUL bytes.
 */
const char *meta_text(const struct node *n);

/* Strings: printable ASCII, 1..maxlen bytes. NULL *out when absent and optional. */
int meta_str(const struct doc *d, const struct node *map, const char *key,
	     size_t maxlen, int required, const char **out);
/* Integers in [min, max]; *out untouched when absent and optional. */
int meta_int(const struct doc *d, const struct node *map, const char *key,
	     int64_t min, int64_t max, int required, int64_t *out);
/* Times, RFC 3339 UTC ("Z"), as seconds since the epoch. */
int meta_time(const struct doc *d, const struct node *map, const char *key,
	      int required, int64_t *out);
/* An app name: a DNS-1123 label. */
int meta_app(const struct doc *d, const struct node *map, const char *key,
	     const char **out);
/* A sha256: 64 lowercase hex characters, decoded. */
int meta_sha256(const struct doc *d, const struct node *map, const char *key,
		unsigned char out[SHA256_LEN]);

/* Parse "YYYY-MM-DDTHH:MM:SSZ". 0 or E_FORMAT; does not log. */
int meta_time_parse(const char *s, int64_t *out);
/* Format t as "YYYY-MM-DDTHH:MM:SSZ" (out has META_TIME_LEN + 1 bytes). */
void meta_time_format(int64_t t, char out[META_TIME_LEN + 1]);
/* s is a DNS-1123 label (1..63 of [a-z0-9-], alphanumeric at both ends). */
int meta_is_dns_label(const char *s);
/* Decode 64 lowercase hex characters. 0 or E_FORMAT; does not log. */
int meta_hex_sha256(const char *s, unsigned char out[SHA256_LEN]);

#endif
