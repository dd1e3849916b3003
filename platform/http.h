/*
 * http — the program's one HTTP client, and the only file that uses
 * libcurl. HTTP and HTTPS only (no other protocol, not even on a redirect),
 * TLS by mbedTLS with full peer verification (only a switch for tests
 * turns it off), redirects off unless asked for, a body cap enforced while
 * receiving (nothing is buffered past it), connect and low-speed timeouts
 * against slow-retrieval attacks, and optional streaming of a body to a
 * sink (downloads that go straight into the state store).
 *
 * A client (struct http_client) owns one curl multi handle and a pool of
 * easy handles, so connections and TLS sessions are reused across requests
 * and batches. http_batch() runs N requests in parallel over at most K
 * connections; http_do() is a batch of one. A client is not thread-safe.
 *
 * Nothing here logs: a failed transfer leaves its reason (with curl's own
 * words) in the response, and the caller, who knows what was being fetched,
 * reports it once. "Could not reach" (a negative err) is kept apart from
 * "the server answered with an error status" (err 0, status >= 400).
 *
 * libcurl and mbedTLS allocate with their own malloc, outside mem_alloc.
 */
#ifndef OUTPOST_HTTP_H
#define OUTPOST_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct http_client;

struct http_opts {
	/* Trust anchors: a PEM file, or PEM text (ca_pem, ca_len bytes);
	 * with neither, nothing verifies and every HTTPS request fails. */
	const char *ca_file;
	const char *ca_pem;
	size_t ca_len;
	/* Optional client certificate and key, each as a PEM file or PEM text
	 * (text wins). The key is kept by the client and wiped when freed. */
	const char *cert_file, *key_file;
	const char *cert_pem, *key_pem;
	size_t cert_len, key_len;
	/* Optional "Authorization: Bearer TOKEN" on every request. */
	const char *bearer;
	/* Optional pin "HOST:PORT:ADDRESS" (CURLOPT_RESOLVE): connect to
	 * ADDRESS but verify the certificate for HOST. */
	const char *resolve;
	long connect_timeout_ms;    /* 0: 10 s */
	long timeout_ms;            /* whole transfer; 0: none */
	long low_speed_bytes;       /* abort below this many bytes/s ... */
	long low_speed_secs;        /* ... for this long; 0: 1 B/s for 30 s */
	size_t max_body;            /* default response cap; 0: 1 MiB */
	unsigned max_connections;   /* default parallelism; 0: 4 */
	int follow_redirects;       /* 0: a 3xx is returned as it is */
	/* Tests only (config tls.insecure_skip_verify, itself refused unless
	 * OUTPOST_TEST_INSECURE=1): skip peer and host verification. */
	int insecure_skip_verify;
};

/*
 * A new client in *out with copies of everything in o (o may be freed
 * afterwards). Initialises libcurl on first use. 0, E_NOMEM, E_CONFIG (an
 * option curl refuses), or E_UNSUPPORTED; nothing logged except E_CONFIG.
 * Free with http_client_free().
 */
int http_client_new(struct http_client **out, const struct http_opts *o);
void http_client_free(struct http_client *c);

struct http_request {
	const char *method;         /* NULL: GET, or POST when body is set */
	const char *url;
	const char *content_type;   /* of the body; NULL: none */
	const char *accept;         /* NULL: none */
	const char *const *headers; /* more "Name: value" lines, NULL-ended */
	const void *body;           /* sent as is; must live until done */
	size_t body_len;
	size_t max_body;            /* response cap; 0: the client's */
	long timeout_ms;            /* 0: the client's; -1: none (watches) */
	/* Optional streaming: the body of a 2xx answer goes to sink(sink_ctx,
	 * ...) as it arrives instead of into resp->body (resp->status is set
	 * before the first call); other answers are collected as usual. A
	 * non-zero return aborts the transfer and becomes resp->err. The cap
	 * (max_body) still bounds the streamed bytes. */
	int (*sink)(void *ctx, const void *data, size_t len);
	void *sink_ctx;
	/* Optional: called while the transfer runs, about once a second and
	 * as data arrives, even when nothing arrives (a long download keeps
	 * a service watchdog fed from here). It must not call the client. */
	void (*progress)(void *ctx);
	void *progress_ctx;
};

struct http_response {
	int err;                    /* 0 when the server answered, else < 0 */
	long status;                /* HTTP status; 0 when err */
	struct buf body;            /* at most the cap */
	char content_type[128];     /* selected headers, "" when absent */
	char etag[128];
	char last_modified[64];
	char warning[512];          /* Warning headers, joined with "; " */
	long retry_after;           /* seconds, -1 when absent or invalid */
	char error[256];            /* why err, with curl's words; "" if none */
	int tls_failed;             /* err: the TLS handshake failed (a peer
				     * certificate not verified, ours refused) */
};

/*
 * Run one request. Returns resp->err: 0 when the server answered (look at
 * resp->status), E_NETWORK when it could not be reached or the transfer
 * broke (refused, reset, timeout, TLS failure including a certificate that
 * does not verify), E_LIMIT when the body passed its cap (the transfer is
 * aborted there), E_CONFIG for a URL or option curl refuses, E_NOMEM.
 * resp is initialised here; free it with http_response_free().
 */
int http_do(struct http_client *c, const struct http_request *req,
	    struct http_response *resp);

/*
 * Run n requests with at most parallel (0: the client's max_connections)
 * in flight, each on its own connection, reused from earlier requests when
 * possible. resps[i] answers reqs[i]; each is initialised here and freed
 * by the caller. If done is not NULL it is called as each transfer
 * finishes (in completion order) and may take or free resp->body. Returns
 * 0 when every request got an answer, else the err of the first that did
 * not (E_NOMEM when the batch could not run at all; every resps[i] is
 * still initialised and safe to free).
 */
int http_batch(struct http_client *c, const struct http_request *reqs,
	       struct http_response *resps, size_t n, unsigned parallel,
	       void (*done)(void *ctx, size_t i, struct http_response *resp),
	       void *ctx);

void http_response_free(struct http_response *resp);

/*
 * An overall bound for a transfer of bytes with c's settings: what it
 * takes at the low-speed floor (a slower one is cut by that limit
 * anyway), plus the low-speed time and the connect timeout, in ms, at
 * most HTTP_BOUND_MAX_MS. For http_request.timeout_ms of a big download
 * that must not run for ever just above the floor.
 */
#define HTTP_BOUND_MAX_MS 2000000000L      /* 23 days: fits a 32-bit long */
long http_transfer_bound_ms(const struct http_client *c, uint64_t bytes);
/* The same for a client that would be made from o (made elsewhere). */
long http_opts_bound_ms(const struct http_opts *o, uint64_t bytes);

/* Append s to out percent-encoded for a URL query value (RFC 3986
 * unreserved characters stay). 0, E_LIMIT or E_NOMEM. */
int http_escape(struct buf *out, const char *s);

#endif
