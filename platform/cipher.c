/* cipher — see cipher.h. */
#include <string.h>

#include <mbedtls/chachapoly.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/sha512.h>

#include "cipher.h"
#include "crypto.h"
#include "error.h"

_Static_assert(sizeof(mbedtls_sha512_context) <= sizeof(struct sha512),
	       "struct sha512 is too small for mbedTLS's context");

static int x25519_mul(unsigned char out[X25519_LEN], const unsigned char scalar[X25519_LEN],
		      const unsigned char point[X25519_LEN])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point p, r;
	mbedtls_mpi d;
	unsigned char k[X25519_LEN];
	unsigned char zero = 0;
	size_t olen = 0;
	int rc;

	memcpy(k, scalar, sizeof(k));
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&p);
	mbedtls_ecp_point_init(&r);
	mbedtls_mpi_init(&d);
	rc = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_CURVE25519);
	if (!rc)
		rc = mbedtls_mpi_read_binary_le(&d, k, sizeof(k));
	if (!rc)
		rc = mbedtls_ecp_point_read_binary(&grp, &p, point, X25519_LEN);
	/* mbedtls_ecp_mul refuses the points of small order */
	if (!rc)
		rc = mbedtls_ecp_mul(&grp, &r, &d, &p, NULL, NULL);
	if (!rc)
		rc = mbedtls_ecp_point_write_binary(&grp, &r, MBEDTLS_ECP_PF_UNCOMPRESSED,
						    &olen, out, X25519_LEN);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&r);
	mbedtls_ecp_point_free(&p);
	mbedtls_ecp_group_free(&grp);
	crypto_wipe(k, sizeof(k));
	if (rc || olen != X25519_LEN) {
		crypto_wipe(out, X25519_LEN);
		return E_CRYPTO;
	}
	for (size_t i = 0; i < X25519_LEN; i++)
		zero |= out[i];
	return zero ? 0 : E_CRYPTO;
}

int x25519(unsigned char out[X25519_LEN], const unsigned char scalar[X25519_LEN],
	   const unsigned char point[X25519_LEN])
{
	return x25519_mul(out, scalar, point);
}

int x25519_public(unsigned char out[X25519_LEN], const unsigned char scalar[X25519_LEN])
{
	static const unsigned char base[X25519_LEN] = { 9 };

	return x25519_mul(out, scalar, base);
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 unsigned char out[HMAC_SHA256_LEN])
{
	/* only fails for a NULL md, which SHA-256 is not */
	(void)mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
			      key, keylen, data, len, out);
}

void hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
		 const char *info, unsigned char out[HMAC_SHA256_LEN])
{
	static const unsigned char zeros[HMAC_SHA256_LEN];
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	unsigned char prk[HMAC_SHA256_LEN];
	unsigned char one = 1;
	mbedtls_md_context_t c;

	if (!saltlen)
		hmac_sha256(zeros, sizeof(zeros), ikm, ikmlen, prk);
	else
		hmac_sha256(salt, saltlen, ikm, ikmlen, prk);
	mbedtls_md_init(&c);
	if (mbedtls_md_setup(&c, md, 1) ||
	    mbedtls_md_hmac_starts(&c, prk, sizeof(prk)) ||
	    mbedtls_md_hmac_update(&c, (const unsigned char *)info, strlen(info)) ||
	    mbedtls_md_hmac_update(&c, &one, 1) ||
	    mbedtls_md_hmac_finish(&c, out))
		memset(out, 0, HMAC_SHA256_LEN);
	mbedtls_md_free(&c);
	crypto_wipe(prk, sizeof(prk));
}

int chacha20poly1305_open(const unsigned char key[32], const unsigned char nonce[CHACHA_NONCE_LEN],
			  const void *in, size_t len, void *out)
{
	mbedtls_chachapoly_context c;
	const unsigned char *p = in;
	int rc;

	if (len < AEAD_TAG_LEN)
		return E_FORMAT;
	mbedtls_chachapoly_init(&c);
	rc = mbedtls_chachapoly_setkey(&c, key);
	if (!rc)
		rc = mbedtls_chachapoly_auth_decrypt(&c, len - AEAD_TAG_LEN, nonce, NULL, 0,
						     p + len - AEAD_TAG_LEN, p, out);
	mbedtls_chachapoly_free(&c);
	if (rc) {
		memset(out, 0, len - AEAD_TAG_LEN);
		return E_SIGNATURE;
	}
	return 0;
}

int aes256gcm_open(const unsigned char key[32], const void *iv, size_t ivlen,
		   const void *aad, size_t aadlen, const void *in, size_t len,
		   const unsigned char tag[AEAD_TAG_LEN], void *out)
{
	mbedtls_gcm_context c;
	int rc;

	mbedtls_gcm_init(&c);
	rc = mbedtls_gcm_setkey(&c, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (!rc)
		rc = mbedtls_gcm_auth_decrypt(&c, len, iv, ivlen, aad, aadlen, tag,
					      AEAD_TAG_LEN, in, out);
	mbedtls_gcm_free(&c);
	if (rc) {
		memset(out, 0, len);
		return E_SIGNATURE;
	}
	return 0;
}

void sha512_init(struct sha512 *c)
{
	mbedtls_sha512_context *m = (mbedtls_sha512_context *)(void *)c->opaque;

	mbedtls_sha512_init(m);
	(void)mbedtls_sha512_starts_ret(m, 0);
}

void sha512_update(struct sha512 *c, const void *data, size_t len)
{
	(void)mbedtls_sha512_update_ret((mbedtls_sha512_context *)(void *)c->opaque, data, len);
}

void sha512_final(struct sha512 *c, unsigned char digest[SHA512_LEN])
{
	mbedtls_sha512_context *m = (mbedtls_sha512_context *)(void *)c->opaque;

	(void)mbedtls_sha512_finish_ret(m, digest);
	mbedtls_sha512_free(m);
}

int cipher_equal(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;
	unsigned char d = 0;

	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int cipher_random(void *p, size_t len)
{
	static const unsigned char pers[] = "outpost identity";
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	int rc;

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, pers, sizeof(pers) - 1);
	if (!rc)
		rc = mbedtls_ctr_drbg_random(&drbg, p, len);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return rc ? E_CRYPTO : 0;
}
