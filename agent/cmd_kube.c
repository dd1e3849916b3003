/*
 * cmd_kube — `outpost kube`: a tiny kubectl over platform/kube.h, for
 * operators and for the tests: discovery, server-side apply of manifest
 * files, get, list and delete. The agent itself does not use it; it shows
 * exactly what the agent's client sends and sees.
 *
 * Exit status: 0 done, 1 refused or failed, 2 bad usage, 3 the API could
 * not be reached or answered 5xx: the outcome is unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cmd.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "kube.h"
#include "manifest.h"
#include "mem.h"

#define MANIFEST_MAX (64UL << 20)
#define JSON_MAX (256UL << 20)
#define CRD_WAIT_MS 10000
#define EXIT_UNKNOWN 3

const char cmd_kube_usage[] =
	"[--kubeconfig FILE] [--parallel N] COMMAND ...\n"
	"  discover [--json]                 the API's kinds (--json: the cache blob)\n"
	"  apply -f FILE [-f FILE ...]       server-side apply (fieldManager outpost,\n"
	"                                    force); CRDs and Namespaces first\n"
	"  get TYPE NAME [-n NS]             one object as JSON\n"
	"  list TYPE [-n NS] [-l SELECTOR]   NAMESPACE/NAME and resourceVersion\n"
	"  delete TYPE NAME [-n NS]          delete (propagation Background)\n"
	"  delete -f FILE [-f FILE ...]      delete what the files name\n"
	"TYPE is a kind or resource, any case, optionally KIND.GROUP.\n"
	"The kubeconfig defaults to " CONFIG_KUBECONFIG ", parallel to the\n"
	"build's API connections. Exit status: 0 done, 1 refused or failed,\n"
	"2 usage, 3 API unreachable or 5xx (outcome unknown).";

struct opts {
	struct kube_opts k;
	const char *files[64];
	int nfiles;
	const char *ns;
	const char *selector;
	int json;
};

static int bad_usage(const char *why, const char *arg)
{
	error(E_USAGE, "kube: %s%s%s", why, arg ? " " : "", arg ? arg : "");
	fprintf(stderr, "usage: outpost kube %s\n", cmd_kube_usage);
	return 2;
}

static int exit_code(int rc)
{
	return rc == 0 ? 0 : rc == E_UNAVAILABLE ? EXIT_UNKNOWN : 1;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || v == 0 || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* --- discover ------------------------------------------------------------------ */

static int run_discover(struct kube *k, const struct opts *o)
{
	int rc = kube_discover(k);

	if (rc)
		return exit_code(rc);
	if (o->json) {
		struct buf b = BUF_INIT(16u << 20);

		rc = kube_discovery_export(k, &b);
		if (!rc)
			printf("%s\n", b.data);
		buf_free(&b);
		return rc ? error(rc, "discover: %s", err_str(rc)), 1 : 0;
	}
	for (size_t i = 0; i < kube_type_count(k); i++) {
		const struct kube_type *t = kube_type_at(k, i);

		printf("%-40s %-32s %-32s %s\n", t->api_version, t->kind, t->resource,
		       t->namespaced ? "namespaced" : "cluster");
	}
	return 0;
}

/* --- files ------------------------------------------------------------------------ */

struct objects {
	struct manifest *m[64];
	int nm;
	struct kube_object *v;
	size_t n;
	struct buf json;
};

static void objects_free(struct objects *s)
{
	for (int i = 0; i < s->nm; i++)
		manifest_free(s->m[i]);
	mem_free(s->v);
	buf_free(&s->json);
}

/* Load every file's objects, with their JSON when json is set. */
static int objects_load(struct objects *s, const struct opts *o, int json)
{
	size_t total = 0, *off = NULL;
	int rc = 0;

	buf_init(&s->json, JSON_MAX);
	for (int f = 0; f < o->nfiles && !rc; f++) {
		struct buf b = BUF_INIT(MANIFEST_MAX);

		rc = file_read(o->files[f], MANIFEST_MAX, &b);
		if (!rc)
			rc = manifest_load(o->files[f], b.data, b.len, NULL, &s->m[s->nm]);
		if (!rc)
			total += s->m[s->nm++]->n;
		buf_free(&b);
	}
	if (rc)
		return rc;
	s->v = mem_zalloc(total ? total : 1, sizeof(*s->v));
	off = mem_alloc(total ? total + 1 : 1, sizeof(*off));
	if (!s->v || !off) {
		mem_free(off);
		return error(E_NOMEM, "kube: %s", err_str(E_NOMEM));
	}
	for (int f = 0; f < s->nm && !rc; f++) {
		for (size_t i = 0; i < s->m[f]->n && !rc; i++) {
			const struct manifest_object *mo = &s->m[f]->objs[i];
			struct kube_object *ko = &s->v[s->n];

			ko->api_version = mo->api_version;
			ko->kind = mo->kind;
			ko->namespace = mo->namespace;
			ko->name = mo->name;
			off[s->n++] = s->json.len;
			if (json) {
				rc = doc_to_json(mo->node, &s->json);
				if (rc)
					rc = error(rc, "%s:%u: %s %s: %s", mo->file, mo->line,
						   mo->kind, mo->name, err_str(rc));
			}
		}
	}
	off[s->n] = s->json.len;
	/* the buffer has stopped moving: point into it */
	for (size_t i = 0; !rc && json && i < s->n; i++) {
		s->v[i].json = s->json.data + off[i];
		s->v[i].json_len = off[i + 1] - off[i];
	}
	mem_free(off);
	return rc;
}

static int first_wave(const struct kube_object *o)
{
	return (strcmp(o->kind, "CustomResourceDefinition") == 0 &&
		strncmp(o->api_version, "apiextensions.k8s.io/", 21) == 0) ||
	       (strcmp(o->kind, "Namespace") == 0 && strcmp(o->api_version, "v1") == 0);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until every kind of objs resolves (new CRDs become served). */
static void wait_for_kinds(struct kube *k, const struct kube_object *objs,
			   const size_t *idx, size_t n)
{
	long long deadline = now_ms() + CRD_WAIT_MS;

	for (;;) {
		size_t missing = 0;
		const struct kube_type *t;

		for (size_t i = 0; i < n; i++)
			if (kube_resolve(k, objs[idx[i]].api_version, objs[idx[i]].kind, &t) ==
			    E_NOTFOUND)
				missing++;
		if (!missing || now_ms() >= deadline)
			return;
		nanosleep(&(struct timespec){ 0, 200 * 1000000L }, NULL);
		if (kube_discover(k))
			return;
	}
}

/* Apply a subset (idx[0..n)) of the objects; results in res by object. */
static int apply_wave(struct kube *k, const struct objects *s, const size_t *idx,
		      size_t n, unsigned parallel, struct kube_result *res)
{
	struct kube_object *w;
	struct kube_result *r;
	int rc;

	if (n == 0)
		return 0;
	w = mem_alloc(n, sizeof(*w));
	r = mem_alloc(n, sizeof(*r));
	if (!w || !r) {
		mem_free(w);
		mem_free(r);
		return error(E_NOMEM, "kube apply: %s", err_str(E_NOMEM));
	}
	for (size_t i = 0; i < n; i++)
		w[i] = s->v[idx[i]];
	rc = kube_apply_batch(k, w, n, parallel, 0, r);
	for (size_t i = 0; i < n; i++)
		res[idx[i]] = r[i];
	mem_free(w);
	mem_free(r);
	return rc;
}

/* "ConfigMap default/web REST": namespaced objects show the namespace used */
static void print_ref(struct kube *k, const struct kube_object *o, const char *rest)
{
	const char *ns = o->namespace && *o->namespace ? o->namespace : NULL;
	const struct kube_type *t;

	/* from the cache only: printing must not go to the network */
	for (size_t i = 0; i < kube_type_count(k); i++) {
		t = kube_type_at(k, i);
		if (strcmp(t->kind, o->kind) == 0 && strcmp(t->api_version, o->api_version) == 0) {
			ns = !t->namespaced ? NULL : ns ? ns : kube_default_namespace(k);
			break;
		}
	}
	printf("%s %s%s%s %s\n", o->kind, ns ? ns : "", ns ? "/" : "", o->name, rest);
}

static int run_apply(struct kube *k, const struct opts *o)
{
	struct objects s = { 0 };
	struct kube_result *res = NULL;
	size_t *idx = NULL, n1 = 0, n2 = 0;
	int rc;

	if (!o->nfiles)
		return bad_usage("apply: -f FILE is required", NULL);
	rc = objects_load(&s, o, 1);
	if (!rc && s.n) {
		res = mem_zalloc(s.n, sizeof(*res));
		idx = mem_alloc(s.n, sizeof(*idx));
		if (!res || !idx)
			rc = error(E_NOMEM, "kube apply: %s", err_str(E_NOMEM));
	}
	if (rc || !s.n)
		goto out;
	/* CRDs and Namespaces first, so that what follows can be served */
	for (size_t i = 0; i < s.n; i++)
		if (first_wave(&s.v[i]))
			idx[n1++] = i;
	for (size_t i = 0; i < s.n; i++)
		if (!first_wave(&s.v[i]))
			idx[n1 + n2++] = i;
	rc = apply_wave(k, &s, idx, n1, o->k.parallel, res);
	if (rc == E_UNAVAILABLE || rc == E_NOMEM) {
		/* the rest is not attempted: its outcome is unknown too */
		for (size_t i = n1; i < s.n; i++)
			res[idx[i]].err = E_UNAVAILABLE;
	} else {
		if (n1)
			wait_for_kinds(k, s.v, idx + n1, n2);
		apply_wave(k, &s, idx + n1, n2, o->k.parallel, res);
	}
	rc = 0;
	for (size_t i = 0; i < s.n; i++) {
		char line[160];
		int e = res[i].err;

		if (!e)
			snprintf(line, sizeof(line), "%s rv=%s",
				 res[i].created ? "created" : "applied", res[i].rv);
		print_ref(k, &s.v[i], !e ? line : e == E_UNAVAILABLE ? "unknown" : "failed");
		if (e == E_UNAVAILABLE || (e && !rc))
			rc = e;
		kube_result_free(&res[i]);
	}
out:
	mem_free(res);
	mem_free(idx);
	objects_free(&s);
	return exit_code(rc);
}

/* --- get, list, delete -------------------------------------------------------- */

static int find_type(struct kube *k, const char *word, const struct kube_type **t)
{
	int rc = kube_find_type(k, word, t);

	if (rc == E_NOTFOUND)
		return error(E_USAGE, "kube: the API serves no kind or resource \"%s\"", word);
	return rc;
}

static int run_get(struct kube *k, const struct opts *o, char **argv, int argc)
{
	const struct kube_type *t;
	struct kube_object obj = { 0 };
	struct buf out = BUF_INIT(64u << 20);
	int rc;

	if (argc != 2)
		return bad_usage("get: TYPE NAME expected", NULL);
	rc = find_type(k, argv[0], &t);
	if (rc)
		return rc == E_USAGE ? 1 : exit_code(rc);
	obj.api_version = t->api_version;
	obj.kind = t->kind;
	obj.namespace = o->ns;
	obj.name = argv[1];
	rc = kube_get(k, &obj, &out);
	if (rc == E_NOTFOUND)
		error(rc, "get %s %s: not found", t->kind, argv[1]);
	if (!rc)
		printf("%s\n", out.data);
	buf_free(&out);
	return exit_code(rc);
}

static int print_item(void *ctx, const struct node *item)
{
	const char *ns = node_str(node_path(item, "metadata.namespace"));
	const char *name = node_str(node_path(item, "metadata.name"));
	const char *rv = node_str(node_path(item, "metadata.resourceVersion"));

	(void)ctx;
	printf("%s%s%s rv=%s\n", ns ? ns : "", ns ? "/" : "", name ? name : "?", rv ? rv : "");
	return 0;
}

static int run_list(struct kube *k, const struct opts *o, int argc, char **argv)
{
	const struct kube_type *t;
	int rc;

	if (argc != 1)
		return bad_usage("list: TYPE expected", NULL);
	rc = find_type(k, argv[0], &t);
	if (rc)
		return rc == E_USAGE ? 1 : exit_code(rc);
	return exit_code(kube_list(k, t->api_version, t->kind, o->ns, o->selector,
				   print_item, NULL));
}

static int run_delete(struct kube *k, const struct opts *o, int argc, char **argv)
{
	struct objects s = { 0 };
	struct kube_object one = { 0 };
	struct kube_result *res = NULL;
	const struct kube_type *t;
	int rc = 0;

	if (o->nfiles && argc == 0) {
		rc = objects_load(&s, o, 0);
	} else if (!o->nfiles && argc == 2) {
		rc = find_type(k, argv[0], &t);
		if (rc) {
			rc = rc == E_USAGE ? E_API : rc;
			goto out;
		}
		one.api_version = t->api_version;
		one.kind = t->kind;
		one.namespace = o->ns;
		one.name = argv[1];
		s.v = mem_alloc(1, sizeof(one));
		if (!s.v)
			rc = E_NOMEM;
		else
			s.v[s.n++] = one;
	} else {
		return bad_usage("delete: TYPE NAME or -f FILE expected", NULL);
	}
	if (!rc && s.n) {
		res = mem_alloc(s.n, sizeof(*res));
		if (!res)
			rc = E_NOMEM;
	}
	if (rc || !s.n)
		goto out;
	/* the reverse of apply's order, as pruning does */
	for (size_t i = 0; i < s.n / 2; i++) {
		struct kube_object tmp = s.v[i];

		s.v[i] = s.v[s.n - 1 - i];
		s.v[s.n - 1 - i] = tmp;
	}
	rc = kube_delete_batch(k, s.v, s.n, o->k.parallel, res);
	for (size_t i = 0; i < s.n; i++) {
		print_ref(k, &s.v[i], res[i].err ? (res[i].err == E_UNAVAILABLE ? "unknown" :
			  "failed") : res[i].gone ? "already gone" : "deleted");
		kube_result_free(&res[i]);
	}
out:
	mem_free(res);
	objects_free(&s);
	return exit_code(rc);
}

int cmd_kube(int argc, char **argv)
{
	struct opts o = { 0 };
	struct kube *k;
	const char *sub;
	char *rest[8];
	int nrest = 0, i = 1, rc;

	/* options may come before or after the subcommand */
	sub = NULL;
	for (; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--kubeconfig") == 0 || strcmp(a, "--parallel") == 0 ||
		    strcmp(a, "-f") == 0 || strcmp(a, "-n") == 0 || strcmp(a, "-l") == 0) {
			if (!v)
				return bad_usage("missing value for", a);
			i++;
			if (strcmp(a, "--kubeconfig") == 0) {
				o.k.kubeconfig = v;
			} else if (strcmp(a, "--parallel") == 0) {
				if (parse_uint(v, 256, &o.k.parallel))
					return bad_usage("--parallel: not a number in 1..256:", v);
			} else if (strcmp(a, "-f") == 0) {
				if (o.nfiles == (int)(sizeof(o.files) / sizeof(o.files[0])))
					return bad_usage("too many files", NULL);
				o.files[o.nfiles++] = v;
			} else if (strcmp(a, "-n") == 0) {
				o.ns = v;
			} else {
				o.selector = v;
			}
		} else if (strcmp(a, "--json") == 0) {
			o.json = 1;
		} else if (a[0] == '-') {
			return bad_usage("unknown option", a);
		} else if (!sub) {
			sub = a;
		} else if (nrest < (int)(sizeof(rest) / sizeof(rest[0]))) {
			rest[nrest++] = argv[i];
		} else {
			return bad_usage("too many arguments", NULL);
		}
	}
	if (!sub)
		return bad_usage("a command is required", NULL);
	if (strcmp(sub, "discover") && strcmp(sub, "apply") && strcmp(sub, "get") &&
	    strcmp(sub, "list") && strcmp(sub, "delete"))
		return bad_usage("unknown command", sub);
	if ((strcmp(sub, "discover") == 0 || strcmp(sub, "apply") == 0) && nrest)
		return bad_usage("unexpected argument", rest[0]);
	rc = kube_open(&k, &o.k);
	if (rc)
		return 1;
	if (strcmp(sub, "discover") == 0)
		rc = run_discover(k, &o);
	else if (strcmp(sub, "apply") == 0)
		rc = run_apply(k, &o);
	else if (strcmp(sub, "get") == 0)
		rc = run_get(k, &o, rest, nrest);
	else if (strcmp(sub, "list") == 0)
		rc = run_list(k, &o, nrest, rest);
	else
		rc = run_delete(k, &o, nrest, rest);
	kube_close(k);
	return rc;
}
