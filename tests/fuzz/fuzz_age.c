/*
 * fuzz_age — age files (agent/formats/age.h): the armor, the header and
 * its stanzas, the X25519 unwrap, the header MAC and the STREAM payload,
 * opened with a fixed identity (a throwaway made for fuzzing: the seeds in
 * corpus/age are encrypted to it with Debian's age, so mutations reach
 * the MAC and the payload), and the header's stanza types.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "age.h"
#include "crypto.h"
#include "fuzz.h"

FUZZ_QUIET()

/* recipient age1rsekfdux6tcg8m0qe93w3se72vxygn46s4tnda63flv6py3qha8qagdmxd */
static const char identity[] =
	"AGE-SECRET-KEY-18KMUKZJ5RGNVKC2PHDHHED9VXZMCLKWPR0R564PUN42TU4XFNK0QEKTFM7\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct age_keyring *k;
	struct buf out, types;
	enum age_outcome how;

	if (!k) {
		k = age_keyring_new();
		if (!k || age_keyring_add(k, identity, strlen(identity), "fuzz"))
			abort();
	}
	buf_init(&out, 1 << 20);
	(void)age_decrypt(k, data, size, &out, &how, "fuzz.age", NULL);
	crypto_buf_free(&out);
	buf_init(&types, 4096);
	(void)age_header_types(data, size, &types, "fuzz.age");
	buf_free(&types);
	/* identity files are outside input too (secrets.identities) */
	struct age_keyring *other = age_keyring_new();
	if (other)
		(void)age_keyring_add(other, (const char *)data, size, "fuzz.txt");
	age_keyring_free(other);
	return 0;
}
