/*
 * Unit tests: agent/formats/sops — SOPS YAML and JSON files made by the
 * real sops (../shared/fixtures/sops, read at test time, expectations in
 * its expected.json): each decrypts with its key to exactly the values,
 * types and paths expected, in order, and its MAC verifies; with another
 * key it is refused as made for other recipients; a changed value, an
 * added key, a changed or missing MAC, a changed lastmodified refuse it;
 * the plain JSON keeps the types (int, float, bool, string).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "age.h"
#include "buf.h"
#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "rx.h"
#include "sops.h"
#include "tap.h"

#if IS_ENABLED(CONFIG_SECRETS)

#define FILE_MAX (1u << 20)

/* a file of ../shared/fixtures/sops */
static int read_fixture(const char *rel, struct buf *out)
{
	char path[512];

	snprintf(path, sizeof(path), "sops/%s", rel);
	return tap_fixture(path, FILE_MAX, out);
}

static struct age_keyring *keyring_of(const char *rel)
{
	struct age_keyring *k = age_keyring_new();
	struct buf text = BUF_INIT(FILE_MAX);

	if (!k || read_fixture(rel, &text) || age_keyring_add(k, text.data, text.len, rel)) {
		age_keyring_free(k);
		k = NULL;
	}
	crypto_buf_free(&text);
	return k;
}

/* Values as opened, "aad\ttype\tplaintext\n" each, in order. */
static void collect(void *ctx, const char *aad, const char *type, const char *plain, size_t len)
{
	struct buf *b = ctx;

	buf_addf(b, "%s\t%s\t%.*s\n", aad, type, (int)len, plain);
}

static int open_file(const struct age_keyring *k, const char *rel, struct buf *json,
		     struct buf *values, struct buf *why)
{
	struct buf text = BUF_INIT(FILE_MAX);
	int rc;

	if (read_fixture(rel, &text))
		return E_IO;
	tap_quiet(1);
	rc = sops_decrypt(k, rel, text.data, text.len, json, why, collect, values);
	tap_quiet(0);
	buf_free(&text);
	return rc;
}

static const char *str_of(const struct node *map, const char *key)
{
	const char *s = node_str(node_map_get(map, key));

	return s ? s : "";
}

static void test_fixtures(void)
{
	struct buf ex = BUF_INIT(FILE_MAX);
	struct doc *d = NULL;
	const struct node *root;
	size_t opened = 0, skipped = 0;

	if (read_fixture("expected.json", &ex) || doc_load("expected.json", ex.data, ex.len, NULL, &d)) {
		check(!"expected.json loads");
		buf_free(&ex);
		return;
	}
	root = doc_root(d, 0);
	for (size_t i = 0; i < root->len; i++) {
		const char *file = root->pairs[i].key->str;
		const struct node *e = root->pairs[i].value;
		const char *format = str_of(e, "format"), *expect = str_of(e, "expected");
		struct buf json = BUF_INIT(FILE_MAX), got = BUF_INIT(FILE_MAX), want = BUF_INIT(FILE_MAX);
		struct buf why = BUF_INIT(4096);
		struct age_keyring *k;
		int rc;

		if (file[0] == '_' || strcmp(expect, "success"))
			continue;
		if (strcmp(format, "yaml") && strcmp(format, "json") &&
		    strncmp(format, "binary (JSON", 12)) {
			skipped++;      /* dotenv, INI: not manifests */
			continue;
		}
		k = keyring_of(str_of(e, "identity_file"));
		check(k != NULL);
		if (!k)
			continue;
		rc = open_file(k, file, &json, &got, &why);
		check_int(rc, ==, 0);
		if (rc)
			tap_diag("%s: %s", file, why.data);
		const struct node *vals = node_map_get(e, "values");
		for (size_t j = 0; vals && j < vals->len; j++) {
			const struct node *v = vals->items[j];

			if (!strcmp(str_of(v, "type"), "comment"))
				continue;
			if (node_map_get(v, "stored_unencrypted_empty") &&
			    !strcmp(node_map_get(v, "stored_unencrypted_empty")->str, "true"))
				continue;
			buf_addf(&want, "%s\t%s\t%s\n", str_of(v, "aad"), str_of(v, "type"),
				 str_of(v, "plaintext"));
		}
		check_str(got.data, want.data);
		/* what comes out is a plain document without its sops map */
		struct doc *out = NULL;
		check_int(doc_load("out", json.data, json.len, NULL, &out), ==, 0);
		check(out && !node_map_get(doc_root(out, 0), "sops"));
		check(!strstr(json.data, "ENC[AES256_GCM"));
		doc_free(out);
		opened++;
		crypto_buf_free(&json);
		crypto_buf_free(&got);
		buf_free(&want);
		buf_free(&why);
		age_keyring_free(k);
	}
	tap_diag("SOPS: %zu YAML/JSON fixtures opened to their values; %zu skipped (dotenv, "
		 "INI, and a plain Secret holding SOPS inside)", opened, skipped);
	check_int(opened, ==, 10);

	/* the wrong key: refused as made for other recipients, naming them */
	const struct node *neg = node_map_get(root, "_negative_wrong_key");
	for (size_t i = 0; neg && i < neg->len; i++) {
		struct age_keyring *k = keyring_of(str_of(neg->items[i], "identity_file"));
		struct buf json = BUF_INIT(FILE_MAX), vals = BUF_INIT(FILE_MAX), why = BUF_INIT(4096);

		check_int(open_file(k, str_of(neg->items[i], "file"), &json, &vals, &why), ==, E_NOTFOUND);
		check(strstr(why.data, "no identity of this gateway") != NULL);
		check(strstr(why.data, "made for age recipients age1") != NULL);
		check_int(json.len, ==, 0);
		buf_free(&json);
		buf_free(&vals);
		buf_free(&why);
		age_keyring_free(k);
	}
	doc_free(d);
	buf_free(&ex);
}

#define FLUX "fluxcd__kustomize-controller@186fb3b29138/internal/controller/testdata/sops/"

static void test_refusals(void)
{
	struct age_keyring *k = keyring_of(FLUX "keys/age.txt");
	struct buf json = BUF_INIT(FILE_MAX), vals = BUF_INIT(FILE_MAX), why = BUF_INIT(4096);
	struct buf text = BUF_INIT(FILE_MAX);
	int rc;

	/* the hand-edited file whose plaintext fields hold ENC[] strings */
	rc = open_file(k, "fluxcd__kustomize-controller@1e8dc842d3bd/internal/generator/testdata/"
		       "panic/secret.age.yaml", &json, &vals, &why);
	check_int(rc, ==, E_SIGNATURE);
	check(strstr(why.data, "MAC mismatch") != NULL);
	check_int(json.len, ==, 0);

	/* a plain Secret (whose data happens to be SOPS inside) is not SOPS */
	buf_reset(&why);
	check_int(open_file(k, FLUX "inside/secret.yaml", &json, &vals, &why), ==, 1);

	/* the post-quantum file: refused (no X25519 recipient of ours) */
	buf_reset(&why);
	check_int(open_file(k, FLUX "algorithms/age-pq.yaml", &json, &vals, &why), ==, E_NOTFOUND);
	check(strstr(why.data, "age1pq1") != NULL);

	/* edits of a good file */
	check_int(read_fixture(FLUX "algorithms/age.yaml", &text), ==, 0);
	static const struct { const char *from, *to, *what; int rc; } edits[] = {
		{ "data:mHeXsmQ=", "data:mHeXsmA=", "does not authenticate", E_SIGNATURE },
		{ "name: age\n", "name: age\n  labels: {x: y}\n", "MAC mismatch", E_SIGNATURE },
		{ "name: age\n", "name: agf\n", "MAC mismatch", E_SIGNATURE },
		{ "2024-11-12T13:33:42Z", "2024-11-12T13:33:43Z", "MAC does not open", E_SIGNATURE },
		{ "  mac: ENC[", "  notmac: ENC[", "no MAC", E_FORMAT },
		{ "data:vmrF+", "data:vmrG+", "MAC does not open", E_SIGNATURE },
		{ "  key: ENC[AES256_GCM,", "  key: XNC[AES256_GCM,", "should be encrypted", E_FORMAT },
		{ "encrypted_regex: ^(data|stringData)$", "encrypted_regex: ^(data|stringData)$\n"
		  "  unencrypted_suffix: _x", "more than one", E_FORMAT },
		{ "  age:\n", "  shamir_threshold: 2\n  age:\n", "Shamir", E_UNSUPPORTED },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		struct buf t = BUF_INIT(FILE_MAX);
		const char *at = strstr(text.data, edits[i].from);

		check(at != NULL);
		if (!at)
			continue;
		buf_add(&t, text.data, (size_t)(at - text.data));
		buf_addstr(&t, edits[i].to);
		buf_addstr(&t, at + strlen(edits[i].from));
		buf_reset(&json);
		buf_reset(&why);
		tap_quiet(1);
		rc = sops_decrypt(k, "edited", t.data, t.len, &json, &why, NULL, NULL);
		tap_quiet(0);
		if (rc != edits[i].rc || !strstr(why.data, edits[i].what))
			tap_diag("edit %zu: %d %s", i, rc, why.data);
		check_int(rc, ==, edits[i].rc);
		check(strstr(why.data, edits[i].what) != NULL);
		/* no plaintext in the refusal, nothing written */
		check(strstr(why.data, "value\"") == NULL);
		check_int(json.len, ==, 0);
		buf_free(&t);
	}
	/* cut at every length: never crashes, never opens before the metadata
	 * lines after the MAC (pgp, encrypted_regex, version: what sops does
	 * not authenticate either; a cut regex still selects the same keys) */
	size_t opened = 0, last = (size_t)(strstr(text.data, "  pgp:") - text.data);
	tap_quiet(1);
	for (size_t n = 0; n < text.len; n++) {
		buf_reset(&json);
		if (sops_decrypt(k, "cut", text.data, n, &json, NULL, NULL, NULL) == 0 && n < last) {
			opened++;
			tap_diag("opens cut at %zu of %zu: ...%.20s", n, text.len, text.data + n - 20);
		}
	}
	tap_quiet(0);
	check_int(opened, ==, 0);
	crypto_buf_free(&json);
	buf_free(&vals);
	buf_free(&why);
	buf_free(&text);
	age_keyring_free(k);
}

/* The plain JSON keeps each value's type. */
static void test_types(void)
{
	struct age_keyring *k = keyring_of("getsops__sops@7ebee3dc7b8f/age/keys.txt");
	struct age_keyring *h = keyring_of("jkroepke__helm-secrets@eed4b298c199/tests/assets/age/key.txt");
	struct buf json = BUF_INIT(FILE_MAX), vals = BUF_INIT(FILE_MAX), why = BUF_INIT(4096);

	check_int(open_file(k, "getsops__sops@0b07dfbc5eff/example.yaml", &json, &vals, &why), ==, 0);
	check(strstr(json.data, "\"number\":1234568000") != NULL);
	check(strstr(json.data, "\"somebooleans\":[true,false]") != NULL);
	check(strstr(json.data, "\"myapp1\":\"t00m4nys3cr3tzupdated\"") != NULL);
	check(strstr(json.data, "\"nested_unencrypted\":{\"this\":{\"is\":{\"all\":\"going to "
		     "remain in clear text\"}}}") != NULL);
	buf_reset(&json);
	check_int(open_file(k, "getsops__sops@0b07dfbc5eff/example.json", &json, &vals, &why), ==, 0);
	check(strstr(json.data, "\"age\":25.4") != NULL);
	check(strstr(json.data, "\"anEmptyValue\":\"\"") != NULL);
	buf_reset(&json);
	check_int(open_file(h, "jkroepke__helm-secrets@eed4b298c199/tests/assets/values/sops/"
			    "secrets.age.yaml", &json, &vals, &why), ==, 0);
	check(strstr(json.data, "\"port\":92") != NULL);
	crypto_buf_free(&json);
	crypto_buf_free(&vals);
	buf_free(&why);
	age_keyring_free(k);
	age_keyring_free(h);
}

/* The regular expressions of encrypted_regex, read as Go's regexp does. */
static void test_rx(void)
{
	static const struct { const char *re, *s; int want; } m[] = {
		{ "^(data|stringData)$", "data", 1 }, { "^(data|stringData)$", "stringData", 1 },
		{ "^(data|stringData)$", "metadata", 0 }, { "^(data|stringData)$", "datax", 0 },
		{ "^(data|stringData)$", "", 0 }, { "data", "metadata", 1 },
		{ "^(password|token)", "password_x", 1 }, { "^(password|token)", "xpassword", 0 },
		{ "a*", "", 1 }, { "[a-c]+_x$", "bb_x", 1 }, { "[a-c]+_x$", "d_x", 0 },
		{ "\\d+", "abc", 0 }, { "\\d+", "a1", 1 }, { "x|y|z", "y", 1 }, { "x|y|z", "w", 0 },
		{ "(a|b)*c", "ababc", 1 }, { "^(a|b)*c$", "abab", 0 }, { "^(a|b)*c$", "abxc", 0 },
		{ "^(?:enc|sec)_.*$", "enc_1", 1 }, { "^(?:enc|sec)_.*$", "dec_1", 0 },
		{ "[^a-z]", "abc", 0 }, { "[^a-z]", "abC", 1 }, { "^colou?r$", "color", 1 },
		{ "^colou?r$", "colour", 1 }, { "^colou?r$", "colouur", 0 }, { "a.c", "abc", 1 },
		{ "a.c", "a\nc", 0 }, { "^((a|b)+|c)?d$", "abd", 1 }, { "^((a|b)+|c)?d$", "d", 1 },
		{ "^((a|b)+|c)?d$", "cd", 1 }, { "^((a|b)+|c)?d$", "acd", 0 }, { "^x|y$", "xa", 1 },
		{ "^x|y$", "ay", 1 }, { "^x|y$", "ax", 0 }, { "^(a*)*$", "aaaa", 1 },
		{ "^(a*)*b$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 }, { "\\.key$", "tls.key", 1 },
		{ "\\.key$", "tlsxkey", 0 }, { "[]a]", "]", 1 }, { "^[\\w-]+$", "a-b_c", 1 },
	};
	static const char *const refused[] = {
		"a{2}", "(?i)x", "\\bx", "[[:alpha:]]", "a**", "(a", "a)", "*a", "\\", "[a", "[z-a]",
	};
	struct rx r;
	const char *why;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		int rc = rx_compile(&r, m[i].re, &why);

		check_int(rc, ==, 0);
		if (!rc && rx_match(&r, m[i].s) != m[i].want)
			tap_diag("/%s/ on \"%s\": want %d", m[i].re, m[i].s, m[i].want);
		check_int(rc ? -1 : rx_match(&r, m[i].s), ==, m[i].want);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		why = NULL;
		check_int(rx_compile(&r, refused[i], &why), ==, E_UNSUPPORTED);
		check(why != NULL);
	}
}

int main(void)
{
	test_rx();
	test_fixtures();
	test_refusals();
	test_types();
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
