/* trust — the trust root and threshold signature checks. */
#include <string.h>

#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "log.h"
#include "mem.h"
#include "meta.h"
#include "sigfile.h"
#include "trust.h"

struct role {
	int threshold;
	size_t n;
	size_t key[TRUST_MAX_KEYS];     /* indexes into trust.keys */
};

struct trust {
	int64_t version, expires;
	size_t nkeys;
	struct {
		struct pubkey *key;
		char *pem;
	} keys[TRUST_MAX_KEYS];
	struct role roles[2];
};

static const char *const role_names[] = { "root", "release" };

void trust_free(struct trust *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nkeys; i++) {
		pubkey_free(t->keys[i].key);
		mem_free(t->keys[i].pem);
	}
	mem_free(t);
}

static int find_key(const struct trust *t, const char *id)
{
	for (size_t i = 0; i < t->nkeys; i++)
		if (strcmp(pubkey_id(t->keys[i].key), id) == 0)
			return (int)i;
	return -1;
}

static int parse_keys(struct trust *t, const struct doc *d, const struct node *keys)
{
	int rc;

	if (!keys || keys->type != NODE_MAP || keys->len == 0)
		return doc_error(d, keys, E_FORMAT, "'keys' must map key ids to PEM public keys");
	if (keys->len > TRUST_MAX_KEYS)
		return doc_error(d, keys, E_LIMIT, "more than %d keys", TRUST_MAX_KEYS);
	for (size_t i = 0; i < keys->len; i++) {
		const struct node *k = keys->pairs[i].key, *v = keys->pairs[i].value;
		const char *pem = meta_text(v);

		if (!pem)
			return doc_error(d, v, E_FORMAT, "key %s: expected a PEM public key", k->str);
		rc = pubkey_from_pem(&t->keys[t->nkeys].key, pem, k->str);
		if (rc)
			return doc_error(d, v, rc, "key %s: not an ECDSA P-256 public key", k->str);
		t->keys[t->nkeys].pem = mem_strdup(pem);
		t->nkeys++;
		if (!t->keys[t->nkeys - 1].pem)
			return E_NOMEM;
		if (strcmp(pubkey_id(t->keys[t->nkeys - 1].key), k->str) != 0)
			return doc_error(d, k, E_FORMAT, "key id %s does not match its key (%s)",
					 k->str, pubkey_id(t->keys[t->nkeys - 1].key));
	}
	return 0;
}

static int parse_role(struct trust *t, const struct doc *d, const struct node *roles,
		      enum trust_role r)
{
	static const char *const allowed[] = { "threshold", "keys", NULL };
	const char *name = role_names[r];
	const struct node *n = node_map_get(roles, name), *ids;
	struct role *role = &t->roles[r];
	int64_t threshold;
	int rc;

	if (!n || n->type != NODE_MAP)
		return doc_error(d, n ? n : roles, E_FORMAT, "role '%s' is missing", name);
	rc = node_check_keys(d, n, allowed);
	if (rc)
		return rc;
	ids = node_map_get(n, "keys");
	if (!ids || ids->type != NODE_SEQ || ids->len == 0)
		return doc_error(d, ids ? ids : n, E_FORMAT, "role '%s': 'keys' must list key ids",
				 name);
	if (ids->len > TRUST_MAX_KEYS)
		return doc_error(d, ids, E_LIMIT, "role '%s': more than %d keys", name,
				 TRUST_MAX_KEYS);
	for (size_t i = 0; i < ids->len; i++) {
		const char *id = meta_text(ids->items[i]);
		int k = id ? find_key(t, id) : -1;

		if (k < 0)
			return doc_error(d, ids->items[i], E_FORMAT,
					 "role '%s': key %s is not in 'keys'", name,
					 id ? id : "?");
		for (size_t j = 0; j < role->n; j++)
			if (role->key[j] == (size_t)k)
				return doc_error(d, ids->items[i], E_FORMAT,
						 "role '%s': key %s listed twice", name, id);
		role->key[role->n++] = (size_t)k;
	}
	rc = meta_int(d, n, "threshold", 1, (int64_t)role->n, 1, &threshold);
	if (rc)
		return rc;
	role->threshold = (int)threshold;
	return 0;
}

int trust_parse(const char *name, const char *data, size_t len, struct trust **out)
{
	static const char *const allowed[] = { "outpost", "version", "expires", "keys",
					       "roles", NULL };
	static const char *const role_keys[] = { "root", "release", NULL };
	struct doc *d = NULL;
	struct node *root;
	struct trust *t;
	int rc;

	*out = NULL;
	t = mem_zalloc(1, sizeof(*t));
	if (!t)
		return E_NOMEM;
	rc = meta_load(name, data, len, ROOT_MAX_SIZE, "root/v1", &d, &root);
	if (!rc)
		rc = node_check_keys(d, root, allowed);
	if (!rc)
		rc = meta_int(d, root, "version", 1, META_SEQUENCE_MAX, 1, &t->version);
	if (!rc)
		rc = meta_time(d, root, "expires", 1, &t->expires);
	if (!rc)
		rc = parse_keys(t, d, node_map_get(root, "keys"));
	if (!rc) {
		const struct node *roles = node_map_get(root, "roles");

		rc = node_check_keys(d, roles, role_keys);
		if (!rc)
			rc = parse_role(t, d, roles, ROLE_ROOT);
		if (!rc)
			rc = parse_role(t, d, roles, ROLE_RELEASE);
	}
	doc_free(d);
	if (rc) {
		trust_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int trust_check(const struct trust *t, enum trust_role role, const char *name,
		const void *data, size_t len, const char *sig, size_t siglen)
{
	const struct role *r = &t->roles[role];
	unsigned char digest[SHA256_LEN];
	struct sigfile *sf;
	size_t valid = 0, invalid = 0, foreign = 0, twice = 0;
	unsigned char counted[TRUST_MAX_KEYS] = { 0 };
	int rc;

	sf = mem_alloc(1, sizeof(*sf));
	if (!sf)
		return E_NOMEM;
	rc = sigfile_parse(sf, sig, siglen, name);
	if (rc)
		goto out;
	sha256(data, len, digest);
	for (size_t i = 0; i < sf->count; i++) {
		const struct sigline *l = &sf->lines[i];
		int k = find_key(t, l->keyid), in_role = 0;

		for (size_t j = 0; k >= 0 && j < r->n; j++)
			in_role |= r->key[j] == (size_t)k;
		if (!in_role)
			foreign++;
		else if (counted[k])
			twice++;        /* one key counts once toward the threshold */
		else if (!ecdsa_sig_is_strict_der(l->sig, l->sig_len))
			invalid++, log_warn("%s line %u: the signature is not a strict DER ECDSA "
					    "signature (a long-form length, a padded or negative "
					    "integer, or bytes after it): it counts for nothing",
					    name, l->lineno);
		else if (pubkey_verify(t->keys[k].key, digest, l->sig, l->sig_len) == 0)
			counted[k] = 1, valid++;
		else
			invalid++;
	}
	if (valid >= (size_t)r->threshold)
		goto out;
	if (sf->count == 0)
		rc = error(E_SIGNATURE, "%s: not signed", name);
	else if (valid == 0 && invalid == 0 && foreign > 0)
		rc = error(E_UNTRUSTED, "%s: signed only by keys the trust root does not "
			   "give the '%s' role (%zu signature%s)", name, role_names[role],
			   foreign, foreign == 1 ? "" : "s");
	else
		rc = error(E_SIGNATURE, "%s: %zu valid signature%s by '%s' keys, %d required"
			   " (%zu invalid, %zu by other keys, %zu repeated by one key and "
			   "counted once)", name, valid, valid == 1 ? "" : "s",
			   role_names[role], r->threshold, invalid, foreign, twice);
out:
	mem_free(sf);
	return rc;
}

int trust_check_expiry(const char *name, int64_t expires, int64_t now)
{
	char e[META_TIME_LEN + 1], n[META_TIME_LEN + 1];

	if (expires > now)
		return 0;
	meta_time_format(expires, e);
	meta_time_format(now, n);
	return error(E_EXPIRED, "%s: expired at %s (now %s)", name, e, n);
}

int64_t trust_created_limit(int64_t clock, int64_t floor)
{
	if (clock < floor || clock < TRUST_CLOCK_PLAUSIBLE)
		return 0;
	return clock + TRUST_CREATED_SKEW;
}

int trust_check_created(const char *name, int64_t created, int64_t max_created)
{
	char c[META_TIME_LEN + 1], n[META_TIME_LEN + 1];

	if (!max_created || created <= max_created)
		return 0;
	meta_time_format(created, c);
	meta_time_format(max_created - TRUST_CREATED_SKEW, n);
	return error(E_EXPIRED, "%s: created %s, in the future (the clock says %s, and at "
		     "most %d s ahead is accepted): refused", name, c, n, TRUST_CREATED_SKEW);
}

int trust_load(const char *name, const char *data, size_t len, const char *sig,
	       size_t siglen, int64_t now, struct trust **out)
{
	struct trust *t;
	int rc = trust_parse(name, data, len, &t);

	*out = NULL;
	if (rc)
		return rc;
	rc = trust_check(t, ROLE_ROOT, name, data, len, sig, siglen);
	if (!rc)
		rc = trust_check_expiry(name, t->expires, now);
	if (rc) {
		trust_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int trust_rotate(const struct trust *cur, const char *name, const char *data,
		 size_t len, const char *sig, size_t siglen, int64_t now,
		 struct trust **out)
{
	struct trust *t;
	int rc;

	*out = NULL;
	rc = trust_parse(name, data, len, &t);
	if (rc)
		return rc;
	if (t->version <= cur->version)
		rc = error(E_ROLLBACK, "%s: version %lld is not newer than the current root's %lld",
			   name, (long long)t->version, (long long)cur->version);
	if (!rc) {
		rc = trust_check(cur, ROLE_ROOT, name, data, len, sig, siglen);
		if (rc)
			error(rc, "%s: not signed by a threshold of the current root's keys", name);
	}
	if (!rc) {
		rc = trust_check(t, ROLE_ROOT, name, data, len, sig, siglen);
		if (rc)
			error(rc, "%s: not signed by a threshold of its own root keys", name);
	}
	if (!rc)
		rc = trust_check_expiry(name, t->expires, now);
	if (rc) {
		trust_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int trust_release_keys_replaced(const struct trust *cur, const struct trust *next)
{
	const struct role *r = &cur->roles[ROLE_RELEASE];
	int gone = 0;

	for (size_t i = 0; i < r->n; i++) {
		int k = find_key(next, pubkey_id(cur->keys[r->key[i]].key)), kept = 0;

		for (size_t j = 0; k >= 0 && j < next->roles[ROLE_RELEASE].n; j++)
			kept |= next->roles[ROLE_RELEASE].key[j] == (size_t)k;
		gone += !kept;
	}
	return gone >= r->threshold;
}

int64_t trust_version(const struct trust *t) { return t->version; }
int64_t trust_expires(const struct trust *t) { return t->expires; }
size_t trust_key_count(const struct trust *t) { return t->nkeys; }
const char *trust_key_id(const struct trust *t, size_t i) { return pubkey_id(t->keys[i].key); }
const char *trust_key_pem(const struct trust *t, size_t i) { return t->keys[i].pem; }
int trust_threshold(const struct trust *t, enum trust_role role) { return t->roles[role].threshold; }
size_t trust_role_size(const struct trust *t, enum trust_role role) { return t->roles[role].n; }

int trust_key_in_role(const struct trust *t, enum trust_role role, size_t i)
{
	for (size_t j = 0; j < t->roles[role].n; j++)
		if (t->roles[role].key[j] == i)
			return 1;
	return 0;
}
