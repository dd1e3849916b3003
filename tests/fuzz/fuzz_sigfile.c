/*
 * fuzz_sigfile — the detached signature file parser (agent/formats/sigfile.h),
 * the lookup over what it parsed, and sigfile_update(), which rewrites a
 * file that parsed.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "sigfile.h"

FUZZ_QUIET()

static const char keyid[] =
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sigfile sf;
	static const unsigned char sig[72] = { 0x30, 0x46 };
	struct buf out;

	if (sigfile_parse(&sf, (const char *)data, size, "fuzz.sig") < 0)
		return 0;
	for (size_t i = 0; i < sf.count; i++)
		for (const struct sigline *l = sigfile_find(&sf, sf.lines[i].keyid, NULL); l;
		     l = sigfile_find(&sf, sf.lines[i].keyid, l))
			;
	buf_init(&out, 64 * 1024);
	(void)sigfile_update(&out, (const char *)data, size, "fuzz.sig", keyid,
			     sig, sizeof(sig));
	if (sf.count)
		(void)sigfile_update(&out, (const char *)data, size, "fuzz.sig",
				     sf.lines[0].keyid, sig, sizeof(sig));
	buf_free(&out);
	return 0;
}
