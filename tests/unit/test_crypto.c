/*
 * Unit tests: platform/crypto — SHA-256 and ECDSA P-256 known answers,
 * strict base64, key type refusals, key ids that match openssl's.
 * Key material below was made offline with openssl 3.0.
 */
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "error.h"
#include "log.h"
#include "mem.h"
#include "tap.h"

/* --- SHA-256: FIPS 180-2 ---------------------------------------------------- */

static const struct {
	const char *msg;
	const char *hex;
} sha_vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
};

static void hex_of(const unsigned char d[SHA256_LEN], char hex[SHA256_HEX_LEN + 1])
{
	sha256_hex(d, hex);
}

static void test_sha256_vectors(void)
{
	for (size_t v = 0; v < sizeof(sha_vectors) / sizeof(sha_vectors[0]); v++) {
		const char *m = sha_vectors[v].msg;
		size_t len = strlen(m);
		unsigned char d[SHA256_LEN];
		char hex[SHA256_HEX_LEN + 1];
		struct sha256 c;
		int split_ok = 1;

		sha256(m, len, d);                        /* whole, one shot */
		hex_of(d, hex);
		check_str(hex, sha_vectors[v].hex);

		sha256_init(&c);                          /* byte by byte */
		for (size_t i = 0; i < len; i++)
			sha256_update(&c, m + i, 1);
		sha256_final(&c, d);
		hex_of(d, hex);
		check_str(hex, sha_vectors[v].hex);

		for (size_t at = 0; at <= len; at++) {    /* split at every offset */
			sha256_init(&c);
			sha256_update(&c, m, at);
			sha256_update(&c, m + at, len - at);
			sha256_final(&c, d);
			hex_of(d, hex);
			if (strcmp(hex, sha_vectors[v].hex) != 0) {
				tap_diag("split at %zu of vector %zu: %s", at, v, hex);
				split_ok = 0;
			}
		}
		check(split_ok);
	}
}

static void test_sha256_million(void)
{
	static char a[1000000];
	const char *want = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	unsigned char d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 c;

	memset(a, 'a', sizeof(a));
	sha256(a, sizeof(a), d);
	hex_of(d, hex);
	check_str(hex, want);

	sha256_init(&c);
	for (size_t i = 0; i < sizeof(a); i++)
		sha256_update(&c, "a", 1);
	sha256_final(&c, d);
	hex_of(d, hex);
	check_str(hex, want);

	/* odd chunks that straddle the 64-byte block boundary */
	sha256_init(&c);
	for (size_t i = 0; i < sizeof(a); i += 997)
		sha256_update(&c, a + i, sizeof(a) - i < 997 ? sizeof(a) - i : 997);
	sha256_final(&c, d);
	hex_of(d, hex);
	check_str(hex, want);
}

/* --- base64 -------------------------------------------------------------- */

static void test_base64_vectors(void)
{
	/* RFC 4648 section 10 */
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy" };

	for (size_t i = 0; i < 7; i++) {
		struct buf b = BUF_INIT(64), d = BUF_INIT(64);

		check_int(base64_encode(&b, plain[i], strlen(plain[i])), ==, 0);
		check_str(b.data, enc[i]);
		check_int(base64_decode(&d, enc[i], strlen(enc[i])), ==, 0);
		check_mem(d.data, d.len, plain[i], strlen(plain[i]));
		buf_free(&b);
		buf_free(&d);
	}
}

static void test_base64_roundtrip(void)
{
	unsigned char bytes[300], back[300];
	int ok = 1;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 151 + 7);
	for (size_t n = 0; n <= sizeof(bytes); n++) {
		struct buf b = BUF_INIT(1024);
		size_t got;

		if (base64_encode(&b, bytes, n) || b.len != (n + 2) / 3 * 4 ||
		    base64_decode_mem(back, sizeof(back), &got, b.data, b.len) ||
		    got != n || memcmp(back, bytes, n) != 0) {
			tap_diag("round trip of %zu bytes failed: %s", n, b.data);
			ok = 0;
		}
		buf_free(&b);
	}
	check(ok);
}

static void test_base64_rejects(void)
{
	static const char *const bad[] = {
		"Zm9v\n",       /* line break */
		"Zm9v\r\n",
		"Zm 9v",        /* space inside */
		" Zm9v",
		"Zm9v ",
		"Zm9",          /* not a multiple of 4 */
		"Zg=",
		"Z===",         /* too much padding */
		"====",
		"Zg==Zg==",     /* padding in the middle */
		"Zm=v",
		"=Zm9",
		"Zh==",         /* non-zero unused bits: a second encoding of "f" */
		"Zm9=",
		"Zm9v!A==",     /* outside the alphabet */
		"Zm9-",         /* URL-safe alphabet */
		"Zm9_",
	};
	unsigned char out[64];
	size_t got;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT(64);

		if (base64_decode_mem(out, sizeof(out), &got, bad[i], strlen(bad[i])) != E_FORMAT)
			tap_diag("accepted '%s'", bad[i]);
		check_int(base64_decode_mem(out, sizeof(out), &got, bad[i], strlen(bad[i])), ==,
			  E_FORMAT);
		check_int(base64_decode(&b, bad[i], strlen(bad[i])), ==, E_FORMAT);
		check_int(b.len, ==, 0);
		buf_free(&b);
	}
	/* a NUL inside the counted length is a bad character, not an end */
	check_int(base64_decode_mem(out, sizeof(out), &got, "Zm\0v", 4), ==, E_FORMAT);
}

static void test_base64_limits(void)
{
	struct buf b = BUF_INIT(7);
	unsigned char out[2];
	size_t got = 99;

	check_int(base64_encode(&b, "foobar", 6), ==, E_LIMIT);   /* 8 > cap 7 */
	check_int(b.len, ==, 0);
	/* the buffer's error is sticky until it is reset */
	check_int(base64_encode(&b, "foo", 3), ==, E_LIMIT);
	buf_reset(&b);
	check_int(base64_encode(&b, "foo", 3), ==, 0);
	check_str(b.data, "Zm9v");
	buf_free(&b);
	check_int(base64_decode_mem(out, sizeof(out), &got, "Zm9v", 4), ==, E_LIMIT);
	check_int(got, ==, 0);
	check_int(base64_decode_mem(out, sizeof(out), &got, "Zm8=", 4), ==, 0);
	check_mem(out, got, "fo", 2);
	b = (struct buf)BUF_INIT(2);
	check_int(base64_decode(&b, "Zm9v", 4), ==, E_LIMIT);
	buf_free(&b);
}

/* --- ECDSA P-256 ------------------------------------------------------------ */

/* RFC 6979 A.2.5: x = C9AFA9D8...120F6721, as SEC1 and as PKCS#8. */
static const char rfc_sec1[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIMmvqdhFunUWa1whV2ex1pNOUMPbNuibEnuKYisSD2choAoGCCqGSM49\n"
	"AwEHoUQDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z5A/4QCLi8\n"
	"maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
	"-----END EC PRIVATE KEY-----\n";
static const char rfc_pkcs8[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgya+p2EW6dRZrXCFX\n"
	"Z7HWk05Qw9s26JsSe4piKxIPZyGhRANCAARg/tS6JVqdMclh63TGNW1owEm4kjth\n"
	"+mzmaWIuYPKftnkD/hAIuLyZpBrp6VYovGTy8bIMLX6fUXejwpTURiKZ\n"
	"-----END PRIVATE KEY-----\n";
/* openssl ec -pubout of it: Ux = 60FED4BA..., Uy = 7903FE10... */
static const char rfc_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\n"
	"Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
	"-----END PUBLIC KEY-----\n";
/* openssl pkey -pubin -in rfc.pub -outform DER | sha256sum */
static const char rfc_id[] = "5a7a78cca4a0f420d9bc62bb669c3c2759e39f723d3ae10dcbe0f0815a07ecd4";

static const char rfc_encrypted[] =
	"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
	"MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhLzgkoZ0guVgICCAAw\n"
	"DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEKzeNslcfVa8ljgqfTiDNO8EgZCt\n"
	"JumDzJy4Lhab6q260hKXcB2T5zH4RDeF1NiQ85qA1nAzDun0THtzkiTpaaeEHTRe\n"
	"+E8za671An1haLaOCTh16T14Z3sj64Frmda/bDAjp0qWkSllwFJyjRkZBS/F+mAo\n"
	"LObThtI2sQ9bM8ZhrOktvBBt8K8Rv6lOSbYWkB7U69psxjqvD9JNG9uoKVToQcA=\n"
	"-----END ENCRYPTED PRIVATE KEY-----\n";

static const char rsa_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC3E6S4aI49cSjW++BZqMUeUudU\n"
	"xTa/syhyGKL/vhLmfRlZppv9q3UNhOaG5S/2xjoLdoU/kSDXvIisAd1CGWnRW7LZ\n"
	"9f5wrmJVfnN0g9OXe07r3fsr215u1Y1fYPhyFWaLWmMwS4xyMaNDZ5eE49KA4Gxw\n"
	"q3ykRVS3BLO8jf8IIQIDAQAB\n"
	"-----END PUBLIC KEY-----\n";
static const char p384_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEml6OVQ7AeBZq75NOXORSBv/CVWJCM/5t\n"
	"2S8RBeG5MMkPYe/5R+hcAlrmMxZ5M4yO4E5/U4JRqrdd8AZikg/uyp8o10t73Nce\n"
	"DVloLCV5v95n8tjwZgxVcz71lMjEHZdN\n"
	"-----END PUBLIC KEY-----\n";
static const char p521_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIGbMBAGByqGSM49AgEGBSuBBAAjA4GGAAQAyIxgvym1rD3e46UDHOfpcpIBwJnC\n"
	"YAN58PYrm8aJk/kk/dZqHP9kQXGy87VazvTPvjVpdRTqqBODjG61ddC8NlgBXp/g\n"
	"Tt9Qub3Hr2tpyHQvkkI9HMaBWIarbtQ0nRNRbyfkHyfi1+M6dYFiBRAobUwMU2pn\n"
	"+Y7NG8ZZPeD+ueRZmWE=\n"
	"-----END PUBLIC KEY-----\n";
static const char ed25519_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MCowBQYDK2VwAyEAfyzD51zceMy7VEQp6423IUwJK266gpqAKLFUFfITYyg=\n"
	"-----END PUBLIC KEY-----\n";

static int unhex(const char *h, unsigned char *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char c = h[2 * i + (size_t)j];

			v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		}
		out[i] = (unsigned char)v;
	}
	return (int)n;
}

/* DER SEQUENCE { INTEGER r, INTEGER s } from big-endian hex. */
static size_t der_sig(const char *rhex, const char *shex, unsigned char *out)
{
	unsigned char ints[2][33];
	size_t n = 2, lens[2];
	const char *hx[2] = { rhex, shex };

	for (int k = 0; k < 2; k++) {
		unsigned char raw[32], *p = raw;
		size_t len = (size_t)unhex(hx[k], raw);

		while (len > 1 && *p == 0 && !(p[1] & 0x80)) {
			p++;
			len--;
		}
		lens[k] = 0;
		if (*p & 0x80)
			ints[k][lens[k]++] = 0;
		memcpy(ints[k] + lens[k], p, len);
		lens[k] += len;
	}
	out[0] = 0x30;
	for (int k = 0; k < 2; k++) {
		out[n++] = 0x02;
		out[n++] = (unsigned char)lens[k];
		memcpy(out + n, ints[k], lens[k]);
		n += lens[k];
	}
	out[1] = (unsigned char)(n - 2);
	return n;
}

static const struct {
	const char *msg, *r, *s;
} rfc_vectors[] = {
	{ "sample", "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
	  "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8" },
	{ "test", "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
	  "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083" },
};

static void test_rfc6979(void)
{
	const char *pems[2] = { rfc_sec1, rfc_pkcs8 };
	struct pubkey *pub = NULL;

	check_int(pubkey_from_pem(&pub, rfc_pub, "rfc.pub"), ==, 0);
	check(pub != NULL);
	if (!pub)
		return;
	check_str(pubkey_id(pub), rfc_id);

	for (int f = 0; f < 2; f++) {
		struct privkey *k = NULL;
		struct buf pubpem = BUF_INIT(1024);

		check_int(privkey_from_pem(&k, pems[f], f ? "rfc-pkcs8.key" : "rfc-sec1.key"), ==, 0);
		if (!k)
			continue;
		check_str(privkey_id(k), rfc_id);
		/* the public half is written exactly as openssl writes it */
		check_int(privkey_pubkey_pem(k, &pubpem), ==, 0);
		check_str(pubpem.data, rfc_pub);
		buf_free(&pubpem);

		for (size_t v = 0; v < 2; v++) {
			unsigned char d[SHA256_LEN], want[80], sig[ECDSA_SIG_MAX], bad[ECDSA_SIG_MAX + 1];
			size_t wantlen = der_sig(rfc_vectors[v].r, rfc_vectors[v].s, want), len = 0;

			sha256(rfc_vectors[v].msg, strlen(rfc_vectors[v].msg), d);
			check_int(privkey_sign(k, d, sig, &len), ==, 0);
			check_mem(sig, len, want, wantlen);
			check_int(pubkey_verify(pub, d, want, wantlen), ==, 0);

			memcpy(bad, want, wantlen);             /* a flipped bit in r */
			bad[10] ^= 0x01;
			check_int(pubkey_verify(pub, d, bad, wantlen), ==, E_SIGNATURE);
			memcpy(bad, want, wantlen);             /* ... in s */
			bad[wantlen - 1] ^= 0x80;
			check_int(pubkey_verify(pub, d, bad, wantlen), ==, E_SIGNATURE);
			memcpy(bad, want, wantlen);             /* trailing byte */
			bad[wantlen] = 0;
			check_int(pubkey_verify(pub, d, bad, wantlen + 1), ==, E_SIGNATURE);
			check_int(pubkey_verify(pub, d, want, wantlen - 1), ==, E_SIGNATURE);
			check_int(pubkey_verify(pub, d, want, 0), ==, E_SIGNATURE);
			d[SHA256_LEN - 1] ^= 0x01;              /* a flipped bit in the hash */
			check_int(pubkey_verify(pub, d, want, wantlen), ==, E_SIGNATURE);
		}
		privkey_free(k);
	}
	/* the "sample" signature does not verify "test" */
	{
		unsigned char d[SHA256_LEN], want[80];
		size_t wantlen = der_sig(rfc_vectors[0].r, rfc_vectors[0].s, want);

		sha256("test", 4, d);
		check_int(pubkey_verify(pub, d, want, wantlen), ==, E_SIGNATURE);
	}
	pubkey_free(pub);
}

static void test_pubkey_der(void)
{
	const char *b64 = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7"
			  "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==";
	struct buf der = BUF_INIT(256);
	struct pubkey *k = NULL;
	unsigned char digest[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	check_int(base64_decode(&der, b64, strlen(b64)), ==, 0);
	check_int(der.len, ==, 91);
	/* the key id is the sha256 of exactly these bytes */
	sha256(der.data, der.len, digest);
	sha256_hex(digest, hex);
	check_str(hex, rfc_id);
	check_int(pubkey_from_der(&k, der.data, der.len, "der"), ==, 0);
	if (k)
		check_str(pubkey_id(k), rfc_id);
	pubkey_free(k);
	buf_addch(&der, 0);
	check_int(pubkey_from_der(&k, der.data, der.len, "der+1"), ==, E_FORMAT);
	check(k == NULL);
	check_int(pubkey_from_der(&k, der.data, 40, "truncated"), ==, E_FORMAT);
	buf_free(&der);
}

static void test_key_refusals(void)
{
	static char sentinel;
	struct pubkey *pub = (struct pubkey *)(void *)&sentinel;  /* must be reset to NULL */
	struct privkey *k = NULL;
	char broken[sizeof(rfc_pub)];

	check_int(pubkey_from_pem(&pub, rsa_pub, "rsa.pub"), ==, E_UNSUPPORTED);
	check(pub == NULL);
	check_int(pubkey_from_pem(&pub, p384_pub, "p384.pub"), ==, E_UNSUPPORTED);
	check_int(pubkey_from_pem(&pub, p521_pub, "p521.pub"), ==, E_UNSUPPORTED);
	check_int(pubkey_from_pem(&pub, ed25519_pub, "ed25519.pub"), ==, E_UNSUPPORTED);
	/* a private key where a public one belongs: refused, and said so */
	check_int(pubkey_from_pem(&pub, rfc_sec1, "k.key"), ==, E_FORMAT);
	check_int(pubkey_from_pem(&pub, "", "empty"), ==, E_FORMAT);
	check_int(pubkey_from_pem(&pub, "not a key\n", "junk"), ==, E_FORMAT);
	memcpy(broken, rfc_pub, sizeof(rfc_pub));
	broken[40] = '*';                           /* damage the base64 */
	check_int(pubkey_from_pem(&pub, broken, "broken.pub"), ==, E_FORMAT);
	memcpy(broken, rfc_pub, sizeof(rfc_pub));
	broken[110] = broken[110] == 'A' ? 'B' : 'A'; /* move the point off the curve */
	check_int(pubkey_from_pem(&pub, broken, "offcurve.pub"), ==, E_FORMAT);
	check(pub == NULL);

	check_int(privkey_from_pem(&k, rfc_encrypted, "enc.key"), ==, E_UNSUPPORTED);
	check_int(privkey_from_pem(&k, rfc_pub, "k.pub"), ==, E_FORMAT);
	check_int(privkey_from_pem(&k, "", "empty"), ==, E_FORMAT);
	check(k == NULL);
}

static void test_generate(void)
{
	struct privkey *k = NULL, *k2 = NULL;
	struct pubkey *pub = NULL;
	struct buf pem = BUF_INIT(4096), pubpem = BUF_INIT(4096);
	unsigned char d[SHA256_LEN], s1[ECDSA_SIG_MAX], s2[ECDSA_SIG_MAX];
	size_t l1 = 0, l2 = 0;

	check_int(privkey_generate(&k), ==, 0);
	if (!k)
		return;
	check_int(strlen(privkey_id(k)), ==, 64);
	check_int(privkey_to_pem(k, &pem), ==, 0);
	check(strncmp(pem.data, "-----BEGIN EC PRIVATE KEY-----\n", 31) == 0);
	check_int(privkey_pubkey_pem(k, &pubpem), ==, 0);
	check_int(pubkey_from_pem(&pub, pubpem.data, "generated.pub"), ==, 0);
	check_int(privkey_from_pem(&k2, pem.data, "generated.key"), ==, 0);
	if (pub && k2) {
		check_str(pubkey_id(pub), privkey_id(k));
		check_str(privkey_id(k2), privkey_id(k));
		sha256("payload", 7, d);
		check_int(privkey_sign(k, d, s1, &l1), ==, 0);
		check_int(privkey_sign(k2, d, s2, &l2), ==, 0);
		check_mem(s1, l1, s2, l2);              /* deterministic, and the same key */
		check_int(pubkey_verify(pub, d, s1, l1), ==, 0);
	}
	/* two generated keys differ */
	privkey_free(k2);
	k2 = NULL;
	check_int(privkey_generate(&k2), ==, 0);
	if (k2)
		check(strcmp(privkey_id(k2), privkey_id(k)) != 0);
	crypto_wipe(pem.data, pem.len);
	buf_free(&pem);
	buf_free(&pubpem);
	pubkey_free(pub);
	privkey_free(k);
	privkey_free(k2);
}

/* Every allocation of ours on the parse paths can fail cleanly (no leak). */
static void test_alloc_failure(void)
{
	int nomem = 0, ok = 1;

	for (unsigned long n = 1; n < 10; n++) {
		struct pubkey *pub = NULL;
		struct privkey *k = NULL;
		struct buf b = BUF_INIT(64);
		int r1, r2, r3;

		mem_fail_after(n);
		r1 = pubkey_from_pem(&pub, rfc_pub, "rfc.pub");
		r2 = privkey_from_pem(&k, rfc_sec1, "rfc.key");
		r3 = base64_decode(&b, "Zm9vYmFy", 8);
		mem_fail_after(0);
		nomem += (r1 == E_NOMEM) + (r2 == E_NOMEM) + (r3 == E_NOMEM);
		if ((r1 && r1 != E_NOMEM) || (r2 && r2 != E_NOMEM) || (r3 && r3 != E_NOMEM) ||
		    (r1 && pub) || (r2 && k) || (r3 && b.len))
			ok = 0;
		pubkey_free(pub);
		privkey_free(k);
		buf_free(&b);
	}
	check(nomem > 0);
	check(ok);
}

/* Strict DER: what openssl writes, and the BER spellings it refuses. */
static void test_strict_der(void)
{
	static const unsigned char ok[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };
	static const unsigned char sign[] = { 0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01,
					      0x02 };
	static const unsigned char longform[] = { 0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02,
						  0x01, 0x02 };
	static const unsigned char intlong[] = { 0x30, 0x07, 0x02, 0x81, 0x01, 0x01, 0x02,
						 0x01, 0x02 };
	static const unsigned char padded[] = { 0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02,
						0x01, 0x02 };
	static const unsigned char negative[] = { 0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01,
						  0x02 };
	static const unsigned char trailing[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01,
						  0x02, 0x00 };
	static const unsigned char shortseq[] = { 0x30, 0x05, 0x02, 0x01, 0x01, 0x02, 0x01,
						  0x02 };
	static const unsigned char empty[] = { 0x30, 0x06, 0x02, 0x00, 0x02, 0x02, 0x01, 0x02 };

	check_int(ecdsa_sig_is_strict_der(ok, sizeof(ok)), ==, 1);
	check_int(ecdsa_sig_is_strict_der(sign, sizeof(sign)), ==, 1);
	check_int(ecdsa_sig_is_strict_der(longform, sizeof(longform)), ==, 0);
	check_int(ecdsa_sig_is_strict_der(intlong, sizeof(intlong)), ==, 0);
	check_int(ecdsa_sig_is_strict_der(padded, sizeof(padded)), ==, 0);
	check_int(ecdsa_sig_is_strict_der(negative, sizeof(negative)), ==, 0);
	check_int(ecdsa_sig_is_strict_der(trailing, sizeof(trailing)), ==, 0);
	check_int(ecdsa_sig_is_strict_der(shortseq, sizeof(shortseq)), ==, 0);
	check_int(ecdsa_sig_is_strict_der(empty, sizeof(empty)), ==, 0);
	for (size_t n = 0; n < sizeof(ok); n++)
		check_int(ecdsa_sig_is_strict_der(ok, n), ==, 0);
}

int main(void)
{
	log_set_timestamps(0);
	test_strict_der();
	test_sha256_vectors();
	test_sha256_million();
	test_base64_vectors();
	test_base64_roundtrip();
	test_base64_rejects();
	test_base64_limits();
	test_rfc6979();
	test_pubkey_der();
	test_key_refusals();
	test_generate();
	test_alloc_failure();
	return tap_done();
}
