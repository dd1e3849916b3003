/*
 * Unit tests: agent/gateway — the release state machine and the poll
 * schedule when the state store fails. The fault VFS (fault.h) fills the
 * disk; store_fail_after() fails one store statement, the N-th, for every
 * N through an update and a rollback. Keys, the trust root and bundles are
 * made by the publisher's own commands; the cluster is kubesim (skipped
 * when it cannot start, e.g. under qemu-user).
 *
 * The rule: a store error is never read as "there is none". Whatever step
 * fails, nothing the store still calls current is deleted from the
 * cluster, the state says what is current, and the step is retried.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "agent.h"
#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "error.h"
#include "fault.h"
#include "fetch.h"
#include "file.h"
#include "kube.h"
#include "log.h"
#include "report.h"
#include "schedule.h"
#include "store.h"
#include "tap.h"
#include "upstream.h"
#include "verifier.h"

static char dir[64];
static int closed_port;         /* bound, never listening: refused at once */
static pid_t sim;
static char kubeconfig[128];

static const char *at(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Run one of the command line's commands: fn("name", args..., NULL). */
static int run(int (*fn)(int, char **), ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, fn);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	return fn(argc, argv);
}

/* A one-replica Deployment kubesim makes ready (or fails) at once. */
static void deployment(struct buf *b, const char *image, const char *behavior)
{
	buf_addf(b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
		 "  annotations:\n    kubesim.outpost.dev/behavior: \"%s\"\n"
		 "    kubesim.outpost.dev/after-ms: \"0\"\nspec:\n  replicas: 1\n"
		 "  selector: {matchLabels: {app: web}}\n  template:\n"
		 "    metadata: {labels: {app: web}}\n"
		 "    spec: {containers: [{name: web, image: \"%s\"}]}\n", behavior, image);
}

/* Bundle web-SEQ: a Namespace, a ConfigMap, the Deployment. */
static int pack(int seq, const char *image, const char *behavior)
{
	struct buf b = BUF_INIT(8192);
	char src[64], out[64], version[32], sq[16];
	int rc;

	snprintf(src, sizeof(src), "src-%d", seq);
	mkdir(at(src), 0700);
	buf_addf(&b, "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\n"
		 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-%d}\ndata: {a: \"1\"}\n",
		 seq);
	deployment(&b, image, behavior);
	snprintf(out, sizeof(out), "src-%d/web.yaml", seq);
	write_text(at(out), b.data);
	buf_free(&b);
	snprintf(out, sizeof(out), "web-%d.bundle", seq);
	snprintf(version, sizeof(version), "v%d", seq);
	snprintf(sq, sizeof(sq), "%d", seq);
	tap_quiet(1);
	rc = run(cmd_bundle, "bundle", "pack", "--app", "web", "--version", version,
		 "--sequence", sq, "--key", at("signer.key"), "--health-timeout", "3",
		 "-o", at(out), at(src), NULL);
	tap_quiet(0);
	return rc;
}

/* config.yaml; reports (a port) for config-reports.yaml */
static void write_config(const char *name, int reports)
{
	struct buf b = BUF_INIT(4096);

	buf_addf(&b, "server: http://127.0.0.1:%d/fleet/\ndevice: {id: gw-unit}\n"
		 "trust: {root: %s}\napps:\n  - {name: web, namespace: web}\n"
		 "kubernetes: {kubeconfig: %s}\nstate_dir: %s\nhealth: {default_timeout: 3}\n"
		 "poll: {min_interval: 10, max_interval: 3600, default_interval: 10}\n",
		 closed_port, at("root.yaml"), kubeconfig, at("state"));
	if (reports)
		buf_addf(&b, "reports: {url: \"http://127.0.0.1:%d/reports\"}\n", reports);
	write_text(at(name), b.data);
	buf_free(&b);
}

static int setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(s, (struct sockaddr *)&a, &len))
		return -1;
	closed_port = ntohs(a.sin_port);
	snprintf(kubeconfig, sizeof(kubeconfig), "%s/sim/kubeconfig", dir);
	tap_quiet(1);
	if (run(cmd_keygen, "keygen", "-o", at("signer"), NULL) ||
	    run(cmd_root, "root", "init", "--key", at("signer.key"), "-o", at("root.yaml"),
		NULL)) {
		tap_quiet(0);
		return -1;
	}
	tap_quiet(0);
	write_config("config.yaml", 0);
	return 0;
}

/* kubesim on a free port; 0 when it answers, else the tests that need it skip */
static int start_kubesim(void)
{
	char port[16], ready[128];

	sim = fork();
	if (sim == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("python3", "python3", "tests/kubesim/kubesim.py", "--dir", at("sim"),
		       "--port", "0", "--ready-ms", "0", (char *)NULL);
		_exit(127);
	}
	snprintf(ready, sizeof(ready), "%s/sim/ready", dir);
	for (int i = 0; sim > 0 && i < 150; i++) {
		if (access(ready, F_OK) == 0) {
			struct buf p = BUF_INIT(64);
			int ok = file_read(at("sim/port"), 64, &p) == 0 && p.len;

			snprintf(port, sizeof(port), "%s", p.data);
			buf_free(&p);
			return ok ? 0 : -1;
		}
		usleep(100000);
	}
	return -1;
}

static void stop_kubesim(void)
{
	if (sim > 0) {
		kill(sim, SIGTERM);
		waitpid(sim, NULL, 0);
	}
}

/* --- the poll schedule on a full disk --------------------------------------- */

#define STORM_WINDOW 12

/*
 * The daemon's loop (agent/cli/cmd_agent.c, cmd_run) for STORM_WINDOW
 * seconds with every write to the store failing, as on a full disk: polls
 * (to a server that refuses connections) must back off as for any error,
 * from the schedule held in memory, and count as errors.
 */
static void test_poll_storm(void)
{
	struct config cfg;
	struct agent *a = NULL;
	struct upstream *up = NULL;
	struct fetch *f = NULL;
	int polls = 0;
	const char *log;
	int64_t end;

	if (config_load(at("config.yaml"), &cfg))
		return (void)check(!"config loads");
	check_int(agent_open(&a, &cfg), ==, 0);
	check_int(upstream_new(&up, &cfg), ==, 0);
	check_int(fetch_new(&f, a, up, &cfg), ==, 0);
	if (!a || !up || !f)
		goto out;
	fault_arm(1, F_WRITE | F_SYNC | F_TRUNC, SQLITE_FULL, 1, 0);
	tap_capture_begin();
	end = (int64_t)time(NULL) + STORM_WINDOW;
	while ((int64_t)time(NULL) < end) {
		int64_t due;

		if (fetch_poll(f, &cfg.apps[0], 0) != 0)
			polls++;
		due = fetch_next_due(f, (int64_t)time(NULL));
		if (due <= (int64_t)time(NULL))
			due = (int64_t)time(NULL) + 1;  /* the loop's "never busy" */
		while ((int64_t)time(NULL) < due && (int64_t)time(NULL) < end)
			usleep(50000);
	}
	/* asked for by hand: polled at once, and each one more error */
	fetch_poll(f, &cfg.apps[0], 1);
	fetch_poll(f, &cfg.apps[0], 1);
	log = tap_capture_end();
	fault_disarm();
	check(F.triggered);
	tap_diag("full disk, a 10 s interval, the server refusing: %d polls in %d s "
		 "(%d per minute)", polls, STORM_WINDOW, polls * 60 / STORM_WINDOW);
	/* one at once, the next after the 10 s backoff */
	check_int(polls, <=, 2);
	check_int(polls, >=, 1);
	check(strstr(log, "disk full") != NULL);
	check(strstr(log, "(3 errors in a row)") != NULL || strstr(log, "(4 errors in a row)") != NULL);
out:
	fetch_free(f);
	upstream_free(up);
	agent_close(a);
	config_free(&cfg);
}

/* --- the report outbox on a full disk ----------------------------------------- */

static int receiver_fd = -1;    /* a byte per request the receiver answered */
static pid_t receiver;

/* A report receiver that answers 200 to every POST; its port. */
static int start_receiver(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), p[2];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 16) ||
	    getsockname(ls, (struct sockaddr *)&a, &len) || pipe(p))
		return -1;
	receiver = fork();
	if (receiver == 0) {
		static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
					 "Connection: close\r\n\r\n";

		close(p[0]);
		for (;;) {
			int c = accept(ls, NULL, NULL);
			char req[8192];

			if (c < 0)
				continue;
			if (read(c, req, sizeof(req)) > 0 &&
			    write(c, ok, sizeof(ok) - 1) == (ssize_t)sizeof(ok) - 1 &&
			    write(p[1], "r", 1) != 1)
				_exit(1);
			close(c);
		}
	}
	close(ls);
	close(p[1]);
	receiver_fd = p[0];
	fcntl(receiver_fd, F_SETFL, O_NONBLOCK);
	return receiver > 0 ? ntohs(a.sin_port) : -1;
}

static int received(void)
{
	char b[256];
	ssize_t n;
	int total = 0;

	while ((n = read(receiver_fd, b, sizeof(b))) > 0)
		total += (int)n;
	return total;
}

/* A flush that never returns: say so, stop the helpers, fail. */
static void on_alarm(int sig)
{
	static const char msg[] = "not ok - report_flush did not return within 20 s\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	if (receiver > 0)
		kill(receiver, SIGKILL);
	if (sim > 0)
		kill(sim, SIGTERM);
	_exit(1);
}

/*
 * The receiver takes each report, but the outbox cannot remove it (the
 * disk is full): the same report must not go again at every cycle, and a
 * report that cannot even be sent (not a JSON object) must not spin the
 * flush for ever. Both back off and say so.
 */
static void test_report_storm(int port)
{
	struct schedule_state s = { 0 };
	struct config cfg;
	struct agent *a = NULL;
	struct upstream *up = NULL;
	int rc[5], sent;

	write_config("config-reports.yaml", port);
	if (config_load(at("config-reports.yaml"), &cfg))
		return (void)check(!"config loads");
	check_int(agent_open(&a, &cfg), ==, 0);
	check_int(upstream_new(&up, &cfg), ==, 0);
	if (!a || !up)
		goto out;
	check_int(store_outbox_add(agent_store(a), "web", 1, "healthy", "{\"a\":1}", 7), >=, 0);
	fault_arm(1, F_WRITE | F_SYNC | F_TRUNC, SQLITE_FULL, 1, 0);
	tap_quiet(1);
	for (int i = 0; i < 5; i++)
		rc[i] = report_flush(up, agent_store(a), &cfg, &s, 0);
	tap_quiet(0);
	usleep(200000);
	sent = received();
	tap_diag("full disk, the receiver answering 200: %d POSTs in 5 flushes", sent);
	check_int(sent, ==, 1);
	check_int(rc[0], ==, E_STORE);
	check_int(rc[1], ==, 0);               /* backing off: nothing tried */
	check_int(s.errors, ==, 1);
	check_int(s.next, >=, (int64_t)time(NULL) + 9);
	fault_disarm();
	/* once the disk has room the report goes, and the schedule resets */
	check_int(report_flush(up, agent_store(a), &cfg, &s, 1), ==, 1);
	check_int(s.errors, ==, 0);
	usleep(200000);
	check_int(received(), ==, 1);

	/* a report that cannot be sent, and cannot be removed either */
	check_int(store_outbox_add(agent_store(a), "web", 2, "healthy", "not json", 8), >=, 0);
	fault_arm(1, F_WRITE | F_SYNC | F_TRUNC, SQLITE_FULL, 1, 0);
	signal(SIGALRM, on_alarm);
	alarm(20);              /* the flush spun here for ever */
	tap_quiet(1);
	check_int(report_flush(up, agent_store(a), &cfg, &s, 1), ==, E_STORE);
	tap_quiet(0);
	alarm(0);
	fault_disarm();
	check_int(s.errors, ==, 1);
	check_int(received(), ==, 0);
out:
	upstream_free(up);
	agent_close(a);
	config_free(&cfg);
}

/* --- the release state machine when the store fails ------------------------- */

static char sim_port[16];
static struct kube *kube;

static void sim_reset(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "curl -s --cacert %s/sim/ca.crt -d '{}' "
		 "https://localhost:%s/kubesim/reset >/dev/null", dir, sim_port);
	if (system(cmd) != 0)
		tap_diag("kubesim reset failed");
}

static int exists(const char *api, const char *kind, const char *ns, const char *name)
{
	struct kube_object o = { api, kind, ns, name, NULL, 0, NULL, NULL };
	struct buf out = BUF_INIT(1 << 20);
	int rc = kube_get(kube, &o, &out);

	buf_free(&out);
	return rc == 0;
}

/* The sequence the store calls current (its last-known-good); 0: none, <0: error. */
static int64_t current(struct agent *a)
{
	struct store_release r;
	int64_t id = 0;
	int rc = store_lkg_get(agent_store(a), "web", &id);

	if (rc)
		return rc == E_NOTFOUND ? 0 : rc;
	rc = store_release_get_id(agent_store(a), id, &r);
	return rc ? rc : r.sequence;
}

/* Every object the current release's inventory lists is in the cluster. */
static int current_present(struct agent *a)
{
	struct store_object *objs = NULL;
	size_t n = 0;
	int64_t id = 0;
	int ok;

	if (store_lkg_get(agent_store(a), "web", &id) ||
	    store_inventory_get(agent_store(a), id, &objs, &n) || n == 0)
		return 0;
	ok = 1;
	for (size_t i = 0; i < n; i++)
		if (!exists(objs[i].api_version, objs[i].kind, objs[i].ns, objs[i].name)) {
			tap_diag("current object %s %s/%s is gone", objs[i].kind, objs[i].ns,
				 objs[i].name);
			ok = 0;
		}
	store_objects_free(objs, n);
	return ok;
}

/* A fresh state and cluster with web-1 installed and healthy; 0 or why not. */
static int with_v1(struct config *cfg, struct agent **a)
{
	char app[64], cmd[300];
	int rc;

	*a = NULL;
	sim_reset();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", at("state"));
	if (system(cmd) != 0)
		return -1;
	rc = config_load(at("config.yaml"), cfg);
	if (!rc && (rc = agent_open(a, cfg)) != 0)
		config_free(cfg);
	if (!rc)
		rc = agent_import(*a, at("web-1.bundle"), 0, app);
	if (!rc)
		rc = agent_step(*a, "web");
	return rc;
}

static void close_agent(struct config *cfg, struct agent *a)
{
	agent_close(a);
	config_free(cfg);
}

/* Carry web on without faults until it settles: what a later cycle does. */
static int settle(struct agent *a)
{
	int rc = E_STORE;

	for (int i = 0; i < 4 && rc != 0 && rc != E_STATE; i++)
		rc = agent_step(a, "web");
	return rc;
}

/*
 * The lookup of the last-known-good fails while a failed release is
 * rolled back: that is not "there is none" (the first-install path, which
 * deletes the failed release's objects, the running ones among them).
 */
static void test_lkg_lookup_fails(void)
{
	struct config cfg;
	struct agent *a;
	char app[64];
	int rc;

	if (with_v1(&cfg, &a))
		return (void)check(!"web-1 installs");
	check_int(agent_import(a, at("web-3.bundle"), 0, app), ==, 0);
	store_fail_at("lkg get", 1);
	tap_quiet(1);
	rc = agent_step(a, "web");
	tap_quiet(0);
	check(store_fail_fired());
	store_fail_at(NULL, 0);
	check_int(rc, ==, E_STORE);
	check(current_present(a));
	check(exists("apps/v1", "Deployment", "web", "web"));
	check_int(current(a), ==, 1);
	/* retried: rolled back to web-1 */
	tap_quiet(1);
	check_int(settle(a), ==, E_STATE);
	tap_quiet(0);
	check_int(current(a), ==, 1);
	check(current_present(a));
	close_agent(&cfg, a);
}

/*
 * Fail the n-th store statement of an update (web-1 -> web-2, healthy,
 * pruning web-1's ConfigMap) or of a rollback (web-1 -> web-3, failing),
 * for every n until a step runs through: nothing the store calls current
 * may be missing from the cluster after the failed step, and a retry
 * ends where it would have without the failure.
 */
static void every_step(const char *what, const char *bundle, int64_t want)
{
	int bad = 0, n;

	for (n = 1; n < 400; n++) {
		struct config cfg;
		struct agent *a;
		char app[64];
		int fired, ok;

		if (with_v1(&cfg, &a) || agent_import(a, at(bundle), 0, app)) {
			check(!"the fixture installs");
			break;
		}
		store_fail_at(NULL, (unsigned long)n);
		tap_quiet(1);
		agent_step(a, "web");
		fired = store_fail_fired();
		store_fail_at(NULL, 0);
		ok = current_present(a) && current(a) >= 1;
		settle(a);
		tap_quiet(0);
		ok &= current(a) == want && current_present(a);
		if (!ok) {
			tap_diag("%s: store statement %d failing: current %lld", what, n,
				 (long long)current(a));
			bad++;
		}
		close_agent(&cfg, a);
		if (!fired)
			break;
	}
	tap_diag("%s: %d store statements failed one by one", what, n - 1);
	check_int(n, >, 5);
	check_int(bad, ==, 0);
}

static void test_every_step(void)
{
	every_step("update", "web-2.bundle", 2);
	every_step("rollback", "web-3.bundle", 1);
}

/* A stored trust root that does not parse is an error, never no root. */
static void test_stored_root_broken(void)
{
	struct config cfg;
	struct agent *a = NULL;
	struct store *st = NULL;
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", at("state"));
	if (system(cmd) != 0 || config_load(at("config.yaml"), &cfg))
		return (void)check(!"fixture");
	mkdir(at("state"), 0700);
	check_int(store_open(at("state/outpost.db"), &st), ==, 0);
	if (st)
		check_int(store_root_put(st, 7, 4102444800, "not: a root\n", 12, "x\n", 2), ==, 0);
	store_close(st);
	tap_quiet(1);
	check_int(agent_open(&a, &cfg), ==, E_FORMAT);
	tap_quiet(0);
	check(a == NULL);
	agent_close(a);
	config_free(&cfg);
}

static int cluster_fixture(void)
{
	struct kube_opts o = { 0 };
	struct buf p = BUF_INIT(64);

	if (file_read(at("sim/port"), 64, &p))
		return -1;
	snprintf(sim_port, sizeof(sim_port), "%.*s", (int)strcspn(p.data, "\n"), p.data);
	buf_free(&p);
	o.kubeconfig = kubeconfig;
	if (kube_open(&kube, &o))
		return -1;
	if (pack(1, "nginx:1", "ready") || pack(2, "nginx:2", "ready") ||
	    pack(3, "nginx:3", "progress-deadline"))
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	/* the verifier child that upstream starts from this very binary
	 * (CONFIG_PRIVSEP): its argv is "NAME --config PATH --log-level L CMD" */
	if (argc == 6 && strcmp(argv[5], VERIFIER_COMMAND) == 0) {
		config_set_path(argv[2]);
		return upstream_child_main();
	}
	snprintf(dir, sizeof(dir), "/tmp/outpost-agent-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	fault_vfs_install();
	F.nosync = 1;
	check_int(setup(), ==, 0);
	test_poll_storm();
	{
		int port = start_receiver();

		check_int(port, >, 0);
		if (port > 0)
			test_report_storm(port);
		if (receiver > 0) {
			kill(receiver, SIGKILL);
			waitpid(receiver, NULL, 0);
		}
	}
	if (start_kubesim() != 0) {
		tap_diag("skip the cluster tests: kubesim did not start");
	} else if (cluster_fixture() != 0) {
		check(!"the cluster fixture: kube client and bundles");
	} else {
		test_lkg_lookup_fails();
		test_every_step();
		test_stored_root_broken();
	}
	kube_close(kube);
	stop_kubesim();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}
