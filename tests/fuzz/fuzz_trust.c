/*
 * fuzz_trust — the trust root (agent/formats/trust.h): root.yaml parsing, then the
 * signature check over its own bytes. The input is root.yaml, optionally
 * followed by FUZZ_SIG_SEP and the signature file (the seeds are real
 * root.yaml + root.yaml.sig pairs, so the check runs real ECDSA).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "trust.h"

FUZZ_QUIET()

/* NUL bytes: no root.yaml that parses holds them. */
#define FUZZ_SIG_SEP "\0SIG\0"
#define FUZZ_SIG_SEP_LEN 5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sig = "";
	size_t len = size, siglen = 0;
	struct trust *t = NULL;
	const uint8_t *sep = memmem(data, size, FUZZ_SIG_SEP, FUZZ_SIG_SEP_LEN);

	if (sep) {
		len = (size_t)(sep - data);
		sig = (const char *)sep + FUZZ_SIG_SEP_LEN;
		siglen = size - len - FUZZ_SIG_SEP_LEN;
	}
	if (trust_parse("fuzz.yaml", text, len, &t) < 0)
		return 0;
	for (size_t i = 0; i < trust_key_count(t); i++) {
		(void)trust_key_id(t, i);
		(void)trust_key_pem(t, i);
		(void)trust_key_in_role(t, ROLE_ROOT, i);
		(void)trust_key_in_role(t, ROLE_RELEASE, i);
	}
	(void)trust_check(t, ROLE_ROOT, "fuzz.yaml", text, len, sig, siglen);
	(void)trust_check(t, ROLE_RELEASE, "fuzz.yaml", text, len, sig, siglen);
	(void)trust_check_expiry("fuzz.yaml", trust_expires(t), trust_version(t));
	trust_free(t);
	return 0;
}
