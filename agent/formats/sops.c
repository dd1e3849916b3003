/* sops — see sops.h. */
#include <stdio.h>
#include <string.h>

#include "cipher.h"
#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "mem.h"
#include "rx.h"
#include "sops.h"

#define DATA_KEY_LEN 32
#define IV_LEN 32
#define PATH_MAX_DEPTH 100
#define AAD_MAX 4096
#define ENC_PREFIX "ENC[AES256_GCM,data:"
#define MAC_ONLY_SEED "sops"

enum rule { UNENCRYPTED_SUFFIX, ENCRYPTED_SUFFIX, UNENCRYPTED_REGEX, ENCRYPTED_REGEX };

struct walk {
	const char *name;
	struct buf *out, *why;
	unsigned char key[DATA_KEY_LEN];
	enum rule rule;
	const char *suffix;
	struct rx re;
	int mac_only;
	struct sha512 mac;
	const char *path[PATH_MAX_DEPTH];
	size_t depth;
	sops_value_fn each;
	void *ctx;
};

/* The path as sops writes additional data: "a:b:c:". */
static int aad_of(const struct walk *w, char *aad, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < w->depth; i++) {
		size_t l = strlen(w->path[i]);

		if (n + l + 2 > cap)
			return E_LIMIT;
		memcpy(aad + n, w->path[i], l);
		n += l;
		aad[n++] = ':';
	}
	aad[n] = '\0';
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* sops's rule: tested on every key of the path. */
static int is_encrypted(const struct walk *w)
{
	int any = 0;

	for (size_t i = 0; i < w->depth && !any; i++) {
		if (w->rule == UNENCRYPTED_SUFFIX || w->rule == ENCRYPTED_SUFFIX)
			any = ends_with(w->path[i], w->suffix);
		else
			any = rx_match(&w->re, w->path[i]);
	}
	return w->rule == UNENCRYPTED_SUFFIX || w->rule == UNENCRYPTED_REGEX ? !any : any;
}

/* The parts of ENC[AES256_GCM,data:D,iv:I,tag:T,type:Y]. */
struct enc {
	const char *data, *iv, *tag, *type;
	size_t data_len, iv_len, tag_len, type_len;
};

static int enc_parse(const char *s, size_t len, struct enc *e)
{
	const char *iv, *tag, *type, *end = s + len;

	if (len < strlen(ENC_PREFIX) + 1 || memcmp(s, ENC_PREFIX, strlen(ENC_PREFIX)) ||
	    end[-1] != ']')
		return E_FORMAT;
	e->data = s + strlen(ENC_PREFIX);
	iv = strstr(e->data, ",iv:");
	tag = iv ? strstr(iv, ",tag:") : NULL;
	type = tag ? strstr(tag, ",type:") : NULL;
	if (!type || type >= end)
		return E_FORMAT;
	e->data_len = (size_t)(iv - e->data);
	e->iv = iv + 4;
	e->iv_len = (size_t)(tag - e->iv);
	e->tag = tag + 5;
	e->tag_len = (size_t)(type - e->tag);
	e->type = type + 6;
	e->type_len = (size_t)(end - 1 - e->type);
	return 0;
}

/*
 * Open one ENC[] value with aad into plain (a new buffer the caller wipes).
 * E_FORMAT when it is not one, E_SIGNATURE when it does not authenticate.
 */
static int enc_open(const unsigned char key[DATA_KEY_LEN], const char *s, size_t len,
		    const char *aad, struct enc *e, struct buf *plain)
{
	unsigned char iv[IV_LEN], tag[AEAD_TAG_LEN];
	size_t ivn, tagn;
	int rc;

	if (enc_parse(s, len, e) ||
	    base64_decode_mem(iv, sizeof(iv), &ivn, e->iv, e->iv_len) || ivn != IV_LEN ||
	    base64_decode_mem(tag, sizeof(tag), &tagn, e->tag, e->tag_len) || tagn != AEAD_TAG_LEN)
		return E_FORMAT;
	rc = base64_decode(plain, e->data, e->data_len);
	if (rc)
		return rc == E_NOMEM ? rc : E_FORMAT;
	return aes256gcm_open(key, iv, IV_LEN, aad, strlen(aad), plain->data, plain->len, tag,
			      plain->data);
}

static int type_is(const struct enc *e, const char *t)
{
	return e->type_len == strlen(t) && !memcmp(e->type, t, e->type_len);
}

/* A decimal number as Go's FormatFloat 'f' or Itoa writes it. */
static int is_number(const char *s, size_t n, int frac)
{
	size_t i = s[0] == '-', digits = 0, dots = 0;

	for (; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && frac && digits && !dots++)
			continue;
		else
			return 0;
	}
	return digits && s[n - 1] != '.';
}

/* The plaintext written back with its type. */
static int emit_typed(struct walk *w, const struct enc *e, const char *p, size_t n)
{
	if (type_is(e, "str") || type_is(e, "bytes") || type_is(e, "time"))
		return doc_json_quote(w->out, p, n);
	if (type_is(e, "int") && is_number(p, n, 0))
		return buf_add(w->out, p, n);
	if (type_is(e, "float") && is_number(p, n, 1))
		return buf_add(w->out, p, n);
	if (type_is(e, "bool") && (n == 4 || n == 5) &&
	    (!memcmp(p, "True", n) || !memcmp(p, "true", n) ||
	     !memcmp(p, "False", n) || !memcmp(p, "false", n)))
		return buf_addstr(w->out, n == 4 ? "true" : "false");
	return E_FORMAT;
}

/* An unencrypted value as sops hashes it: bools as True/False. */
static void mac_plain(struct walk *w, const struct node *n)
{
	if (n->plain && (!strcmp(n->str, "true") || !strcmp(n->str, "True") ||
			 !strcmp(n->str, "TRUE")))
		sha512_update(&w->mac, "True", 4);
	else if (n->plain && (!strcmp(n->str, "false") || !strcmp(n->str, "False") ||
			      !strcmp(n->str, "FALSE")))
		sha512_update(&w->mac, "False", 5);
	else
		sha512_update(&w->mac, n->str, n->len);
}

static int walk_scalar(struct walk *w, const struct node *n)
{
	char aad[AAD_MAX];
	struct buf plain = BUF_INIT(n->len);
	struct enc e;
	int rc;

	if (!is_encrypted(w)) {
		if (!w->mac_only)
			mac_plain(w, n);
		return doc_to_json(n, w->out);
	}
	if (aad_of(w, aad, sizeof(aad)))
		return error_to(w->why, E_LIMIT, "%s: a path longer than %d bytes", w->name, AAD_MAX);
	/* sops leaves empty strings as they are */
	if (node_str(n) && n->len == 0)
		return doc_to_json(n, w->out);
	if (!node_str(n) || enc_parse(n->str, n->len, &e))
		return error_to(w->why, E_FORMAT, "%s: '%s' should be encrypted (ENC[AES256_GCM,...]) "
			      "and is not", w->name, aad);
	rc = enc_open(w->key, n->str, n->len, aad, &e, &plain);
	if (rc == E_NOMEM)
		rc = error_to(w->why, rc, "%s: out of memory", w->name);
	else if (rc == E_SIGNATURE)
		rc = error_to(w->why, rc, "%s: the value of '%s' does not authenticate (changed, "
			    "or encrypted with another data key)", w->name, aad);
	else if (rc)
		rc = error_to(w->why, rc, "%s: the value of '%s' is not a well-formed ENC[...] "
			    "value", w->name, aad);
	if (!rc) {
		sha512_update(&w->mac, plain.data, plain.len);
		rc = emit_typed(w, &e, plain.data, plain.len);
		if (rc == E_FORMAT)
			rc = error_to(w->why, rc, "%s: the value of '%s' does not read as its type "
				    "'%.*s'", w->name, aad, (int)e.type_len, e.type);
		else if (rc)
			rc = error_to(w->why, rc, "%s: %s", w->name, err_str(rc));
	}
	if (!rc && w->each)
		w->each(w->ctx, aad, type_is(&e, "str") ? "str" : type_is(&e, "int") ? "int" :
			type_is(&e, "float") ? "float" : type_is(&e, "bool") ? "bool" : "other",
			plain.data, plain.len);
	crypto_buf_free(&plain);
	return rc;
}

/* Depth first in document order, as sops walks; top is the root map. */
static int walk_node(struct walk *w, const struct node *n, int top)
{
	int rc = 0;

	switch (n->type) {
	case NODE_MAP:
		buf_addch(w->out, '{');
		for (size_t i = 0, first = 1; !rc && i < n->len; i++) {
			const struct node_pair *p = &n->pairs[i];

			if (top && !strcmp(p->key->str, "sops"))
				continue;
			if (w->depth == PATH_MAX_DEPTH)
				return error_to(w->why, E_LIMIT, "%s: nested deeper than %d", w->name,
					      PATH_MAX_DEPTH);
			if (!first)
				buf_addch(w->out, ',');
			first = 0;
			doc_json_quote(w->out, p->key->str, p->key->len);
			buf_addch(w->out, ':');
			w->path[w->depth++] = p->key->str;
			rc = walk_node(w, p->value, 0);
			w->depth--;
		}
		buf_addch(w->out, '}');
		break;
	case NODE_SEQ:
		/* list items share their parent's path */
		buf_addch(w->out, '[');
		for (size_t i = 0; !rc && i < n->len; i++) {
			if (i)
				buf_addch(w->out, ',');
			rc = walk_node(w, n->items[i], 0);
		}
		buf_addch(w->out, ']');
		break;
	case NODE_NULL:
		buf_addstr(w->out, "null");
		break;
	default:
		rc = walk_scalar(w, n);
	}
	if (!rc && buf_error(w->out))
		rc = error_to(w->why, buf_error(w->out), "%s: the plain document is too large (%s)",
			    w->name, err_str(buf_error(w->out)));
	return rc;
}

/* The file's sops map, or NULL when it is not a SOPS file. */
static const struct node *sops_map(const struct doc *d)
{
	const struct node *m;

	if (doc_count(d) != 1)
		return NULL;
	m = node_map_get(doc_root(d, 0), "sops");
	return m && m->type == NODE_MAP && (node_map_get(m, "mac") || node_map_get(m, "age") ||
					    node_map_get(m, "lastmodified")) ? m : NULL;
}

static int load(const char *name, const char *data, size_t len, struct doc **d)
{
	*d = NULL;
	if (!memmem(data, len, "sops", 4))
		return 1;
	if (doc_load(name, data, len, NULL, d))
		return 1;       /* not YAML: not ours to judge here */
	if (!sops_map(*d)) {
		doc_free(*d);
		*d = NULL;
		return 1;
	}
	return 0;
}

/* The one rule the file sets (at most one may be), compiled. */
static int rule_of(struct walk *w, const struct node *m)
{
	static const char *const names[] = {
		"unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex"
	};
	const char *value = NULL;
	int found = 0;

	w->rule = UNENCRYPTED_SUFFIX;
	w->suffix = "_unencrypted";
	for (int i = 0; i < 4; i++) {
		const char *v = node_str(node_map_get(m, names[i]));

		if (!v)
			continue;
		if (found++)
			return error_to(w->why, E_FORMAT, "%s: sops metadata sets more than one of "
				      "the suffix and regex rules", w->name);
		w->rule = (enum rule)i;
		value = v;
	}
	if (!found)
		return 0;
	if (w->rule == UNENCRYPTED_SUFFIX || w->rule == ENCRYPTED_SUFFIX) {
		w->suffix = value;
		return 0;
	}
	const char *bad;
	if (rx_compile(&w->re, value, &bad))
		return error_to(w->why, E_UNSUPPORTED, "%s: the %s '%s': %s", w->name,
			      names[w->rule], value, bad);
	return 0;
}

/* lastmodified as Go formats it in RFC 3339: without fractional seconds. */
static int mac_aad(const char *t, char *out, size_t cap)
{
	const char *dot = strchr(t, '.');
	size_t n = strlen(t);

	if (n < 20 || n >= cap || t[4] != '-' || t[10] != 'T')
		return E_FORMAT;
	if (!dot) {
		memcpy(out, t, n + 1);
		return 0;
	}
	size_t head = (size_t)(dot - t), skip = strspn(dot + 1, "0123456789") + 1;
	memcpy(out, t, head);
	memcpy(out + head, dot + skip, n - head - skip + 1);
	return 0;
}

/* The non-age key types a file names, for a refusal. */
static void other_keys(const struct node *m, char *out, size_t cap)
{
	static const char *const kinds[] = {
		"pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms", NULL
	};
	size_t n = 0;

	out[0] = '\0';
	for (int i = 0; kinds[i]; i++) {
		const struct node *v = node_map_get(m, kinds[i]);

		if (v && v->type == NODE_SEQ && v->len)
			n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "",
					      kinds[i]);
		if (n >= cap)
			break;
	}
}

/* The data key from the age entry made for one of k's recipients. */
static int data_key(struct walk *w, const struct age_keyring *k, const struct node *m)
{
	const struct node *age = node_map_get(m, "age");
	struct buf list = BUF_INIT(2048), key = BUF_INIT(DATA_KEY_LEN);
	char others[96], mine[4 * AGE_RECIPIENT_MAX + 32];
	enum age_outcome how;
	int rc = E_NOTFOUND;

	if (node_map_get(m, "key_groups") || node_map_get(m, "shamir_threshold"))
		return error_to(w->why, E_UNSUPPORTED, "%s: Shamir key groups are not supported: "
			      "encrypt to age recipients only", w->name);
	for (size_t i = 0; age && age->type == NODE_SEQ && i < age->len && rc == E_NOTFOUND; i++) {
		const char *r = node_str(node_map_get(age->items[i], "recipient"));
		const char *enc = node_str(node_map_get(age->items[i], "enc"));

		if (!r || !enc)
			continue;
		/* a post-quantum recipient is ~2,000 characters: its start names it */
		buf_addf(&list, "%s%.*s%s", list.len ? ", " : "", strlen(r) > 64 ? 24 : 64, r,
			 strlen(r) > 64 ? "..." : "");
		if (age_keyring_find(k, r) < 0)
			continue;
		rc = age_decrypt(k, enc, strlen(enc), &key, &how, w->name, w->why);
		if (!rc && key.len != DATA_KEY_LEN)
			rc = error_to(w->why, E_FORMAT, "%s: the data key for %s is not 32 bytes",
				    w->name, r);
	}
	if (!rc)
		memcpy(w->key, key.data, DATA_KEY_LEN);
	crypto_buf_free(&key);
	if (rc == E_NOTFOUND) {
		other_keys(m, others, sizeof(others));
		age_keyring_list(k, mine, sizeof(mine));
		rc = error_to(w->why, E_NOTFOUND, "%s: no identity of this gateway (%s) opens it: "
			    "made for age recipients %s%s%s%s", w->name, mine,
			    list.len ? list.data : "none", *others ? " and " : "", others,
			    *others ? " (not supported)" : "");
	}
	buf_free(&list);
	return rc;
}

/* Open the stored MAC and compare it with the one computed. */
static int mac_check(struct walk *w, const struct node *m)
{
	const char *stored = node_str(node_map_get(m, "mac"));
	const char *lm = node_str(node_map_get(m, "lastmodified"));
	unsigned char digest[SHA512_LEN];
	char aad[64], hex[2 * SHA512_LEN + 1];
	struct buf plain = BUF_INIT(256);
	struct enc e;
	int rc;

	sha512_final(&w->mac, digest);
	if (!stored || !*stored)
		return error_to(w->why, E_FORMAT, "%s: the sops metadata has no MAC", w->name);
	if (!lm || mac_aad(lm, aad, sizeof(aad)))
		return error_to(w->why, E_FORMAT, "%s: the sops metadata has no RFC 3339 "
			      "lastmodified", w->name);
	for (size_t i = 0; i < SHA512_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02X", digest[i]);
	rc = enc_open(w->key, stored, strlen(stored), aad, &e, &plain);
	if (rc == E_NOMEM)
		rc = error_to(w->why, rc, "%s: out of memory", w->name);
	else if (rc)
		rc = error_to(w->why, E_SIGNATURE, "%s: the MAC does not open (lastmodified or the "
			    "MAC was changed)", w->name);
	else if (plain.len != 2 * SHA512_LEN || !cipher_equal(plain.data, hex, plain.len))
		rc = error_to(w->why, E_SIGNATURE, "%s: MAC mismatch: a value was changed, added "
			    "or removed since sops wrote it", w->name);
	crypto_buf_free(&plain);
	return rc;
}

int sops_decrypt(const struct age_keyring *k, const char *name, const char *data, size_t len,
		 struct buf *out, struct buf *why, sops_value_fn each, void *ctx)
{
	struct walk *w;
	struct doc *d;
	const struct node *m, *mo;
	size_t start = out->len;
	int rc = load(name, data, len, &d);

	if (rc)
		return rc;
	m = sops_map(d);
	w = mem_zalloc(1, sizeof(*w));
	if (!w) {
		doc_free(d);
		return error_to(why, E_NOMEM, "%s: out of memory", name);
	}
	*w = (struct walk){ .name = name, .out = out, .why = why, .each = each, .ctx = ctx };
	mo = node_map_get(m, "mac_only_encrypted");
	w->mac_only = mo && mo->type == NODE_SCALAR && !strcmp(mo->str, "true");
	rc = rule_of(w, m);
	if (!rc)
		rc = data_key(w, k, m);
	if (!rc) {
		sha512_init(&w->mac);
		if (w->mac_only) {
			unsigned char seed[SHA256_LEN];

			sha256(MAC_ONLY_SEED, strlen(MAC_ONLY_SEED), seed);
			sha512_update(&w->mac, seed, sizeof(seed));
		}
		rc = walk_node(w, doc_root(d, 0), 1);
	}
	if (!rc)
		rc = mac_check(w, m);
	if (rc && out->len > start) {
		crypto_wipe(out->data + start, out->len - start);
		buf_truncate(out, start);
	}
	crypto_wipe(w, sizeof(*w));
	mem_free(w);
	doc_free(d);
	return rc;
}

int sops_recipients(const char *name, const char *data, size_t len, struct buf *out)
{
	const struct node *age;
	struct doc *d;
	int rc = load(name, data, len, &d);

	if (rc)
		return rc;
	age = node_map_get(sops_map(d), "age");
	for (size_t i = 0; age && age->type == NODE_SEQ && i < age->len; i++) {
		const char *r = node_str(node_map_get(age->items[i], "recipient"));

		if (r)
			buf_addf(out, "%s\n", r);
	}
	rc = buf_error(out);
	doc_free(d);
	return rc;
}
