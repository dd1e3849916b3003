/*
 * Unit tests: agent/formats/age — age v1 files opened with X25519
 * identities. Every C2SP/CCTV age vector (../shared/fixtures/sops,
 * read at test time) must end as its header says: success with the
 * payload's sha256, or the kind of failure, with the plaintext released
 * before a payload failure hashed too. Vectors that need a passphrase or a
 * post-quantum identity must be refused. Identities round-trip, and keys
 * published by Flux and SOPS give their published recipients.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "age.h"
#include "buf.h"
#include "crypto.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "mem.h"
#include "tap.h"

#if IS_ENABLED(CONFIG_SECRETS)

#define VECTOR_MAX (8u << 20)
#define PLAIN_MAX (32u << 20)

/* a file of ../shared/fixtures/sops */
static int read_fixture(const char *rel, struct buf *out)
{
	char path[512];

	snprintf(path, sizeof(path), "sops/%s", rel);
	return tap_fixture(path, VECTOR_MAX, out);
}

static const char *const outcome_names[] = {
	[AGE_OPENED] = "success", [AGE_ARMOR_BAD] = "armor failure",
	[AGE_HEADER_BAD] = "header failure", [AGE_NO_MATCH] = "no match",
	[AGE_HMAC_BAD] = "HMAC failure", [AGE_PAYLOAD_BAD] = "payload failure",
	[AGE_NOT_SUPPORTED] = "not supported",
};

static int outcome_of(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
		if (strlen(outcome_names[i]) == n && !memcmp(outcome_names[i], s, n))
			return (int)i;
	return -1;
}

static int inflate_all(const unsigned char *in, size_t len, struct buf *out)
{
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK)
		return -1;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	do {
		if (buf_grow(out, 65536)) {
			inflateEnd(&z);
			return -1;
		}
		z.next_out = (unsigned char *)out->data + out->len;
		z.avail_out = 65536;
		rc = inflate(&z, Z_NO_FLUSH);
		out->len += 65536 - z.avail_out;
	} while (rc == Z_OK);
	inflateEnd(&z);
	return rc == Z_STREAM_END ? 0 : -1;
}

struct vector {
	int expect;
	char payload[SHA256_HEX_LEN + 1];
	int compressed, passphrases, unsupported_identity, identities;
	struct age_keyring *k;
	struct buf file;
};

/* Read one vector: its header lines, the blank line, then the age file. */
static int vector_load(struct vector *v, const char *name)
{
	struct buf raw = BUF_INIT(VECTOR_MAX);
	char rel[256];
	size_t pos = 0;
	int rc = -1;

	memset(v, 0, sizeof(*v));
	buf_init(&v->file, PLAIN_MAX);
	v->expect = -1;
	v->k = age_keyring_new();
	snprintf(rel, sizeof(rel), "C2SP__CCTV@1e3d2860d46e/age/testdata/%s", name);
	if (read_fixture(rel, &raw))
		goto done;
	for (;;) {
		const char *line = raw.data + pos, *nl = memchr(line, '\n', raw.len - pos);
		size_t l;

		if (!nl)
			goto done;
		l = (size_t)(nl - line);
		pos += l + 1;
		if (!l)
			break;
		if (l > 8 && !memcmp(line, "expect: ", 8))
			v->expect = outcome_of(line + 8, l - 8);
		else if (l == 9 + SHA256_HEX_LEN && !memcmp(line, "payload: ", 9))
			memcpy(v->payload, line + 9, SHA256_HEX_LEN);
		else if (l > 10 && !memcmp(line, "identity: ", 10)) {
			v->identities++;
			tap_quiet(1);
			if (age_keyring_add(v->k, line + 10, l - 10, name) == E_UNSUPPORTED)
				v->unsupported_identity = 1;
			tap_quiet(0);
		} else if (l > 12 && !memcmp(line, "passphrase: ", 12))
			v->passphrases++;
		else if (!strncmp(line, "compressed: zlib", l))
			v->compressed = 1;
	}
	if (v->compressed)
		rc = inflate_all((unsigned char *)raw.data + pos, raw.len - pos, &v->file);
	else
		rc = buf_add(&v->file, raw.data + pos, raw.len - pos);
done:
	buf_free(&raw);
	return rc;
}

static void vector_free(struct vector *v)
{
	age_keyring_free(v->k);
	buf_free(&v->file);
}

static void test_cctv(void)
{
	struct buf index = BUF_INIT(1 << 20);
	size_t pos = 0, total = 0, exact = 0, refused = 0;

	if (read_fixture("cctv-age-INDEX.tsv", &index)) {
		check(!"the CCTV index can be read");
		return;
	}
	/* skip the column names */
	pos = (size_t)(strchr(index.data, '\n') - index.data) + 1;
	while (pos < index.len) {
		char name[128], hex[SHA256_HEX_LEN + 1];
		const char *line = index.data + pos, *tab = strchr(line, '\t');
		const char *nl = strchr(line, '\n');
		unsigned char digest[SHA256_LEN];
		struct buf out = BUF_INIT(PLAIN_MAX);
		enum age_outcome how = AGE_OPENED;
		struct vector v;
		int rc;

		if (!nl || !tab || tab > nl || (size_t)(tab - line) >= sizeof(name))
			break;
		memcpy(name, line, (size_t)(tab - line));
		name[tab - line] = '\0';
		pos = (size_t)(nl - index.data) + 1;
		total++;
		if (vector_load(&v, name) || v.expect < 0 || !v.k) {
			check(!"a CCTV vector loads");
			tap_diag("vector %s", name);
			vector_free(&v);
			continue;
		}
		tap_quiet(1);
		rc = age_decrypt(v.k, v.file.data, v.file.len, &out, &how, name, NULL);
		tap_quiet(0);
		sha256(out.data, out.len, digest);
		sha256_hex(digest, hex);
		if (v.passphrases || v.unsupported_identity) {
			/* scrypt and hybrid: refused, by name or as a bad file */
			refused++;
			if (!(rc < 0 && (how == (enum age_outcome)v.expect || how == AGE_NOT_SUPPORTED ||
					 how == AGE_NO_MATCH)))
				tap_diag("vector %s: got %s", name, outcome_names[how]);
			check(rc < 0);
		} else {
			exact++;
			if (how != (enum age_outcome)v.expect)
				tap_diag("vector %s: expected %s, got %s", name,
					 outcome_names[v.expect], outcome_names[how]);
			check_int(how, ==, v.expect);
			check_int(rc == 0, ==, how == AGE_OPENED);
			if (v.payload[0]) {
				if (strcmp(hex, v.payload))
					tap_diag("vector %s: payload hash", name);
				check_str(hex, v.payload);
			} else if (how != AGE_OPENED) {
				check_int(out.len, ==, 0);
			}
		}
		crypto_buf_free(&out);
		vector_free(&v);
	}
	tap_diag("CCTV: %zu vectors, %zu with X25519 identities checked exactly, "
		 "%zu scrypt or hybrid vectors refused", total, exact, refused);
	check_int(total, ==, 143);
	check_int(exact, >=, 90);
	buf_free(&index);
}

/* Keys published by Flux and sops give the recipients published with them. */
static void test_published_keys(void)
{
	static const struct { const char *file, *recipient; } keys[] = {
		{ "fluxcd__kustomize-controller@186fb3b29138/internal/controller/testdata/sops/keys/age.txt",
		  "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29" },
		{ "jkroepke__helm-secrets@eed4b298c199/tests/assets/age/key.txt",
		  "age1rh2xsjg8avja92j3jhtttuczgmqkz89lezxt4e3mmp5ukl5j4f9smvteju" },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct buf text = BUF_INIT(1 << 16);
		struct age_keyring *k = age_keyring_new();

		check(k != NULL);
		if (!k || read_fixture(keys[i].file, &text)) {
			check(!"a key file can be read");
			age_keyring_free(k);
			continue;
		}
		check_int(age_keyring_add(k, text.data, text.len, keys[i].file), ==, 0);
		check_int(age_keyring_count(k), ==, 1);
		check_str(age_keyring_recipient(k, 0), keys[i].recipient);
		crypto_buf_free(&text);
		age_keyring_free(k);
	}

	/* getsops' keys.txt holds two identities */
	struct buf text = BUF_INIT(1 << 16);
	struct age_keyring *k = age_keyring_new();

	if (!read_fixture("getsops__sops@7ebee3dc7b8f/age/keys.txt", &text)) {
		check_int(age_keyring_add(k, text.data, text.len, "keys.txt"), ==, 0);
		check_int(age_keyring_count(k), ==, 2);
		check_str(age_keyring_recipient(k, 0),
			  "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw");
		check_str(age_keyring_recipient(k, 1),
			  "age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep");
	} else {
		check(!"getsops keys.txt can be read");
	}
	crypto_buf_free(&text);
	age_keyring_free(k);
}

static void test_identity_files(void)
{
	struct age_keyring *k = age_keyring_new();
	struct buf id = BUF_INIT(4096);
	char recipient[AGE_RECIPIENT_MAX];
	const char *msg;

	/* a new identity reads back with the recipient it was made with */
	check_int(age_identity_new(&id, recipient), ==, 0);
	check(!strncmp(recipient, "age1", 4));
	check_int(strlen(recipient), ==, 62);
	check(strstr(id.data, "# public key: ") != NULL);
	check(strstr(id.data, "AGE-SECRET-KEY-1") != NULL);
	check_int(age_keyring_add(k, id.data, id.len, "new"), ==, 0);
	check_str(age_keyring_recipient(k, 0), recipient);

	/* a changed character breaks the checksum; the secret is never printed */
	char *s = strstr(id.data, "AGE-SECRET-KEY-1"), secret[33];
	s[20] = s[20] == 'Q' ? 'P' : 'Q';
	memcpy(secret, s + 16, 32);
	secret[32] = '\0';
	tap_capture_begin();
	check_int(age_keyring_add(k, id.data, id.len, "changed"), ==, E_FORMAT);
	msg = tap_capture_end();
	check(strstr(msg, "changed line 3: not an age X25519 identity") != NULL);
	check(strstr(msg, secret) == NULL);
	check_int(age_keyring_count(k), ==, 1);

	/* hybrid and plugin identities are refused by name */
	static const char pq[] = "AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG\n";
	tap_capture_begin();
	check_int(age_keyring_add(k, pq, strlen(pq), "pq"), ==, E_UNSUPPORTED);
	check(strstr(tap_capture_end(), "post-quantum hybrid identity") != NULL);
	static const char plugin[] = "AGE-PLUGIN-YUBIKEY-1QQQQQQ\n";
	tap_capture_begin();
	check_int(age_keyring_add(k, plugin, strlen(plugin), "plugin"), ==, E_UNSUPPORTED);
	check(strstr(tap_capture_end(), "plugin identity") != NULL);
	/* only comments: no identity */
	tap_quiet(1);
	check_int(age_keyring_add(k, "# nothing\n\n", 11, "empty"), ==, E_FORMAT);
	tap_quiet(0);
	check_int(age_keyring_count(k), ==, 1);
	crypto_buf_free(&id);
	age_keyring_free(k);
}

/* One vector, cut at every length and with every byte changed: never opens. */
static void test_mutations(void)
{
	struct vector v;
	size_t opened = 0;

	if (vector_load(&v, "x25519")) {
		check(!"x25519 loads");
		vector_free(&v);
		return;
	}
	tap_quiet(1);
	for (size_t n = 0; n < v.file.len; n++) {
		struct buf out = BUF_INIT(PLAIN_MAX);
		enum age_outcome how;

		opened += age_decrypt(v.k, v.file.data, n, &out, &how, "cut", NULL) == 0;
		crypto_buf_free(&out);
	}
	for (size_t i = 0; i < v.file.len; i++) {
		struct buf out = BUF_INIT(PLAIN_MAX);
		enum age_outcome how;

		v.file.data[i] ^= 0x20;
		opened += age_decrypt(v.k, v.file.data, v.file.len, &out, &how, "flip", NULL) == 0;
		v.file.data[i] ^= 0x20;
		crypto_buf_free(&out);
	}
	tap_quiet(0);
	check_int(opened, ==, 0);

	/* the plaintext is bounded by the caller's buffer */
	struct buf small = BUF_INIT(2);
	enum age_outcome how;
	tap_quiet(1);
	check_int(age_decrypt(v.k, v.file.data, v.file.len, &small, &how, "small", NULL), ==, E_LIMIT);
	tap_quiet(0);
	check_int(small.len, ==, 0);
	crypto_buf_free(&small);

	/* every allocation failing in turn: a clean error, no leak */
	for (unsigned long n = 1; n < 8; n++) {
		struct buf out = BUF_INIT(PLAIN_MAX);

		tap_quiet(1);
		mem_fail_after(n);
		int rc = age_decrypt(v.k, v.file.data, v.file.len, &out, &how, "nomem", NULL);
		mem_fail_after(0);
		tap_quiet(0);
		check(rc == 0 || rc == E_NOMEM);
		crypto_buf_free(&out);
	}
	vector_free(&v);
}

int main(void)
{
	test_cctv();
	test_published_keys();
	test_identity_files();
	test_mutations();
	return tap_done();
}

#else

int main(void)
{
	tap_diag("built without CONFIG_SECRETS");
	check(1);
	return tap_done();
}

#endif
