/* Unit tests: platform/doc — bounded YAML loading, typing, JSON output. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "doc.h"
#include "error.h"
#include "log.h"
#include "mem.h"
#include "tap.h"

/* --- helpers --------------------------------------------------------------- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Load, expect rc, and (on failure) a log line containing want. */
static void expect_refusal(const char *what, const char *data, size_t len,
			   const struct doc_limits *lim, int want_rc,
			   const char *want_msg)
{
	struct doc *d = (struct doc *)1;
	const char *msg;
	int rc;

	tap_capture_begin();
	rc = doc_load("t.yaml", data, len, lim, &d);
	msg = tap_capture_end();
	if (!check_int(rc, ==, want_rc) || !check(strstr(msg, want_msg) != NULL))
		tap_diag("%s: got \"%s\"", what, msg);
	check(d == NULL);
	doc_free(d);
}

/* YAML text → compact JSON of its first document. */
static int to_json(const char *yaml, char *out, size_t cap)
{
	struct buf b = BUF_INIT(1 << 20);
	struct doc *d;
	int rc;

	out[0] = '\0';
	tap_capture_begin();
	rc = doc_load("t.yaml", yaml, strlen(yaml), NULL, &d);
	if (!rc)
		rc = doc_to_json(doc_root(d, 0), &b);
	tap_capture_end();
	if (!rc)
		snprintf(out, cap, "%s", b.data);
	buf_free(&b);
	doc_free(d);
	return rc;
}

/* --- typing ---------------------------------------------------------------- */

static const struct { const char *yaml, *json; } typing[] = {
	/* null */
	{ "~", "null" }, { "null", "null" }, { "Null", "null" }, { "NULL", "null" },
	{ "", "null" }, { "nULL", "\"nULL\"" }, { "'~'", "\"~\"" },
	/* bool: YAML 1.1 as in go-yaml v2 */
	{ "true", "true" }, { "True", "true" }, { "TRUE", "true" },
	{ "tRUE", "\"tRUE\"" }, { "yes", "true" }, { "Yes", "true" },
	{ "YES", "true" }, { "y", "true" }, { "Y", "true" }, { "on", "true" },
	{ "On", "true" }, { "ON", "true" }, { "false", "false" }, { "no", "false" },
	{ "No", "false" }, { "n", "false" }, { "N", "false" }, { "off", "false" },
	{ "OFF", "false" }, { "oFF", "\"oFF\"" }, { "yes please", "\"yes please\"" },
	{ "'yes'", "\"yes\"" }, { "\"true\"", "\"true\"" }, { "!!str true", "\"true\"" },
	/* integers */
	{ "0", "0" }, { "-0", "0" }, { "+12", "12" }, { "-12", "-12" },
	{ "8080", "8080" }, { "1_000", "1000" }, { "1__0_", "10" }, { "1_", "1" },
	{ "_1", "\"_1\"" }, { "0x1F", "31" }, { "0X1f", "31" }, { "-0x10", "-16" },
	{ "+0x_10", "16" }, { "0o17", "15" }, { "0O17", "15" }, { "017", "15" },
	{ "0755", "493" }, { "00", "0" }, { "08", "8" }, { "09.5", "9.5" },
	{ "0b101", "5" }, { "-0b101", "-5" }, { "0b-101", "-5" }, { "0b2", "\"0b2\"" },
	{ "0x", "\"0x\"" }, { "0o", "\"0o\"" }, { "0x1p3", "\"0x1p3\"" },
	{ "9223372036854775807", "9223372036854775807" },
	{ "-9223372036854775808", "-9223372036854775808" },
	{ "9223372036854775808", "9223372036854775808" },
	{ "18446744073709551615", "18446744073709551615" },
	{ "0xFFFFFFFFFFFFFFFF", "18446744073709551615" },
	/* beyond uint64: a float in Go, written as encoding/json writes it */
	{ "18446744073709551616", "18446744073709552000" },
	{ "-9223372036854775809", "-9223372036854776000" },
	{ "123456789012345678901234567890", "1.2345678901234568e+29" },
	{ "0x10000000000000000", "\"0x10000000000000000\"" },
	{ "'8080'", "\"8080\"" }, { "!!str 42", "\"42\"" },
	/* floats */
	{ "1.0", "1" }, { "1.5", "1.5" }, { "-1.5", "-1.5" }, { "3.", "3" },
	{ "0.", "0" }, { ".5", "0.5" }, { "-.5", "-0.5" }, { "+.5", "0.5" },
	{ "1e3", "1000" }, { "1E3", "1000" }, { "1.0e+3", "1000" },
	{ "1e1_0", "10000000000" }, { "2.5e-3", "0.0025" }, { "1e21", "1e+21" },
	{ "1e20", "100000000000000000000" }, { "1e23", "1e+23" },
	{ "1e-7", "1e-7" }, { "0.0000001", "1e-7" }, { "1e-6", "0.000001" },
	{ "4.0e-10", "4e-10" }, { "1.5e300", "1.5e+300" }, { "0.1", "0.1" },
	{ "0.30000000000000004", "0.30000000000000004" }, { "123456.789", "123456.789" },
	{ "5e-324", "5e-324" }, { "1.7976931348623157e308", "1.7976931348623157e+308" },
	{ "-0.0", "-0" }, { "1e400", "\"1e400\"" }, { "1e-400", "0" },
	{ ".5_5", "0.55" }, { "._5", "\"._5\"" }, { ".5_", "\".5_\"" },
	{ ".5e1", "5" }, { "1_000.5", "1000.5" }, { "1.2.3", "\"1.2.3\"" },
	{ "1e", "\"1e\"" }, { "e3", "\"e3\"" }, { "1,000", "\"1,000\"" },
	{ "infinity", "\"infinity\"" }, { "+inf", "\"+inf\"" }, { "nan", "\"nan\"" },
	/* strings that look a little like something else */
	{ "12:30", "\"12:30\"" }, { "2001-12-14", "\"2001-12-14\"" },
	{ "2001-12-14T21:59:43.10-05:00", "\"2001-12-14T21:59:43.10-05:00\"" },
	{ "-x", "\"-x\"" }, { ".", "\".\"" }, { "<<", "\"<<\"" }, { "v1", "\"v1\"" },
	{ "1Gi", "\"1Gi\"" }, { "500m", "\"500m\"" }, { "apps/v1", "\"apps/v1\"" },
	{ "|\n  3\n", "\"3\\n\"" }, { ">-\n  true\n", "\"true\"" },
	{ "!!str", "\"\"" }, { "''", "\"\"" },
};

static void test_typing_table(void)
{
	char yaml[256], json[256], want[300];
	size_t n = sizeof(typing) / sizeof(typing[0]);
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		snprintf(yaml, sizeof(yaml), "v: %s\n", typing[i].yaml);
		snprintf(want, sizeof(want), "{\"v\":%s}", typing[i].json);
		int rc = to_json(yaml, json, sizeof(json));

		if (rc || strcmp(json, want) != 0) {
			bad++;
			tap_diag("typing \"%s\": rc %d, got %s, want %s",
				 typing[i].yaml, rc, json, want);
		}
	}
	check_int(bad, ==, 0);
	tap_diag("%zu typing rows", n);
}

/* Values with no JSON form are refused while loading, with their position. */
static void test_typing_refusals(void)
{
	static const char *const bad[] = { ".inf", "-.Inf", "+.INF", ".nan", ".NaN" };
	char yaml[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "a: 1\nv: %s\n", bad[i]);
		expect_refusal(bad[i], yaml, strlen(yaml), NULL, E_FORMAT,
			       "t.yaml:2:4: ");
	}
	expect_refusal("int tag", "v: !!int 3\n", 11, NULL, E_FORMAT,
		       "t.yaml:1:4: tag tag:yaml.org,2002:int is not supported");
	expect_refusal("custom tag", "v: !Ref x\n", 10, NULL, E_FORMAT,
		       "tag !Ref is not supported");
}

static void test_keys(void)
{
	char json[256];

	check_int(to_json("on: 1\n0x10: 2\n'on': 3\n010: 4\nno: 5\n\"~\": 6\n",
			  json, sizeof(json)), ==, 0);
	check_str(json, "{\"true\":1,\"16\":2,\"on\":3,\"8\":4,\"false\":5,\"~\":6}");
	/* an explicit !!map and !!seq tag changes nothing */
	check_int(to_json("!!map {a: !!seq [1]}", json, sizeof(json)), ==, 0);
	check_str(json, "{\"a\":[1]}");

	expect_refusal("dup", "a: 1\nb: 2\na: 3\n", 15, NULL, E_FORMAT,
		       "t.yaml:3:1: duplicate key \\\"a\\\" (first at line 1)");
	expect_refusal("dup by type", "yes: 1\ntrue: 2\n", 15, NULL, E_FORMAT,
		       "t.yaml:2:1: duplicate key \\\"true\\\"");
	expect_refusal("dup flow", "{x: {a: 1, 'a': 2}}", 19, NULL, E_FORMAT,
		       "t.yaml:1:12: duplicate key \\\"a\\\"");
	expect_refusal("null key", "~: 1\n", 5, NULL, E_FORMAT,
		       "t.yaml:1:1: a map key is null");
	expect_refusal("empty key", "?\n: 1\n", 6, NULL, E_FORMAT, "a map key is null");
	expect_refusal("float key", "1.5: x\n", 7, NULL, E_FORMAT,
		       "t.yaml:1:1: map key \\\"1.5\\\" is a number");
	expect_refusal("uint key", "18446744073709551615: x\n", 24, NULL, E_FORMAT,
		       "is a number");
	expect_refusal("merge", "a: {x: 1}\nb:\n  <<: {y: 2}\n", 26, NULL, E_FORMAT,
		       "t.yaml:3:3: merge keys (<<) are not supported");
	expect_refusal("seq key", "[a]: 1\n", 7, NULL, E_FORMAT,
		       "t.yaml:1:1: a map key is a sequence");
	expect_refusal("map key", "? {a: 1}\n: x\n", 13, NULL, E_FORMAT,
		       "a map key is a map");

	/* a big map goes through the sorted check: dup found, later reported */
	{
		struct buf b = BUF_INIT(1 << 20);

		for (int i = 0; i < 1000; i++)
			buf_addf(&b, "k%d: %d\n", i, i);
		buf_addstr(&b, "k500: again\n");
		expect_refusal("dup big", b.data, b.len, NULL, E_FORMAT,
			       "t.yaml:1001:1: duplicate key \\\"k500\\\" (first at line 501)");
		buf_free(&b);
	}
}

static void test_escaping(void)
{
	struct buf b = BUF_INIT(1 << 16);
	struct doc *d;
	struct node *s;
	char json[512];
	/* YAML double-quoted escapes and raw UTF-8, including a 4-byte one */
	static const char yaml[] =
		"s: \"q\\\"b\\\\s\\n\\t\\r\\b\\f\\x01\\x1f\\x7f \\u00e9 \xc3\xa9 \xf0\x9f\x98\x80 </>\"\n";

	check_int(to_json(yaml, json, sizeof(json)), ==, 0);
	check_str(json, "{\"s\":\"q\\\"b\\\\s\\n\\t\\r\\b\\f\\u0001\\u001f\x7f "
		  "\xc3\xa9 \xc3\xa9 \xf0\x9f\x98\x80 </>\"}");
	/* a NUL from an escape is kept in JSON, but not handed out as a C string */
	check_int(to_json("s: \"a\\0b\"\n", json, sizeof(json)), ==, 0);
	check_str(json, "{\"s\":\"a\\u0000b\"}");
	tap_capture_begin();
	check_int(doc_load("t.yaml", "s: \"a\\0b\"\n", 10, NULL, &d), ==, 0);
	tap_capture_end();
	check(node_str(node_map_get(doc_root(d, 0), "s")) == NULL);

	/* invalid UTF-8 in an edited string: refused by the writer */
	static const char *const bad[] = {
		"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xc3", "\xe2\x82", "a\x80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = doc_new_str(d, bad[i], strlen(bad[i]));
		buf_reset(&b);
		tap_capture_begin();
		int rc = doc_to_json(s, &b);
		const char *msg = tap_capture_end();

		check_int(rc, ==, E_FORMAT);
		check(strstr(msg, "invalid UTF-8") != NULL);
	}
	/* and valid edge code points pass */
	s = doc_new_str(d, "\xf4\x8f\xbf\xbf\xee\x80\x80\xc2\x80", 9);
	buf_reset(&b);
	check_int(doc_to_json(s, &b), ==, 0);
	check_str(b.data, "\"\xf4\x8f\xbf\xbf\xee\x80\x80\xc2\x80\"");
	/* output capped by the buf: E_LIMIT */
	struct buf small = BUF_INIT(4);

	check_int(doc_to_json(doc_root(d, 0), &small), ==, E_LIMIT);
	buf_free(&small);
	buf_free(&b);
	doc_free(d);

	/* invalid UTF-8 in the input: libyaml's reader refuses it */
	expect_refusal("bad utf8 input", "a: \xff\n", 5, NULL, E_FORMAT,
		       "t.yaml: byte 3: invalid leading UTF-8 octet");
}

/* --- getters ---------------------------------------------------------------- */

static void test_getters(void)
{
	static const char yaml[] =
		"name: web\n"
		"port: 8080\n"
		"big: 9223372036854775808\n"
		"neg: -5\n"
		"quoted: \"42\"\n"
		"flag: yes\n"
		"off: off\n"
		"empty:\n"
		"list: [a, b]\n"
		"meta: {labels: {app: web}}\n"
		"octal: 010\n"
		"plus: +1\n"
		"under: 1_0\n"
		"zero: 0\n"
		"hex: 0x1F90\n";
	static const char *const allowed[] = {
		"name", "port", "hex", "octal", "plus", "under", "zero", "big", "neg", "quoted", "flag", "false", "empty",
		"list", "meta", NULL
	};
	static const char *const fewer[] = { "name", "port", NULL };
	struct doc *d;
	struct node *r;
	int64_t v = 0;
	int b = -1;

	check_int(doc_load("cfg.yaml", yaml, strlen(yaml), NULL, &d), ==, 0);
	check_int(doc_count(d), ==, 1);
	r = doc_root(d, 0);
	check_int(r->type, ==, NODE_MAP);
	check_int(r->len, ==, 15);
	check_str(node_str(node_map_get(r, "name")), "web");
	check_int(node_int64(node_map_get(r, "port"), 1, 65535, &v), ==, 0);
	check_int(v, ==, 8080);
	/* YAML 1.1's other integer spellings are refused: only plain decimal */
	check_int(node_int64(node_map_get(r, "hex"), 0, 65535, &v), ==, E_FORMAT);
	check_int(node_int64(node_map_get(r, "octal"), 0, 65535, &v), ==, E_FORMAT);
	check_int(node_int64(node_map_get(r, "plus"), 0, 65535, &v), ==, E_FORMAT);
	check_int(node_int64(node_map_get(r, "under"), 0, 65535, &v), ==, E_FORMAT);
	check_int(node_int64(node_map_get(r, "zero"), 0, 65535, &v), ==, 0);
	check_int(v, ==, 0);
	v = 8080;
	check_int(node_int64(node_map_get(r, "port"), 1, 1024, &v), ==, E_FORMAT);
	check_int(node_int64(node_map_get(r, "big"), INT64_MIN, INT64_MAX, &v), ==, E_FORMAT);
	check_int(node_int64(node_map_get(r, "neg"), -10, 10, &v), ==, 0);
	check_int(v, ==, -5);
	/* a quoted number is a string: not an int, and node_str gives it */
	check_int(node_int64(node_map_get(r, "quoted"), 0, 100, &v), ==, E_FORMAT);
	check_str(node_str(node_map_get(r, "quoted")), "42");
	check(node_str(node_map_get(r, "port")) == NULL);
	check(node_str(node_map_get(r, "flag")) == NULL);
	check_int(node_bool(node_map_get(r, "flag"), &b), ==, 0);
	check_int(b, ==, 1);
	check_int(node_bool(node_map_get(r, "quoted"), &b), ==, E_FORMAT);
	/* the key "off" became "false"; its value is the bool false */
	check(node_map_get(r, "off") == NULL);
	check_int(node_bool(node_map_get(r, "false"), &b), ==, 0);
	check_int(b, ==, 0);
	check(node_is_null(node_map_get(r, "empty")));
	check(node_map_get(r, "empty") != NULL);
	check(node_is_null(node_map_get(r, "nope")));
	check_int(node_map_get(r, "list")->type, ==, NODE_SEQ);
	check_int(node_map_get(r, "list")->len, ==, 2);
	check_str(node_str(node_map_get(r, "list")->items[1]), "b");
	check_str(node_str(node_path(r, "meta.labels.app")), "web");
	check(node_path(r, "meta.labels.nope") == NULL);
	check(node_path(r, "name.x") == NULL);
	/* positions are 1-based, of the node itself */
	check_int(node_map_get(r, "list")->line, ==, 9);
	check_int(node_map_get(r, "list")->col, ==, 7);
	check_int(r->pairs[2].key->line, ==, 3);
	check_int(r->pairs[2].key->col, ==, 1);

	check_int(node_check_keys(d, r, allowed), ==, 0);
	tap_capture_begin();
	int rc = node_check_keys(d, r, fewer);
	const char *msg = tap_capture_end();

	check_int(rc, ==, E_FORMAT);
	check(strstr(msg, "cfg.yaml:3:1: unknown key \\\"big\\\"") != NULL);
	tap_capture_begin();
	rc = node_check_keys(d, node_map_get(r, "list"), fewer);
	msg = tap_capture_end();
	check_int(rc, ==, E_FORMAT);
	check(strstr(msg, "cfg.yaml:9:7: expected a map, found a sequence") != NULL);
	doc_free(d);
}

/* --- documents and streams ----------------------------------------------------- */

static void test_streams(void)
{
	struct doc *d;

	/* only comments: no documents */
	check_int(doc_load("t", "# nothing\n# here\n", 17, NULL, &d), ==, 0);
	check_int(doc_count(d), ==, 0);
	doc_free(d);
	check_int(doc_load("t", "", 0, NULL, &d), ==, 0);
	check_int(doc_count(d), ==, 0);
	doc_free(d);
	/* empty documents are null roots */
	check_int(doc_load("t", "---\n---\n# c\n---\na: 1\n...\n", 25, NULL, &d), ==, 0);
	check_int(doc_count(d), ==, 3);
	check_int(doc_root(d, 0)->type, ==, NODE_NULL);
	check_int(doc_root(d, 1)->type, ==, NODE_NULL);
	check_int(doc_root(d, 2)->type, ==, NODE_MAP);
	check(doc_root(d, 3) == NULL);
	check_int(doc_root(d, 2)->line, ==, 5);
	doc_free(d);
	/* anchors alone are fine */
	check_int(doc_load("t", "a: &x 1\nb: &y {c: 2}\n", 21, NULL, &d), ==, 0);
	doc_free(d);
}

/* API replies are JSON: compact, \u escapes, nested, long strings. */
static void test_json_input(void)
{
	struct buf in = BUF_INIT(1 << 20), out = BUF_INIT(1 << 20);
	struct node *r, *conds;
	struct doc *d;
	int64_t v;

	buf_addstr(&in,
		"{\"kind\":\"Deployment\",\"apiVersion\":\"apps/v1\","
		"\"metadata\":{\"name\":\"web\",\"namespace\":\"shop\","
		"\"uid\":\"1f0c3a52-8d3e-4d7c-9a4b-2b7f0f7c9e11\","
		"\"resourceVersion\":\"123456\",\"generation\":4,"
		"\"creationTimestamp\":\"2024-05-01T10:00:00Z\","
		"\"labels\":{\"app.kubernetes.io/name\":\"web\"},"
		"\"annotations\":{\"deployment.kubernetes.io/revision\":\"3\","
		"\"note\":\"\\u003cb\\u003e \\u0026 caf\\u00e9 \\\"q\\\" \\\\ \\/ tab\\there\","
		"\"big\":\"");
	for (int i = 0; i < 20000; i++)
		buf_addch(&in, (char)('a' + i % 26));
	buf_addstr(&in, "\"},"
		"\"managedFields\":[{\"manager\":\"outpost\",\"operation\":\"Apply\","
		"\"fieldsV1\":{\"f:spec\":{\"f:replicas\":{}}}}]},"
		"\"spec\":{\"replicas\":3,\"paused\":false,\"progressDeadlineSeconds\":600,"
		"\"template\":{\"spec\":{\"containers\":[{\"name\":\"web\","
		"\"image\":\"nginx:1.25\",\"resources\":{\"limits\":{\"cpu\":\"500m\"}},"
		"\"args\":[],\"env\":null}]}}},"
		"\"status\":{\"observedGeneration\":4,\"replicas\":3,\"updatedReplicas\":3,"
		"\"readyReplicas\":3,\"availableReplicas\":3,\"ratio\":0.75,"
		"\"conditions\":[{\"type\":\"Available\",\"status\":\"True\","
		"\"lastUpdateTime\":\"2024-05-01T10:01:00Z\",\"reason\":\"MinimumReplicasAvailable\","
		"\"message\":\"Deployment has minimum availability.\"},"
		"{\"type\":\"Progressing\",\"status\":\"True\",\"reason\":\"NewReplicaSetAvailable\","
		"\"message\":\"ReplicaSet \\\"web-5d4f\\\" has successfully progressed.\"}]}}");

	check_int(doc_load("reply", in.data, in.len, NULL, &d), ==, 0);
	r = doc_root(d, 0);
	check_str(node_str(node_map_get(r, "kind")), "Deployment");
	check_int(node_int64(node_path(r, "status.readyReplicas"), 0, 1000, &v), ==, 0);
	check_int(v, ==, 3);
	check_int(node_int64(node_path(r, "metadata.generation"), 0, INT64_MAX, &v), ==, 0);
	check_int(v, ==, 4);
	check_str(node_str(node_path(r, "metadata.annotations.note")),
		  "<b> & caf\xc3\xa9 \"q\" \\ / tab\there");
	check_int(node_path(r, "metadata.annotations.big")->len, ==, 20000);
	conds = node_path(r, "status.conditions");
	check(conds && conds->type == NODE_SEQ && conds->len == 2);
	if (conds && conds->len == 2)
		check_str(node_str(node_map_get(conds->items[1], "message")),
			  "ReplicaSet \"web-5d4f\" has successfully progressed.");
	/* labels key with dots and slash: only reachable through node_map_get */
	check_str(node_str(node_map_get(node_path(r, "metadata.labels"),
					"app.kubernetes.io/name")), "web");
	check(node_is_null(node_path(r, "spec.template.spec.containers")->items[0]->pairs[4].value));
	/* JSON → tree → JSON keeps every value and type */
	check_int(doc_to_json(r, &out), ==, 0);
	check(strstr(out.data, "\"replicas\":3,\"paused\":false,\"progressDeadlineSeconds\":600") != NULL);
	check(strstr(out.data, "\"ratio\":0.75,") != NULL);
	check(strstr(out.data, "\"args\":[],\"env\":null}") != NULL);
	check(strstr(out.data, "\"f:spec\":{\"f:replicas\":{}}") != NULL);
	check(strstr(out.data, "\"note\":\"<b> & caf\xc3\xa9 \\\"q\\\" \\\\ / tab\\there\"") != NULL);
	/* and the output reads back to the same output */
	{
		struct doc *d2;
		struct buf again = BUF_INIT(1 << 20);

		check_int(doc_load("again", out.data, out.len, NULL, &d2), ==, 0);
		check_int(doc_to_json(doc_root(d2, 0), &again), ==, 0);
		check_str(again.data, out.data);
		buf_free(&again);
		doc_free(d2);
	}
	doc_free(d);
	buf_free(&in);
	buf_free(&out);
}

/* --- refusals ----------------------------------------------------------------- */

static void test_syntax_errors(void)
{
	expect_refusal("unclosed flow", "a: [1, 2\nb: 3\n", 14, NULL, E_FORMAT,
		       "t.yaml:2:2: did not find expected ',' or ']' (while parsing a flow sequence at 1:4)");
	expect_refusal("bad indent", "a:\n  b: 1\n c: 2\n", 16, NULL, E_FORMAT,
		       "t.yaml:3:2: did not find expected key");
	expect_refusal("tab", "a:\n\tb: 1\n", 9, NULL, E_FORMAT,
		       "t.yaml:2:1: found character that cannot start any token");
	expect_refusal("unterminated quote", "a: \"xyz\n", 8, NULL, E_FORMAT,
		       "t.yaml:2:1: found unexpected end of stream");
	expect_refusal("control char", "a: b\x01\n", 6, NULL, E_FORMAT,
		       "control characters are not allowed");
}

static void test_alias_bomb(void)
{
	static const char bomb[] =
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	unsigned long allocs = mem_allocations();
	double t = now_ms();

	expect_refusal("billion laughs", bomb, sizeof(bomb) - 1, NULL, E_FORMAT,
		       "t.yaml:2:8: aliases (*a) are not supported");
	tap_diag("alias bomb refused in %.2f ms, %lu allocations",
		 now_ms() - t, mem_allocations() - allocs);
	check_int(mem_allocations() - allocs, <, 10);
	expect_refusal("one alias", "a: &x 1\nb: *x\n", 14, NULL, E_FORMAT,
		       "t.yaml:2:4: aliases (*x) are not supported");
}

static char *repeat(const char *head, size_t n, const char *tail_unit, size_t m,
		    size_t *len)
{
	size_t hl = strlen(head), tl = strlen(tail_unit);
	char *s = malloc(n * hl + m * tl + 1), *p = s;

	for (size_t i = 0; i < n; i++, p += hl)
		memcpy(p, head, hl);
	for (size_t i = 0; i < m; i++, p += tl)
		memcpy(p, tail_unit, tl);
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

static void test_depth(void)
{
	struct doc_limits lim = doc_limits_default;
	struct doc *d;
	size_t len;
	char *s;

	s = repeat("[", 10000, "]", 10000, &len);
	expect_refusal("flow [ 10000", s, len, NULL, E_LIMIT,
		       "t.yaml:1:101: nested deeper than 100 levels");
	free(s);
	s = repeat("{a: ", 10000, "}", 10000, &len);
	expect_refusal("flow { 10000", s, len, NULL, E_LIMIT,
		       "nested deeper than 100 levels");
	free(s);
	/* 100,000 unclosed '[' : refused at depth, libyaml never recurses */
	s = repeat("[", 100000, "", 0, &len);
	double t = now_ms();

	expect_refusal("flow [ 100000", s, len, NULL, E_LIMIT,
		       "nested deeper than 100 levels");
	tap_diag("100,000 '[' refused in %.2f ms", now_ms() - t);
	free(s);
	/* block sequences, 10,000 deep on one line: "- - - ... x" */
	s = repeat("- ", 10000, "x", 1, &len);
	expect_refusal("block seq 10000", s, len, NULL, E_LIMIT,
		       "t.yaml:1:201: nested deeper than 100 levels");
	free(s);
	/* block maps, 10,000 deep: indentation grows to 50 MB of input */
	{
		struct buf b = BUF_INIT(64u << 20);
		int rc = 0;

		for (int i = 0; i < 10000 && !rc; i++) {
			rc = buf_grow(&b, (size_t)i + 3);
			memset(b.data + b.len, ' ', (size_t)i);
			b.len += (size_t)i;
			rc = rc ? rc : buf_addstr(&b, "a:\n");
		}
		check_int(rc, ==, 0);
		lim.max_bytes = 64u << 20;
		t = now_ms();
		expect_refusal("block map 10000", b.data, b.len, &lim, E_LIMIT,
			       "t.yaml:101:101: nested deeper than 100 levels");
		tap_diag("10,000-deep block map (%zu bytes) refused in %.2f ms",
			 b.len, now_ms() - t);
		buf_free(&b);
	}
	/* exactly at the limit loads */
	lim = doc_limits_default;
	lim.max_depth = 5;
	check_int(doc_load("t", "[[[[[1]]]]]", 11, &lim, &d), ==, 0);
	doc_free(d);
	expect_refusal("depth 6", "[[[[[[1]]]]]]", 13, &lim, E_LIMIT,
		       "t.yaml:1:6: nested deeper than 5 levels");
	/* a limit above DOC_DEPTH_MAX is capped */
	lim.max_depth = 1u << 30;
	s = repeat("[", 100000, "", 0, &len);
	expect_refusal("capped depth", s, len, &lim, E_LIMIT,
		       "nested deeper than 1000 levels");
	free(s);
}

static void test_limits(void)
{
	struct doc_limits lim = doc_limits_default;
	struct doc *d;
	struct buf b = BUF_INIT(1 << 20);
	size_t len;
	char *s;

	/* documents */
	lim.max_docs = 100;
	for (int i = 0; i < 100; i++)
		buf_addf(&b, "---\na: %d\n", i);
	check_int(doc_load("t", b.data, b.len, &lim, &d), ==, 0);
	check_int(doc_count(d), ==, 100);
	doc_free(d);
	buf_addstr(&b, "---\na: 100\n");
	expect_refusal("docs", b.data, b.len, &lim, E_LIMIT,
		       "t.yaml:201:1: more than 100 documents");

	/* nodes: a map (1) with 4 pairs (8) is 9 nodes */
	lim = doc_limits_default;
	lim.max_nodes = 9;
	check_int(doc_load("t", "{a: 1, b: 2, c: 3, d: 4}", 24, &lim, &d), ==, 0);
	doc_free(d);
	expect_refusal("nodes", "{a: 1, b: 2, c: 3, d: 4, e: 5}", 30, &lim, E_LIMIT,
		       "t.yaml:1:26: more than 9 nodes");
	lim.max_nodes = 100000;
	buf_reset(&b);
	buf_addstr(&b, "[");
	for (int i = 0; i < 100000; i++)
		buf_addstr(&b, "1,");
	buf_addstr(&b, "1]");
	expect_refusal("nodes 100000", b.data, b.len, &lim, E_LIMIT,
		       "more than 100000 nodes");

	/* scalar length */
	lim = doc_limits_default;
	lim.max_scalar = 10;
	check_int(doc_load("t", "a: '0123456789'", 15, &lim, &d), ==, 0);
	doc_free(d);
	expect_refusal("scalar", "a: '0123456789X'", 16, &lim, E_LIMIT,
		       "t.yaml:1:4: scalar of 11 bytes, more than 10");

	/* a 100 MB single line */
	s = repeat("v: ", 1, "x", 100u << 20, &len);
	double t = now_ms();

	expect_refusal("100MB, byte limit", s, len, NULL, E_LIMIT,
		       "t.yaml: 104857603 bytes, more than the limit of 16777216");
	tap_diag("100 MB line refused by the byte limit in %.3f ms", now_ms() - t);
	lim = doc_limits_default;
	lim.max_bytes = 128u << 20;
	lim.max_scalar = 1u << 20;
	t = now_ms();
	expect_refusal("100MB, scalar limit", s, len, &lim, E_LIMIT,
		       "t.yaml:1:4: scalar of 104857600 bytes, more than 1048576");
	tap_diag("100 MB line refused by the scalar limit in %.0f ms "
		 "(libyaml scans the scalar first)", now_ms() - t);
	free(s);
	buf_free(&b);
}

/* Every prefix of a valid stream loads or fails cleanly (ASan: no leak). */
static void test_prefixes(void)
{
	static const char yaml[] =
		"# app\n"
		"apiVersion: v1\n"
		"kind: ConfigMap\n"
		"metadata: {name: cfg, labels: {a: \"1\"}}\n"
		"data:\n"
		"  script: |\n"
		"    echo \"hi\"\n"
		"  list: [1, 'two', {x: y}]\n"
		"  folded: >-\n"
		"    a\n"
		"    b\n"
		"---\n"
		"- &n 1\n"
		"- ? k\n"
		"  : v\n"
		"- \"esc \\u00e9\\n\"\n"
		"...\n";
	size_t n = sizeof(yaml) - 1;
	int loaded = 0, failed = 0, other = 0;

	for (size_t i = 0; i <= n; i++) {
		char *p = malloc(i ? i : 1);   /* exact size: ASan sees overreads */
		struct doc *d;
		int rc;

		memcpy(p, yaml, i);
		tap_capture_begin();
		rc = doc_load("t", p, i, NULL, &d);
		tap_capture_end();
		if (rc == 0) {
			struct buf b = BUF_INIT(1 << 16);

			loaded++;
			for (size_t k = 0; k < doc_count(d); k++)
				if (doc_to_json(doc_root(d, k), &b))
					other++;
			buf_free(&b);
			doc_free(d);
		} else if (rc == E_FORMAT) {
			failed++;
		} else {
			other++;
		}
		free(p);
	}
	check_int(other, ==, 0);
	check(loaded > 0 && failed > 0);
	tap_diag("prefixes: %d loaded, %d refused", loaded, failed);
}

/* Every allocation failure gives E_NOMEM, no leak, no crash. */
/* --- the JSON reader ----------------------------------------------------------- */

/*
 * Both loaders on one JSON text: the same outcome, and on success the same
 * tree (its JSON output, every value typed alike). Returns the rc.
 */
static int same_both_ways(const char *what, const char *data, size_t len)
{
	struct buf a = BUF_INIT(8 << 20), b = BUF_INIT(8 << 20);
	struct doc *dy = NULL, *dj = NULL;
	int ry, rj;

	tap_capture_begin();
	ry = doc_load("y", data, len, NULL, &dy);
	rj = doc_load_json("j", data, len, NULL, &dj);
	if (!ry)
		ry = doc_to_json(doc_root(dy, 0), &a);
	if (!rj)
		rj = doc_to_json(doc_root(dj, 0), &b);
	tap_capture_end();
	if (!check_int(rj, ==, ry) || !check(a.len == b.len && (!a.len || memcmp(a.data, b.data, a.len) == 0)))
		tap_diag("%s: yaml %d \"%.200s\", json %d \"%.200s\"", what, ry,
			 a.data ? a.data : "", rj, b.data ? b.data : "");
	doc_free(dy);
	doc_free(dj);
	buf_free(&a);
	buf_free(&b);
	return rj;
}

static void test_json_reader_same(void)
{
	static const char *const texts[] = {
		"{}", "[]", "\"x\"", "0", "-0", "12", "-7", "1.5", "-0.25e+3", "1E-3", "6.02e23",
		"9223372036854775807", "-9223372036854775808", "18446744073709551615",
		"123456789012345678901234567890", "true", "false", "null",
		" \n { \"a\" : [ 1 , 2.0 , \"3\" , true , null , { } , [ ] ] }\r\n",
		"{\"s\":\"true\",\"n\":\"1\",\"z\":\"null\",\"e\":\"\",\"o\":\"0x10\",\"y\":\"yes\"}",
		"\"\\u00e9\"", "\"\\/\"", "\"\\b\"", "\"\\f\"", "\"\\\"\\\\\\n\\r\\t\"",
		"{\"nul\":\"a\\u0000b\",\"raw\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
		"{\"on\":1,\"yes\":2,\"1\":3,\"0x10\":4,\"~\":5,\"\":6}",
		"[[[[[[[[[[1]]]]]]]]]]",
		"{\"a\":1,\"a\":2}",
		"{\"k\":{\"x\":1,\"y\":2,\"x\":3}}", "{\"a\":1e999}", "[1e400,-1e400]",
	};
	struct buf big = BUF_INIT(8 << 20);

	/* JSON that libyaml refuses as YAML: a tab before a token, a surrogate
	 * pair (YAML writes \U0001F600); the JSON reader follows RFC 8259 */
	static const char *const json_only[][2] = {
		{ "\t{\"a\":\t1}", "{\"a\":1}" },
		{ "[\"\\ud83d\\ude00\\uD834\\uDD1E\"]", "[\"\xf0\x9f\x98\x80\xf0\x9d\x84\x9e\"]" },
	};
	struct doc *d;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		same_both_ways(texts[i], texts[i], strlen(texts[i]));
	for (size_t i = 0; i < sizeof(json_only) / sizeof(json_only[0]); i++) {
		check_int(doc_load_json("j", json_only[i][0], strlen(json_only[i][0]), NULL, &d), ==, 0);
		buf_reset(&big);
		check_int(doc_to_json(doc_root(d, 0), &big), ==, 0);
		check_str(big.data, json_only[i][1]);
		doc_free(d);
	}
	/* a big map (duplicates found by sorting) and a long string */
	buf_reset(&big);
	buf_addch(&big, '{');
	for (int i = 0; i < 3000; i++)
		buf_addf(&big, "%s\"key-%d\":[%d,\"v%d\",%d.5]", i ? "," : "", i, i, i, i);
	buf_addstr(&big, ",\"long\":\"");
	for (int i = 0; i < 100000; i++)
		buf_addch(&big, (char)('a' + i % 26));
	buf_addstr(&big, "\"}");
	check_int(same_both_ways("big", big.data, big.len), ==, 0);
	buf_reset(&big);
	buf_addstr(&big, "{\"key-1\":1");
	for (int i = 2; i < 40; i++)
		buf_addf(&big, ",\"key-%d\":%d", i, i);
	buf_addstr(&big, ",\"key-7\":0}");
	check_int(same_both_ways("duplicate in a big map", big.data, big.len), ==, E_FORMAT);
	buf_free(&big);
}

/* Every JSON document of the Kubernetes fixtures (../shared, from the
 * project root, where tests run): read alike by both loaders. */
static void test_json_reader_fixtures(void)
{
	const char *const dirs[] = { "observed-1.32", "discovery", "errors" };
	int files = 0;

	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++) {
		char dir[512];
		struct dirent *e;
		DIR *dp;

		snprintf(dir, sizeof(dir), "%s/kubernetes/%s", tap_fixtures(), dirs[k]);
		if (!check((dp = opendir(dir)) != NULL)) {
			tap_diag("cannot read %s (the fixtures live in ../shared)", dir);
			continue;
		}
		while ((e = readdir(dp))) {
			char path[1024], chunk[8192];
			struct buf b = BUF_INIT(32 << 20);
			size_t n = strlen(e->d_name);
			FILE *f;

			if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			if (!check((f = fopen(path, "r")) != NULL))
				continue;
			while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
				check_int(buf_add(&b, chunk, n), ==, 0);
			fclose(f);
			check_int(same_both_ways(path, b.data, b.len), ==, 0);
			files++;
			buf_free(&b);
		}
		closedir(dp);
	}
	check(files >= 45);
	tap_diag("%d fixture documents read alike by both loaders", files);
}

static void expect_json_refusal(const char *data, int want_rc, const char *want_msg)
{
	struct doc *d = (struct doc *)1;
	const char *msg;
	int rc;

	tap_capture_begin();
	rc = doc_load_json("r", data, strlen(data), NULL, &d);
	msg = tap_capture_end();
	if (!check_int(rc, ==, want_rc) || !check(strstr(msg, want_msg) != NULL))
		tap_diag("%.60s: got \"%s\"", data, msg);
	check(d == NULL);
}

static void test_json_reader_refusals(void)
{
	struct doc_limits lim = doc_limits_default;
	struct doc *d;
	size_t len;
	char *s;

	expect_json_refusal("", E_FORMAT, "r:1:1: expected a JSON value at the end of the input");
	expect_json_refusal("  \n ", E_FORMAT, "r:2:2: expected a JSON value");
	expect_json_refusal("{} {}", E_FORMAT, "r:1:4: more after the JSON value at '{'");
	expect_json_refusal("404 page not found", E_FORMAT, "more after the JSON value");
	expect_json_refusal("[1,]", E_FORMAT, "r:1:4: expected a digit at ']'");
	expect_json_refusal("{\"a\":1,}", E_FORMAT, "r:1:8: expected a string key at '}'");
	expect_json_refusal("{\"a\" 1}", E_FORMAT, "expected ':' at '1'");
	expect_json_refusal("{1:2}", E_FORMAT, "expected a string key at '1'");
	expect_json_refusal("[1 2]", E_FORMAT, "expected ',' or ']' at '2'");
	expect_json_refusal("{\"a\":1 \"b\":2}", E_FORMAT, "r:1:8: expected ',' or '}'");
	expect_json_refusal("[1", E_FORMAT, "expected ',' or ']' at the end of the input");
	expect_json_refusal("01", E_FORMAT, "more after the JSON value at '1'");
	expect_json_refusal("1.", E_FORMAT, "expected a digit after '.'");
	expect_json_refusal(".5", E_FORMAT, "expected a digit at '.'");
	expect_json_refusal("+1", E_FORMAT, "expected a digit at '+'");
	expect_json_refusal("-", E_FORMAT, "expected a digit at the end");
	expect_json_refusal("1e", E_FORMAT, "expected a digit in the exponent");
	expect_json_refusal("tru", E_FORMAT, "expected a JSON value at 't'");
	expect_json_refusal("nul1", E_FORMAT, "expected a JSON value");
	expect_json_refusal("@", E_FORMAT, "expected a digit at '@'");
	expect_json_refusal("\"abc", E_FORMAT, "unterminated string");
	expect_json_refusal("\"a\\", E_FORMAT, "unterminated string");
	expect_json_refusal("\"a\tb\"", E_FORMAT, "r:1:3: a control character in a string");
	expect_json_refusal("\"\\x41\"", E_FORMAT, "an unknown escape in a string");
	expect_json_refusal("\"\\u12g4\"", E_FORMAT, "r:1:4: expected 4 hex digits after");
	expect_json_refusal("\"\\ud83d\"", E_FORMAT, "r:1:8: a high surrogate");
	expect_json_refusal("\"\\ud83d\\u0041\"", E_FORMAT, "without its low half");
	expect_json_refusal("\"\\ude00\"", E_FORMAT, "a lone low surrogate");
	expect_json_refusal("\"\xff\"", E_FORMAT, "invalid UTF-8 in a string");
	expect_json_refusal("\"\xed\xa0\x80\"", E_FORMAT, "invalid UTF-8 in a string");
	expect_json_refusal("{\"a\":{\"b\":1,\"b\":2}}", E_FORMAT,
			    "r:1:13: duplicate key");
	/* the limits: depth before nesting, nodes, scalars, bytes */
	s = repeat("[", 100000, "", 0, &len);
	expect_json_refusal(s, E_LIMIT, "r:1:101: nested deeper than 100 levels");
	free(s);
	tap_capture_begin();
	lim.max_nodes = 3;
	check_int(doc_load_json("r", "[1,2,3]", 7, &lim, &d), ==, E_LIMIT);
	lim = doc_limits_default;
	lim.max_scalar = 3;
	check_int(doc_load_json("r", "[\"abcd\"]", 8, &lim, &d), ==, E_LIMIT);
	check_int(doc_load_json("r", "[\"abc\"]", 7, &lim, &d), ==, 0);
	doc_free(d);
	lim = doc_limits_default;
	lim.max_bytes = 6;
	check_int(doc_load_json("r", "[\"abc\"]", 7, &lim, &d), ==, E_LIMIT);
	tap_capture_end();
}

/* Every allocation failing in turn, for both loaders: E_NOMEM, never a crash
 * or a leak, until the one run that has memory enough. */
static void test_alloc_failures(void)
{
	struct buf b = BUF_INIT(1 << 20), j = BUF_INIT(1 << 20);

	for (int i = 0; i < 40; i++)
		buf_addf(&b, "k%d: {v: [%d, x, 'y'], w: yes}\n", i, i);
	for (int i = 0; i < 40; i++)
		buf_addf(&j, "%s\"k%d\":{\"v\":[%d,\"x\\u00e9\",{}],\"w\":null}", i ? "," : "{", i, i);
	buf_addch(&j, '}');
	for (int json = 0; json < 2; json++) {
		const struct buf *in = json ? &j : &b;
		int failures = 0, ok = 0;

		for (unsigned long n = 1; n < 400; n++) {
			struct buf out = BUF_INIT(1 << 20);
			struct doc *d = NULL;
			int rc;

			tap_capture_begin();
			mem_fail_after(n);
			rc = (json ? doc_load_json : doc_load)("t", in->data, in->len, NULL, &d);
			if (!rc)
				rc = doc_map_set(d, doc_root(d, 0), "new", doc_new_map(d));
			if (!rc)
				rc = doc_to_json(doc_root(d, 0), &out);
			mem_fail_after(0);
			tap_capture_end();
			if (rc == 0)
				ok++;
			else if (rc == E_NOMEM)
				failures++;
			else
				check_int(rc, ==, E_NOMEM);
			doc_free(d);
			buf_free(&out);
			if (rc == 0)
				break;
		}
		check(failures > 0);
		check_int(ok, ==, 1);
		tap_diag("allocation failure walk (%s): %d failure points", json ? "JSON" : "YAML",
			 failures);
	}
	buf_free(&b);
	buf_free(&j);
}

static void test_edits(void)
{
	struct buf b = BUF_INIT(1 << 16);
	struct doc *d;
	struct node *r, *m;

	check_int(doc_load("t", "a: 1\nb: {}\n", 11, NULL, &d), ==, 0);
	r = doc_root(d, 0);
	check_int(doc_map_set(d, r, "a", doc_new_str(d, "true", 4)), ==, 0);
	m = doc_new_map(d);
	check_int(doc_map_set(d, m, "k", doc_new_str(d, "v", 1)), ==, 0);
	check_int(doc_map_set(d, r, "c", m), ==, 0);
	check_int(doc_map_set(d, node_map_get(r, "b"), "x", doc_new_str(d, "0x10", 4)), ==, 0);
	check_int(doc_map_set(d, doc_new_str(d, "s", 1), "x", m), ==, E_FORMAT);
	check_int(doc_to_json(r, &b), ==, 0);
	/* edited strings are never typed: "true" and "0x10" stay strings */
	check_str(b.data, "{\"a\":\"true\",\"b\":{\"x\":\"0x10\"},\"c\":{\"k\":\"v\"}}");
	check(doc_arena_bytes(d) > 0);
	check_str(doc_name(d), "t");
	doc_free(d);
	buf_free(&b);
}

/* The quoting of strings the program writes itself: escaped as JSON, and
 * bytes that are not UTF-8 replaced, not refused. */
static void test_json_quote(void)
{
	struct buf b = BUF_INIT(64);

	check_int(doc_json_quote(&b, "a\"b\\c\n\x01", 7), ==, 0);
	check_str(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_reset(&b);
	check_int(doc_json_quote(&b, "caf\xc3\xa9 \xff\xc3", 8), ==, 0);
	check_str(b.data, "\"caf\xc3\xa9 \\ufffd\\ufffd\"");
	buf_reset(&b);
	check_int(doc_json_quote(&b, "x\0y", 3), ==, 0);
	check_str(b.data, "\"x\\u0000y\"");
	buf_free(&b);
	b = (struct buf)BUF_INIT(4);
	check_int(doc_json_quote(&b, "abcdef", 6), ==, E_LIMIT);
	buf_free(&b);
}

int main(void)
{
	log_set_timestamps(0);
	test_json_quote();
	test_typing_table();
	test_typing_refusals();
	test_keys();
	test_escaping();
	test_getters();
	test_streams();
	test_json_input();
	test_syntax_errors();
	test_alias_bomb();
	test_depth();
	test_limits();
	test_prefixes();
	test_alloc_failures();
	test_json_reader_same();
	test_json_reader_fixtures();
	test_json_reader_refusals();
	test_edits();
	return tap_done();
}
