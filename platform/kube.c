/* kube — discovery, server-side apply, get, list and delete over platform/http. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "http.h"
#include "kube.h"
#include "log.h"
#include "mem.h"

#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_REPLY (16u << 20)
#define DISCOVERY_MAX (4u << 20)        /* one discovery document */
#define STALE_MS 10000L                 /* re-discover on a miss after this */
#define LIST_PAGE 500
#define LIST_PAGES_MAX 1000
#define MESSAGE_MAX 4096
#define MAX_TYPES 10000
#define NAME_MAX_LEN 253
/*
 * The largest request body kube-apiserver reads (its MaxRequestBodyBytes,
 * 3 MiB; observed-1.32/apply_too_large_413.json): a larger one is refused
 * here, before it is sent, not with a 413 after.
 */
#define REQUEST_BODY_MAX (3u << 20)

struct type_entry {
	struct kube_type t;
	char str[];         /* "apiVersion\0kind\0resource\0" */
};

struct kube {
	struct http_client *http;
	struct http_opts hopts;     /* what http was made with, but credentials */
	char *kubeconfig;           /* reloaded on 401 / TLS failure; NULL: none */
	int reloadable;             /* opened from a kubeconfig file */
	unsigned char cred[SHA256_LEN]; /* digest of the credentials in use */
	char *base;
	char *ns;
	char *manager;
	unsigned parallel;
	size_t max_reply;
	struct type_entry **types;
	size_t ntypes;
	int discovered;         /* the cache holds a discovery (or an import) */
	int imported;           /* ... taken from kube_discovery_import() */
	long long disc_at;      /* monotonic ms of the last discovery */
	unsigned long writes, disc_writes;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reply documents are JSON from a server we authenticated, but still bounded. */
static struct doc_limits reply_limits(size_t len)
{
	struct doc_limits l = doc_limits_default;

	l.max_bytes = len + 1;
	l.max_docs = 1;
	return l;
}

static int load_json(const char *name, const char *data, size_t len, struct doc **d)
{
	struct doc_limits l = reply_limits(len);

	return doc_load_json(name, data, len, &l, d);
}

/* --- client ------------------------------------------------------------------ */

int kube_open(struct kube **out, const struct kube_opts *o)
{
	struct kube_config *cfg;
	int rc;

	*out = NULL;
	rc = kube_config_load(&cfg, o ? o->kubeconfig : NULL);
	if (rc)
		return rc;
	rc = kube_open_config(out, cfg, o);
	kube_config_free(cfg);
	if (!rc && o && o->kubeconfig && !((*out)->kubeconfig = mem_strdup(o->kubeconfig))) {
		kube_close(*out);
		*out = NULL;
		return E_NOMEM;
	}
	if (!rc)
		(*out)->reloadable = 1;
	return rc;
}

/* A digest of what authenticates us and the server: to tell a rotation. */
static void cred_digest(const struct kube_config *cfg, unsigned char out[SHA256_LEN])
{
	struct sha256 c;
	const char *parts[] = { cfg->ca, cfg->cert, cfg->key, cfg->token };
	size_t lens[] = { cfg->ca_len, cfg->cert_len, cfg->key_len,
			  cfg->token ? strlen(cfg->token) : 0 };

	sha256_init(&c);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t n = parts[i] ? lens[i] : UINT64_MAX;

		sha256_update(&c, &n, sizeof(n));
		if (parts[i])
			sha256_update(&c, parts[i], lens[i]);
	}
	sha256_final(&c, out);
}

static int client_for(const struct kube_config *cfg, struct http_opts *h,
		      struct http_client **out)
{
	h->ca_pem = cfg->ca;
	h->ca_len = cfg->ca_len;
	h->cert_pem = cfg->cert;
	h->cert_len = cfg->cert_len;
	h->key_pem = cfg->key;
	h->key_len = cfg->key_len;
	h->bearer = cfg->token;
	h->resolve = cfg->resolve;
	return http_client_new(out, h);
}

/*
 * k3s rotates its client certificates (and can rotate its CA) and rewrites
 * k3s.yaml: after a 401 or a failed TLS handshake, read the kubeconfig
 * again and, if its credentials changed, use them from now on. 0 when the
 * client now has new credentials (worth trying again), E_NOTFOUND when
 * nothing changed (the refusal stands), or the error of the reload. The
 * API server's address is not changed here: URLs already built use it.
 */
static int kube_reload(struct kube *k)
{
	struct kube_config *cfg = NULL;
	struct http_client *http = NULL;
	unsigned char cred[SHA256_LEN];
	int rc;

	if (!k->reloadable)
		return E_NOTFOUND;
	rc = kube_config_load(&cfg, k->kubeconfig);
	if (rc)
		return rc;
	cred_digest(cfg, cred);
	if (memcmp(cred, k->cred, sizeof(cred)) == 0) {
		kube_config_free(cfg);
		return E_NOTFOUND;
	}
	if (strcmp(cfg->base, k->base) != 0)
		log_warn("kubeconfig %s: the API server is now %s; still using %s until "
			 "restarted", k->kubeconfig ? k->kubeconfig : CONFIG_KUBECONFIG,
			 cfg->server, k->base);
	rc = client_for(cfg, &k->hopts, &http);
	if (!rc) {
		http_client_free(k->http);
		k->http = http;
		memcpy(k->cred, cred, sizeof(cred));
		log_info("kubeconfig %s: new credentials loaded (the API refused the old ones)",
			 k->kubeconfig ? k->kubeconfig : CONFIG_KUBECONFIG);
	}
	kube_config_free(cfg);
	return rc;
}

int kube_open_config(struct kube **out, const struct kube_config *cfg,
		     const struct kube_opts *o)
{
	static const struct kube_opts none;
	struct http_opts h = { 0 };
	struct kube *k;
	int rc;

	*out = NULL;
	if (!o)
		o = &none;
	k = mem_zalloc(1, sizeof(*k));
	if (!k)
		return E_NOMEM;
	k->parallel = o->parallel ? o->parallel : CONFIG_API_CONNECTIONS;
	k->max_reply = o->max_reply ? o->max_reply : DEFAULT_MAX_REPLY;
	k->base = mem_strdup(cfg->base);
	k->ns = mem_strdup(cfg->namespace ? cfg->namespace : "default");
	k->manager = mem_strdup(o->field_manager ? o->field_manager : "outpost");
	rc = E_NOMEM;
	if (!k->base || !k->ns || !k->manager)
		goto fail;
	h.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	h.max_body = k->max_reply;
	h.max_connections = k->parallel;
	k->hopts = h;
	cred_digest(cfg, k->cred);
	rc = client_for(cfg, &h, &k->http);
	if (rc) {
		error(rc, "kubernetes client: %s", err_str(rc));
		goto fail;
	}
	*out = k;
	return 0;
fail:
	kube_close(k);
	return rc;
}

static void types_free(struct type_entry **t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mem_free(t[i]);
	mem_free(t);
}

void kube_close(struct kube *k)
{
	if (!k)
		return;
	http_client_free(k->http);
	types_free(k->types, k->ntypes);
	mem_free(k->kubeconfig);
	mem_free(k->base);
	mem_free(k->ns);
	mem_free(k->manager);
	mem_free(k);
}

const char *kube_default_namespace(const struct kube *k)
{
	return k->ns;
}

/* --- names and paths ------------------------------------------------------- */

/* A path segment the API could serve: what no kind accepts is refused. */
static int valid_segment(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 127 || *s == '/' || *s == '%' || *s == '?' || *s == '#')
			return 0;
	return 1;
}

/* Discovery strings we accept: group/version [a-z0-9.-/], kind [A-Za-z0-9],
 * resource [a-z0-9.-]. Anything else from a server is skipped. */
static int valid_word(const char *s, const char *extra)
{
	if (!s || !*s || strlen(s) > NAME_MAX_LEN)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      (*s && strchr(extra, *s))))
			return 0;
	return 1;
}

static int valid_kind(const char *s)
{
	return valid_word(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
}

int kube_path(struct buf *out, const struct kube_type *t, const char *ns,
	      const char *name)
{
	int rc;

	if (!valid_word(t->api_version, ".-/") || !valid_word(t->resource, ".-") ||
	    (name && !valid_segment(name)) ||
	    (t->namespaced && ns && *ns && !valid_segment(ns)))
		return E_FORMAT;
	rc = buf_addstr(out, strchr(t->api_version, '/') ? "/apis/" : "/api/");
	if (!rc)
		rc = buf_addstr(out, t->api_version);
	if (!rc && t->namespaced && ns && *ns) {
		rc = buf_addstr(out, "/namespaces/");
		if (!rc)
			rc = http_escape(out, ns);
	}
	if (!rc)
		rc = buf_addf(out, "/%s", t->resource);
	if (!rc && name) {
		rc = buf_addch(out, '/');
		if (!rc)
			rc = http_escape(out, name);
	}
	return rc;
}

/* --- API errors ------------------------------------------------------------ */

/* Append up to max bytes of s, control characters as spaces. */
static int add_clean(struct buf *out, const char *s, size_t len, size_t max)
{
	int rc = 0;

	if (len > max)
		len = max;
	for (size_t i = 0; i < len && !rc; i++) {
		unsigned char ch = (unsigned char)s[i];

		rc = buf_addch(out, ch < ' ' || ch == 127 ? ' ' : (char)ch);
	}
	if (!rc && len == max)
		rc = buf_addstr(out, "...");
	return rc;
}

int kube_status_message(struct buf *out, long status, const char *body, size_t len)
{
	struct doc *d = NULL;
	const struct node *root, *causes;
	const char *reason = NULL, *message = NULL;
	size_t start = out->len, shown = 0;
	int rc;

	while (len && (*body == ' ' || *body == '\n' || *body == '\r' || *body == '\t')) {
		body++;
		len--;
	}
	if (len && *body == '{') {
		/* a malformed body is logged by doc_load and shown raw below */
		rc = load_json("reply", body, len, &d);
		if (rc == E_NOMEM)
			return rc;
	}
	root = d ? doc_root(d, 0) : NULL;
	if (root && root->type == NODE_MAP) {
		reason = node_str(node_map_get(root, "reason"));
		message = node_str(node_map_get(root, "message"));
	}
	rc = buf_addf(out, "%ld", status);
	if (!rc && reason && *reason) {
		rc = buf_addch(out, ' ');
		if (!rc)
			rc = add_clean(out, reason, strlen(reason), 64);
	}
	if (!rc && message && *message) {
		rc = buf_addstr(out, ": ");
		if (!rc)
			rc = add_clean(out, message, strlen(message), 1024);
	} else if (!rc && !reason && !message && len) {
		rc = buf_addstr(out, ": ");
		if (!rc)
			rc = add_clean(out, body, len, 200);
	}
	causes = root ? node_path(root, "details.causes") : NULL;
	for (size_t i = 0; !rc && causes && causes->type == NODE_SEQ && i < causes->len; i++) {
		const struct node *c = causes->items[i];
		const char *f = node_str(node_map_get(c, "field"));
		const char *m = node_str(node_map_get(c, "message"));
		const char *r = node_str(node_map_get(c, "reason"));

		/* 422 messages usually repeat their causes already */
		if (!m || !*m || (message && strstr(message, m)))
			continue;
		if (shown == 8) {
			rc = buf_addstr(out, "; ...");
			break;
		}
		rc = buf_addstr(out, shown++ ? "; " : " (");
		if (!rc && f && *f) {
			rc = add_clean(out, f, strlen(f), 200);
			if (!rc)
				rc = buf_addstr(out, ": ");
		}
		if (!rc)
			rc = add_clean(out, m, strlen(m), 300);
		if (!rc && r && *r)
			rc = buf_addf(out, " [%.64s]", r);
	}
	if (!rc && shown)
		rc = buf_addch(out, ')');
	doc_free(d);
	if (rc)
		buf_truncate(out, start);
	return rc;
}

/*
 * What a refusal means, read from the server's Status (the bodies of
 * kube-apiserver v1.32.13, ../shared/fixtures/kubernetes/observed-1.32).
 */
static int status_says(const struct node *st, const char *key, const char *text)
{
	const char *v = node_str(node_map_get(st, key));

	return v && strstr(v, text) != NULL;
}

static int has_cause(const struct node *st, const char *reason, const char *const *texts)
{
	const struct node *c = node_path(st, "details.causes");

	for (size_t i = 0; c && c->type == NODE_SEQ && i < c->len; i++) {
		if (reason && status_says(c->items[i], "reason", reason))
			return 1;
		for (size_t j = 0; texts && texts[j]; j++)
			if (status_says(c->items[i], "message", texts[j]))
				return 1;
	}
	return 0;
}

/*
 * How the validation of an update words a field that cannot change
 * (kubernetes pkg/apis/.../validation: ValidateImmutableField's "field is
 * immutable", the ConfigMap's "field is immutable when `immutable` is
 * set", a PVC's "spec is immutable after creation", a RoleBinding's
 * "cannot change roleRef", a Service's clusterIP "may not change once
 * set", a StatefulSet's "updates to statefulset spec for fields other
 * than ... are forbidden", a Pod's "pod updates may not change fields").
 */
static const char *const immutable_words[] = {
	"immutable", "cannot change roleRef", "may not change once set",
	"updates to statefulset spec for fields other than",
	"pod updates may not change fields", NULL
};

static enum kube_why refusal(long status, const char *p, size_t len)
{
	struct doc *d = NULL;
	const struct node *st;
	enum kube_why why = KUBE_WHY_NONE;

	while (len && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) {
		p++;
		len--;
	}
	if (status == 404 && (!len || *p != '{'))
		return KUBE_WHY_NOT_SERVED;     /* "404 page not found": no such route */
	if (!len || *p != '{' || load_json("reply", p, len, &d))
		return why;
	st = doc_root(d, 0);
	if (!st || st->type != NODE_MAP || !status_says(st, "kind", "Status")) {
		doc_free(d);
		return why;
	}
	if (status == 500 && status_says(st, "message", "failed to create typed patch object"))
		why = KUBE_WHY_INVALID;
	else if (status == 422 && has_cause(st, NULL, immutable_words))
		why = KUBE_WHY_IMMUTABLE;
	else if (status == 422)
		why = KUBE_WHY_INVALID;
	else if (status == 403 && has_cause(st, "NamespaceTerminating", NULL))
		why = KUBE_WHY_TERMINATING;
	else if (status == 409 && status_says(st, "reason", "Conflict") &&
		 !has_cause(st, "FieldManagerConflict", NULL))
		why = KUBE_WHY_CONFLICT;
	else if (status == 413)
		why = KUBE_WHY_TOO_LARGE;
	doc_free(d);
	return why;
}

/*
 * The outcome of a request in kube terms, with its reason appended to msg:
 * no answer is E_UNAVAILABLE (unknown); for an answer see kube_answer().
 */
static int classify(const struct http_response *r, struct buf *msg, enum kube_why *why)
{
	if (r->err == E_NETWORK) {
		buf_addf(msg, "API unreachable, outcome unknown: %s", r->error);
		return E_UNAVAILABLE;
	}
	if (r->err) {
		buf_addstr(msg, r->error);
		return r->err;
	}
	return kube_answer(r->status, r->body.data, r->body.len, msg, why);
}

int kube_answer(long status, const char *body, size_t len, struct buf *msg,
		enum kube_why *why)
{
	enum kube_why w = KUBE_WHY_NONE;
	int rc;

	if (status >= 200 && status < 300) {
		rc = 0;
	} else {
		if (kube_status_message(msg, status, body, len))
			buf_addf(msg, "%ld", status);
		w = refusal(status, body, len);
		if (status == 500 && w == KUBE_WHY_INVALID) {
			rc = E_API;
		} else if (status == 401) {
			buf_addstr(msg, " (the API refused outpost's credentials)");
			rc = E_UNAVAILABLE;
		} else if (status >= 500 || status == 429 || status == 408) {
			buf_addstr(msg, " (API unavailable, outcome unknown)");
			rc = E_UNAVAILABLE;
		} else {
			rc = status == 404 ? E_NOTFOUND : E_API;
		}
	}
	if (why)
		*why = rc == E_API || rc == E_NOTFOUND ? w : KUBE_WHY_NONE;
	return rc;
}

static int url_for(struct kube *k, struct buf *url, const char *path)
{
	buf_reset(url);
	if (buf_addstr(url, k->base) || buf_addstr(url, path))
		return E_NOMEM;
	return 0;
}

/* Refused for our credentials, or theirs did not verify: worth a reload. */
static int refused(const struct http_response *r)
{
	return r->status == 401 || (r->err && r->tls_failed);
}

/* --- discovery --------------------------------------------------------------- */

struct types {
	struct type_entry **v;
	size_t n, cap;
};

static const struct type_entry *types_find(struct type_entry *const *v, size_t n,
					   const char *av, const char *kind)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->t.kind, kind) == 0 && strcmp(v[i]->t.api_version, av) == 0)
			return v[i];
	return NULL;
}

static int types_add(struct types *ts, const char *av, const char *kind,
		     const char *res, int namespaced)
{
	size_t la = strlen(av) + 1, lk = strlen(kind) + 1, lr = strlen(res) + 1;
	struct type_entry *e;

	if (types_find(ts->v, ts->n, av, kind))
		return 0;
	if (ts->n == MAX_TYPES)
		return E_LIMIT;
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 128;
		struct type_entry **v = mem_realloc(ts->v, cap, sizeof(*v));

		if (!v)
			return E_NOMEM;
		ts->v = v;
		ts->cap = cap;
	}
	e = mem_alloc(1, sizeof(*e) + la + lk + lr);
	if (!e)
		return E_NOMEM;
	memcpy(e->str, av, la);
	memcpy(e->str + la, kind, lk);
	memcpy(e->str + la + lk, res, lr);
	e->t.api_version = e->str;
	e->t.kind = e->str + la;
	e->t.resource = e->str + la + lk;
	e->t.namespaced = namespaced;
	ts->v[ts->n++] = e;
	return 0;
}

static void types_replace(struct kube *k, struct types *ts)
{
	types_free(k->types, k->ntypes);
	k->types = ts->v;
	k->ntypes = ts->n;
	ts->v = NULL;
	ts->n = ts->cap = 0;
	k->discovered = 1;
	k->imported = 0;
	k->disc_at = now_ms();
	k->disc_writes = k->writes;
}

/* The resources of one APIResourceList; subresources are skipped. */
static int add_resource_list(struct types *ts, const char *gv, const char *body,
			     size_t len)
{
	struct doc *d;
	const struct node *res;
	int rc = load_json(gv, body, len, &d);

	if (rc)
		return rc;
	res = node_map_get(doc_root(d, 0), "resources");
	for (size_t i = 0; !rc && res && res->type == NODE_SEQ && i < res->len; i++) {
		const struct node *r = res->items[i];
		const char *name = node_str(node_map_get(r, "name"));
		const char *kind = node_str(node_map_get(r, "kind"));
		int ns = 0;

		if (!valid_word(name, ".-") || !valid_kind(kind))
			continue;   /* "pods/status" and anything odd */
		if (node_bool(node_map_get(r, "namespaced"), &ns))
			ns = 0;
		rc = types_add(ts, gv, kind, name, ns);
	}
	doc_free(d);
	return rc;
}

/*
 * Aggregated discovery (apidiscovery.k8s.io, served since Kubernetes 1.26,
 * GA in 1.30): /api and /apis each answer every group, version and resource
 * in one document, so discovery is one round trip instead of one request per
 * group-version. Older servers ignore the first two media ranges and answer
 * the legacy documents, which are then walked as before.
 */
#define DISCOVERY_ACCEPT \
	"application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," \
	"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList," \
	"application/json"

/* Only the reply's Content-Type tells; its parameters come in any order. */
static int is_aggregated(const struct http_response *r)
{
	const char *p = r->content_type;
	int g = 0, v = 0, as = 0;

	if (strncasecmp(p, "application/json", 16) != 0)
		return 0;
	for (p += 16; *p;) {
		size_t n;

		p += strspn(p, "; \t");
		n = strcspn(p, "; \t");
#define PARAM(s) (n == sizeof(s) - 1 && strncmp(p, s, n) == 0)
		g |= PARAM("g=apidiscovery.k8s.io");
		v |= PARAM("v=v2") || PARAM("v=v2beta1");
		as |= PARAM("as=APIGroupDiscoveryList");
#undef PARAM
		p += n;
	}
	return g && v && as;
}

/*
 * The resources of an APIGroupDiscoveryList. The core group is the item
 * whose metadata has no name: its name is "" and the server omits empty
 * names (kube-apiserver v1.32 sends "metadata":{"creationTimestamp":null},
 * newer ones "metadata":{}; apidiscovery/v2 types.go: "name is allowed to
 * be "" to represent the legacy, ungroupified resources"). It is served at
 * /api only, so an unnamed item under /apis is skipped. A version the
 * server marks Stale (an aggregated API server that is down) is skipped
 * with a warning, as the legacy walk skips a group-version that fails.
 */
static int add_discovery_list(struct types *ts, const char *what, const char *body,
			      size_t len)
{
	struct doc *d;
	const struct node *items;
	int core_doc = strcmp(what, "/api") == 0;
	int rc = load_json(what, body, len, &d);

	if (rc)
		return rc;
	items = node_map_get(doc_root(d, 0), "items");
	if (!items || items->type != NODE_SEQ)
		rc = error(E_FORMAT, "discover %s: no items in the APIGroupDiscoveryList", what);
	for (size_t i = 0; !rc && items && i < items->len; i++) {
		const struct node *name = node_map_get(node_map_get(items->items[i], "metadata"),
						       "name");
		const char *group = name ? node_str(name) : "";
		const struct node *vs = node_map_get(items->items[i], "versions");

		if (!group || (!*group && !core_doc)) {
			log_warn("discover %s: a group without a name (skipped)", what);
			continue;
		}
		for (size_t j = 0; !rc && vs && vs->type == NODE_SEQ && j < vs->len; j++) {
			const char *version = node_str(node_map_get(vs->items[j], "version"));
			const char *fresh = node_str(node_map_get(vs->items[j], "freshness"));
			const struct node *res = node_map_get(vs->items[j], "resources");
			char gv[256];

			if (!version || snprintf(gv, sizeof(gv), "%s%s%s", group,
						 *group ? "/" : "", version) >= (int)sizeof(gv) ||
			    !valid_word(gv, ".-/"))
				continue;
			if (fresh && strcmp(fresh, "Stale") == 0) {
				log_warn("discover %s: the server's copy is stale (skipped)", gv);
				continue;
			}
			for (size_t k = 0; !rc && res && res->type == NODE_SEQ && k < res->len; k++) {
				const struct node *r = res->items[k];
				const char *rname = node_str(node_map_get(r, "resource"));
				const char *kind = node_str(node_map_get(node_map_get(r, "responseKind"),
									 "kind"));
				const char *scope = node_str(node_map_get(r, "scope"));

				if (!valid_word(rname, ".-") || !valid_kind(kind))
					continue;
				rc = types_add(ts, gv, kind, rname,
					       scope && strcmp(scope, "Namespaced") == 0);
			}
		}
	}
	doc_free(d);
	return rc;
}

/* One discovery answer into ts: an aggregated list, or the resources of
 * one legacy group-version (/api/v1, /apis/G/V or just G/V). The legacy
 * roots /api and /apis only name group-versions and add nothing. */
static int add_document(struct types *ts, const struct kube_discovery_doc *d)
{
	const char *gv = strncmp(d->path, "/apis/", 6) == 0 ? d->path + 6 : d->path;

	if (d->aggregated)
		return add_discovery_list(ts, d->path, d->body, d->len);
	if (strcmp(d->path, "/api/v1") == 0)
		return add_resource_list(ts, "v1", d->body, d->len);
	if (*gv != '/' && strchr(gv, '/'))
		return add_resource_list(ts, gv, d->body, d->len);
	return 0;
}

int kube_discovery_load(struct kube *k, const struct kube_discovery_doc *docs, size_t n)
{
	struct types ts = { 0 };
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		rc = add_document(&ts, &docs[i]);
	if (!rc)
		types_replace(k, &ts);
	types_free(ts.v, ts.n);
	return rc;
}

static int discovery_error(int rc, const char *what, struct buf *msg)
{
	return error(rc, "discover %s: %s", what, msg->data);
}

/* Set up the requests of one discovery round; the URLs live in urls[]. */
static int discovery_requests(struct kube *k, struct http_request *q, struct buf *urls,
			      const char *const *paths, size_t n, const char *accept)
{
	for (size_t i = 0; i < n; i++)
		buf_init(&urls[i], 4096);
	for (size_t i = 0; i < n; i++) {
		if (url_for(k, &urls[i], paths[i][0] == '/' ? paths[i] : "/apis/") ||
		    (paths[i][0] != '/' && buf_addstr(&urls[i], paths[i])))
			return E_NOMEM;
		q[i].url = urls[i].data;
		q[i].accept = accept;
		q[i].max_body = DISCOVERY_MAX;
	}
	return 0;
}

/* The group-versions of a legacy APIGroupList; they point into groups. */
static int legacy_group_versions(const struct doc *groups, const char ***gvs, size_t *ngv)
{
	const struct node *g = node_map_get(doc_root(groups, 0), "groups");

	for (size_t i = 0; g && g->type == NODE_SEQ && i < g->len; i++) {
		const struct node *vs = node_map_get(g->items[i], "versions");

		for (size_t j = 0; vs && vs->type == NODE_SEQ && j < vs->len; j++) {
			const char *gv = node_str(node_map_get(vs->items[j], "groupVersion"));
			const char **n;

			if (!valid_word(gv, ".-/") || !strchr(gv, '/'))
				continue;
			n = mem_realloc(*gvs, *ngv + 1, sizeof(**gvs));
			if (!n)
				return E_NOMEM;
			*gvs = n;
			(*gvs)[(*ngv)++] = gv;
		}
	}
	return 0;
}

int kube_discover(struct kube *k)
{
	static const char *const roots[2] = { "/api", "/apis" };
	struct http_request q[2] = { 0 };
	struct http_response r[2];
	struct buf url[2];
	struct buf msg = BUF_INIT(MESSAGE_MAX);
	struct types ts = { 0 };
	struct doc *groups = NULL;
	const char **paths = NULL;          /* the legacy round's requests */
	struct http_request *gq = NULL;
	struct http_response *gr = NULL;
	struct buf *gurl = NULL;
	size_t ngv = 0;
	int rc;

	rc = discovery_requests(k, q, url, roots, 2, DISCOVERY_ACCEPT);
	if (rc)
		goto out;
	/* one connection: a second one now would be a second full TLS
	 * handshake (no session to resume yet), dearer than a round trip */
	http_batch(k->http, q, r, 2, 1, NULL, NULL);
	if ((refused(&r[0]) || refused(&r[1])) && kube_reload(k) == 0) {
		http_response_free(&r[0]);
		http_response_free(&r[1]);
		http_batch(k->http, q, r, 2, 1, NULL, NULL);
	}
	for (int i = 0; i < 2; i++) {
		rc = classify(&r[i], &msg, NULL);
		if (rc) {
			rc = discovery_error(rc == E_NOTFOUND ? E_API : rc, roots[i], &msg);
			goto out_r;
		}
	}
	/* the legacy round: /api/v1 unless /api was aggregated, and every
	 * group-version of /apis unless that was */
	if (!is_aggregated(&r[0])) {
		paths = mem_alloc(1, sizeof(*paths));
		if (!paths) {
			rc = E_NOMEM;
			goto out_r;
		}
		paths[ngv++] = "/api/v1";
	} else {
		rc = add_document(&ts, &(struct kube_discovery_doc){ "/api", 1, r[0].body.data,
								   r[0].body.len });
	}
	if (rc)
		goto out_r;
	if (is_aggregated(&r[1])) {
		rc = add_document(&ts, &(struct kube_discovery_doc){ "/apis", 1, r[1].body.data,
								   r[1].body.len });
	} else {
		rc = load_json("/apis", r[1].body.data, r[1].body.len, &groups);
		if (!rc)
			rc = legacy_group_versions(groups, &paths, &ngv);
	}
	if (rc || !ngv)
		goto out_g;
	gq = mem_zalloc(ngv, sizeof(*gq));
	gr = mem_zalloc(ngv, sizeof(*gr));
	gurl = mem_zalloc(ngv, sizeof(*gurl));
	if (!gq || !gr || !gurl) {
		rc = E_NOMEM;
		goto out_g;
	}
	rc = discovery_requests(k, gq, gurl, paths, ngv, "application/json");
	if (rc)
		goto out_g;
	http_batch(k->http, gq, gr, ngv, k->parallel, NULL, NULL);
	for (size_t i = 0; i < ngv && !rc; i++) {
		int core = paths[i][0] == '/', e;

		buf_reset(&msg);
		e = classify(&gr[i], &msg, NULL);
		if (e == E_UNAVAILABLE && gr[i].err) {
			/* no answer at all: the whole mapping would be a guess */
			rc = discovery_error(e, paths[i], &msg);
		} else if (e && core) {
			rc = discovery_error(e == E_NOTFOUND ? E_API : e, paths[i], &msg);
		} else if (e) {
			/* one aggregated API down (metrics) must not stop the rest */
			log_warn("discover %s: %s (skipped)", paths[i], msg.data);
		} else {
			rc = add_document(&ts, &(struct kube_discovery_doc){ paths[i], 0,
							gr[i].body.data, gr[i].body.len });
		}
	}
out_g:
	if (!rc)
		types_replace(k, &ts);
	for (size_t i = 0; gurl && i < ngv; i++) {
		buf_free(&gurl[i]);
		http_response_free(&gr[i]);
	}
out_r:
	http_response_free(&r[0]);
	http_response_free(&r[1]);
out:
	if (rc == E_NOMEM || rc == E_LIMIT || rc == E_FORMAT)
		error(rc, "discover: %s", err_str(rc));
	mem_free(gq);
	mem_free(gr);
	mem_free(gurl);
	mem_free(paths);
	doc_free(groups);
	types_free(ts.v, ts.n);
	buf_free(&url[0]);
	buf_free(&url[1]);
	buf_free(&msg);
	return rc;
}

static int may_rediscover(const struct kube *k)
{
	return !k->discovered || k->imported || k->writes != k->disc_writes ||
	       now_ms() - k->disc_at > STALE_MS;
}

int kube_resolve(struct kube *k, const char *av, const char *kind,
		 const struct kube_type **t)
{
	const struct type_entry *e = types_find(k->types, k->ntypes, av, kind);
	int rc;

	*t = NULL;
	if (!e && may_rediscover(k)) {
		rc = kube_discover(k);
		if (rc)
			return rc;
		e = types_find(k->types, k->ntypes, av, kind);
	}
	if (!e)
		return E_NOTFOUND;
	*t = &e->t;
	return 0;
}

static const struct type_entry *find_word(const struct kube *k, const char *word)
{
	const char *dot = strchr(word, '.');
	size_t wl = dot ? (size_t)(dot - word) : strlen(word);
	const char *group = dot ? dot + 1 : NULL;
	const struct type_entry *best = NULL;

	for (size_t i = 0; i < k->ntypes; i++) {
		const struct kube_type *t = &k->types[i]->t;
		const char *slash = strchr(t->api_version, '/');
		size_t gl = slash ? (size_t)(slash - t->api_version) : 0;

		if (!((strlen(t->kind) == wl && strncasecmp(t->kind, word, wl) == 0) ||
		      (strlen(t->resource) == wl && strncasecmp(t->resource, word, wl) == 0)))
			continue;
		if (group && (strlen(group) != gl || strncmp(group, t->api_version, gl) != 0))
			continue;
		if (!slash)
			return k->types[i];     /* the core group wins */
		if (!best)
			best = k->types[i];
	}
	return best;
}

int kube_find_type(struct kube *k, const char *word, const struct kube_type **t)
{
	const struct type_entry *e = find_word(k, word);
	int rc;

	*t = NULL;
	if (!e && may_rediscover(k)) {
		rc = kube_discover(k);
		if (rc)
			return rc;
		e = find_word(k, word);
	}
	if (!e)
		return E_NOTFOUND;
	*t = &e->t;
	return 0;
}

size_t kube_type_count(const struct kube *k)
{
	return k->ntypes;
}

const struct kube_type *kube_type_at(const struct kube *k, size_t i)
{
	return i < k->ntypes ? &k->types[i]->t : NULL;
}

int kube_discovery_export(const struct kube *k, struct buf *out)
{
	size_t start = out->len;
	int rc = buf_addstr(out, "{\"version\":1,\"types\":[");

	/* every string was checked against valid_word(): nothing to escape */
	for (size_t i = 0; !rc && i < k->ntypes; i++) {
		const struct kube_type *t = &k->types[i]->t;

		rc = buf_addf(out, "%s[\"%s\",\"%s\",\"%s\",%s]", i ? "," : "",
			      t->api_version, t->kind, t->resource,
			      t->namespaced ? "true" : "false");
	}
	if (!rc)
		rc = buf_addstr(out, "]}");
	if (rc)
		buf_truncate(out, start);
	return rc;
}

int kube_discovery_import(struct kube *k, const char *json, size_t len)
{
	struct types ts = { 0 };
	struct doc *d;
	const struct node *root, *v;
	int64_t version;
	int rc = load_json("discovery cache", json, len, &d);

	if (rc)
		return rc;
	root = doc_root(d, 0);
	v = node_map_get(root, "types");
	if (node_int64(node_map_get(root, "version"), 1, 1, &version) ||
	    !v || v->type != NODE_SEQ) {
		rc = error(E_FORMAT, "discovery cache: not version 1 with types");
		goto out;
	}
	for (size_t i = 0; !rc && i < v->len; i++) {
		const struct node *e = v->items[i];
		const char *av, *kind, *res;
		int ns;

		if (e->type != NODE_SEQ || e->len != 4 ||
		    !valid_word(av = node_str(e->items[0]), ".-/") ||
		    !valid_kind(kind = node_str(e->items[1])) ||
		    !valid_word(res = node_str(e->items[2]), ".-") ||
		    node_bool(e->items[3], &ns)) {
			rc = error(E_FORMAT, "discovery cache: types[%zu] is not "
				   "[apiVersion, kind, resource, namespaced]", i);
			break;
		}
		rc = types_add(&ts, av, kind, res, ns);
	}
	if (!rc) {
		types_replace(k, &ts);
		k->imported = 1;
	}
out:
	types_free(ts.v, ts.n);
	doc_free(d);
	return rc;
}

/* --- objects ------------------------------------------------------------------ */

enum verb { V_APPLY, V_GET, V_DELETE, V_CREATE };
static const char *const verb_names[] = { "apply", "get", "delete", "create" };

static const char delete_body[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"propagationPolicy\":\"Background\"}";

void kube_result_free(struct kube_result *r)
{
	if (!r)
		return;
	mem_free(r->object);
	mem_free(r->message);
	r->object = r->message = NULL;
}

struct batch {
	struct kube *k;
	enum verb v;
	int keep;
	int final;              /* a 401 / TLS failure is the answer (no reload) */
	unsigned char *again;   /* request j: refused credentials, try once more */
	const struct kube_object *objs;
	struct kube_result *res;
	const struct kube_type **types;
	size_t *index;          /* request j → object index */
	unsigned char *ran;     /* request j got its answer (op_done) */
};

/* "apply apps/v1 Deployment default/web" */
static void describe(struct buf *b, const struct batch *x, size_t i)
{
	const struct kube_object *o = &x->objs[i];
	const struct kube_type *t = x->types[i];
	const char *ns = o->namespace && *o->namespace ? o->namespace : NULL;

	if (t && !t->namespaced)
		ns = NULL;
	else if (t && !ns)
		ns = x->k->ns;
	buf_addf(b, "%s %s %s %s%s%s", verb_names[x->v], o->api_version ? o->api_version : "?",
		 o->kind ? o->kind : "?", ns ? ns : "", ns ? "/" : "",
		 o->name ? o->name : x->v == V_CREATE ? "(new)" : "?");
}

/* Record a failure of object i: its message, logged once. */
static void fail(struct batch *x, size_t i, int rc, const char *why)
{
	struct kube_result *r = &x->res[i];
	struct buf m = BUF_INIT(MESSAGE_MAX + 512);

	r->err = rc;
	describe(&m, x, i);
	buf_addf(&m, ": %s", why);
	/* "not yet" answers are the caller's to retry or to report */
	if (r->why == KUBE_WHY_TERMINATING || r->why == KUBE_WHY_NOT_SERVED ||
	    r->why == KUBE_WHY_CONFLICT)
		log_debug("%s", m.data);
	else if (!(rc == E_NOTFOUND && x->v == V_GET))
		error(rc, "%s", m.data);
	mem_free(r->message);
	r->message = buf_detach(&m, NULL);
	buf_free(&m);
}

static void copy_field(char *dst, size_t cap, const struct node *root, const char *path)
{
	const char *s = node_str(node_path(root, path));

	snprintf(dst, cap, "%s", s ? s : "");
}

static void op_done(void *ctx, size_t j, struct http_response *resp)
{
	struct batch *x = ctx;
	size_t i = x->index[j];
	struct kube_result *r = &x->res[i];
	const struct kube_object *o = &x->objs[i];
	struct buf msg = BUF_INIT(MESSAGE_MAX);
	struct doc *d = NULL;
	int rc;

	x->ran[j] = 1;
	/* kept for after a kubeconfig reload (run_batch) */
	if (!x->final && refused(resp)) {
		x->again[j] = 1;
		buf_free(&msg);
		return;
	}
	r->status = resp->status;
	rc = classify(resp, &msg, &r->why);
	if (*resp->warning) {
		struct buf w = BUF_INIT(MESSAGE_MAX + 512);

		describe(&w, x, i);
		log_warn("%s: the API warns: %s", w.data, resp->warning);
		buf_free(&w);
	}
	if (rc == E_NOTFOUND && x->v == V_DELETE) {
		r->gone = 1;
		rc = 0;
	} else if (rc == E_NOTFOUND && (x->v == V_APPLY || x->v == V_CREATE)) {
		rc = E_API;     /* a missing namespace: the request is wrong */
	}
	if (!rc && x->v != V_DELETE) {
		const struct node *root;

		rc = load_json("reply", resp->body.data, resp->body.len, &d);
		root = d ? doc_root(d, 0) : NULL;
		if (!rc && (!root || root->type != NODE_MAP)) {
			rc = E_FORMAT;
			buf_addstr(&msg, "the reply is not an object");
		} else if (rc) {
			buf_addstr(&msg, "the reply is not JSON");
		} else {
			copy_field(r->rv, sizeof(r->rv), root, "metadata.resourceVersion");
			copy_field(r->uid, sizeof(r->uid), root, "metadata.uid");
		}
		doc_free(d);
	}
	if (!rc && (x->v == V_APPLY || x->v == V_CREATE)) {
		r->created = resp->status == 201;
		r->changed = r->created ? 1 :
			o->prev_rv && *o->prev_rv ? strcmp(o->prev_rv, r->rv) != 0 : -1;
	}
	if (!rc && x->keep && x->v != V_DELETE) {
		r->object = buf_detach(&resp->body, &r->object_len);
		if (!r->object) {
			rc = E_NOMEM;
			buf_addstr(&msg, err_str(rc));
		}
	}
	if (x->v != V_GET && resp->err == 0 && resp->status < 500)
		x->k->writes++;     /* the API may have changed: CRDs may be new */
	if (rc)
		fail(x, i, rc, msg.data);
	/* the reply is done with: a batch of 1,000 keeps no 1,000 bodies */
	buf_free(&resp->body);
	buf_free(&msg);
}

/*
 * The requests of a batch that the API refused for their credentials (401)
 * or whose TLS handshake failed: reload the kubeconfig and, when it holds
 * new credentials, send them once more; otherwise (or then) their answers
 * stand. q, r: the batch's m requests and responses.
 */
static void retry_refused(struct batch *x, const struct http_request *q,
			  struct http_response *r, size_t m, unsigned parallel)
{
	struct http_request *q2 = NULL;
	struct http_response *r2 = NULL;
	size_t *index = x->index, *index2 = NULL, m2 = 0;
	int rc;

	for (size_t j = 0; j < m; j++)
		m2 += x->again[j];
	if (!m2)
		return;
	x->final = 1;
	rc = kube_reload(x->k);
	if (!rc) {
		q2 = mem_alloc(m2, sizeof(*q2));
		r2 = mem_zalloc(m2, sizeof(*r2));
		index2 = mem_alloc(m2, sizeof(*index2));
		rc = q2 && r2 && index2 ? 0 : E_NOMEM;
	}
	if (rc) {
		/* nothing new (or no memory to try): the answers we have stand */
		for (size_t j = 0; j < m; j++)
			if (x->again[j])
				op_done(x, j, &r[j]);
	} else {
		m2 = 0;
		for (size_t j = 0; j < m; j++) {
			if (!x->again[j])
				continue;
			q2[m2] = q[j];
			index2[m2++] = index[j];
		}
		x->index = index2;
		http_batch(x->k->http, q2, r2, m2, parallel, op_done, x);
		x->index = index;
		for (size_t j = 0; j < m2; j++)
			http_response_free(&r2[j]);
	}
	mem_free(q2);
	mem_free(r2);
	mem_free(index2);
}

static int run_batch(struct kube *k, enum verb v, const struct kube_object *objs,
		     size_t n, unsigned parallel, int keep, struct kube_result *res)
{
	struct batch x = { .k = k, .v = v, .keep = keep, .objs = objs, .res = res };
	struct http_request *q = NULL;
	struct http_response *r = NULL;
	struct buf *url = NULL;
	size_t m = 0, misses = 0;
	int rc = 0, disc = 0, any_unavailable = 0, first = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].changed = -1;
	}
	if (n == 0)
		return 0;
	x.types = mem_zalloc(n, sizeof(*x.types));
	x.index = mem_alloc(n, sizeof(*x.index));
	x.again = mem_zalloc(n, 1);
	x.ran = mem_zalloc(n, 1);
	q = mem_zalloc(n, sizeof(*q));
	r = mem_zalloc(n, sizeof(*r));
	url = mem_alloc(n, sizeof(*url));
	if (!x.types || !x.index || !x.again || !x.ran || !q || !r || !url) {
		rc = error(E_NOMEM, "%s: %s", verb_names[v], err_str(E_NOMEM));
		for (size_t i = 0; i < n; i++)
			res[i].err = E_NOMEM;
		goto out;
	}
	/* resolve every kind; one re-discovery serves all the misses */
	for (size_t i = 0; i < n; i++) {
		const struct type_entry *e = NULL;

		if (objs[i].api_version && objs[i].kind)
			e = types_find(k->types, k->ntypes, objs[i].api_version, objs[i].kind);
		x.types[i] = e ? &e->t : NULL;
		misses += !e;
	}
	if (misses && may_rediscover(k)) {
		disc = kube_discover(k);
		for (size_t i = 0; !disc && i < n; i++) {
			const struct type_entry *e;

			if (x.types[i] || !objs[i].api_version || !objs[i].kind)
				continue;
			e = types_find(k->types, k->ntypes, objs[i].api_version, objs[i].kind);
			x.types[i] = e ? &e->t : NULL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct kube_object *o = &objs[i];
		const struct kube_type *t = x.types[i];
		const char *ns = o->namespace && *o->namespace ? o->namespace : k->ns;
		struct http_request *qq = &q[m];

		buf_init(&url[m], 4096);
		if (!o->api_version || !o->kind || (!o->name && v != V_CREATE)) {
			fail(&x, i, E_FORMAT, "apiVersion, kind and name are required");
			continue;
		}
		if (!t) {
			if (disc)
				fail(&x, i, disc, "discovery failed (see above)");
			else
				fail(&x, i, E_NOTFOUND, "the API serves no such kind (is its "
				     "CRD installed and established?)");
			continue;
		}
		rc = url_for(k, &url[m], "");
		if (!rc)
			rc = kube_path(&url[m], t, ns, v == V_CREATE ? NULL : o->name);
		if (!rc && v == V_APPLY) {
			rc = buf_addstr(&url[m], "?fieldManager=");
			if (!rc)
				rc = http_escape(&url[m], k->manager);
			if (!rc)
				rc = buf_addstr(&url[m], "&force=true");
		}
		if (rc) {
			fail(&x, i, rc, rc == E_FORMAT ? "invalid name or namespace" : err_str(rc));
			buf_free(&url[m]);
			rc = 0;
			continue;
		}
		qq->url = url[m].data;
		qq->accept = "application/json";
		qq->headers = o->headers;
		if ((v == V_APPLY || v == V_CREATE) && o->json && o->json_len > REQUEST_BODY_MAX) {
			char why[200];

			snprintf(why, sizeof(why), "the object is %zu bytes, over the API "
				 "server's request limit of %u bytes (3 MiB): not sent",
				 o->json_len, REQUEST_BODY_MAX);
			fail(&x, i, E_LIMIT, why);
			buf_free(&url[m]);
			continue;
		}
		if (v == V_APPLY) {
			qq->method = "PATCH";
			qq->content_type = "application/apply-patch+yaml";
			qq->body = o->json ? o->json : "";
			qq->body_len = o->json ? o->json_len : 0;
		} else if (v == V_CREATE) {
			qq->method = "POST";
			qq->content_type = "application/json";
			qq->body = o->json ? o->json : "";
			qq->body_len = o->json ? o->json_len : 0;
		} else if (v == V_DELETE) {
			qq->method = "DELETE";
			qq->content_type = "application/json";
			qq->body = delete_body;
			qq->body_len = sizeof(delete_body) - 1;
		}
		x.index[m++] = i;
	}
	rc = http_batch(k->http, q, r, m, parallel ? parallel : k->parallel, op_done, &x);
	/* a request the batch could not run (or abandoned) is that object's
	 * failure, never its success */
	for (size_t j = 0; j < m; j++)
		if (!x.ran[j])
			fail(&x, x.index[j], rc && r[j].err ? r[j].err : E_INTERNAL,
			     r[j].error[0] ? r[j].error : "the request was not sent");
	retry_refused(&x, q, r, m, parallel ? parallel : k->parallel);
	rc = 0;
	for (size_t j = 0; j < m; j++) {
		http_response_free(&r[j]);
		buf_free(&url[j]);
	}
out:
	for (size_t i = 0; i < n; i++) {
		int e = res[i].err;

		if (e == E_UNAVAILABLE)
			any_unavailable = 1;
		else if (e && !first && !(v == V_GET && e == E_NOTFOUND))
			first = e;
	}
	mem_free(x.types);
	mem_free(x.index);
	mem_free(x.again);
	mem_free(x.ran);
	mem_free(q);
	mem_free(r);
	mem_free(url);
	return any_unavailable ? E_UNAVAILABLE : first ? first : rc;
}

int kube_apply_batch(struct kube *k, const struct kube_object *objs, size_t n,
		     unsigned parallel, int keep, struct kube_result *res)
{
	return run_batch(k, V_APPLY, objs, n, parallel, keep, res);
}

int kube_apply(struct kube *k, const struct kube_object *o, int keep,
	       struct kube_result *r)
{
	run_batch(k, V_APPLY, o, 1, 1, keep, r);
	return r->err;
}

int kube_create(struct kube *k, const struct kube_object *o, int keep,
		struct kube_result *r)
{
	run_batch(k, V_CREATE, o, 1, 1, keep, r);
	return r->err;
}

int kube_get_batch(struct kube *k, const struct kube_object *objs, size_t n,
		   unsigned parallel, struct kube_result *res)
{
	return run_batch(k, V_GET, objs, n, parallel, 1, res);
}

int kube_get(struct kube *k, const struct kube_object *o, struct buf *out)
{
	struct kube_result r;
	int rc;

	run_batch(k, V_GET, o, 1, 1, 1, &r);
	rc = r.err;
	if (!rc && buf_add(out, r.object, r.object_len))
		rc = error(E_LIMIT, "get %s %s: the object is larger than the buffer",
			   o->kind, o->name);
	kube_result_free(&r);
	return rc;
}

int kube_delete_batch(struct kube *k, const struct kube_object *objs, size_t n,
		      unsigned parallel, struct kube_result *res)
{
	return run_batch(k, V_DELETE, objs, n, parallel, 0, res);
}

int kube_delete(struct kube *k, const struct kube_object *o, struct kube_result *r)
{
	run_batch(k, V_DELETE, o, 1, 1, 0, r);
	return r->err;
}

/* --- list ----------------------------------------------------------------------- */

int kube_list(struct kube *k, const char *av, const char *kind, const char *ns,
	      const char *selector, int (*each)(void *ctx, const struct node *item),
	      void *ctx)
{
	const struct kube_type *t;
	struct buf path = BUF_INIT(4096), url = BUF_INIT(16384), cont = BUF_INIT(8192);
	struct buf msg = BUF_INIT(MESSAGE_MAX);
	const char *where = ns && *ns ? ns : "all namespaces";
	int rc = kube_resolve(k, av, kind, &t);

	if (rc == E_NOTFOUND)
		return error(rc, "list %s %s: the API serves no such kind", av, kind);
	if (rc)
		return rc;
	rc = url_for(k, &path, "");
	if (!rc && (rc = kube_path(&path, t, ns, NULL)) == E_FORMAT)
		rc = error(E_FORMAT, "list %s %s: invalid namespace \"%s\"", av, kind, ns);
	for (unsigned page = 0; !rc; page++) {
		struct http_request q = { .url = NULL, .accept = "application/json" };
		struct http_response r;
		struct doc *d = NULL;
		const struct node *root, *items;
		const char *next;

		if (page == LIST_PAGES_MAX) {
			rc = error(E_LIMIT, "list %s %s in %s: more than %d pages", av, kind,
				   where, LIST_PAGES_MAX);
			break;
		}
		buf_reset(&url);
		rc = buf_addf(&url, "%s?limit=%d", path.data, LIST_PAGE);
		if (!rc && selector && *selector) {
			rc = buf_addstr(&url, "&labelSelector=");
			if (!rc)
				rc = http_escape(&url, selector);
		}
		if (!rc && cont.len) {
			rc = buf_addstr(&url, "&continue=");
			if (!rc)
				rc = http_escape(&url, cont.data);
		}
		if (rc)
			break;
		q.url = url.data;
		http_do(k->http, &q, &r);
		if (refused(&r) && kube_reload(k) == 0) {
			http_response_free(&r);
			http_do(k->http, &q, &r);
		}
		buf_reset(&msg);
		rc = classify(&r, &msg, NULL);
		if (rc) {
			rc = error(rc == E_NOTFOUND ? E_API : rc, "list %s %s in %s: %s", av,
				   kind, where, msg.data);
			http_response_free(&r);
			break;
		}
		rc = load_json("list reply", r.body.data, r.body.len, &d);
		http_response_free(&r);
		if (rc)
			break;
		root = doc_root(d, 0);
		items = node_map_get(root, "items");
		if (items && !node_is_null(items) && items->type != NODE_SEQ)
			rc = error(E_FORMAT, "list %s %s: items is not a list", av, kind);
		for (size_t i = 0; !rc && items && items->type == NODE_SEQ && i < items->len; i++)
			rc = each(ctx, items->items[i]);
		next = node_str(node_path(root, "metadata.continue"));
		buf_reset(&cont);
		if (!rc && next && *next && buf_addstr(&cont, next))
			rc = error(E_LIMIT, "list %s %s: continue token too long", av, kind);
		doc_free(d);
		if (!rc && !cont.len)
			break;
	}
	buf_free(&path);
	buf_free(&url);
	buf_free(&cont);
	buf_free(&msg);
	return rc;
}
