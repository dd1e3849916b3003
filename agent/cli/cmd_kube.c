/*
 * cmd_kube — `outpost kube`: a tiny kubectl over platform/kube.h, for
 * operators and for the tests: discovery, server-side apply of manifest
 * files, get, list and delete. Apply and delete -f go through the agent's
 * own engine (agent/gateway/apply.h: waves, parallel apply, CRD waits),
 * without the inventory labels, so it shows exactly what a gateway sends
 * and sees, and its benchmark measures the gateway's path.
 *
 * Exit status: 0 done, 1 refused or failed, 2 bad usage, 3 the API could
 * not be reached or answered 5xx: the outcome is unknown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "buf.h"
#include "cmd.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "kube.h"
#include "manifest.h"
#include "mem.h"
#include "opts.h"

#define MANIFEST_MAX (64UL << 20)
#define EXIT_UNKNOWN 3

const char cmd_kube_usage[] =
	"[--kubeconfig FILE] [--parallel N] COMMAND ...\n"
	"  discover [--json]                 the API's kinds (--json: the cache blob)\n"
	"  apply -f FILE [-f FILE ...]       server-side apply (fieldManager outpost,\n"
	"                                    force), in the agent's waves\n"
	"  get TYPE NAME [-n NS]             one object as JSON\n"
	"  list TYPE [-n NS] [-l SELECTOR]   NAMESPACE/NAME and resourceVersion\n"
	"  delete TYPE NAME [-n NS]          delete (propagation Background)\n"
	"  delete -f FILE [-f FILE ...]      delete what the files name\n"
	"TYPE is a kind or resource, any case, optionally KIND.GROUP.\n"
	"The kubeconfig defaults to " CONFIG_KUBECONFIG ", parallel to the\n"
	"build's API connections. Exit status: 0 done, 1 refused or failed,\n"
	"2 usage, 3 API unreachable or 5xx (outcome unknown).";

struct kube_args {
	struct kube_opts k;
	const char *files[64];
	size_t nfiles;
	const char *ns;
	const char *selector;
	int json;
};

static int bad_usage(const char *why, const char *arg)
{
	return cmd_bad_usage("kube", why, arg);
}

static int exit_code(int rc)
{
	return rc == 0 ? 0 : rc == E_UNAVAILABLE ? EXIT_UNKNOWN : 1;
}

/* --- discover ------------------------------------------------------------------ */

static int run_discover(struct kube *k, const struct kube_args *o)
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

/* --- files: the agent's own engine (agent/gateway/apply.h) -------------------- */

struct files {
	struct buf data[64];
	struct release_file f[64];
	int n;
};

static void files_free(struct files *fs)
{
	for (int i = 0; i < fs->n; i++)
		buf_free(&fs->data[i]);
}

/*
 * The objects of the files as the agent builds a release: parsed, ordered
 * in waves, namespaced objects without a namespace in the kubeconfig's
 * namespace; no inventory labels (app NULL).
 */
static int files_load(struct kube *k, const struct kube_args *o, struct files *fs,
		      struct release_set **set)
{
	int rc = 0;

	for (size_t i = 0; i < o->nfiles && !rc; i++) {
		buf_init(&fs->data[i], MANIFEST_MAX);
		fs->n++;
		rc = file_read(o->files[i], MANIFEST_MAX, &fs->data[i]);
		fs->f[i] = (struct release_file){ o->files[i], fs->data[i].data, fs->data[i].len };
	}
	if (!rc)
		rc = release_set_build(k, NULL, 0, kube_default_namespace(k), fs->f,
				       (size_t)fs->n, set);
	return rc;
}

static void to_object(const struct release_obj *r, struct kube_object *o)
{
	memset(o, 0, sizeof(*o));
	o->api_version = r->api_version;
	o->kind = r->kind;
	o->namespace = *r->ns ? r->ns : NULL;
	o->name = r->name;
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

/* The API went away before the objects were even ordered (discovery):
 * every object of the files is of unknown outcome, none failed. */
static void print_unknown(struct kube *k, const struct files *fs)
{
	for (int i = 0; i < fs->n; i++) {
		struct manifest *m;

		if (manifest_load(fs->f[i].name, fs->f[i].data, fs->f[i].len, NULL, &m))
			continue;
		for (size_t j = 0; j < m->n; j++) {
			struct kube_object ko = { 0 };

			ko.api_version = m->objs[j].api_version;
			ko.kind = m->objs[j].kind;
			ko.namespace = m->objs[j].namespace;
			ko.name = m->objs[j].name;
			print_ref(k, &ko, "unknown");
		}
		manifest_free(m);
	}
}

/* Apply as the agent does (apply_release): waves in order, each in parallel,
 * CRDs waited for; then one line per object, in the order applied. */
static int run_apply(struct kube *k, const struct kube_args *o)
{
	struct release_set *set = NULL;
	struct files fs = { 0 };
	size_t changed;
	int rc;

	if (!o->nfiles)
		return bad_usage("apply: -f FILE is required", NULL);
	rc = files_load(k, o, &fs, &set);
	if (rc == E_UNAVAILABLE)
		print_unknown(k, &fs);
	if (!rc)
		rc = apply_release(k, set, &changed);
	for (size_t i = 0; set && i < set->n; i++) {
		const struct release_obj *r = &set->objs[i];
		struct kube_object ko;
		char line[160];

		to_object(r, &ko);
		if (r->applied)
			snprintf(line, sizeof(line), "%s rv=%s", r->created ? "created" : "applied",
				 r->rv);
		else if (r->err == E_UNAVAILABLE || (!r->err && rc == E_UNAVAILABLE))
			snprintf(line, sizeof(line), "unknown");
		else
			snprintf(line, sizeof(line), r->err ? "failed" :
				 "not applied: an earlier wave failed");
		print_ref(k, &ko, line);
	}
	release_set_free(set);
	files_free(&fs);
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

static int run_get(struct kube *k, const struct kube_args *o, const char **argv, int argc)
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

static int run_list(struct kube *k, const struct kube_args *o, int argc, const char **argv)
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

static int run_delete(struct kube *k, const struct kube_args *o, int argc, const char **argv)
{
	struct release_set *set = NULL;
	struct kube_object *v = NULL;
	struct kube_result *res = NULL;
	const struct kube_type *t;
	struct files fs = { 0 };
	size_t n = 0;
	int rc = 0;

	if (o->nfiles && argc == 0) {
		rc = files_load(k, o, &fs, &set);
		n = rc ? 0 : set->n;
		v = mem_zalloc(n ? n : 1, sizeof(*v));
		/* the reverse of apply's wave order, as pruning does */
		for (size_t i = 0; v && i < n; i++)
			to_object(&set->objs[n - 1 - i], &v[i]);
	} else if (!o->nfiles && argc == 2) {
		rc = find_type(k, argv[0], &t);
		if (rc) {
			rc = rc == E_USAGE ? E_API : rc;
			goto out;
		}
		v = mem_zalloc(1, sizeof(*v));
		if (v) {
			v->api_version = t->api_version;
			v->kind = t->kind;
			v->namespace = o->ns;
			v->name = argv[1];
			n = 1;
		}
	} else {
		return bad_usage("delete: TYPE NAME or -f FILE expected", NULL);
	}
	if (!rc && n)
		res = mem_alloc(n, sizeof(*res));
	if (!rc && (!v || (n && !res)))
		rc = error(E_NOMEM, "kube delete: %s", err_str(E_NOMEM));
	if (rc || !n)
		goto out;
	rc = kube_delete_batch(k, v, n, o->k.parallel, res);
	for (size_t i = 0; i < n; i++) {
		print_ref(k, &v[i], res[i].err ? (res[i].err == E_UNAVAILABLE ? "unknown" :
			  "failed") : res[i].gone ? "already gone" : "deleted");
		kube_result_free(&res[i]);
	}
out:
	mem_free(res);
	mem_free(v);
	release_set_free(set);
	files_free(&fs);
	return exit_code(rc);
}

int cmd_kube(int argc, char **argv)
{
	struct kube_args o = { 0 };
	struct kube *k;
	const char *sub, *args[9];
	long long parallel = 0;
	int nrest, rc;
	/* options may come before or after the subcommand */
	const struct opt table[] = {
		OPT_STRING("kubeconfig", 0, &o.k.kubeconfig, "FILE", "the cluster and credentials"),
		OPT_INT("parallel", 0, &parallel, 1, 256, "N", "API requests at a time"),
		OPT_LIST(NULL, 'f', o.files, &o.nfiles, "FILE", "a manifest file (apply, delete)"),
		OPT_STRING(NULL, 'n', &o.ns, "NS", "the namespace"),
		OPT_STRING(NULL, 'l', &o.selector, "SELECTOR", "a label selector (list)"),
		OPT_FLAG("json", 0, &o.json, "the discovery cache blob (discover)"),
		{ 0 }
	};
	struct opts p = OPTS_INIT("kube", NULL, table, args, 9);

	if (opts_parse(&p, argc, argv))
		return 2;
	if (!p.nargs)
		return bad_usage("a command is required", NULL);
	sub = args[0];
	nrest = p.nargs - 1;
	o.k.parallel = (unsigned)parallel;
	if (strcmp(sub, "discover") && strcmp(sub, "apply") && strcmp(sub, "get") &&
	    strcmp(sub, "list") && strcmp(sub, "delete"))
		return bad_usage("unknown command", sub);
	if ((strcmp(sub, "discover") == 0 || strcmp(sub, "apply") == 0) && nrest)
		return bad_usage("unexpected argument", args[1]);
	rc = kube_open(&k, &o.k);
	if (rc)
		return 1;
	if (strcmp(sub, "discover") == 0)
		rc = run_discover(k, &o);
	else if (strcmp(sub, "apply") == 0)
		rc = run_apply(k, &o);
	else if (strcmp(sub, "get") == 0)
		rc = run_get(k, &o, args + 1, nrest);
	else if (strcmp(sub, "list") == 0)
		rc = run_list(k, &o, nrest, args + 1);
	else
		rc = run_delete(k, &o, nrest, args + 1);
	kube_close(k);
	return rc;
}
