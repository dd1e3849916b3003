/* upstream — the HTTP client towards the release server and reports receiver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "features.h"
#include "log.h"
#include "mem.h"
#include "upstream.h"
#include "verifier.h"

#define CONNECT_TIMEOUT_MS 15000L
/* Slow-retrieval defence: below this many bytes/s for this long, a transfer
 * is cut (and a download resumes from there at the next attempt). */
#define LOW_SPEED_BYTES 100L
#define LOW_SPEED_SECS 60L
/* Tests only: pin a host ("HOST:PORT:ADDRESS", as curl --resolve) and make
 * the low-speed limit short ("BYTES:SECONDS"). */
#define ENV_RESOLVE "OUTPOST_TEST_RESOLVE"
#define ENV_LOW_SPEED "OUTPOST_TEST_LOW_SPEED"

struct upstream {
	const struct config *cfg;
	struct http_client *http;       /* in the process that speaks HTTP */
	struct verifier *v;             /* privsep: the child that does */
};

int upstream_new(struct upstream **out, const struct config *cfg)
{
	struct upstream *u = mem_zalloc(1, sizeof(*u));

	*out = u;
	if (!u)
		return E_NOMEM;
	u->cfg = cfg;
	if (IS_ENABLED(CONFIG_PRIVSEP) && verifier_new(&u->v, cfg->path)) {
		mem_free(u);
		*out = NULL;
		return E_NOMEM;
	}
	return 0;
}

void upstream_free(struct upstream *u)
{
	if (!u)
		return;
	http_client_free(u->http);
	verifier_free(u->v);
	mem_free(u);
}

struct verifier *upstream_verifier(struct upstream *u)
{
	return u->v;
}

/* The client's options from the config and the test overrides (said when
 * loud). */
static int options(const struct config *c, struct http_opts *out, int loud)
{
	const char *resolve = getenv(ENV_RESOLVE), *speed = getenv(ENV_LOW_SPEED);
	struct http_opts o = { 0 };

	if (c->tls.ca_pem) {
		o.ca_pem = c->tls.ca_pem;
		o.ca_len = c->tls.ca_pem_len;
	} else {
		o.ca_file = c->tls.ca;
	}
	if (IS_ENABLED(CONFIG_TLS_CLIENT_CERT) && c->tls.client_cert) {
		o.cert_file = c->tls.client_cert;
		o.key_file = c->tls.client_key;
	}
	o.insecure_skip_verify = c->tls.insecure_skip_verify;
	o.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	o.low_speed_bytes = LOW_SPEED_BYTES;
	o.low_speed_secs = LOW_SPEED_SECS;
	o.max_connections = 2;
	o.follow_redirects = 1;
	if (resolve && *resolve) {
		o.resolve = resolve;
		if (loud)
			log_warn("%s=%s: connecting there (for tests only)", ENV_RESOLVE, resolve);
	}
	if (speed && *speed) {
		char *end;
		long b = strtol(speed, &end, 10), s = *end == ':' ? strtol(end + 1, &end, 10) : 0;

		if (*end || b < 1 || s < 1)
			return error(E_CONFIG, "%s=%s: expected BYTES:SECONDS", ENV_LOW_SPEED, speed);
		o.low_speed_bytes = b;
		o.low_speed_secs = s;
		if (loud)
			log_warn("%s=%s: low-speed limit %ld bytes/s for %ld s (for tests only)",
			 ENV_LOW_SPEED, speed, b, s);
	}
	*out = o;
	return 0;
}

static int client(struct upstream *u)
{
	struct http_opts o;
	int rc;

	if (u->http)
		return 0;
	rc = options(u->cfg, &o, 1);
	if (!rc)
		rc = http_client_new(&u->http, &o);
	if (rc)
		return error(rc, "release server: cannot set up the HTTP client");
	return 0;
}

int upstream_do(struct upstream *u, const struct http_request *q, struct http_response *r)
{
	int rc = u->v ? 0 : client(u);

	if (rc) {
		memset(r, 0, sizeof(*r));
		buf_init(&r->body, 1);
		r->err = rc;
		snprintf(r->error, sizeof(r->error), "%s", err_str(rc));
		return rc;
	}
	/* said once, by the process the request is for */
	if (u->cfg->tls.insecure_skip_verify && (u->v || !IS_ENABLED(CONFIG_PRIVSEP)))
		log_warn("%s: TLS certificate verification is OFF (tls.insecure_skip_verify, "
			 "for tests only)", q->url);
	return u->v ? verifier_http(u->v, q, r) : http_do(u->http, q, r);
}

int upstream_transfer_bound(struct upstream *u, uint64_t bytes, long *ms)
{
	struct http_opts o;
	int rc;

	if (u->v) {             /* the child's client, made from the same options */
		rc = options(u->cfg, &o, 0);
		if (!rc)
			*ms = http_opts_bound_ms(&o, bytes);
		return rc;
	}
	rc = client(u);
	if (!rc)
		*ms = http_transfer_bound_ms(u->http, bytes);
	return rc;
}

static int child_http(void *ctx, const struct http_request *q, struct http_response *r)
{
	return upstream_do(ctx, q, r);
}

int upstream_child_main(void)
{
	const char *readable[] = { "/etc/resolv.conf", "/etc/hosts", "/etc/ssl/certs",
				   "/dev/urandom", NULL, NULL, NULL, NULL };
	enum log_level level = log_get_level();
	struct upstream u = { 0 };
	struct config cfg;
	size_t n = 4;
	int rc;

	/* the parent loaded and reported this configuration already */
	log_set_level(LOG_ERROR);
	rc = config_load(NULL, &cfg);
	log_set_level(level);
	if (rc)
		return 1;
	u.cfg = &cfg;
	/* the CA and the client key are read before the sandbox closes */
	rc = client(&u);
	if (cfg.tls.ca)
		readable[n++] = cfg.tls.ca;
	if (IS_ENABLED(CONFIG_TLS_CLIENT_CERT) && cfg.tls.client_cert) {
		readable[n++] = cfg.tls.client_cert;
		readable[n++] = cfg.tls.client_key;
	}
	if (!rc)
		rc = verifier_serve(readable, child_http, &u);
	http_client_free(u.http);
	config_free(&cfg);
	return rc ? 1 : 0;
}
