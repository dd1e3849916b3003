/* config — parse and check config.yaml (docs/config.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "log.h"
#include "manifest.h"
#include "mem.h"
#include "meta.h"

#define CFG_ROOT_DEFAULT "/etc/outpost/root.yaml"
#define LABEL_MAX 63
#define FIELD_MANAGER_MAX 128   /* what the Kubernetes API accepts */

static const char *path_override;

void config_set_path(const char *path)
{
	path_override = path;
}

const char *config_path(void)
{
	return path_override ? path_override : CONFIG_CONFIG_PATH;
}

/*
 * One load. Helpers log each problem through doc_error() and count it
 * here, then return a usable default, so the parse goes on and one run
 * names every problem.
 */
struct parser {
	struct doc *d;
	const struct config_env *env;
	struct config *c;
	unsigned errors;
	int nomem;
};

/* Count a problem already logged (E_NOMEM stops the load instead). */
static int bad(struct parser *p, int rc)
{
	if (rc == E_NOMEM)
		p->nomem = 1;
	else if (rc < 0)
		p->errors++;
	return rc;
}

static int fail(struct parser *p, const struct node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Log "file:line:col: why" at `at` and count it. */
static int fail(struct parser *p, const struct node *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bad(p, doc_error(p->d, at, E_CONFIG, "%s", msg));
}

static void warn_at(const struct parser *p, const struct node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warn_at(const struct parser *p, const struct node *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("%s:%u:%u: %s", doc_name(p->d), (unsigned)at->line, (unsigned)at->col, msg);
}

/* The key node of key in map (for positions), or NULL. */
static const struct node *key_node(const struct node *map, const char *key)
{
	if (!map || map->type != NODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->len; i++)
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return map->pairs[i].key;
	return NULL;
}

/* A copy of a..b in the document's arena (lives until config_free()). */
static const char *arena_str(struct parser *p, const char *s, size_t len)
{
	struct node *n = doc_new_str(p->d, s, len);

	if (!n) {
		bad(p, E_NOMEM);
		return NULL;
	}
	return n->str;
}

/*
 * The mapping under key in map: NULL when absent or null, or when it is
 * not a mapping (logged). Unknown keys inside are logged and counted, and
 * the mapping is still returned so that its known keys are checked too.
 */
static const struct node *section(struct parser *p, const struct node *map, const char *key,
				  const char *const keys[])
{
	const struct node *n = node_map_get(map, key);

	if (!n || node_is_null(n))
		return NULL;
	if (n->type != NODE_MAP) {
		fail(p, n, "'%s' must be a mapping, found a %s", key, node_type_name(n));
		return NULL;
	}
	bad(p, node_check_keys(p->d, n, keys));
	return n;
}

/*
 * A key of a feature this build does not have is refused, by name: a
 * setting that silently did nothing would be worse. 1 when refused.
 */
static int compiled_out(struct parser *p, const struct node *map, const char *key,
			int enabled, const char *what, const char *symbol)
{
	const struct node *k = key_node(map, key);

	if (enabled || !k)
		return 0;
	fail(p, k, "'%s': this build has no %s support (%s)", key, what, symbol);
	return 1;
}

/* An absolute path (printable ASCII), or def when absent or bad. */
static const char *path_value(struct parser *p, const struct node *map, const char *key,
			      const char *def)
{
	const char *s;

	if (bad(p, meta_str(p->d, map, key, CFG_PATH_MAX, 0, &s)) || !s)
		return def;
	if (s[0] != '/') {
		fail(p, node_map_get(map, key),
		     "'%s' must be an absolute path (starting with /), not \"%.64s\"", key, s);
		return def;
	}
	return s;
}

/* A DNS label, or def when absent (NULL when bad). */
static const char *label_value(struct parser *p, const struct node *map, const char *key,
			       const char *def)
{
	const struct node *n = node_map_get(map, key);
	const char *s;

	if (!n || node_is_null(n))
		return def;
	return bad(p, meta_app(p->d, map, key, &s)) ? NULL : s;
}

/* An integer in [min, max], or def when absent or bad. */
static unsigned uint_value(struct parser *p, const struct node *map, const char *key,
			   int64_t min, int64_t max, unsigned def)
{
	int64_t v = def;

	return bad(p, meta_int(p->d, map, key, min, max, 0, &v)) ? def : (unsigned)v;
}

/* 127.0.0.0/8 written as a dotted quad, localhost, or [::1]. */
static int is_loopback(const char *host, size_t n)
{
	if ((n == 9 && memcmp(host, "localhost", 9) == 0) || (n == 5 && memcmp(host, "[::1]", 5) == 0))
		return 1;
	if (n < 5 || memcmp(host, "127.", 4) != 0)
		return 0;
	for (size_t i = 4; i < n; i++)
		if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9')))
			return 0;
	return 1;
}

/* Why authority a[0..n) is not "host[:port]", or NULL when it is. */
static const char *authority_problem(const char *a, size_t n, size_t *hostlen)
{
	const char *port = NULL;
	size_t h;

	if (memchr(a, '@', n))
		return "must not hold a user name or password (use a client certificate)";
	if (n && a[0] == '[') {
		const char *close = memchr(a, ']', n);

		if (!close)
			return "has an unterminated [IPv6 address]";
		h = (size_t)(close - a) + 1;
		for (size_t i = 1; i + 1 < h; i++)
			if (!strchr("0123456789abcdefABCDEF:.", a[i]))
				return "has a bad IPv6 address";
		if (h < n && a[h] != ':')
			return "has a bad host";
	} else {
		const char *colon = memchr(a, ':', n);

		h = colon ? (size_t)(colon - a) : n;
		for (size_t i = 0; i < h; i++) {
			char c = a[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
				return "has a bad host name";
		}
	}
	if (h == 0 || (a[0] == '[' && h == 2))
		return "has no host";
	if (h < n) {
		unsigned long v = 0;
		size_t digits = n - h - 1;

		port = a + h + 1;
		if (digits == 0 || digits > 5)
			return "has a bad port";
		for (size_t i = 0; i < digits; i++) {
			if (port[i] < '0' || port[i] > '9')
				return "has a bad port";
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (v == 0 || v > 65535)
			return "has a bad port";
	}
	*hostlen = h;
	return NULL;
}

/*
 * An http(s) URL, bounded, with no spaces (meta_str already refuses control
 * characters) and no credentials; a base URL has no query or fragment.
 * Plain http is accepted with a warning unless the host is loopback: what
 * matters is signed, but http shows the fleet's traffic to anyone on path.
 * NULL when absent or bad.
 */
static const char *url_value(struct parser *p, const struct node *map, const char *key,
			     int base)
{
	const struct node *n = node_map_get(map, key);
	const char *s, *auth, *why = NULL;
	size_t alen, hostlen = 0;
	int tls;

	if (bad(p, meta_str(p->d, map, key, CFG_URL_MAX, 0, &s)) || !s)
		return NULL;
	tls = strncmp(s, "https://", 8) == 0;
	if (!tls && strncmp(s, "http://", 7) != 0) {
		fail(p, n, "'%s' must be an https:// or http:// URL, not \"%.64s\"", key, s);
		return NULL;
	}
	auth = s + (tls ? 8 : 7);
	alen = strcspn(auth, "/?#");
	if (strchr(s, ' '))
		why = "must not contain spaces";
	else if (base && strpbrk(s, "?#"))
		why = "must not have a query or fragment (it is a base URL)";
	else
		why = authority_problem(auth, alen, &hostlen);
	if (why) {
		fail(p, n, "'%s' %s: \"%.64s\"", key, why, s);
		return NULL;
	}
	if (!tls && !is_loopback(auth, hostlen))
		warn_at(p, n, "'%s' uses plain http: content is still verified by its "
			"signatures, but anyone on the path sees what this gateway fetches "
			"and can hold back updates; prefer https", key);
	return s;
}

/* device.id: letters, digits, '.', '_', ':', '-', starting with a letter or digit. */
static int valid_device_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CFG_DEVICE_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("._:-", c)))
			return 0;
	}
	return 1;
}

/* Label keys and values: at most 63 of [A-Za-z0-9._-] (keys may have '/'), alphanumeric at both ends. */
static int valid_label(const char *s, int key)
{
	size_t n = strlen(s);

	if (n == 0)
		return !key;
	if (n > LABEL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && ((i == 0 || i == n - 1) || !strchr(key ? "._-/" : "._-", c)))
			return 0;
	}
	return 1;
}

/*
 * The default device id: machine-id(5), 32 lowercase hex digits. Read at
 * load, so that a missing one is found by check-config, not at first poll.
 */
static const char *machine_id(struct parser *p, const struct node *at)
{
	const char *path = p->env->machine_id_path ? p->env->machine_id_path : CFG_MACHINE_ID;
	char id[64];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f) {
		fail(p, at, "no 'device.id', and %s cannot be read (%s): set device.id",
		     path, strerror(errno));
		return NULL;
	}
	n = fread(id, 1, sizeof(id) - 1, f);
	fclose(f);
	id[n] = '\0';
	while (n && (id[n - 1] == '\n' || id[n - 1] == '\r'))
		id[--n] = '\0';
	if (n != 32 || strspn(id, "0123456789abcdef") != 32) {
		fail(p, at, "no 'device.id', and %s does not hold a machine id "
		     "(32 hex digits): set device.id", path);
		return NULL;
	}
	return arena_str(p, id, n);
}

static void parse_device(struct parser *p, const struct node *root)
{
	static const char *const keys[] = { "id", "labels", NULL };
	const struct node *dev = section(p, root, "device", keys), *labels;
	struct config *c = p->c;
	const char *id = NULL;

	if (dev && !bad(p, meta_str(p->d, dev, "id", CFG_DEVICE_ID_MAX, 0, &id)) && id &&
	    !valid_device_id(id)) {
		fail(p, node_map_get(dev, "id"), "'id' must be 1 to %d letters, digits, '.', "
		     "'_', ':' or '-', starting with a letter or digit", CFG_DEVICE_ID_MAX);
		id = NULL;
	}
	c->device.id = id;
	if (!dev || !node_map_get(dev, "id") || node_is_null(node_map_get(dev, "id")))
		c->device.id = machine_id(p, dev ? dev : root);

	labels = dev ? node_map_get(dev, "labels") : NULL;
	if (!labels || node_is_null(labels))
		return;
	if (labels->type != NODE_MAP) {
		fail(p, labels, "'labels' must be a mapping of names to values");
		return;
	}
	if (labels->len > CFG_LABELS_MAX) {
		fail(p, labels, "'labels' has %zu entries, at most %d are allowed",
		     labels->len, CFG_LABELS_MAX);
		return;
	}
	for (size_t i = 0; i < labels->len; i++) {
		const struct node *k = labels->pairs[i].key, *v = labels->pairs[i].value;
		const char *val = meta_text(v);

		if (!valid_label(k->str, 1)) {
			fail(p, k, "label name \"%.64s\" must be 1 to %d letters, digits, '.', '_', "
			     "'-' or '/', alphanumeric at both ends", k->str, LABEL_MAX);
			continue;
		}
		if (!val || !valid_label(val, 0)) {
			fail(p, v, "label '%s' must have a value of at most %d letters, digits, "
			     "'.', '_' or '-', alphanumeric at both ends", k->str, LABEL_MAX);
			continue;
		}
		c->device.labels[c->device.nlabels].key = k->str;
		c->device.labels[c->device.nlabels++].value = val;
	}
}

/* A kind name as the API writes them: 1 to 63 ASCII letters and digits. */
static int valid_kind(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (i && s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/*
 * apps[].namespaces / apps[].cluster_kinds: a list of at most CFG_SCOPE_MAX
 * entries, each CFG_ANY or valid by ok(), appended to out[*n].
 */
static void parse_scope(struct parser *p, const struct node *app, const char *key,
			int (*ok)(const char *), const char *what, const char **out, size_t *n)
{
	const struct node *list = node_map_get(app, key);

	if (!list || node_is_null(list))
		return;
	if (list->type != NODE_SEQ || list->len > CFG_SCOPE_MAX) {
		fail(p, list, "'%s' must be a list of at most %d %s", key, CFG_SCOPE_MAX, what);
		return;
	}
	for (size_t i = 0; i < list->len; i++) {
		const char *v = meta_text(list->items[i]);
		int dup = 0;

		if (!v || (strcmp(v, CFG_ANY) != 0 && !ok(v))) {
			fail(p, list->items[i], "'%s' entries must be %s or \"" CFG_ANY "\" (all)",
			     key, what);
			continue;
		}
		for (size_t j = 0; j < *n; j++)
			dup |= strcmp(out[j], v) == 0;
		if (!dup)
			out[(*n)++] = v;
	}
}

/* apps[].depends_on: a list of app names, checked against the apps later. */
static void parse_depends(struct parser *p, struct config_app *app, const struct node *list)
{
	if (!list || node_is_null(list))
		return;
	if (list->type != NODE_SEQ || list->len > CFG_DEPENDS_MAX) {
		fail(p, list, "'depends_on' must list at most %d app names", CFG_DEPENDS_MAX);
		return;
	}
	for (size_t i = 0; i < list->len; i++) {
		const char *name = meta_text(list->items[i]);

		if (!name || !*name) {
			fail(p, list->items[i], "'depends_on' entries must be app names");
			continue;
		}
		app->depends_on[app->ndepends++] = name;
	}
}

/*
 * Every depends_on names another configured app, and following them never
 * comes back to where it started: each app on a cycle is named with the
 * cycle ("a -> b -> a"), so that check-config says what to untie. path
 * gets the apps after from, *len how many.
 */
static int depends_path(const struct config *c, size_t from, size_t at, size_t path[],
			size_t *len)
{
	const struct config_app *app = &c->apps[at];

	if (*len >= c->napps)
		return 0;
	for (size_t i = 0; i < app->ndepends; i++) {
		const struct config_app *d = config_app_find(c, app->depends_on[i]);
		size_t j = d ? (size_t)(d - c->apps) : c->napps;

		if (j == c->napps || j == at)
			continue;
		path[(*len)++] = j;
		if (j == from || depends_path(c, from, j, path, len))
			return 1;
		(*len)--;
	}
	return 0;
}

static void check_depends(struct parser *p, const struct node *apps)
{
	const struct config *c = p->c;

	for (size_t i = 0; i < c->napps; i++) {
		const struct config_app *app = &c->apps[i];
		const struct node *at = NULL;
		size_t path[CFG_APPS_MAX], len = 0;
		struct buf cycle = BUF_INIT(CFG_APPS_MAX * 70);

		for (size_t k = 0; k < apps->len && !at; k++) {
			const char *n = meta_text(node_map_get(apps->items[k], "name"));

			if (n && strcmp(n, app->name) == 0)
				at = node_map_get(apps->items[k], "depends_on");
		}
		for (size_t j = 0; j < app->ndepends; j++) {
			const struct config_app *d = config_app_find(c, app->depends_on[j]);

			if (!d || strcmp(d->name, app->depends_on[j]) != 0)
				fail(p, at, "app '%s' depends on '%s', which is not an app of this "
				     "configuration", app->name, app->depends_on[j]);
			else if (d == app)
				fail(p, at, "app '%s' depends on itself", app->name);
		}
		if (!depends_path(c, i, i, path, &len))
			continue;
		buf_addstr(&cycle, app->name);
		for (size_t k = 0; k < len; k++)
			buf_addf(&cycle, " -> %s", c->apps[path[k]].name);
		if (buf_error(&cycle))
			bad(p, E_NOMEM);
		else
			fail(p, at, "app '%s' is on a cycle of depends_on (%s): none of them "
			     "could ever be applied", app->name, cycle.data);
		buf_free(&cycle);
	}
}

static void parse_apps(struct parser *p, const struct node *root)
{
	static const char *const keys[] = {
		"name", "channel", "namespace", "on_first_install_failure", "namespaces",
		"cluster_kinds", "service_account", "depends_on", NULL
	};
	const struct node *apps = node_map_get(root, "apps");
	struct config *c = p->c;

	if (!apps || node_is_null(apps)) {
		fail(p, root, "'apps' is missing: list the apps this gateway runs");
		return;
	}
	if (apps->type != NODE_SEQ || apps->len == 0) {
		fail(p, apps, "'apps' must be a non-empty list of apps");
		return;
	}
	if (apps->len > CFG_APPS_MAX) {
		fail(p, apps, "'apps' has %zu entries, at most %d are allowed", apps->len,
		     CFG_APPS_MAX);
		return;
	}
	for (size_t i = 0; i < apps->len; i++) {
		const struct node *a = apps->items[i];
		struct config_app *app = &c->apps[c->napps];
		const char *mode = NULL;
		int dup = 0;

		memset(app, 0, sizeof(*app));
		if (a->type != NODE_MAP) {
			fail(p, a, "an app must be a mapping with at least 'name', found a %s",
			     node_type_name(a));
			continue;
		}
		bad(p, node_check_keys(p->d, a, keys));
		if (bad(p, meta_app(p->d, a, "name", &app->name)))
			continue;
		app->channel = label_value(p, a, "channel", app->name);
		app->namespace = label_value(p, a, "namespace", "default");
		if (app->namespace)
			app->namespaces[app->nnamespaces++] = app->namespace;
		if (!compiled_out(p, a, "service_account", IS_ENABLED(CONFIG_IMPERSONATION),
				  "impersonation", "CONFIG_IMPERSONATION"))
			app->service_account = label_value(p, a, "service_account", NULL);
		parse_scope(p, a, "namespaces", manifest_valid_label,
			    "namespaces (DNS labels)", app->namespaces, &app->nnamespaces);
		parse_scope(p, a, "cluster_kinds", valid_kind,
			    "kinds (like ClusterRole)", app->cluster_kinds, &app->ncluster_kinds);
		if (!bad(p, meta_str(p->d, a, "on_first_install_failure", 8, 0, &mode)) && mode) {
			if (strcmp(mode, "prune") == 0)
				app->on_first_install_failure = CFG_FIRST_FAILURE_PRUNE;
			else if (strcmp(mode, "keep") == 0)
				app->on_first_install_failure = CFG_FIRST_FAILURE_KEEP;
			else
				fail(p, node_map_get(a, "on_first_install_failure"),
				     "'on_first_install_failure' must be prune or keep");
		}
		for (size_t j = 0; j < c->napps; j++) {
			if (strcmp(c->apps[j].name, app->name) == 0)
				dup = fail(p, node_map_get(a, "name"), "app '%s' is listed twice",
					   app->name);
			else if (app->channel && strcmp(c->apps[j].channel, app->channel) == 0)
				dup = fail(p, node_map_get(a, node_map_get(a, "channel") ? "channel" : "name"),
					   "channel '%s' is used by app '%s' already", app->channel,
					   c->apps[j].name);
		}
		if (!compiled_out(p, a, "depends_on", IS_ENABLED(CONFIG_DEPENDS_ON), "depends_on",
				  "CONFIG_DEPENDS_ON"))
			parse_depends(p, app, node_map_get(a, "depends_on"));
		if (!dup && app->channel && app->namespace)
			c->napps++;
	}
	check_depends(p, apps);
}

static void parse_poll(struct parser *p, const struct node *root)
{
	static const char *const keys[] = {
		"min_interval", "max_interval", "default_interval", NULL
	};
	const struct node *poll = section(p, root, "poll", keys);
	int64_t mn = -1, mx = -1, df = -1;
	const struct node *nmn, *ndf;
	int ok = 1;

	if (poll) {
		ok &= !bad(p, meta_int(p->d, poll, "min_interval", CFG_INTERVAL_MIN,
				       CFG_INTERVAL_MAX, 0, &mn));
		ok &= !bad(p, meta_int(p->d, poll, "max_interval", CFG_INTERVAL_MIN,
				       CFG_INTERVAL_MAX, 0, &mx));
		ok &= !bad(p, meta_int(p->d, poll, "default_interval", CFG_INTERVAL_MIN,
				       CFG_INTERVAL_MAX, 0, &df));
	}
	nmn = node_map_get(poll, "min_interval");
	ndf = node_map_get(poll, "default_interval");
	if (!ok)
		mn = mx = df = -1;
	if (mn >= 0 && mx >= 0 && mn > mx) {
		fail(p, nmn, "'min_interval' (%lld) is greater than 'max_interval' (%lld)",
		     (long long)mn, (long long)mx);
		mx = mn;
	}
	/* What is not given fits around what is. */
	if (df < 0) {
		df = CONFIG_POLL_INTERVAL;
		if (mn >= 0 && df < mn)
			df = mn;
		if (mx >= 0 && df > mx)
			df = mx;
	}
	if (mn < 0)
		mn = df < 60 ? df : 60;
	if (mx < 0)
		mx = df > 3600 ? df : 3600;
	if (mn > df)
		fail(p, nmn, "'min_interval' (%lld) is greater than 'default_interval' (%lld)",
		     (long long)mn, (long long)df);
	else if (df > mx)
		fail(p, ndf, "'default_interval' (%lld) is greater than 'max_interval' (%lld)",
		     (long long)df, (long long)mx);
	p->c->poll.min_interval = (unsigned)mn;
	p->c->poll.max_interval = (unsigned)mx;
	p->c->poll.default_interval = (unsigned)df;
}

static void parse_tls(struct parser *p, const struct node *root)
{
	static const char *const keys[] = {
		"ca", "client_cert", "client_key", "insecure_skip_verify", NULL
	};
	const struct node *tls = section(p, root, "tls", keys), *n;
	struct config *c = p->c;
	int on = 0;

	c->tls.ca = CFG_CA_DEFAULT;
	if (!tls)
		return;
	n = node_map_get(tls, "ca");
	if (n && n->type == NODE_SCALAR && strncmp(n->str, "-----BEGIN", 10) == 0) {
		/* Inline PEM: lines of printable text. */
		const char *s = meta_text(n);
		size_t bad_at = s ? strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					      "0123456789+/=- \t\r\n") : 0;

		if (!s || s[bad_at] || n->len > CFG_PEM_MAX)
			fail(p, n, "'ca' inline PEM must be at most %d bytes of base64 text",
			     CFG_PEM_MAX);
		else if (!strstr(s, "-----BEGIN CERTIFICATE-----") ||
			 !strstr(s, "-----END CERTIFICATE-----"))
			fail(p, n, "'ca' inline PEM holds no complete CERTIFICATE");
		c->tls.ca = NULL;
		c->tls.ca_pem = s;
		c->tls.ca_pem_len = n->len;
	} else {
		c->tls.ca = path_value(p, tls, "ca", CFG_CA_DEFAULT);
	}

	if (!compiled_out(p, tls, "client_cert", IS_ENABLED(CONFIG_TLS_CLIENT_CERT),
			  "TLS client certificate", "CONFIG_TLS_CLIENT_CERT"))
		c->tls.client_cert = path_value(p, tls, "client_cert", NULL);
	if (!compiled_out(p, tls, "client_key", IS_ENABLED(CONFIG_TLS_CLIENT_CERT),
			  "TLS client certificate", "CONFIG_TLS_CLIENT_CERT"))
		c->tls.client_key = path_value(p, tls, "client_key", NULL);
	if (IS_ENABLED(CONFIG_TLS_CLIENT_CERT) &&
	    node_is_null(node_map_get(tls, "client_cert")) !=
	    node_is_null(node_map_get(tls, "client_key"))) {
		int cert = !node_is_null(node_map_get(tls, "client_cert"));

		fail(p, node_map_get(tls, cert ? "client_cert" : "client_key"),
		     "'%s' needs '%s' too", cert ? "client_cert" : "client_key",
		     cert ? "client_key" : "client_cert");
	}

	n = node_map_get(tls, "insecure_skip_verify");
	if (n && node_bool(n, &on)) {
		fail(p, n, "'insecure_skip_verify' must be true or false");
	} else if (on && !p->env->allow_insecure) {
		fail(p, n, "'insecure_skip_verify' is refused: it exists only for tests "
		     "and needs %s=1 in the environment", CFG_INSECURE_ENV);
	} else if (on) {
		warn_at(p, n, "TLS certificate verification is OFF (%s=1): for tests only",
			CFG_INSECURE_ENV);
		c->tls.insecure_skip_verify = 1;
	}
}

/* health.probe_hosts: a list of host names or addresses, as URLs write them. */
static void parse_probe_hosts(struct parser *p, const struct node *list)
{
	struct config *c = p->c;

	if (!list || node_is_null(list))
		return;
	if (list->type != NODE_SEQ || list->len > CFG_PROBE_HOSTS_MAX) {
		fail(p, list, "'probe_hosts' must list at most %d hosts", CFG_PROBE_HOSTS_MAX);
		return;
	}
	for (size_t i = 0; i < list->len; i++) {
		const char *h = meta_text(list->items[i]);
		size_t n = h ? strlen(h) : 0;

		for (size_t k = 0; k < n; k++)
			if (h[k] < 0x21 || h[k] > 0x7e)
				n = 0;
		if (n && strchr(h, ':')) {      /* only an IPv6 address holds ':' */
			struct in6_addr a6;

			if (inet_pton(AF_INET6, h, &a6) != 1)
				n = 0;
		}
		if (!n || n > 253 || strcspn(h, " /?#@[]") != n) {
			fail(p, list->items[i], "'probe_hosts' entries must be host names or "
			     "addresses (1 to 253 characters, no port, no brackets)");
			continue;
		}
		c->health.probe_hosts[c->health.nprobe_hosts++] = h;
	}
}

/* secrets: the gateway's age identity and extra identity files. */
static void parse_secrets(struct parser *p, const struct node *root)
{
	static const char *const keys[] = { "identity", "identities", NULL };
	struct config *c = p->c;
	const struct node *s, *list;

	if (compiled_out(p, root, "secrets", IS_ENABLED(CONFIG_SECRETS), "encrypted Secrets",
			 "CONFIG_SECRETS"))
		return;
	s = section(p, root, "secrets", keys);
	c->secrets.identity = path_value(p, s, "identity", NULL);
	list = node_map_get(s, "identities");
	if (!list || node_is_null(list))
		return;
	if (list->type != NODE_SEQ || list->len > CFG_IDENTITIES_MAX) {
		fail(p, list, "'identities' must list at most %d identity files", CFG_IDENTITIES_MAX);
		return;
	}
	for (size_t i = 0; i < list->len; i++) {
		const char *f = meta_text(list->items[i]);

		if (!f || f[0] != '/' || strlen(f) > CFG_PATH_MAX) {
			fail(p, list->items[i], "'identities' entries must be absolute paths of "
			     "identity files (as age-keygen writes them)");
			continue;
		}
		c->secrets.identities[c->secrets.nidentities++] = f;
	}
}

static void parse_misc(struct parser *p, const struct node *root)
{
	static const char *const trust_keys[] = { "root", NULL };
	static const char *const kube_keys[] = { "kubeconfig", "parallel", "field_manager", NULL };
	static const char *const drift_keys[] = { "interval", NULL };
	static const char *const health_keys[] = { "default_timeout", "probe_hosts", NULL };
	static const char *const reports_keys[] = { "url", NULL };
	static const char *const limits_keys[] = { "max_bundle_kb", "keep_releases", NULL };
	static const char *const metrics_keys[] = { "path", NULL };
	struct config *c = p->c;
	const struct node *s;
	const char *level = NULL;
	struct buf b = BUF_INIT(CFG_PATH_MAX + 8);

	s = section(p, root, "trust", trust_keys);
	c->trust.root = path_value(p, s, "root", CFG_ROOT_DEFAULT);
	if (buf_addf(&b, "%s.sig", c->trust.root) == 0)
		c->trust.root_sig = arena_str(p, b.data, b.len);
	else
		bad(p, E_NOMEM);
	buf_free(&b);

	s = section(p, root, "kubernetes", kube_keys);
	c->kubernetes.kubeconfig = path_value(p, s, "kubeconfig", CONFIG_KUBECONFIG);
	c->kubernetes.parallel = uint_value(p, s, "parallel", 1, 32, CONFIG_API_CONNECTIONS);
	if (bad(p, meta_str(p->d, s, "field_manager", FIELD_MANAGER_MAX, 0,
			    &c->kubernetes.field_manager)) || !c->kubernetes.field_manager)
		c->kubernetes.field_manager = "outpost";

	c->state_dir = path_value(p, root, "state_dir", CONFIG_STATE_DIR);

	c->drift.interval = IS_ENABLED(CONFIG_DRIFT) ? 600 : 0;
	if (!compiled_out(p, root, "drift", IS_ENABLED(CONFIG_DRIFT), "drift", "CONFIG_DRIFT")) {
		s = section(p, root, "drift", drift_keys);
		c->drift.interval = uint_value(p, s, "interval", 0, CFG_INTERVAL_MAX,
					       c->drift.interval);
		if (c->drift.interval && c->drift.interval < CFG_INTERVAL_MIN) {
			fail(p, node_map_get(s, "interval"),
			     "'interval' must be 0 (off) or from %d to %d", CFG_INTERVAL_MIN,
			     CFG_INTERVAL_MAX);
		}
	}

	s = section(p, root, "health", health_keys);
	c->health.default_timeout = uint_value(p, s, "default_timeout", 1, CFG_INTERVAL_MAX,
					       300);
	parse_probe_hosts(p, node_map_get(s, "probe_hosts"));

	if (!compiled_out(p, root, "reports", IS_ENABLED(CONFIG_REPORTS), "reports",
			  "CONFIG_REPORTS")) {
		s = section(p, root, "reports", reports_keys);
		c->reports.url = url_value(p, s, "url", 0);
	}

	s = section(p, root, "limits", limits_keys);
	c->limits.max_bundle_kb = uint_value(p, s, "max_bundle_kb", 64, CONFIG_MAX_BUNDLE_KB,
					     CONFIG_MAX_BUNDLE_KB);
	c->limits.keep_releases = uint_value(p, s, "keep_releases", 0, CFG_KEEP_RELEASES_MAX,
					     CFG_KEEP_RELEASES_DEFAULT);

	if (!compiled_out(p, root, "metrics", IS_ENABLED(CONFIG_METRICS), "metrics",
			  "CONFIG_METRICS")) {
		s = section(p, root, "metrics", metrics_keys);
		c->metrics.path = path_value(p, s, "path", NULL);
	}
	parse_secrets(p, root);

	if (!compiled_out(p, root, "pause_file", IS_ENABLED(CONFIG_PAUSE), "pause",
			  "CONFIG_PAUSE"))
		c->pause_file = path_value(p, root, "pause_file", NULL);

	c->log_level = LOG_INFO;
	if (!bad(p, meta_str(p->d, root, "log_level", 8, 0, &level)) && level) {
		int l = log_level_parse(level);

		if (l < 0)
			fail(p, node_map_get(root, "log_level"),
			     "'log_level' must be one of error, warn, info, debug");
		else
			c->log_level = l;
	}
}

static void parse_server(struct parser *p, const struct node *root)
{
	const char *s;
	size_t n;
	struct buf b = BUF_INIT(CFG_URL_MAX + 2);

	if (!node_map_get(root, "server") || node_is_null(node_map_get(root, "server"))) {
		fail(p, root, "'server' is missing: the release server's base URL");
		return;
	}
	s = url_value(p, root, "server", 1);
	if (!s)
		return;
	n = strlen(s);
	if (s[n - 1] == '/') {
		p->c->server = s;
		return;
	}
	/* channels/<app>/release.yaml is resolved under it: a base ends in '/'. */
	if (buf_add(&b, s, n) || buf_addch(&b, '/'))
		bad(p, E_NOMEM);
	else
		p->c->server = arena_str(p, b.data, b.len);
	buf_free(&b);
}

int config_parse(const char *name, const char *data, size_t len,
		 const struct config_env *env, struct config *c)
{
	static const char *const keys[] = {
		"server", "device", "trust", "apps", "kubernetes", "state_dir", "poll",
		"drift", "health", "reports", "tls", "limits", "metrics", "secrets", "log_level",
		"pause_file", NULL
	};
	struct config_env real = { NULL, 0 };
	struct doc_limits lim = doc_limits_default;
	struct parser p = { .c = c };
	const struct node *root;
	const char *ins;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!env) {
		ins = getenv(CFG_INSECURE_ENV);
		real.allow_insecure = ins && strcmp(ins, "1") == 0;
		env = &real;
	}
	p.env = env;
	c->errors = 1;
	if (len > CFG_FILE_MAX)
		return error(E_LIMIT, "%s: %zu bytes, more than the %d a configuration may have",
			     name, len, CFG_FILE_MAX);
	lim.max_bytes = CFG_FILE_MAX;
	lim.max_depth = 8;
	lim.max_nodes = 20000;
	lim.max_docs = 1;
	lim.max_scalar = CFG_PEM_MAX + 1;
	rc = doc_load(name, data, len, &lim, &p.d);
	if (rc)
		return rc == E_NOMEM ? rc : E_CONFIG;
	c->doc = p.d;
	c->path = doc_name(p.d);
	if (doc_count(p.d) == 0) {  /* more than one is refused by doc_load() */
		rc = error(E_CONFIG, "%s: empty: expected a mapping", name);
		goto out;
	}
	root = doc_root(p.d, 0);
	if (root->type != NODE_MAP) {
		rc = doc_error(p.d, root, E_CONFIG, "expected a mapping, found a %s",
			       node_type_name(root));
		goto out;
	}
	bad(&p, node_check_keys(p.d, root, keys));
	parse_server(&p, root);
	parse_device(&p, root);
	parse_apps(&p, root);
	parse_poll(&p, root);
	parse_tls(&p, root);
	parse_misc(&p, root);
	rc = p.nomem ? E_NOMEM : p.errors ? E_CONFIG : 0;
	c->errors = p.errors;
	if (rc == E_NOMEM)
		error(E_NOMEM, "%s: %s", name, err_str(E_NOMEM));
out:
	if (rc) {
		unsigned n = p.errors ? p.errors : 1;

		config_free(c);
		c->errors = n;
	}
	return rc;
}

int config_load(const char *path, struct config *c)
{
	struct buf b = BUF_INIT(CFG_FILE_MAX);
	int rc;

	memset(c, 0, sizeof(*c));
	if (!path)
		path = config_path();
	rc = file_read(path, CFG_FILE_MAX, &b);
	if (rc) {
		buf_free(&b);
		c->errors = 1;
		return rc;
	}
	rc = config_parse(path, b.data, b.len, NULL, c);
	buf_free(&b);
	return rc;
}

void config_app_order(const struct config *c, size_t order[CFG_APPS_MAX])
{
	unsigned char placed[CFG_APPS_MAX] = { 0 };
	size_t n = 0;

	/* a pass places every app whose dependencies are placed; a pass that
	 * places none (a cycle, never in a parsed config) places the rest */
	while (n < c->napps) {
		size_t before = n;

		for (size_t i = 0; i < c->napps; i++) {
			int ready = !placed[i];

			for (size_t j = 0; ready && j < c->apps[i].ndepends; j++) {
				const struct config_app *d = config_app_find(c, c->apps[i].depends_on[j]);

				ready = !d || placed[d - c->apps];
			}
			if (ready) {
				placed[i] = 1;
				order[n++] = i;
			}
		}
		for (size_t i = 0; n == before && i < c->napps; i++)
			if (!placed[i])
				placed[i] = 1, order[n++] = i;
	}
}

const struct config_app *config_app_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->napps; i++)
		if (strcmp(c->apps[i].name, name) == 0 || strcmp(c->apps[i].channel, name) == 0)
			return &c->apps[i];
	return NULL;
}

const struct config_app *config_app_by_channel(const struct config *c, const char *channel)
{
	for (size_t i = 0; i < c->napps; i++)
		if (strcmp(c->apps[i].channel, channel) == 0)
			return &c->apps[i];
	return NULL;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	doc_free(c->doc);
	memset(c, 0, sizeof(*c));
}
