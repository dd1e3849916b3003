/*
 * fuzz — what every libFuzzer target in tests/fuzz shares: silencing the
 * log (each rejected input would otherwise print a line, and most inputs
 * are rejected), and a memory source for the read_fn parsers.
 *
 * The memory source hands out the input in chunks of varying size (1 to
 * 701 bytes, from a fixed sequence keyed on the position), so the readers'
 * short-read paths run too, and a crash input replays the same way.
 */
#ifndef OUTPOST_FUZZ_H
#define OUTPOST_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Every target's LLVMFuzzerInitialize: no log output at all, unless
 * FUZZ_LOG is set in the environment (to see why a seed is refused, or
 * what a crash input logs before it crashes).
 */
#define FUZZ_QUIET()                                                    \
	int LLVMFuzzerInitialize(int *argc, char ***argv)               \
	{                                                               \
		(void)argc;                                             \
		(void)argv;                                             \
		if (!getenv("FUZZ_LOG"))                                \
			log_set_level(LOG_OFF);                         \
		return 0;                                               \
	}

struct memsrc {
	const uint8_t *data;
	size_t len, off;
};

/* A read_fn over a struct memsrc. */
static inline int memsrc_read(void *ctx, void *buf, size_t len)
{
	struct memsrc *m = ctx;
	size_t k = m->len - m->off;
	/* A multiplicative hash of the offset picks the chunk size. */
	size_t step = 1 + (size_t)(((uint32_t)m->off * 2654435761u) >> 16) % 701;

	if (k > len)
		k = len;
	if (k > step)
		k = step;
	memcpy(buf, m->data + m->off, k);
	m->off += k;
	return (int)k;
}

#endif
