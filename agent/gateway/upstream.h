/*
 * upstream — the gateway's one HTTP client towards the fleet's servers:
 * the release server (fetch) and the reports receiver (report), set up
 * from the config's tls settings on first use, so a process that never
 * talks to a server never loads a CA. Owned by the command that runs the
 * agent and handed to fetch and report, which share its connections and
 * its TLS session. With CONFIG_PRIVSEP the client lives in the verifier
 * child (verifier.h) and this process never speaks HTTP to them itself.
 */
#ifndef OUTPOST_UPSTREAM_H
#define OUTPOST_UPSTREAM_H

#include <stdint.h>

#include "config.h"
#include "http.h"

struct upstream;

/* An upstream for cfg (which must outlive it); no I/O yet. 0 or E_NOMEM;
 * *out is the caller's (upstream_free()). */
int upstream_new(struct upstream **out, const struct config *cfg);
void upstream_free(struct upstream *u);

/*
 * Run one request, making the client first when needed (E_CONFIG for a bad
 * test override, logged), with the warning tls.insecure_skip_verify
 * requires on every request. As http_do(): r is filled in either way and
 * must be freed by the caller.
 */
int upstream_do(struct upstream *u, const struct http_request *q, struct http_response *r);

/*
 * *ms: the overall bound for downloading bytes from the release server:
 * their time at the low-speed floor, plus its grace and the connect
 * timeout (http_transfer_bound_ms()). 0, or the client's set-up error.
 */
int upstream_transfer_bound(struct upstream *u, uint64_t bytes, long *ms);

/*
 * With CONFIG_PRIVSEP, every request runs in the verifier child
 * (verifier.h), which also checks what fetch hands it first; this is that
 * child (NULL when compiled out). u keeps it.
 */
struct verifier *upstream_verifier(struct upstream *u);

/* The verifier child's main (`outpost verifier-child`, started by the
 * verifier, never by hand): its own client, sandboxed. Exit status. */
int upstream_child_main(void);

#endif
