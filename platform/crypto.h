/*
 * crypto — the program's cryptography, on mbedTLS: SHA-256, base64, and
 * ECDSA P-256 keys. outpost trusts exactly one signature scheme, ECDSA
 * P-256 over SHA-256 with DER signatures (what `openssl dgst -sha256 -sign`
 * and cosign write), so every other key type is refused when it is parsed,
 * not when it is used.
 *
 * Public keys (struct pubkey) serve the agent's verification path: parsing
 * allocates the key once, verifying allocates nothing of ours. Private keys
 * (struct privkey) serve the tools (keygen, sign); their secrets are wiped
 * when they are freed.
 *
 * Nothing here touches files: callers read PEM text and hash file contents.
 * mbedTLS allocates its big numbers with its own calloc, outside mem_alloc.
 */
#ifndef OUTPOST_CRYPTO_H
#define OUTPOST_CRYPTO_H

#include <stddef.h>

#include "buf.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64          /* lowercase hex, without the NUL */
#define KEYID_LEN SHA256_HEX_LEN   /* a key id is a sha256 in hex */
#define ECDSA_SIG_MAX 72           /* a DER ECDSA P-256 signature, at most */

/* --- SHA-256 ------------------------------------------------------------ */

/*
 * A streaming SHA-256 state that the caller owns (usually on the stack);
 * opaque, big enough for mbedTLS's context (checked at compile time).
 */
struct sha256 {
	_Alignas(8) unsigned char opaque[112];
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Write the digest and wipe the state; sha256_init() before reuse. */
void sha256_final(struct sha256 *c, unsigned char digest[SHA256_LEN]);

/* One shot: digest = SHA-256(data). */
void sha256(const void *data, size_t len, unsigned char digest[SHA256_LEN]);

/* Write digest as 64 lowercase hex characters and a NUL into hex. */
void sha256_hex(const unsigned char digest[SHA256_LEN], char hex[SHA256_HEX_LEN + 1]);

/* --- base64 (RFC 4648, standard alphabet, with padding) ------------------- */

/*
 * Append the encoding of data to out, without line breaks. 0, or E_LIMIT
 * past out's cap / E_NOMEM, with out unchanged. Does not log.
 */
int base64_encode(struct buf *out, const void *data, size_t len);

/*
 * Decode exactly len characters of s into dst (dstcap bytes), setting
 * *dstlen. Strict: only the alphabet, length a multiple of 4, '=' only as
 * the last one or two characters, no whitespace anywhere, and unused bits
 * zero, so each byte string has one accepted encoding. 0, E_FORMAT, or
 * E_LIMIT when dst is too small. Allocates nothing; does not log.
 */
int base64_decode_mem(void *dst, size_t dstcap, size_t *dstlen,
		      const char *s, size_t len);

/*
 * The same for unpadded base64 (RFC 4648 section 3.2, as age writes it):
 * no '=', a length that is not 1 mod 4, unused bits zero.
 */
int base64_decode_raw(void *dst, size_t dstcap, size_t *dstlen, const char *s, size_t len);

/* The same, appending the bytes to out (bounded by its cap). */
int base64_decode(struct buf *out, const char *s, size_t len);

/* --- public keys (verification) ------------------------------------------ */

struct pubkey;

/*
 * Parse a PEM "PUBLIC KEY" (SubjectPublicKeyInfo), a NUL-terminated string.
 * Only ECDSA P-256 is accepted: an RSA key or another curve gives
 * E_UNSUPPORTED, anything unreadable E_FORMAT, each logged once as
 * "NAME: why". On success *out is a new key the caller frees with
 * pubkey_free(); on failure *out is NULL.
 */
int pubkey_from_pem(struct pubkey **out, const char *pem, const char *name);

/* The same from DER bytes (SubjectPublicKeyInfo). */
int pubkey_from_der(struct pubkey **out, const void *der, size_t len,
		    const char *name);

/*
 * The key id: 64 lowercase hex characters, sha256 of the DER
 * SubjectPublicKeyInfo (= `openssl pkey -pubin -outform DER | sha256sum`).
 * Owned by the key.
 */
const char *pubkey_id(const struct pubkey *k);

/*
 * Whether sig is a strict DER ECDSA-Sig-Value as openssl writes it: a
 * SEQUENCE of two positive INTEGERs, short-form lengths, no padding zero
 * byte, nothing after it. 1 or 0.
 */
int ecdsa_sig_is_strict_der(const void *sig, size_t len);

/*
 * Check a DER ECDSA signature over a SHA-256 digest. 0 when valid;
 * E_SIGNATURE when it is not (wrong key, wrong data, not strict DER,
 * trailing bytes); E_NOMEM. Does not log: the caller knows what was
 * signed. Allocates nothing of ours. Not for concurrent use of one key.
 */
int pubkey_verify(const struct pubkey *k, const unsigned char digest[SHA256_LEN],
		  const void *sig, size_t len);

/* Free a key; NULL is fine. */
void pubkey_free(struct pubkey *k);

/* --- private keys (tools) -------------------------------------------------- */

struct privkey;

/*
 * Generate a P-256 key from mbedTLS's entropy sources (CTR_DRBG). *out is
 * the caller's, freed with privkey_free(). E_CRYPTO / E_NOMEM, logged.
 */
int privkey_generate(struct privkey **out);

/*
 * Parse a PEM private key, NUL-terminated: PKCS#8 "PRIVATE KEY" or SEC1
 * "EC PRIVATE KEY" as openssl writes them, unencrypted. Only P-256: other
 * types and encrypted keys give E_UNSUPPORTED, garbage E_FORMAT, logged as
 * "NAME: why". The caller frees *out with privkey_free() and should wipe
 * its copy of the PEM text.
 */
int privkey_from_pem(struct privkey **out, const char *pem, const char *name);

/*
 * Append the key as PEM "EC PRIVATE KEY" (SEC1, openssl-compatible) to out.
 * out then holds a secret: wipe it (crypto_wipe) before freeing it.
 */
int privkey_to_pem(const struct privkey *k, struct buf *out);

/* Append the public half as PEM "PUBLIC KEY" to out. */
int privkey_pubkey_pem(const struct privkey *k, struct buf *out);

/* The key id of the public half (see pubkey_id); owned by the key. */
const char *privkey_id(const struct privkey *k);

/*
 * Sign a SHA-256 digest: a DER ECDSA signature in sig (ECDSA_SIG_MAX
 * bytes), its length in *len. Deterministic (RFC 6979): the same key and
 * digest always give the same signature. E_CRYPTO / E_NOMEM, logged.
 */
int privkey_sign(const struct privkey *k, const unsigned char digest[SHA256_LEN],
		 unsigned char sig[ECDSA_SIG_MAX], size_t *len);

/* Wipe and free a key; NULL is fine. */
void privkey_free(struct privkey *k);

/* Zero len bytes at p in a way the compiler keeps (for secrets). */
void crypto_wipe(void *p, size_t len);

/* Wipe a buffer's whole allocation, then free it (for plaintext). */
void crypto_buf_free(struct buf *b);

#endif
