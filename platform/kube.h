/*
 * kube — a client of the Kubernetes API (the local k3s server) over HTTPS:
 * the kubeconfig, discovery (apiVersion + kind → resource), server-side
 * apply, get, list, delete, and the parsing of API errors.
 *
 * A struct kube owns an HTTP client (platform/http.h) with a pool of
 * connections to the API server, and the discovery cache. Everything that
 * goes over the network is bounded: replies by a size cap, requests by a
 * timeout, lists by a page size and a page count. Not thread-safe.
 *
 * Outcomes keep "the API refused" apart from "we could not tell":
 *   E_API          the API answered 4xx: the request is wrong (message has
 *                  the parsed Status: "422 Invalid: ...")
 *   E_NOTFOUND     404 on a get (not logged: a normal answer)
 *   E_UNAVAILABLE  no answer (refused, reset, timeout, TLS failure), a 5xx
 *                  or a 429: the outcome is unknown, never "failed"
 * Functions log each failure once ("apply apps/v1 Deployment default/web:
 * 422 Invalid: ..."); batch results also carry their message.
 *
 * Status: polling by kube_get()/kube_get_batch(); there is no watch.
 */
#ifndef OUTPOST_KUBE_H
#define OUTPOST_KUBE_H

#include <stddef.h>

#include "buf.h"
#include "doc.h"

/* --- kubeconfig ------------------------------------------------------------ */

/*
 * What outpost takes from a kubeconfig: the current context's cluster and
 * user. Secrets (key, token) are wiped by kube_config_free().
 */
struct kube_config {
	char *context, *cluster, *user;  /* names, for messages */
	char *server;           /* as written: https://127.0.0.1:6443 */
	char *base;             /* what we connect to: https://kubernetes:6443 */
	char *resolve;          /* "kubernetes:6443:127.0.0.1", or NULL */
	char *namespace;        /* the context's namespace, or "default" */
	char *ca, *cert, *key;  /* PEM text (files are read in); cert/key NULL */
	size_t ca_len, cert_len, key_len;
	char *token;            /* bearer token, or NULL */
};

/*
 * Parse the kubeconfig text[0..len); path names it in messages and anchors
 * relative file names (certificate-authority, client-certificate,
 * client-key, tokenFile are read in, each at most 1 MiB). A server given by
 * IP address is reached by the name in tls-server-name, else `kubernetes`
 * (a SAN of every k3s serving certificate; mbedTLS cannot match IP SANs),
 * pinned to that address. Refused with E_CONFIG, naming the file and key:
 * no current-context, an unknown context/cluster/user, a server that is not
 * https, insecure-skip-tls-verify, exec/auth-provider/basic auth, bad
 * base64, no certificate authority. 0 and *out (free with
 * kube_config_free()), or E_CONFIG/E_FORMAT/E_LIMIT/E_NOMEM, logged.
 */
int kube_config_parse(struct kube_config **out, const char *path,
		      const char *text, size_t len);
/* The same from a file; path NULL means CONFIG_KUBECONFIG. */
int kube_config_load(struct kube_config **out, const char *path);
void kube_config_free(struct kube_config *cfg);

/* --- client ------------------------------------------------------------------ */

struct kube;

struct kube_opts {
	const char *kubeconfig;     /* NULL: CONFIG_KUBECONFIG */
	unsigned parallel;          /* connections; 0: CONFIG_API_CONNECTIONS */
	long timeout_ms;            /* per request; 0: 30 s */
	size_t max_reply;           /* largest reply body; 0: 16 MiB */
	const char *field_manager;  /* NULL: "outpost" */
};

/*
 * Load the kubeconfig and make a client (no request is sent yet). 0 and
 * *out (free with kube_close()), or the kubeconfig's error, logged.
 * Credentials follow rotation (k3s rewrites k3s.yaml with new client
 * certificates, or a new CA): a request answered 401, or whose TLS
 * handshake failed, makes the client read the kubeconfig again; if its
 * credentials changed, they are used from then on and the refused requests
 * of that batch (or that discovery) are sent once more. Otherwise the
 * answer stands.
 */
int kube_open(struct kube **out, const struct kube_opts *o);
/* The same with a parsed config; cfg is copied, the caller keeps it. No
 * reload: there is no file to read again. */
int kube_open_config(struct kube **out, const struct kube_config *cfg,
		     const struct kube_opts *o);
void kube_close(struct kube *k);

/* The namespace given to namespaced objects that name none. */
const char *kube_default_namespace(const struct kube *k);

/* --- discovery -------------------------------------------------------------- */

/* One REST mapping: what the API serves for an apiVersion and kind. */
struct kube_type {
	const char *api_version;    /* "v1", "apps/v1" */
	const char *kind;           /* "Deployment" */
	const char *resource;       /* "deployments" */
	int namespaced;
};

/*
 * Fetch the mapping: /api/v1, /apis and each /apis/GROUP/VERSION (in
 * parallel), replacing the cache. A group-version that answers with an
 * error (an aggregated API that is down) is skipped with a warning. 0,
 * E_UNAVAILABLE, E_API, E_FORMAT, E_NOMEM; logged.
 */
int kube_discover(struct kube *k);

/*
 * Replace the cache with the mapping in discovery answers already fetched,
 * as kube_discover reads them: path is what was asked ("/api", "/apis",
 * "/api/v1", "/apis/GROUP/VERSION"), aggregated whether the answer is an
 * APIGroupDiscoveryList (its Content-Type said so). 0, E_FORMAT (logged) or
 * E_NOMEM; on an error the cache is kept.
 */
struct kube_discovery_doc {
	const char *path;
	int aggregated;
	const char *body;
	size_t len;
};
int kube_discovery_load(struct kube *k, const struct kube_discovery_doc *docs, size_t n);

/*
 * Map (apiVersion, kind) to its resource. On a miss the cache is refreshed
 * once (new CRDs) if it was imported, is older than 10 s, or anything was
 * written through k since it was fetched; then a miss is E_NOTFOUND (not
 * logged). *t points into the cache: valid until the next discovery.
 */
int kube_resolve(struct kube *k, const char *api_version, const char *kind,
		 const struct kube_type **t);

/*
 * Find a type by a user's word, as kubectl does: a kind or a resource
 * (plural), either case, optionally ".GROUP" ("deploy" shortnames are not
 * known). The preferred match is the core group, then the first group in
 * discovery order. 0 or E_NOTFOUND (not logged).
 */
int kube_find_type(struct kube *k, const char *word, const struct kube_type **t);

/* Number of mappings in the cache, and the i-th (for listing). */
size_t kube_type_count(const struct kube *k);
const struct kube_type *kube_type_at(const struct kube *k, size_t i);

/*
 * The cache as a JSON blob, to persist it between runs:
 * {"version":1,"types":[["apps/v1","Deployment","deployments",true],...]}.
 * Appended to out. 0, E_LIMIT or E_NOMEM. Import replaces the cache (and
 * marks it as imported: the first miss re-discovers). 0, E_FORMAT (logged)
 * or E_NOMEM.
 */
int kube_discovery_export(const struct kube *k, struct buf *out);
int kube_discovery_import(struct kube *k, const char *json, size_t len);

/* --- objects ------------------------------------------------------------------ */

struct kube_object {
	const char *api_version;
	const char *kind;
	const char *namespace;      /* NULL/"": the default, when namespaced */
	const char *name;
	const char *json;           /* apply: the object as JSON */
	size_t json_len;
	const char *prev_rv;        /* apply: resourceVersion last seen, or NULL */
	const char *const *headers; /* more "Name: value" lines (NULL-ended), or NULL */
};

/* What the server's answer says of a refusal (E_API, E_NOTFOUND). */
enum kube_why {
	KUBE_WHY_NONE = 0,
	KUBE_WHY_INVALID,           /* 422, or the 500 of a patch that cannot be
				     * typed: the object is wrong */
	KUBE_WHY_IMMUTABLE,         /* 422: a field that cannot change once set */
	KUBE_WHY_TERMINATING,       /* 403: its namespace is being deleted */
	KUBE_WHY_NOT_SERVED,        /* 404 without a Status: the server has no
				     * such route (a CRD's kind not served yet) */
	KUBE_WHY_CONFLICT,          /* 409 other than field managers': it
				     * changed meanwhile */
	KUBE_WHY_TOO_LARGE          /* 413 */
};

struct kube_result {
	int err;                    /* 0, or E_API / E_UNAVAILABLE / ... */
	enum kube_why why;          /* for E_API and E_NOTFOUND */
	long status;                /* HTTP status; 0 without an answer */
	int created;                /* apply: 201 Created */
	int changed;                /* apply: 1 created or resourceVersion
				     * differs from prev_rv, 0 same, -1 unknown */
	int gone;                   /* delete: it was already absent (404) */
	char rv[64];                /* metadata.resourceVersion after the call */
	char uid[64];               /* metadata.uid */
	char *object;               /* reply JSON when kept (mem_free'd by
				     * kube_result_free), else NULL */
	size_t object_len;
	char *message;              /* why err, or NULL */
};

void kube_result_free(struct kube_result *r);

/*
 * Server-side apply: PATCH the object URL with fieldManager and force=true,
 * Content-Type application/apply-patch+yaml and the JSON body. The result
 * carries the resourceVersion and uid of the object after apply, created
 * (201), changed, and with keep the reply (the object with its status).
 * A body over 3 MiB (kube-apiserver's request limit) is not sent: E_LIMIT,
 * the message naming the size and the limit (kube_create too).
 * Returns r->err. r is initialised here; free it with kube_result_free().
 */
int kube_apply(struct kube *k, const struct kube_object *o, int keep,
	       struct kube_result *r);

/*
 * Create: POST o->json to the collection of o's type in o->namespace
 * (o->name is not used: the body names the object, or has
 * metadata.generateName). E_API for a refusal (409 AlreadyExists, 422,
 * a missing namespace); the result carries rv, uid, created and, with keep,
 * the reply. Returns r->err; free r with kube_result_free().
 */
int kube_create(struct kube *k, const struct kube_object *o, int keep,
		struct kube_result *r);

/*
 * Apply objs[0..n) in parallel over at most parallel (0: the client's)
 * connections; res[i] answers objs[i] (each initialised here). Kinds are
 * resolved first (one re-discovery for all misses). Returns 0 when all were
 * applied, E_UNAVAILABLE if any outcome is unknown, else the first error.
 */
int kube_apply_batch(struct kube *k, const struct kube_object *objs, size_t n,
		     unsigned parallel, int keep, struct kube_result *res);

/*
 * Get one object (api_version, kind, namespace, name of o): its JSON is
 * appended to out. 0, E_NOTFOUND (not logged), E_API, E_UNAVAILABLE, ...
 */
int kube_get(struct kube *k, const struct kube_object *o, struct buf *out);

/*
 * Get objs[0..n) in parallel (for health polling): res[i].object holds the
 * JSON, res[i].err is E_NOTFOUND for a missing one. Returns as
 * kube_apply_batch(), except that E_NOTFOUND does not count as a failure.
 */
int kube_get_batch(struct kube *k, const struct kube_object *objs, size_t n,
		   unsigned parallel, struct kube_result *res);

/*
 * Delete with propagationPolicy Background. 0 when the API accepted it or
 * the object was already gone (r->gone); the object may linger until its
 * finalizers ran. Returns r->err; free r with kube_result_free().
 */
int kube_delete(struct kube *k, const struct kube_object *o, struct kube_result *r);
int kube_delete_batch(struct kube *k, const struct kube_object *objs, size_t n,
		      unsigned parallel, struct kube_result *res);

/*
 * List objects of a type, in namespace (NULL or "": all namespaces, or the
 * type is cluster-scoped) matching selector (a label selector as kubectl
 * takes it, "app=web,tier!=db"; NULL: all), in pages of 500, at most
 * 1,000 pages. each() is called with every item (a map; valid only during
 * the call); a non-zero return stops the listing and is returned. 0,
 * E_API, E_UNAVAILABLE, E_LIMIT, E_FORMAT, ...
 */
int kube_list(struct kube *k, const char *api_version, const char *kind,
	      const char *namespace, const char *selector,
	      int (*each)(void *ctx, const struct node *item), void *ctx);

/* --- pieces, exposed for tests ------------------------------------------------ */

/*
 * Append the API path of a type's collection (name NULL) or object:
 * /api/v1/namespaces/NS/configmaps/NAME, /apis/GROUP/VERSION/RES[/NAME].
 * namespace is used only when namespaced and non-empty (NULL/"" with a
 * namespaced type gives the all-namespaces collection). 0, E_FORMAT (a
 * name or namespace with '/', '%', control characters, "." or ".."),
 * E_LIMIT, E_NOMEM. Does not log.
 */
int kube_path(struct buf *out, const struct kube_type *t, const char *namespace,
	      const char *name);

/*
 * Append a one-line message for an API error reply: "CODE REASON: message
 * [field: cause; ...]" from a Status body, or "CODE" and a sanitised start
 * of any other body. 0, E_LIMIT, E_NOMEM.
 */
int kube_status_message(struct buf *out, long status, const char *body, size_t len);

/*
 * What an answer of the API server means: 0 for a 2xx; E_UNAVAILABLE
 * (unknown: try again later) for a 5xx, 408, 429 and 401 (credentials
 * refused); E_NOTFOUND for a 404; E_API, a refusal, for every other status
 * and for the 500 with which server-side apply refuses a patch it cannot
 * type ("failed to create typed patch object": a duplicate key in a keyed
 * list, a wrong type, an unknown field), which no retry changes. The
 * server's words are appended to msg; why (may be NULL) says what kind of
 * refusal an E_API or E_NOTFOUND is.
 */
int kube_answer(long status, const char *body, size_t len, struct buf *msg,
		enum kube_why *why);

#endif
