/* Unit tests: agent/gateway/config — config.yaml, its defaults and its refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "error.h"
#include "features.h"
#include "log.h"
#include "mem.h"
#include "tap.h"
#include "config.h"

/* --- helpers --------------------------------------------------------------- */

static char tmpdir[64];
static char machine_id[128], no_machine_id[128], bad_machine_id[128];
static struct config_env env;

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

/* What the last capture saw (tap_capture_end()). */
static const char *cap_text = "";

/* Parse text; on success the caller frees c. Returns the code, log in cap_text. */
static int parse(const char *text, struct config *c)
{
	int rc;

	tap_capture_begin();
	rc = config_parse("t.yaml", text, strlen(text), &env, c);
	cap_text = tap_capture_end();
	return rc;
}

/* text must be refused, logging want (a "t.yaml:L:C: why" fragment). */
static void refuse_env(const char *what, const char *text, const struct config_env *e,
		       const char *want)
{
	struct config c;
	int rc;

	tap_capture_begin();
	rc = config_parse("t.yaml", text, strlen(text), e, &c);
	cap_text = tap_capture_end();
	tap_diag("refuse: %s", what);
	check_int(rc, ==, E_CONFIG);
	check(c.doc == NULL && c.errors >= 1);
	if (!check(strstr(cap_text, want) != NULL))
		tap_diag("wanted \"%s\" in: %s", want, cap_text);
	config_free(&c);
}

static void refuse(const char *what, const char *text, const char *want)
{
	refuse_env(what, text, &env, want);
}

/* Three valid lines every refusal below builds on (lines 1-4). */
#define BASE "server: https://r.example.com/fleet/\n" \
	     "device: {id: gw-1}\n" \
	     "apps:\n" \
	     "  - name: web\n"

/* --- good configurations ------------------------------------------------------ */

static void test_minimal(void)
{
	struct config c;

	check_int(parse("server: https://r.example.com/fleet\napps:\n  - name: web\n", &c), ==, 0);
	check_str(c.path, "t.yaml");
	check_str(c.server, "https://r.example.com/fleet/");
	check_str(c.device.id, "0123456789abcdef0123456789abcdef");
	check_int(c.device.nlabels, ==, 0);
	check_int(c.napps, ==, 1);
	check_str(c.apps[0].name, "web");
	check_str(c.apps[0].channel, "web");
	check_str(c.apps[0].namespace, "default");
	check_int(c.apps[0].on_first_install_failure, ==, CFG_FIRST_FAILURE_BUNDLE);
	/* confined by default: its own namespace, no cluster-scoped kinds */
	check_int(c.apps[0].nnamespaces, ==, 1);
	check_str(c.apps[0].namespaces[0], "default");
	check_int(c.apps[0].ncluster_kinds, ==, 0);
	check_str(c.trust.root, "/etc/outpost/root.yaml");
	check_str(c.trust.root_sig, "/etc/outpost/root.yaml.sig");
	check_str(c.kubernetes.kubeconfig, CONFIG_KUBECONFIG);
	check_int(c.kubernetes.parallel, ==, CONFIG_API_CONNECTIONS);
	check_str(c.kubernetes.field_manager, "outpost");
	check_str(c.state_dir, CONFIG_STATE_DIR);
	check_int(c.poll.default_interval, ==, CONFIG_POLL_INTERVAL);
	check_int(c.poll.min_interval, ==, CONFIG_POLL_INTERVAL < 60 ? CONFIG_POLL_INTERVAL : 60);
	check_int(c.poll.max_interval, ==, CONFIG_POLL_INTERVAL > 3600 ? CONFIG_POLL_INTERVAL : 3600);
	check_int(c.drift.interval, ==, IS_ENABLED(CONFIG_DRIFT) ? 600 : 0);
	check_int(c.health.default_timeout, ==, 300);
	check_int(c.health.nprobe_hosts, ==, 0);
	check(c.reports.url == NULL);
	check_str(c.tls.ca, CFG_CA_DEFAULT);
	check(c.tls.ca_pem == NULL);
	check(c.tls.client_cert == NULL && c.tls.client_key == NULL);
	check_int(c.tls.insecure_skip_verify, ==, 0);
	check_int(c.limits.max_bundle_kb, ==, CONFIG_MAX_BUNDLE_KB);
	check_int(c.limits.keep_releases, ==, 3);
	check(c.metrics.path == NULL);
	check_int(c.log_level, ==, LOG_INFO);
	check_int(c.errors, ==, 0);
	config_free(&c);
	check(c.doc == NULL && c.server == NULL);
	config_free(&c);        /* twice is fine */
}

static void test_full(void)
{
	struct buf t = BUF_INIT(8192);
	struct config c;

	buf_addstr(&t,
		"# the example of docs/config.md\n"
		"server: https://releases.example.com/fleet/\n"
		"device:\n"
		"  id: gw-0042\n"
		"  labels: {site: store-12, board: rpi4, rev: 3}\n"
		"trust:\n"
		"  root: /etc/outpost/root.yaml\n"
		"apps:\n"
		"  - name: web\n"
		"    channel: web-stable\n"
		"    namespace: shop\n"
		"    namespaces: [shop-cache, shop]\n"
		"    cluster_kinds: [ClusterRole, CustomResourceDefinition]\n"
		"    on_first_install_failure: keep\n"
		"  - name: metrics\n"
		"    namespaces: ['*']\n"
		"    on_first_install_failure: prune\n"
		"kubernetes:\n"
		"  kubeconfig: /etc/rancher/k3s/k3s.yaml\n"
		"  parallel: 4\n"
		"  field_manager: outpost-gw\n"
		"state_dir: /var/lib/outpost\n"
		"poll:\n"
		"  min_interval: 60\n"
		"  max_interval: 3600\n"
		"  default_interval: 120\n"
		"health:\n"
		"  default_timeout: 900\n"
		"  probe_hosts: [10.0.0.5, metrics.lan]\n"
		"tls:\n"
		"  ca: /etc/outpost/ca.pem\n"
		"  insecure_skip_verify: false\n"
		"limits:\n"
		"  max_bundle_kb: 1024\n"
		"  keep_releases: 0\n"
		"log_level: debug\n");
	if (IS_ENABLED(CONFIG_DRIFT))
		buf_addstr(&t, "drift:\n  interval: 0\n");
	if (IS_ENABLED(CONFIG_REPORTS))
		buf_addstr(&t, "reports:\n  url: https://releases.example.com/reports?fleet=a\n");
	if (IS_ENABLED(CONFIG_METRICS))
		buf_addstr(&t, "metrics:\n  path: /var/lib/node_exporter/textfile/outpost.prom\n");

	check_int(parse(t.data, &c), ==, 0);
	check_str(c.server, "https://releases.example.com/fleet/");
	check_str(c.device.id, "gw-0042");
	check_int(c.device.nlabels, ==, 3);
	check_str(c.device.labels[0].key, "site");
	check_str(c.device.labels[0].value, "store-12");
	check_str(c.device.labels[2].key, "rev");
	check_str(c.device.labels[2].value, "3");
	check_int(c.napps, ==, 2);
	check_str(c.apps[0].channel, "web-stable");
	check_str(c.apps[0].namespace, "shop");
	check_int(c.apps[0].on_first_install_failure, ==, CFG_FIRST_FAILURE_KEEP);
	check_int(c.apps[0].nnamespaces, ==, 2);        /* shop listed twice counts once */
	check_str(c.apps[0].namespaces[0], "shop");
	check_str(c.apps[0].namespaces[1], "shop-cache");
	check_int(c.apps[0].ncluster_kinds, ==, 2);
	check_str(c.apps[0].cluster_kinds[1], "CustomResourceDefinition");
	check_int(c.apps[1].nnamespaces, ==, 2);
	check_str(c.apps[1].namespaces[1], CFG_ANY);
	check_str(c.apps[1].name, "metrics");
	check_str(c.apps[1].channel, "metrics");
	check_int(c.apps[1].on_first_install_failure, ==, CFG_FIRST_FAILURE_PRUNE);
	check_int(c.kubernetes.parallel, ==, 4);
	check_str(c.kubernetes.field_manager, "outpost-gw");
	check_int(c.poll.min_interval, ==, 60);
	check_int(c.poll.max_interval, ==, 3600);
	check_int(c.poll.default_interval, ==, 120);
	check_int(c.drift.interval, ==, 0);
	check_int(c.health.default_timeout, ==, 900);
	check_int(c.health.nprobe_hosts, ==, 2);
	check_str(c.health.probe_hosts[0], "10.0.0.5");
	check_str(c.health.probe_hosts[1], "metrics.lan");
	check_str(c.tls.ca, "/etc/outpost/ca.pem");
	check_int(c.limits.max_bundle_kb, ==, 1024);
	check_int(c.limits.keep_releases, ==, 0);
	check_int(c.log_level, ==, LOG_DEBUG);
	if (IS_ENABLED(CONFIG_REPORTS))
		check_str(c.reports.url, "https://releases.example.com/reports?fleet=a");
	if (IS_ENABLED(CONFIG_METRICS))
		check_str(c.metrics.path, "/var/lib/node_exporter/textfile/outpost.prom");
	check_int(c.errors, ==, 0);
	check(strstr(cap_text, "level=warn") == NULL);
	config_free(&c);

	if (IS_ENABLED(CONFIG_TLS_CLIENT_CERT)) {
		check_int(parse(BASE "tls:\n  client_cert: /etc/outpost/device.crt\n"
				"  client_key: /etc/outpost/device.key\n", &c), ==, 0);
		check_str(c.tls.client_cert, "/etc/outpost/device.crt");
		check_str(c.tls.client_key, "/etc/outpost/device.key");
		config_free(&c);
	}
	buf_free(&t);
}

static void test_good_variants(void)
{
	struct config_env allow = env;
	struct config c;

	/* Inline PEM for the server's CA. */
	check_int(parse(BASE "tls:\n  ca: |\n    -----BEGIN CERTIFICATE-----\n"
			"    MIIBszCCAVmgAwIBAgIU\n    -----END CERTIFICATE-----\n", &c), ==, 0);
	check(c.tls.ca == NULL);
	check(c.tls.ca_pem && strncmp(c.tls.ca_pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	check_int(c.tls.ca_pem_len, ==, strlen(c.tls.ca_pem));
	config_free(&c);

	/* Plain http: accepted (everything is signed) with a warning, but not for loopback. */
	check_int(parse("server: http://releases.example.com/\ndevice: {id: gw-1}\n"
			"apps: [{name: web}]\n", &c), ==, 0);
	check(strstr(cap_text, "level=warn") && strstr(cap_text, "t.yaml:1:9: 'server' uses plain http"));
	config_free(&c);
	check_int(parse("server: http://127.0.0.1:8080\ndevice: {id: gw-1}\n"
			"apps: [{name: web}]\n", &c), ==, 0);
	check_str(c.server, "http://127.0.0.1:8080/");
	check(strstr(cap_text, "level=warn") == NULL);
	config_free(&c);
	check_int(parse("server: http://[::1]:80/x/\ndevice: {id: gw-1}\napps: [{name: web}]\n",
			&c), ==, 0);
	check(strstr(cap_text, "level=warn") == NULL);
	config_free(&c);
	/* 127.evil.example is not loopback. */
	check_int(parse("server: http://127.evil.example/\ndevice: {id: gw-1}\n"
			"apps: [{name: web}]\n", &c), ==, 0);
	check(strstr(cap_text, "plain http") != NULL);
	config_free(&c);

	/* The test-only switch, with its environment variable. */
	allow.allow_insecure = 1;
	{
		static const char ins[] = BASE "tls: {insecure_skip_verify: true}\n";

		tap_capture_begin();
		check_int(config_parse("t.yaml", ins, strlen(ins), &allow, &c), ==, 0);
		cap_text = tap_capture_end();
	}
	check_int(c.tls.insecure_skip_verify, ==, 1);
	check(strstr(cap_text, "TLS certificate verification is OFF") != NULL);
	config_free(&c);

	/* Unset bounds fit around the ones that are set. */
	check_int(parse(BASE "poll: {default_interval: 7200}\n", &c), ==, 0);
	check_int(c.poll.min_interval, ==, 60);
	check_int(c.poll.max_interval, ==, 7200);
	config_free(&c);
	check_int(parse(BASE "poll: {min_interval: 10, max_interval: 20}\n", &c), ==, 0);
	check_int(c.poll.default_interval, ==, 20);
	config_free(&c);
	check_int(parse(BASE "poll: {default_interval: 30}\n", &c), ==, 0);
	check_int(c.poll.min_interval, ==, 30);
	config_free(&c);

	/* machine-id with its newline; empty sections and a null device are fine. */
	check_int(parse("server: https://r.example.com/\ndevice:\nhealth:\napps: [{name: a}, {name: b}]\n",
			&c), ==, 0);
	check_str(c.device.id, "0123456789abcdef0123456789abcdef");
	check_int(c.napps, ==, 2);
	config_free(&c);

	/* 32 apps is the limit, not past it. */
	{
		struct buf t = BUF_INIT(8192);

		buf_addstr(&t, "server: https://r.example.com/\ndevice: {id: x}\napps:\n");
		for (int i = 0; i < CFG_APPS_MAX; i++)
			buf_addf(&t, "  - name: app-%d\n", i);
		check_int(parse(t.data, &c), ==, 0);
		check_int(c.napps, ==, CFG_APPS_MAX);
		check_str(c.apps[31].name, "app-31");
		config_free(&c);
		buf_free(&t);
	}
}

/* --- refusals ---------------------------------------------------------------- */

static void test_refusals(void)
{
	struct config_env none = env, garbage = env;
	struct buf t = BUF_INIT(CFG_FILE_MAX + 4096);
	struct config c;
	int rc;

	refuse("unknown top-level key", BASE "sever: x\n", "t.yaml:5:1: unknown key \\\"sever\\\"");
	refuse("unknown nested key", BASE "poll:\n  min: 10\n", "t.yaml:6:3: unknown key \\\"min\\\"");
	refuse("unknown app key", BASE "    chanel: x\n", "t.yaml:5:5: unknown key \\\"chanel\\\"");
	refuse("unknown device key", "server: https://a/\ndevice: {id: x, idd: y}\napps: [{name: a}]\n",
	       "t.yaml:2:17: unknown key \\\"idd\\\"");
	refuse("not a mapping", "- a\n- b\n", "t.yaml:1:1: expected a mapping, found a sequence");
	refuse("YAML syntax", "server: [\n", "t.yaml:");
	refuse("two documents", BASE "---\n" BASE, "t.yaml:5:1: more than 1 documents");
	refuse("section of the wrong type", BASE "poll: 5\n",
	       "t.yaml:5:7: 'poll' must be a mapping, found a scalar");

	/* server */
	refuse("no server", "device: {id: x}\napps: [{name: a}]\n", "t.yaml:1:1: 'server' is missing");
	refuse("ftp URL", "server: ftp://r.example.com/\n" "device: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' must be an https:// or http:// URL");
	refuse("URL with a space", "server: \"https://r.example.com/a b/\"\ndevice: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' must not contain spaces");
	refuse("URL with a control character",
	       "server: \"https://r.example.com/\\t/\"\ndevice: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' holds a non-printable character");
	refuse("URL with credentials", "server: https://u:p@r.example.com/\ndevice: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' must not hold a user name or password");
	refuse("base URL with a query", "server: https://r.example.com/?a=b\ndevice: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' must not have a query or fragment");
	refuse("URL with a bad port", "server: https://r.example.com:99999/\ndevice: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' has a bad port");
	refuse("URL without a host", "server: https:///x\ndevice: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' has no host");
	refuse("URL not a string", "server: [a]\ndevice: {id: x}\napps: [{name: a}]\n",
	       "t.yaml:1:9: 'server' must be a string");
	buf_addstr(&t, "server: https://r.example.com/");
	for (int i = 0; i < CFG_URL_MAX; i++)
		buf_addch(&t, 'a');
	buf_addstr(&t, "\ndevice: {id: x}\napps: [{name: a}]\n");
	refuse("URL too long", t.data, "t.yaml:1:9: 'server' must be 1 to 2048 characters");
	if (IS_ENABLED(CONFIG_REPORTS))
		refuse("bad reports URL", BASE "reports: {url: \"mailto:x@y\"}\n",
		       "t.yaml:5:16: 'url' must be an https:// or http:// URL");

	/* health.probe_hosts */
	refuse("probe host with a port", BASE "health: {probe_hosts: [\"10.0.0.5:80\"]}\n",
	       "'probe_hosts' entries must be host names or addresses");
	refuse("probe host with brackets", BASE "health: {probe_hosts: [\"[fd00::1]\"]}\n",
	       "'probe_hosts' entries must be host names or addresses");
	refuse("probe hosts not a list", BASE "health: {probe_hosts: 10.0.0.5}\n",
	       "'probe_hosts' must list at most 16 hosts");

	/* poll */
	refuse("min above default", BASE "poll:\n  min_interval: 600\n  default_interval: 300\n",
	       "t.yaml:6:17: 'min_interval' (600) is greater than 'default_interval' (300)");
	refuse("default above max", BASE "poll:\n  max_interval: 600\n  default_interval: 900\n",
	       "t.yaml:7:21: 'default_interval' (900) is greater than 'max_interval' (600)");
	refuse("min above max", BASE "poll: {min_interval: 700, max_interval: 600}\n",
	       "t.yaml:5:22: 'min_interval' (700) is greater than 'max_interval' (600)");
	refuse("interval too short", BASE "poll: {min_interval: 5}\n",
	       "t.yaml:5:22: 'min_interval' must be an integer from 10 to 86400");
	refuse("interval too long", BASE "poll: {max_interval: 86401}\n",
	       "t.yaml:5:22: 'max_interval' must be an integer from 10 to 86400");
	refuse("interval as a string", BASE "poll: {default_interval: \"300\"}\n",
	       "'default_interval' must be an integer");

	/* apps */
	refuse("no apps", "server: https://r.example.com/\ndevice: {id: x}\n",
	       "t.yaml:1:1: 'apps' is missing");
	refuse("empty apps", "server: https://r.example.com/\ndevice: {id: x}\napps: []\n",
	       "t.yaml:3:7: 'apps' must be a non-empty list");
	refuse("duplicate app", BASE "  - name: web\n", "t.yaml:5:11: app 'web' is listed twice");
	refuse("duplicate channel", BASE "  - name: shop\n    channel: web\n",
	       "t.yaml:6:14: channel 'web' is used by app 'web' already");
	refuse("bad app name", BASE "  - name: Web_1\n",
	       "t.yaml:5:11: 'name' must be a DNS label");
	refuse("app without name", BASE "  - channel: x\n", "t.yaml:5:5: 'name' is missing");
	refuse("bad namespace", BASE "    namespace: -x\n", "t.yaml:5:16: 'namespace' must be a DNS label");
	refuse("bad scope namespace", BASE "    namespaces: [web, Kube_System]\n",
	       "t.yaml:5:23: 'namespaces' entries must be namespaces (DNS labels) or \\\"*\\\" (all)");
	refuse("scope namespaces not a list", BASE "    namespaces: web\n",
	       "t.yaml:5:17: 'namespaces' must be a list of at most 32 namespaces");
	refuse("bad cluster kind", BASE "    cluster_kinds: [cluster-role]\n",
	       "t.yaml:5:21: 'cluster_kinds' entries must be kinds (like ClusterRole)");
	refuse("bad first-failure mode", BASE "    on_first_install_failure: retry\n",
	       "t.yaml:5:31: 'on_first_install_failure' must be prune or keep");
	buf_reset(&t);
	buf_addstr(&t, "server: https://r.example.com/\ndevice: {id: x}\napps:\n");
	for (int i = 0; i <= CFG_APPS_MAX; i++)
		buf_addf(&t, "  - name: app-%d\n", i);
	refuse("too many apps", t.data, "t.yaml:4:3: 'apps' has 33 entries, at most 32");

	/* paths */
	refuse("relative state_dir", BASE "state_dir: var/lib/outpost\n",
	       "t.yaml:5:12: 'state_dir' must be an absolute path");
	refuse("relative trust root", BASE "trust: {root: root.yaml}\n",
	       "t.yaml:5:15: 'root' must be an absolute path");
	refuse("relative kubeconfig", BASE "kubernetes:\n  kubeconfig: ./k3s.yaml\n",
	       "t.yaml:6:15: 'kubeconfig' must be an absolute path");

	/* device */
	none.machine_id_path = no_machine_id;
	refuse_env("no device id, no machine-id", "server: https://r.example.com/\napps: [{name: a}]\n",
		   &none, "t.yaml:1:1: no 'device.id', and ");
	check(strstr(cap_text, "cannot be read") && strstr(cap_text, "set device.id"));
	garbage.machine_id_path = bad_machine_id;
	refuse_env("machine-id not a machine id",
		   "server: https://r.example.com/\ndevice: {labels: {a: b}}\napps: [{name: a}]\n",
		   &garbage, "t.yaml:2:9: no 'device.id', and ");
	check(strstr(cap_text, "does not hold a machine id") != NULL);
	refuse("bad device id", "server: https://r.example.com/\ndevice: {id: \"gw 1\"}\napps: [{name: a}]\n",
	       "t.yaml:2:14: 'id' must be 1 to 128 letters");
	refuse("labels not a map", "server: https://a/\ndevice: {id: x, labels: [a]}\napps: [{name: a}]\n",
	       "t.yaml:2:25: 'labels' must be a mapping");
	refuse("bad label name", "server: https://a/\ndevice: {id: x, labels: {-a: b}}\napps: [{name: a}]\n",
	       "t.yaml:2:26: label name \\\"-a\\\" must be");
	refuse("empty file", "# nothing\n", "t.yaml: empty: expected a mapping");
	refuse("bad label value", "server: https://a/\ndevice: {id: x, labels: {site: \"a b\"}}\n"
	       "apps: [{name: a}]\n", "t.yaml:2:32: label 'site' must have a value");

	/* kubernetes, limits, log level */
	refuse("parallel 0", BASE "kubernetes: {parallel: 0}\n",
	       "t.yaml:5:24: 'parallel' must be an integer from 1 to 32");
	refuse("parallel 33", BASE "kubernetes: {parallel: 33}\n",
	       "t.yaml:5:24: 'parallel' must be an integer from 1 to 32");
	refuse("bundle limit above the build's", BASE "limits: {max_bundle_kb: 99999999}\n",
	       "t.yaml:5:25: 'max_bundle_kb' must be an integer from 64 to");
	refuse("keep_releases above 100", BASE "limits: {keep_releases: 101}\n",
	       "t.yaml:5:25: 'keep_releases' must be an integer from 0 to 100");
	refuse("keep_releases negative", BASE "limits: {keep_releases: -1}\n",
	       "t.yaml:5:25: 'keep_releases' must be an integer from 0 to 100");
	refuse("bad log level", BASE "log_level: verbose\n",
	       "t.yaml:5:12: 'log_level' must be one of error, warn, info, debug");

	/* tls */
	refuse("insecure without the env var", BASE "tls:\n  insecure_skip_verify: true\n",
	       "t.yaml:6:25: 'insecure_skip_verify' is refused: it exists only for tests "
	       "and needs OUTPOST_TEST_INSECURE=1");
	refuse("insecure not a bool", BASE "tls: {insecure_skip_verify: maybe}\n",
	       "t.yaml:5:29: 'insecure_skip_verify' must be true or false");
	refuse("inline PEM that is no certificate", BASE "tls:\n  ca: |\n"
	       "    -----BEGIN PUBLIC KEY-----\n    AAAA\n    -----END PUBLIC KEY-----\n",
	       "t.yaml:6:7: 'ca' inline PEM holds no complete CERTIFICATE");
	if (IS_ENABLED(CONFIG_TLS_CLIENT_CERT))
		refuse("client cert without key", BASE "tls: {client_cert: /etc/c.crt}\n",
		       "t.yaml:5:20: 'client_cert' needs 'client_key' too");

	/* features this build may not have */
	if (!IS_ENABLED(CONFIG_DRIFT))
		refuse("drift compiled out", BASE "drift: {interval: 600}\n",
		       "t.yaml:5:1: 'drift': this build has no drift support (CONFIG_DRIFT)");
	else
		refuse("drift interval 1..9", BASE "drift: {interval: 5}\n",
		       "t.yaml:5:19: 'interval' must be 0 (off) or from 10 to 86400");
	if (!IS_ENABLED(CONFIG_REPORTS))
		refuse("reports compiled out", BASE "reports: {url: https://a/}\n",
		       "this build has no reports support (CONFIG_REPORTS)");
	if (!IS_ENABLED(CONFIG_METRICS))
		refuse("metrics compiled out", BASE "metrics: {path: /x}\n",
		       "this build has no metrics support (CONFIG_METRICS)");
	if (!IS_ENABLED(CONFIG_SECRETS))
		refuse("secrets compiled out", BASE "secrets: {identities: [/a]}\n",
		       "this build has no encrypted Secrets support (CONFIG_SECRETS)");
	else {
		refuse("secrets.identity relative", BASE "secrets: {identity: id.txt}\n",
		       "'identity' must be an absolute path");
		refuse("secrets.identities relative", BASE "secrets: {identities: [/a, b.txt]}\n",
		       "t.yaml:5:28: 'identities' entries must be absolute paths");
		refuse("secrets.identities too many", BASE "secrets: {identities: "
		       "[/1, /2, /3, /4, /5, /6, /7, /8, /9]}\n",
		       "'identities' must list at most 8 identity files");
		refuse("secrets unknown key", BASE "secrets: {identiy: /a}\n",
		       "unknown key \\\"identiy\\\"");
		check_int(parse(BASE "secrets:\n  identity: /etc/outpost/id.txt\n"
				"  identities: [/etc/outpost/fleet.txt, /etc/outpost/site.txt]\n",
				&c), ==, 0);
		check_str(c.secrets.identity, "/etc/outpost/id.txt");
		check_int(c.secrets.nidentities, ==, 2);
		check_str(c.secrets.identities[1], "/etc/outpost/site.txt");
		config_free(&c);
	}
	if (!IS_ENABLED(CONFIG_TLS_CLIENT_CERT))
		refuse("client certs compiled out", BASE "tls: {client_cert: /a, client_key: /b}\n",
		       "this build has no TLS client certificate support (CONFIG_TLS_CLIENT_CERT)");

	/* Every problem of a file is named, not just the first. */
	refuse("three problems at once", BASE "state_dir: rel\npoll: {min_interval: 1}\nlog_level: x\n",
	       "t.yaml:5:12: 'state_dir' must be an absolute path");
	check(strstr(cap_text, "t.yaml:6:22: 'min_interval'") != NULL);
	check(strstr(cap_text, "t.yaml:7:12: 'log_level'") != NULL);
	{
		static const char three[] = BASE "state_dir: rel\npoll: {min_interval: 1}\nlog_level: x\n";

		tap_capture_begin();
		rc = config_parse("t.yaml", three, strlen(three), &env, &c);
		cap_text = tap_capture_end();
	}
	check_int(rc, ==, E_CONFIG);
	check_int(c.errors, ==, 3);

	/* Oversized: refused before parsing. */
	buf_reset(&t);
	buf_addstr(&t, BASE);
	while (t.len <= CFG_FILE_MAX)
		buf_addstr(&t, "# padding padding padding padding padding padding padding\n");
	tap_capture_begin();
	rc = config_parse("t.yaml", t.data, t.len, &env, &c);
	cap_text = tap_capture_end();
	check_int(rc, ==, E_LIMIT);
	check(strstr(cap_text, "t.yaml: ") && strstr(cap_text, "more than the 262144"));
	buf_free(&t);
}

/* --- files ---------------------------------------------------------------------- */

static void test_load(void)
{
	char path[128], big[128];
	struct config c;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/config.yaml", tmpdir);
	write_file(path, BASE);
	check_int(config_load(path, &c), ==, 0);
	check_str(c.path, path);
	check_str(c.device.id, "gw-1");
	config_free(&c);

	/* The default path is the global --config's, else the build's. */
	check_str(config_path(), CONFIG_CONFIG_PATH);
	config_set_path(path);
	check_str(config_path(), path);
	check_int(config_load(NULL, &c), ==, 0);
	config_free(&c);
	config_set_path(NULL);
	check_str(config_path(), CONFIG_CONFIG_PATH);

	snprintf(big, sizeof(big), "%s/big.yaml", tmpdir);
	f = fopen(big, "w");
	fputs(BASE, f);
	for (int i = 0; i < CFG_FILE_MAX / 16; i++)
		fputs("# 16 bytes .....\n", f);
	fclose(f);
	tap_capture_begin();
	rc = config_load(big, &c);
	cap_text = tap_capture_end();
	check_int(rc, ==, E_LIMIT);
	check(strstr(cap_text, "big.yaml: larger than 262144 bytes") != NULL);
	check(c.doc == NULL);

	snprintf(big, sizeof(big), "%s/missing.yaml", tmpdir);
	tap_capture_begin();
	rc = config_load(big, &c);
	cap_text = tap_capture_end();
	check_int(rc, ==, E_NOTFOUND);
	check(strstr(cap_text, "missing.yaml") != NULL);
	unlink(path);
}

/* Fail each allocation of a full load in turn: a clean E_NOMEM, no leak. */
static void test_nomem(void)
{
	static const char good[] = "server: https://r.example.com/fleet\n"
		"apps: [{name: web}, {name: db, namespace: data}]\n"
		"trust: {root: /r.yaml}\n";
	unsigned long n;
	struct config c;
	int rc = -1, nomem = 0;

	for (n = 1; n < 1000; n++) {
		tap_capture_begin();
		mem_fail_after(n);
		rc = config_parse("t.yaml", good, strlen(good), &env, &c);
		mem_fail_after(0);
		cap_text = tap_capture_end();
		if (rc == 0)
			break;
		nomem += rc == E_NOMEM;
		if (rc != E_NOMEM)
			break;
		check(c.doc == NULL);
	}
	check_int(rc, ==, 0);
	check_int(n, >, 5);
	check_int(nomem, ==, (int)n - 1);
	check_str(c.server, "https://r.example.com/fleet/");
	check_str(c.trust.root_sig, "/r.yaml.sig");
	config_free(&c);
}

/* apps[].depends_on: the order apps are stepped in, and what is refused. */
static void test_depends(void)
{
	static const char three[] = "server: https://r.example.com/\ndevice: {id: x}\napps:\n"
		"  - {name: web, depends_on: [api, db]}\n"
		"  - {name: api, depends_on: [db]}\n"
		"  - {name: db}\n"
		"pause_file: /run/site/pause\n";
	size_t order[CFG_APPS_MAX];
	struct config c;

	if (check_int(parse(three, &c), ==, 0)) {
		check_int(c.apps[0].ndepends, ==, 2);
		check_str(c.apps[0].depends_on[1], "db");
		check_str(c.pause_file, "/run/site/pause");
		config_app_order(&c, order);
		/* each after what it depends on: db, api, web */
		check_int(order[0], ==, 2);
		check_int(order[1], ==, 1);
		check_int(order[2], ==, 0);
		config_free(&c);
	}
	refuse("depends on itself", BASE "    depends_on: [web]\n",
	       "t.yaml:5:17: app 'web' depends on itself");
	refuse("depends on no app", BASE "    depends_on: [wbe]\n",
	       "app 'web' depends on 'wbe', which is not an app of this configuration");
	refuse("a cycle, named", "server: https://r.example.com/\ndevice: {id: x}\napps:\n"
	       "  - {name: a, depends_on: [b]}\n  - {name: b, depends_on: [c]}\n"
	       "  - {name: c, depends_on: [a]}\n  - {name: d, depends_on: [a]}\n",
	       "t.yaml:4:27: app 'a' is on a cycle of depends_on (a -> b -> c -> a)");
	refuse("depends_on not a list", BASE "    depends_on: db\n",
	       "'depends_on' must list at most 8 app names");
	refuse("pause_file relative", BASE "pause_file: pause\n",
	       "'pause_file' must be an absolute path");
}

int main(void)
{
	log_set_timestamps(0);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(tmpdir))
		return 1;
	snprintf(machine_id, sizeof(machine_id), "%s/machine-id", tmpdir);
	snprintf(no_machine_id, sizeof(no_machine_id), "%s/none", tmpdir);
	snprintf(bad_machine_id, sizeof(bad_machine_id), "%s/bad-machine-id", tmpdir);
	write_file(machine_id, "0123456789abcdef0123456789abcdef\n");
	write_file(bad_machine_id, "uninitialized\n");
	env.machine_id_path = machine_id;

	test_minimal();
	test_full();
	test_good_variants();
	test_refusals();
	test_depends();
	test_load();
	test_nomem();

	unlink(machine_id);
	unlink(bad_machine_id);
	rmdir(tmpdir);
	return tap_done();
}
