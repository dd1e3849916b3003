/*
 * cmd_config — `outpost check-config`: load the configuration as the agent
 * would, then check what it points at: the trust root verifies (signed by
 * its own root threshold, not expired), the kubeconfig loads, the TLS files
 * are readable PEM, the state directory is a directory. Every problem is
 * logged; exit 0 with a one-line summary on stdout, or 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "buf.h"
#include "cmd.h"
#include "config.h"
#include "crypto.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "kube.h"
#include "log.h"
#include "meta.h"
#include "opts.h"
#include "store.h"
#include "trust.h"

#define PEM_FILE_MAX (4u << 20)   /* a CA bundle is ~200 KiB */

const char cmd_check_config_usage[] =
	"[--config PATH]\n"
	"Load the configuration (default: the global --config, else " CONFIG_CONFIG_PATH ")\n"
	"and check the files it names: the trust root must verify, the kubeconfig\n"
	"must load, TLS files must be readable PEM. Exit status: 0 OK, 1 problems\n"
	"found (each one logged), 2 usage.";

/* 0 when path can be read; logged with what names it in the config otherwise. */
static int readable(const char *what, const char *path)
{
	if (access(path, R_OK) == 0)
		return 0;
	return error(errno == ENOENT ? E_NOTFOUND : E_IO, "%s %s: %s", what, path,
		     strerror(errno));
}

/* 0 when path is readable and holds marker (a PEM header); logged otherwise. */
static int check_pem(const char *what, const char *path, const char *marker, int secret)
{
	struct buf b = BUF_INIT(PEM_FILE_MAX);
	int rc = readable(what, path);

	if (!rc)
		rc = file_read(path, PEM_FILE_MAX, &b);

	if (!rc && !strstr(b.data, marker))
		rc = error(E_CONFIG, "%s %s: no \"%s\" in it", what, path, marker);
	if (secret)
		crypto_wipe(b.data, b.len);
	buf_free(&b);
	return rc;
}

static int check_trust(const struct config *c, int64_t now)
{
	struct buf root = BUF_INIT(ROOT_MAX_SIZE), sig = BUF_INIT(SIG_MAX_SIZE);
	struct trust *t = NULL;
	int rc = readable("trust.root", c->trust.root);

	if (!rc)
		rc = file_read(c->trust.root, ROOT_MAX_SIZE, &root);
	if (!rc && access(c->trust.root_sig, F_OK) != 0 && errno == ENOENT)
		rc = error(E_SIGNATURE, "trust.root %s: no %s: the trust root must be signed "
			   "by its own root keys", c->trust.root, c->trust.root_sig);
	if (!rc)
		rc = file_read(c->trust.root_sig, SIG_MAX_SIZE, &sig);
	if (!rc)
		rc = trust_load(c->trust.root, root.data, root.len, sig.data, sig.len, now, &t);
	trust_free(t);
	buf_free(&root);
	buf_free(&sig);
	return rc;
}

static int check_state_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT) {
			log_warn("state_dir %s does not exist (yet)", dir);
			return 0;
		}
		return error(E_IO, "state_dir %s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return error(E_CONFIG, "state_dir %s: not a directory", dir);
	if (access(dir, W_OK) != 0)
		log_warn("state_dir %s: not writable by this user", dir);
	return agent_state_dir_check(dir);
}

/* The directory of a file to be written must exist. */
static int check_parent(const char *what, const char *path)
{
	char dir[CFG_PATH_MAX + 1];
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	struct stat st;

	memcpy(dir, path, n);
	dir[n] = '\0';
	if (n == 0)
		return 0;       /* the root directory */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return error(E_CONFIG, "%s %s: directory %s does not exist", what, path, dir);
	return 0;
}

/* Check what c names; the number of problems found (each logged). */
static unsigned check_files(const struct config *c)
{
	struct kube_config *kc = NULL;
	unsigned n = 0;
	struct stat st;

	n += check_trust(c, (int64_t)time(NULL)) != 0;
	if (readable("kubernetes.kubeconfig", c->kubernetes.kubeconfig) != 0)
		n++;
	else
		n += kube_config_load(&kc, c->kubernetes.kubeconfig) != 0;
	kube_config_free(kc);
	if (c->tls.ca)
		n += check_pem("tls.ca", c->tls.ca, "-----BEGIN CERTIFICATE-----", 0) != 0;
	if (c->tls.client_cert) {
		n += check_pem("tls.client_cert", c->tls.client_cert,
			       "-----BEGIN CERTIFICATE-----", 0) != 0;
		n += check_pem("tls.client_key", c->tls.client_key, "PRIVATE KEY-----", 1) != 0;
		if (stat(c->tls.client_key, &st) == 0 && (st.st_mode & 077))
			log_warn("tls.client_key %s: readable by others (mode %03o): chmod 600",
				 c->tls.client_key, (unsigned)(st.st_mode & 0777));
	}
	n += check_state_dir(c->state_dir) != 0;
	if (c->metrics.path)
		n += check_parent("metrics.path", c->metrics.path) != 0;
	return n;
}

/*
 * The clock floor of the state store, when there is one, and whether the
 * system clock is trusted against it (a `created` from the future is only
 * refused then). 0, or the store's error (logged).
 */
static int show_clock(const char *state_dir)
{
	char path[CFG_PATH_MAX + 32], f[META_TIME_LEN + 1], n[META_TIME_LEN + 1];
	int64_t floor = 0, now = (int64_t)time(NULL);
	struct store *st = NULL;
	int rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/outpost.db", state_dir) >= sizeof(path))
		return error(E_LIMIT, "state_dir %s: path too long", state_dir);
	if (access(path, F_OK) != 0) {
		printf("clock floor: none yet (no state database)\n");
		return 0;
	}
	rc = store_open(path, &st);
	if (!rc)
		rc = store_clock_floor_get(st, &floor);
	store_close(st);
	if (rc)
		return error(rc, "%s: the clock floor cannot be read", path);
	meta_time_format(floor, f);
	meta_time_format(now, n);
	printf("clock floor: %s; system clock %s (%s)\n", floor ? f : "none yet", n,
	       trust_created_limit(now, floor) ? "trusted: a 'created' more than a day "
	       "ahead of it is refused" : "not trusted: before the floor or 2025");
	return 0;
}

int cmd_check_config(int argc, char **argv)
{
	const char *path = NULL;
	struct config c;
	unsigned problems;
	int rc;

	const struct opt table[] = {
		OPT_STRING("config", 0, &path, "PATH", "the file to check (default: the agent's)"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("check-config", NULL, table, NULL, 0);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!path)
		path = config_path();
	rc = config_load(path, &c);
	if (rc) {
		if (rc == E_CONFIG)
			error(rc, "%s: refused (%u problem%s)", path, c.errors,
			      c.errors == 1 ? "" : "s");
		return 1;
	}
	problems = check_files(&c);
	if (problems) {
		error(E_CONFIG, "%s: %u problem%s with the files it names", path, problems,
		      problems == 1 ? "" : "s");
		config_free(&c);
		return 1;
	}
	printf("config OK: %zu app%s (", c.napps, c.napps == 1 ? "" : "s");
	for (size_t i = 0; i < c.napps; i++)
		printf("%s%s", i ? ", " : "", c.apps[i].name);
	printf("), server %s, device %s, state dir %s\n", c.server, c.device.id, c.state_dir);
	rc = show_clock(c.state_dir);
	config_free(&c);
	return rc ? 1 : 0;
}
