/* meta — shared parsing rules of the signed metadata formats. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "manifest.h"
#include "meta.h"

int meta_load(const char *name, const char *data, size_t len, size_t max,
	      const char *tag, struct doc **doc, struct node **root)
{
	struct doc_limits lim = doc_limits_default;
	const char *got;
	struct node *r;
	int rc;

	*doc = NULL;
	*root = NULL;
	if (len > max)
		return error(E_LIMIT, "%s: %zu bytes, more than the %zu allowed", name, len, max);
	lim.max_bytes = max;
	lim.max_depth = 16;
	lim.max_nodes = 100000;
	lim.max_docs = 1;
	lim.max_scalar = 64 * 1024;
	rc = doc_load(name, data, len, &lim, doc);
	if (rc)
		return rc;
	if (doc_count(*doc) != 1) {
		rc = error(E_FORMAT, "%s: expected one YAML document, found %zu", name,
			   doc_count(*doc));
		goto fail;
	}
	r = doc_root(*doc, 0);
	if (r->type != NODE_MAP) {
		rc = doc_error(*doc, r, E_FORMAT, "expected a mapping, found a %s",
			       node_type_name(r));
		goto fail;
	}
	got = meta_text(node_map_get(r, "outpost"));
	if (!got || strcmp(got, tag) != 0) {
		rc = doc_error(*doc, node_map_get(r, "outpost") ? node_map_get(r, "outpost") : r,
			       E_FORMAT, "format tag 'outpost: %s' expected, found '%s'",
			       tag, got ? got : "(none)");
		goto fail;
	}
	*root = r;
	return 0;
fail:
	doc_free(*doc);
	*doc = NULL;
	return rc;
}

const char *meta_text(const struct node *n)
{
	if (!n || n->type != NODE_SCALAR || strlen(n->str) != n->len)
		return NULL;
	return n->str;
}

/* The value for key, or an error when it is required and absent. */
static int get(const struct doc *d, const struct node *map, const char *key,
	       int required, const struct node **out)
{
	*out = node_map_get(map, key);
	if (*out && node_is_null(*out))
		*out = NULL;
	if (!*out && required)
		return doc_error(d, map, E_FORMAT, "'%s' is missing", key);
	return 0;
}

int meta_str(const struct doc *d, const struct node *map, const char *key,
	     size_t maxlen, int required, const char **out)
{
	const struct node *n;
	const char *s;
	int rc = get(d, map, key, required, &n);

	*out = NULL;
	if (rc || !n)
		return rc;
	s = meta_text(n);
	if (!s)
		return doc_error(d, n, E_FORMAT, "'%s' must be a string", key);
	if (!*s || strlen(s) > maxlen)
		return doc_error(d, n, E_FORMAT, "'%s' must be 1 to %zu characters", key, maxlen);
	for (const char *p = s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return doc_error(d, n, E_FORMAT, "'%s' holds a non-printable character", key);
	*out = s;
	return 0;
}

int meta_int(const struct doc *d, const struct node *map, const char *key,
	     int64_t min, int64_t max, int required, int64_t *out)
{
	const struct node *n;
	int rc = get(d, map, key, required, &n);

	if (rc || !n)
		return rc;
	if (node_int64(n, min, max, out))
		return doc_error(d, n, E_FORMAT, "'%s' must be an integer from %lld to %lld",
				 key, (long long)min, (long long)max);
	return 0;
}

int meta_time(const struct doc *d, const struct node *map, const char *key,
	      int required, int64_t *out)
{
	const struct node *n;
	const char *s;
	int rc = get(d, map, key, required, &n);

	if (rc || !n)
		return rc;
	s = meta_text(n);
	if (!s || meta_time_parse(s, out))
		return doc_error(d, n, E_FORMAT,
				 "'%s' must be a UTC time like 2026-11-26T09:00:00Z", key);
	return 0;
}

int meta_app(const struct doc *d, const struct node *map, const char *key,
	     const char **out)
{
	int rc = meta_str(d, map, key, 63, 1, out);

	if (rc)
		return rc;
	if (!meta_is_dns_label(*out))
		return doc_error(d, node_map_get(map, key), E_FORMAT,
				 "'%s' must be a DNS label: lowercase letters, digits and '-'",
				 key);
	return 0;
}

int meta_sha256(const struct doc *d, const struct node *map, const char *key,
		unsigned char out[SHA256_LEN])
{
	const struct node *n;
	const char *s;
	int rc = get(d, map, key, 1, &n);

	if (rc)
		return rc;
	s = meta_text(n);
	if (!s || meta_hex_sha256(s, out))
		return doc_error(d, n, E_FORMAT, "'%s' must be 64 lowercase hex characters", key);
	return 0;
}

int meta_hex_sha256(const char *s, unsigned char out[SHA256_LEN])
{
	for (int i = 0; i < SHA256_LEN * 2; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return E_FORMAT;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return s[SHA256_LEN * 2] ? E_FORMAT : 0;
}

int meta_is_dns_label(const char *s)
{
	return manifest_valid_label(s);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

int meta_time_parse(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, se;

	if (strlen(s) != META_TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return E_FORMAT;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return E_FORMAT;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 59)
		return E_FORMAT;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return E_FORMAT;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

/* Write v as exactly n decimal digits (v is in range by construction). */
static void put_digits(char *out, int64_t v, int n)
{
	while (n--) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

void meta_time_format(int64_t t, char out[META_TIME_LEN + 1])
{
	if (t < 0)
		t = 0;
	if (t > 253402300799LL) /* 9999-12-31T23:59:59Z, the last the format holds */
		t = 253402300799LL;
	int64_t days = t / 86400, secs = t % 86400;
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int d = (int)(doy - (153 * mp + 2) / 5 + 1);
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);
	int64_t y = yoe + era * 400 + (m <= 2);

	put_digits(out, y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, secs / 3600, 2);
	out[13] = ':';
	put_digits(out + 14, secs / 60 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, secs % 60, 2);
	out[19] = 'Z';
	out[20] = '\0';
}
