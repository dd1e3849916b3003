/* age — see age.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "age.h"
#include "cipher.h"
#include "crypto.h"
#include "error.h"
#include "mem.h"

#define INTRO "age-encryption.org/v1\n"
#define INTRO_NAME "age-encryption.org/"
#define ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define ARMOR_END "-----END AGE ENCRYPTED FILE-----"
#define ARMOR_COLUMNS 64
#define BODY_COLUMNS 64
#define LINE_MAX_LEN 8192       /* a stanza's argument line, at most */
#define BODY_MAX 3072           /* a stanza's body, decoded, at most */
#define FILE_KEY_LEN 16
#define CHUNK 65536
#define NONCE_LEN 16
#define X25519_LABEL "age-encryption.org/v1/X25519"
#define SECRET_HRP "age-secret-key-"
#define RECIPIENT_HRP "age"
#define SECRET_PREFIX "AGE-SECRET-KEY-1"
#define SECRET_TEXT_MAX 128

struct identity {
	unsigned char secret[X25519_LEN];
	unsigned char public[X25519_LEN];
	char recipient[AGE_RECIPIENT_MAX];
};

struct age_keyring {
	struct identity id[AGE_KEYRING_MAX];
	size_t n;
};

/* --- bech32 (BIP 173), as age encodes keys ---------------------------------- */

static const char b32[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3 };
	uint32_t b = chk >> 25;

	chk = (chk & 0x1ffffff) << 5 ^ v;
	for (int i = 0; i < 5; i++)
		if (b >> i & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t polymod_hrp(const char *hrp)
{
	uint32_t chk = 1;
	size_t n = strlen(hrp);

	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned char)hrp[i] >> 5);
	chk = polymod_step(chk, 0);
	for (size_t i = 0; i < n; i++)
		chk = polymod_step(chk, (unsigned char)hrp[i] & 31);
	return chk;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Decode s (one case throughout) with the lowercase hrp into exactly len bytes. */
static int bech32_decode(const char *s, size_t slen, const char *hrp, unsigned char *out, size_t len)
{
	size_t hlen = strlen(hrp), n = 0;
	uint32_t chk, acc = 0;
	unsigned bits = 0;
	int upper = 0, low = 0;

	if (slen < hlen + 7 || s[hlen] != '1')
		return E_FORMAT;
	for (size_t i = 0; i < slen; i++) {
		upper |= s[i] >= 'A' && s[i] <= 'Z';
		low |= s[i] >= 'a' && s[i] <= 'z';
		if (i < hlen && lower(s[i]) != hrp[i])
			return E_FORMAT;
	}
	if (upper && low)
		return E_FORMAT;
	chk = polymod_hrp(hrp);
	for (size_t i = hlen + 1; i < slen; i++) {
		const char *c = memchr(b32, lower(s[i]), 32);
		unsigned v;

		if (!c)
			return E_FORMAT;
		v = (unsigned)(c - b32);
		chk = polymod_step(chk, v);
		if (i >= slen - 6)
			continue;
		acc = (acc << 5 | v) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (n == len)
				return E_FORMAT;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	if (chk != 1 || n != len || bits >= 5 || (acc & ((1u << bits) - 1)))
		return E_FORMAT;
	return 0;
}

/* Encode len bytes with hrp into out (cap bytes, NUL-terminated), lowercase. */
static int bech32_encode(char *out, size_t cap, const char *hrp, const unsigned char *data, size_t len)
{
	size_t hlen = strlen(hrp), n = 0;
	uint32_t chk = polymod_hrp(hrp), acc = 0;
	unsigned bits = 0;

	if (cap < hlen + 1 + (len * 8 + 4) / 5 + 6 + 1)
		return E_LIMIT;
	memcpy(out, hrp, hlen);
	n = hlen;
	out[n++] = '1';
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8 | data[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			chk = polymod_step(chk, acc >> bits & 31);
			out[n++] = b32[acc >> bits & 31];
		}
	}
	if (bits) {
		unsigned v = acc << (5 - bits) & 31;

		chk = polymod_step(chk, v);
		out[n++] = b32[v];
	}
	for (int i = 0; i < 6; i++)
		chk = polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[n++] = b32[chk >> (5 * (5 - i)) & 31];
	out[n] = '\0';
	return 0;
}

/* --- the keyring -------------------------------------------------------------- */

struct age_keyring *age_keyring_new(void)
{
	struct age_keyring *k = mem_zalloc(1, sizeof(*k));

	if (!k)
		error(E_NOMEM, "age identities: out of memory");
	return k;
}

void age_keyring_free(struct age_keyring *k)
{
	if (!k)
		return;
	crypto_wipe(k, sizeof(*k));
	mem_free(k);
}

size_t age_keyring_count(const struct age_keyring *k)
{
	return k->n;
}

const char *age_keyring_recipient(const struct age_keyring *k, size_t i)
{
	return i < k->n ? k->id[i].recipient : "";
}

void age_keyring_list(const struct age_keyring *k, char *out, size_t cap)
{
	size_t n = 0;

	snprintf(out, cap, "none");
	for (size_t i = 0; i < k->n && i < 3; i++)
		n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", i ? ", " : "",
				      k->id[i].recipient);
	if (k->n > 3 && n < cap)
		snprintf(out + n, cap - n, " and %zu more", k->n - 3);
}

int age_keyring_find(const struct age_keyring *k, const char *r)
{
	for (size_t i = 0; i < k->n; i++)
		if (strcmp(k->id[i].recipient, r) == 0)
			return (int)i;
	return -1;
}

static int identity_set(struct identity *id)
{
	if (x25519_public(id->public, id->secret))
		return E_CRYPTO;
	return bech32_encode(id->recipient, sizeof(id->recipient), RECIPIENT_HRP,
			     id->public, X25519_LEN);
}

static int has_prefix(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

int age_keyring_add(struct age_keyring *k, const char *text, size_t len, const char *name)
{
	size_t n = k->n, pos = 0;
	unsigned lineno = 0;
	int rc = 0;

	while (pos < len && !rc) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;

		pos += l + (nl != NULL);
		lineno++;
		if (l && line[l - 1] == '\r')
			l--;
		while (l && (line[l - 1] == ' ' || line[l - 1] == '\t'))
			l--;
		if (!l || line[0] == '#')
			continue;
		if (has_prefix(line, l, "AGE-SECRET-KEY-PQ-1"))
			rc = error(E_UNSUPPORTED, "%s line %u: a post-quantum hybrid identity "
				   "(AGE-SECRET-KEY-PQ-1): only X25519 identities are supported",
				   name, lineno);
		else if (has_prefix(line, l, "AGE-PLUGIN-"))
			rc = error(E_UNSUPPORTED, "%s line %u: an age plugin identity: only X25519 "
				   "identities are supported", name, lineno);
		else if (n == AGE_KEYRING_MAX)
			rc = error(E_LIMIT, "%s line %u: more than %d identities", name, lineno,
				   AGE_KEYRING_MAX);
		else if (bech32_decode(line, l, SECRET_HRP, k->id[n].secret, X25519_LEN))
			rc = error(E_FORMAT, "%s line %u: not an age X25519 identity "
				   "(AGE-SECRET-KEY-1... with a valid checksum)", name, lineno);
		else if (identity_set(&k->id[n]))
			rc = error(E_CRYPTO, "%s line %u: the identity gives no public key", name, lineno);
		else
			n++;
	}
	if (!rc && n == k->n)
		rc = error(E_FORMAT, "%s: no age identity in it", name);
	if (rc) {
		crypto_wipe(&k->id[k->n], (AGE_KEYRING_MAX - k->n) * sizeof(k->id[0]));
		return rc;
	}
	k->n = n;
	return 0;
}

int age_identity_new(struct buf *out, char recipient[AGE_RECIPIENT_MAX])
{
	struct identity id;
	char text[SECRET_TEXT_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	if (cipher_random(id.secret, sizeof(id.secret)))
		return error(E_CRYPTO, "making an age identity: no random bytes");
	rc = identity_set(&id);
	if (!rc)
		rc = bech32_encode(text, sizeof(text), SECRET_HRP, id.secret, X25519_LEN);
	if (rc) {
		crypto_wipe(&id, sizeof(id));
		return error(E_CRYPTO, "making an age identity: %s", err_str(rc));
	}
	for (char *p = text; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (!gmtime_r(&now, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
		stamp[0] = '\0';
	buf_addf(out, "# created: %s\n# public key: %s\n%s\n", stamp, id.recipient, text);
	memcpy(recipient, id.recipient, AGE_RECIPIENT_MAX);
	crypto_wipe(text, sizeof(text));
	crypto_wipe(&id, sizeof(id));
	rc = buf_error(out);
	return rc ? error(rc, "making an age identity: %s", err_str(rc)) : 0;
}

/* --- the header ------------------------------------------------------------------ */

struct stanza {
	const char *arg[3];     /* the type, then up to two arguments */
	size_t arglen[3];
	unsigned nargs;         /* all of them, even past three */
	unsigned char body[BODY_MAX];
	size_t bodylen;
};

struct header {
	struct stanza *s;       /* AGE_MAX_STANZAS of them */
	size_t n;
	size_t maclen;          /* bytes the MAC covers: through "---" */
	unsigned char mac[HMAC_SHA256_LEN];
	size_t end;             /* offset of the payload */
};

static int arg_is(const struct stanza *s, unsigned i, const char *what)
{
	return i < s->nargs && s->arglen[i] == strlen(what) && !memcmp(s->arg[i], what, s->arglen[i]);
}

/* The line at *pos, without its LF, or NULL when no LF ends it. */
static const char *next_line(const char *p, size_t len, size_t *pos, size_t *l)
{
	const char *line = p + *pos, *nl = memchr(line, '\n', len - *pos);

	if (!nl)
		return NULL;
	*l = (size_t)(nl - line);
	*pos += *l + 1;
	return line;
}

static const char *stanza_parse(struct stanza *s, const char *p, size_t len, size_t *pos,
				const char *line, size_t l)
{
	char text[BODY_MAX / 3 * 4 + BODY_COLUMNS];
	size_t tlen = 0, i = 3;

	memset(s, 0, sizeof(*s));
	if (l > LINE_MAX_LEN)
		return "a stanza line is too long";
	while (i <= l) {
		size_t start = i;

		while (i < l && line[i] != ' ') {
			if (line[i] < 0x21 || line[i] > 0x7e)
				return "a stanza has a character that is not printable ASCII";
			i++;
		}
		if (i == start)
			return "a stanza has an empty argument";
		if (s->nargs < 3) {
			s->arg[s->nargs] = line + start;
			s->arglen[s->nargs] = i - start;
		}
		s->nargs++;
		i++;
	}
	if (!s->nargs)
		return "a stanza has no type";
	for (;;) {
		const char *b = next_line(p, len, pos, &l);

		if (!b)
			return "the header ends inside a stanza";
		if (l > BODY_COLUMNS)
			return "a stanza body line is longer than 64 columns";
		if (tlen + l > sizeof(text))
			return "a stanza body is too long";
		memcpy(text + tlen, b, l);
		tlen += l;
		if (l < BODY_COLUMNS)
			break;
	}
	if (base64_decode_raw(s->body, sizeof(s->body), &s->bodylen, text, tlen))
		return "a stanza body is not canonical unpadded base64";
	return NULL;
}

static const char *header_parse(struct header *h, const char *p, size_t len)
{
	size_t pos = strlen(INTRO), l;
	const char *line;

	if (len < pos || memcmp(p, INTRO, pos))
		return len >= strlen(INTRO_NAME) && !memcmp(p, INTRO_NAME, strlen(INTRO_NAME))
			? "an age format version other than v1" : "not an age file";
	for (;;) {
		line = next_line(p, len, &pos, &l);
		if (!line)
			return "the header has no MAC line";
		if (l >= 3 && !memcmp(line, "---", 3))
			break;
		if (l < 3 || memcmp(line, "-> ", 3))
			return "a header line is neither a stanza nor the MAC";
		if (h->n == AGE_MAX_STANZAS)
			return "more than 64 stanzas";
		const char *why = stanza_parse(&h->s[h->n], p, len, &pos, line, l);
		if (why)
			return why;
		h->n++;
	}
	if (!h->n)
		return "the header has no recipient stanza";
	size_t maclen;
	if (l < 4 || line[3] != ' ' ||
	    base64_decode_raw(h->mac, sizeof(h->mac), &maclen, line + 4, l - 4) ||
	    maclen != sizeof(h->mac))
		return "the MAC line is not \"--- \" and 32 bytes of base64";
	h->maclen = (size_t)(line - p) + 3;
	h->end = pos;
	return NULL;
}

/* --- armor --------------------------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The armor's line at *pos without LF or CRLF, also when the data ends. */
static const char *armor_line(const char *p, size_t len, size_t *pos, size_t *l)
{
	const char *line = p + *pos, *nl = memchr(line, '\n', len - *pos);

	*l = nl ? (size_t)(nl - line) : len - *pos;
	*pos += *l + (nl != NULL);
	if (*l && line[*l - 1] == '\r')
		(*l)--;
	return line;
}

static const char *armor_decode(const char *p, size_t len, struct buf *bin)
{
	struct buf text = BUF_INIT(len);
	size_t pos = 0, l, last = ARMOR_COLUMNS;
	const char *line, *why = NULL;

	while (pos < len && is_space(p[pos]))
		pos++;
	line = armor_line(p, len, &pos, &l);
	if (l != strlen(ARMOR_BEGIN) || memcmp(line, ARMOR_BEGIN, l))
		return "the armor does not begin with " ARMOR_BEGIN;
	for (;;) {
		if (pos >= len) {
			why = "the armor has no END line";
			break;
		}
		line = armor_line(p, len, &pos, &l);
		if (l == strlen(ARMOR_END) && !memcmp(line, ARMOR_END, l))
			break;
		if (!l || l > ARMOR_COLUMNS || last < ARMOR_COLUMNS) {
			why = "an armor line is not 64 columns (only the last may be shorter)";
			break;
		}
		if (memchr(text.data, '=', text.len)) {
			why = "base64 padding before the last armor line";
			break;
		}
		buf_add(&text, line, l);
		last = l;
	}
	while (!why && pos < len)
		if (!is_space(p[pos++]))
			why = "text after the armor's END line";
	if (!why && (buf_error(&text) || base64_decode(bin, text.data, text.len)))
		why = "the armor is not canonical padded base64";
	buf_free(&text);
	return why;
}

/* --- opening -------------------------------------------------------------------------- */

/* Check every X25519 stanza's shape: one share of 32 bytes, a 32-byte body. */
static const char *x25519_check(const struct header *h, unsigned *count)
{
	*count = 0;
	for (size_t i = 0; i < h->n; i++) {
		const struct stanza *s = &h->s[i];
		unsigned char share[X25519_LEN + 1];
		size_t n;

		if (arg_is(s, 0, "scrypt"))
			return h->n > 1 ? "an scrypt stanza is not alone in the header" : NULL;
		if (!arg_is(s, 0, "X25519"))
			continue;
		if (s->nargs != 2)
			return "an X25519 stanza has other than one argument";
		if (base64_decode_raw(share, sizeof(share), &n, s->arg[1], s->arglen[1]) ||
		    n != X25519_LEN)
			return "an X25519 share is not 32 bytes of canonical base64";
		if (s->bodylen != FILE_KEY_LEN + AEAD_TAG_LEN)
			return "an X25519 stanza does not wrap a 16-byte file key";
		(*count)++;
	}
	return NULL;
}

/* 1 and the file key when id opens s; 0 when not; E_CRYPTO for a low-order share. */
static int x25519_unwrap(const struct identity *id, const struct stanza *s,
			 unsigned char key[FILE_KEY_LEN])
{
	static const unsigned char zero_nonce[CHACHA_NONCE_LEN];
	unsigned char share[X25519_LEN], shared[X25519_LEN], salt[2 * X25519_LEN];
	unsigned char wrap[HMAC_SHA256_LEN];
	size_t n;
	int rc;

	(void)base64_decode_raw(share, sizeof(share), &n, s->arg[1], s->arglen[1]);
	if (x25519(shared, id->secret, share))
		return E_CRYPTO;
	memcpy(salt, share, X25519_LEN);
	memcpy(salt + X25519_LEN, id->public, X25519_LEN);
	hkdf_sha256(salt, sizeof(salt), shared, sizeof(shared), X25519_LABEL, wrap);
	rc = chacha20poly1305_open(wrap, zero_nonce, s->body, s->bodylen, key) ? 0 : 1;
	crypto_wipe(shared, sizeof(shared));
	crypto_wipe(wrap, sizeof(wrap));
	return rc;
}

/* The types of the stanzas, "X25519, mlkem768x25519", for an error. */
static void stanza_types(const struct header *h, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < h->n && n + 4 < cap; i++) {
		size_t l = h->s[i].arglen[0];
		int dup = 0;

		for (size_t j = 0; j < i; j++)
			dup |= h->s[j].arglen[0] == l && !memcmp(h->s[j].arg[0], h->s[i].arg[0], l);
		if (dup)
			continue;
		if (l > cap - n - 4)
			l = cap - n - 4;
		if (n) {
			memcpy(out + n, ", ", 2);
			n += 2;
		}
		memcpy(out + n, h->s[i].arg[0], l);
		n += l;
		out[n] = '\0';
	}
}

/* Open one chunk with the last-chunk flag as given; 0 or E_SIGNATURE. */
static int chunk_open(const unsigned char pkey[HMAC_SHA256_LEN], uint64_t counter, int last,
		      const char *in, size_t n, struct buf *out)
{
	unsigned char nonce[CHACHA_NONCE_LEN] = { 0 };

	for (int i = 0; i < 8; i++)
		nonce[10 - i] = (unsigned char)(counter >> (8 * i));
	nonce[11] = (unsigned char)last;
	if (chacha20poly1305_open(pkey, nonce, in, n, out->data + out->len))
		return E_SIGNATURE;
	out->len += n - AEAD_TAG_LEN;
	out->data[out->len] = '\0';
	return 0;
}

/*
 * The STREAM payload, chunk by chunk as age releases it: a full chunk is
 * opened as a middle one, else as the final one (which may be full); a
 * shorter chunk can only be the final one, and nothing may follow that.
 */
static int payload_open(const unsigned char key[FILE_KEY_LEN], const char *p, size_t len,
			struct buf *out, const char **why)
{
	const size_t full = CHUNK + AEAD_TAG_LEN;
	size_t rest = len - NONCE_LEN, pos = NONCE_LEN;
	unsigned char pkey[HMAC_SHA256_LEN];
	uint64_t counter = 0;
	int rc = 0, last = 0;

	if (!rest) {
		*why = "the payload has no chunk";
		return E_SIGNATURE;
	}
	/* room for all of the plaintext first: no copy of it is left behind */
	rc = buf_grow(out, rest / full * CHUNK + (rest % full > AEAD_TAG_LEN ? rest % full - AEAD_TAG_LEN : 0));
	if (rc) {
		*why = rc == E_LIMIT ? "the plaintext is larger than allowed" : "out of memory";
		return rc;
	}
	hkdf_sha256(p, NONCE_LEN, key, FILE_KEY_LEN, "payload", pkey);
	while (pos < len && !last) {
		size_t n = len - pos > full ? full : len - pos;

		if (n < AEAD_TAG_LEN) {
			*why = "a chunk is shorter than its tag";
			rc = E_SIGNATURE;
			break;
		}
		if (n == AEAD_TAG_LEN && counter) {
			*why = "an empty final chunk after other chunks";
			rc = E_SIGNATURE;
			break;
		}
		if (n < full || chunk_open(pkey, counter, 0, p + pos, n, out)) {
			last = 1;
			rc = chunk_open(pkey, counter, 1, p + pos, n, out);
			if (rc) {
				*why = "a chunk does not decrypt (the payload is corrupt or truncated)";
				break;
			}
		}
		pos += n;
		counter++;
	}
	if (!rc && !last) {
		*why = "the payload ends without its final chunk (truncated)";
		rc = E_SIGNATURE;
	}
	if (!rc && pos < len) {
		*why = "data after the final chunk";
		rc = E_SIGNATURE;
	}
	crypto_wipe(pkey, sizeof(pkey));
	return rc;
}

static int age_open(const struct age_keyring *k, const char *p, size_t len, struct buf *out,
		    enum age_outcome *how, const char *name, struct buf *whybuf)
{
	struct header h = { 0 };
	unsigned char key[FILE_KEY_LEN], hkey[HMAC_SHA256_LEN], mac[HMAC_SHA256_LEN];
	const char *why;
	unsigned x25519s;
	int rc = 0, found = 0;

	h.s = mem_alloc(AGE_MAX_STANZAS, sizeof(*h.s));
	if (!h.s)
		return error_to(whybuf, E_NOMEM, "%s: out of memory", name);
	*how = AGE_HEADER_BAD;
	why = header_parse(&h, p, len);
	if (!why)
		why = x25519_check(&h, &x25519s);
	if (why) {
		rc = error_to(whybuf, E_FORMAT, "%s: %s", name, why);
		goto done;
	}
	if (h.n == 1 && arg_is(&h.s[0], 0, "scrypt")) {
		*how = AGE_NOT_SUPPORTED;
		rc = error_to(whybuf, E_UNSUPPORTED, "%s: encrypted with a passphrase (scrypt): outpost opens "
			   "only files made for X25519 recipients", name);
		goto done;
	}
	for (size_t i = 0; i < k->n && !found; i++)
		for (size_t j = 0; j < h.n && !found; j++) {
			if (!arg_is(&h.s[j], 0, "X25519"))
				continue;
			found = x25519_unwrap(&k->id[i], &h.s[j], key);
			if (found < 0) {
				rc = error_to(whybuf, E_FORMAT, "%s: an X25519 share of low order (a shared "
					   "secret of zero)", name);
				goto done;
			}
		}
	if (!found) {
		char types[128], mine[4 * AGE_RECIPIENT_MAX + 32];
		int hybrid = 0;

		for (size_t j = 0; j < h.n; j++)
			hybrid |= arg_is(&h.s[j], 0, "mlkem768x25519");
		stanza_types(&h, types, sizeof(types));
		age_keyring_list(k, mine, sizeof(mine));
		*how = hybrid && !x25519s ? AGE_NOT_SUPPORTED : AGE_NO_MATCH;
		rc = error_to(whybuf, *how == AGE_NO_MATCH ? E_NOTFOUND : E_UNSUPPORTED,
			   "%s: no identity of this gateway (%s) opens it: it was made for %zu "
			   "recipient%s (%s)%s", name, mine, h.n, h.n == 1 ? "" : "s", types,
			   hybrid ? "; post-quantum hybrid recipients are not supported" : "");
		goto done;
	}
	hkdf_sha256(NULL, 0, key, sizeof(key), "header", hkey);
	hmac_sha256(hkey, sizeof(hkey), p, h.maclen, mac);
	crypto_wipe(hkey, sizeof(hkey));
	if (!cipher_equal(mac, h.mac, sizeof(mac))) {
		*how = AGE_HMAC_BAD;
		rc = error_to(whybuf, E_SIGNATURE, "%s: the header MAC is wrong (the header was changed)", name);
		goto done;
	}
	if (len - h.end < NONCE_LEN) {
		rc = error_to(whybuf, E_FORMAT, "%s: the payload nonce is missing", name);
		goto done;
	}
	rc = payload_open(key, p + h.end, len - h.end, out, &why);
	if (rc) {
		*how = AGE_PAYLOAD_BAD;
		rc = error_to(whybuf, rc, "%s: %s", name, why);
		goto done;
	}
	*how = AGE_OPENED;
done:
	crypto_wipe(key, sizeof(key));
	mem_free(h.s);
	return rc;
}

int age_decrypt(const struct age_keyring *k, const void *in, size_t len, struct buf *out,
		enum age_outcome *how, const char *name, struct buf *why)
{
	const char *p = in;
	size_t n = strlen(INTRO_NAME) < len ? strlen(INTRO_NAME) : len;
	struct buf bin;
	const char *bad;
	int rc;

	/* binary when it starts as the intro does (or is empty), else armor */
	if (!memcmp(p, INTRO_NAME, n))
		return age_open(k, p, len, out, how, name, why);
	buf_init(&bin, len);
	bad = armor_decode(p, len, &bin);
	if (bad) {
		*how = AGE_ARMOR_BAD;
		rc = buf_error(&bin) == E_NOMEM ? E_NOMEM : E_FORMAT;
		buf_free(&bin);
		return error_to(why, rc, "%s: %s", name, bad);
	}
	rc = age_open(k, bin.data, bin.len, out, how, name, why);
	buf_free(&bin);
	return rc;
}

int age_header_types(const void *in, size_t len, struct buf *out, const char *name)
{
	const char *p = in, *bad;
	size_t n = strlen(INTRO_NAME) < len ? strlen(INTRO_NAME) : len;
	struct buf bin = BUF_INIT(len);
	struct header h = { 0 };
	int rc = 0;

	if (memcmp(p, INTRO_NAME, n)) {
		bad = armor_decode(p, len, &bin);
		if (bad) {
			buf_free(&bin);
			return error(E_FORMAT, "%s: %s", name, bad);
		}
		p = bin.data;
		len = bin.len;
	}
	h.s = mem_alloc(AGE_MAX_STANZAS, sizeof(*h.s));
	if (!h.s)
		rc = error(E_NOMEM, "%s: out of memory", name);
	else if ((bad = header_parse(&h, p, len)) != NULL)
		rc = error(E_FORMAT, "%s: %s", name, bad);
	for (size_t i = 0; !rc && i < h.n; i++)
		buf_addf(out, "%s%.*s", i ? ", " : "", (int)h.s[i].arglen[0], h.s[i].arg[0]);
	if (!rc)
		rc = buf_error(out);
	mem_free(h.s);
	buf_free(&bin);
	return rc;
}
