/* apply — waves, server-side apply, inventory labels, prune, health. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "log.h"
#include "manifest.h"
#include "mem.h"
#include "sdnotify.h"

#define OBJECT_JSON_MAX (4 * 1024 * 1024)
#define RELEASE_OBJECTS_MAX 10000
#define CRD_WAIT_SECONDS 60
#define RETRY_MS 1000
#define NAME_BUF 512

static const struct {
	const char *kind;
	int wave;
} kind_waves[] = {
	{ "CustomResourceDefinition", 0 }, { "Namespace", 0 },
	{ "StorageClass", 1 }, { "PriorityClass", 1 }, { "IngressClass", 1 },
	{ "RuntimeClass", 1 }, { "ClusterRole", 1 }, { "ClusterRoleBinding", 1 },
	{ "Role", 1 }, { "RoleBinding", 1 }, { "NetworkPolicy", 1 },
	{ "ResourceQuota", 1 }, { "LimitRange", 1 }, { "PodSecurityPolicy", 1 },
	{ "ConfigMap", 2 }, { "Secret", 2 }, { "ServiceAccount", 2 },
	{ "PersistentVolume", 2 }, { "PersistentVolumeClaim", 2 },
	{ "Service", 3 }, { "Endpoints", 3 }, { "EndpointSlice", 3 },
	{ "Deployment", 4 }, { "StatefulSet", 4 }, { "DaemonSet", 4 },
	{ "ReplicaSet", 4 }, { "Pod", 4 }, { "Job", 4 }, { "CronJob", 4 },
	{ "HelmChart", 4 }, { "HorizontalPodAutoscaler", 4 },
	{ "PodDisruptionBudget", 4 },
};

int apply_kind_wave(const char *kind)
{
	for (size_t i = 0; i < sizeof(kind_waves) / sizeof(kind_waves[0]); i++)
		if (strcmp(kind_waves[i].kind, kind) == 0)
			return kind_waves[i].wave;
	return 5;
}

/* What an object owns; one place, so a new field is freed everywhere. */
static void release_obj_clear(struct release_obj *o)
{
	mem_free(o->api_version);
	mem_free(o->kind);
	mem_free(o->ns);
	mem_free(o->name);
	/* the body may hold a Secret's decrypted data */
	if (o->json)
		crypto_wipe(o->json, o->json_len);
	mem_free(o->json);
	mem_free(o->message);
	mem_free(o->where);
}

void release_set_free(struct release_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		release_obj_clear(&s->objs[i]);
	mem_free(s->objs);
	mem_free(s->as_user);
	mem_free(s);
}

int release_set_impersonate(struct release_set *s, const char *ns, const char *name)
{
	struct buf h = BUF_INIT(256);

	if (!IS_ENABLED(CONFIG_IMPERSONATION))
		return 0;
	if (buf_addf(&h, "Impersonate-User: system:serviceaccount:%s:%s", ns, name)) {
		buf_free(&h);
		return E_NOMEM;
	}
	mem_free(s->as_user);
	s->as_user = buf_detach(&h, NULL);
	buf_free(&h);
	if (!s->as_user)
		return E_NOMEM;
	s->headers[0] = s->as_user;
	s->headers[1] = NULL;
	for (size_t i = 0; i < s->n; i++)
		s->objs[i].headers = s->headers;
	return 0;
}

/* The group of an apiVersion: "apps" of "apps/v1", "" of "v1". */
static size_t group_len(const char *api_version)
{
	const char *slash = strchr(api_version, '/');

	return slash ? (size_t)(slash - api_version) : 0;
}

/* Objects in the order of who they are: group, kind, namespace, name (the
 * version may move: apps/v1 and apps/v1beta2 name the same object). */
static int ident_cmp(const struct release_obj *a, const struct release_obj *b)
{
	size_t ga = group_len(a->api_version), gb = group_len(b->api_version);
	int c = memcmp(a->api_version, b->api_version, ga < gb ? ga : gb);

	if (c || ga != gb)
		return c ? c : ga < gb ? -1 : 1;
	if ((c = strcmp(a->kind, b->kind)) || (c = strcmp(a->ns, b->ns)))
		return c;
	return strcmp(a->name, b->name);
}

/* ... and the same object in a set's order after that */
static int ident_ptr_cmp(const void *pa, const void *pb)
{
	const struct release_obj *a = *(const struct release_obj *const *)pa;
	const struct release_obj *b = *(const struct release_obj *const *)pb;
	int c = ident_cmp(a, b);

	return c ? c : a < b ? -1 : a > b;
}

/* The set's objects sorted by who they are: one pass to find any, instead
 * of a comparison per pair (half a million of them at 1,000 objects). */
static const struct release_obj **by_identity(const struct release_set *s)
{
	const struct release_obj **v = mem_alloc(s->n ? s->n : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		v[i] = &s->objs[i];
	qsort(v, s->n, sizeof(*v), ident_ptr_cmp);
	return v;
}

/* Is o's object among the n sorted ones? */
static int among(const struct release_obj *const *v, size_t n, const struct release_obj *o)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ident_cmp(v[mid], o);

		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* An object twice in one release is refused; the message names the first
 * second copy in the release's order. */
static int refuse_twice(const struct release_set *s)
{
	const struct release_obj **v = by_identity(s), *again = NULL;

	if (!v)
		return E_NOMEM;
	for (size_t i = 1; i < s->n; i++)
		if (!ident_cmp(v[i - 1], v[i]) && (!again || v[i] < again))
			again = v[i];
	mem_free(v);
	if (!again)
		return 0;
	return error(E_FORMAT, "%s: %s %s%s%s appears twice in the release", again->where,
		     again->kind, again->ns, *again->ns ? "/" : "", again->name);
}

static int wave_cmp(const void *pa, const void *pb)
{
	const struct release_obj *a = pa, *b = pb;

	if (a->wave != b->wave)
		return a->wave < b->wave ? -1 : 1;
	return a < b ? -1 : a > b;
}

/* Is (api_version, kind) a namespaced kind, as far as we can tell: from
 * discovery, else from a CRD of this release. 1, 0, or a negative error. */
static int is_namespaced(struct kube *k, struct manifest **ms, size_t nm,
			 const struct manifest_object *o)
{
	const struct kube_type *t;
	int rc = kube_resolve(k, o->api_version, o->kind, &t);

	if (rc == 0)
		return t->namespaced;
	if (rc != E_NOTFOUND)
		return rc;
	for (size_t i = 0; i < nm; i++)
		for (size_t j = 0; j < ms[i]->n; j++) {
			const struct manifest_object *c = &ms[i]->objs[j];
			const char *group = node_str(node_path(c->node, "spec.group"));
			const char *kind = node_str(node_path(c->node, "spec.names.kind"));
			const char *scope = node_str(node_path(c->node, "spec.scope"));
			size_t g = group_len(o->api_version);

			if (strcmp(c->kind, "CustomResourceDefinition") != 0 || !group ||
			    !kind || !scope || strcmp(kind, o->kind) != 0 ||
			    strlen(group) != g || strncmp(group, o->api_version, g) != 0)
				continue;
			return strcmp(scope, "Namespaced") == 0;
		}
	return error(E_API, "%s:%u: %s %s: no such kind in the cluster or in this release",
		     o->file, o->line, o->api_version, o->kind);
}

/* "true" 1, "false" or absent 0, else an error naming the annotation. */
static int yes_no(const struct manifest_object *o, const struct node *ann, const char *key,
		  int *out)
{
	const char *v = node_str(node_map_get(ann, key));

	*out = v && strcmp(v, "true") == 0;
	if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return error(E_FORMAT, "%s:%u: annotation %s must be \"true\" or \"false\"",
			     o->file, o->line, key);
	return 0;
}

/* An object's annotations for the engine: its wave, prune, recreate, adopt. */
static int obj_wave(struct manifest_object *o, int *wave, int *no_prune, int *recreate,
		    int *adopt)
{
	/* the keys hold dots: looked up whole, never as a path */
	const struct node *ann = node_path(o->node, "metadata.annotations");
	const char *w = node_str(node_map_get(ann, ANNOTATION_WAVE));
	const char *p = node_str(node_map_get(ann, ANNOTATION_PRUNE));
	const char *r = node_str(node_map_get(ann, ANNOTATION_RECREATE));
	char *end;
	long v;

	*no_prune = p && strcmp(p, "disabled") == 0;
	if (yes_no(o, ann, ANNOTATION_RECREATE, recreate) || yes_no(o, ann, ANNOTATION_ADOPT, adopt))
		return E_FORMAT;
	if (node_map_get(ann, ANNOTATION_ORIGIN))
		return error(E_FORMAT, "%s:%u: annotation %s is outpost's own record of who "
			     "made the object: a bundle may not set it", o->file, o->line,
			     ANNOTATION_ORIGIN);
	/* a Job is mostly a migration run again: re-created unless it says not */
	*recreate = r ? strcmp(r, "true") == 0 : strcmp(o->kind, "Job") == 0;
	if (!w) {
		*wave = apply_kind_wave(o->kind);
		return 0;
	}
	v = strtol(w, &end, 10);
	if (end == w || *end || v < -100 || v > 100)
		return error(E_FORMAT, "%s:%u: annotation %s must be an integer from -100 to 100",
			     o->file, o->line, ANNOTATION_WAVE);
	*wave = (int)v;
	return 0;
}

static int add_object(struct release_set *s, struct manifest *m, struct manifest_object *o,
		      const char *ns, int wave, int no_prune, int recreate, int adopt)
{
	char where[300];

	struct buf json = BUF_INIT(OBJECT_JSON_MAX);
	struct release_obj *r;
	int rc;

	if (s->n == RELEASE_OBJECTS_MAX)
		return error(E_LIMIT, "%s: more than %d objects", o->file, RELEASE_OBJECTS_MAX);
	if (ns) {
		struct node *meta = node_map_get(o->node, "metadata");
		struct node *v = doc_new_str(m->doc, ns, strlen(ns));

		if (!v || doc_map_set(m->doc, meta, "namespace", v))
			return E_NOMEM;
	}
	rc = doc_to_json(o->node, &json);
	if (rc) {
		buf_free(&json);
		return error(rc, "%s:%u: %s %s: %s", o->file, o->line, o->kind, o->name,
			     err_str(rc));
	}
	r = &s->objs[s->n];
	memset(r, 0, sizeof(*r));
	r->api_version = mem_strdup(o->api_version);
	r->kind = mem_strdup(o->kind);
	r->ns = mem_strdup(ns ? ns : o->namespace ? o->namespace : "");
	r->name = mem_strdup(o->name);
	r->json = buf_detach(&json, &r->json_len);
	snprintf(where, sizeof(where), "%s:%u", o->file, o->line);
	r->where = mem_strdup(where);
	r->wave = wave;
	r->no_prune = no_prune;
	r->recreate = recreate;
	r->adopt = adopt;
	s->n++;
	if (!r->api_version || !r->kind || !r->ns || !r->name || !r->json || !r->where)
		return E_NOMEM;
	return 0;
}

int release_set_build(struct kube *k, const char *app, int64_t sequence,
		      const char *default_ns, const struct release_file *files,
		      size_t nfiles, struct release_set **out)
{
	struct manifest **ms = mem_zalloc(nfiles ? nfiles : 1, sizeof(*ms));
	struct release_set *s = mem_zalloc(1, sizeof(*s));
	size_t nm = 0, total = 0;
	char seq[24];
	int rc = 0;

	*out = NULL;
	if (!ms || !s) {
		mem_free(ms);
		mem_free(s);
		return E_NOMEM;
	}
	snprintf(s->app, sizeof(s->app), "%s", app ? app : "");
	s->sequence = sequence;
	snprintf(seq, sizeof(seq), "%lld", (long long)sequence);
	for (size_t i = 0; !rc && i < nfiles; i++) {
		rc = manifest_load(files[i].name, files[i].data, files[i].len, NULL, &ms[nm]);
		if (!rc)
			total += ms[nm++]->n;
	}
	if (!rc && total > RELEASE_OBJECTS_MAX)
		rc = error(E_LIMIT, "release %s/%s: %zu objects, at most %d", s->app, seq, total,
			   RELEASE_OBJECTS_MAX);
	if (!rc) {
		s->objs = mem_zalloc(total ? total : 1, sizeof(*s->objs));
		if (!s->objs)
			rc = E_NOMEM;
	}
	for (size_t i = 0; !rc && i < nm; i++)
		for (size_t j = 0; !rc && j < ms[i]->n; j++) {
			struct manifest_object *o = &ms[i]->objs[j];
			const char *ns = NULL;
			int wave = 0, no_prune = 0, recreate = 0, adopt = 0, namespaced;

			rc = obj_wave(o, &wave, &no_prune, &recreate, &adopt);
			if (!rc && app)
				rc = manifest_set_label(ms[i], o, LABEL_APP, app);
			if (!rc && app)
				rc = manifest_set_label(ms[i], o, LABEL_SEQUENCE, seq);
			/* apply_observe() says "adopted" where this is not so */
			if (!rc && app)
				rc = manifest_set_annotation(ms[i], o, ANNOTATION_ORIGIN, ORIGIN_CREATED);
			if (!rc && !o->namespace) {
				namespaced = is_namespaced(k, ms, nm, o);
				if (namespaced < 0)
					rc = namespaced;
				else if (namespaced)
					ns = default_ns;
			}
			if (!rc)
				rc = add_object(s, ms[i], o, ns, wave, no_prune, recreate, adopt);
		}
	for (size_t i = 0; i < nm; i++)
		manifest_free(ms[i]);
	mem_free(ms);
	if (!rc)
		rc = refuse_twice(s);
	if (rc) {
		release_set_free(s);
		return rc;
	}
	qsort(s->objs, s->n, sizeof(*s->objs), wave_cmp);
	*out = s;
	return 0;
}

static void to_kube(const struct release_obj *r, struct kube_object *o)
{
	memset(o, 0, sizeof(*o));
	o->api_version = r->api_version;
	o->kind = r->kind;
	o->namespace = *r->ns ? r->ns : NULL;
	o->name = r->name;
	o->json = r->json;
	o->json_len = r->json_len;
	o->prev_rv = *r->rv ? r->rv : NULL;
	o->headers = r->headers;
}

/* The status of condition type in an object's JSON: "True", "False", or NULL. */
static const char *condition(const struct node *obj, const char *type)
{
	const struct node *conds = node_path(obj, "status.conditions");

	for (size_t i = 0; conds && conds->type == NODE_SEQ && i < conds->len; i++) {
		const char *t = node_str(node_map_get(conds->items[i], "type"));

		if (t && strcmp(t, type) == 0)
			return node_str(node_map_get(conds->items[i], "status"));
	}
	return NULL;
}

static int64_t deadline_of(const struct release_set *s)
{
	return s->deadline ? s->deadline : (int64_t)time(NULL) + APPLY_WAIT_SECONDS;
}

/* Before asking again: a long wait is not a hung agent. */
static void pause_retry(void)
{
	sdnotify_watchdog();
	usleep(RETRY_MS * 1000);
}

/*
 * Wait until each of objs[0..n) is gone: the API answers 404 for it, or it
 * has another uid than uids[i] (someone made it anew; uids may be NULL).
 * 0; E_STATE when the deadline came first (*left are still there);
 * E_UNAVAILABLE; E_NOMEM.
 */
static int wait_gone(struct kube *k, const struct kube_object *objs, char (*uids)[64],
		     size_t n, int64_t deadline, size_t *left)
{
	struct kube_object *q = mem_zalloc(n ? n : 1, sizeof(*q));
	struct kube_result *res = mem_zalloc(n ? n : 1, sizeof(*res));
	size_t *idx = mem_zalloc(n ? n : 1, sizeof(*idx));
	size_t m = n;
	int rc = q && res && idx ? 0 : E_NOMEM;

	for (size_t i = 0; !rc && i < n; i++)
		idx[i] = i;
	while (!rc && m) {
		size_t still = 0;

		for (size_t j = 0; j < m; j++)
			q[j] = objs[idx[j]];
		rc = kube_get_batch(k, q, m, 0, res);
		for (size_t j = 0; j < m; j++) {
			const char *uid = uids ? uids[idx[j]] : "";
			int gone = res[j].err == E_NOTFOUND ||
				   (!res[j].err && *uid && strcmp(res[j].uid, uid) != 0);

			if (!gone)
				idx[still++] = idx[j];
			kube_result_free(&res[j]);
		}
		if (rc == E_UNAVAILABLE)
			break;
		rc = 0;
		m = still;
		if (m && (int64_t)time(NULL) >= deadline)
			rc = E_STATE;
		else if (m)
			pause_retry();
	}
	*left = m;
	mem_free(q);
	mem_free(res);
	mem_free(idx);
	return rc;
}

/* The served versions of a CRD as this release writes it: all in discovery? */
static int crd_served(struct kube *k, const struct release_obj *r, int *served)
{
	struct doc *d = NULL;
	const struct node *root, *vs;
	const char *group, *kind;
	int rc = doc_load("CRD", r->json, r->json_len, NULL, &d);

	*served = 1;
	root = rc ? NULL : doc_root(d, 0);
	group = node_str(node_path(root, "spec.group"));
	kind = node_str(node_path(root, "spec.names.kind"));
	vs = node_path(root, "spec.versions");
	for (size_t i = 0; !rc && group && kind && vs && vs->type == NODE_SEQ && i < vs->len; i++) {
		const char *v = node_str(node_map_get(vs->items[i], "name"));
		const struct kube_type *t;
		char av[256];
		int on = 0;

		if (!v || node_bool(node_map_get(vs->items[i], "served"), &on) || !on ||
		    snprintf(av, sizeof(av), "%s/%s", group, v) >= (int)sizeof(av))
			continue;
		rc = kube_resolve(k, av, kind, &t);
		if (rc == E_NOTFOUND) {
			*served = rc = 0;
			break;
		}
	}
	doc_free(d);
	return rc;
}

/*
 * Wait until the CRDs of wave [a, b) are Established and discovery serves
 * every version they serve: the API server adds a CRD's routes a moment
 * after Established (observed on v1.32: a custom resource applied at once
 * got a plain-text 404), so discovery is polled until they are there.
 */
static int wait_crds(struct kube *k, struct release_set *s, size_t a, size_t b)
{
	int64_t until = (int64_t)time(NULL) + CRD_WAIT_SECONDS;
	int pending = 0, rc = 0;

	if (until > deadline_of(s))
		until = deadline_of(s);
	do {
		pending = 0;
		for (size_t i = a; !rc && i < b; i++) {
			struct buf body = BUF_INIT(OBJECT_JSON_MAX);
			struct kube_object o;
			struct doc *d = NULL;
			const char *st;

			if (strcmp(s->objs[i].kind, "CustomResourceDefinition") != 0)
				continue;
			to_kube(&s->objs[i], &o);
			rc = kube_get(k, &o, &body);
			if (!rc)
				rc = doc_load("CRD", body.data, body.len, NULL, &d);
			st = rc ? NULL : condition(doc_root(d, 0), "Established");
			pending += !st || strcmp(st, "True") != 0;
			doc_free(d);
			buf_free(&body);
		}
		if (!rc && pending)
			usleep(100 * 1000);
	} while (!rc && pending && (int64_t)time(NULL) < until);
	if (!rc && pending)
		return error(E_API, "%d CustomResourceDefinition%s not Established after %d s",
			     pending, pending == 1 ? "" : "s", CRD_WAIT_SECONDS);
	for (;;) {
		const struct release_obj *missing = NULL;

		rc = rc ? rc : kube_discover(k);
		for (size_t i = a; !rc && !missing && i < b; i++) {
			int served;

			if (strcmp(s->objs[i].kind, "CustomResourceDefinition") == 0 &&
			    !(rc = crd_served(k, &s->objs[i], &served)) && !served)
				missing = &s->objs[i];
		}
		if (rc || !missing)
			return rc;
		if ((int64_t)time(NULL) >= until)
			return error(E_API, "CustomResourceDefinition %s: Established, but its "
				     "kinds are not served after %d s", missing->name,
				     CRD_WAIT_SECONDS);
		usleep(200 * 1000);
	}
}

/* r was refused: the API's words, where r came from, and what to do. */
static void refuse(struct release_obj *r, const struct kube_result *q, int err, const char *hint)
{
	struct buf m = BUF_INIT(8192);

	r->err = err;
	buf_addf(&m, "%s%s%s%s", r->where && *r->where ? r->where : "",
		 r->where && *r->where ? ": " : "", q->message ? q->message : err_str(err),
		 hint ? hint : "");
	mem_free(r->message);
	r->message = buf_detach(&m, NULL);
	buf_free(&m);
}

/* Delete r, whose change the API cannot make in place, and wait until it
 * is gone (its finalizers ran), to apply it anew. */
static int delete_for_recreate(struct kube *k, struct release_obj *r, int64_t deadline)
{
	struct kube_object o;
	struct kube_result q;
	char uid[1][64];
	size_t left;
	int rc;

	to_kube(r, &o);
	o.prev_rv = NULL;
	rc = kube_get_batch(k, &o, 1, 1, &q);
	snprintf(uid[0], sizeof(uid[0]), "%s", q.uid);
	if (!rc && q.err == E_NOTFOUND)
		rc = E_NOTFOUND;
	kube_result_free(&q);
	if (rc)
		return rc == E_NOTFOUND ? 0 : rc;
	rc = kube_delete(k, &o, &q);
	kube_result_free(&q);
	if (rc)
		return rc;
	log_info("%s %s%s%s: a field that cannot change was changed: deleted, to be created anew",
		 r->kind, r->ns, *r->ns ? "/" : "", r->name);
	rc = wait_gone(k, &o, uid, 1, deadline, &left);
	if (rc == E_STATE)
		rc = error(E_API, "%s %s%s%s: deleted to be created anew, but still there when "
			   "the deadline passed", r->kind, r->ns, *r->ns ? "/" : "", r->name);
	return rc;
}

/* Apply again the Namespace of r that this release has (applied in an
 * earlier wave): 1 when done, 0 when there is none or the API refused. */
static int reapply_namespace(struct kube *k, struct release_set *s, const struct release_obj *r)
{
	for (size_t i = 0; i < s->n; i++) {
		struct release_obj *n = &s->objs[i];
		struct kube_object o;
		struct kube_result q;
		int rc;

		if (strcmp(n->kind, "Namespace") != 0 || group_len(n->api_version) ||
		    strcmp(n->name, r->ns) != 0 || !n->applied)
			continue;
		to_kube(n, &o);
		o.prev_rv = NULL;
		rc = kube_apply(k, &o, 0, &q);
		kube_result_free(&q);
		if (!rc)
			log_info("Namespace %s: made anew (it was being deleted)", n->name);
		return rc == 0;
	}
	return 0;
}

static const char recreate_hint[] =
	" (annotate it " ANNOTATION_RECREATE ": \"true\" to let outpost delete it and create it anew)";

/*
 * Apply the wave [a, b) in parallel; what the API says "not yet" to is
 * applied again, alone, until the deadline. 0, E_UNAVAILABLE, E_API (a
 * refusal, in the object's message), E_NOMEM.
 */
static int apply_wave(struct kube *k, struct release_set *s, size_t a, size_t b,
		      int64_t deadline, struct kube_object *objs, struct kube_result *res,
		      size_t *changed)
{
	size_t *idx = mem_alloc(b - a, sizeof(*idx));
	size_t m = 0;
	int rc = idx ? 0 : E_NOMEM;

	for (size_t i = a; idx && i < b; i++)
		idx[m++] = i;
	while (!rc && m) {
		size_t again = 0;
		int refused = 0, unknown = 0;

		for (size_t j = 0; j < m; j++)
			to_kube(&s->objs[idx[j]], &objs[j]);
		rc = kube_apply_batch(k, objs, m, 0, 0, res);
		for (size_t j = 0; j < m; j++) {
			struct release_obj *r = &s->objs[idx[j]];
			struct kube_result *q = &res[j];
			int late = (int64_t)time(NULL) >= deadline, e;

			r->err = 0;
			if (!q->err) {
				snprintf(r->rv, sizeof(r->rv), "%s", q->rv);
				snprintf(r->uid, sizeof(r->uid), "%s", q->uid);
				r->applied = 1;
				r->created = q->created;
				r->changed = q->created || q->changed > 0 || r->recreated;
				*changed += r->changed;
			} else if (q->err != E_API && q->err != E_NOTFOUND) {
				refuse(r, q, q->err, NULL);
				unknown |= q->err == E_UNAVAILABLE;
				refused |= q->err != E_UNAVAILABLE;
			} else if (q->why == KUBE_WHY_TERMINATING || q->why == KUBE_WHY_NOT_SERVED ||
				   q->why == KUBE_WHY_CONFLICT) {
				if (late) {
					refuse(r, q, E_API, " (still so when the deadline passed)");
					error(E_API, "%s", r->message);
					refused = 1;
				} else {
					log_info("%s %s%s%s: not yet (%s): again in a moment", r->kind,
						 r->ns, *r->ns ? "/" : "", r->name,
						 q->message ? q->message : "");
					idx[again++] = idx[j];
				}
			} else if (q->status == 404 && *r->ns && !late && reapply_namespace(k, s, r)) {
				/* its namespace, being terminated a moment ago, is
				 * gone now: this release makes it anew first */
				idx[again++] = idx[j];
			} else if (q->why == KUBE_WHY_IMMUTABLE && r->recreate && !r->recreated) {
				e = delete_for_recreate(k, r, deadline);
				if (!e) {
					r->recreated = 1;
					idx[again++] = idx[j];
				} else {
					refuse(r, q, e, e == E_UNAVAILABLE ? NULL :
					       " (it could not be deleted to be created anew)");
					unknown |= e == E_UNAVAILABLE;
					refused |= e != E_UNAVAILABLE;
				}
			} else {
				refuse(r, q, E_API, q->why == KUBE_WHY_IMMUTABLE && !r->recreate ?
				       recreate_hint : NULL);
				refused = 1;
			}
			kube_result_free(q);
		}
		rc = unknown ? E_UNAVAILABLE : refused ? E_API : rc == E_NOMEM ? rc : 0;
		m = again;
		if (!rc && m)
			pause_retry();
	}
	mem_free(idx);
	return rc;
}

/* kind in group ("" the core group) by its apiVersion. */
static int is_kind(const struct release_obj *r, const char *group, const char *kind)
{
	size_t g = group_len(r->api_version);

	return strcmp(r->kind, kind) == 0 && strlen(group) == g &&
	       strncmp(r->api_version, group, g) == 0;
}

/* A Job the TTL controller deletes once it finished (its manifest says so). */
static int ttl_job(const struct release_obj *r)
{
	struct doc *d = NULL;
	int64_t ttl;
	int yes;

	if (!is_kind(r, "batch", "Job") ||
	    doc_load("object", r->json, r->json_len, NULL, &d))
		return 0;
	yes = node_int64(node_path(doc_root(d, 0), "spec.ttlSecondsAfterFinished"), 0,
			 INT32_MAX, &ttl) == 0;
	doc_free(d);
	return yes;
}

/* The install Job helm-controller names for a chart ([helm-ctl] jobName()). */
#define HELM_JOB_PREFIX "helm-install-"

/*
 * Before a wave with k3s HelmCharts is applied: each chart's generation and
 * its install Job's uid as they are now. helm-controller replaces the Job
 * when the chart's spec changes, under the same name, and the previous one
 * keeps its Complete condition until then: the health wait must not take
 * it for the new one. 0, or the API's error (never read as "none").
 */
static int note_helm_jobs(struct kube *k, struct release_set *s, size_t a, size_t b)
{
	int rc = 0;

	for (size_t i = a; !rc && i < b; i++) {
		struct release_obj *r = &s->objs[i];
		struct buf body = BUF_INIT(OBJECT_JSON_MAX), job = BUF_INIT(NAME_BUF);
		struct kube_object o;
		struct doc *d = NULL;
		const char *name;
		int64_t gen = 0;

		r->dep_uid[0] = 0;
		r->dep_gen = 0;
		if (!is_kind(r, "helm.cattle.io", "HelmChart"))
			continue;
		to_kube(r, &o);
		rc = kube_get(k, &o, &body);
		if (!rc)
			rc = doc_load("HelmChart", body.data, body.len, NULL, &d);
		if (!rc) {
			name = node_str(node_path(doc_root(d, 0), "status.jobName"));
			if (node_int64(node_path(doc_root(d, 0), "metadata.generation"), 1,
				       INT64_MAX, &gen))
				gen = 0;
			if (name && *name)
				rc = buf_addstr(&job, name);
			else
				rc = buf_addf(&job, HELM_JOB_PREFIX "%s", r->name);
		}
		if (!rc) {
			struct kube_object jo = { "batch/v1", "Job", o.namespace, job.data,
						  NULL, 0, NULL, o.headers };
			struct doc *jd = NULL;

			buf_reset(&body);
			rc = kube_get(k, &jo, &body);
			if (!rc)
				rc = doc_load("Job", body.data, body.len, NULL, &jd);
			if (!rc) {
				const char *uid = node_str(node_path(doc_root(jd, 0), "metadata.uid"));

				snprintf(r->dep_uid, sizeof(r->dep_uid), "%s", uid ? uid : "");
			}
			rc = rc == E_NOTFOUND ? 0 : rc;
			doc_free(jd);
		}
		if (!rc)
			r->dep_gen = gen;
		rc = rc == E_NOTFOUND ? 0 : rc;     /* a new chart: any Job is its own */
		doc_free(d);
		buf_free(&body);
		buf_free(&job);
	}
	return rc;
}

int apply_release(struct kube *k, struct release_set *s, size_t *changed)
{
	struct kube_object *objs = mem_zalloc(s->n ? s->n : 1, sizeof(*objs));
	struct kube_result *res = mem_zalloc(s->n ? s->n : 1, sizeof(*res));
	int64_t deadline = deadline_of(s);
	int rc = 0;

	*changed = 0;
	if (!objs || !res) {
		mem_free(objs);
		mem_free(res);
		return E_NOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		mem_free(s->objs[i].message);
		s->objs[i].message = NULL;
		s->objs[i].recreated = 0;
	}
	rc = apply_observe(k, s);
	for (size_t a = 0, b; !rc && a < s->n; a = b) {
		int crds = 0;

		for (b = a; b < s->n && s->objs[b].wave == s->objs[a].wave; b++)
			crds |= strcmp(s->objs[b].kind, "CustomResourceDefinition") == 0;
		rc = note_helm_jobs(k, s, a, b);
		if (rc) {
			for (size_t i = a; i < b; i++)
				s->objs[i].err = rc;    /* not attempted */
			break;
		}
		rc = apply_wave(k, s, a, b, deadline, objs, res, changed);
		if (!rc && crds)
			rc = wait_crds(k, s, a, b);
		if (!rc) {
			log_debug("%s/%lld: wave %d applied (%zu objects)", s->app,
				  (long long)s->sequence, s->objs[a].wave, b - a);
			log_progress("%s sequence %lld: applied %zu of %zu objects", s->app,
				     (long long)s->sequence, b, s->n);
		}
	}
	mem_free(objs);
	mem_free(res);
	return rc;
}

/* Is v one of list[0..n), or is "*" one of them? */
static int in_scope(const char *const *list, size_t n, const char *v)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], "*") == 0 || strcmp(list[i], v) == 0)
			return 1;
	return 0;
}

int release_set_confine(const struct release_set *s, const struct apply_scope *scope,
			struct buf *why)
{
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct release_obj *r = &s->objs[i];
		int own_ns = !*r->ns && strcmp(r->kind, "Namespace") == 0 &&
			     !group_len(r->api_version) &&
			     in_scope(scope->namespaces, scope->nns, r->name);
		struct buf m = BUF_INIT(2048);

		if (*r->ns ? in_scope(scope->namespaces, scope->nns, r->ns) :
		    own_ns || in_scope(scope->kinds, scope->nkinds, r->kind))
			continue;
		buf_addf(&m, "%s%sapp %s may not apply %s %s%s%s: ", r->where, *r->where ? ": " : "",
			 s->app, r->kind, r->ns, *r->ns ? "/" : "", r->name);
		if (*r->ns)
			buf_addf(&m, "namespace %s is not one of its namespaces (%s)", r->ns,
				 scope->source);
		else
			buf_addf(&m, "%s is a cluster-scoped kind it is not allowed (%s)", r->kind,
				 scope->source);
		error(E_DENIED, "%s", m.data);
		if (!rc && why)
			buf_addstr(why, m.data);
		buf_free(&m);
		rc = E_DENIED;
	}
	return rc;
}

const char *apply_refusal(const struct release_set *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->objs[i].err && s->objs[i].err != E_UNAVAILABLE && s->objs[i].message)
			return s->objs[i].message;
	return NULL;
}

/* The label or annotation value of an object's JSON, or NULL. */
static const char *meta_value(const struct node *obj, const char *map, const char *key)
{
	const struct node *m = node_path(obj, map);

	return m ? node_str(node_map_get(m, key)) : NULL;
}

/* r's body with ANNOTATION_ORIGIN set to ORIGIN_ADOPTED. 0 or E_NOMEM/E_LIMIT. */
static int mark_adopted(struct release_obj *r)
{
	struct buf json = BUF_INIT(OBJECT_JSON_MAX);
	struct doc *d = NULL;
	struct node *ann, *v;
	int rc = doc_load("object", r->json, r->json_len, NULL, &d);

	if (!rc) {
		ann = node_path(doc_root(d, 0), "metadata.annotations");
		v = doc_new_str(d, ORIGIN_ADOPTED, strlen(ORIGIN_ADOPTED));
		rc = !ann || !v ? E_NOMEM : doc_map_set(d, ann, ANNOTATION_ORIGIN, v);
	}
	if (!rc)
		rc = doc_to_json(doc_root(d, 0), &json);
	if (!rc) {
		mem_free(r->json);
		r->json = buf_detach(&json, &r->json_len);
		rc = r->json ? 0 : E_NOMEM;
	}
	doc_free(d);
	buf_free(&json);
	return rc;
}

/* r refused before anything is applied: E_DENIED, its message, logged. */
static int deny(struct release_obj *r, const char *app, const char *owner)
{
	struct buf m = BUF_INIT(2048);

	r->err = E_DENIED;
	buf_addf(&m, "%s%s%s %s%s%s ", r->where && *r->where ? r->where : "",
		 r->where && *r->where ? ": " : "", r->kind, r->ns, *r->ns ? "/" : "", r->name);
	if (owner)
		buf_addf(&m, "belongs to app %s: app %s may not take it (conflict)", owner, app);
	else
		buf_addf(&m, "exists and was not made by outpost: app %s takes it only when "
			 "the bundle annotates it %s: \"true\"", app, ANNOTATION_ADOPT);
	mem_free(r->message);
	r->message = buf_detach(&m, NULL);
	buf_free(&m);
	return error(E_DENIED, "%s", r->message ? r->message : err_str(E_DENIED));
}

/*
 * May app apply r, which the cluster has as obj (NULL: it is missing)?
 * Not when another app owns it, nor when outpost did not make it and the
 * bundle does not adopt it; what it adopted stays adopted. 0, E_DENIED,
 * E_NOMEM.
 */
static int check_owner(struct release_obj *r, const char *app, const struct node *obj)
{
	const char *owner, *origin;

	if (!obj)
		return 0;       /* this apply creates it */
	owner = meta_value(obj, "metadata.labels", LABEL_APP);
	origin = meta_value(obj, "metadata.annotations", ANNOTATION_ORIGIN);
	if (owner && strcmp(owner, app) != 0)
		return deny(r, app, owner);
	if (!owner && !r->adopt)
		return deny(r, app, NULL);
	if (owner && origin && strcmp(origin, ORIGIN_CREATED) == 0)
		return 0;
	/* adopted now, before, or made before outpost kept the origin */
	return mark_adopted(r);
}

int apply_observe(struct kube *k, struct release_set *s)
{
	struct kube_object *objs = mem_zalloc(s->n ? s->n : 1, sizeof(*objs));
	struct kube_result *res = mem_zalloc(s->n ? s->n : 1, sizeof(*res));
	int rc = E_NOMEM, denied = 0;

	if (objs && res) {
		for (size_t i = 0; i < s->n; i++)
			to_kube(&s->objs[i], &objs[i]);
		rc = kube_get_batch(k, objs, s->n, 0, res);
		if (rc == E_NOTFOUND || rc == E_API)
			rc = 0;         /* missing objects are what drift recreates */
		for (size_t i = 0; i < s->n; i++) {
			struct release_obj *r = &s->objs[i];
			struct kube_result *q = &res[i];
			struct doc *d = NULL;
			int e = 0;

			r->err = 0;
			snprintf(r->rv, sizeof(r->rv), "%s", q->err ? "" : q->rv);
			if (!*s->app || q->err == E_UNAVAILABLE) {
				/* no owner to check (`outpost kube apply`), or
				 * nothing known: rc says so */
			} else if (q->err && q->err != E_NOTFOUND) {
				/* a refused read is never taken for "missing" */
				refuse(r, q, q->err, " (read to check its owner before applying)");
				e = q->err == E_API ? E_DENIED : q->err;
			} else if (q->err) {
				e = check_owner(r, s->app, NULL);
			} else {
				e = doc_load("object", q->object, q->object_len, NULL, &d);
				if (!e)
					e = check_owner(r, s->app, doc_root(d, 0));
			}
			doc_free(d);
			denied |= e == E_DENIED;
			if (e && e != E_DENIED && !rc)
				rc = e;
			kube_result_free(q);
		}
		if (!rc && denied)
			rc = E_DENIED;
	}
	mem_free(objs);
	mem_free(res);
	return rc;
}

int apply_drop_finished(struct kube *k, struct release_set *s, size_t *dropped)
{
	size_t keep = 0;
	int rc = 0;

	*dropped = 0;
	for (size_t i = 0; i < s->n; i++) {
		struct release_obj *r = &s->objs[i];
		int gone = 0;

		if (!rc && ttl_job(r)) {
			struct buf body = BUF_INIT(OBJECT_JSON_MAX);
			struct kube_object o;

			to_kube(r, &o);
			rc = kube_get(k, &o, &body);
			gone = rc == E_NOTFOUND;
			rc = gone ? 0 : rc;
			buf_free(&body);
		}
		if (gone) {
			log_info("%s: Job %s%s%s finished and was removed by the TTL controller: "
				 "not re-created", s->app, r->ns, *r->ns ? "/" : "", r->name);
			release_obj_clear(r);
			(*dropped)++;
			continue;
		}
		if (keep != i)
			s->objs[keep] = *r;
		keep++;
	}
	s->n = keep;
	return rc;
}

/* Namespaces the cluster needs: never deleted (the API refuses with 403). */
static int is_protected(const struct release_obj *o)
{
	static const char *const names[] = {
		"default", "kube-system", "kube-public", "kube-node-lease"
	};

	if (strcmp(o->kind, "Namespace") != 0 || group_len(o->api_version) || *o->ns)
		return 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(o->name, names[i]) == 0)
			return 1;
	return 0;
}

struct pick {
	size_t i;               /* in old */
	int wave;
};

/* the last wave first; in a wave, the order of old */
static int pick_cmp(const void *pa, const void *pb)
{
	const struct pick *a = pa, *b = pb;

	if (a->wave != b->wave)
		return a->wave > b->wave ? -1 : 1;
	return a->i < b->i ? -1 : a->i > b->i;
}

/* Delete objs[a, b), one wave, and wait until what was deleted is gone. */
static int prune_wave(struct kube *k, const char *app, struct kube_object *objs,
		      char (*uids)[64], struct kube_result *res, size_t a, size_t b,
		      int wave, int64_t deadline, size_t *deleted)
{
	size_t m = a, left = 0;
	int rc = kube_delete_batch(k, objs + a, b - a, 0, res + a);

	for (size_t i = a; i < b; i++) {
		const struct kube_object *o = &objs[i];

		if (!res[i].err && !res[i].gone) {
			(*deleted)++;
			log_info("%s: pruned %s %s%s%s", app, o->kind, o->namespace ? o->namespace : "",
				 o->namespace ? "/" : "", o->name);
			objs[m] = objs[i];      /* to wait for */
			memcpy(uids[m], uids[i], sizeof(uids[m]));
			m++;
		}
		/* a refusal was logged by the client; the rest go on */
		kube_result_free(&res[i]);
	}
	if (rc == E_UNAVAILABLE || rc == E_NOMEM)
		return rc;
	rc = wait_gone(k, objs + a, uids + a, m - a, deadline, &left);
	if (rc == E_STATE) {
		log_warn("%s: %zu pruned object%s of wave %d still there when the deadline "
			 "passed (finalizers); going on", app, left, left == 1 ? "" : "s", wave);
		rc = 0;
	}
	return rc;
}

int apply_prune(struct kube *k, const char *app, const struct release_set *old,
		const struct release_set *keep, size_t *deleted)
{
	size_t n = old ? old->n : 0;
	struct kube_object *objs = mem_zalloc(n ? n : 1, sizeof(*objs));
	struct kube_result *res = mem_zalloc(n ? n : 1, sizeof(*res));
	struct pick *pick = mem_zalloc(n ? n : 1, sizeof(*pick));
	char (*uids)[64] = mem_zalloc(n ? n : 1, sizeof(*uids));
	const struct release_obj **kept_v = keep ? by_identity(keep) : NULL;
	int64_t deadline = old ? deadline_of(old) : 0;
	size_t m = 0, ours = 0;
	int rc = 0;

	*deleted = 0;
	if (!objs || !res || !pick || !uids || (keep && !kept_v)) {
		rc = E_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct release_obj *o = &old->objs[i];
		int kept = kept_v && among(kept_v, keep->n, o);

		if (!kept && is_protected(o))
			log_info("%s: Namespace %s is the cluster's: not pruned", app, o->name);
		else if (!kept && !o->no_prune)
			pick[m++] = (struct pick){ i, o->wave };
	}
	qsort(pick, m, sizeof(*pick), pick_cmp);
	for (size_t i = 0; i < m; i++)
		to_kube(&old->objs[pick[i].i], &objs[i]);
	/* only what still carries our label: never delete what someone else owns */
	rc = kube_get_batch(k, objs, m, 0, res);
	if (rc == E_UNAVAILABLE || rc == E_NOMEM) {
		for (size_t i = 0; i < m; i++)
			kube_result_free(&res[i]);
		goto out;
	}
	rc = 0;
	for (size_t i = 0; i < m; i++) {
		struct doc *d = NULL;
		const char *owner = NULL, *prune = NULL, *origin = NULL;

		if (!res[i].err && res[i].object &&
		    doc_load("object", res[i].object, res[i].object_len, NULL, &d) == 0) {
			owner = meta_value(doc_root(d, 0), "metadata.labels", LABEL_APP);
			prune = meta_value(doc_root(d, 0), "metadata.annotations", ANNOTATION_PRUNE);
			origin = meta_value(doc_root(d, 0), "metadata.annotations", ANNOTATION_ORIGIN);
		}
		if (owner && strcmp(owner, app) == 0 && !(origin && strcmp(origin, ORIGIN_CREATED) == 0))
			log_info("%s: %s %s%s%s was not made by outpost (adopted): left in place",
				 app, objs[i].kind, objs[i].namespace ? objs[i].namespace : "",
				 objs[i].namespace ? "/" : "", objs[i].name);
		else if (owner && strcmp(owner, app) == 0 && !(prune && strcmp(prune, "disabled") == 0)) {
			/* made by this app and not kept on purpose (else:
			 * gone, or not ours) */
			objs[ours] = objs[i];
			pick[ours] = pick[i];
			snprintf(uids[ours], sizeof(uids[ours]), "%s", res[i].uid);
			ours++;
		}
		doc_free(d);
		kube_result_free(&res[i]);
	}
	for (size_t a = 0, b; !rc && a < ours; a = b) {
		for (b = a; b < ours && pick[b].wave == pick[a].wave; b++)
			;
		rc = prune_wave(k, app, objs, uids, res, a, b, pick[a].wave, deadline, deleted);
	}
out:
	mem_free(objs);
	mem_free(res);
	mem_free(pick);
	mem_free(uids);
	mem_free(kept_v);
	return rc;
}

/*
 * The verdict on r, whose reply is obj: its own, or with the object it
 * depends on (a HelmChart's install Job, a Pending PVC's StorageClass).
 */
static enum health judge(struct kube *k, const struct release_obj *r,
			 const struct node *obj, struct buf *m)
{
	enum health h = health_of(obj, m);
	struct buf body = BUF_INIT(OBJECT_JSON_MAX);
	struct health_ref ref;
	struct doc *dd = NULL;
	const char *stale = NULL;
	int64_t gen = 0;
	int rc;

	/* the chart's spec changed since the Job was made: that Job is stale */
	if (r->dep_uid[0] &&
	    (node_int64(node_path(obj, "metadata.generation"), 1, INT64_MAX, &gen) ||
	     gen != r->dep_gen))
		stale = r->dep_uid;
	if (!(h == HEALTH_IN_PROGRESS || (h == HEALTH_FAILED && stale)) ||
	    !health_dependency(obj, &ref))
		return h;
	{
		struct kube_object dep = { ref.api_version, ref.kind, ref.namespace, ref.name,
					   NULL, 0, NULL, r->headers };

		rc = kube_get(k, &dep, &body);
	}
	if (!rc)
		rc = doc_load("object", body.data, body.len, NULL, &dd);
	if (!rc || rc == E_NOTFOUND) {
		h = health_with(obj, rc ? NULL : doc_root(dd, 0), stale, m);
	} else {
		buf_reset(m);
		buf_addf(m, "%s %s: waiting for %s %s: %s", r->kind, r->name, ref.kind,
			 ref.name, err_str(rc));
	}
	doc_free(dd);
	buf_free(&body);
	return h;
}

enum health apply_health(struct kube *k, struct release_set *s, struct buf *msg)
{
	struct kube_object *objs = mem_zalloc(s->n ? s->n : 1, sizeof(*objs));
	struct kube_result *res = mem_zalloc(s->n ? s->n : 1, sizeof(*res));
	enum health *v = mem_zalloc(s->n ? s->n : 1, sizeof(*v));
	char **why = mem_zalloc(s->n ? s->n : 1, sizeof(*why));
	enum health verdict = HEALTH_UNKNOWN;
	size_t which = 0, nget = 0;
	int rc;

	if (!objs || !res || !v || !why)
		goto out;
	/* only what was not Current at an earlier poll: it is fetched no more */
	for (size_t i = 0; i < s->n; i++)
		if (!s->objs[i].current)
			to_kube(&s->objs[i], &objs[nget++]);
	rc = kube_get_batch(k, objs, nget, 0, res);
	for (size_t i = 0, j = 0; i < s->n; i++) {
		struct release_obj *r = &s->objs[i];
		struct buf m = BUF_INIT(1024);
		struct doc *d = NULL;

		if (r->current) {
			v[i] = HEALTH_CURRENT;
			why[i] = NULL;
			continue;
		}
		if (rc == E_UNAVAILABLE || res[j].err == E_UNAVAILABLE) {
			v[i] = HEALTH_UNKNOWN;
			buf_addf(&m, "%s %s: API unreachable", r->kind, r->name);
		} else if (res[j].err == E_NOTFOUND && ttl_job(r) && (r->applied || r->seen)) {
			v[i] = HEALTH_CURRENT;
			buf_addf(&m, "%s %s: finished and removed by the TTL controller "
				 "(ttlSecondsAfterFinished)", r->kind, r->name);
			log_info("%s/%lld: %s", s->app, (long long)s->sequence, m.data);
		} else if (res[j].err) {
			v[i] = HEALTH_IN_PROGRESS;        /* not there (yet) */
			buf_addf(&m, "%s %s: %s", r->kind, r->name,
				 res[j].err == E_NOTFOUND ? "not found" : err_str(res[j].err));
		} else if (doc_load("object", res[j].object, res[j].object_len, NULL, &d)) {
			v[i] = HEALTH_UNKNOWN;
			buf_addf(&m, "%s %s: unreadable reply", r->kind, r->name);
		} else {
			r->seen = 1;
			v[i] = judge(k, r, doc_root(d, 0), &m);
		}
		r->health = v[i];
		r->current = v[i] == HEALTH_CURRENT;
		why[i] = buf_detach(&m, NULL);
		doc_free(d);
		kube_result_free(&res[j++]);
	}
	verdict = health_combine(v, s->n, &which);
	if (s->n && why[which])
		buf_addstr(msg, why[which]);
out:
	for (size_t i = 0; why && i < s->n; i++)
		mem_free(why[i]);
	mem_free(why);
	mem_free(v);
	mem_free(objs);
	mem_free(res);
	return verdict;
}
