/*
 * fuzz_bundle — a whole release bundle (agent/formats/bundle.h) as the agent reads
 * it, without a trust root (as `bundle inspect` does): gzip peek, inflate,
 * tar, bundle.yaml, file sizes and sha256, manifests. With t NULL the
 * signature is not checked, but every structural and digest check is.
 * Then the same bytes through a sink (how the agent stores a bundle as it
 * reads it): it must see each listed file in order, its pieces contiguous,
 * never past the listed size, and the two paths must agree.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "bundle.h"
#include "fuzz.h"

FUZZ_QUIET()

struct seen {
	const struct bundle *b;
	size_t next;            /* the file expected next */
	uint64_t off;           /* bytes of it seen */
};

static int seen_begin(void *ctx, const struct bundle *b)
{
	((struct seen *)ctx)->b = b;
	return 0;
}

static int seen_file(void *ctx, size_t index, uint64_t offset, const void *data, size_t len)
{
	struct seen *s = ctx;

	(void)data;
	if (offset == 0 && index == s->next) {
		/* the file before was given whole */
		if (index && s->off != s->b->files[index - 1].len)
			abort();
		s->next++;
		s->off = 0;
	}
	if (!s->b || index + 1 != s->next || offset != s->off ||
	    len > s->b->files[index].len - offset)
		abort();
	s->off += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memsrc src = { data, size, 0 };
	struct seen seen = { NULL, 0, 0 };
	struct bundle_sink sink = { seen_begin, seen_file, &seen };
	struct bundle *b = NULL, *b2 = NULL;
	int rc = bundle_read(memsrc_read, &src, "fuzz.bundle", 1024 * 1024, NULL, NULL, &b), rc2;

	src.off = 0;
	rc2 = bundle_read_sink(memsrc_read, &src, "fuzz.bundle", 1024 * 1024, NULL, NULL, &sink,
			       &b2);
	if ((rc == 0) != (rc2 == 0))
		abort();
	if (rc2 == 0 && (seen.next != b2->nfiles ||
			 (b2->nfiles && seen.off != b2->files[b2->nfiles - 1].len)))
		abort();
	for (size_t i = 0; b && i < b->nfiles; i++)
		(void)bundle_is_manifest(b->files[i].name);
	bundle_free(b);
	bundle_free(b2);
	return 0;
}
