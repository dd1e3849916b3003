/*
 * fuzz_manifest — splitting a manifest into Kubernetes objects
 * (platform/manifest.h), then what the agent does with each object before
 * applying it: label and annotate it, and write it as JSON.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "manifest.h"

FUZZ_QUIET()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest *m = NULL;
	struct buf out;

	if (manifest_load("fuzz.yaml", (const char *)data, size, NULL, &m) < 0)
		return 0;
	buf_init(&out, 1024 * 1024);
	for (size_t i = 0; i < m->n; i++) {
		struct manifest_object *o = &m->objs[i];

		(void)manifest_set_label(m, o, "outpost.dev/app", "web");
		(void)manifest_set_annotation(m, o, "outpost.dev/release", "7");
		(void)manifest_valid_label(o->name);
		buf_reset(&out);
		(void)doc_to_json(o->node, &out);
	}
	buf_free(&out);
	manifest_free(m);
	return 0;
}
