/* manifest — multi-document manifests split into Kubernetes objects. */
#include <string.h>

#include "doc.h"
#include "error.h"
#include "manifest.h"
#include "mem.h"

int manifest_valid_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return s[0] != '-' && s[n - 1] != '-';
}

/* What no kind accepts as a name (see the header). */
static const char *name_problem(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return "is empty";
	if (n > 253)
		return "is longer than 253 characters";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "may not be \".\" or \"..\"";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f)
			return "holds a space, control or non-ASCII character";
		if (c == '/' || c == '%')
			return "holds '/' or '%'";
	}
	return NULL;
}

/* A required string field: "no kind" when absent, else it must be a string. */
static int get_str(const struct doc *d, const struct node *obj,
		   const struct node *map, const char *key, const char *what,
		   const char **out)
{
	const struct node *v = node_map_get(map, key);

	if (!v)
		return doc_error(d, obj, E_FORMAT, "%s", what);
	if (!(*out = node_str(v)) || !**out)
		return doc_error(d, v, E_FORMAT, "%s is not a non-empty string", key);
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int add_object(struct manifest *m, size_t *cap,
		      const struct manifest_object *o)
{
	if (m->n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct manifest_object *a = mem_realloc(m->objs, c, sizeof(*a));

		if (!a)
			return E_NOMEM;
		m->objs = a;
		*cap = c;
	}
	m->objs[m->n++] = *o;
	return 0;
}

static int split_object(struct manifest *m, size_t *cap, struct node *obj,
			int in_list)
{
	const struct doc *d = m->doc;
	struct manifest_object o = { 0 };
	const struct node *meta, *items, *ns;
	const char *why;
	int rc;

	if (obj->type != NODE_MAP)
		return doc_error(d, obj, E_FORMAT, "%s is a %s, not a map",
				 in_list ? "List item" : "document",
				 node_type_name(obj));
	if ((rc = get_str(d, obj, obj, "apiVersion", "no apiVersion", &o.api_version)) ||
	    (rc = get_str(d, obj, obj, "kind", "no kind", &o.kind)))
		return rc;
	items = node_map_get(obj, "items");
	if (strcmp(o.kind, "List") == 0 || (ends_with(o.kind, "List") && items)) {
		if (in_list)
			return doc_error(d, obj, E_FORMAT, "a List inside a List");
		if (node_is_null(items))
			return 0;   /* kubectl: an empty List applies nothing */
		if (items->type != NODE_SEQ)
			return doc_error(d, items, E_FORMAT, "List items is a %s, not a sequence",
					 node_type_name(items));
		for (size_t i = 0; i < items->len; i++)
			if ((rc = split_object(m, cap, items->items[i], 1)))
				return rc;
		return 0;
	}
	meta = node_map_get(obj, "metadata");
	if (node_is_null(meta))
		return doc_error(d, obj, E_FORMAT, "metadata.name missing");
	if (meta->type != NODE_MAP)
		return doc_error(d, meta, E_FORMAT, "metadata is a %s, not a map",
				 node_type_name(meta));
	if ((rc = get_str(d, obj, meta, "name", "metadata.name missing", &o.name)))
		return rc;
	if ((why = name_problem(o.name)))
		return doc_error(d, node_map_get(meta, "name"), E_FORMAT,
				 "metadata.name \"%.64s\" %s", o.name, why);
	ns = node_map_get(meta, "namespace");
	if (!node_is_null(ns)) {
		if (!(o.namespace = node_str(ns)))
			return doc_error(d, ns, E_FORMAT, "metadata.namespace is not a string");
		if (!*o.namespace)
			o.namespace = NULL;     /* "" means unset, as in kubectl */
		else if (!manifest_valid_label(o.namespace))
			return doc_error(d, ns, E_FORMAT,
					 "metadata.namespace \"%.64s\" is not a DNS-1123 label",
					 o.namespace);
	}
	o.file = doc_name(d);
	o.line = obj->line;
	o.node = obj;
	return add_object(m, cap, &o);
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	doc_free(m->doc);
	mem_free(m->objs);
	mem_free(m);
}

int manifest_load(const char *name, const char *data, size_t len,
		  const struct doc_limits *lim, struct manifest **out)
{
	struct manifest *m;
	size_t cap = 0;
	int rc;

	*out = NULL;
	if (!(m = mem_zalloc(1, sizeof(*m))))
		return E_NOMEM;
	if ((rc = doc_load(name, data, len, lim, &m->doc)))
		goto fail;
	for (size_t i = 0; i < doc_count(m->doc); i++) {
		struct node *root = doc_root(m->doc, i);

		if (node_is_null(root))
			continue;
		if ((rc = split_object(m, &cap, root, 0)))
			goto fail;
	}
	*out = m;
	return 0;
fail:
	manifest_free(m);
	return rc;
}

static int set_meta(struct manifest *m, struct manifest_object *o,
		    const char *field, const char *key, const char *value)
{
	struct node *meta = node_map_get(o->node, "metadata");
	struct node *map = node_map_get(meta, field), *v;
	int rc;

	if (!meta || meta->type != NODE_MAP)
		return doc_error(m->doc, o->node, E_FORMAT, "no metadata map");
	if (node_is_null(map)) {
		if (!(map = doc_new_map(m->doc)))
			return E_NOMEM;
		if ((rc = doc_map_set(m->doc, meta, field, map)))
			return rc;
	} else if (map->type != NODE_MAP) {
		return doc_error(m->doc, map, E_FORMAT, "metadata.%s is a %s, not a map",
				 field, node_type_name(map));
	}
	if (!(v = doc_new_str(m->doc, value, strlen(value))))
		return E_NOMEM;
	return doc_map_set(m->doc, map, key, v);
}

int manifest_set_label(struct manifest *m, struct manifest_object *o,
		       const char *key, const char *value)
{
	return set_meta(m, o, "labels", key, value);
}

int manifest_set_annotation(struct manifest *m, struct manifest_object *o,
			    const char *key, const char *value)
{
	return set_meta(m, o, "annotations", key, value);
}
