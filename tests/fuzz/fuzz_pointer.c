/*
 * fuzz_pointer — the release pointer, channels/<app>/release.yaml
 * (agent/formats/pointer.h), parsed without its signature as `outpost release`
 * tools do; pointer_verify() parses with the same code once signed.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"
#include "pointer.h"

FUZZ_QUIET()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pointer p;

	(void)pointer_parse("release.yaml", (const char *)data, size, &p);
	return 0;
}
