/*
 * fuzz_doc — YAML/JSON loading (platform/doc.h) with the default limits,
 * then every document written back as JSON into a capped buffer, and the
 * typed queries run over the top-level map.
 */
#include <stddef.h>
#include <stdint.h>

#include "doc.h"
#include "fuzz.h"

FUZZ_QUIET()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc *d = NULL;
	struct buf out;

	if (doc_load("fuzz.yaml", (const char *)data, size, NULL, &d) < 0)
		return 0;
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
