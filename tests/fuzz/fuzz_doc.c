/*
 * fuzz_doc — YAML/JSON loading (platform/doc.h) with the default limits,
 * then every document written back as JSON into a capped buffer, and the
 * typed queries run over the top-level map. The same bytes go through the
 * JSON reader too: where both loaders take a text, they must build the same
 * tree (its JSON output), or the fuzzer stops.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "doc.h"
#include "fuzz.h"

FUZZ_QUIET()

/* Both loaders agree on a text both take. */
static void same_as_json_reader(const uint8_t *data, size_t size, const struct doc *y)
{
	struct doc *j = NULL;
	struct buf a, b;

	if (doc_load_json("fuzz.json", (const char *)data, size, NULL, &j) < 0)
		return;
	if (y && doc_count(y) == 1) {
		buf_init(&a, 1024 * 1024);
		buf_init(&b, 1024 * 1024);
		if (!doc_to_json(doc_root(y, 0), &a) && !doc_to_json(doc_root(j, 0), &b) &&
		    (a.len != b.len || memcmp(a.data, b.data, a.len) != 0))
			__builtin_trap();
		buf_free(&a);
		buf_free(&b);
	}
	doc_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc *d = NULL;
	struct buf out;

	if (doc_load("fuzz.yaml", (const char *)data, size, NULL, &d) < 0) {
		same_as_json_reader(data, size, NULL);
		return 0;
	}
	same_as_json_reader(data, size, d);
	buf_init(&out, 1024 * 1024);
	for (size_t i = 0; i < doc_count(d); i++) {
		struct node *root = doc_root(d, i);
		int64_t v;
		int b;

		buf_reset(&out);
		(void)doc_to_json(root, &out);
		if (root->type != NODE_MAP)
			continue;
		for (size_t j = 0; j < root->len; j++) {
			const struct node *val = root->pairs[j].value;

			(void)node_str(val);
			(void)node_int64(val, INT64_MIN, INT64_MAX, &v);
			(void)node_bool(val, &b);
		}
		(void)node_path(root, "metadata.name");
	}
	buf_free(&out);
	doc_free(d);
	return 0;
}
