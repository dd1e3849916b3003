/* upstream — the HTTP client towards the release server and reports receiver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "features.h"
#include "log.h"
#include "mem.h"
#include "upstream.h"

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
	struct http_client *http;
};

int upstream_new(struct upstream **out, const struct config *cfg)
{
	struct upstream *u = mem_zalloc(1, sizeof(*u));

	*out = u;
	if (!u)
		return E_NOMEM;
	u->cfg = cfg;
	return 0;
}

void upstream_free(struct upstream *u)
{
	if (!u)
		return;
	http_client_free(u->http);
	mem_free(u);
}

static int client(struct upstream *u)
{
	const struct config *c = u->cfg;
	const char *resolve = getenv(ENV_RESOLVE), *speed = getenv(ENV_LOW_SPEED);
	struct http_opts o = { 0 };
	int rc;

	if (u->http)
		return 0;
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
		log_warn("%s=%s: connecting there (for tests only)", ENV_RESOLVE, resolve);
	}
	if (speed && *speed) {
		char *end;
		long b = strtol(speed, &end, 10), s = *end == ':' ? strtol(end + 1, &end, 10) : 0;

		if (*end || b < 1 || s < 1)
			return error(E_CONFIG, "%s=%s: expected BYTES:SECONDS", ENV_LOW_SPEED, speed);
		o.low_speed_bytes = b;
		o.low_speed_secs = s;
		log_warn("%s=%s: low-speed limit %ld bytes/s for %ld s (for tests only)",
			 ENV_LOW_SPEED, speed, b, s);
	}
	rc = http_client_new(&u->http, &o);
	if (rc)
		return error(rc, "release server: cannot set up the HTTP client");
	return 0;
}

int upstream_do(struct upstream *u, const struct http_request *q, struct http_response *r)
{
	int rc = client(u);

	if (rc) {
		memset(r, 0, sizeof(*r));
		buf_init(&r->body, 1);
		r->err = rc;
		snprintf(r->error, sizeof(r->error), "%s", err_str(rc));
		return rc;
	}
	if (u->cfg->tls.insecure_skip_verify)
		log_warn("%s: TLS certificate verification is OFF (tls.insecure_skip_verify, "
			 "for tests only)", q->url);
	return http_do(u->http, q, r);
}

int upstream_transfer_bound(struct upstream *u, uint64_t bytes, long *ms)
{
	int rc = client(u);

	if (!rc)
		*ms = http_transfer_bound_ms(u->http, bytes);
	return rc;
}
