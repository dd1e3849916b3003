/* crypto — SHA-256, base64 and ECDSA P-256 keys on mbedTLS 2.28. */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/bignum.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include "crypto.h"
#include "error.h"
#include "mem.h"

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((struct sha256 *)0)->opaque),
	       "struct sha256 too small for mbedtls_sha256_context");
_Static_assert(alignof(mbedtls_sha256_context) <= 8,
	       "struct sha256 not aligned enough for mbedtls_sha256_context");
_Static_assert(ECDSA_SIG_MAX == MBEDTLS_ECDSA_MAX_SIG_LEN(256),
	       "ECDSA_SIG_MAX is not the P-256 DER signature bound");

/* Far more than the 91 bytes of a P-256 SubjectPublicKeyInfo. */
#define SPKI_DER_MAX 160
/* Far more than the 121 bytes of a SEC1 P-256 private key. */
#define PRIV_DER_MAX 256

struct pubkey {
	mbedtls_pk_context pk;
	char id[KEYID_LEN + 1];
};

struct privkey {
	mbedtls_pk_context pk;
	char id[KEYID_LEN + 1];
};

/* Report an mbedTLS failure as "NAME: what: mbedTLS's sentence". */
static int mbed_error(int e, int rc, const char *name, const char *what)
{
	char msg[160];

	mbedtls_strerror(rc, msg, sizeof(msg));
	return error(e, "%s: %s: %s (mbedtls -0x%04x)", name, what, msg, (unsigned)-rc);
}

/* mbedTLS combines a high-level code (PK, PEM, ECP) with a low-level one. */
static int mbed_is_nomem(int rc)
{
	int hi = -((-rc) & 0xff80), lo = -((-rc) & 0x7f);

	return hi == MBEDTLS_ERR_PK_ALLOC_FAILED || hi == MBEDTLS_ERR_PEM_ALLOC_FAILED ||
	       hi == MBEDTLS_ERR_ECP_ALLOC_FAILED || lo == MBEDTLS_ERR_ASN1_ALLOC_FAILED ||
	       lo == MBEDTLS_ERR_MPI_ALLOC_FAILED;
}

static mbedtls_sha256_context *sha_ctx(struct sha256 *c)
{
	/* The opaque bytes are only ever accessed as this one type. */
	return (mbedtls_sha256_context *)(void *)c->opaque;
}

void sha256_init(struct sha256 *c)
{
	mbedtls_sha256_init(sha_ctx(c));
	/* Software SHA-256 cannot fail; a failure is a broken build. */
	if (mbedtls_sha256_starts_ret(sha_ctx(c), 0))
		die("sha256: mbedTLS refused to start a digest");
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	if (len && mbedtls_sha256_update_ret(sha_ctx(c), data, len))
		die("sha256: mbedTLS refused to update a digest");
}

void sha256_final(struct sha256 *c, unsigned char digest[SHA256_LEN])
{
	if (mbedtls_sha256_finish_ret(sha_ctx(c), digest))
		die("sha256: mbedTLS refused to finish a digest");
	mbedtls_sha256_free(sha_ctx(c));
}

void sha256(const void *data, size_t len, unsigned char digest[SHA256_LEN])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, digest);
}

void sha256_hex(const unsigned char digest[SHA256_LEN], char hex[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[SHA256_HEX_LEN] = '\0';
}

void crypto_wipe(void *p, size_t len)
{
	mbedtls_platform_zeroize(p, len);
}

void crypto_buf_free(struct buf *b)
{
	if (b->cap)
		crypto_wipe(b->data, b->cap);
	buf_free(b);
}

/* --- base64 ---------------------------------------------------------------- */

int base64_encode(struct buf *out, const void *data, size_t len)
{
	size_t n, olen;
	int rc;

	if (len > ((size_t)-1 - 2) / 4)
		return E_LIMIT;
	n = (len + 2) / 3 * 4;
	rc = buf_grow(out, n);     /* room for n bytes and the NUL */
	if (rc)
		return rc;
	if (mbedtls_base64_encode((unsigned char *)out->data + out->len, n + 1, &olen,
				  data, len) || olen != n)
		return E_INTERNAL;
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * mbedTLS's decoder skips line breaks and some spaces (it reads PEM); a
 * signature line must not, so the text is checked here first.
 */
static int b64_check(const char *s, size_t len)
{
	size_t pad = 0;
	int last;

	if (len % 4)
		return E_FORMAT;
	if (len && s[len - 1] == '=')
		pad = len >= 2 && s[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (b64_value((unsigned char)s[i]) < 0)
			return E_FORMAT;
	if (!pad)
		return 0;
	/* the bits after the last byte must be zero: one encoding per bytes */
	last = b64_value((unsigned char)s[len - pad - 1]);
	if (pad == 2 ? last & 0x0f : last & 0x03)
		return E_FORMAT;
	return 0;
}

int base64_decode_mem(void *dst, size_t dstcap, size_t *dstlen, const char *s, size_t len)
{
	int rc = b64_check(s, len);

	*dstlen = 0;
	if (rc)
		return rc;
	rc = mbedtls_base64_decode(dst, dstcap, dstlen, (const unsigned char *)s, len);
	if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL) {
		*dstlen = 0;
		return E_LIMIT;
	}
	return rc ? E_FORMAT : 0;
}

int base64_decode(struct buf *out, const char *s, size_t len)
{
	size_t n = len / 4 * 3, olen;
	int rc = b64_check(s, len);

	if (rc)
		return rc;
	rc = buf_grow(out, n);
	if (rc)
		return rc;
	rc = base64_decode_mem(out->data + out->len, n, &olen, s, len);
	if (rc)
		return rc;
	out->len += olen;
	out->data[out->len] = '\0';
	return 0;
}

int base64_decode_raw(void *dst, size_t dstcap, size_t *dstlen, const char *s, size_t len)
{
	unsigned char *d = dst;
	unsigned long acc = 0;
	unsigned bits = 0;
	size_t n = 0;

	*dstlen = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value((unsigned char)s[i]);

		if (v < 0)
			return E_FORMAT;
		acc = (acc << 6 | (unsigned long)v) & 0xffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == dstcap)
				return E_LIMIT;
			d[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* a lone character, or bits left over that are not zero */
	if (bits >= 6 || (acc & ((1ul << bits) - 1)))
		return E_FORMAT;
	*dstlen = n;
	return 0;
}

/* --- keys ---------------------------------------------------------------- */

/*
 * Map a key-parsing failure to our codes: out of memory, a kind of key we
 * cannot use, or text that is not a key at all.
 */
static int parse_error(int rc, const char *name, const char *what)
{
	int hi = -((-rc) & 0xff80);

	if (mbed_is_nomem(rc))
		return mbed_error(E_NOMEM, rc, name, what);
	if (hi == MBEDTLS_ERR_PK_PASSWORD_REQUIRED || hi == MBEDTLS_ERR_PK_PASSWORD_MISMATCH ||
	    hi == MBEDTLS_ERR_PEM_PASSWORD_REQUIRED || hi == MBEDTLS_ERR_PEM_FEATURE_UNAVAILABLE)
		return error(E_UNSUPPORTED, "%s: %s: the key is encrypted; outpost reads "
			     "unencrypted keys only", name, what);
	if (hi == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || hi == MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE)
		return error(E_UNSUPPORTED, "%s: %s: unsupported key algorithm; only ECDSA "
			     "P-256 keys are accepted", name, what);
	if (hi == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE || hi == MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE)
		return error(E_UNSUPPORTED, "%s: %s: unsupported curve; only ECDSA P-256 "
			     "(prime256v1) keys are accepted", name, what);
	return mbed_error(E_FORMAT, rc, name, what);
}

/* Refuse everything but an ECDSA P-256 key, saying what it is instead. */
static int check_p256(const mbedtls_pk_context *pk, const char *name)
{
	mbedtls_pk_type_t type = mbedtls_pk_get_type(pk);
	const mbedtls_ecp_curve_info *curve;
	mbedtls_ecp_group_id gid;

	if (type == MBEDTLS_PK_RSA)
		return error(E_UNSUPPORTED, "%s: an RSA key (%zu bits); only ECDSA P-256 keys "
			     "are accepted", name, mbedtls_pk_get_bitlen(pk));
	if (type != MBEDTLS_PK_ECKEY)
		return error(E_UNSUPPORTED, "%s: a %s key; only ECDSA P-256 keys are accepted",
			     name, mbedtls_pk_get_name(pk));
	gid = mbedtls_pk_ec(*pk)->grp.id;
	if (gid != MBEDTLS_ECP_DP_SECP256R1) {
		curve = mbedtls_ecp_curve_info_from_grp_id(gid);
		return error(E_UNSUPPORTED, "%s: an EC key on curve %s; only P-256 (prime256v1) "
			     "keys are accepted", name, curve ? curve->name : "unknown");
	}
	return 0;
}

/* id = hex sha256 of the DER SubjectPublicKeyInfo, re-encoded canonically. */
static int key_id(const mbedtls_pk_context *pk, char id[KEYID_LEN + 1], const char *name)
{
	unsigned char der[SPKI_DER_MAX], digest[SHA256_LEN];
	mbedtls_pk_context shallow = *pk;   /* the writer wants non-const */
	int n = mbedtls_pk_write_pubkey_der(&shallow, der, sizeof(der));

	if (n < 0)
		return mbed_error(E_CRYPTO, n, name, "encoding the public key");
	sha256(der + sizeof(der) - n, (size_t)n, digest);
	sha256_hex(digest, id);
	return 0;
}

void pubkey_free(struct pubkey *k)
{
	if (!k)
		return;
	mbedtls_pk_free(&k->pk);
	mem_free(k);
}

/* Finish a parsed key: type check and id; frees k on failure. */
static int pubkey_finish(struct pubkey **out, struct pubkey *k, const char *name)
{
	int rc = check_p256(&k->pk, name);

	if (!rc)
		rc = key_id(&k->pk, k->id, name);
	if (rc) {
		pubkey_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* One DER TLV at *p of tag (short or one/two-byte long length): its content. */
static int tlv(const unsigned char **p, const unsigned char *end, unsigned char tag,
	       const unsigned char **c, size_t *n)
{
	const unsigned char *q = *p;
	size_t len;

	if (end - q < 2 || q[0] != tag)
		return 0;
	len = q[1];
	q += 2;
	if (len == 0x81 || len == 0x82) {
		size_t k = len & 0x7f;

		if ((size_t)(end - q) < k)
			return 0;
		len = k == 1 ? q[0] : (size_t)q[0] << 8 | q[1];
		q += k;
	} else if (len & 0x80) {
		return 0;
	}
	if ((size_t)(end - q) < len)
		return 0;
	*c = q;
	*n = len;
	*p = q + len;
	return 1;
}

/*
 * Why an EC SubjectPublicKeyInfo that mbedTLS refused cannot be used, when
 * it is one of the two kinds people meet (openssl makes both on request):
 * explicit curve parameters instead of the named curve, or a compressed
 * point. NULL when it is neither.
 */
static const char *spki_why(const unsigned char *der, size_t len)
{
	const unsigned char *p = der, *end = der + len, *c, *alg, *bits;
	size_t n, nalg, nbits;

	if (!tlv(&p, end, 0x30, &c, &n))
		return NULL;
	p = c;
	end = c + n;
	if (!tlv(&p, end, 0x30, &alg, &nalg) || !tlv(&p, end, 0x03, &bits, &nbits))
		return NULL;
	{
		const unsigned char *a = alg, *aend = alg + nalg, *oid;
		size_t noid;

		if (tlv(&a, aend, 0x06, &oid, &noid) && a < aend && a[0] == 0x30)
			return "the key gives its curve as explicit parameters; only a named "
			       "curve (P-256, prime256v1) is accepted (openssl ec -pubin "
			       "-param_enc named_curve)";
	}
	if (nbits >= 2 && bits[0] == 0 && (bits[1] == 0x02 || bits[1] == 0x03))
		return "the key is a compressed EC point; give it uncompressed (openssl ec "
		       "-pubin -conv_form uncompressed)";
	return NULL;
}

/* spki_why() of a PEM "PUBLIC KEY" text, decoded here. */
static const char *pem_why(const char *pem)
{
	mbedtls_pem_context ctx;
	const char *why = NULL;
	size_t used = 0;

	mbedtls_pem_init(&ctx);
	if (mbedtls_pem_read_buffer(&ctx, "-----BEGIN PUBLIC KEY-----",
				    "-----END PUBLIC KEY-----", (const unsigned char *)pem,
				    NULL, 0, &used) == 0)
		why = spki_why(ctx.buf, ctx.buflen);
	mbedtls_pem_free(&ctx);
	return why;
}

int pubkey_from_pem(struct pubkey **out, const char *pem, const char *name)
{
	struct pubkey *k;
	int rc;

	*out = NULL;
	if (strstr(pem, "PRIVATE KEY-----"))
		return error(E_FORMAT, "%s: this is a private key; give the public key "
			     "(PEM \"PUBLIC KEY\")", name);
	if (!strstr(pem, "-----BEGIN PUBLIC KEY-----"))
		return error(E_FORMAT, "%s: no PEM \"PUBLIC KEY\" block", name);
	k = mem_zalloc(1, sizeof(*k));
	if (!k)
		return error(E_NOMEM, "%s: out of memory for a public key", name);
	mbedtls_pk_init(&k->pk);
	/* PEM parsing wants the terminating NUL counted in the length. */
	rc = mbedtls_pk_parse_public_key(&k->pk, (const unsigned char *)pem, strlen(pem) + 1);
	if (rc) {
		const char *why = mbed_is_nomem(rc) ? NULL : pem_why(pem);

		pubkey_free(k);
		if (why)
			return error(E_UNSUPPORTED, "%s: %s", name, why);
		return parse_error(rc, name, "reading the public key");
	}
	return pubkey_finish(out, k, name);
}

int pubkey_from_der(struct pubkey **out, const void *der, size_t len, const char *name)
{
	unsigned char *p = (unsigned char *)(uintptr_t)der;  /* the parser only reads */
	struct pubkey *k;
	int rc;

	*out = NULL;
	k = mem_zalloc(1, sizeof(*k));
	if (!k)
		return error(E_NOMEM, "%s: out of memory for a public key", name);
	mbedtls_pk_init(&k->pk);
	rc = mbedtls_pk_parse_subpubkey(&p, p + len, &k->pk);
	if (!rc && p != (const unsigned char *)der + len)
		rc = MBEDTLS_ERR_PK_KEY_INVALID_FORMAT + MBEDTLS_ERR_ASN1_LENGTH_MISMATCH;
	if (rc) {
		const char *why = mbed_is_nomem(rc) ? NULL : spki_why(der, len);

		pubkey_free(k);
		if (why)
			return error(E_UNSUPPORTED, "%s: %s", name, why);
		return parse_error(rc, name, "reading the public key");
	}
	return pubkey_finish(out, k, name);
}

const char *pubkey_id(const struct pubkey *k)
{
	return k->id;
}

/*
 * One strict DER INTEGER at *p (before end), as a P-256 signature holds:
 * short-form length 1..33, positive, no needless leading zero byte.
 */
static int der_int_strict(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *q = *p;
	size_t n;

	if (end - q < 3 || q[0] != 0x02 || q[1] & 0x80)
		return 0;
	n = q[1];
	if (n == 0 || n > 33 || (size_t)(end - q - 2) < n)
		return 0;
	if (q[2] & 0x80)
		return 0;                       /* negative */
	if (n > 1 && q[2] == 0 && !(q[3] & 0x80))
		return 0;                       /* a padding zero */
	*p = q + 2 + n;
	return 1;
}

int ecdsa_sig_is_strict_der(const void *sig, size_t len)
{
	const unsigned char *p = sig, *end = p + len;

	/* SEQUENCE, short-form length covering exactly the rest */
	if (len < 8 || p[0] != 0x30 || p[1] & 0x80 || (size_t)p[1] != len - 2)
		return 0;
	p += 2;
	return der_int_strict(&p, end) && der_int_strict(&p, end) && p == end;
}

int pubkey_verify(const struct pubkey *k, const unsigned char digest[SHA256_LEN],
		  const void *sig, size_t len)
{
	int rc;

	/* mbedTLS reads BER leniently (long-form lengths, padded integers);
	 * openssl and every signer write strict DER, and only that counts */
	if (!ecdsa_sig_is_strict_der(sig, len))
		return E_SIGNATURE;
	/* mbedtls_pk_ec() takes the context by value and gives the key pair */
	rc = mbedtls_ecdsa_read_signature(mbedtls_pk_ec(k->pk), digest, SHA256_LEN,
					      sig, len);

	if (!rc)
		return 0;
	return mbed_is_nomem(rc) ? E_NOMEM : E_SIGNATURE;
}

/* A CTR_DRBG seeded from mbedTLS's entropy sources (getrandom, /dev/urandom). */
struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static void rng_free(struct rng *r)
{
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
}

static int rng_init(struct rng *r, const char *what)
{
	static const unsigned char pers[] = "outpost crypto";
	int rc;

	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
	rc = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
				   pers, sizeof(pers) - 1);
	if (rc) {
		rng_free(r);
		return mbed_error(E_CRYPTO, rc, what, "seeding the random generator");
	}
	return 0;
}

void privkey_free(struct privkey *k)
{
	if (!k)
		return;
	mbedtls_pk_free(&k->pk);   /* wipes the private scalar */
	mem_free(k);
}

static struct privkey *privkey_new(const char *name)
{
	struct privkey *k = mem_zalloc(1, sizeof(*k));

	if (!k) {
		error(E_NOMEM, "%s: out of memory for a private key", name);
		return NULL;
	}
	mbedtls_pk_init(&k->pk);
	return k;
}

int privkey_generate(struct privkey **out)
{
	const char *name = "generating a P-256 key";
	struct privkey *k;
	struct rng rng;
	int rc;

	*out = NULL;
	k = privkey_new(name);
	if (!k)
		return E_NOMEM;
	rc = rng_init(&rng, name);
	if (rc) {
		privkey_free(k);
		return rc;
	}
	rc = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (!rc)
		rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk),
					 mbedtls_ctr_drbg_random, &rng.drbg);
	rng_free(&rng);
	if (rc) {
		privkey_free(k);
		return mbed_error(mbed_is_nomem(rc) ? E_NOMEM : E_CRYPTO, rc, name, "mbedTLS");
	}
	rc = key_id(&k->pk, k->id, name);
	if (rc) {
		privkey_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

int privkey_from_pem(struct privkey **out, const char *pem, const char *name)
{
	struct privkey *k;
	int rc;

	*out = NULL;
	if (!strstr(pem, "PRIVATE KEY-----"))
		return error(E_FORMAT, "%s: no PEM \"PRIVATE KEY\" or \"EC PRIVATE KEY\" block",
			     name);
	/* this build has no PKCS#5/#12 or PEM decryption for keys: say so */
	if (strstr(pem, "ENCRYPTED"))
		return error(E_UNSUPPORTED, "%s: the key is encrypted; outpost reads unencrypted "
			     "keys only (openssl pkey -in KEY -out PLAIN)", name);
	k = privkey_new(name);
	if (!k)
		return E_NOMEM;
	/* 2.x takes no RNG here; the length counts the terminating NUL. */
	rc = mbedtls_pk_parse_key(&k->pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0);
	if (rc) {
		privkey_free(k);
		return parse_error(rc, name, "reading the private key");
	}
	rc = check_p256(&k->pk, name);
	if (!rc)
		rc = key_id(&k->pk, k->id, name);
	if (rc) {
		privkey_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

/* Append PEM: the label lines around base64 of der in 64-column lines. */
static int pem_write(struct buf *out, const char *label, const unsigned char *der, size_t len)
{
	size_t start = out->len;
	int rc = buf_addf(out, "-----BEGIN %s-----\n", label);

	for (size_t i = 0; !rc && i < len; i += 48) {
		rc = base64_encode(out, der + i, len - i < 48 ? len - i : 48);
		if (!rc)
			rc = buf_addch(out, '\n');
	}
	if (!rc)
		rc = buf_addf(out, "-----END %s-----\n", label);
	if (rc) {
		crypto_wipe(out->data + start, out->len - start);
		buf_truncate(out, start);
	}
	return rc;
}

int privkey_to_pem(const struct privkey *k, struct buf *out)
{
	unsigned char der[PRIV_DER_MAX];
	mbedtls_pk_context shallow = k->pk;   /* the writer wants non-const */
	int n = mbedtls_pk_write_key_der(&shallow, der, sizeof(der));
	int rc;

	if (n < 0) {
		crypto_wipe(der, sizeof(der));
		return mbed_error(E_CRYPTO, n, "private key", "encoding to DER");
	}
	/* our own PEM writer, so that no copy of the secret is left in the heap */
	rc = pem_write(out, "EC PRIVATE KEY", der + sizeof(der) - n, (size_t)n);
	crypto_wipe(der, sizeof(der));
	return rc ? error(rc, "private key: writing PEM: %s", err_str(rc)) : 0;
}

int privkey_pubkey_pem(const struct privkey *k, struct buf *out)
{
	unsigned char der[SPKI_DER_MAX];
	mbedtls_pk_context shallow = k->pk;
	int n = mbedtls_pk_write_pubkey_der(&shallow, der, sizeof(der));
	int rc;

	if (n < 0)
		return mbed_error(E_CRYPTO, n, "public key", "encoding to DER");
	rc = pem_write(out, "PUBLIC KEY", der + sizeof(der) - n, (size_t)n);
	return rc ? error(rc, "public key: writing PEM: %s", err_str(rc)) : 0;
}

const char *privkey_id(const struct privkey *k)
{
	return k->id;
}

int privkey_sign(const struct privkey *k, const unsigned char digest[SHA256_LEN],
		 unsigned char sig[ECDSA_SIG_MAX], size_t *len)
{
	unsigned char der[MBEDTLS_ECDSA_MAX_LEN];
	struct rng rng;
	int rc;

	*len = 0;
	/* k comes from RFC 6979; the RNG only blinds the computation. */
	rc = rng_init(&rng, "signing");
	if (rc)
		return rc;
	rc = mbedtls_ecdsa_write_signature(mbedtls_pk_ec(k->pk), MBEDTLS_MD_SHA256, digest,
					   SHA256_LEN, der, len, mbedtls_ctr_drbg_random,
					   &rng.drbg);
	rng_free(&rng);
	if (rc) {
		*len = 0;
		return mbed_error(mbed_is_nomem(rc) ? E_NOMEM : E_CRYPTO, rc, "signing",
				  "ECDSA P-256");
	}
	if (*len > ECDSA_SIG_MAX) {
		*len = 0;
		return error(E_INTERNAL, "signing: signature longer than %d bytes", ECDSA_SIG_MAX);
	}
	memcpy(sig, der, *len);
	return 0;
}
