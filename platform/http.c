/* http — libcurl behind a small request/response interface. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "error.h"
#include "http.h"
#include "mem.h"
#include "version.h"

#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_MAX_BODY (1u << 20)
#define DEFAULT_CONNECTIONS 4u
#define MAX_REDIRECTS 5L

/* One easy handle of the pool and the state of the transfer it runs. */
struct slot {
	CURL *easy;
	struct curl_slist *headers;
	struct http_response *resp;
	size_t index;
	size_t cap;
	int busy;
	int overflow;       /* the body passed its cap: abort, E_LIMIT */
	int nomem;
	int (*sink)(void *ctx, const void *data, size_t len);
	void *sink_ctx;
	int sink_rc;        /* the sink's refusal: the transfer's err */
	size_t streamed;    /* bytes given to the sink */
	void (*progress)(void *ctx);
	void *progress_ctx;
	char errbuf[CURL_ERROR_SIZE];
};

struct http_client {
	CURLM *multi;
	CURLSH *share;      /* TLS sessions outlive a connection */
	struct curl_slist *resolve;
	struct slot *slots;
	unsigned nslots;
	char *ca_file, *cert_file, *key_file;
	char *ca_pem, *cert_pem, *key_pem;
	size_t ca_len, cert_len, key_len;
	char *auth_header;
	long connect_ms, timeout_ms, low_bytes, low_secs;
	size_t max_body;
	unsigned max_conn;
	int follow;
	int insecure;
	char agent[64];
};

static int curl_ready;

static int global_init(void)
{
	if (curl_ready)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return E_NOMEM;
	curl_ready = 1;
	return 0;
}

/* A NUL-terminated copy of len bytes (trailing NULs dropped), or NULL. */
static int dup_mem(char **dst, size_t *dlen, const char *s, size_t len)
{
	while (len && s[len - 1] == '\0')
		len--;
	*dst = mem_strndup(s, len);
	if (!*dst)
		return E_NOMEM;
	*dlen = len;
	return 0;
}

static int dup_str(char **dst, const char *s)
{
	if (!s)
		return 0;
	*dst = mem_strdup(s);
	return *dst ? 0 : E_NOMEM;
}

static void wipe_free(char *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	mem_free(p);
}

int http_client_new(struct http_client **out, const struct http_opts *o)
{
	struct http_client *c;
	const char *v = version_short();
	size_t vlen = strcspn(v, " ");
	int rc;

	*out = NULL;
	rc = global_init();
	if (rc)
		return rc;
	c = mem_zalloc(1, sizeof(*c));
	if (!c)
		return E_NOMEM;
	c->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 0;
	c->low_bytes = o->low_speed_bytes > 0 ? o->low_speed_bytes : 1;
	c->low_secs = o->low_speed_secs > 0 ? o->low_speed_secs : 30;
	c->max_body = o->max_body ? o->max_body : DEFAULT_MAX_BODY;
	c->max_conn = o->max_connections ? o->max_connections : DEFAULT_CONNECTIONS;
	c->follow = o->follow_redirects;
	c->insecure = o->insecure_skip_verify;
	snprintf(c->agent, sizeof(c->agent), "outpost/%.*s", (int)vlen, v);

	rc = E_NOMEM;
	if (dup_str(&c->ca_file, o->ca_file) || dup_str(&c->cert_file, o->cert_file) ||
	    dup_str(&c->key_file, o->key_file))
		goto fail;
	if (o->ca_pem && dup_mem(&c->ca_pem, &c->ca_len, o->ca_pem, o->ca_len))
		goto fail;
	if (o->cert_pem && dup_mem(&c->cert_pem, &c->cert_len, o->cert_pem, o->cert_len))
		goto fail;
	if (o->key_pem && dup_mem(&c->key_pem, &c->key_len, o->key_pem, o->key_len))
		goto fail;
	if (o->bearer) {
		size_t n = strlen("Authorization: Bearer ") + strlen(o->bearer) + 1;

		if (strpbrk(o->bearer, "\r\n")) {
			rc = error(E_CONFIG, "bearer token: contains a line break");
			goto fail;
		}
		c->auth_header = mem_alloc(n, 1);
		if (!c->auth_header)
			goto fail;
		snprintf(c->auth_header, n, "Authorization: Bearer %s", o->bearer);
	}
	if (o->resolve) {
		c->resolve = curl_slist_append(NULL, o->resolve);
		if (!c->resolve)
			goto fail;
	}
	c->share = curl_share_init();
	c->multi = curl_multi_init();
	if (!c->share || !c->multi)
		goto fail;
	if (curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) ||
	    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS)) {
		rc = E_UNSUPPORTED;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	http_client_free(c);
	return rc;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->nslots; i++) {
		if (c->slots[i].busy)
			curl_multi_remove_handle(c->multi, c->slots[i].easy);
		curl_easy_cleanup(c->slots[i].easy);
		curl_slist_free_all(c->slots[i].headers);
	}
	mem_free(c->slots);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->share)
		curl_share_cleanup(c->share);
	curl_slist_free_all(c->resolve);
	mem_free(c->ca_file);
	mem_free(c->cert_file);
	mem_free(c->key_file);
	mem_free(c->ca_pem);
	mem_free(c->cert_pem);
	wipe_free(c->key_pem, c->key_len);
	if (c->auth_header)
		wipe_free(c->auth_header, strlen(c->auth_header));
	mem_free(c);
}

static void response_init(struct http_response *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, cap);
	r->retry_after = -1;
}

void http_response_free(struct http_response *r)
{
	if (r)
		buf_free(&r->body);
}

/* --- callbacks ------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct slot *s = ud;
	int rc;

	if (s->sink) {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->resp->status);
		if (s->resp->status >= 200 && s->resp->status < 300) {
			if (size * n > s->cap - s->streamed) {
				s->overflow = 1;
				return 0;
			}
			s->streamed += size * n;
			s->sink_rc = s->sink(s->sink_ctx, p, size * n);
			return s->sink_rc ? 0 : size * n;
		}
	}
	rc = buf_add(&s->resp->body, p, size * n);

	if (rc == E_LIMIT)
		s->overflow = 1;
	else if (rc)
		s->nomem = 1;
	/* a short count makes curl abort the transfer: nothing past the cap */
	return rc ? 0 : size * n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct slot *s = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (s->progress)
		s->progress(s->progress_ctx);
	return 0;
}

static void copy_value(char *dst, size_t cap, const char *v, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

/* Join repeated headers with "; ", what does not fit is dropped. */
static void add_value(char *dst, size_t cap, const char *v, size_t len)
{
	size_t used = strlen(dst);

	if (used && used + 2 < cap) {
		memcpy(dst + used, "; ", 2);
		used += 2;
	}
	if (used + 1 < cap)
		copy_value(dst + used, cap - used, v, len);
}

static long parse_retry_after(const char *v)
{
	char *end;
	long n;
	time_t when;

	if (*v >= '0' && *v <= '9') {
		n = strtol(v, &end, 10);
		return *end == '\0' && n >= 0 && n < 86400L * 365 ? n : -1;
	}
	when = curl_getdate(v, NULL);
	if (when < 0)
		return -1;
	return when > time(NULL) ? (long)(when - time(NULL)) : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct slot *s = ud;
	struct http_response *r = s->resp;
	size_t len = size * n, name;
	const char *v;
	char value[256];

	/* a new status line starts a new header block (after 1xx or 3xx) */
	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		r->content_type[0] = r->etag[0] = r->last_modified[0] = '\0';
		r->warning[0] = '\0';
		r->retry_after = -1;
		return len;
	}
	v = memchr(p, ':', len);
	if (!v)
		return len;
	name = (size_t)(v - p);
	v++;
	while (v < p + len && (*v == ' ' || *v == '\t'))
		v++;
	while (len > (size_t)(v - p) && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
					p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	len -= (size_t)(v - p);
#define IS(h) (name == sizeof(h) - 1 && strncasecmp(p, h, name) == 0)
	if (IS("Content-Type"))
		copy_value(r->content_type, sizeof(r->content_type), v, len);
	else if (IS("ETag"))
		copy_value(r->etag, sizeof(r->etag), v, len);
	else if (IS("Last-Modified"))
		copy_value(r->last_modified, sizeof(r->last_modified), v, len);
	else if (IS("Warning"))
		add_value(r->warning, sizeof(r->warning), v, len);
	else if (IS("Retry-After")) {
		copy_value(value, sizeof(value), v, len);
		r->retry_after = parse_retry_after(value);
	}
#undef IS
	return size * n;
}

/* --- transfers ---------------------------------------------------------- */

static int add_header(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (!n)
		return E_NOMEM;
	*l = n;
	return 0;
}

static int add_header2(struct curl_slist **l, const char *name, const char *value)
{
	char line[512];

	if (strpbrk(value, "\r\n") ||
	    snprintf(line, sizeof(line), "%s: %s", name, value) >= (int)sizeof(line))
		return E_CONFIG;
	return add_header(l, line);
}

static int build_headers(struct http_client *c, const struct http_request *q,
			 struct curl_slist **l)
{
	int rc = 0;

	/* never wait for "100 Continue": the API answers at once */
	rc = add_header(l, "Expect:");
	if (!rc && c->auth_header)
		rc = add_header(l, c->auth_header);
	if (!rc && q->content_type)
		rc = add_header2(l, "Content-Type", q->content_type);
	if (!rc && q->accept)
		rc = add_header2(l, "Accept", q->accept);
	for (const char *const *h = q->headers; !rc && h && *h; h++)
		rc = strpbrk(*h, "\r\n") ? E_CONFIG : add_header(l, *h);
	return rc;
}

/*
 * What went wrong, in words: libcurl is built without its verbose strings
 * (curl_easy_strerror() then says only "Error"), so the sentence is ours;
 * the details come from curl's error buffer and the system's errno.
 */
static const char *curl_what(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST: return "cannot resolve the host name";
	case CURLE_COULDNT_RESOLVE_PROXY: return "cannot resolve the proxy";
	case CURLE_COULDNT_CONNECT: return "cannot connect";
	case CURLE_OPERATION_TIMEDOUT: return "timed out";
	case CURLE_PARTIAL_FILE: return "transfer cut short";
	case CURLE_RECV_ERROR: return "connection broken while receiving";
	case CURLE_SEND_ERROR: return "connection broken while sending";
	case CURLE_GOT_NOTHING: return "the server closed the connection without answering";
	case CURLE_SSL_CONNECT_ERROR: return "TLS handshake failed";
	case CURLE_PEER_FAILED_VERIFICATION: return "the server's certificate does not verify";
	case CURLE_SSL_CERTPROBLEM: return "the client certificate cannot be used";
	case CURLE_SSL_CACERT_BADFILE: return "the CA certificates cannot be read";
	case CURLE_TOO_MANY_REDIRECTS: return "too many redirects";
	case CURLE_WEIRD_SERVER_REPLY: return "the server's answer is not HTTP";
	case CURLE_UNSUPPORTED_PROTOCOL:
		return "a scheme other than http or https, in the URL or a redirect "
		       "(file://, ftp://, ...): refused";
	case CURLE_URL_MALFORMAT:
		/* what this curl says of a redirect to file:// too */
		return "a malformed URL, in the request or a redirect: a space or another "
		       "character URLs may not hold, a bad port, or a scheme other than "
		       "http or https (file://, ...): refused";
	case CURLE_NOT_BUILT_IN: return "not supported by this build";
	case CURLE_BAD_CONTENT_ENCODING: return "bad content encoding";
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM: return "HTTP/2 error";
	case CURLE_ABORTED_BY_CALLBACK: return "stopped";
	default: return NULL;
	}
}

#define SET(opt, val) (rc = rc ? rc : curl_easy_setopt(e, opt, val))

static int slot_setup(struct http_client *c, struct slot *s, const struct http_request *q)
{
	CURL *e = s->easy;
	CURLcode rc = CURLE_OK;
	const char *method = q->method ? q->method : q->body ? "POST" : "GET";
	long timeout = q->timeout_ms > 0 ? q->timeout_ms : q->timeout_ms < 0 ? 0 : c->timeout_ms;
	int hr;

	curl_easy_reset(e);
	s->errbuf[0] = '\0';
	hr = build_headers(c, q, &s->headers);
	if (hr)
		return hr;
	SET(CURLOPT_URL, q->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, (long)c->follow);
	SET(CURLOPT_MAXREDIRS, MAX_REDIRECTS);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_SHARE, c->share);
	SET(CURLOPT_ERRORBUFFER, s->errbuf);
	SET(CURLOPT_USERAGENT, c->agent);
	SET(CURLOPT_HTTPHEADER, s->headers);
	SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
	SET(CURLOPT_TIMEOUT_MS, timeout);
	SET(CURLOPT_LOW_SPEED_LIMIT, c->low_bytes);
	SET(CURLOPT_LOW_SPEED_TIME, c->low_secs);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->cap);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, s);
	SET(CURLOPT_PRIVATE, s);
	if (q->progress) {
		SET(CURLOPT_XFERINFOFUNCTION, on_progress);
		SET(CURLOPT_XFERINFODATA, s);
		SET(CURLOPT_NOPROGRESS, 0L);
	}
	/* verification is switched off only by the tests' switch */
	SET(CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
	SET(CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
	if (c->resolve)
		SET(CURLOPT_RESOLVE, c->resolve);
	if (c->ca_pem) {
		struct curl_blob b = { c->ca_pem, c->ca_len, CURL_BLOB_NOCOPY };

		SET(CURLOPT_CAINFO_BLOB, &b);
	} else if (c->ca_file) {
		SET(CURLOPT_CAINFO, c->ca_file);
	}
	if (c->cert_pem) {
		struct curl_blob b = { c->cert_pem, c->cert_len, CURL_BLOB_NOCOPY };

		SET(CURLOPT_SSLCERT_BLOB, &b);
	} else if (c->cert_file) {
		SET(CURLOPT_SSLCERT, c->cert_file);
	}
	if (c->key_pem) {
		/* mbedTLS parses PEM keys only with their NUL counted in */
		struct curl_blob b = { c->key_pem, c->key_len + 1, CURL_BLOB_NOCOPY };

		SET(CURLOPT_SSLKEY_BLOB, &b);
	} else if (c->key_file) {
		SET(CURLOPT_SSLKEY, c->key_file);
	}
	if (q->body) {
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
		SET(CURLOPT_POSTFIELDS, q->body);
		if (strcmp(method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "HEAD") == 0) {
		SET(CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		SET(CURLOPT_CUSTOMREQUEST, method);
	}
	if (rc == CURLE_OUT_OF_MEMORY)
		return E_NOMEM;
	if (rc) {
		/* the URL without its query: that may carry a token */
		const char *what = curl_what(rc);

		snprintf(s->resp->error, sizeof(s->resp->error), "%.*s: %s (curl error %d)",
			 (int)strcspn(q->url, "?"), q->url, what ? what : "option refused",
			 (int)rc);
		return E_CONFIG;
	}
	return 0;
}

#undef SET

/* The reason of a failed transfer into r->error. */
static void transfer_error(struct slot *s, CURLcode rc, struct http_response *r)
{
	const char *what = curl_what(rc), *tail = ": Error";
	size_t n = strlen(s->errbuf), tl = strlen(tail);
	long os = 0;
	char code[48], sys[96] = "", detail[CURL_ERROR_SIZE + 4] = "";

	/* curl's text ends in its own (empty) strerror: drop it */
	if (n >= tl && strcmp(s->errbuf + n - tl, tail) == 0)
		n -= tl;
	if (n == 5 && strncmp(s->errbuf, "Error", 5) == 0)
		n = 0;
	if (n)
		snprintf(detail, sizeof(detail), " (%.*s)", (int)n, s->errbuf);
	if (curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &os) == CURLE_OK && os > 0)
		snprintf(sys, sizeof(sys), ": %s", strerror((int)os));
	if (!what) {
		snprintf(code, sizeof(code), "transfer failed (curl error %d)", (int)rc);
		what = code;
	}
	/* a long detail is cut at the end: the start says what happened */
	if (snprintf(r->error, sizeof(r->error), "%s%s%s", what, sys, detail) < 0)
		r->error[0] = '\0';
}

/* The error code for a finished transfer, and its reason in resp->error. */
static int transfer_result(struct slot *s, CURLcode rc)
{
	struct http_response *r = s->resp;
	int e;

	if (s->sink_rc) {
		snprintf(r->error, sizeof(r->error), "%s", err_str(s->sink_rc));
		return s->sink_rc;
	}
	if (s->overflow || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(r->error, sizeof(r->error), "response larger than %zu bytes", s->cap);
		return E_LIMIT;
	}
	if (s->nomem || rc == CURLE_OUT_OF_MEMORY) {
		snprintf(r->error, sizeof(r->error), "%s", err_str(E_NOMEM));
		return E_NOMEM;
	}
	if (rc == CURLE_OK)
		return 0;
	/* credentials that may have been rotated: the caller may reload them */
	r->tls_failed = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
			rc == CURLE_SSL_ISSUER_ERROR || rc == CURLE_SSL_CERTPROBLEM;
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_NOT_BUILT_IN:
		e = E_CONFIG;
		break;
	default:
		/* refused, reset, timed out, TLS failure: could not reach */
		e = E_NETWORK;
		break;
	}
	transfer_error(s, rc, r);
	return e;
}

static int pool_grow(struct http_client *c, unsigned want)
{
	struct slot *n;

	if (want <= c->nslots)
		return 0;
	n = mem_realloc(c->slots, want, sizeof(*n));
	if (!n)
		return E_NOMEM;
	c->slots = n;
	while (c->nslots < want) {
		struct slot *s = &c->slots[c->nslots];

		memset(s, 0, sizeof(*s));
		s->easy = curl_easy_init();
		if (!s->easy)
			return E_NOMEM;
		c->nslots++;
	}
	return 0;
}

static void slot_release(struct http_client *c, struct slot *s)
{
	if (s->busy)
		curl_multi_remove_handle(c->multi, s->easy);
	curl_slist_free_all(s->headers);
	s->headers = NULL;
	s->busy = 0;
	s->resp = NULL;
}

int http_batch(struct http_client *c, const struct http_request *reqs,
	       struct http_response *resps, size_t n, unsigned parallel,
	       void (*done)(void *ctx, size_t i, struct http_response *resp),
	       void *ctx)
{
	unsigned k = parallel ? parallel : c->max_conn, active = 0;
	size_t next = 0;
	int first = 0, rc;

	for (size_t i = 0; i < n; i++)
		response_init(&resps[i], reqs[i].max_body ? reqs[i].max_body : c->max_body);
	if (n == 0)
		return 0;
	if (k > n)
		k = (unsigned)n;
	rc = pool_grow(c, k);
	if (rc)
		return rc;
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)k);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)k);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long)c->nslots);

	for (;;) {
		int running = 0, left;
		CURLMsg *m;

		/* start transfers up to k in flight; a request that cannot be
		 * set up fails alone and its slot takes the next one (with one
		 * slot, moving on left every later request unrun) */
		for (unsigned j = 0; j < k && active < k && next < n; ) {
			struct slot *s = &c->slots[j];

			if (s->busy) {
				j++;
				continue;
			}
			s->resp = &resps[next];
			s->index = next;
			s->cap = resps[next].body.max;
			s->overflow = s->nomem = s->sink_rc = 0;
			s->sink = reqs[next].sink;
			s->sink_ctx = reqs[next].sink_ctx;
			s->streamed = 0;
			s->progress = reqs[next].progress;
			s->progress_ctx = reqs[next].progress_ctx;
			rc = slot_setup(c, s, &reqs[next]);
			if (!rc && curl_multi_add_handle(c->multi, s->easy) != CURLM_OK)
				rc = E_NOMEM;
			if (rc) {
				resps[next].err = rc;
				if (!resps[next].error[0])
					snprintf(resps[next].error, sizeof(resps[next].error),
						 "%s", err_str(rc));
				slot_release(c, s);
				if (!first)
					first = rc;
				if (done)
					done(ctx, next, &resps[next]);
				next++;
				continue;
			}
			s->busy = 1;
			active++;
			next++;
			j++;
		}
		if (!active)
			break;
		if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
			rc = E_NOMEM;
			break;
		}
		while ((m = curl_multi_info_read(c->multi, &left))) {
			struct slot *s = NULL;
			struct http_response *r;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			r = s->resp;
			r->err = transfer_result(s, m->data.result);
			if (!r->err)
				curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &r->status);
			if (r->err && !first)
				first = r->err;
			rc = 0;
			slot_release(c, s);
			active--;
			if (done)
				done(ctx, s->index, r);
		}
		/* a slot just freed with requests waiting: start the next at
		 * once, not after the next event on some other connection */
		if (next < n && active < k)
			continue;
		if (active && running && curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
			rc = E_NOMEM;
			break;
		}
	}
	if (active) {
		/* the multi handle failed: abandon what is still running */
		for (unsigned j = 0; j < c->nslots; j++) {
			struct slot *s = &c->slots[j];

			if (!s->busy)
				continue;
			s->resp->err = rc;
			snprintf(s->resp->error, sizeof(s->resp->error), "%s", err_str(rc));
			slot_release(c, s);
		}
		for (size_t i = next; i < n; i++)
			resps[i].err = rc;
		return rc;
	}
	return first;
}

int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *resp)
{
	return http_batch(c, req, resp, 1, 1, NULL, NULL);
}

static long bound_ms(long low_bytes, long low_secs, long connect_ms, uint64_t bytes)
{
	uint64_t secs = bytes / (uint64_t)low_bytes + 1 + (uint64_t)low_secs +
			(uint64_t)connect_ms / 1000 + 1;

	return secs >= (uint64_t)(HTTP_BOUND_MAX_MS / 1000) ? HTTP_BOUND_MAX_MS :
	       (long)secs * 1000L;
}

long http_transfer_bound_ms(const struct http_client *c, uint64_t bytes)
{
	return bound_ms(c->low_bytes, c->low_secs, c->connect_ms, bytes);
}

long http_opts_bound_ms(const struct http_opts *o, uint64_t bytes)
{
	return bound_ms(o->low_speed_bytes > 0 ? o->low_speed_bytes : 1,
			o->low_speed_secs > 0 ? o->low_speed_secs : 30,
			o->connect_timeout_ms > 0 ? o->connect_timeout_ms : DEFAULT_CONNECT_MS,
			bytes);
}

int http_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;

	for (; *s && !rc; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			rc = buf_addch(out, (char)ch);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			rc = buf_add(out, e, 3);
		}
	}
	return rc;
}
