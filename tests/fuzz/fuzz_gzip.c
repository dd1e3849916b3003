/*
 * fuzz_gzip — the bounded inflate filter (platform/gzip.h), behind the
 * gzip_peek replay that bundle_read() puts in front of it, with a small
 * output cap so that the bomb check is reached.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "gzip.h"

FUZZ_QUIET()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memsrc src = { data, size, 0 };
	struct gzip_reader *g = NULL;
	struct gzip_peek peek;
	unsigned char out[4096];
	size_t want = 1;
	int rc;

	if (gzip_peek_init(&peek, memsrc_read, &src) < 0)
		return 0;
	if (gzip_reader_new(&g, gzip_peek_read, &peek, 256 * 1024) < 0)
		return 0;
	while ((rc = gzip_read(g, out, want)) > 0)
		want = (want + 511) % sizeof(out) + 1;
	(void)gzip_reader_error(g);
	gzip_reader_free(g);
	return 0;
}
