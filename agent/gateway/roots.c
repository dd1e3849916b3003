/* roots — walk the server's published trust roots forward. */
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "http.h"
#include "log.h"
#include "roots.h"
#include "store.h"
#include "trust.h"
#include "upstream.h"

#define ROOTS_TIMEOUT_MS 60000L
#define REFUSED_KEY "roots/refused"

/* "VERSION ETAG" of the root refused last, or "" (refused: its ETag). */
static void refused_etag(struct store *st, int64_t version, char *etag, size_t len)
{
	struct buf v = BUF_INIT(256);
	char prefix[32];
	int n = snprintf(prefix, sizeof(prefix), "%lld ", (long long)version);

	etag[0] = '\0';
	if (store_setting_get(st, REFUSED_KEY, &v) == 0 && strncmp(v.data, prefix, (size_t)n) == 0)
		snprintf(etag, len, "%s", v.data + n);
	buf_free(&v);
}

/* One version: 1 accepted, 0 not published (or refused before), < 0 error. */
static int walk_one(struct agent *a, struct upstream *up, const struct config *cfg)
{
	int64_t v = trust_version(agent_trust(a)) + 1;
	struct buf url = BUF_INIT(CFG_URL_MAX + 64), sigurl = BUF_INIT(CFG_URL_MAX + 64);
	struct http_request q = { 0 };
	struct http_response r, rs;
	char etag[128], inm[160];
	const char *headers[2] = { NULL, NULL };
	int rc;

	buf_init(&r.body, 1);
	buf_init(&rs.body, 1);
	rc = buf_addf(&url, "%sroots/%lld.root.yaml", cfg->server, (long long)v);
	if (!rc)
		rc = buf_addf(&sigurl, "%s.sig", url.data);
	if (rc)
		goto out;
	refused_etag(agent_store(a), v, etag, sizeof(etag));
	if (etag[0]) {
		snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
		headers[0] = inm;
	}
	q.url = url.data;
	q.headers = headers;
	q.max_body = ROOT_MAX_SIZE;
	q.timeout_ms = ROOTS_TIMEOUT_MS;
	rc = upstream_do(up, &q, &r);
	if (rc) {
		log_warn("%s: %s", url.data, r.error);
		goto out;
	}
	/* not published (static hosts and object stores say 404 or 403) */
	if (r.status == 404 || r.status == 403 || (r.status == 304 && etag[0])) {
		log_debug("%s: %s", url.data, r.status == 304 ? "refused before, unchanged" :
			  "not published");
		goto out;
	}
	if (r.status != 200) {
		rc = error(E_HTTP, "%s: HTTP status %ld", url.data, r.status);
		goto out;
	}
	q.url = sigurl.data;
	q.headers = NULL;
	q.max_body = SIG_MAX_SIZE;
	rc = upstream_do(up, &q, &rs);
	if (rc)
		log_warn("%s: %s", sigurl.data, rs.error);
	else if (rs.status != 200)
		rc = error(E_HTTP, "%s: HTTP status %ld", sigurl.data, rs.status);
	if (!rc)
		rc = agent_root_rotate(a, url.data, &r.body, &rs.body);
	if (!rc) {
		rc = store_setting_delete(agent_store(a), REFUSED_KEY);
		rc = rc ? rc : 1;
	} else if (rc != E_NETWORK && rc != E_HTTP && rc != E_STORE && r.etag[0]) {
		char k[200];
		int n = snprintf(k, sizeof(k), "%lld %s", (long long)v, r.etag);

		error(rc, "%s: refused: the gateway keeps trust root version %lld (asked "
		      "again only when it changes)", url.data, (long long)(v - 1));
		if ((size_t)n < sizeof(k))
			store_setting_set(agent_store(a), REFUSED_KEY, k, (size_t)n);
	}
out:
	http_response_free(&r);
	http_response_free(&rs);
	buf_free(&url);
	buf_free(&sigurl);
	return rc;
}

int roots_walk(struct agent *a, struct upstream *up, const struct config *cfg)
{
	int n = 0, rc = 1;

	while (n < ROOTS_WALK_MAX && (rc = walk_one(a, up, cfg)) == 1)
		n++;
	return rc < 0 ? rc : n;
}
