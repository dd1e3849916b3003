/*
 * fuzz_sops — SOPS files (agent/formats/sops.h): the metadata (age
 * entries, rules, lastmodified, MAC), the ENC[] values and the walk that
 * writes the plain JSON, opened with the fixed identity of fuzz_age (the
 * seed in corpus/sops is a SOPS-shaped Secret encrypted to it, so
 * mutations reach the values and the MAC), and the recipients listing.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "age.h"
#include "crypto.h"
#include "fuzz.h"
#include "sops.h"

FUZZ_QUIET()

static const char identity[] =
	"AGE-SECRET-KEY-18KMUKZJ5RGNVKC2PHDHHED9VXZMCLKWPR0R564PUN42TU4XFNK0QEKTFM7\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_keyring *k;
	struct buf out, list;

	if (!k) {
		k = age_keyring_new();
		if (!k || age_keyring_add(k, identity, strlen(identity), "fuzz"))
			abort();
	}
	buf_init(&out, 1 << 20);
	(void)sops_decrypt(k, "fuzz.yaml", (const char *)data, size, &out, NULL, NULL, NULL);
	crypto_buf_free(&out);
	buf_init(&list, 64 * 1024);
	(void)sops_recipients("fuzz.yaml", (const char *)data, size, &list);
	buf_free(&list);
	return 0;
}
