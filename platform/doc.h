/*
 * doc — YAML (and JSON, which libyaml reads as YAML) loaded into a small
 * in-memory tree, with hard limits, and written back out as JSON typed the
 * way Kubernetes types YAML manifests.
 *
 * outpost reads YAML that may be hostile: bundle metadata, manifests, its
 * own config, and replies from the Kubernetes API. doc_load() refuses, before
 * anything grows without bound: input larger than max_bytes (checked before
 * parsing), nesting deeper than max_depth (checked on each start event, so
 * 100,000 '[' never reach a recursion), more than max_nodes nodes, more than
 * max_docs documents, scalars longer than max_scalar. Aliases (*x) are
 * refused outright: no expansion means no "billion laughs"; Kubernetes
 * manifests practically never use them, and `kustomize build` / `helm
 * template` output has none. Anchors (&x) alone are accepted and ignored.
 * Plain `<<` merge keys are refused too (go-yaml would merge; we would not).
 *
 * A struct doc owns everything of one load: the documents of the stream and
 * all their nodes, strings and arrays live in one arena (chunks allocated
 * with mem_*), freed by one doc_free().
 *
 * Nodes are plain data and read-only for callers (edit only through
 * doc_map_set()):
 *   NODE_SCALAR  str[0..len) bytes, NUL-terminated (may hold NULs inside);
 *                plain: unquoted and untagged, so typed by the YAML 1.1
 *                rules below (`3` is a number, `"3"` a string)
 *   NODE_NULL    a plain `~`, `null`, `Null`, `NULL` or empty scalar
 *   NODE_MAP     pairs[0..len): key (a scalar, see below) and value
 *   NODE_SEQ     items[0..len)
 * line and col are 1-based positions in the source (0 for edited nodes).
 *
 * Map keys become strings while loading, as sigs.k8s.io/yaml does: a plain
 * key that types as a bool or an integer is stored as its JSON key text
 * (`on:` → "true", `0x10:` → "16"); null, float, uint64 and collection keys
 * are refused. Keys are unique per map by that text (duplicates are refused,
 * as strict decoding in Kubernetes does).
 *
 * Typing of plain scalars (doc_to_json, node_int64, node_bool, node_str)
 * follows sigs.k8s.io/yaml → go.yaml.in/yaml/v2 (gopkg.in/yaml.v2 v2.4.0;
 * see the comment on resolve() in doc.c for the exact rules and sources).
 */
#ifndef OUTPOST_DOC_H
#define OUTPOST_DOC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum node_type { NODE_NULL, NODE_SCALAR, NODE_MAP, NODE_SEQ };

struct node;

struct node_pair {
	struct node *key;       /* NODE_SCALAR, never plain */
	struct node *value;
};

struct node {
	unsigned char type;     /* enum node_type */
	unsigned char plain;    /* NODE_SCALAR: typed by the plain-scalar rules */
	uint32_t line, col;     /* 1-based; 0 for nodes made by doc_new_*() */
	size_t len;             /* scalar bytes, map pairs or sequence items */
	union {
		char *str;
		struct node_pair *pairs;
		struct node **items;
	};
};

struct doc_limits {
	size_t max_bytes;       /* whole input */
	size_t max_depth;       /* nested maps and sequences; capped at DOC_DEPTH_MAX */
	size_t max_nodes;       /* scalars, maps and sequences in all documents */
	size_t max_docs;        /* documents in the stream */
	size_t max_scalar;      /* bytes of one scalar */
};

#define DOC_DEPTH_MAX 1000

/*
 * Defaults for manifests: 16 MiB, depth 100 (deep CRD schemas nest ~40),
 * 1,000,000 nodes, 10,000 documents, 4 MiB scalars (a ConfigMap or Secret
 * is at most 1 MiB in etcd; base64 and block scalars grow it a little).
 */
extern const struct doc_limits doc_limits_default;

struct doc;

/*
 * Parse every document of the YAML stream data[0..len) into *out. name is
 * used in messages ("name:line:col: why") and copied. lim NULL means
 * doc_limits_default. Returns 0, E_FORMAT (syntax, aliases, tags, duplicate
 * or unsupported keys, values with no JSON form), E_LIMIT or E_NOMEM; *out
 * is NULL on failure. The caller frees *out with doc_free().
 */
int doc_load(const char *name, const char *data, size_t len,
	     const struct doc_limits *lim, struct doc **out);
/*
 * The same for one JSON text (RFC 8259), read without libyaml and faster:
 * for the Kubernetes API's replies. The tree is the one doc_load builds from
 * the same text (numbers, true, false, null are plain scalars; strings are
 * quoted). Anything that is not exactly one JSON value is E_FORMAT.
 */
int doc_load_json(const char *name, const char *data, size_t len,
		  const struct doc_limits *lim, struct doc **out);
void doc_free(struct doc *d);

/* Documents in the stream (an empty stream or only comments: 0). */
size_t doc_count(const struct doc *d);
/* The i-th document's root: never NULL (an empty document is NODE_NULL). */
struct node *doc_root(const struct doc *d, size_t i);
const char *doc_name(const struct doc *d);
/* Bytes the arena holds (all chunks), for measurements. */
size_t doc_arena_bytes(const struct doc *d);

/* Log "name:line:col: <fmt>" (no position if n is NULL or edited), return e. */
int doc_error(const struct doc *d, const struct node *n, int e,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* --- queries (none of them logs; the caller knows the context) -------- */

/* The value for key in map, or NULL (no such key, or map not a NODE_MAP). */
struct node *node_map_get(const struct node *map, const char *key);
/* Follow a dotted path of map keys ("metadata.name"); NULL if any is missing. */
struct node *node_path(const struct node *root, const char *path);
/*
 * The scalar's text if it types as a string (quoted, block, !!str, or plain
 * that is not null/bool/number) and holds no NUL byte; NULL otherwise.
 * Points into the arena: valid until doc_free().
 */
const char *node_str(const struct node *n);
/*
 * A plain scalar written as a plain decimal integer ("0", "42", "-7"),
 * within [min, max]. The other spellings YAML 1.1 types as integers (0x1,
 * 0o7, 0b1, 010 as octal, +1, 1_000) are refused, so that a signed field
 * reads as what a person sees. JSON numbers are plain decimal already.
 * 0, E_FORMAT (not such an integer, or out of range).
 */
int node_int64(const struct node *n, int64_t min, int64_t max, int64_t *out);
/* A plain scalar that types as a bool (true/false, yes/no, on/off, y/n). */
int node_bool(const struct node *n, int *out);
/* n is NULL or NODE_NULL. */
int node_is_null(const struct node *n);
/* "scalar", "map", "sequence" or "null", for messages. */
const char *node_type_name(const struct node *n);

/*
 * Strict schema: every key of map must be in allowed (NULL-terminated).
 * Logs "name:line:col: unknown key "x"" at the first other key and returns
 * E_FORMAT; E_FORMAT too when map is not a map. 0 when all are known.
 */
int node_check_keys(const struct doc *d, const struct node *map,
		    const char *const allowed[]);

/* --- edits (allocate in d's arena; nothing to free) ------------------- */

/* A string scalar (never typed: "true" stays a string). NULL on E_NOMEM. */
struct node *doc_new_str(struct doc *d, const char *s, size_t len);
/* An empty map. NULL on E_NOMEM. */
struct node *doc_new_map(struct doc *d);
/*
 * Set key to value in map: replaces the value of an existing key, else
 * appends the pair. 0, E_NOMEM, or E_FORMAT if map is not a map.
 */
int doc_map_set(struct doc *d, struct node *map, const char *key,
		struct node *value);

/*
 * Length of the valid UTF-8 sequence at s (n bytes left, n >= 1), or 0 when
 * it is not valid UTF-8 (overlong, surrogate, past U+10FFFF, cut short).
 */
size_t doc_utf8_len(const unsigned char *s, size_t n);

/*
 * Append n as compact JSON to out. Map keys keep their order; scalars are
 * typed as described above; strings are escaped (invalid UTF-8 in an edited
 * string is E_FORMAT). E_LIMIT when out reaches its cap or the tree is
 * deeper than DOC_DEPTH_MAX, E_NOMEM. out may hold a partial write after
 * an error. It recurses once per level: a loaded tree is at most
 * max_depth deep (100 by default, a few KiB of stack).
 */
int doc_to_json(const struct node *n, struct buf *out);

/*
 * Append s[0..len) as a JSON string, quoted and escaped, for documents the
 * program writes itself (reports, Events, status): a byte that is not part
 * of valid UTF-8 becomes U+FFFD rather than an error. 0, E_LIMIT, E_NOMEM.
 */
int doc_json_quote(struct buf *out, const char *s, size_t len);

#endif
