/*
 * manifest — a multi-document Kubernetes manifest (one file, or the output
 * of `kustomize build` / `helm template`) split into the objects to apply.
 *
 * Each non-empty document must be a map with apiVersion and kind (strings)
 * and metadata.name; metadata.namespace is optional. Empty documents, those
 * holding only comments and `null` documents are skipped, as kubectl does
 * (helm templates produce them). A `kind: List` (or any kind ending in
 * "List" that has `items`) is expanded into its items, as kubectl does;
 * Lists inside Lists are refused.
 *
 * Names: the API server checks each kind's own rule (DNS-1123 subdomain for
 * most, label for Namespaces and Services, path segments for RBAC, whose
 * names like "system:metrics" hold ':'). Here we refuse what no kind
 * accepts: empty, over 253 bytes, anything but printable ASCII, '/', '%',
 * "." and "..". Namespaces must be DNS-1123 labels.
 *
 * A struct manifest owns its doc (all nodes and strings) and the object
 * array; manifest_free() frees everything.
 */
#ifndef OUTPOST_MANIFEST_H
#define OUTPOST_MANIFEST_H

#include <stddef.h>

#include "doc.h"

struct manifest_object {
	const char *api_version;
	const char *kind;
	const char *namespace;  /* NULL when the manifest gives none */
	const char *name;
	const char *file;       /* the name given to manifest_load() */
	unsigned line;          /* where the object's map starts */
	struct node *node;      /* the object: doc_to_json() it to apply */
};

struct manifest {
	struct doc *doc;
	struct manifest_object *objs;
	size_t n;
};

/*
 * Load data[0..len) (named name in messages) with lim (NULL: defaults) and
 * split it. Returns 0 and a manifest the caller frees with manifest_free(),
 * or E_FORMAT ("file:line:col: no kind", "...: metadata.name missing"),
 * E_LIMIT, E_NOMEM with *out NULL.
 */
int manifest_load(const char *name, const char *data, size_t len,
		  const struct doc_limits *lim, struct manifest **out);
void manifest_free(struct manifest *m);

/*
 * Add or overwrite metadata.labels[key] / metadata.annotations[key] on the
 * object (a tree edit in the manifest's arena; the value is written as a
 * string). Creates the labels/annotations map when absent or null. 0,
 * E_NOMEM, or E_FORMAT when labels/annotations exists but is not a map.
 */
int manifest_set_label(struct manifest *m, struct manifest_object *o,
		       const char *key, const char *value);
int manifest_set_annotation(struct manifest *m, struct manifest_object *o,
			    const char *key, const char *value);

/* The DNS-1123 label rule (1-63 of [a-z0-9-], alphanumeric at both ends). */
int manifest_valid_label(const char *s);

#endif
