/*
 * age — age v1 encrypted files (the C2SP age specification), the opening
 * side, for X25519 identities only: the keyring of identities a gateway
 * holds, a file's header and its STREAM payload, binary or ASCII-armored.
 *
 * Identity files are read as `age-keygen` writes them: lines of
 * AGE-SECRET-KEY-1..., '#' comments and blank lines. Post-quantum hybrid
 * (AGE-SECRET-KEY-PQ-1) and plugin identities are refused by name, and a
 * file whose header has an scrypt stanza (a passphrase) is refused by
 * name. Stanzas of other types are skipped, as the specification says;
 * when no stanza opens, the error says which types the file was made for.
 *
 * Secrets never reach a log line: errors name the file and say why, with
 * recipients (public) and counts only. The keyring wipes its secrets when
 * freed; a plaintext buffer is the caller's to wipe (crypto_buf_free).
 */
#ifndef OUTPOST_AGE_H
#define OUTPOST_AGE_H

#include <stddef.h>

#include "buf.h"

#define AGE_RECIPIENT_MAX 64    /* "age1" and 58 bech32 characters, a NUL */
#define AGE_KEYRING_MAX 16      /* identities one gateway may hold */
#define AGE_MAX_STANZAS 64      /* recipient stanzas in one header */

/* How an attempt to open a file ended, one value per kind of failure. */
enum age_outcome {
	AGE_OPENED,
	AGE_ARMOR_BAD,          /* ASCII armor malformed */
	AGE_HEADER_BAD,         /* header malformed, or a stanza refused */
	AGE_NO_MATCH,           /* no identity opens any stanza */
	AGE_HMAC_BAD,           /* a stanza opened, the header MAC is wrong */
	AGE_PAYLOAD_BAD,        /* the payload does not decrypt to its end */
	AGE_NOT_SUPPORTED       /* scrypt, or made only for recipients we lack */
};

struct age_keyring;

/* A new empty keyring, or NULL (logged). Free with age_keyring_free(). */
struct age_keyring *age_keyring_new(void);

/* Wipe and free; NULL is fine. */
void age_keyring_free(struct age_keyring *k);

/*
 * Add every identity of an identity file's text (len bytes) to k. 0, or
 * E_FORMAT (a line that is not an identity, a bad checksum, no identity),
 * E_UNSUPPORTED (hybrid or plugin identity), E_LIMIT (past
 * AGE_KEYRING_MAX), logged as "NAME line N: why"; k is unchanged then.
 */
int age_keyring_add(struct age_keyring *k, const char *text, size_t len, const char *name);

size_t age_keyring_count(const struct age_keyring *k);

/* The recipient ("age1...") of the i-th identity; owned by k. */
const char *age_keyring_recipient(const struct age_keyring *k, size_t i);

/* The first three recipients, ", "-separated, "and N more": for messages. */
void age_keyring_list(const struct age_keyring *k, char *out, size_t cap);

/* The index of the identity whose recipient is r, or -1. */
int age_keyring_find(const struct age_keyring *k, const char *r);

/*
 * Make a new X25519 identity: append an identity file's text to out (as
 * age-keygen writes it, with a "# public key:" line) and write its
 * recipient into recipient. out then holds a secret: crypto_buf_free() it.
 * 0, E_CRYPTO, E_NOMEM/E_LIMIT (logged).
 */
int age_identity_new(struct buf *out, char recipient[AGE_RECIPIENT_MAX]);

/*
 * The types of the recipient stanzas of an age file's header, appended to
 * out as "X25519, X25519" (age names no recipient: only their kinds and
 * count can be told). 0, or E_FORMAT (logged as "NAME: why").
 */
int age_header_types(const void *in, size_t len, struct buf *out, const char *name);

/*
 * Open the age file in (len bytes) with any identity of k and append its
 * plaintext to out, whose cap bounds it (E_LIMIT). 0 and *how = AGE_OPENED;
 * otherwise a negative error (E_FORMAT, E_NOTFOUND for no match,
 * E_SIGNATURE for a bad MAC or payload, E_UNSUPPORTED, E_LIMIT, E_NOMEM)
 * with *how saying which kind, logged once as "NAME: why" (and the same
 * sentence appended to why when it is not NULL). After a payload
 * failure out holds the plaintext of the chunks that did authenticate (as
 * age's test vectors expect); whatever out holds, crypto_buf_free() it.
 */
int age_decrypt(const struct age_keyring *k, const void *in, size_t len, struct buf *out,
		enum age_outcome *how, const char *name, struct buf *why);

#endif
