/* fetch — poll, download, verify and store releases from the server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "error.h"
#include "features.h"
#include "fetch.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "meta.h"
#include "metrics.h"
#include "pointer.h"
#include "schedule.h"
#include "sdnotify.h"
#include "store.h"
#include "trust.h"
#include "upstream.h"
#include "verifier.h"

#define POLL_TIMEOUT_MS 60000L      /* a pointer and its signature: small */
#define CHUNK (64 * 1024)           /* bytes per stored download chunk */
#define KEY_MAX 128

struct fetch {
	struct agent *a;
	const struct config *cfg;
	struct store *st;
	struct upstream *up;
	struct schedule_bounds bounds;
	struct schedule_state *sched;   /* per app of cfg: the poll schedule */
};

int fetch_new(struct fetch **out, struct agent *a, struct upstream *up,
	      const struct config *cfg)
{
	struct fetch *f = mem_zalloc(1, sizeof(*f));

	*out = NULL;
	if (!f)
		return E_NOMEM;
	f->a = a;
	f->up = up;
	f->cfg = cfg;
	f->st = agent_store(a);
	f->bounds.min = cfg->poll.min_interval;
	f->bounds.max = cfg->poll.max_interval;
	f->bounds.def = cfg->poll.default_interval;
	f->sched = mem_zalloc(cfg->napps ? cfg->napps : 1, sizeof(*f->sched));
	if (!f->sched) {
		mem_free(f);
		return E_NOMEM;
	}
	*out = f;
	return 0;
}

void fetch_free(struct fetch *f)
{
	if (!f)
		return;
	mem_free(f->sched);
	mem_free(f);
}



/* --- settings ------------------------------------------------------------------ */

static void key(char k[KEY_MAX], const char *channel, const char *what)
{
	snprintf(k, KEY_MAX, "poll/%s/%s", channel, what);
}

static int64_t get_int(struct fetch *f, const char *channel, const char *what, int64_t def)
{
	char k[KEY_MAX];
	int64_t v = def;

	key(k, channel, what);
	return store_setting_get_int(f->st, k, def, &v) ? def : v;
}

static int set_int(struct fetch *f, const char *channel, const char *what, int64_t v)
{
	char k[KEY_MAX];

	key(k, channel, what);
	return store_setting_set_int(f->st, k, v);
}

static int get_str(struct fetch *f, const char *channel, const char *what, struct buf *out)
{
	char k[KEY_MAX];

	key(k, channel, what);
	return store_setting_get(f->st, k, out);
}

static int set_str(struct fetch *f, const char *channel, const char *what, const char *v,
		   size_t len)
{
	char k[KEY_MAX];

	key(k, channel, what);
	if (!v || !len)
		return store_setting_delete(f->st, k);
	return store_setting_set(f->st, k, v, len);
}

/* The poll schedule of app (one of f->cfg's), loaded from the store once. */
static struct schedule_state *sched_of(struct fetch *f, const struct config_app *app)
{
	char k[KEY_MAX];
	size_t i = 0;

	while (i + 1 < f->cfg->napps && &f->cfg->apps[i] != app &&
	       strcmp(f->cfg->apps[i].channel, app->channel) != 0)
		i++;
	snprintf(k, sizeof(k), "poll/%s", app->channel);
	schedule_state_load(&f->sched[i], f->st, k);
	return &f->sched[i];
}

int fetch_poll_info(struct store *st, const char *channel, int64_t *next, int64_t *errors)
{
	char k[KEY_MAX];
	int rc;

	key(k, channel, "next");
	rc = store_setting_get_int(st, k, 0, next);
	key(k, channel, "errors");
	if (!rc)
		rc = store_setting_get_int(st, k, 0, errors);
	return rc;
}

/*
 * Log msg once for what (a short key naming the situation): a quarantined
 * or out-of-cohort sequence is seen at every poll, but said once.
 */
static void note_once(struct fetch *f, const char *channel, const char *what, const char *msg)
{
	struct buf old = BUF_INIT(256);

	if (get_str(f, channel, "noted", &old) || strcmp(old.data, what) != 0) {
		log_warn("%s", msg);
		set_str(f, channel, "noted", what, strlen(what));
	}
	buf_free(&old);
}

/*
 * An alarm that holds the channel's updates back while the current release
 * runs on (agent_alarm()): setting `key` records since when (for status
 * and metrics), and it is said once until it clears.
 */
static int alarm_raise(struct fetch *f, const char *channel, const char *key, int root,
		       int64_t since, const char *msg)
{
	int64_t cur = 0;
	int rc = store_setting_get_int(f->st, key, 0, &cur);

	if (!rc && cur != since) {
		rc = store_setting_set_int(f->st, key, since);
		agent_alarm(f->a, channel, root, msg);
	}
	return rc;
}

static int alarm_clear(struct fetch *f, const char *key)
{
	int64_t cur = 0;
	int rc = store_setting_get_int(f->st, key, 0, &cur);

	return rc || !cur ? rc : store_setting_delete(f->st, key);
}

/* An expired trust root stops every update (E_EXPIRED), loudly. */
static int root_check(struct fetch *f, const char *channel)
{
	int64_t exp = trust_expires(agent_trust(f->a)), now = agent_clock(f->a);
	char k[KEY_MAX], when[META_TIME_LEN + 1], msg[400];
	int rc = agent_root_floor_check(f->a, channel);

	if (rc)
		return rc;
	snprintf(k, sizeof(k), "%s/%s", METRICS_KEY_ROOT_EXPIRED, channel);
	if (exp > now) {
		rc = alarm_clear(f, METRICS_KEY_ROOT_EXPIRED);
		return rc ? rc : alarm_clear(f, k);
	}
	meta_time_format(exp, when);
	snprintf(msg, sizeof(msg), "%s: the trust root (version %lld) expired at %s: no update "
		 "is accepted until a new root is installed; the current release keeps "
		 "running", channel, (long long)trust_version(agent_trust(f->a)), when);
	rc = store_setting_set_int(f->st, METRICS_KEY_ROOT_EXPIRED, exp);
	if (!rc)
		rc = alarm_raise(f, channel, k, 1, exp, msg);
	return rc ? rc : E_EXPIRED;
}

/*
 * After a 304: the pointer the server keeps on answering with must still be
 * valid; an expired one means the channel is frozen (E_EXPIRED): nothing
 * new comes from it, the current release keeps running.
 */
static int freeze_check(struct fetch *f, const char *channel, const char *url,
			const struct buf *data, struct pointer *p)
{
	int64_t now = agent_clock(f->a), exp = get_int(f, channel, "expires", 0);
	char k[KEY_MAX], when[META_TIME_LEN + 1], msg[400];
	int rc = 0;

	if (!exp) {             /* kept before its expiry was: read it once */
		rc = pointer_parse(url, data->data, data->len, p);
		if (!rc)
			exp = p->expires;
		if (!rc)
			rc = set_int(f, channel, "expires", exp);
		if (rc)
			return rc;
	}
	snprintf(k, sizeof(k), METRICS_KEY_FROZEN, channel);
	if (exp > now)
		return alarm_clear(f, k);
	meta_time_format(exp, when);
	snprintf(msg, sizeof(msg), "%s: the server keeps answering with a release pointer that "
		 "expired at %s (not modified): the channel is frozen; nothing new is "
		 "applied from it, the current release keeps running", url, when);
	rc = alarm_raise(f, channel, k, 0, exp, msg);
	return rc ? rc : E_EXPIRED;
}

static uint64_t rnd(void)
{
	uint64_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint64_t)time(NULL) * 6364136223846793005ull + (uint64_t)getpid();
	return r;
}

static void duration(int64_t s, char out[32])
{
	if (s >= 3600)
		snprintf(out, 32, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, 32, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, 32, "%llds", (long long)s);
}

/* --- URLs ------------------------------------------------------------------------ */

/* Length of the scheme of u ("https" for "https://..."), 0 when it has none. */
static size_t scheme_len(const char *u)
{
	size_t i = 0;

	if (!((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z')))
		return 0;
	while (u[i] && u[i] != ':' && u[i] != '/' && u[i] != '?' && u[i] != '#')
		i++;
	return u[i] == ':' ? i : 0;
}

static int is_http(const char *u, size_t n)
{
	return (n == 4 && strncasecmp(u, "http", 4) == 0) ||
	       (n == 5 && strncasecmp(u, "https", 5) == 0);
}

/* RFC 3986 5.2.4 on path[0..len) (starting with '/'), appended to out. */
static int remove_dots(const char *path, size_t len, struct buf *out)
{
	char *in = mem_strndup(path, len);
	size_t base = out->len, p = 0;
	int rc = 0;

	if (!in)
		return E_NOMEM;
	while (!rc && in[p]) {
		const char *s = in + p;

		if (strncmp(s, "/./", 3) == 0) {
			p += 2;
		} else if (strcmp(s, "/.") == 0) {
			p += 1;
			in[p] = '/';
		} else if (strncmp(s, "/../", 4) == 0 || strcmp(s, "/..") == 0) {
			char *slash;

			if (s[3] == '/') {
				p += 3;
			} else {
				p += 2;
				in[p] = '/';
			}
			/* drop the last segment written, never above the root */
			slash = strrchr(out->data + base, '/');
			buf_truncate(out, slash ? (size_t)(slash - out->data) : base);
		} else {
			size_t n = strcspn(s + 1, "/") + 1;

			rc = buf_add(out, s, n);
			p += n;
		}
	}
	mem_free(in);
	return rc;
}

int fetch_url_resolve(const char *base, const char *ref, struct buf *out)
{
	size_t rlen = strcspn(ref, "#"), bs = scheme_len(base), rs = scheme_len(ref);
	size_t auth, bpath, bend, rpath;
	struct buf path = BUF_INIT(out->max);
	int rc;

	if (rs) {
		if (!is_http(ref, rs) || strncmp(ref + rs, "://", 3) != 0)
			return error(E_FORMAT, "bundle URL '%s': only http and https are allowed",
				     ref);
		return buf_add(out, ref, rlen);
	}
	if (!bs || !is_http(base, bs) || strncmp(base + bs, "://", 3) != 0)
		return error(E_FORMAT, "'%s' is not an http(s) URL", base);
	auth = bs + 3;
	bpath = auth + strcspn(base + auth, "/?#");
	bend = bpath + strcspn(base + bpath, "?#");
	if (strncmp(ref, "//", 2) == 0)                 /* network-path */
		return buf_add(out, base, bs + 1) ? E_LIMIT : buf_add(out, ref, rlen);
	rc = buf_add(out, base, bpath);                 /* scheme://authority */
	rpath = strcspn(ref, "?#");
	if (!rc && rlen == 0) {                         /* the base itself */
		rc = buf_add(out, base + bpath, strcspn(base + bpath, "#"));
	} else if (!rc && rpath == 0) {                 /* "?query": base path */
		rc = buf_add(&path, base + bpath, bend - bpath);
		if (!rc && path.len == 0)
			rc = buf_addch(&path, '/');
		if (!rc)
			rc = remove_dots(path.data, path.len, out);
		if (!rc)
			rc = buf_add(out, ref, rlen);
	} else if (!rc) {
		if (ref[0] != '/') {
			/* merge: the base path up to its last '/', then ref */
			const char *last = base + bpath;

			for (const char *c = base + bpath; c < base + bend; c++)
				if (*c == '/')
					last = c + 1;
			rc = bpath == bend ? buf_addch(&path, '/') :
			     buf_add(&path, base + bpath, (size_t)(last - (base + bpath)));
		}
		if (!rc)
			rc = buf_add(&path, ref, rpath);
		if (!rc)
			rc = remove_dots(path.data, path.len, out);
		if (!rc)
			rc = buf_add(out, ref + rpath, rlen - rpath);
	}
	buf_free(&path);
	return rc;
}

/* --- downloads ------------------------------------------------------------------- */

struct dl {
	struct fetch *f;
	const struct pointer *p;
	const char *url, *hex;
	struct http_response *resp;
	int64_t id, offset;             /* bytes stored */
	int started;                    /* the first chunk of the answer was seen */
	int refused;                    /* the sink said why it stopped (logged) */
	int64_t stored;                 /* bytes stored by this attempt */
	unsigned char chunk[CHUNK];
	size_t n;                       /* bytes in chunk, not stored yet */
};

static int dl_flush(struct dl *d)
{
	int rc;

	if (!d->n)
		return 0;
	rc = store_download_append(d->f->st, d->id, d->offset, d->chunk, d->n);
	if (rc)
		return rc;
	d->offset += (int64_t)d->n;
	d->stored += (int64_t)d->n;
	d->n = 0;
	return 0;
}

/* outpost_bytes_downloaded_total: n more bytes of bundles stored. */
static int count_downloaded(struct fetch *f, int64_t n)
{
	int64_t v = 0;
	int rc;

	if (n <= 0)
		return 0;
	rc = store_begin(f->st);        /* read and write under one lock */
	if (rc)
		return rc;
	rc = store_setting_get_int(f->st, METRICS_KEY_BYTES, 0, &v);
	if (!rc)
		rc = store_setting_set_int(f->st, METRICS_KEY_BYTES, v + n);
	if (!rc)
		return store_commit(f->st);
	store_rollback(f->st);
	return rc;
}

/* The body of a 2xx answer, as it arrives. */
static int dl_take(struct dl *d, const unsigned char *p, size_t len)
{
	int rc;

	if (!d->started) {
		d->started = 1;
		if (d->resp->status != 206 && d->offset > 0) {
			/* the whole file instead of the rest: start again */
			log_info("%s: the server sent the whole file, not the rest from byte "
				 "%lld: downloading it again", d->url, (long long)d->offset);
			rc = store_download_delete(d->f->st, d->id);
			if (!rc) {
				int64_t got = 0;

				rc = store_download_open(d->f->st, d->p->app, d->p->sequence, d->url,
							 d->p->size, d->hex, &d->id, &got);
				d->offset = got;
			}
			if (rc)
				return rc;
		} else if (d->resp->status == 206 && d->offset == 0) {
			return error(E_HTTP, "%s: a partial answer (206) to a request for the "
				     "whole file", d->url);
		}
	}
	if ((int64_t)len > d->p->size - d->offset - (int64_t)d->n)
		return error(E_LIMIT, "%s: more bytes than the %lld the release pointer says: "
			     "refused (endless data)", d->url, (long long)d->p->size);
	while (len) {
		size_t k = sizeof(d->chunk) - d->n;

		if (k > len)
			k = len;
		memcpy(d->chunk + d->n, p, k);
		d->n += k;
		p += k;
		len -= k;
		if (d->n == sizeof(d->chunk) && (rc = dl_flush(d)))
			return rc;
	}
	return 0;
}

static int dl_sink(void *ctx, const void *data, size_t len)
{
	struct dl *d = ctx;
	int rc = dl_take(d, data, len);

	d->refused = rc != 0;
	return rc;
}

/* A long download is not a hung agent: feed the service watchdog (which
 * pings at most every half interval) while bytes come or the low-speed
 * limit has not cut the transfer yet. */
static void dl_progress(void *ctx)
{
	(void)ctx;
	sdnotify_watchdog();
}

/* The stored bytes of a complete download, hashed and counted. */
struct dl_sum {
	struct sha256 h;
	int64_t n;
};

static int dl_hash(void *ctx, const void *data, size_t len)
{
	struct dl_sum *s = ctx;

	sha256_update(&s->h, data, len);
	s->n += (int64_t)len;
	return 0;
}

/* A complete download read back chunk by chunk, for bundle_read(). */
struct dl_src {
	struct store *st;
	int64_t id, next;               /* the offset of the next chunk */
	struct buf chunk;
	size_t pos;
};

static int dl_read(void *ctx, void *dst, size_t len)
{
	struct dl_src *s = ctx;
	size_t n;

	if (s->pos == s->chunk.len) {
		int rc;

		buf_reset(&s->chunk);
		s->pos = 0;
		rc = store_download_chunk(s->st, s->id, s->next, &s->chunk);
		if (rc == E_NOTFOUND)
			return 0;       /* the end: its size was checked */
		if (rc)
			return rc;
		s->next += (int64_t)s->chunk.len;
		if (!s->chunk.len)
			return 0;
	}
	n = s->chunk.len - s->pos;
	if (n > len)
		n = len;
	if (n > (size_t)1 << 30)
		n = (size_t)1 << 30;
	memcpy(dst, s->chunk.data + s->pos, n);
	s->pos += n;
	return (int)n;
}

/* The trust root in force, as the store keeps it, for the verifier child. */
struct root_bytes {
	struct buf root, sig;
	struct verifier_root vr;
};

static int root_bytes(struct fetch *f, struct root_bytes *rb)
{
	int64_t version = 0, expires = 0;
	int rc;

	buf_init(&rb->root, ROOT_MAX_SIZE);
	buf_init(&rb->sig, SIG_MAX_SIZE);
	rc = store_root_get(f->st, &rb->root, &rb->sig, &version, &expires);
	rb->vr = (struct verifier_root){ rb->root.data, rb->sig.data, rb->root.len, rb->sig.len };
	return rc;
}

static void root_bytes_free(struct root_bytes *rb)
{
	buf_free(&rb->root);
	buf_free(&rb->sig);
}

/* The verifier child's check of the stored download id, first (nothing
 * when privsep is compiled out). */
static int child_check(struct fetch *f, int64_t id, const struct pointer *p, const char *url)
{
	struct verifier *v = upstream_verifier(f->up);
	struct dl_src src = { f->st, id, 0, BUF_INIT(2 * CHUNK), 0 };
	struct verify_ctx ctx = { agent_clock(f->a), 0, p->app, agent_created_limit(f->a) };
	struct root_bytes rb;
	int rc;

	if (!v)
		return 0;
	rc = root_bytes(f, &rb);
	if (!rc)
		rc = store_floor_get(f->st, p->app, &ctx.min_sequence);
	if (!rc)
		rc = verifier_bundle(v, &rb.vr, dl_read, &src, url,
				     (uint64_t)f->cfg->limits.max_bundle_kb * 1024, &ctx, p->sha256,
				     p->size);
	root_bytes_free(&rb);
	buf_free(&src.chunk);
	return rc;
}

/*
 * The complete download id: the pointer's size and sha256 over the stored
 * chunks (whatever the child handed over, it is these bytes or nothing),
 * the verifier child's check of the whole bundle (it parses first), then
 * the whole bundle verified again and stored as it is read back, one chunk
 * in memory at a time.
 */
static int verify_and_store(struct fetch *f, int64_t id, const struct pointer *p,
			    const char *url)
{
	struct dl_src src = { f->st, id, 0, BUF_INIT(2 * CHUNK), 0 };
	struct dl_sum sum = { .n = 0 };
	unsigned char d[SHA256_LEN];
	char app[64];
	int rc;

	sha256_init(&sum.h);
	rc = store_download_read(f->st, id, dl_hash, &sum);
	sha256_final(&sum.h, d);
	if (!rc && sum.n != p->size)
		rc = error(E_TRUNCATED, "%s: %lld bytes stored of %lld", url, (long long)sum.n,
			   (long long)p->size);
	if (!rc && memcmp(d, p->sha256, SHA256_LEN) != 0)
		rc = error(E_DIGEST, "%s: the content does not match the release pointer's "
			   "sha256: refused", url);
	if (!rc)
		rc = child_check(f, id, p, url);
	if (!rc)
		rc = agent_store_stream(f->a, dl_read, &src, url, 0, p, app);
	/* the whole update verified: only now may its pointer move the clock */
	if (!rc)
		rc = agent_clock_floor_raise(f->a, p->created);
	if (!rc && p->health_timeout)
		rc = agent_set_health_timeout(f->a, p->app, p->sequence, p->health_timeout);
	buf_free(&src.chunk);
	return rc;
}

/*
 * Download the bundle of p from url into the store, resuming what an
 * earlier attempt left, then verify and store it as a release.
 */
static int download(struct fetch *f, const struct pointer *p, const char *url)
{
	uint64_t max = (uint64_t)f->cfg->limits.max_bundle_kb * 1024;
	char hex[SHA256_HEX_LEN + 1], range[64];
	const char *headers[2] = { NULL, NULL };
	struct http_request q = { 0 };
	struct http_response r;
	struct dl *d = NULL;
	int64_t id = 0, received = 0, from;
	char bound[32];
	long bound_ms = 0;
	int rc;

	if ((uint64_t)p->size > max)
		return error(E_LIMIT, "%s: %lld bytes, more than limits.max_bundle_kb (%u KiB): "
			     "refused", url, (long long)p->size, f->cfg->limits.max_bundle_kb);
	sha256_hex(p->sha256, hex);
	rc = store_download_open(f->st, p->app, p->sequence, url, p->size, hex, &id, &received);
	if (rc)
		return rc;
	if (received < p->size) {
		d = mem_zalloc(1, sizeof(*d));
		if (!d)
			return E_NOMEM;
		*d = (struct dl){ .f = f, .p = p, .url = url, .hex = hex, .resp = &r,
				  .id = id, .offset = received };
		if (received > 0) {
			snprintf(range, sizeof(range), "Range: bytes=%lld-", (long long)received);
			headers[0] = range;
		}
		/* big bundles on slow links: no fixed timeout, but the time the
		 * rest takes at the low-speed floor (slower is cut by that limit) */
		rc = upstream_transfer_bound(f->up, (uint64_t)(p->size - received), &bound_ms);
		if (rc) {
			mem_free(d);
			return rc;
		}
		duration((int64_t)(bound_ms / 1000), bound);
		q.url = url;
		q.headers = headers;
		q.max_body = (size_t)p->size;
		q.timeout_ms = bound_ms;
		q.sink = dl_sink;
		q.sink_ctx = d;
		q.progress = dl_progress;
		from = received;
		if (received)
			log_info("%s: resuming the download of %s sequence %lld from byte %lld "
				 "of %lld (at most %s at the low-speed floor)", url, p->app,
				 (long long)p->sequence, (long long)received, (long long)p->size,
				 bound);
		else
			log_info("%s: downloading %s sequence %lld, %lld bytes (at most %s at the "
				 "low-speed floor)", url, p->app, (long long)p->sequence,
				 (long long)p->size, bound);
		rc = upstream_do(f->up, &q, &r);
		/* what arrived before a cut is kept: the next attempt resumes there */
		if (rc != E_LIMIT && dl_flush(d) && !rc)
			rc = E_STORE;
		id = d->id;
		received = d->offset;
		if (count_downloaded(f, d->stored) && !rc)
			rc = E_STORE;
		if (rc == E_LIMIT || (rc && rc != E_NETWORK)) {
			if (rc == E_LIMIT && !d->refused)
				error(rc, "%s: more bytes than the %lld the release pointer says: "
				      "refused (endless data)", url, (long long)p->size);
			else if (!d->refused)
				error(rc, "%s: %s", url, r.error);
			store_download_delete(f->st, id);
		} else if (rc) {
			log_warn("%s: download cut at %lld of %lld bytes (%lld this time): %s; it "
				 "resumes from there", url, (long long)received, (long long)p->size,
				 (long long)(received - from), r.error);
		} else if (r.status == 416) {
			rc = error(E_TRUNCATED, "%s: the server has fewer bytes than the %lld the "
				   "release pointer says: refused", url, (long long)p->size);
			store_download_delete(f->st, id);
		} else if (r.status < 200 || r.status > 299) {
			rc = error(E_HTTP, "%s: HTTP status %ld", url, r.status);
		} else if (received < p->size) {
			rc = error(E_TRUNCATED, "%s: the server sent %lld of the %lld bytes the "
				   "release pointer says: refused", url, (long long)received,
				   (long long)p->size);
			store_download_delete(f->st, id);
		} else {
			log_info("%s: %lld bytes downloaded (status %ld)", url,
				 (long long)(received - from), r.status);
		}
		http_response_free(&r);
		mem_free(d);
		if (rc)
			return rc;
	}
	rc = verify_and_store(f, id, p, url);
	/* verified and stored, or refused: either way these bytes are done */
	store_download_delete(f->st, id);
	return rc;
}

/* --- polling ----------------------------------------------------------------------- */

static void window_text(const struct schedule_window *w, char out[80])
{
	int off = w->utc_offset < 0 ? -w->utc_offset : w->utc_offset;

	snprintf(out, 80, "%02d:%02d-%02d:%02d UTC%c%02d:%02d", w->start / 60, w->start % 60,
		 w->end / 60, w->end % 60, w->utc_offset < 0 ? '-' : '+', off / 60, off % 60);
}

/*
 * Act on a verified pointer: nothing when its release is stored or
 * quarantined or this gateway is outside its cohort, else download it.
 */
static int process(struct fetch *f, const char *channel, const char *ptr_url,
		   const struct pointer *p)
{
	struct store_release old;
	struct buf url = BUF_INIT(2 * POINTER_URL_MAX + 16);
	char what[96], msg[512];
	int rc = store_release_get(f->st, p->app, p->sequence, &old);

	if (rc == 0) {
		if (store_state_quarantined((int)old.state)) {
			snprintf(what, sizeof(what), "quarantined/%lld", (long long)p->sequence);
			snprintf(msg, sizeof(msg), "%s: the server points at sequence %lld, which "
				 "failed here before (%s): waiting for a newer one", p->app,
				 (long long)p->sequence, store_state_name(old.state));
			note_once(f, channel, what, msg);
		}
		return set_int(f, channel, "pending", 0);
	}
	if (rc != E_NOTFOUND)
		return rc;
	if (!schedule_in_cohort(f->cfg->device.id, p->rollout.salt, p->rollout.percent)) {
		snprintf(what, sizeof(what), "cohort/%lld/%d", (long long)p->sequence,
			 p->rollout.percent);
		snprintf(msg, sizeof(msg), "%s: sequence %lld is rolled out to %d%% of the fleet, "
			 "and this gateway is not among them yet: keeping the current release",
			 p->app, (long long)p->sequence, p->rollout.percent);
		note_once(f, channel, what, msg);
		return set_int(f, channel, "pending", 0);
	}
	rc = fetch_url_resolve(ptr_url, p->url, &url);
	if (!rc)
		rc = download(f, p, url.data);
	if (!rc)
		rc = set_int(f, channel, "pending", 0);
	buf_free(&url);
	return rc ? rc : 1;
}

/* Keep a verified pointer: its bytes, cache validators and schedule. */
static int accept_pointer(struct fetch *f, const char *channel, const struct pointer *p,
			  const struct buf *data, const struct buf *sig,
			  const struct http_response *r)
{
	char win[64];
	int rc = store_begin(f->st);

	if (rc)
		return rc;
	rc = set_str(f, channel, "pointer", data->data, data->len);
	if (!rc)
		rc = set_str(f, channel, "sig", sig->data, sig->len);
	if (!rc)
		rc = set_str(f, channel, "etag", r->etag, strlen(r->etag));
	if (!rc)
		rc = set_str(f, channel, "modified", r->last_modified, strlen(r->last_modified));
	if (!rc)
		rc = set_int(f, channel, "interval", p->schedule.interval);
	if (!rc)
		rc = set_int(f, channel, "jitter", p->schedule.jitter);
	if (!rc) {
		int n = p->schedule.window ?
			snprintf(win, sizeof(win), "%lld %d %d %d", (long long)p->sequence,
				 p->schedule.start, p->schedule.end, p->schedule.utc_offset) : 0;

		rc = set_str(f, channel, "window", win, (size_t)n);
	}
	if (!rc)
		rc = set_int(f, channel, "pending", 1);
	if (!rc)
		rc = set_int(f, channel, "expires", p->expires);
	if (!rc) {
		char k[KEY_MAX];

		snprintf(k, sizeof(k), METRICS_KEY_FROZEN, channel);
		rc = alarm_clear(f, k);
	}
	if (!rc)
		rc = store_commit(f->st);
	else
		store_rollback(f->st);
	return rc;
}

static int verify(struct fetch *f, const char *channel, const char *url,
		  const struct buf *data, const struct buf *sig, struct pointer *p)
{
	struct verify_ctx ctx = { agent_clock(f->a), 0, channel, agent_created_limit(f->a) };
	struct verifier *v = upstream_verifier(f->up);
	struct root_bytes rb;
	int rc = store_floor_get(f->st, channel, &ctx.min_sequence);

	/* the verifier child first; what it passed is checked here again */
	if (!rc && v) {
		rc = root_bytes(f, &rb);
		if (!rc)
			rc = verifier_pointer(v, &rb.vr, url, data->data, data->len, sig->data,
					      sig->len, &ctx);
		root_bytes_free(&rb);
	}
	if (!rc)
		rc = pointer_verify(agent_trust(f->a), url, data->data, data->len, sig->data,
				    sig->len, &ctx, p);
	return rc;
}

/* An answer that is not what was asked for: its reason, once. */
static int answer_error(const char *url, const struct http_response *r, long *retry_after)
{
	if (r->err) {
		log_warn("%s: %s", url, r->error);
		return r->err;
	}
	*retry_after = r->retry_after;
	log_warn("%s: HTTP status %ld%s", url, r->status,
		 r->retry_after >= 0 && (r->status == 429 || r->status == 503) ?
		 " (the server asks to retry later)" : "");
	return E_HTTP;
}

/* outpost_last_poll_success_timestamp_seconds: the server answered a poll. */
static int answered(struct fetch *f, const char *channel)
{
	return set_int(f, channel, "last_success", (int64_t)time(NULL));
}

/* One poll of channel; *retry_after gets the server's wish after an error. */
static int poll_channel(struct fetch *f, const char *channel, long *retry_after)
{
	struct buf url = BUF_INIT(CFG_URL_MAX + 128), sigurl = BUF_INIT(CFG_URL_MAX + 128);
	struct buf etag = BUF_INIT(256), modified = BUF_INIT(256);
	struct buf data = BUF_INIT(ROOT_MAX_SIZE), sig = BUF_INIT(SIG_MAX_SIZE);
	char inm[300], ims[300];
	const char *headers[3] = { NULL, NULL, NULL };
	struct http_request q = { 0 };
	struct http_response r, rs;
	struct pointer *p = mem_zalloc(1, sizeof(*p));
	int rc, have, nh = 0;

	buf_init(&r.body, 1);
	buf_init(&rs.body, 1);
	if (!p)
		return E_NOMEM;
	rc = buf_addf(&url, "%schannels/%s/release.yaml", f->cfg->server, channel);
	if (!rc)
		rc = buf_addf(&sigurl, "%s.sig", url.data);
	if (!rc)
		rc = root_check(f, channel);
	if (rc)
		goto out;
	/* validators only with the pointer they validate at hand */
	have = get_str(f, channel, "pointer", &data) == 0 &&
	       get_str(f, channel, "sig", &sig) == 0;
	if (have && get_str(f, channel, "etag", &etag) == 0 && etag.len) {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", etag.data);
		headers[nh++] = inm;
	}
	if (have && get_str(f, channel, "modified", &modified) == 0 && modified.len) {
		snprintf(ims, sizeof(ims), "If-Modified-Since: %s", modified.data);
		headers[nh++] = ims;
	}
	q.url = url.data;
	q.headers = headers;
	q.max_body = ROOT_MAX_SIZE;
	q.timeout_ms = POLL_TIMEOUT_MS;
	rc = upstream_do(f->up, &q, &r);
	if (!rc && r.status == 304 && have) {
		log_debug("%s: not modified", url.data);
		rc = answered(f, channel);
		if (!rc)
			rc = freeze_check(f, channel, url.data, &data, p);
		if (rc || get_int(f, channel, "pending", 0) == 0)
			goto out;
		/* the release it points at is not stored yet: go on with it */
		rc = verify(f, channel, url.data, &data, &sig, p);
		if (!rc)
			rc = process(f, channel, url.data, p);
		goto out;
	}
	if (rc || r.status != 200) {
		rc = answer_error(url.data, &r, retry_after);
		goto out;
	}
	q.url = sigurl.data;
	q.headers = NULL;
	q.max_body = SIG_MAX_SIZE;
	rc = upstream_do(f->up, &q, &rs);
	if (rc || rs.status != 200) {
		rc = answer_error(sigurl.data, &rs, retry_after);
		goto out;
	}
	rc = verify(f, channel, url.data, &r.body, &rs.body, p);
	if (!rc)
		rc = answered(f, channel);
	if (!rc)
		rc = accept_pointer(f, channel, p, &r.body, &rs.body, &r);
	if (!rc)
		log_info("%s: %s sequence %lld (%s) published", url.data, p->app,
			 (long long)p->sequence, p->version);
	if (!rc)
		rc = process(f, channel, url.data, p);
out:
	http_response_free(&r);
	http_response_free(&rs);
	buf_free(&url);
	buf_free(&sigurl);
	buf_free(&etag);
	buf_free(&modified);
	buf_free(&data);
	buf_free(&sig);
	mem_free(p);
	return rc;
}

int fetch_poll(struct fetch *f, const struct config_app *app, int force)
{
	const char *ch = app->channel;
	struct schedule_state *s = sched_of(f, app);
	int64_t now = (int64_t)time(NULL), delay;
	long retry_after = -1;
	char in[32], prefix[KEY_MAX];
	int rc, src;

	/* the schedule in memory decides: the store's copy may be stale */
	if (!force && now < s->next)
		return 0;
	rc = poll_channel(f, ch, &retry_after);
	snprintf(prefix, sizeof(prefix), "poll/%s", ch);
	/* a next poll time that cannot be stored is an error like any other */
	src = schedule_state_record(s, &f->bounds, f->st, prefix, now, rc < 0,
				    get_int(f, ch, "interval", 0), get_int(f, ch, "jitter", 0),
				    retry_after, rnd(), &delay);
	if (src && rc >= 0)
		rc = src;
	duration(delay, in);
	if (rc < 0)
		log_warn("%s: next poll in %s (%lld error%s in a row)", app->name, in,
			 (long long)s->errors, s->errors == 1 ? "" : "s");
	else
		log_debug("%s: next poll in %s", app->name, in);
	return rc;
}

/* The window of channel's newest release when that waits for it. */
static int waiting(struct fetch *f, const struct config_app *app, struct schedule_window *w,
		   int64_t *sequence)
{
	struct buf v = BUF_INIT(64);
	struct store_release r;
	long long seq;
	int n = 0;

	if (store_release_latest(f->st, app->channel, &r) || r.state != STORE_VERIFIED ||
	    get_str(f, app->channel, "window", &v)) {
		buf_free(&v);
		return 0;
	}
	w->set = sscanf(v.data, "%lld %d %d %d", &seq, &w->start, &w->end, &w->utc_offset) == 4;
	n = w->set && seq == r.sequence;
	*sequence = r.sequence;
	buf_free(&v);
	return n;
}

int fetch_may_apply(struct fetch *f, const struct config_app *app, int64_t now)
{
	struct schedule_window w = { 0 };
	char text[80], in[32];
	int64_t seq = 0;

	if (!waiting(f, app, &w, &seq) || schedule_in_window(&w, now))
		return 1;
	window_text(&w, text);
	duration(schedule_window_wait(&w, now), in);
	log_info("%s: sequence %lld is verified and waits for its maintenance window %s "
		 "(opens in %s)", app->name, (long long)seq, text, in);
	return 0;
}

int64_t fetch_next_due(struct fetch *f, int64_t now)
{
	int64_t due = now + f->bounds.max;

	for (size_t i = 0; i < f->cfg->napps; i++) {
		const struct config_app *app = &f->cfg->apps[i];
		struct schedule_window w = { 0 };
		int64_t next = sched_of(f, app)->next, seq;

		if (next < due)
			due = next;
		if (waiting(f, app, &w, &seq) && now + schedule_window_wait(&w, now) < due)
			due = now + schedule_window_wait(&w, now);
	}
	return due;
}
