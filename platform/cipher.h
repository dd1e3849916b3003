/*
 * cipher — the primitives that open encrypted files (age, SOPS), on
 * mbedTLS: X25519, HMAC- and HKDF-SHA-256, ChaCha20-Poly1305, AES-256-GCM
 * with any IV length, SHA-512, and random bytes. Only what decryption and
 * making an identity need: outpost never encrypts.
 *
 * Nothing here allocates memory of ours or logs: callers know what was
 * being opened and say so. Every secret on the stack is wiped before
 * returning.
 */
#ifndef OUTPOST_CIPHER_H
#define OUTPOST_CIPHER_H

#include <stddef.h>

#define X25519_LEN 32
#define HMAC_SHA256_LEN 32
#define SHA512_LEN 64
#define AEAD_TAG_LEN 16
#define CHACHA_NONCE_LEN 12

/*
 * out = X25519(scalar, point) (RFC 7748; the scalar is clamped here, the
 * point's top bit ignored). E_CRYPTO when the point has a small order or
 * the result is all zero (age refuses both), or mbedTLS failed.
 */
int x25519(unsigned char out[X25519_LEN], const unsigned char scalar[X25519_LEN],
	   const unsigned char point[X25519_LEN]);

/* out = X25519(scalar, 9): the public half of a secret scalar. */
int x25519_public(unsigned char out[X25519_LEN], const unsigned char scalar[X25519_LEN]);

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[HMAC_SHA256_LEN]);

/* HKDF-SHA-256 (RFC 5869) with one block of output, 32 bytes. */
void hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
		 const char *info, unsigned char out[HMAC_SHA256_LEN]);

/*
 * Open a ChaCha20-Poly1305 box of len bytes (ciphertext then the 16-byte
 * tag) into out (len - 16 bytes; out may be in). 0, or E_SIGNATURE when
 * it does not authenticate (out is then zeroed), E_FORMAT when len < 16.
 */
int chacha20poly1305_open(const unsigned char key[32], const unsigned char nonce[CHACHA_NONCE_LEN],
			  const void *in, size_t len, void *out);

/*
 * Open AES-256-GCM: ciphertext in (len bytes), its tag, any IV length
 * (SOPS uses 32), additional data aad. 0 or E_SIGNATURE (out zeroed).
 */
int aes256gcm_open(const unsigned char key[32], const void *iv, size_t ivlen,
		   const void *aad, size_t aadlen, const void *in, size_t len,
		   const unsigned char tag[AEAD_TAG_LEN], void *out);

/* A streaming SHA-512 the caller owns (opaque, sized for mbedTLS's). */
struct sha512 {
	_Alignas(8) unsigned char opaque[224];
};

void sha512_init(struct sha512 *c);
void sha512_update(struct sha512 *c, const void *data, size_t len);
void sha512_final(struct sha512 *c, unsigned char digest[SHA512_LEN]);

/* 1 when the len bytes at a and b are equal, in time independent of them. */
int cipher_equal(const void *a, const void *b, size_t len);

/* Fill p with len random bytes (CTR_DRBG on getrandom). 0 or E_CRYPTO. */
int cipher_random(void *p, size_t len);

#endif
