/* Unit tests: platform/manifest — manifests split into objects, labels, JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "doc.h"
#include "error.h"
#include "log.h"
#include "manifest.h"
#include "mem.h"
#include "tap.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static unsigned line_of(const char *text, const char *needle)
{
	const char *at = strstr(text, needle);
	unsigned line = 1;

	for (const char *p = text; at && p < at; p++)
		line += *p == '\n';
	return line;
}

static const char app[] =
	"# Source: shop/templates/namespace.yaml\n"
	"apiVersion: v1\n"
	"kind: Namespace\n"
	"metadata:\n"
	"  name: shop\n"
	"---\n"
	"# Source: shop/templates/disabled.yaml\n"
	"---\n"
	"apiVersion: v1\n"
	"kind: ConfigMap\n"
	"metadata:\n"
	"  name: web-config\n"
	"  namespace: shop\n"
	"  labels:\n"
	"    app.kubernetes.io/name: web\n"
	"data:\n"
	"  nginx.conf: |\n"
	"    server {\n"
	"      listen 8080;\n"
	"      location / { return 200 \"ok\\n\"; }\n"
	"    }\n"
	"  enabled: \"true\"\n"
	"  retries: \"3\"\n"
	"---\n"
	"\n"
	"---\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: web\n"
	"  namespace: shop\n"
	"  annotations:\n"
	"    description: >\n"
	"      Serves the shop\n"
	"      front end.\n"
	"spec:\n"
	"  replicas: 2\n"
	"  selector:\n"
	"    matchLabels: {app: web}\n"
	"  template:\n"
	"    metadata:\n"
	"      labels: {app: web}\n"
	"    spec:\n"
	"      containers:\n"
	"        - name: web\n"
	"          image: \"nginx:1.25\"\n"
	"          args: [--port, \"8080\", -v]\n"
	"          ports:\n"
	"            - containerPort: 8080\n"
	"              protocol: TCP\n"
	"          env:\n"
	"            - name: DEBUG\n"
	"              value: \"false\"\n"
	"            - name: RATIO\n"
	"              value: '0.5'\n"
	"          resources:\n"
	"            limits: {cpu: 500m, memory: 128Mi}\n"
	"          readinessProbe:\n"
	"            httpGet: {path: /healthz, port: 8080}\n"
	"            initialDelaySeconds: 5\n"
	"      nodeSelector:\n"
	"        kubernetes.io/os: linux\n"
	"      tolerations: []\n"
	"      securityContext: {}\n"
	"      terminationGracePeriodSeconds: 30\n"
	"...\n"
	"# trailing comment\n";

static const char *const app_json[] = {
	"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\"}}",

	"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"web-config\","
	"\"namespace\":\"shop\",\"labels\":{\"app.kubernetes.io/name\":\"web\"}},"
	"\"data\":{\"nginx.conf\":\"server {\\n  listen 8080;\\n  location / "
	"{ return 200 \\\"ok\\\\n\\\"; }\\n}\\n\",\"enabled\":\"true\",\"retries\":\"3\"}}",

	"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
	"\"namespace\":\"shop\",\"annotations\":{\"description\":\"Serves the shop front end.\\n\"}},"
	"\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
	"\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
	"[{\"name\":\"web\",\"image\":\"nginx:1.25\",\"args\":[\"--port\",\"8080\",\"-v\"],"
	"\"ports\":[{\"containerPort\":8080,\"protocol\":\"TCP\"}],"
	"\"env\":[{\"name\":\"DEBUG\",\"value\":\"false\"},{\"name\":\"RATIO\",\"value\":\"0.5\"}],"
	"\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"}},"
	"\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":8080},"
	"\"initialDelaySeconds\":5}}],\"nodeSelector\":{\"kubernetes.io/os\":\"linux\"},"
	"\"tolerations\":[],\"securityContext\":{},\"terminationGracePeriodSeconds\":30}}}}",
};

static void test_round_trip(void)
{
	struct buf b = BUF_INIT(1 << 20);
	struct manifest *m;

	check_int(manifest_load("shop.yaml", app, strlen(app), NULL, &m), ==, 0);
	check_int(doc_count(m->doc), ==, 5);    /* two of them empty */
	if (!check_int(m->n, ==, 3)) {
		manifest_free(m);
		return;
	}
	check_str(m->objs[0].kind, "Namespace");
	check_str(m->objs[0].api_version, "v1");
	check_str(m->objs[0].name, "shop");
	check(m->objs[0].namespace == NULL);
	check_int(m->objs[0].line, ==, 2);
	check_str(m->objs[0].file, "shop.yaml");
	check_str(m->objs[1].kind, "ConfigMap");
	check_str(m->objs[1].namespace, "shop");
	check_str(m->objs[1].name, "web-config");
	check_int(m->objs[1].line, ==, line_of(app, "apiVersion: v1\nkind: ConfigMap"));
	check_str(m->objs[2].api_version, "apps/v1");
	check_str(m->objs[2].kind, "Deployment");
	check_int(m->objs[2].line, ==, line_of(app, "apiVersion: apps/v1"));
	for (size_t i = 0; i < 3; i++) {
		buf_reset(&b);
		check_int(doc_to_json(m->objs[i].node, &b), ==, 0);
		check_str(b.data, app_json[i]);
	}

	/* stamp inventory labels and an annotation, then serialize again */
	for (size_t i = 0; i < m->n; i++) {
		check_int(manifest_set_label(m, &m->objs[i], "outpost.dev/app", "shop"), ==, 0);
		check_int(manifest_set_label(m, &m->objs[i], "app.kubernetes.io/name", "shop-web"), ==, 0);
		check_int(manifest_set_annotation(m, &m->objs[i], "outpost.dev/release", "7"), ==, 0);
	}
	buf_reset(&b);
	check_int(doc_to_json(m->objs[0].node, &b), ==, 0);
	check_str(b.data, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"shop\","
		  "\"labels\":{\"outpost.dev/app\":\"shop\",\"app.kubernetes.io/name\":\"shop-web\"},"
		  "\"annotations\":{\"outpost.dev/release\":\"7\"}}}");
	buf_reset(&b);
	check_int(doc_to_json(m->objs[1].node, &b), ==, 0);
	/* the existing label is overwritten in place, the new one appended */
	check(strstr(b.data, "\"labels\":{\"app.kubernetes.io/name\":\"shop-web\","
		     "\"outpost.dev/app\":\"shop\"},\"annotations\":{\"outpost.dev/release\":\"7\"}},"
		     "\"data\":") != NULL);
	buf_reset(&b);
	check_int(doc_to_json(m->objs[2].node, &b), ==, 0);
	check(strstr(b.data, "\"annotations\":{\"description\":\"Serves the shop front end.\\n\","
		     "\"outpost.dev/release\":\"7\"},\"labels\":{") != NULL);
	/* the pod template's labels are not the object's */
	check(strstr(b.data, "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}}") != NULL);
	buf_free(&b);
	manifest_free(m);
}

static void test_label_edge_cases(void)
{
	static const char y[] =
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels:\n"
		"---\n"
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: [x]\n";
	struct buf b = BUF_INIT(4096);
	struct manifest *m;

	check_int(manifest_load("l.yaml", y, strlen(y), NULL, &m), ==, 0);
	check_int(m->n, ==, 2);
	/* labels: (null) becomes a map */
	check_int(manifest_set_label(m, &m->objs[0], "k", "true"), ==, 0);
	check_int(doc_to_json(m->objs[0].node, &b), ==, 0);
	check_str(b.data, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
		  "{\"name\":\"a\",\"labels\":{\"k\":\"true\"}}}");
	tap_capture_begin();
	int rc = manifest_set_label(m, &m->objs[1], "k", "v");
	const char *msg = tap_capture_end();

	check_int(rc, ==, E_FORMAT);
	check(strstr(msg, "l.yaml:11:11: metadata.labels is a sequence, not a map") != NULL);
	buf_free(&b);
	manifest_free(m);
}

static void test_lists(void)
{
	static const char y[] =
		"apiVersion: v1\n"
		"kind: List\n"
		"items:\n"
		"- apiVersion: v1\n"
		"  kind: ConfigMap\n"
		"  metadata: {name: a}\n"
		"- apiVersion: v1\n"
		"  kind: Secret\n"
		"  metadata: {name: b, namespace: x}\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: List\n"
		"items: null\n"
		"---\n"
		"apiVersion: v1\n"
		"kind: ConfigMapList\n"
		"metadata: {resourceVersion: \"\"}\n"
		"items: [{apiVersion: v1, kind: ConfigMap, metadata: {name: c}}]\n";
	struct manifest *m;

	check_int(manifest_load("list.yaml", y, strlen(y), NULL, &m), ==, 0);
	if (check_int(m->n, ==, 3)) {
		check_str(m->objs[0].name, "a");
		check_int(m->objs[0].line, ==, 4);
		check_str(m->objs[1].kind, "Secret");
		check_str(m->objs[1].namespace, "x");
		check_int(m->objs[1].line, ==, 7);
		check_str(m->objs[2].name, "c");
		check_int(m->objs[2].line, ==, 18);
	}
	manifest_free(m);
}

static void expect_error(const char *what, const char *yaml, int want_rc,
			 const char *want_msg)
{
	struct manifest *m = (struct manifest *)1;
	const char *msg;
	int rc;

	tap_capture_begin();
	rc = manifest_load("m.yaml", yaml, strlen(yaml), NULL, &m);
	msg = tap_capture_end();
	if (!check_int(rc, ==, want_rc) || !check(strstr(msg, want_msg) != NULL))
		tap_diag("%s: got \"%s\"", what, msg);
	check(m == NULL);
}

static void test_errors(void)
{
	char long_name[400];

	expect_error("no kind", "apiVersion: v1\nmetadata: {name: x}\n", E_FORMAT,
		     "m.yaml:1:1: no kind");
	expect_error("no apiVersion", "---\nkind: ConfigMap\nmetadata: {name: x}\n",
		     E_FORMAT, "m.yaml:2:1: no apiVersion");
	expect_error("no metadata", "apiVersion: v1\nkind: ConfigMap\n", E_FORMAT,
		     "m.yaml:1:1: metadata.name missing");
	expect_error("no name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n",
		     E_FORMAT, "m.yaml:1:1: metadata.name missing");
	expect_error("generateName", "apiVersion: v1\nkind: Pod\nmetadata: {generateName: x-}\n",
		     E_FORMAT, "metadata.name missing");
	expect_error("int name", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 42\n",
		     E_FORMAT, "m.yaml:4:9: name is not a non-empty string");
	expect_error("empty name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ''}\n",
		     E_FORMAT, "m.yaml:3:18: name is not a non-empty string");
	expect_error("null kind", "apiVersion: v1\nkind:\nmetadata: {name: a}\n",
		     E_FORMAT, "m.yaml:2:6: kind is not a non-empty string");
	expect_error("bool kind", "apiVersion: v1\nkind: yes\nmetadata: {name: a}\n",
		     E_FORMAT, "m.yaml:2:7: kind is not a non-empty string");
	expect_error("metadata list", "apiVersion: v1\nkind: A\nmetadata: [a]\n",
		     E_FORMAT, "m.yaml:3:11: metadata is a sequence, not a map");
	expect_error("space", "apiVersion: v1\nkind: A\nmetadata: {name: 'a b'}\n",
		     E_FORMAT, "m.yaml:3:18: metadata.name \\\"a b\\\" holds a space, control or non-ASCII character");
	expect_error("tab", "apiVersion: v1\nkind: A\nmetadata: {name: \"a\\tb\"}\n",
		     E_FORMAT, "holds a space, control or non-ASCII character");
	expect_error("slash", "apiVersion: v1\nkind: A\nmetadata: {name: a/b}\n",
		     E_FORMAT, "metadata.name \\\"a/b\\\" holds '/' or '%'");
	expect_error("dotdot", "apiVersion: v1\nkind: A\nmetadata: {name: ..}\n",
		     E_FORMAT, "may not be");
	memset(long_name, 'a', 254);
	long_name[254] = '\0';
	{
		char y[600];

		snprintf(y, sizeof(y), "apiVersion: v1\nkind: A\nmetadata: {name: %s}\n", long_name);
		expect_error("254", y, E_FORMAT, "is longer than 253 characters");
		long_name[253] = '\0';
		snprintf(y, sizeof(y), "apiVersion: v1\nkind: A\nmetadata: {name: %s}\n", long_name);
		struct manifest *m;

		check_int(manifest_load("m", y, strlen(y), NULL, &m), ==, 0);
		manifest_free(m);
	}
	expect_error("namespace", "apiVersion: v1\nkind: A\nmetadata: {name: a, namespace: Shop}\n",
		     E_FORMAT, "m.yaml:3:32: metadata.namespace \\\"Shop\\\" is not a DNS-1123 label");
	expect_error("namespace -", "apiVersion: v1\nkind: A\nmetadata: {name: a, namespace: -x}\n",
		     E_FORMAT, "is not a DNS-1123 label");
	expect_error("sequence doc", "apiVersion: v1\nkind: A\nmetadata: {name: a}\n---\n- a\n- b\n",
		     E_FORMAT, "m.yaml:5:1: document is a sequence, not a map");
	expect_error("scalar doc", "just text\n", E_FORMAT,
		     "m.yaml:1:1: document is a scalar, not a map");
	expect_error("nested list",
		     "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n",
		     E_FORMAT, "m.yaml:4:3: a List inside a List");
	expect_error("list items map", "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
		     E_FORMAT, "m.yaml:3:8: List items is a map, not a sequence");
	expect_error("list item scalar", "apiVersion: v1\nkind: List\nitems: [x]\n",
		     E_FORMAT, "m.yaml:3:9: List item is a scalar, not a map");
	expect_error("dup key", "apiVersion: v1\nkind: A\nkind: B\nmetadata: {name: a}\n",
		     E_FORMAT, "m.yaml:3:1: duplicate key");
	expect_error("syntax", "apiVersion: v1\nkind: [A\n", E_FORMAT, "m.yaml:3:1: ");

	/* namespace "" and null mean: none */
	{
		static const char y[] =
			"apiVersion: v1\nkind: A\nmetadata: {name: a, namespace: ''}\n"
			"---\napiVersion: v1\nkind: A\nmetadata: {name: b, namespace: }\n";
		struct manifest *m;

		check_int(manifest_load("m", y, strlen(y), NULL, &m), ==, 0);
		check_int(m->n, ==, 2);
		check(m->objs[0].namespace == NULL);
		check(m->objs[1].namespace == NULL);
		manifest_free(m);
	}
	check(manifest_valid_label("a-1"));
	check(!manifest_valid_label("a_1"));
	check(!manifest_valid_label(""));
	check(!manifest_valid_label("a-"));
}

/* Every failing allocation: E_NOMEM or success, no leak (ASan), no crash. */
static void test_alloc_failures(void)
{
	int failures = 0, ok = 0;

	for (unsigned long n = 1; n < 500 && !ok; n++) {
		struct buf b = BUF_INIT(1 << 20);
		struct manifest *m = NULL;
		int rc;

		tap_capture_begin();
		mem_fail_after(n);
		rc = manifest_load("shop.yaml", app, strlen(app), NULL, &m);
		for (size_t i = 0; !rc && i < m->n; i++) {
			rc = manifest_set_label(m, &m->objs[i], "outpost.dev/app", "shop");
			if (!rc)
				rc = manifest_set_annotation(m, &m->objs[i], "outpost.dev/release", "7");
			if (!rc)
				rc = doc_to_json(m->objs[i].node, &b);
		}
		mem_fail_after(0);
		tap_capture_end();
		if (rc == 0)
			ok = 1;
		else if (rc == E_NOMEM)
			failures++;
		else
			check_int(rc, ==, E_NOMEM);
		manifest_free(m);
		buf_free(&b);
	}
	check(ok);
	check(failures > 3);
	tap_diag("allocation failure walk: %d failure points, then success", failures);
}

/* 1,000 Deployments: load + split + label + serialize (figures, no assertion on time). */
static void test_thousand_objects(void)
{
	struct buf in = BUF_INIT(64u << 20), out = BUF_INIT(64u << 20);
	const char *dep = strstr(app, "apiVersion: apps/v1");
	size_t deplen = strlen(dep) - strlen("...\n# trailing comment\n");
	struct manifest *m;
	double t0, t1, t2;
	int rc = 0;

	for (int i = 0; i < 1000; i++) {
		buf_addstr(&in, "---\n");
		/* rename: "name: web\n" → "name: web-<i>\n" */
		const char *nm = strstr(dep, "  name: web\n");

		buf_add(&in, dep, (size_t)(nm - dep));
		buf_addf(&in, "  name: web-%d\n", i);
		buf_add(&in, nm + 12, deplen - (size_t)(nm + 12 - dep));
	}
	t0 = now_ms();
	check_int(manifest_load("big.yaml", in.data, in.len, NULL, &m), ==, 0);
	t1 = now_ms();
	check_int(m->n, ==, 1000);
	for (size_t i = 0; i < m->n && !rc; i++) {
		rc = manifest_set_label(m, &m->objs[i], "outpost.dev/app", "shop");
		if (!rc)
			rc = doc_to_json(m->objs[i].node, &out);
		if (!rc)
			rc = buf_addch(&out, '\n');
	}
	t2 = now_ms();
	check_int(rc, ==, 0);
	check_str(m->objs[999].name, "web-999");
	tap_diag("1000 objects: %zu bytes YAML, arena %zu bytes (%.0f per object), "
		 "load+split %.1f ms, label+JSON %.1f ms, %zu bytes JSON",
		 in.len, doc_arena_bytes(m->doc), doc_arena_bytes(m->doc) / 1000.0,
		 t1 - t0, t2 - t1, out.len);
	manifest_free(m);
	buf_free(&in);
	buf_free(&out);
}

int main(void)
{
	log_set_timestamps(0);
	test_round_trip();
	test_label_edge_cases();
	test_lists();
	test_errors();
	test_alloc_failures();
	test_thousand_objects();
	return tap_done();
}
