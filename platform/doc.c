/* doc — bounded YAML loader (libyaml events → arena tree) and JSON writer. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "log.h"
#include "mem.h"

const struct doc_limits doc_limits_default = {
	.max_bytes = 16u << 20,
	.max_depth = 100,
	.max_nodes = 1000000,
	.max_docs = 10000,
	.max_scalar = 4u << 20,
};

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_MAP "tag:yaml.org,2002:map"
#define TAG_SEQ "tag:yaml.org,2002:seq"

/* --- arena ------------------------------------------------------------ */

#define CHUNK_SIZE (64u << 10)
#define ALIGN 8u

struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(16) unsigned char data[];
};

struct doc {
	struct chunk *chunks;
	size_t arena_bytes;
	const char *name;
	struct node **roots;
	size_t ndocs;
};

static void *arena_alloc(struct doc *d, size_t size)
{
	struct chunk *c = d->chunks;
	size_t want;

	size = (size + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (size == 0)
		size = ALIGN;
	if (!c || c->size - c->used < size) {
		/*
		 * Big requests (a long scalar) get a chunk of their own behind
		 * the current one, so the current chunk's free space is kept.
		 */
		want = size > CHUNK_SIZE / 4 ? size : CHUNK_SIZE;
		if (want > SIZE_MAX - sizeof(*c))
			return NULL;
		struct chunk *n = mem_alloc(1, sizeof(*c) + want);

		if (!n)
			return NULL;
		n->size = want;
		n->used = 0;
		d->arena_bytes += sizeof(*c) + want;
		if (c && want != CHUNK_SIZE) {
			n->next = c->next;
			c->next = n;
		} else {
			n->next = c;
			d->chunks = n;
		}
		c = n;
	}
	void *p = c->data + c->used;

	c->used += size;
	return p;
}

static char *arena_strndup(struct doc *d, const char *s, size_t len)
{
	char *p;

	if (len == SIZE_MAX)
		return NULL;
	p = arena_alloc(d, len + 1);
	if (!p)
		return NULL;
	if (len)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void doc_free(struct doc *d)
{
	struct chunk *c, *next;

	if (!d)
		return;
	for (c = d->chunks; c; c = next) {
		next = c->next;
		/* a manifest may be a decrypted Secret: leave none of it behind */
		crypto_wipe(c->data, c->used);
		mem_free(c);
	}
	mem_free(d);
}

size_t doc_count(const struct doc *d)
{
	return d->ndocs;
}

struct node *doc_root(const struct doc *d, size_t i)
{
	return i < d->ndocs ? d->roots[i] : NULL;
}

const char *doc_name(const struct doc *d)
{
	return d->name;
}

size_t doc_arena_bytes(const struct doc *d)
{
	return d->arena_bytes;
}

int doc_error(const struct doc *d, const struct node *n, int e,
	      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n && n->line)
		return error(e, "%s:%" PRIu32 ":%" PRIu32 ": %s",
			     d ? d->name : "", n->line, n->col, msg);
	return error(e, "%s: %s", d ? d->name : "", msg);
}

/* --- plain scalar typing ------------------------------------------------ */

/*
 * How Kubernetes types a YAML scalar. kubectl and the API server turn YAML
 * into JSON with sigs.k8s.io/yaml (yaml.go: yamlToJSON →
 * convertToJSONableObject → encoding/json), which decodes with its
 * goyaml.v2 fork, now an alias of go.yaml.in/yaml/v2 (= gopkg.in/yaml.v2
 * v2.4.0). Checked in kubernetes/kubernetes vendor/go.yaml.in/yaml/v2/
 * resolve.go and vendor/sigs.k8s.io/yaml/yaml.go. So YAML 1.1 rules, not
 * yaml.v3's 1.2 rules:
 *
 *  - Only plain, untagged scalars are typed. Quoted, block (| >) and !!str
 *    scalars are strings. Other tags are refused while loading.
 *  - The first byte picks what to try; anything else is a string:
 *    '+' '-' digit: number; one of yYnNtTfFoO~: table only; '.': table or
 *    float.
 *  - Table (exact, case as listed):
 *      true:  y Y yes Yes YES true True TRUE on On ON
 *      false: n N no No NO false False FALSE off Off OFF
 *      null:  "" ~ null Null NULL
 *      float: .nan .NaN .NAN, [+-].inf .Inf .INF  (no JSON form: refused,
 *             as encoding/json refuses them)
 *  - '.' first: Go strconv.ParseFloat syntax (digits may have '_' between
 *    them): ".5" → 0.5; on overflow a string.
 *  - sign or digit: (timestamps like 2001-12-14 stay strings: yaml.v2
 *    keeps them as strings when decoding into interface{}, and none of
 *    them parses as a number anyway) then every '_' is deleted and
 *      1. Go ParseInt(s, 0, 64): optional sign; 0x/0X hex, 0o/0O octal,
 *         0b/0B binary, leading 0 octal ("0755" = 493, "08" fails), else
 *         decimal, within int64  → integer
 *      2. Go ParseUint(s, 0, 64): same without a sign, within uint64
 *      3. ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ and
 *         ParseFloat without overflow → float ("08" → 8, "1e3" → 1000,
 *         "1e400" stays a string)
 *      4. "0b" + ParseInt/ParseUint base 2 of the rest (which may carry a
 *         sign: "0b-101" = -5); "-0b" + ParseInt("-" rest, 2)
 *      otherwise a string.
 *  - JSON output of a float is Go's encoding/json: shortest digits that
 *    round-trip, 'f' notation unless |v| < 1e-6 or >= 1e21, then 'e' with
 *    "e-07" cleaned to "e-7" ("1.0" → 1, "1e21" → 1e+21, "-0.0" → -0).
 *  - Map keys (sigs.k8s.io/yaml): string; int → decimal; bool → "true" /
 *    "false"; float → FormatFloat(f,'g',-1,32) — we refuse float keys rather
 *    than mimic 32-bit formatting; null and uint64 keys are errors there,
 *    refused here.
 * Integers beyond uint64 are thus floats (as in Go), written as Go would.
 */
enum kind { K_STR, K_NULL, K_BOOL, K_INT, K_UINT, K_FLOAT, K_TOOLONG };

struct value {
	int b;
	int64_t i;
	uint64_t u;
	double f;
};

static const char *const tab_true[] = {
	"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", NULL
};
static const char *const tab_false[] = {
	"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", NULL
};
static const char *const tab_null[] = { "~", "null", "Null", "NULL", NULL };
static const char *const tab_nan[] = { ".nan", ".NaN", ".NAN", NULL };
static const char *const tab_inf[] = {
	".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL
};
static const char *const tab_ninf[] = { "-.inf", "-.Inf", "-.INF", NULL };

static int in_tab(const char *s, size_t len, const char *const *tab)
{
	for (; *tab; tab++)
		if (strlen(*tab) == len && memcmp(*tab, s, len) == 0)
			return 1;
	return 0;
}

static int digit_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	return 99;
}

/* Go strconv.ParseUint(s, base, 64) for base 0 or 2 (no sign accepted). */
static int go_parse_uint(const char *s, size_t n, int base, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (n == 0)
		return -1;
	if (base == 0) {
		base = 10;
		if (s[0] == '0') {
			char c = n >= 3 ? (char)(s[1] | 0x20) : 0;

			if (c == 'b' || c == 'o' || c == 'x') {
				base = c == 'b' ? 2 : c == 'o' ? 8 : 16;
				i = 2;
			} else {
				base = 8;
				i = 1;
			}
		}
	}
	for (; i < n; i++) {
		int d = digit_val((unsigned char)s[i]);

		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* Go strconv.ParseInt(s, base, 64): optional sign, then ParseUint. */
static int go_parse_int(const char *s, size_t n, int base, int64_t *out)
{
	int neg = 0;
	uint64_t u;

	if (n && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		s++;
		n--;
	}
	if (go_parse_uint(s, n, base, &u))
		return -1;
	if (!neg && u > (uint64_t)INT64_MAX)
		return -1;
	if (neg && u > (uint64_t)INT64_MAX + 1)
		return -1;
	*out = neg ? (u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u)
		   : (int64_t)u;
	return 0;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_style_float(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	} else {
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
		if (i < n && s[i] == '.')
			for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
				;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

/*
 * Go ParseFloat syntax for a decimal starting with '.': digits, at most one
 * '.', optional exponent, '_' only between digits (strconv.underscoreOK).
 */
static int go_dot_float_syntax(const char *s, size_t n)
{
	size_t i = 0;
	int digits = 0, dot = 0;
	char saw = '^';     /* underscoreOK: ^ start, 0 digit, _ underscore, ! other */

	for (; i < n; i++) {
		char c = s[i];

		if (c == '_') {
			if (saw != '0')
				return 0;
			saw = '_';
		} else if (c == '.' && !dot) {
			if (saw == '_')
				return 0;
			dot = 1;
			saw = '!';
		} else if (c >= '0' && c <= '9') {
			digits = 1;
			saw = '0';
		} else {
			break;
		}
	}
	if (!digits)
		return 0;
	if (i < n && (s[i] | 0x20) == 'e') {
		if (saw == '_')
			return 0;
		saw = '!';
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		for (; i < n; i++) {
			if (s[i] == '_') {
				if (saw != '0')
					return 0;
				saw = '_';
			} else if (s[i] >= '0' && s[i] <= '9') {
				saw = '0';
			} else {
				return 0;
			}
		}
	}
	return i == n && saw != '_';
}

/* strtod of s[0..n) (no '_'); 0 unless it overflows (Go: ErrRange). */
static int parse_double(const char *s, size_t n, double *out)
{
	char tmp[512];
	double v;

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtod(tmp, NULL);
	if (isinf(v))
		return -1;
	*out = v;  /* underflow to 0 or a subnormal is fine, as in Go */
	return 0;
}

/*
 * Type a plain scalar. K_TOOLONG: a number-like scalar longer than our
 * scratch buffer (hundreds of digits): refused at load, never guessed.
 */
static enum kind resolve(const char *s, size_t len, struct value *v)
{
	char plain[512];
	size_t n = 0;
	unsigned char c;

	if (len == 0)
		return K_NULL;
	c = (unsigned char)s[0];
	if (!(c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') ||
	      strchr("yYnNtTfFoO~", c)) || c == '\0')
		return K_STR;
	if (in_tab(s, len, tab_true)) {
		v->b = 1;
		return K_BOOL;
	}
	if (in_tab(s, len, tab_false)) {
		v->b = 0;
		return K_BOOL;
	}
	if (in_tab(s, len, tab_null))
		return K_NULL;
	if (in_tab(s, len, tab_nan)) {
		v->f = NAN;
		return K_FLOAT;
	}
	if (in_tab(s, len, tab_inf) || in_tab(s, len, tab_ninf)) {
		v->f = in_tab(s, len, tab_ninf) ? -INFINITY : INFINITY;
		return K_FLOAT;
	}
	if (c == '.') {
		if (!go_dot_float_syntax(s, len))
			return K_STR;
		for (size_t i = 0; i < len; i++)
			if (s[i] != '_') {
				if (n == sizeof(plain))
					return K_TOOLONG;
				plain[n++] = s[i];
			}
		return parse_double(plain, n, &v->f) ? K_STR : K_FLOAT;
	}
	if (!(c == '+' || c == '-' || (c >= '0' && c <= '9')))
		return K_STR;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (n == sizeof(plain))
			return K_TOOLONG;
		plain[n++] = s[i];
	}
	if (go_parse_int(plain, n, 0, &v->i) == 0)
		return K_INT;
	if (go_parse_uint(plain, n, 0, &v->u) == 0)
		return K_UINT;
	if (yaml_style_float(plain, n) && parse_double(plain, n, &v->f) == 0)
		return K_FLOAT;
	if (n >= 2 && plain[0] == '0' && plain[1] == 'b') {
		if (go_parse_int(plain + 2, n - 2, 2, &v->i) == 0)
			return K_INT;
		if (go_parse_uint(plain + 2, n - 2, 2, &v->u) == 0)
			return K_UINT;
	} else if (n >= 3 && memcmp(plain, "-0b", 3) == 0) {
		char neg[sizeof(plain)];

		neg[0] = '-';
		memcpy(neg + 1, plain + 3, n - 3);
		if (go_parse_int(neg, n - 2, 2, &v->i) == 0)
			return K_INT;
	}
	return K_STR;
}

/* Go encoding/json's float64 text: shortest round-trip digits. */
static void format_float(double f, char *out, size_t cap)
{
	char tmp[40], digits[24];
	int prec, exp, nd = 0, neg = f < 0 || (f == 0 && signbit(f));
	double a = fabs(f);
	char *p;
	size_t o = 0;

	if (a == 0) {
		snprintf(out, cap, neg ? "-0" : "0");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, a);
	for (p = tmp; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp = (int)strtol(p + 1, NULL, 10);   /* value = d.ddd × 10^exp */
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;

#define PUT(ch) do { if (o + 1 < cap) out[o++] = (ch); } while (0)
	if (neg)
		PUT('-');
	if (a < 1e-6 || a >= 1e21) {
		PUT(digits[0]);
		if (nd > 1) {
			PUT('.');
			for (int i = 1; i < nd; i++)
				PUT(digits[i]);
		}
		/*
		 * Go writes at least two exponent digits and encoding/json
		 * trims "e-07" to "e-7"; |v| >= 1e21 always has two.
		 */
		int w = exp < 0 ? snprintf(out + o, cap - o, "e-%d", -exp)
				: snprintf(out + o, cap - o, "e+%02d", exp);

		o = w > 0 && o + (size_t)w < cap ? o + (size_t)w : cap - 1;
	} else if (exp >= 0) {
		for (int i = 0; i <= exp || i < nd; i++) {
			if (i == exp + 1)
				PUT('.');
			PUT(i < nd ? digits[i] : '0');
		}
	} else {
		PUT('0');
		PUT('.');
		for (int i = 0; i < -exp - 1; i++)
			PUT('0');
		for (int i = 0; i < nd; i++)
			PUT(digits[i]);
	}
#undef PUT
	out[o] = '\0';
}

/* --- queries --------------------------------------------------------------- */

struct node *node_map_get(const struct node *map, const char *key)
{
	size_t klen;

	if (!map || map->type != NODE_MAP || !key)
		return NULL;
	klen = strlen(key);
	for (size_t i = 0; i < map->len; i++) {
		const struct node *k = map->pairs[i].key;

		if (k->len == klen && memcmp(k->str, key, klen) == 0)
			return map->pairs[i].value;
	}
	return NULL;
}

struct node *node_path(const struct node *root, const char *path)
{
	const struct node *n = root;
	char key[256];

	while (n && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		n = node_map_get(n, key);
		path += len + (dot ? 1 : 0);
	}
	return (struct node *)(uintptr_t)n;
}

const char *node_str(const struct node *n)
{
	struct value v;

	if (!n || n->type != NODE_SCALAR)
		return NULL;
	if (n->plain && resolve(n->str, n->len, &v) != K_STR)
		return NULL;
	if (memchr(n->str, '\0', n->len))
		return NULL;
	return n->str;
}

/* "0", or an optional '-' and digits without a leading zero: nothing else. */
static int plain_decimal(const char *s, size_t len)
{
	size_t i = len && s[0] == '-';

	if (i == len || (s[i] == '0' && len - i > 1))
		return 0;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int node_int64(const struct node *n, int64_t min, int64_t max, int64_t *out)
{
	struct value v;

	if (!n || n->type != NODE_SCALAR || !n->plain || !plain_decimal(n->str, n->len))
		return E_FORMAT;
	if (resolve(n->str, n->len, &v) != K_INT || v.i < min || v.i > max)
		return E_FORMAT;
	*out = v.i;
	return 0;
}

int node_bool(const struct node *n, int *out)
{
	struct value v;

	if (!n || n->type != NODE_SCALAR || !n->plain)
		return E_FORMAT;
	if (resolve(n->str, n->len, &v) != K_BOOL)
		return E_FORMAT;
	*out = v.b;
	return 0;
}

int node_is_null(const struct node *n)
{
	return !n || n->type == NODE_NULL;
}

const char *node_type_name(const struct node *n)
{
	if (!n)
		return "nothing";
	switch (n->type) {
	case NODE_SCALAR: return "scalar";
	case NODE_MAP: return "map";
	case NODE_SEQ: return "sequence";
	default: return "null";
	}
}

int node_check_keys(const struct doc *d, const struct node *map,
		    const char *const allowed[])
{
	if (!map || map->type != NODE_MAP)
		return doc_error(d, map, E_FORMAT, "expected a map, found a %s",
				 node_type_name(map));
	for (size_t i = 0; i < map->len; i++) {
		const struct node *k = map->pairs[i].key;
		size_t j;

		for (j = 0; allowed[j]; j++)
			if (strlen(allowed[j]) == k->len &&
			    memcmp(allowed[j], k->str, k->len) == 0)
				break;
		if (!allowed[j])
			return doc_error(d, k, E_FORMAT, "unknown key \"%.64s\"",
					 k->str);
	}
	return 0;
}

/* --- edits ------------------------------------------------------------------ */

struct node *doc_new_str(struct doc *d, const char *s, size_t len)
{
	struct node *n = arena_alloc(d, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->type = NODE_SCALAR;
	n->len = len;
	n->str = arena_strndup(d, s, len);
	return n->str ? n : NULL;
}

struct node *doc_new_map(struct doc *d)
{
	struct node *n = arena_alloc(d, sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->type = NODE_MAP;
	}
	return n;
}

int doc_map_set(struct doc *d, struct node *map, const char *key,
		struct node *value)
{
	size_t klen = strlen(key);
	struct node_pair *pairs;
	struct node *k;

	if (!map || map->type != NODE_MAP)
		return E_FORMAT;
	for (size_t i = 0; i < map->len; i++) {
		k = map->pairs[i].key;
		if (k->len == klen && memcmp(k->str, key, klen) == 0) {
			map->pairs[i].value = value;
			return 0;
		}
	}
	/* The old array stays in the arena: edits are few (a few labels). */
	k = doc_new_str(d, key, klen);
	pairs = k ? arena_alloc(d, (map->len + 1) * sizeof(*pairs)) : NULL;
	if (!pairs)
		return E_NOMEM;
	if (map->len)
		memcpy(pairs, map->pairs, map->len * sizeof(*pairs));
	pairs[map->len].key = k;
	pairs[map->len].value = value;
	map->pairs = pairs;
	map->len++;
	return 0;
}

/* --- loader ----------------------------------------------------------------- */

struct frame {
	struct node *node;
	size_t start;           /* first child in the loader's child stack */
};

struct loader {
	struct doc *d;
	struct doc_limits lim;
	struct frame *frames;
	size_t depth;
	struct node **stack;    /* children of the open collections, then roots */
	size_t top, cap;
	size_t nodes;
};

static int push_child(struct loader *l, struct node *n)
{
	if (l->top == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct node **s = mem_realloc(l->stack, cap, sizeof(*s));

		if (!s)
			return E_NOMEM;
		l->stack = s;
		l->cap = cap;
	}
	l->stack[l->top++] = n;
	return 0;
}

static struct node *new_node(struct loader *l, int type, yaml_mark_t m)
{
	struct node *n = arena_alloc(l->d, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->type = (unsigned char)type;
	n->line = m.line + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(m.line + 1);
	n->col = m.column + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(m.column + 1);
	return n;
}

/* The open collection is a map and the next child is a key. */
static int at_key(const struct loader *l)
{
	const struct frame *f = l->depth ? &l->frames[l->depth - 1] : NULL;

	return f && f->node->type == NODE_MAP && (l->top - f->start) % 2 == 0;
}

static int mark_error(const struct loader *l, yaml_mark_t m, int e,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int mark_error(const struct loader *l, yaml_mark_t m, int e,
		      const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error(e, "%s:%zu:%zu: %s", l->d->name, m.line + 1, m.column + 1, msg);
}

static int count_node(struct loader *l, yaml_mark_t m)
{
	if (l->nodes >= l->lim.max_nodes)
		return mark_error(l, m, E_LIMIT, "more than %zu nodes",
				  l->lim.max_nodes);
	l->nodes++;
	return 0;
}

/* A plain key becomes its JSON key text; refuse what has none. */
static int key_text(struct loader *l, struct node *k, yaml_mark_t m)
{
	struct value v;
	char num[32];
	const char *t = NULL;

	if (!k->plain)
		return 0;
	k->plain = 0;
	if (k->len == 2 && memcmp(k->str, "<<", 2) == 0)
		return mark_error(l, m, E_FORMAT, "merge keys (<<) are not supported");
	switch (resolve(k->str, k->len, &v)) {
	case K_STR:
		return 0;
	case K_NULL:
		return mark_error(l, m, E_FORMAT, "a map key is null");
	case K_BOOL:
		t = v.b ? "true" : "false";
		break;
	case K_INT:
		snprintf(num, sizeof(num), "%" PRId64, v.i);
		t = num;
		break;
	case K_UINT:
	case K_FLOAT:
	case K_TOOLONG:
		return mark_error(l, m, E_FORMAT,
				  "map key \"%.64s\" is a number Kubernetes cannot use as a key",
				  k->str);
	}
	if (strlen(t) != k->len || memcmp(t, k->str, k->len) != 0) {
		k->str = arena_strndup(l->d, t, strlen(t));
		if (!k->str)
			return E_NOMEM;
		k->len = strlen(t);
	}
	return 0;
}

/*
 * A scalar at m: its bytes s[0..len), its tag (NULL: none) and whether it
 * was written plain (unquoted), which decides how it types.
 */
static int add_scalar(struct loader *l, const char *tag, int plain,
		      const char *s, size_t len, yaml_mark_t m)
{
	struct node *n;
	struct value v;
	int rc, key = at_key(l);

	if ((rc = count_node(l, m)))
		return rc;
	if (len > l->lim.max_scalar)
		return mark_error(l, m, E_LIMIT, "scalar of %zu bytes, more than %zu",
				  len, l->lim.max_scalar);
	if (tag && strcmp(tag, TAG_STR) != 0)
		return mark_error(l, m, E_FORMAT, "tag %.64s is not supported", tag);
	if (!(n = new_node(l, NODE_SCALAR, m)))
		return E_NOMEM;
	n->plain = !tag && plain;
	n->len = len;
	n->str = arena_strndup(l->d, s, len);
	if (!n->str)
		return E_NOMEM;
	if (key) {
		if ((rc = key_text(l, n, m)))
			return rc;
	} else if (n->plain) {
		switch (resolve(n->str, n->len, &v)) {
		case K_NULL:
			n->type = NODE_NULL;
			break;
		case K_FLOAT:
			if (isnan(v.f) || isinf(v.f))
				return mark_error(l, m, E_FORMAT,
						  "%.16s has no JSON form", n->str);
			break;
		case K_TOOLONG:
			return mark_error(l, m, E_FORMAT,
					  "number of %zu characters is too long", len);
		default:
			break;
		}
	}
	return push_child(l, n);
}

static int on_scalar(struct loader *l, yaml_event_t *ev)
{
	return add_scalar(l, (const char *)ev->data.scalar.tag,
			  ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE,
			  (const char *)ev->data.scalar.value, ev->data.scalar.length,
			  ev->start_mark);
}

/* A map or sequence (type) opens at m. */
static int open_collection(struct loader *l, int type, const char *tag, yaml_mark_t m)
{
	struct node *n;
	int rc;

	if ((rc = count_node(l, m)))
		return rc;
	if (l->depth >= l->lim.max_depth)
		return mark_error(l, m, E_LIMIT, "nested deeper than %zu levels",
				  l->lim.max_depth);
	if (at_key(l))
		return mark_error(l, m, E_FORMAT, "a map key is a %s",
				  type == NODE_MAP ? "map" : "sequence");
	if (tag && strcmp(tag, type == NODE_MAP ? TAG_MAP : TAG_SEQ) != 0)
		return mark_error(l, m, E_FORMAT, "tag %.64s is not supported", tag);
	if (!(n = new_node(l, type, m)))
		return E_NOMEM;
	if ((rc = push_child(l, n)))
		return rc;
	l->frames[l->depth].node = n;
	l->frames[l->depth].start = l->top;
	l->depth++;
	return 0;
}

static int on_start(struct loader *l, yaml_event_t *ev, int type)
{
	return open_collection(l, type, (const char *)(type == NODE_MAP ?
		ev->data.mapping_start.tag : ev->data.sequence_start.tag), ev->start_mark);
}

static int key_cmp(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a;
	const struct node *y = *(const struct node *const *)b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->str, y->str, n);

	if (c)
		return c;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	/* equal keys: source order, so the later one is reported */
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static int dup_error(struct loader *l, const struct node *first,
		     const struct node *again)
{
	return error(E_FORMAT, "%s:%" PRIu32 ":%" PRIu32
		     ": duplicate key \"%.64s\" (first at line %" PRIu32 ")",
		     l->d->name, again->line, again->col, again->str, first->line);
}

static int same_key(const struct node *a, const struct node *b)
{
	return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

/* Duplicate keys: pairwise for small maps, sorted for big ones. */
static int check_dups(struct loader *l, struct node *map)
{
	struct node **keys;
	size_t n = map->len;
	int rc = 0;

	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (same_key(map->pairs[i].key, map->pairs[j].key))
					return dup_error(l, map->pairs[j].key,
							 map->pairs[i].key);
		return 0;
	}
	if (!(keys = mem_alloc(n, sizeof(*keys))))
		return E_NOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = map->pairs[i].key;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n && !rc; i++)
		if (same_key(keys[i - 1], keys[i]))
			rc = dup_error(l, keys[i - 1], keys[i]);
	mem_free(keys);
	return rc;
}

static int on_end(struct loader *l)
{
	struct frame *f = &l->frames[--l->depth];
	struct node *n = f->node;
	size_t count = l->top - f->start;
	struct node **kids = l->stack + f->start;

	l->top = f->start;
	if (n->type == NODE_SEQ) {
		n->len = count;
		if (!count)
			return 0;
		n->items = arena_alloc(l->d, count * sizeof(*n->items));
		if (!n->items)
			return E_NOMEM;
		memcpy(n->items, kids, count * sizeof(*n->items));
		return 0;
	}
	n->len = count / 2;
	if (!n->len)
		return 0;
	n->pairs = arena_alloc(l->d, n->len * sizeof(*n->pairs));
	if (!n->pairs)
		return E_NOMEM;
	for (size_t i = 0; i < n->len; i++) {
		n->pairs[i].key = kids[2 * i];
		n->pairs[i].value = kids[2 * i + 1];
	}
	return check_dups(l, n);
}

static int parser_error(struct loader *l, yaml_parser_t *p)
{
	const char *name = l->d->name;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return error(E_NOMEM, "%s: out of memory while parsing", name);
	case YAML_READER_ERROR:
		if (p->problem_value != -1)
			return error(E_FORMAT, "%s: byte %zu: %s (#%X)", name,
				     p->problem_offset, p->problem, p->problem_value);
		return error(E_FORMAT, "%s: byte %zu: %s", name,
			     p->problem_offset, p->problem);
	default:
		if (p->context)
			return error(E_FORMAT, "%s:%zu:%zu: %s (%s at %zu:%zu)",
				     name, p->problem_mark.line + 1,
				     p->problem_mark.column + 1, p->problem,
				     p->context, p->context_mark.line + 1,
				     p->context_mark.column + 1);
		return error(E_FORMAT, "%s:%zu:%zu: %s", name,
			     p->problem_mark.line + 1, p->problem_mark.column + 1,
			     p->problem ? p->problem : "syntax error");
	}
}

static int load_events(struct loader *l, yaml_parser_t *p)
{
	yaml_event_t ev;
	int rc = 0, done = 0;

	while (!done && !rc) {
		if (!yaml_parser_parse(p, &ev))
			return parser_error(l, p);
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (l->d->ndocs >= l->lim.max_docs)
				rc = mark_error(l, ev.start_mark, E_LIMIT,
						"more than %zu documents",
						l->lim.max_docs);
			l->d->ndocs++;
			break;
		case YAML_ALIAS_EVENT:
			rc = mark_error(l, ev.start_mark, E_FORMAT,
					"aliases (*%.64s) are not supported",
					(const char *)ev.data.alias.anchor);
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(l, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(l, &ev, NODE_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(l, &ev, NODE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(l);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	return rc;
}

/* What doc_load and doc_load_json share: the limits, the arena, the stacks. */
static int loader_begin(struct loader *l, const char *name, size_t len,
			const struct doc_limits *lim)
{
	memset(l, 0, sizeof(*l));
	if (!lim)
		lim = &doc_limits_default;
	if (len > lim->max_bytes)
		return error(E_LIMIT, "%s: %zu bytes, more than the limit of %zu",
			     name, len, lim->max_bytes);
	l->lim = *lim;
	if (l->lim.max_depth > DOC_DEPTH_MAX)
		l->lim.max_depth = DOC_DEPTH_MAX;
	if (!(l->d = mem_zalloc(1, sizeof(*l->d))))
		return E_NOMEM;
	l->d->name = arena_strndup(l->d, name, strlen(name));
	l->frames = mem_alloc(l->lim.max_depth + 1, sizeof(*l->frames));
	if (!l->d->name || !l->frames)
		return E_NOMEM;
	return 0;
}

/* Hand over the tree (rc 0) or free it; the loader's stacks go either way. */
static int loader_end(struct loader *l, int rc, struct doc **out)
{
	/* The child stack now holds exactly the document roots. */
	if (!rc && l->top) {
		l->d->roots = arena_alloc(l->d, l->top * sizeof(*l->d->roots));
		if (!l->d->roots)
			rc = E_NOMEM;
		else
			memcpy(l->d->roots, l->stack, l->top * sizeof(*l->d->roots));
	}
	mem_free(l->frames);
	mem_free(l->stack);
	if (rc) {
		doc_free(l->d);
		return rc;
	}
	l->d->ndocs = l->top;
	*out = l->d;
	return 0;
}

int doc_load(const char *name, const char *data, size_t len,
	     const struct doc_limits *lim, struct doc **out)
{
	struct loader l;
	yaml_parser_t p;
	int rc;

	*out = NULL;
	if ((rc = loader_begin(&l, name, len, lim)))
		return loader_end(&l, rc, out);
	if (!yaml_parser_initialize(&p))
		return loader_end(&l, error(E_NOMEM, "%s: cannot initialize the YAML parser",
					    name), out);
	yaml_parser_set_input_string(&p, (const unsigned char *)(len ? data : ""),
				     len);
	rc = load_events(&l, &p);
	yaml_parser_delete(&p);
	return loader_end(&l, rc, out);
}

/* --- JSON reader -------------------------------------------------------------- */

/*
 * Replies of the Kubernetes API are JSON. libyaml reads them too, as YAML,
 * at several times the cost of a reader that knows only JSON (RFC 8259), and
 * a client applying a release reads one reply per object. This reader feeds
 * the loader above the same calls libyaml's events do: numbers, true, false
 * and null as plain scalars (typed by resolve(), as libyaml's would be),
 * strings as quoted ones, so both loads of one text build the same tree, with
 * the same limits and duplicate-key checks. Iterative: depth is bounded by
 * the loader before anything nests.
 */
struct json_in {
	struct loader *l;
	const char *p, *end, *line_start;
	size_t line;
	char *text;             /* a string's decoded bytes */
	size_t cap;
};

static yaml_mark_t json_mark(const struct json_in *j)
{
	yaml_mark_t m = { 0 };

	m.line = j->line;
	m.column = (size_t)(j->p - j->line_start);
	return m;
}

static int json_error(const struct json_in *j, const char *what)
{
	if (j->p >= j->end)
		return mark_error(j->l, json_mark(j), E_FORMAT, "%s at the end of the input",
				  what);
	return mark_error(j->l, json_mark(j), E_FORMAT, "%s at '%c'", what,
			  (unsigned char)*j->p >= 0x20 && (unsigned char)*j->p < 0x7f ?
			  *j->p : '?');
}

static void json_space(struct json_in *j)
{
	for (; j->p < j->end; j->p++) {
		if (*j->p == '\n') {
			j->line++;
			j->line_start = j->p + 1;
		} else if (*j->p != ' ' && *j->p != '\t' && *j->p != '\r') {
			break;
		}
	}
}

static int json_word(struct json_in *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return json_error(j, "expected a JSON value");
	j->p += n;
	return 0;
}

static int json_number(struct json_in *j)
{
	yaml_mark_t m = json_mark(j);
	const char *s = j->p, *p = j->p, *e = j->end;
	size_t digits;

	if (p < e && *p == '-')
		p++;
	if (p < e && *p == '0')
		p++;
	else if (p < e && *p >= '1' && *p <= '9')
		while (p < e && *p >= '0' && *p <= '9')
			p++;
	else
		return j->p = p, json_error(j, "expected a digit");
	if (p < e && *p == '.') {
		for (digits = 0, p++; p < e && *p >= '0' && *p <= '9'; p++)
			digits++;
		if (!digits)
			return j->p = p, json_error(j, "expected a digit after '.'");
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		for (digits = 0; p < e && *p >= '0' && *p <= '9'; p++)
			digits++;
		if (!digits)
			return j->p = p, json_error(j, "expected a digit in the exponent");
	}
	j->p = p;
	return add_scalar(j->l, NULL, 1, s, (size_t)(p - s), m);
}

static int hex4(const char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		int d = digit_val((unsigned char)p[i]);

		if (d < 0 || d > 15)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80)
		return o[0] = (char)cp, 1;
	if (cp < 0x800)
		return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at p (past the backslash and 'u'), a surrogate pair taken whole. */
static int json_escape_u(struct json_in *j, uint32_t *cp)
{
	uint32_t lo;

	if (j->end - j->p < 4 || hex4(j->p, cp))
		return json_error(j, "expected 4 hex digits after \\u");
	j->p += 4;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return json_error(j, "a lone low surrogate (\\u escape)");
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 0;
	if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
	    hex4(j->p + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
		return json_error(j, "a high surrogate (\\u escape) without its low half");
	j->p += 6;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 0;
}

/* A string at the opening quote: decoded into j->text, as a quoted scalar. */
static int json_string_in(struct json_in *j)
{
	yaml_mark_t m = json_mark(j);
	const char *q = ++j->p;
	size_t n = 0, u;
	uint32_t cp;
	int rc;

	/* the decoded text is never longer than the raw one */
	while (q < j->end && *q != '"')
		q += *q == '\\' && q + 1 < j->end ? 2 : 1;
	if (q >= j->end)
		return j->p = q, json_error(j, "unterminated string");
	if ((size_t)(q - j->p) + 1 > j->cap) {
		char *t = mem_realloc(j->text, (size_t)(q - j->p) + 1, 1);

		if (!t)
			return E_NOMEM;
		j->text = t;
		j->cap = (size_t)(q - j->p) + 1;
	}
	while (*j->p != '"') {
		unsigned char c = (unsigned char)*j->p;

		if (c < 0x20)
			return json_error(j, "a control character in a string");
		if (c >= 0x80) {
			if (!(u = doc_utf8_len((const unsigned char *)j->p,
					       (size_t)(j->end - j->p))))
				return json_error(j, "invalid UTF-8 in a string");
			memcpy(j->text + n, j->p, u);
			n += u;
			j->p += u;
			continue;
		}
		if (c != '\\') {
			j->text[n++] = (char)c;
			j->p++;
			continue;
		}
		switch (*++j->p) {
		case '"': case '\\': case '/':
			j->text[n++] = *j->p++;
			break;
		case 'b': j->text[n++] = '\b'; j->p++; break;
		case 'f': j->text[n++] = '\f'; j->p++; break;
		case 'n': j->text[n++] = '\n'; j->p++; break;
		case 'r': j->text[n++] = '\r'; j->p++; break;
		case 't': j->text[n++] = '\t'; j->p++; break;
		case 'u':
			j->p++;
			if ((rc = json_escape_u(j, &cp)))
				return rc;
			n += put_utf8(j->text + n, cp);
			break;
		default:
			return json_error(j, "an unknown escape in a string");
		}
	}
	j->p++;
	return add_scalar(j->l, NULL, 0, j->text, n, m);
}

/* One value; a map or sequence is only opened (its items come next). */
static int json_value(struct json_in *j)
{
	switch (j->p < j->end ? *j->p : 0) {
	case '{':
	case '[': {
		int rc = open_collection(j->l, *j->p == '{' ? NODE_MAP : NODE_SEQ, NULL,
					 json_mark(j));

		j->p++;
		return rc;
	}
	case '"':
		return json_string_in(j);
	case 't': case 'f': case 'n': {
		yaml_mark_t m = json_mark(j);
		const char *s = j->p;
		const char *w = *s == 't' ? "true" : *s == 'f' ? "false" : "null";
		int rc = json_word(j, w);

		return rc ? rc : add_scalar(j->l, NULL, 1, s, strlen(w), m);
	}
	default:
		return json_number(j);
	}
}

static int json_events(struct json_in *j)
{
	struct loader *l = j->l;
	int rc;

	json_space(j);
	if (j->p == j->end)
		return json_error(j, "expected a JSON value");
	if ((rc = json_value(j)))
		return rc;
	/* each turn: the open collection's end, or its next item (key and value) */
	while (l->depth) {
		const struct frame *f = &l->frames[l->depth - 1];
		int map = f->node->type == NODE_MAP;

		json_space(j);
		if (j->p < j->end && *j->p == (map ? '}' : ']')) {
			j->p++;
			if ((rc = on_end(l)))
				return rc;
			continue;
		}
		if (l->top > f->start) {
			if (j->p >= j->end || *j->p != ',')
				return json_error(j, map ? "expected ',' or '}'" : "expected ',' or ']'");
			j->p++;
			json_space(j);
		}
		if (map) {
			if (j->p >= j->end || *j->p != '"')
				return json_error(j, "expected a string key");
			if ((rc = json_string_in(j)))
				return rc;
			json_space(j);
			if (j->p >= j->end || *j->p != ':')
				return json_error(j, "expected ':'");
			j->p++;
			json_space(j);
		}
		if ((rc = json_value(j)))
			return rc;
	}
	json_space(j);
	return j->p == j->end ? 0 : json_error(j, "more after the JSON value");
}

int doc_load_json(const char *name, const char *data, size_t len,
		  const struct doc_limits *lim, struct doc **out)
{
	struct loader l;
	struct json_in j = { .l = &l, .p = data, .end = data + len, .line_start = data };
	int rc;

	*out = NULL;
	if (!(rc = loader_begin(&l, name, len, lim)) && l.lim.max_docs < 1)
		rc = error(E_LIMIT, "%s: more than %zu documents", name, l.lim.max_docs);
	if (!rc)
		rc = json_events(&j);
	mem_free(j.text);
	return loader_end(&l, rc, out);
}

/* --- JSON writer -------------------------------------------------------------- */

size_t doc_utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* strict: invalid UTF-8 is E_FORMAT; else each invalid byte is U+FFFD */
static int json_quote(struct buf *out, const char *str, size_t len, int strict)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run;
	int rc;

	if ((rc = buf_addch(out, '"')))
		return rc;
	while (i < len) {
		/* copy runs that need no escaping in one go */
		for (run = i; run < len && s[run] >= 0x20 && s[run] < 0x80 &&
		     s[run] != '"' && s[run] != '\\'; run++)
			;
		if (run > i && (rc = buf_add(out, s + i, run - i)))
			return rc;
		i = run;
		if (i == len)
			break;
		if (s[i] >= 0x80) {
			size_t n = doc_utf8_len(s + i, len - i);

			if (!n && strict)
				return error(E_FORMAT, "JSON: invalid UTF-8 in a string");
			rc = n ? buf_add(out, s + i, n) : buf_add(out, "\\ufffd", 6);
			i += n ? n : 1;
		} else {
			switch (s[i]) {
			case '"': rc = buf_add(out, "\\\"", 2); break;
			case '\\': rc = buf_add(out, "\\\\", 2); break;
			case '\n': rc = buf_add(out, "\\n", 2); break;
			case '\t': rc = buf_add(out, "\\t", 2); break;
			case '\r': rc = buf_add(out, "\\r", 2); break;
			case '\b': rc = buf_add(out, "\\b", 2); break;
			case '\f': rc = buf_add(out, "\\f", 2); break;
			default: rc = buf_addf(out, "\\u%04x", s[i]); break;
			}
			i++;
		}
		if (rc)
			return rc;
	}
	return buf_addch(out, '"');
}

static int json_string(struct buf *out, const char *str, size_t len)
{
	return json_quote(out, str, len, 1);
}

int doc_json_quote(struct buf *out, const char *s, size_t len)
{
	return json_quote(out, s, len, 0);
}

static int json_scalar(const struct node *n, struct buf *out)
{
	struct value v;
	char num[48];

	if (!n->plain)
		return json_string(out, n->str, n->len);
	switch (resolve(n->str, n->len, &v)) {
	case K_NULL:
		return buf_add(out, "null", 4);
	case K_BOOL:
		return buf_addstr(out, v.b ? "true" : "false");
	case K_INT:
		return buf_addf(out, "%" PRId64, v.i);
	case K_UINT:
		return buf_addf(out, "%" PRIu64, v.u);
	case K_FLOAT:
		if (isnan(v.f) || isinf(v.f))
			return error(E_FORMAT, "JSON: %.16s has no JSON form", n->str);
		format_float(v.f, num, sizeof(num));
		return buf_addstr(out, num);
	case K_TOOLONG:
		return error(E_FORMAT, "JSON: number too long");
	default:
		return json_string(out, n->str, n->len);
	}
}

static int json_node(const struct node *n, struct buf *out, unsigned depth)
{
	int rc = 0;

	if (depth > DOC_DEPTH_MAX)
		return error(E_LIMIT, "JSON: tree deeper than %d", DOC_DEPTH_MAX);
	switch (n->type) {
	case NODE_NULL:
		return buf_add(out, "null", 4);
	case NODE_SCALAR:
		return json_scalar(n, out);
	case NODE_SEQ:
		rc = buf_addch(out, '[');
		for (size_t i = 0; i < n->len && !rc; i++) {
			if (i)
				rc = buf_addch(out, ',');
			if (!rc)
				rc = json_node(n->items[i], out, depth + 1);
		}
		return rc ? rc : buf_addch(out, ']');
	case NODE_MAP:
		rc = buf_addch(out, '{');
		for (size_t i = 0; i < n->len && !rc; i++) {
			const struct node *k = n->pairs[i].key;

			if (i)
				rc = buf_addch(out, ',');
			if (!rc)
				rc = json_string(out, k->str, k->len);
			if (!rc)
				rc = buf_addch(out, ':');
			if (!rc)
				rc = json_node(n->pairs[i].value, out, depth + 1);
		}
		return rc ? rc : buf_addch(out, '}');
	}
	return error(E_INTERNAL, "JSON: bad node type %d", n->type);
}

int doc_to_json(const struct node *n, struct buf *out)
{
	return json_node(n, out, 0);
}
