/*
 * fuzz_tar — the ustar reader (platform/tar.h) over a hostile stream:
 * every entry is walked and its data read in odd-sized pieces, under small
 * limits so that the limit checks are reached too.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "tar.h"

FUZZ_QUIET()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tar_limits lim = { 64, 64 * 1024, 256 * 1024, TAR_NAME_MAX };
	struct memsrc src = { data, size, 0 };
	struct tar_reader *r = NULL;
	struct tar_entry e;
	unsigned char chunk[1000];
	size_t n = 0;
	int rc;

	if (tar_reader_new(&r, memsrc_read, &src, &lim) < 0)
		return 0;
	while ((rc = tar_next(r, &e)) == 1) {
		/* Skip every third entry unread: tar_next() must skip its data. */
		if (++n % 3 == 0)
			continue;
		for (size_t want = 1; (rc = tar_read(r, chunk, want)) > 0;
		     want = (want + 137) % sizeof(chunk) + 1)
			;
		if (rc < 0)
			break;
	}
	(void)tar_reader_error(r);
	tar_reader_free(r);
	return 0;
}
