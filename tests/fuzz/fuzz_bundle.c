/*
 * fuzz_bundle — a whole release bundle (agent/formats/bundle.h) as the agent reads
 * it, without a trust root (as `bundle inspect` does): gzip peek, inflate,
 * tar, bundle.yaml, file sizes and sha256, manifests. With t NULL the
 * signature is not checked, but every structural and digest check is.
 */
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "fuzz.h"

FUZZ_QUIET()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memsrc src = { data, size, 0 };
	struct bundle *b = NULL;

	if (bundle_read(memsrc_read, &src, "fuzz.bundle", 1024 * 1024, NULL, NULL, &b) < 0)
		return 0;
	for (size_t i = 0; i < b->nfiles; i++)
		(void)bundle_is_manifest(b->files[i].name);
	bundle_free(b);
	return 0;
}
