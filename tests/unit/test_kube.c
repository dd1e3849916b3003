/* Unit tests: platform/kubeconfig and the offline parts of platform/kube
 * (paths, selectors, Status messages, the discovery cache) and http. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "http.h"
#include "kube.h"
#include "log.h"
#include "mem.h"
#include "tap.h"

static const char ca_pem[] = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n";
static const char key_pem[] = "-----BEGIN EC PRIVATE KEY-----\nMHckey\n-----END EC PRIVATE KEY-----\n";

static char dir[64];

static const char *b64(const char *s)
{
	static struct buf out[3];
	static int i;
	struct buf *b = &out[i++ % 3];

	buf_free(b);
	buf_init(b, 1 << 16);
	base64_encode(b, s, strlen(s));
	return b->data;
}

/* A kubeconfig as k3s writes it, with the parts tests change as arguments. */
static int parse_k3s(struct kube_config **out, const char *server, const char *cluster_extra,
		     const char *user_block, const char *current)
{
	struct buf b = BUF_INIT(1 << 16);
	int rc;

	buf_addf(&b, "apiVersion: v1\nclusters:\n- cluster:\n"
		 "    certificate-authority-data: %s\n    server: %s\n%s"
		 "  name: default\ncontexts:\n- context:\n    cluster: default\n"
		 "    user: default\n  name: default\n%s"
		 "kind: Config\npreferences: {}\nusers:\n- name: default\n  user:\n%s",
		 b64(ca_pem), server, cluster_extra, current, user_block);
	rc = kube_config_parse(out, "k3s.yaml", b.data, b.len);
	buf_free(&b);
	return rc;
}

static char *user_certs(void)
{
	static char s[2048];

	snprintf(s, sizeof(s), "    client-certificate-data: %s\n    client-key-data: %s\n",
		 b64(cert_pem), b64(key_pem));
	return s;
}

static void test_k3s_embedded(void)
{
	struct kube_config *c;

	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "", user_certs(),
			    "current-context: default\n"), ==, 0);
	if (!c)
		return;
	check_str(c->server, "https://127.0.0.1:6443");
	/* an IP address is reached by k3s's DNS SAN, pinned to the address */
	check_str(c->base, "https://kubernetes:6443");
	check_str(c->resolve, "kubernetes:6443:127.0.0.1");
	check_str(c->namespace, "default");
	check_mem(c->ca, c->ca_len, ca_pem, strlen(ca_pem));
	check_mem(c->cert, c->cert_len, cert_pem, strlen(cert_pem));
	check_mem(c->key, c->key_len, key_pem, strlen(key_pem));
	check(c->token == NULL);
	kube_config_free(c);
}

static void test_servers(void)
{
	struct kube_config *c;

	check_int(parse_k3s(&c, "https://my-cluster.local:8443/", "", user_certs(),
			    "current-context: default\n"), ==, 0);
	if (c) {
		check_str(c->base, "https://my-cluster.local:8443");
		check(c->resolve == NULL);
		kube_config_free(c);
	}
	check_int(parse_k3s(&c, "https://[::1]:6443", "", user_certs(),
			    "current-context: default\n"), ==, 0);
	if (c) {
		check_str(c->resolve, "kubernetes:6443:[::1]");
		kube_config_free(c);
	}
	check_int(parse_k3s(&c, "https://10.0.0.5", "    tls-server-name: localhost\n",
			    user_certs(), "current-context: default\n"), ==, 0);
	if (c) {
		check_str(c->base, "https://localhost:443");
		check_str(c->resolve, "localhost:443:10.0.0.5");
		kube_config_free(c);
	}
	check_int(parse_k3s(&c, "http://127.0.0.1:6443", "", user_certs(),
			    "current-context: default\n"), ==, E_CONFIG);
	check_int(parse_k3s(&c, "https://127.0.0.1:99999", "", user_certs(),
			    "current-context: default\n"), ==, E_CONFIG);
	check_int(parse_k3s(&c, "https://user@127.0.0.1:6443", "", user_certs(),
			    "current-context: default\n"), ==, E_CONFIG);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_files_and_token(void)
{
	struct kube_config *c;
	struct buf b = BUF_INIT(1 << 16);
	char path[256];

	write_file("ca.crt", ca_pem);
	write_file("client.crt", cert_pem);
	write_file("client.key", key_pem);
	write_file("token", "s3cr3t-token\n");
	/* relative names are relative to the kubeconfig's directory */
	buf_addf(&b, "apiVersion: v1\ncurrent-context: edge\n"
		 "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"
		 "    certificate-authority: ca.crt\n"
		 "contexts:\n- name: edge\n  context: {cluster: c, user: u, namespace: apps}\n"
		 "users:\n- name: u\n  user:\n    client-certificate: %s/client.crt\n"
		 "    client-key: client.key\n    tokenFile: token\n", dir);
	snprintf(path, sizeof(path), "%s/kubeconfig", dir);
	write_file("kubeconfig", b.data);
	check_int(kube_config_load(&c, path), ==, 0);
	if (c) {
		check_mem(c->ca, c->ca_len, ca_pem, strlen(ca_pem));
		check_mem(c->cert, c->cert_len, cert_pem, strlen(cert_pem));
		check_mem(c->key, c->key_len, key_pem, strlen(key_pem));
		check_str(c->token, "s3cr3t-token");
		check_str(c->namespace, "apps");
		check_str(c->context, "edge");
		kube_config_free(c);
	}
	buf_free(&b);

	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "", "    token: abc.def\n",
			    "current-context: default\n"), ==, 0);
	if (c) {
		check_str(c->token, "abc.def");
		check(c->cert == NULL && c->key == NULL);
		kube_config_free(c);
	}
	/* a missing referenced file names the key */
	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "",
			    "    client-certificate: /nonexistent/x.crt\n    client-key: x\n",
			    "current-context: default\n"), ==, E_CONFIG);
}

static void test_refusals(void)
{
	struct kube_config *c = (struct kube_config *)1;
	struct buf b = BUF_INIT(4096);

	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "", user_certs(), ""), ==, E_CONFIG);
	check(c == NULL);
	check_int(parse_k3s(&c, "https://127.0.0.1:6443",
			    "    insecure-skip-tls-verify: true\n", user_certs(),
			    "current-context: default\n"), ==, E_CONFIG);
	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "",
			    "    client-certificate-data: '!!!notbase64'\n",
			    "current-context: default\n"), ==, E_CONFIG);
	/* base64 of something that is not PEM */
	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "",
			    "    client-certificate-data: aGVsbG8=\n    client-key-data: aGVsbG8=\n",
			    "current-context: default\n"), ==, E_CONFIG);
	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "", user_certs(),
			    "current-context: nosuch\n"), ==, E_CONFIG);
	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "",
			    "    exec: {command: aws}\n", "current-context: default\n"), ==, E_CONFIG);
	/* a certificate without its key */
	buf_addf(&b, "    client-certificate-data: %s\n", b64(cert_pem));
	check_int(parse_k3s(&c, "https://127.0.0.1:6443", "", b.data,
			    "current-context: default\n"), ==, E_CONFIG);
	buf_free(&b);
	/* the context names a user the file does not have */
	static const char unknown_user[] =
		"current-context: a\nclusters:\n- name: c\n  cluster:\n"
		"    server: https://127.0.0.1:6443\n    certificate-authority-data: LS0tLS1CRUdJTiBYLS0tLS0K\n"
		"contexts:\n- name: a\n  context: {cluster: c, user: ghost}\nusers: []\n";
	check_int(kube_config_parse(&c, "kc", unknown_user, strlen(unknown_user)), ==, E_CONFIG);
	/* no CA at all: never connect unverified */
	static const char no_ca[] =
		"current-context: a\nclusters:\n- name: c\n  cluster:\n"
		"    server: https://127.0.0.1:6443\n"
		"contexts:\n- name: a\n  context: {cluster: c}\n";
	check_int(kube_config_parse(&c, "kc", no_ca, strlen(no_ca)), ==, E_CONFIG);
	check_int(kube_config_load(&c, "/nonexistent/kubeconfig"), ==, E_CONFIG);
}

/* Every allocation failure is a clean E_NOMEM (ASan finds leaks). */
static void test_alloc_failures(void)
{
	int nomem = 0, ok = 0;

	for (unsigned long n = 1; n < 200 && !ok; n++) {
		struct kube_config *c;
		int rc;

		mem_fail_after(n);
		rc = parse_k3s(&c, "https://127.0.0.1:6443", "", user_certs(),
			       "current-context: default\n");
		mem_fail_after(0);
		if (rc == 0) {
			ok = 1;
			kube_config_free(c);
		} else {
			nomem += rc == E_NOMEM || rc == E_CONFIG;
			check(c == NULL);
		}
	}
	check(ok);
	check_int(nomem, >, 5);
}

static void test_paths(void)
{
	struct kube_type cm = { "v1", "ConfigMap", "configmaps", 1 };
	struct kube_type ns = { "v1", "Namespace", "namespaces", 0 };
	struct kube_type dep = { "apps/v1", "Deployment", "deployments", 1 };
	struct kube_type crd = { "apiextensions.k8s.io/v1", "CustomResourceDefinition",
				 "customresourcedefinitions", 0 };
	struct buf b = BUF_INIT(4096);

	check_int(kube_path(&b, &cm, "default", "web"), ==, 0);
	check_str(b.data, "/api/v1/namespaces/default/configmaps/web");
	buf_reset(&b);
	check_int(kube_path(&b, &dep, "shop", "web"), ==, 0);
	check_str(b.data, "/apis/apps/v1/namespaces/shop/deployments/web");
	buf_reset(&b);
	/* cluster-scoped: a namespace is ignored */
	check_int(kube_path(&b, &ns, "default", "shop"), ==, 0);
	check_str(b.data, "/api/v1/namespaces/shop");
	buf_reset(&b);
	check_int(kube_path(&b, &crd, NULL, "widgets.example.com"), ==, 0);
	check_str(b.data, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
	buf_reset(&b);
	/* collections, in one namespace and in all */
	check_int(kube_path(&b, &dep, "shop", NULL), ==, 0);
	check_str(b.data, "/apis/apps/v1/namespaces/shop/deployments");
	buf_reset(&b);
	check_int(kube_path(&b, &dep, NULL, NULL), ==, 0);
	check_str(b.data, "/apis/apps/v1/deployments");
	buf_reset(&b);
	/* RBAC names hold ':' — escaped, not refused */
	struct kube_type cr = { "rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", 0 };
	check_int(kube_path(&b, &cr, NULL, "system:metrics"), ==, 0);
	check_str(b.data, "/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Ametrics");
	buf_reset(&b);
	/* names that would walk the URL are refused */
	check_int(kube_path(&b, &cm, "default", ".."), ==, E_FORMAT);
	check_int(kube_path(&b, &cm, "default", "a/b"), ==, E_FORMAT);
	check_int(kube_path(&b, &cm, "default", "a%2f"), ==, E_FORMAT);
	check_int(kube_path(&b, &cm, "default", "a?watch=1"), ==, E_FORMAT);
	check_int(kube_path(&b, &cm, "../kube-system", "x"), ==, E_FORMAT);
	check_int(kube_path(&b, &cm, "default", ""), ==, E_FORMAT);
	buf_free(&b);
}

static void test_selector_escape(void)
{
	struct buf b = BUF_INIT(4096);

	check_int(http_escape(&b, "environment=production,tier!=frontend"), ==, 0);
	check_str(b.data, "environment%3Dproduction%2Ctier%21%3Dfrontend");
	buf_reset(&b);
	check_int(http_escape(&b, "app in (a, b),!legacy"), ==, 0);
	check_str(b.data, "app%20in%20%28a%2C%20b%29%2C%21legacy");
	buf_reset(&b);
	check_int(http_escape(&b, "app.kubernetes.io/name=web_1~"), ==, 0);
	check_str(b.data, "app.kubernetes.io%2Fname%3Dweb_1~");
	buf_free(&b);
}

static void test_status_message(void)
{
	static const char invalid[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
		"\"message\":\"Deployment.apps \\\"web\\\" is invalid: spec.replicas: Invalid value: -1\","
		"\"reason\":\"Invalid\",\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":"
		"\"Deployment\",\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":"
		"\"Invalid value: -1\",\"field\":\"spec.replicas\"},{\"reason\":\"FieldValueRequired\","
		"\"message\":\"Required value\",\"field\":\"spec.selector\"}]},\"code\":422}";
	static const char conflict[] =
		"{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"Apply failed with 1 conflict\","
		"\"reason\":\"Conflict\",\"code\":409}";
	struct buf b = BUF_INIT(4096);

	check_int(kube_status_message(&b, 422, invalid, strlen(invalid)), ==, 0);
	/* code, reason, message; a cause already in the message is not repeated */
	check_str(b.data, "422 Invalid: Deployment.apps \"web\" is invalid: spec.replicas: "
		  "Invalid value: -1 (spec.selector: Required value [FieldValueRequired])");
	buf_reset(&b);
	check_int(kube_status_message(&b, 409, conflict, strlen(conflict)), ==, 0);
	check_str(b.data, "409 Conflict: Apply failed with 1 conflict");
	buf_reset(&b);
	/* not a Status: the HTTP code and a cleaned start of the body */
	check_int(kube_status_message(&b, 502, "<html>\r\nBad gateway</html>", 26), ==, 0);
	check_str(b.data, "502: <html>  Bad gateway</html>");
	buf_reset(&b);
	check_int(kube_status_message(&b, 503, "", 0), ==, 0);
	check_str(b.data, "503");
	buf_free(&b);
}

static struct kube *offline_client(void)
{
	struct kube_config *c;
	struct kube *k = NULL;

	/* port 1 on loopback: nothing listens, so a request fails at once */
	if (parse_k3s(&c, "https://127.0.0.1:1", "", user_certs(), "current-context: default\n"))
		return NULL;
	kube_open_config(&k, c, &(struct kube_opts){ .timeout_ms = 2000 });
	kube_config_free(c);
	return k;
}

static void test_discovery_cache(void)
{
	static const char blob[] =
		"{\"version\":1,\"types\":[[\"v1\",\"ConfigMap\",\"configmaps\",true],"
		"[\"apps/v1\",\"Deployment\",\"deployments\",true],"
		"[\"v1\",\"Namespace\",\"namespaces\",false],"
		"[\"helm.cattle.io/v1\",\"HelmChart\",\"helmcharts\",true]]}";
	struct kube *k = offline_client();
	const struct kube_type *t;
	struct buf out = BUF_INIT(1 << 16);

	check(k != NULL);
	if (!k)
		return;
	check_int(kube_discovery_import(k, blob, strlen(blob)), ==, 0);
	check_int(kube_type_count(k), ==, 4);
	/* a hit needs no server */
	check_int(kube_resolve(k, "apps/v1", "Deployment", &t), ==, 0);
	if (t) {
		check_str(t->resource, "deployments");
		check_int(t->namespaced, ==, 1);
	}
	check_int(kube_find_type(k, "helmchart", &t), ==, 0);
	check_int(kube_find_type(k, "deployments.apps", &t), ==, 0);
	check_int(kube_find_type(k, "NAMESPACE", &t), ==, 0);
	if (t)
		check_int(t->namespaced, ==, 0);
	check_int(kube_discovery_export(k, &out), ==, 0);
	check_str(out.data, blob);
	/* a miss on an imported cache re-discovers: the API is down here */
	check_int(kube_resolve(k, "example.com/v1", "Widget", &t), ==, E_UNAVAILABLE);
	/* so an apply is "unknown", never "refused" */
	{
		struct kube_object o = { .api_version = "v1", .kind = "ConfigMap",
					 .name = "x", .json = "{}", .json_len = 2 };
		struct kube_result r;

		check_int(kube_apply(k, &o, 0, &r), ==, E_UNAVAILABLE);
		check_int(r.status, ==, 0);
		check(r.message && strstr(r.message, "apply v1 ConfigMap default/x: API unreachable"));
		kube_result_free(&r);
	}
	{
		static const char v2[] = "{\"version\":2,\"types\":[]}";
		static const char bad[] = "{\"version\":1,\"types\":[[\"v1\",\"a/b\",\"x\",true]]}";

		check_int(kube_discovery_import(k, v2, strlen(v2)), ==, E_FORMAT);
		check_int(kube_discovery_import(k, bad, strlen(bad)), ==, E_FORMAT);
	}
	/* a failed import keeps the old cache */
	check_int(kube_type_count(k), ==, 4);
	buf_free(&out);
	kube_close(k);
}

/* --- discovery over the real server's documents -------------------------- */

/* a file of ../shared/fixtures/kubernetes, into out (made here) */
static int slurp(const char *name, struct buf *out)
{
	char path[512];

	buf_init(out, 1 << 20);
	snprintf(path, sizeof(path), "kubernetes/%s", name);
	return tap_fixture(path, 1 << 20, out);
}

/* An observed answer's body (response.body of the capture), as JSON. */
static int observed_body(const char *name, struct buf *body)
{
	struct buf raw;
	struct doc *d = NULL;
	int rc = slurp(name, &raw);

	if (!rc)
		rc = doc_load(name, raw.data, raw.len, NULL, &d);
	buf_init(body, 1 << 20);
	if (!rc)
		rc = doc_to_json(node_path(doc_root(d, 0), "response.body"), body);
	doc_free(d);
	buf_free(&raw);
	return rc;
}

static int resolves(struct kube *k, const char *av, const char *kind, const char *res, int ns)
{
	const struct kube_type *t;

	if (kube_resolve(k, av, kind, &t)) {
		tap_diag("%s %s: not found", av, kind);
		return 0;
	}
	if (strcmp(t->resource, res) || t->namespaced != ns) {
		tap_diag("%s %s: %s namespaced=%d", av, kind, t->resource, t->namespaced);
		return 0;
	}
	return 1;
}

/* The built-in kinds a release uses, with their scope; the core ones first. */
static const struct kube_type builtin[] = {
	{ "v1", "Namespace", "namespaces", 0 },
	{ "v1", "ConfigMap", "configmaps", 1 },
	{ "v1", "Secret", "secrets", 1 },
	{ "v1", "Service", "services", 1 },
	{ "v1", "ServiceAccount", "serviceaccounts", 1 },
	{ "v1", "PersistentVolumeClaim", "persistentvolumeclaims", 1 },
	{ "v1", "PersistentVolume", "persistentvolumes", 0 },
	{ "v1", "Node", "nodes", 0 },
	{ "v1", "Event", "events", 1 },
	{ "apps/v1", "Deployment", "deployments", 1 },
	{ "apps/v1", "StatefulSet", "statefulsets", 1 },
	{ "apps/v1", "DaemonSet", "daemonsets", 1 },
	{ "batch/v1", "Job", "jobs", 1 },
	{ "batch/v1", "CronJob", "cronjobs", 1 },
	{ "rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", 0 },
	{ "rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", 1 },
	{ "apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", 0 },
	{ "networking.k8s.io/v1", "Ingress", "ingresses", 1 },
};

static void check_builtin_kinds(struct kube *k, int with_groups)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		const struct kube_type *t = &builtin[i];

		if (with_groups || strcmp(t->api_version, "v1") == 0)
			check(resolves(k, t->api_version, t->kind, t->resource, t->namespaced));
	}
}

/* Every kind of a legacy APIResourceList (subresources aside) is in the
 * cache with the same resource and scope. */
static void check_same_as_legacy(struct kube *k, const char *file, const char *av)
{
	struct buf raw;
	struct doc *d = NULL;
	const struct node *res;
	size_t seen = 0, bad = 0;

	if (slurp(file, &raw) || doc_load(file, raw.data, raw.len, NULL, &d)) {
		check(0);
		buf_free(&raw);
		return;
	}
	res = node_map_get(doc_root(d, 0), "resources");
	for (size_t i = 0; res && i < res->len; i++) {
		const char *name = node_str(node_map_get(res->items[i], "name"));
		const char *kind = node_str(node_map_get(res->items[i], "kind"));
		int ns = 0;

		if (!name || !kind || strchr(name, '/'))
			continue;
		node_bool(node_map_get(res->items[i], "namespaced"), &ns);
		seen++;
		bad += !resolves(k, av, kind, name, ns);
	}
	tap_diag("%s: %zu kinds", file, seen);
	check(seen > 0);
	check_int(bad, ==, 0);
	doc_free(d);
	buf_free(&raw);
}

static void test_discovery_documents(void)
{
	struct kube *k = offline_client();
	struct buf core, groups, v1, apps, batch, legacy_apis;

	check(k != NULL);
	if (!k)
		return;
	/* what kube-apiserver v1.32.13 sent for /api: the core group's item
	 * has no name at all; and the upstream /apis document */
	check_int(observed_body("observed-1.32/discovery_api_aggregated_v2.json", &core), ==, 0);
	check_int(slurp("discovery/aggregated_v2.json", &groups), ==, 0);
	{
		struct kube_discovery_doc docs[] = {
			{ "/api", 1, core.data, core.len },
			{ "/apis", 1, groups.data, groups.len },
		};

		check_int(kube_discovery_load(k, docs, 2), ==, 0);
		check_builtin_kinds(k, 1);
		check_same_as_legacy(k, "discovery/api__v1.json", "v1");
		check_same_as_legacy(k, "discovery/apis__apps__v1.json", "apps/v1");
		check_same_as_legacy(k, "discovery/apis__batch__v1.json", "batch/v1");
		check_same_as_legacy(k, "discovery/apis__rbac.authorization.k8s.io__v1.json",
				     "rbac.authorization.k8s.io/v1");
	}
	{
		/* the older shape: every item names itself, the core one
		 * writes only creationTimestamp: null */
		struct buf beta;
		struct kube_discovery_doc docs[] = { { "/apis", 1, NULL, 0 } };

		check_int(slurp("discovery/aggregated_v2beta1.json", &beta), ==, 0);
		docs[0].body = beta.data;
		docs[0].len = beta.len;
		check_int(kube_discovery_load(k, docs, 1), ==, 0);
		check(resolves(k, "apps/v1", "Deployment", "deployments", 1));
		/* no core group under /apis */
		check(!resolves(k, "v1", "Namespace", "namespaces", 0));
		buf_free(&beta);
	}
	/* the legacy walk over the same server's documents */
	check_int(observed_body("observed-1.32/discovery_api_v1_legacy.json", &v1), ==, 0);
	check_int(slurp("discovery/apis__apps__v1.json", &apps), ==, 0);
	check_int(slurp("discovery/apis__batch__v1.json", &batch), ==, 0);
	check_int(slurp("discovery/apis.json", &legacy_apis), ==, 0);
	{
		struct kube_discovery_doc docs[] = {
			{ "/apis", 0, legacy_apis.data, legacy_apis.len },
			{ "/api/v1", 0, v1.data, v1.len },
			{ "/apis/apps/v1", 0, apps.data, apps.len },
			{ "/apis/batch/v1", 0, batch.data, batch.len },
		};

		check_int(kube_discovery_load(k, docs, 4), ==, 0);
		check_builtin_kinds(k, 0);
		check(resolves(k, "apps/v1", "Deployment", "deployments", 1));
		check(resolves(k, "batch/v1", "Job", "jobs", 1));
		check_same_as_legacy(k, "discovery/api__v1.json", "v1");
	}
	/* a broken document keeps the cache there was */
	{
		static const char junk[] = "{\"items\": 3}";
		struct kube_discovery_doc docs[] = { { "/api", 1, junk, sizeof(junk) - 1 } };

		check_int(kube_discovery_load(k, docs, 1), ==, E_FORMAT);
		check(resolves(k, "batch/v1", "Job", "jobs", 1));
	}
	buf_free(&core);
	buf_free(&groups);
	buf_free(&v1);
	buf_free(&apps);
	buf_free(&batch);
	buf_free(&legacy_apis);
	kube_close(k);
}

/* An answer of a fixture: its status and body bytes (a Status object as
 * JSON, a plain-text body as is). */
static int fixture_answer(const char *name, long *status, struct buf *body)
{
	struct buf raw;
	struct doc *d = NULL;
	const struct node *resp, *b;
	int64_t st = 0;
	int rc = slurp(name, &raw);

	buf_init(body, 1 << 20);
	if (!rc)
		rc = doc_load(name, raw.data, raw.len, NULL, &d);
	resp = rc ? NULL : node_map_get(doc_root(d, 0), "response");
	if (!rc)
		rc = node_int64(node_map_get(resp, "status"), 100, 599, &st);
	b = node_map_get(resp, "body");
	if (!b)
		b = node_map_get(resp, "bodyText");
	if (!rc && b && b->type == NODE_SCALAR)
		rc = buf_addstr(body, node_str(b));
	else if (!rc && b && b->type == NODE_MAP)
		rc = doc_to_json(b, body);
	*status = st;
	doc_free(d);
	buf_free(&raw);
	return rc;
}

/* What the agent makes of each answer the real server gave. */
static void test_answers(void)
{
	static const struct {
		const char *file;
		int err;
		enum kube_why why;
	} cases[] = {
		{ "observed-1.32/ssa_create_201.json", 0, KUBE_WHY_NONE },
		{ "observed-1.32/ssa_noop_200.json", 0, KUBE_WHY_NONE },
		{ "observed-1.32/ssa_duplicate_env_500.json", E_API, KUBE_WHY_INVALID },
		{ "observed-1.32/ssa_quoted_port_500.json", E_API, KUBE_WHY_INVALID },
		{ "observed-1.32/ssa_unknown_field_default.json", E_API, KUBE_WHY_INVALID },
		{ "observed-1.32/ssa_unknown_field_strict.json", E_API, KUBE_WHY_INVALID },
		{ "observed-1.32/ssa_unknown_field_warn.json", E_API, KUBE_WHY_INVALID },
		{ "observed-1.32/cr_structural_unknown_field_default.json", E_API, KUBE_WHY_INVALID },
		{ "observed-1.32/cr_structural_wrong_type.json", E_API, KUBE_WHY_INVALID },
		{ "observed-1.32/ssa_immutable_cm_422.json", E_API, KUBE_WHY_IMMUTABLE },
		{ "observed-1.32/ssa_immutable_job_template_422.json", E_API, KUBE_WHY_IMMUTABLE },
		{ "observed-1.32/ssa_immutable_selector_422.json", E_API, KUBE_WHY_IMMUTABLE },
		{ "observed-1.32/apply_in_terminating_ns_403.json", E_API, KUBE_WHY_TERMINATING },
		{ "observed-1.32/cr_immediately_after_crd.json", E_NOTFOUND, KUBE_WHY_NOT_SERVED },
		{ "observed-1.32/apply_too_large_413.json", E_API, KUBE_WHY_TOO_LARGE },
		{ "observed-1.32/ssa_conflict_409.json", E_API, KUBE_WHY_NONE },
		{ "observed-1.32/apply_missing_namespace_404.json", E_NOTFOUND, KUBE_WHY_NONE },
		{ "observed-1.32/apply_missing_kind_400.json", E_API, KUBE_WHY_NONE },
		{ "observed-1.32/apply_namespace_mismatch_400.json", E_API, KUBE_WHY_NONE },
		{ "observed-1.32/delete_default_ns_403.json", E_API, KUBE_WHY_NONE },
		{ "observed-1.32/delete_gone_404.json", E_NOTFOUND, KUBE_WHY_NONE },
		{ "observed-1.32/list_bad_continue_400.json", E_API, KUBE_WHY_NONE },
		{ "errors/toomanyrequests_apf_429.json", E_UNAVAILABLE, KUBE_WHY_NONE },
		{ "errors/internal_ssa_duplicate_keys_multi_500.json", E_API, KUBE_WHY_INVALID },
		{ "errors/internal_ssa_unknown_field_500.json", E_API, KUBE_WHY_INVALID },
		{ "errors/invalid_immutable_deployment_selector_422.json", E_API, KUBE_WHY_IMMUTABLE },
		{ "errors/forbidden_namespace_terminating_403.json", E_API, KUBE_WHY_TERMINATING },
		{ "errors/conflict_resourceversion_409.json", E_API, KUBE_WHY_CONFLICT },
		{ "errors/alreadyexists_409.json", E_API, KUBE_WHY_NONE },
		{ "errors/gone_expired_continue_410.json", E_API, KUBE_WHY_NONE },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf body, msg = BUF_INIT(1 << 16);
		enum kube_why why = KUBE_WHY_NONE;
		long status = 0;
		int rc;

		if (fixture_answer(cases[i].file, &status, &body)) {
			check(0);
			buf_free(&body);
			continue;
		}
		rc = kube_answer(status, body.data, body.len, &msg, &why);
		if (rc != cases[i].err || why != cases[i].why)
			tap_diag("%s: %ld: rc %d why %d: %s", cases[i].file, status, rc, why, msg.data);
		check_int(rc, ==, cases[i].err);
		check_int(why, ==, cases[i].why);
		/* a refusal carries the status and the server's words */
		check(rc == 0 || msg.len > 4);
		buf_free(&body);
		buf_free(&msg);
	}
	/* a 500 that says nothing of typing is an outage, retried later */
	{
		static const char st[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
					 "\"message\":\"etcdserver: request timed out\",\"code\":500}";
		struct buf msg = BUF_INIT(4096);

		check_int(kube_answer(500, st, sizeof(st) - 1, &msg, NULL), ==, E_UNAVAILABLE);
		check_int(kube_answer(401, "", 0, &msg, NULL), ==, E_UNAVAILABLE);
		check_int(kube_answer(408, "", 0, &msg, NULL), ==, E_UNAVAILABLE);
		buf_free(&msg);
	}
}

/*
 * kube-apiserver reads at most 3 MiB of a request body (413 beyond:
 * observed-1.32/apply_too_large_413.json): a larger one is refused here,
 * before it is sent; one of exactly 3 MiB is sent (and finds no server).
 */
static void test_body_limit(void)
{
	static const char blob[] =
		"{\"version\":1,\"types\":[[\"v1\",\"ConfigMap\",\"configmaps\",true]]}";
	const size_t limit = 3u << 20;
	struct kube *k = offline_client();
	char *body = mem_alloc(limit + 2, 1);
	struct kube_result r;

	check(k != NULL && body != NULL);
	if (!k || !body) {
		kube_close(k);
		mem_free(body);
		return;
	}
	check_int(kube_discovery_import(k, blob, strlen(blob)), ==, 0);
	memset(body, 'a', limit + 1);
	body[limit + 1] = 0;
	{
		struct kube_object o = { .api_version = "v1", .kind = "ConfigMap", .name = "big",
					 .json = body, .json_len = limit + 1 };

		check_int(kube_apply(k, &o, 0, &r), ==, E_LIMIT);
		check_int(r.status, ==, 0);
		check(r.message && strstr(r.message, "apply v1 ConfigMap default/big: the object "
					  "is 3145729 bytes, over the API server's request "
					  "limit of 3145728 bytes (3 MiB): not sent"));
		kube_result_free(&r);
		check_int(kube_create(k, &o, 0, &r), ==, E_LIMIT);
		kube_result_free(&r);
		o.json_len = limit;     /* at the limit: sent */
		check_int(kube_apply(k, &o, 0, &r), ==, E_UNAVAILABLE);
		check(r.message && strstr(r.message, "API unreachable"));
		kube_result_free(&r);
	}
	mem_free(body);
	kube_close(k);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_kube.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	test_k3s_embedded();
	test_servers();
	test_files_and_token();
	test_refusals();
	test_alloc_failures();
	test_paths();
	test_selector_escape();
	test_status_message();
	test_discovery_cache();
	test_discovery_documents();
	test_answers();
	test_body_limit();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
