/* agent — the release state machine of each app, on the state store. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "apply.h"
#include "bundle.h"
#include "crypto.h"
#include "error.h"
#include "events.h"
#include "features.h"
#include "file.h"
#include "kube.h"
#include "log.h"
#include "mem.h"
#include "meta.h"
#include "sdnotify.h"
#include "secrets.h"
#include "metrics.h"
#include "netaddr.h"
#include "pause.h"
#include "report.h"
#include "store.h"
#include "trust.h"

#define HEALTH_POLL_MS 500

struct agent {
	const struct config *cfg;
	struct store *st;
	struct trust *trust;
	struct kube *k;
	struct secrets *sec;            /* the gateway's age identities */
	int64_t root_floor;             /* the highest root version ever accepted */
};

/* "now" for expiry checks: the clock, never earlier than what was accepted. */
static int64_t agent_now(struct agent *a)
{
	int64_t floor = 0, now = (int64_t)time(NULL);

	store_clock_floor_get(a->st, &floor);
	return now > floor ? now : floor;
}

/*
 * Every transition of a release goes through here: the compare-and-set in
 * the store, then a report queued in the outbox (inside the caller's
 * group, if any, so that a rolled-back transition reports nothing). A
 * report that cannot be queued never holds a transition back.
 */
static int set_state(struct agent *a, const char *app, int64_t sequence,
		     enum store_state from, enum store_state to, const char *msg)
{
	int rc = store_release_set_state(a->st, app, sequence, from, to, msg);

	if (!rc && from != to)
		report_queue(a->st, a->cfg, app, sequence, to, msg);
	return rc;
}

static const struct config_app *app_config(struct agent *a, const char *app)
{
	return config_app_find(a->cfg, app);
}

/*
 * Releases are stored under the app name their signed metadata carries,
 * which is the channel's; commands name apps as the config does.
 */
static const char *release_key(struct agent *a, const char *app)
{
	const struct config_app *c = app_config(a, app);

	return c ? c->channel : app;
}

/* --- the trust anchors: state dir, floors, root chain ----------------------- */

/*
 * The state directory holds the trust root and the floors: one another user
 * can write is an anchor anyone can replace. Like ssh's StrictModes, refuse
 * a directory (dir) or file not owned by this user (or root), or writable by
 * group or others, and a symlink to one. A file that does not exist is fine.
 */
static int private_path(const char *path, int dir)
{
	uid_t me = geteuid();
	struct stat st;

	if (stat(path, &st)) {
		if (errno == ENOENT && !dir)
			return 0;
		return error(E_IO, "%s: %s", path, strerror(errno));
	}
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return error(E_CONFIG, "%s: not a %s: refused", path,
			     dir ? "directory" : "regular file");
	if (st.st_uid != me && st.st_uid != 0)
		return error(E_CONFIG, "%s: owned by uid %u, not by this agent's user (uid %u) "
			     "or root: another user could plant the trust root and floors it "
			     "holds: refused", path, (unsigned)st.st_uid, (unsigned)me);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return error(E_CONFIG, "%s: writable by group or others (mode %04o): another "
			     "user could plant the trust root and floors it holds: refused "
			     "(chmod go-w %s)", path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

int agent_state_dir_check(const char *dir)
{
	static const char *const files[] = { "outpost.db", "outpost.db-wal", "outpost.db-shm",
					     AGENT_FLOORS_FILE };
	char path[4096];
	int rc = private_path(dir, 1);

	for (size_t i = 0; !rc && i < sizeof(files) / sizeof(files[0]); i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= sizeof(path))
			return error(E_LIMIT, "state_dir %s: path too long", dir);
		rc = private_path(path, 0);
	}
	return rc;
}

/*
 * The floors are also kept outside the database, in state_dir/floors, so
 * that a database moved aside as corrupt (or replaced) does not forget
 * them: "outpost-floors 1", then "root V", "clock T" and "app NAME SEQ"
 * lines. Written atomically after each change; at open the highest of
 * the file and the database wins, both ways.
 */
static int floors_path(struct agent *a, char out[4096])
{
	if ((size_t)snprintf(out, 4096, "%s/%s", a->cfg->state_dir, AGENT_FLOORS_FILE) >= 4096)
		return error(E_LIMIT, "state_dir %s: path too long", a->cfg->state_dir);
	return 0;
}

static int floor_line(void *ctx, const char *app, int64_t sequence)
{
	return buf_addf(ctx, "app %s %lld\n", app, (long long)sequence);
}

static int floors_save(struct agent *a)
{
	struct buf text = BUF_INIT(AGENT_FLOORS_MAX), old = BUF_INIT(AGENT_FLOORS_MAX);
	int64_t clock = 0, root = a->root_floor;
	char path[4096];
	int rc = floors_path(a, path);

	if (a->trust && trust_version(a->trust) > root)
		root = trust_version(a->trust);
	if (!rc)
		rc = store_clock_floor_get(a->st, &clock);
	if (!rc)
		rc = buf_addf(&text, "outpost-floors 1\nroot %lld\nclock %lld\n", (long long)root,
			      (long long)clock);
	if (!rc)
		rc = store_floor_list(a->st, floor_line, &text);
	/* unchanged (most starts): no write, no fsync */
	if (!rc && (access(path, F_OK) || file_read(path, AGENT_FLOORS_MAX, &old) ||
		    old.len != text.len ||
		    memcmp(old.data, text.data, text.len) != 0))
		rc = file_write_atomic(path, text.data, text.len, 0600);
	if (!rc)
		a->root_floor = root;
	buf_free(&text);
	buf_free(&old);
	return rc;
}

/* A plain decimal number from s, at most INT64_MAX; *end after it. */
static int floors_int(const char *s, const char **end, int64_t *out)
{
	int64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - (*p - '0')) / 10)
			return E_FORMAT;
		v = v * 10 + (*p - '0');
	}
	if (p == s || (p - s > 1 && *s == '0'))
		return E_FORMAT;
	*end = p;
	*out = v;
	return 0;
}

/* Raise the database's floors to the file's (the highest wins). */
static int floors_load(struct agent *a)
{
	struct buf text = BUF_INIT(AGENT_FLOORS_MAX);
	char path[4096], app[STORE_APP_MAX + 1];
	unsigned line = 0;
	int rc = floors_path(a, path);

	if (!rc && access(path, F_OK) && errno == ENOENT) {
		buf_free(&text);
		return 0;       /* a gateway's first start */
	}
	if (!rc)
		rc = file_read(path, AGENT_FLOORS_MAX, &text);
	for (char *l = text.data, *nl; !rc && *l; l = nl + 1) {
		const char *p = l, *e;
		int64_t v = 0, cur = 0;
		size_t n;

		nl = strchr(l, '\n');
		line++;
		if (!nl) {
			rc = E_FORMAT;
			break;
		}
		*nl = '\0';
		if (line == 1) {
			rc = strcmp(l, "outpost-floors 1") ? E_FORMAT : 0;
		} else if (strncmp(l, "root ", 5) == 0 || strncmp(l, "clock ", 6) == 0) {
			int root = l[0] == 'r';

			rc = floors_int(l + (root ? 5 : 6), &e, &v);
			if (!rc && *e)
				rc = E_FORMAT;
			if (!rc && root && v > a->root_floor)
				a->root_floor = v;
			else if (!rc && !root)
				rc = store_clock_floor_raise(a->st, v);
		} else if (strncmp(l, "app ", 4) == 0) {
			p = l + 4;
			n = strcspn(p, " ");
			if (n == 0 || n > STORE_APP_MAX || !p[n]) {
				rc = E_FORMAT;
				break;
			}
			memcpy(app, p, n);
			app[n] = '\0';
			rc = floors_int(p + n + 1, &e, &v);
			if (!rc && *e)
				rc = E_FORMAT;
			if (!rc)
				rc = store_floor_get(a->st, app, &cur);
			if (!rc && v > cur)
				rc = store_floor_raise(a->st, app, v);
		} else {
			rc = E_FORMAT;
		}
	}
	if (rc == E_FORMAT)
		error(rc, "%s line %u: not a floors file line (\"outpost-floors 1\", then "
		      "\"root N\", \"clock N\", \"app NAME N\"): refused; it keeps the "
		      "anti-rollback floors when the database is lost", path, line);
	buf_free(&text);
	return rc;
}

/*
 * Make next (verified by the caller, from cur when cur is set) the agent's
 * root: stored, and when it replaced the release keys of cur, the floors
 * that rest on those keys are reset with it (TUF's fast-forward recovery).
 * next is the agent's afterwards, whatever the outcome.
 */
static int root_accept(struct agent *a, struct trust *next, const char *name,
		       const struct buf *root, const struct buf *sig)
{
	/* once: walking the chain again after a lost database resets nothing */
	int reset = a->trust && trust_version(next) > a->root_floor &&
		    trust_release_keys_replaced(a->trust, next);
	int rc = store_begin(a->st);

	if (!rc)
		rc = store_root_put(a->st, trust_version(next), trust_expires(next), root->data,
				    root->len, sig->data, sig->len);
	if (!rc && reset)
		rc = store_floors_reset(a->st);
	if (!rc)
		rc = store_commit(a->st);
	else if (rc != E_STATE)
		store_rollback(a->st);
	if (rc) {
		trust_free(next);
		return rc;
	}
	trust_free(a->trust);
	a->trust = next;
	log_info("trust root version %lld accepted from %s", (long long)trust_version(next),
		 name);
	if (reset)
		log_warn("trust root version %lld replaced the release keys: the anti-rollback "
			 "and clock floors that rested on the old keys are reset; releases "
			 "signed by the new keys are accepted from any sequence",
			 (long long)trust_version(next));
	return floors_save(a);
}

int agent_root_rotate(struct agent *a, const char *name, const struct buf *root,
		      const struct buf *sig)
{
	struct trust *next;
	/* a link's expiry does not matter (TUF): the root the walk ends on is
	 * checked before every update, and an expired one refuses them all */
	int rc = trust_rotate(a->trust, name, root->data, root->len, sig->data, sig->len,
			      0, &next);

	return rc ? rc : root_accept(a, next, name, root, sig);
}

int agent_clock_floor_raise(struct agent *a, int64_t t)
{
	int64_t cur = 0;
	int rc = store_clock_floor_get(a->st, &cur);

	if (rc || t <= cur)
		return rc;
	rc = store_clock_floor_raise(a->st, t);
	return rc ? rc : floors_save(a);
}

int agent_root_floor_check(struct agent *a, const char *what)
{
	if (trust_version(a->trust) >= a->root_floor)
		return 0;
	return error(E_ROLLBACK, "%s: refused: trust root version %lld was accepted on this "
		     "gateway before (%s/%s), the current one is version %lld: no update is "
		     "accepted until the root is brought forward again (roots/ on the server, "
		     "or trust.root)", what, (long long)a->root_floor, a->cfg->state_dir,
		     AGENT_FLOORS_FILE, (long long)trust_version(a->trust));
}

/*
 * The trust root: the configured one (trust.root, self-signed), then each
 * stored root above it, each a verified rotation of the one before (a
 * stored root that does not chain from the configured one is a planted
 * database: refused), then the configured one again when it is newer than
 * all of them (a rotation installed on disk).
 */
static int load_trust(struct agent *a)
{
	struct buf droot = BUF_INIT(ROOT_MAX_SIZE), dsig = BUF_INIT(SIG_MAX_SIZE);
	struct buf sroot = BUF_INIT(ROOT_MAX_SIZE), ssig = BUF_INIT(SIG_MAX_SIZE);
	const char *path = a->cfg->trust.root;
	struct trust *cfg = NULL, *next = NULL;
	int64_t v = 0;
	int rc;

	rc = file_read(path, ROOT_MAX_SIZE, &droot);
	if (!rc)
		rc = file_read(a->cfg->trust.root_sig, SIG_MAX_SIZE, &dsig);
	if (!rc)
		rc = trust_parse(path, droot.data, droot.len, &cfg);
	if (!rc)
		rc = trust_check(cfg, ROLE_ROOT, path, droot.data, droot.len, dsig.data, dsig.len);
	/* the same version stored must be the same root */
	if (!rc)
		rc = store_root_next(a->st, trust_version(cfg) - 1, &sroot, &ssig, &v);
	if (!rc && v == trust_version(cfg) &&
	    (sroot.len != droot.len || memcmp(sroot.data, droot.data, droot.len) != 0))
		rc = error(E_UNTRUSTED, "stored trust root version %lld differs from the "
			   "configured %s of the same version: refused (a planted or altered "
			   "state database?)", (long long)v, path);
	if (rc == E_NOTFOUND)
		rc = 0;
	if (rc) {
		trust_free(cfg);
		goto out;
	}
	a->trust = cfg;
	v = trust_version(cfg);
	/* the stored chain above it, each link verified; an old link may have
	 * expired since, the newest is kept even expired (rollbacks) */
	for (;;) {
		buf_reset(&sroot);
		buf_reset(&ssig);
		rc = store_root_next(a->st, v, &sroot, &ssig, &v);
		if (rc == E_NOTFOUND) {
			rc = 0;
			break;
		}
		if (rc)
			break;
		rc = trust_rotate(a->trust, "stored root", sroot.data, sroot.len, ssig.data,
				  ssig.len, 0, &next);
		if (rc) {
			error(rc, "stored trust root version %lld is not a verified rotation of "
			      "the configured %s (version %lld): refused (a planted or altered "
			      "state database?)", (long long)v, path, (long long)trust_version(cfg));
			break;
		}
		trust_free(a->trust);
		a->trust = next;
	}
	/* first run, or a newer root installed at trust.root */
	if (!rc && a->trust == cfg) {
		struct trust *top = NULL;

		rc = store_root_get(a->st, &sroot, &ssig, &v, NULL);
		if (rc == E_NOTFOUND) {
			a->trust = NULL;
			rc = trust_check_expiry(path, trust_expires(cfg), agent_now(a));
			if (rc)
				trust_free(cfg);
			else
				rc = root_accept(a, cfg, path, &droot, &dsig);
		} else if (!rc && v < trust_version(cfg)) {
			a->trust = NULL;
			rc = trust_parse("stored root", sroot.data, sroot.len, &top);
			if (!rc) {
				a->trust = top;
				rc = trust_rotate(top, path, droot.data, droot.len, dsig.data,
						  dsig.len, agent_now(a), &next);
				if (!rc)
					rc = root_accept(a, next, path, &droot, &dsig);
			}
			trust_free(cfg);
		}
	}
out:
	buf_free(&sroot);
	buf_free(&ssig);
	buf_free(&droot);
	buf_free(&dsig);
	return rc;
}

int agent_open(struct agent **out, const struct config *cfg)
{
	struct agent *a = mem_zalloc(1, sizeof(*a));
	struct buf path = BUF_INIT(8192);
	int rc;

	*out = NULL;
	if (!a)
		return E_NOMEM;
	a->cfg = cfg;
	if (mkdir(cfg->state_dir, 0700) && errno != EEXIST) {
		rc = error(E_IO, "%s: %s", cfg->state_dir, strerror(errno));
		goto fail;
	}
	rc = agent_state_dir_check(cfg->state_dir);
	if (!rc)
		rc = buf_addf(&path, "%s/outpost.db", cfg->state_dir);
	if (!rc)
		rc = store_open(path.data, &a->st);
	if (!rc && store_was_reset(a->st))
		log_error("the state database was corrupt: moved aside to %s; starting "
			  "afresh, releases will be fetched or imported again",
			  store_reset_path(a->st));
	if (!rc)
		rc = floors_load(a);
	if (!rc)
		rc = load_trust(a);
	if (!rc)
		rc = floors_save(a);
	if (!rc)
		rc = secrets_open(cfg, &a->sec);
	/* the recipient (public) for status and reports */
	if (!rc && *secrets_recipient(a->sec))
		rc = store_setting_set(a->st, SECRETS_KEY_RECIPIENT, secrets_recipient(a->sec),
				       strlen(secrets_recipient(a->sec)));
	if (rc)
		goto fail;
	buf_free(&path);
	*out = a;
	return 0;
fail:
	buf_free(&path);
	agent_close(a);
	return rc;
}

void agent_close(struct agent *a)
{
	if (!a)
		return;
	kube_close(a->k);
	secrets_close(a->sec);
	trust_free(a->trust);
	store_close(a->st);
	mem_free(a);
}

struct store *agent_store(struct agent *a)
{
	return a->st;
}

const char *agent_recipient(struct agent *a)
{
	return secrets_recipient(a->sec);
}

const struct trust *agent_trust(struct agent *a)
{
	return a->trust;
}

int64_t agent_clock(struct agent *a)
{
	return agent_now(a);
}

int64_t agent_created_limit(struct agent *a)
{
	int64_t floor = 0;

	if (store_clock_floor_get(a->st, &floor))
		return 0;
	return trust_created_limit((int64_t)time(NULL), floor);
}

static int kube_ready(struct agent *a)
{
	struct kube_opts o = { 0 };

	if (a->k)
		return 0;
	o.kubeconfig = a->cfg->kubernetes.kubeconfig;
	o.parallel = a->cfg->kubernetes.parallel;
	o.field_manager = a->cfg->kubernetes.field_manager;
	return kube_open(&a->k, &o);
}

/* --- import --------------------------------------------------------------- */

/*
 * A bundle taken in as it is read (bundle_read_sink()): the release row
 * and its files are written inside one store group as they come, and the
 * group is committed only when the whole bundle has been verified, so
 * nothing half-checked is ever kept. When (app, sequence) is stored
 * already, nothing is written and the digests decide at the end.
 */
#define PENDING_DIGEST "0000000000000000000000000000000000000000000000000000000000000000"

struct intake {
	struct agent *a;
	const char *name;
	const struct pointer *p;        /* from the server: what it must be */
	const struct bundle *b;
	int grouped;                    /* inside store_begin() */
	int existing;                   /* old holds the stored release */
	struct store_release old;
	int64_t id;
};

/*
 * The bundle's HTTP probes target loopback, this node's own addresses or
 * a host health.probe_hosts allows: a signed bundle must not make the
 * gateway a client of other hosts (169.254.169.254, the LAN). E_FORMAT.
 */
static int probes_allowed(struct agent *a, const struct bundle *b, const char *name)
{
	char host[256];

	for (size_t i = 0; i < b->nprobes; i++) {
		const char *url = b->probes[i].url;
		int ok = netaddr_url_host(url, host, sizeof(host)) == 0;

		if (!ok)
			return error(E_FORMAT, "%s: probe '%s': '%s' has no host a probe may use "
				     "(http(s)://host[:port]/..., no credentials)", name,
				     b->probes[i].name, url);
		ok = netaddr_is_local(host);
		for (size_t j = 0; !ok && j < a->cfg->health.nprobe_hosts; j++)
			ok = strcasecmp(host, a->cfg->health.probe_hosts[j]) == 0;
		if (!ok)
			return error(E_FORMAT, "%s: probe '%s' targets %s, which is not this node: "
				     "probes may target loopback and this node's own addresses, "
				     "and the hosts health.probe_hosts lists: refused", name,
				     b->probes[i].name, host);
	}
	return 0;
}

static int intake_begin(void *ctx, const struct bundle *b)
{
	struct intake *in = ctx;
	struct agent *a = in->a;
	const struct config_app *c;
	struct store_file meta[2];
	char hex[2][SHA256_HEX_LEN + 1];
	unsigned char d[SHA256_LEN];
	int64_t floor = 0;
	int rc;

	in->b = b;
	/* a bundle's app is its channel's: releases are stored and stepped
	 * under the channel, so a bundle named after an app that follows
	 * another channel would be stored and never applied */
	if (!config_app_by_channel(a->cfg, b->app)) {
		c = config_app_find(a->cfg, b->app);
		if (c)
			return error(E_CONFIG, "%s: a bundle of app '%s', but on this gateway "
				     "app '%s' follows channel '%s': a bundle's app must be its "
				     "channel's name (pack it with --app %s): refused", in->name,
				     b->app, c->name, c->channel, c->channel);
		return error(E_CONFIG, "%s: app '%s' is not configured on this gateway",
			     in->name, b->app);
	}
	if (in->p && (strcmp(b->app, in->p->app) != 0 || b->sequence != in->p->sequence))
		return error(E_FORMAT, "%s: holds %s sequence %lld, the pointer names %s "
			     "sequence %lld", in->name, b->app, (long long)b->sequence,
			     in->p->app, (long long)in->p->sequence);
	rc = probes_allowed(a, b, in->name);
	if (!rc)
		rc = store_floor_get(a->st, b->app, &floor);
	if (!rc && b->sequence < floor)
		rc = error(E_ROLLBACK, "%s: sequence %lld is older than %lld, already accepted "
			   "for '%s'", in->name, (long long)b->sequence, (long long)floor, b->app);
	if (rc)
		return rc;
	rc = store_release_get(a->st, b->app, b->sequence, &in->old);
	if (rc == 0) {
		in->existing = 1;       /* read on, to know its digest */
		return 0;
	}
	if (rc != E_NOTFOUND)
		return rc;
	rc = store_begin(a->st);
	if (rc)
		return rc;
	in->grouped = 1;
	/* the digest of the whole bundle is known at its end */
	rc = store_release_add(a->st, b->app, b->sequence, b->version, PENDING_DIGEST, &in->id);
	/* bundle.yaml and its signature go with the files: the store alone
	 * can describe (and re-verify) the release */
	sha256(b->meta, b->meta_len, d);
	sha256_hex(d, hex[0]);
	sha256(b->sig, b->sig_len, d);
	sha256_hex(d, hex[1]);
	meta[0] = (struct store_file){ "bundle.yaml", b->meta, b->meta_len, hex[0] };
	meta[1] = (struct store_file){ "bundle.yaml.sig", b->sig, b->sig_len, hex[1] };
	if (!rc)
		rc = store_files_put(a->st, in->id, meta, 2);
	return rc;
}

static int intake_file(void *ctx, size_t index, uint64_t offset, const void *data, size_t len)
{
	struct intake *in = ctx;
	const struct bundle_file *f = &in->b->files[index];
	char hex[SHA256_HEX_LEN + 1];
	int rc = 0;

	if (in->existing)
		return 0;
	if (offset == 0) {
		sha256_hex(f->sha256, hex);
		rc = store_file_add(in->a->st, in->id, index + 2, f->name, f->len, hex);
	}
	if (!rc)
		rc = store_file_write(in->a->st, in->id, f->name, offset, data, len);
	return rc;
}

/* The stored release is (app, sequence) already: the same bytes or not. */
static int intake_existing(struct intake *in, const char *digest, int force)
{
	struct agent *a = in->a;
	const struct bundle *b = in->b;

	if (strcmp(in->old.digest, digest) != 0)
		return error(E_STATE, "%s: %s sequence %lld is already stored with different"
			     " content: a sequence names one bundle only", in->name, b->app,
			     (long long)b->sequence);
	if (store_state_quarantined((int)in->old.state) && force)
		return set_state(a, b->app, b->sequence, in->old.state, STORE_VERIFIED,
				 "forced re-install");
	if (store_state_quarantined((int)in->old.state))
		return error(E_STATE, "%s: %s sequence %lld failed before and is quarantined"
			     " (use --force to install it again)", in->name, b->app,
			     (long long)b->sequence);
	log_info("%s: %s sequence %lld is already stored", in->name, b->app,
		 (long long)b->sequence);
	return 0;
}

int agent_store_stream(struct agent *a, read_fn read, void *ctx, const char *name,
		       int force, const struct pointer *p, char app[64])
{
	struct verify_ctx vctx = { agent_now(a), 0, p ? p->app : NULL, agent_created_limit(a) };
	uint64_t max = (uint64_t)a->cfg->limits.max_bundle_kb * 1024;
	struct intake in = { .a = a, .name = name, .p = p };
	struct bundle_sink sink = { intake_begin, intake_file, &in };
	char digest[SHA256_HEX_LEN + 1];
	struct bundle *b = NULL;
	int rc;

	if (p)
		rc = store_floor_get(a->st, p->app, &vctx.min_sequence);
	else
		rc = 0;
	if (!rc)
		rc = bundle_read_sink(read, ctx, name, max, a->trust, &vctx, &sink, &b);
	if (!rc && p)
		rc = bundle_matches_pointer(b, p, name);
	if (!rc) {
		snprintf(app, 64, "%s", b->app);
		sha256_hex(b->digest, digest);
	}
	if (!rc && in.existing)
		rc = intake_existing(&in, digest, force);
	else if (!rc) {
		rc = store_release_set_digest(a->st, in.id, digest);
		if (!rc)
			rc = set_state(a, b->app, b->sequence, STORE_FETCHED, STORE_VERIFIED,
				       "verified");
		if (!rc)
			rc = store_floor_raise(a->st, b->app, b->sequence);
		if (!rc)
			rc = store_clock_floor_raise(a->st, b->created);
		if (!rc) {
			in.grouped = 0;
			rc = store_commit(a->st);
		}
		if (!rc)
			rc = floors_save(a);
		if (!rc)
			log_info("%s: %s %s (sequence %lld) verified and stored", name, b->app,
				 b->version, (long long)b->sequence);
	}
	if (in.grouped)
		store_rollback(a->st);  /* refused: nothing of it is kept */
	bundle_free(b);
	return rc;
}

int agent_import(struct agent *a, const char *path, int force, char app[64])
{
	int64_t now = agent_now(a);
	int fd, rc = agent_root_floor_check(a, path);

	if (rc)
		return rc;
	if (trust_expires(a->trust) <= now) {
		char when[META_TIME_LEN + 1], msg[400];

		meta_time_format(trust_expires(a->trust), when);
		snprintf(msg, sizeof(msg), "%s: refused: the trust root (version %lld) expired at "
			 "%s; no update is accepted until a new root is installed, the current "
			 "releases keep running", path, (long long)trust_version(a->trust), when);
		store_setting_set_int(a->st, METRICS_KEY_ROOT_EXPIRED, trust_expires(a->trust));
		log_error("%s", msg);
		return E_EXPIRED;
	}
	/* a root renewed since: the alarm of the old one is over */
	rc = store_setting_delete(a->st, METRICS_KEY_ROOT_EXPIRED);
	if (rc && rc != E_NOTFOUND)
		return rc;
	fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return error(errno == ENOENT ? E_NOTFOUND : E_IO, "%s: %s", path, strerror(errno));
	rc = agent_store_stream(a, bundle_fd_read, &fd, path, force, NULL, app);
	if (fd > 0)
		close(fd);
	return rc;
}

/* --- releases from the store ------------------------------------------------ */

struct loaded {
	struct bundle *meta;            /* bundle.yaml, parsed */
	int64_t timeout;                /* the pointer's health deadline; 0: none */
	const struct secrets *sec;      /* opens the encrypted members */
	struct buf *why;                /* why one could not be opened, or NULL */
	size_t n;
	struct release_file files[BUNDLE_FILES_MAX];
	char *data[BUNDLE_FILES_MAX], *names[BUNDLE_FILES_MAX];
	unsigned char secret[BUNDLE_FILES_MAX];  /* data[i] is plaintext: wipe it */
};

/*
 * A manifest, or an encrypted member opened here, in memory: the store
 * keeps only its encrypted bytes.
 */
static int collect_file(void *ctx, const struct store_file *f)
{
	struct loaded *l = ctx;
	int secret = secrets_member_is_encrypted(f->name);

	if ((!secret && !bundle_is_manifest(f->name)) || l->n == BUNDLE_FILES_MAX)
		return 0;
	l->names[l->n] = mem_strdup(f->name);
	{
		struct buf plain = BUF_INIT(SECRETS_PLAIN_MAX);
		struct buf none = BUF_INIT(1024), *why = l->why ? l->why : &none;
		int rc = secret ? secrets_open_member(l->sec, f->name, f->data, f->size, &plain, why)
				: secrets_open_manifest(l->sec, f->name, f->data, f->size, &plain, why);

		buf_free(&none);
		if (rc < 0) {
			crypto_buf_free(&plain);
			mem_free(l->names[l->n]);
			return rc;
		}
		secret = rc == 0;
		if (secret) {
			l->secret[l->n] = 1;
			l->files[l->n].len = plain.len;
			l->data[l->n] = buf_detach(&plain, NULL);
		}
	}
	if (!secret) {
		l->files[l->n].len = f->size;
		l->data[l->n] = mem_strndup(f->data, f->size);
	}
	if (!l->names[l->n] || !l->data[l->n]) {
		mem_free(l->names[l->n]);
		mem_free(l->data[l->n]);
		return E_NOMEM;
	}
	l->files[l->n].name = l->names[l->n];
	l->files[l->n].data = l->data[l->n];
	l->n++;
	return 0;
}

static void loaded_free(struct loaded *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		if (l->secret[i])
			crypto_wipe(l->data[i], l->files[i].len);
		mem_free(l->names[i]);
		mem_free(l->data[i]);
	}
	bundle_free(l->meta);
	mem_free(l);
}

/*
 * The manifests and bundle.yaml of a stored release, encrypted members
 * opened. why (NULL: none wanted) gets the sentence that says why an
 * encrypted member could not be opened.
 */
static int load_release(struct agent *a, const struct store_release *r, struct loaded **out,
			struct buf *why)
{
	struct loaded *l = mem_zalloc(1, sizeof(*l));
	struct buf meta = BUF_INIT(BUNDLE_META_MAX);
	int rc;

	*out = NULL;
	if (!l)
		return E_NOMEM;
	l->sec = a->sec;
	l->why = why;
	rc = store_file_get(a->st, r->id, "bundle.yaml", &meta);
	if (!rc)
		rc = bundle_parse("stored bundle.yaml", meta.data, meta.len, &l->meta);
	if (!rc)
		rc = store_files_get(a->st, r->id, collect_file, l);
	if (!rc) {
		char key[128];

		snprintf(key, sizeof(key), "release/%s/%lld/health_timeout", r->app,
			 (long long)r->sequence);
		rc = store_setting_get_int(a->st, key, 0, &l->timeout);
	}
	buf_free(&meta);
	if (rc) {
		loaded_free(l);
		if (why && why->len)
			return rc;
		return error(rc, "%s sequence %lld: its stored content cannot be read", r->app,
			     (long long)r->sequence);
	}
	*out = l;
	return 0;
}

static int64_t health_timeout(struct agent *a, const struct loaded *l);

/*
 * The set's waits (a namespace being deleted, a CRD) end with its deadline.
 * E_DENIED (why says it) when an object is outside the app's scope: the
 * gateway's config confines it (only its own namespace by default).
 */
static int build_set(struct agent *a, const struct store_release *r, struct loaded *l,
		     struct release_set **set, struct buf *why)
{
	static const char *const none[1] = { "default" };
	const struct config_app *app = app_config(a, r->app);
	struct apply_scope scope = {
		app ? app->namespaces : none, app ? app->nnamespaces : 1,
		app ? app->cluster_kinds : NULL, app ? app->ncluster_kinds : 0,
		"apps[].namespaces and apps[].cluster_kinds of the config"
	};
	int rc = release_set_build(a->k, r->app, r->sequence, app ? app->namespace : "default",
				   l->files, l->n, set);

	if (!rc)
		rc = release_set_confine(*set, &scope, why);
	if (!rc && app && app->service_account)
		rc = release_set_impersonate(*set, app->namespace, app->service_account);
	if (!rc)
		(*set)->deadline = (int64_t)time(NULL) + health_timeout(a, l);
	return rc;
}

/* The inventory of a release as a set (for prune). */
static int inventory_set(struct agent *a, int64_t id, const char *app, struct release_set **out)
{
	const struct config_app *cfg = app_config(a, app);
	struct store_object *objs = NULL;
	struct release_set *s = mem_zalloc(1, sizeof(*s));
	size_t n = 0;
	int rc = s ? store_inventory_get(a->st, id, &objs, &n) : E_NOMEM;

	*out = NULL;
	if (!rc) {
		s->objs = mem_zalloc(n ? n : 1, sizeof(*s->objs));
		rc = s->objs ? 0 : E_NOMEM;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		struct release_obj *o = &s->objs[i];

		o->api_version = mem_strdup(objs[i].api_version);
		o->kind = mem_strdup(objs[i].kind);
		o->ns = mem_strdup(objs[i].ns);
		o->name = mem_strdup(objs[i].name);
		o->wave = objs[i].has_wave ? objs[i].wave : apply_kind_wave(objs[i].kind);
		s->n++;
		if (!o->api_version || !o->kind || !o->ns || !o->name)
			rc = E_NOMEM;
	}
	store_objects_free(objs, n);
	if (!rc && cfg && cfg->service_account)
		rc = release_set_impersonate(s, cfg->namespace, cfg->service_account);
	if (rc) {
		release_set_free(s);
		return rc;
	}
	snprintf(s->app, sizeof(s->app), "%s", app);
	s->deadline = (int64_t)time(NULL) + a->cfg->health.default_timeout;
	*out = s;
	return 0;
}

/*
 * Resuming a release that an earlier run applied (a restart during its
 * health wait): the objects its inventory holds were applied, so a Job the
 * TTL controller removed since counts as done (apply_health()).
 */
static int inventory_mark_seen(struct agent *a, int64_t id, struct release_set *set)
{
	struct store_object *objs = NULL;
	size_t n = 0;
	int rc = store_inventory_get(a->st, id, &objs, &n);

	for (size_t i = 0; !rc && i < set->n; i++) {
		struct release_obj *o = &set->objs[i];

		for (size_t j = 0; j < n; j++)
			if (strcmp(objs[j].kind, o->kind) == 0 && strcmp(objs[j].ns, o->ns) == 0 &&
			    strcmp(objs[j].name, o->name) == 0 &&
			    strcmp(objs[j].api_version, o->api_version) == 0)
				o->seen = 1;
	}
	store_objects_free(objs, n);
	return rc;
}

/* Record what the cluster holds of a set (objects that were applied). */
static int inventory_save(struct agent *a, int64_t id, const struct release_set *s)
{
	struct store_object *objs = mem_zalloc(s->n ? s->n : 1, sizeof(*objs));
	size_t n = 0;
	int rc;

	if (!objs)
		return E_NOMEM;
	for (size_t i = 0; i < s->n; i++) {
		struct release_obj *o = &s->objs[i];

		if (!*o->rv)
			continue;
		objs[n++] = (struct store_object){ o->api_version, o->kind, o->ns, o->name,
						   o->uid, o->rv, o->wave, 1 };
	}
	rc = store_inventory_put(a->st, id, objs, n);
	mem_free(objs);
	return rc;
}

/*
 * Wait for a set to be healthy until deadline. 0 healthy; E_STATE failed
 * (msg says why); E_UNAVAILABLE the API could not be reached long enough
 * to judge. Unless block, one look only: WAITING when it is not decided
 * yet and the deadline is still ahead (the step is taken again later and
 * finds the release where the store says it is).
 */
#define WAITING 1

/*
 * What release r waits for at its last health look in its state
 * ("Deployment web: 1 of 2 replicas ready"), for `outpost status` in
 * another process: the release's setting "waiting", "STATE:what", written
 * only when it changes (a few writes a release, not one a look). Best
 * effort: a store error here only loses the line.
 */
static int waiting_key(char key[128], const struct store_release *r)
{
	return snprintf(key, 128, "release/%s/%lld/waiting", r->app,
			(long long)r->sequence) >= 128 ? E_LIMIT : 0;
}

static void note_waiting(struct agent *a, const struct store_release *r, const struct buf *msg)
{
	struct buf old = BUF_INIT(4096), now = BUF_INIT(4096);
	char key[128];
	int rc = waiting_key(key, r);

	if (!rc)
		rc = buf_addf(&now, "%s:", store_state_name(r->state));
	if (!rc)
		rc = buf_add(&now, msg->data, msg->len);
	if (!rc)
		rc = store_setting_get(a->st, key, &old);
	if (rc == E_NOTFOUND || (!rc && (old.len != now.len || memcmp(old.data, now.data, old.len))))
		store_setting_set(a->st, key, now.data, now.len);
	buf_free(&old);
	buf_free(&now);
}

static int wait_healthy(struct agent *a, const struct store_release *r,
			struct release_set *s, int64_t deadline, struct buf *msg, int block)
{
	for (;;) {
		enum health h;

		buf_reset(msg);
		h = apply_health(a->k, s, msg);
		if (h == HEALTH_CURRENT)
			return 0;
		if (h == HEALTH_FAILED)
			return E_STATE;
		sdnotify_watchdog();    /* a long health wait is not a hung agent */
		if (r)
			note_waiting(a, r, msg);
		log_progress("%s sequence %lld: waiting for health, %lld s left: %s", s->app,
			     (long long)s->sequence, (long long)(deadline - (int64_t)time(NULL)),
			     msg->data);
		if ((int64_t)time(NULL) >= deadline) {
			if (h == HEALTH_UNKNOWN)
				return E_UNAVAILABLE;   /* unknown is never failed */
			return E_STATE;
		}
		if (!block) {
			log_debug("%s sequence %lld: waiting for health, %lld s left: %s", s->app,
				  (long long)s->sequence,
				  (long long)(deadline - (int64_t)time(NULL)), msg->data);
			return WAITING;
		}
		usleep(HEALTH_POLL_MS * 1000);
	}
}

int agent_set_health_timeout(struct agent *a, const char *app, int64_t sequence,
			      int64_t seconds)
{
	char key[128];

	snprintf(key, sizeof(key), "release/%s/%lld/health_timeout", app, (long long)sequence);
	return store_setting_set_int(a->st, key, seconds);
}

/* The release pointer's deadline, else the bundle's, else the config's. */
static int64_t health_timeout(struct agent *a, const struct loaded *l)
{
	if (l->timeout)
		return l->timeout;
	if (l->meta->health_timeout)
		return l->meta->health_timeout;
	return a->cfg->health.default_timeout;
}

/*
 * Tell the cluster what became of release r (kubectl get events): "<app>
 * sequence N (version) <what>", attached to set's main object. Best effort.
 */
static void announce(struct agent *a, enum event_reason why, const struct store_release *r,
		     const struct release_set *set, const char *what)
{
	const struct config_app *app = app_config(a, r->app);
	struct buf msg = BUF_INIT(EVENT_MESSAGE_MAX * 4);
	struct event e = { why, set, app ? app->namespace : "default", a->cfg->device.id,
			   NULL, (int64_t)time(NULL) };

	if (!a->k || buf_addf(&msg, "%s sequence %lld (%s) %.*s", r->app,
			      (long long)r->sequence, r->version, EVENT_MESSAGE_MAX, what))
		return;
	e.message = msg.data;
	event_post(a->k, &e);
	buf_free(&msg);
}

void agent_alarm(struct agent *a, const char *channel, int root_expired, const char *msg)
{
	const struct config_app *app = NULL;
	struct event e = { root_expired ? EVENT_ROOT_EXPIRED : EVENT_FROZEN, NULL, "default",
			   a->cfg->device.id, msg, (int64_t)time(NULL) };

	for (size_t i = 0; i < a->cfg->napps && !app; i++)
		if (strcmp(a->cfg->apps[i].channel, channel) == 0)
			app = &a->cfg->apps[i];
	log_error("%s", msg);
	report_queue_condition(a->st, a->cfg, channel, root_expired ? "root-expired" : "frozen",
			       msg);
	if (app && app->namespace)
		e.ns = app->namespace;
	if (kube_ready(a) == 0)
		event_post(a->k, &e);
}

/* --- rollback ---------------------------------------------------------------- */

/*
 * The app's last-known-good: 0 with *id 0 when there is none; a store
 * error (the lookup or the release it names) is returned as it is.
 */
static int lkg_get(struct agent *a, const char *app, int64_t *id, struct store_release *r)
{
	int rc = store_lkg_get(a->st, app, id);

	if (rc == E_NOTFOUND) {
		*id = 0;
		return 0;
	}
	if (!rc && r)
		rc = store_release_get_id(a->st, *id, r);
	return rc == E_NOTFOUND ? error(E_STORE, "%s: the last-known-good release %lld is "
					"not stored", app, (long long)*id) : rc;
}

/*
 * The previous release's objects that the current one has not, recorded
 * with the healthy transition ("release/<app>/prune": the previous id)
 * and deleted after it, so that nothing the store calls current is ever
 * deleted; a crash or an outage in between resumes it at the next step.
 */
static int prune_key(char key[128], const char *app)
{
	return snprintf(key, 128, "release/%s/prune", app) >= 128 ? E_LIMIT : 0;
}

static int finish_prune(struct agent *a, const char *app)
{
	struct release_set *old = NULL, *cur = NULL;
	int64_t prev = 0, id = 0;
	size_t deleted = 0;
	char key[128];
	int rc = prune_key(key, app);

	if (!rc)
		rc = store_setting_get_int(a->st, key, 0, &prev);
	if (rc || !prev)
		return rc;
	rc = lkg_get(a, app, &id, NULL);
	if (!rc && id && id != prev) {
		rc = inventory_set(a, prev, app, &old);
		if (!rc)
			rc = inventory_set(a, id, app, &cur);
		if (!rc)
			rc = kube_ready(a);
		if (!rc)
			rc = apply_prune(a->k, app, old, cur, &deleted);
		/* a refused delete was logged; the API down or the store failing
		 * leaves the prune for the next step */
		if (rc != E_UNAVAILABLE && rc != E_STORE && rc != E_NOMEM)
			rc = 0;
	}
	if (!rc)
		rc = store_setting_delete(a->st, key);
	release_set_free(old);
	release_set_free(cur);
	return rc == E_NOTFOUND ? 0 : rc;
}

/*
 * The note of a rollback whose last-known-good was re-applied
 * ("release/<app>/rollback"): while it is set, the rollback only waits for
 * that release's health (a later step, a restart) and applies nothing
 * again; it goes with the rolled-back transition.
 */
static int rollback_key(char key[128], const char *app)
{
	return snprintf(key, 128, "release/%s/rollback", app) >= 128 ? E_LIMIT : 0;
}

static int roll_back(struct agent *a, struct store_release *r, int block)
{
	const struct config_app *app = app_config(a, r->app);
	struct release_set *failed = NULL, *good = NULL;
	struct store_release lkg;
	struct loaded *l = NULL;
	struct buf msg = BUF_INIT(2048), note = BUF_INIT(2048);
	int64_t lkg_id = 0;
	size_t changed = 0, deleted = 0;
	char key[128];
	int rc = rollback_key(key, r->app);

	if (!rc && r->state == STORE_FAILED) {
		rc = set_state(a, r->app, r->sequence, STORE_FAILED, STORE_ROLLING_BACK, "rolling back");
		if (rc)
			return rc;
		r->state = STORE_ROLLING_BACK;
		r->updated = (int64_t)time(NULL);
	}
	if (!rc)
		rc = kube_ready(a);
	if (!rc)
		rc = inventory_set(a, r->id, r->app, &failed);
	/* only "not found" means there is none: any other error stops here,
	 * nothing deleted, and the rollback is tried again */
	if (!rc)
		rc = lkg_get(a, r->app, &lkg_id, &lkg);
	if (!rc && lkg_id) {
		rc = load_release(a, &lkg, &l, NULL);
		if (!rc)
			rc = build_set(a, &lkg, l, &good, NULL);
		if (!rc)
			rc = store_setting_get(a->st, key, &note);
		if (rc == E_NOTFOUND) {
			rc = apply_release(a->k, good, &changed);
			if (!rc)
				rc = inventory_save(a, lkg.id, good);
			if (!rc)
				rc = apply_prune(a->k, r->app, failed, good, &deleted);
			if (!rc)
				rc = buf_addf(&note, "rolled back to sequence %lld (%s): %zu objects "
					      "re-applied, %zu removed", (long long)lkg.sequence,
					      lkg.version, changed, deleted);
			if (!rc)
				rc = store_setting_set(a->st, key, note.data, note.len);
		} else if (!rc) {
			rc = inventory_mark_seen(a, lkg.id, good);
		}
		if (!rc) {
			rc = wait_healthy(a, r, good, r->updated + health_timeout(a, l), &msg, block);
			if (rc == E_STATE)
				log_error("%s: sequence %lld is back but not healthy: %s", r->app,
					  (long long)lkg.sequence, msg.data);
			rc = rc == E_STATE ? 0 : rc;
		}
		if (rc == WAITING)
			goto out;
	} else if (!rc) {
		int keep = app && app->on_first_install_failure == CFG_FIRST_FAILURE_KEEP;
		struct loaded *mine = NULL;

		if (app && app->on_first_install_failure == CFG_FIRST_FAILURE_BUNDLE &&
		    load_release(a, r, &mine, NULL) == 0)
			keep = mine->meta->keep_on_first_failure;
		loaded_free(mine);
		if (!keep)
			rc = apply_prune(a->k, r->app, failed, NULL, &deleted);
		buf_addf(&note, keep ? "first install failed: its objects were left in place" :
			 "first install failed: its %zu objects were removed", deleted);
	}
	if (!rc)
		rc = store_begin(a->st);
	if (!rc) {
		rc = set_state(a, r->app, r->sequence, STORE_ROLLING_BACK, STORE_ROLLED_BACK,
			       note.data);
		if (!rc)
			rc = store_setting_delete(a->st, key);
		if (rc == E_NOTFOUND)
			rc = 0;
		if (!rc)
			rc = store_commit(a->st);
		else
			store_rollback(a->st);
	}
	if (!rc) {
		log_warn("%s: sequence %lld %s", r->app, (long long)r->sequence, note.data);
		metrics_count(a->st, METRICS_ROLLBACKS, r->app, 1);
		announce(a, EVENT_ROLLED_BACK, r, good ? good : failed, note.data);
	}
out:
	release_set_free(failed);
	release_set_free(good);
	loaded_free(l);
	buf_free(&msg);
	buf_free(&note);
	return rc ? rc : E_STATE;
}

/* set: the release's objects, for the event (NULL when they could not be built) */
static int fail(struct agent *a, struct store_release *r, const struct release_set *set,
		const char *why, int block)
{
	int rc = set_state(a, r->app, r->sequence, r->state, STORE_FAILED, why);
	struct buf what = BUF_INIT(EVENT_MESSAGE_MAX * 4);

	if (rc)
		return rc;
	log_error("%s: sequence %lld failed: %s", r->app, (long long)r->sequence, why);
	buf_addf(&what, "failed: %.*s", EVENT_MESSAGE_MAX, why);
	announce(a, EVENT_FAILED, r, set, what.data);
	buf_free(&what);
	r->state = STORE_FAILED;
	return roll_back(a, r, block);
}

/* --- deploy ------------------------------------------------------------------ */

/*
 * After a healthy release: drop what no rollback needs (all but the
 * current, the newest and limits.keep_releases older ones) and give the
 * space back. A store error here only delays it to the next healthy one.
 */
static void collect(struct agent *a, const char *app)
{
	int n = store_release_gc(a->st, app, a->cfg->limits.keep_releases);

	if (n < 0) {
		log_warn("%s: old releases not collected (%s): at the next healthy release",
			 app, err_str(n));
		return;
	}
	if (n > 0)
		log_info("%s: %d old release%s collected (keeping %u older)", app, n,
			 n == 1 ? "" : "s", a->cfg->limits.keep_releases);
	n = store_vacuum(a->st);
	if (n < 0)
		log_warn("%s: free space not given back (%s): at the next healthy release",
			 app, err_str(n));
}

static int deploy(struct agent *a, struct store_release *r, int block)
{
	struct release_set *set = NULL;
	struct buf msg = BUF_INIT(2048);
	struct loaded *l = NULL;
	int64_t applied_at, prev_id = 0;
	size_t changed = 0;
	char key[128];
	int rc, applied_now = 0;

	/* an encrypted member that no identity opens refuses the release
	 * here, before anything is applied */
	rc = load_release(a, r, &l, &msg);
	if (!rc)
		rc = kube_ready(a);
	if (!rc)
		rc = build_set(a, r, l, &set, &msg);
	if (rc == E_UNAVAILABLE || rc == E_NOMEM || rc == E_STORE)
		goto out;
	if (rc == E_DENIED) {
		rc = fail(a, r, set, msg.data, block);
		goto out;
	}
	if (rc) {
		rc = fail(a, r, set, msg.len ? msg.data
					     : "its manifests cannot be applied (see the log)",
			    block);
		goto out;
	}
	if (r->state == STORE_VERIFIED) {
		buf_addf(&msg, "applying %zu objects", set->n);
		rc = set_state(a, r->app, r->sequence, STORE_VERIFIED, STORE_APPLYING, msg.data);
		if (rc)
			goto out;
		r->state = STORE_APPLYING;
	}
	if (r->state == STORE_APPLYING) {
		applied_now = 1;
		rc = apply_release(a->k, set, &changed);
		if (inventory_save(a, r->id, set) && !rc)
			rc = E_STORE;
		if (rc == E_UNAVAILABLE || rc == E_STORE || rc == E_NOMEM)
			goto out;
		if (rc) {
			const char *why = apply_refusal(set);

			buf_reset(&msg);
			buf_addf(&msg, rc == E_DENIED ? "refused before anything was applied: %.1900s" :
				 "the Kubernetes API refused %.1900s", why ? why : "an object (see the log)");
			rc = fail(a, r, set, msg.data, block);
			goto out;
		}
		buf_reset(&msg);
		buf_addf(&msg, "applied %zu objects (%zu created or changed)", set->n, changed);
		rc = set_state(a, r->app, r->sequence, STORE_APPLYING, STORE_APPLIED, msg.data);
		if (rc)
			goto out;
		r->state = STORE_APPLIED;
		r->updated = (int64_t)time(NULL);
		log_info("%s: sequence %lld %s", r->app, (long long)r->sequence, msg.data);
	}
	applied_at = r->updated;
	if (!applied_now) {
		rc = inventory_mark_seen(a, r->id, set);
		if (rc)
			goto out;
	}
	rc = wait_healthy(a, r, set, applied_at + health_timeout(a, l), &msg, block);
	if (rc == E_STATE) {
		struct buf why = BUF_INIT(4096);

		if ((int64_t)time(NULL) >= applied_at + health_timeout(a, l))
			buf_addf(&why, "health check failed: not healthy within the %lld s "
				 "deadline: %s", (long long)health_timeout(a, l), msg.data);
		else
			buf_addf(&why, "health check failed: %s", msg.data);
		rc = fail(a, r, set, why.data, block);
		buf_free(&why);
		goto out;
	}
	if (rc)
		goto out;
	/* healthy: this one becomes the last-known-good, and in the same
	 * transaction the prune of what the previous one had and this one has
	 * not is recorded; then it is done (finish_prune). The store never
	 * calls a release current whose objects were deleted, and a crash in
	 * between prunes at the next step */
	rc = lkg_get(a, r->app, &prev_id, NULL);
	if (!rc)
		rc = prune_key(key, r->app);
	if (!rc)
		rc = store_begin(a->st);
	if (rc)
		goto out;
	rc = set_state(a, r->app, r->sequence, STORE_APPLIED, STORE_HEALTHY, "healthy");
	if (!rc)
		rc = store_lkg_set(a->st, r->app, r->id);
	if (!rc && prev_id && prev_id != r->id && l->meta->prune)
		rc = store_setting_set_int(a->st, key, prev_id);
	if (!rc)
		rc = store_commit(a->st);
	else
		store_rollback(a->st);
	if (rc)
		goto out;
	log_info("%s: sequence %lld (%s) is healthy and the last-known-good", r->app,
		 (long long)r->sequence, r->version);
	announce(a, EVENT_APPLIED, r, set, "is applied and healthy");
	rc = finish_prune(a, r->app);
	if (!rc)
		collect(a, r->app);   /* not before: the pending prune reads the old inventory */
out:
	release_set_free(set);
	loaded_free(l);
	buf_free(&msg);
	return rc;
}

/* --- what holds a new release back ------------------------------------------ */

/*
 * Why the app's new release (verified, nothing of it applied yet) is not
 * applied now, appended to why: the app is paused, or an app it depends
 * on is not healthy on its newest release (it waits, it does not fail).
 * 1 held, 0 free to go, or the store's error (never read as "free").
 * *soon when what holds it can end at any step (a dependency on its way).
 */
static int held(struct agent *a, const struct config_app *c, struct buf *why, int *soon)
{
	struct pause p;
	int rc = pause_get(a->st, a->cfg, c->name, (int64_t)time(NULL), &p);

	*soon = 0;
	if (rc)
		return rc;
	if (p.paused)
		return pause_describe(&p, why) ? E_NOMEM : 1;
	for (size_t i = 0; i < c->ndepends; i++) {
		const struct config_app *d = config_app_find(a->cfg, c->depends_on[i]);
		struct store_release dr;

		if (!d)
			continue;       /* config_parse() refused it */
		rc = store_release_latest(a->st, d->channel, &dr);
		if (rc == E_NOTFOUND) {
			buf_addf(why, "dependency '%s' has no release yet", d->name);
			return 1;
		}
		if (rc)
			return rc;
		if (dr.state == STORE_HEALTHY)
			continue;
		buf_addf(why, "dependency '%s' not healthy: its sequence %lld is %s", d->name,
			 (long long)dr.sequence, store_state_name(dr.state));
		*soon = dr.state == STORE_APPLYING || dr.state == STORE_APPLIED ||
			dr.state == STORE_FAILED || dr.state == STORE_ROLLING_BACK;
		return 1;
	}
	return 0;
}

/* The release of an app that is on its way: applying, applied, failing. */
static int find_in_progress(void *ctx, const struct store_release *r)
{
	struct store_release *out = ctx;

	if (r->state != STORE_APPLYING && r->state != STORE_APPLIED &&
	    r->state != STORE_FAILED && r->state != STORE_ROLLING_BACK)
		return 0;
	*out = *r;
	return 1;
}

/*
 * One step of app: block, until its newest release is healthy or rolled
 * back; else one look at a wait (health), *wake the time to come back.
 * A newer release stored while an older one waits (a poll during its
 * health check) waits in turn: the older one is carried to its end first,
 * so that its objects are judged, kept or pruned as the store says.
 */
static int step(struct agent *a, const char *app, int block, int64_t *wake, int *again)
{
	const struct config_app *c = app_config(a, app);
	struct store_release r;
	int rc = store_release_latest(a->st, release_key(a, app), &r);
	int64_t newest;

	*wake = 0;
	*again = 0;
	if (rc == E_NOTFOUND)
		return 0;
	newest = rc ? 0 : r.id;
	if (!rc)
		rc = finish_prune(a, r.app);
	if (!rc && r.state == STORE_VERIFIED) {
		rc = store_release_list(a->st, r.app, find_in_progress, &r);
		rc = rc == 1 ? 0 : rc;
	}
	if (!rc && r.state == STORE_VERIFIED && c) {
		struct buf why = BUF_INIT(1024);
		int soon = 0;

		rc = held(a, c, &why, &soon);
		if (rc == 1 && soon)
			*wake = (int64_t)time(NULL) + 1;
		if (rc == 1 && block)
			log_info("%s: sequence %lld is stored and not applied now: %s", r.app,
				 (long long)r.sequence, why.data);
		buf_free(&why);
		if (rc == 1)
			return 0;
	}
	if (rc)
		return rc;
	switch (r.state) {
	case STORE_VERIFIED:
	case STORE_APPLYING:
	case STORE_APPLIED:
		rc = deploy(a, &r, block);
		break;
	case STORE_FAILED:
	case STORE_ROLLING_BACK:
		rc = roll_back(a, &r, block);
		break;
	default:
		return 0;
	}
	if (rc == WAITING) {
		*wake = (int64_t)time(NULL) + 1;
		rc = 0;
	}
	/* an older release came to its end: the newest is next */
	*again = (!rc || rc == E_STATE) && !*wake && r.id != newest;
	return rc;
}

int agent_step(struct agent *a, const char *app)
{
	int64_t wake;
	int again, rc;

	do
		rc = step(a, app, 1, &wake, &again);
	while (again && !rc);
	return rc;
}

int agent_advance(struct agent *a, const char *app, int64_t *wake)
{
	int again, rc = step(a, app, 0, wake, &again);

	if (again)
		*wake = (int64_t)time(NULL);
	return rc;
}

int agent_paused(struct agent *a, const char *app)
{
	struct pause p;
	int rc = pause_get(a->st, a->cfg, app, (int64_t)time(NULL), &p);

	return rc ? rc : p.paused;
}

int agent_describe(struct agent *a, const char *app, struct buf *out)
{
	const struct config_app *c = app_config(a, app);
	int64_t now = (int64_t)time(NULL);
	struct store_release r;
	struct loaded *l = NULL;
	struct pause p;
	int rc = c ? pause_get(a->st, a->cfg, c->name, now, &p) : E_NOTFOUND;
	int soon;

	if (!rc && p.paused)
		rc = pause_describe(&p, out);
	if (!rc)
		rc = store_release_latest(a->st, release_key(a, app), &r);
	if (rc == E_NOTFOUND)
		return c ? 0 : rc;
	if (rc)
		return rc;
	if (r.state == STORE_VERIFIED && !p.paused) {
		buf_addstr(out, "waiting: ");
		rc = held(a, c, out, &soon);
		if (rc == 0)
			buf_addf(out, "sequence %lld to be applied", (long long)r.sequence);
		return rc < 0 ? rc : buf_error(out);
	}
	if (r.state != STORE_APPLYING && r.state != STORE_APPLIED &&
	    r.state != STORE_ROLLING_BACK)
		return buf_error(out);
	rc = load_release(a, &r, &l, NULL);
	if (rc)
		return rc;
	if (p.paused)
		buf_addstr(out, "; ");
	buf_addf(out, "%s sequence %lld: waiting for health, %lld s of %lld",
		 r.state == STORE_ROLLING_BACK ? "rolling back from" : "applying",
		 (long long)r.sequence, (long long)(now > r.updated ? now - r.updated : 0),
		 (long long)health_timeout(a, l));
	loaded_free(l);
	/* what it waited for at its last look, when that was in this state */
	if (r.state == STORE_APPLIED || r.state == STORE_ROLLING_BACK) {
		struct buf on = BUF_INIT(4096);
		const char *state = store_state_name(r.state);
		size_t n = strlen(state);
		char key[128];

		rc = waiting_key(key, &r);
		if (!rc)
			rc = store_setting_get(a->st, key, &on);
		if (!rc && on.len > n + 1 && !memcmp(on.data, state, n) && on.data[n] == ':')
			buf_addstr(out, ": "), buf_add(out, on.data + n + 1, on.len - n - 1);
		buf_free(&on);
		if (rc && rc != E_NOTFOUND)
			return rc;
	}
	return buf_error(out);
}

int agent_drift(struct agent *a, const char *app, size_t *corrected)
{
	struct release_set *set = NULL;
	struct store_release r;
	struct loaded *l = NULL;
	size_t finished = 0;
	int64_t id = 0;
	int rc;
	app = release_key(a, app);

	*corrected = 0;
	rc = lkg_get(a, app, &id, &r);
	if (rc || !id)
		return rc;
	rc = load_release(a, &r, &l, NULL);
	if (!rc)
		rc = kube_ready(a);
	if (!rc)
		rc = build_set(a, &r, l, &set, NULL);
	if (!rc)
		rc = apply_drop_finished(a->k, set, &finished);
	if (!rc)
		rc = apply_release(a->k, set, corrected);
	if (!rc)
		rc = inventory_save(a, id, set);
	if (!rc && *corrected) {
		char note[128];

		snprintf(note, sizeof(note), "drift: %zu object%s corrected", *corrected,
			 *corrected == 1 ? "" : "s");
		set_state(a, app, r.sequence, r.state, r.state, note);
		log_warn("%s: %s", app, note);
		metrics_count(a->st, METRICS_DRIFT, app, (int64_t)*corrected);
	}
	release_set_free(set);
	loaded_free(l);
	return rc;
}

/* --- manual rollback ------------------------------------------------------------ */

struct pick {
	int64_t below, want;
	struct store_release found;
	int ok;
};

static int pick_release(void *ctx, const struct store_release *r)
{
	struct pick *p = ctx;

	if (p->ok)
		return 0;
	if ((p->want && r->sequence == p->want) ||
	    (!p->want && r->sequence < p->below && r->state == STORE_HEALTHY)) {
		p->found = *r;
		p->ok = 1;
	}
	return 0;
}

int agent_rollback(struct agent *a, const char *app, int64_t sequence)
{
	struct release_set *set = NULL, *cur_set = NULL;
	struct store_release cur;
	struct pick p = { 0 };
	struct loaded *l = NULL;
	struct buf msg = BUF_INIT(2048);
	int64_t cur_id = 0;
	size_t changed = 0, deleted = 0;
	int rc;
	app = release_key(a, app);

	rc = lkg_get(a, app, &cur_id, &cur);
	if (rc)
		return rc;
	if (!cur_id)
		return error(E_STATE, "rollback %s: no current release", app);
	p.below = cur.sequence;
	p.want = sequence;
	rc = store_release_list(a->st, app, pick_release, &p);
	if (!rc && !p.ok)
		return error(E_NOTFOUND, sequence ? "rollback %s: sequence %lld is not stored" :
			     "rollback %s: no healthy release before sequence %lld", app,
			     (long long)(sequence ? sequence : cur.sequence));
	if (!rc && p.found.id == cur.id)
		return error(E_STATE, "rollback %s: sequence %lld is already current", app,
			     (long long)p.found.sequence);
	if (!rc && p.found.state != STORE_HEALTHY)
		return error(E_STATE, "rollback %s: sequence %lld never became healthy (%s)",
			     app, (long long)p.found.sequence, store_state_name(p.found.state));
	if (!rc)
		rc = load_release(a, &p.found, &l, NULL);
	if (!rc)
		rc = kube_ready(a);
	if (!rc)
		rc = build_set(a, &p.found, l, &set, NULL);
	if (!rc)
		rc = apply_release(a->k, set, &changed);
	if (!rc)
		rc = inventory_save(a, p.found.id, set);
	if (!rc)
		rc = wait_healthy(a, NULL, set, (int64_t)time(NULL) + health_timeout(a, l), &msg, 1);
	if (rc == E_STATE)
		error(rc, "rollback %s: sequence %lld is not healthy: %s", app,
		      (long long)p.found.sequence, msg.data);
	if (!rc)
		rc = store_lkg_set(a->st, app, p.found.id);
	/* done: the objects only the replaced release had are removed, or
	 * said to be left (the rollback itself stands) */
	if (!rc && inventory_set(a, cur.id, app, &cur_set) == 0)
		apply_prune(a->k, app, cur_set, set, &deleted);
	else if (!rc)
		log_warn("rollback %s: the inventory of sequence %lld cannot be read: its "
			 "extra objects were not removed", app, (long long)cur.sequence);
	if (!rc) {
		buf_reset(&msg);
		buf_addf(&msg, "manual rollback from sequence %lld", (long long)cur.sequence);
		set_state(a, app, p.found.sequence, STORE_HEALTHY, STORE_HEALTHY, msg.data);
		log_info("%s: rolled back by hand to sequence %lld (%s)", app,
			 (long long)p.found.sequence, p.found.version);
	}
	release_set_free(set);
	release_set_free(cur_set);
	loaded_free(l);
	buf_free(&msg);
	return rc;
}
