/* kubeconfig — the current context's cluster and credentials. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "doc.h"
#include "error.h"
#include "features.h"
#include "file.h"
#include "kube.h"
#include "manifest.h"
#include "mem.h"

#define KUBECONFIG_MAX (1u << 20)
#define REFERENCED_MAX (1u << 20)     /* a CA bundle, a cert, a key, a token */
#define DEFAULT_NAME "kubernetes"      /* a SAN of every k3s serving cert */

static const struct doc_limits config_limits = {
	.max_bytes = KUBECONFIG_MAX,
	.max_depth = 20,
	.max_nodes = 100000,
	.max_docs = 1,
	.max_scalar = KUBECONFIG_MAX,
};

/* What we are parsing, for messages that name the file and key. */
struct ctx {
	const char *path;
	struct doc *doc;
	struct kube_config *cfg;
};

static void wipe_free(char *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	mem_free(p);
}

void kube_config_free(struct kube_config *c)
{
	if (!c)
		return;
	mem_free(c->context);
	mem_free(c->cluster);
	mem_free(c->user);
	mem_free(c->server);
	mem_free(c->base);
	mem_free(c->resolve);
	mem_free(c->namespace);
	mem_free(c->ca);
	mem_free(c->cert);
	wipe_free(c->key, c->key_len);
	if (c->token)
		wipe_free(c->token, strlen(c->token));
	mem_free(c);
}

/* The map of the entry named name in the list at key ("clusters"), inner
 * key ("cluster"). E_CONFIG (logged) when absent. */
static int find_named(struct ctx *x, const char *list, const char *inner,
		      const char *name, struct node **out)
{
	struct node *seq = node_map_get(doc_root(x->doc, 0), list);

	if (seq && seq->type == NODE_SEQ) {
		for (size_t i = 0; i < seq->len; i++) {
			const char *n = node_str(node_map_get(seq->items[i], "name"));

			if (n && strcmp(n, name) == 0) {
				*out = node_map_get(seq->items[i], inner);
				if (!*out || (*out)->type != NODE_MAP)
					return doc_error(x->doc, seq->items[i], E_CONFIG,
							 "%s[%s].%s: missing or not a map",
							 list, name, inner);
				return 0;
			}
		}
	}
	return error(E_CONFIG, "%s: %s: no entry named \"%s\"", x->path, list, name);
}

/* An optional string value; E_CONFIG when present but not a string. */
static int get_str(struct ctx *x, const struct node *map, const char *where,
		   const char *key, const char **out)
{
	const struct node *n = node_map_get(map, key);

	*out = NULL;
	if (node_is_null(n))
		return 0;
	*out = node_str(n);
	if (!*out)
		return doc_error(x->doc, n, E_CONFIG, "%s.%s: not a string", where, key);
	return 0;
}

static int set_str(char **dst, const char *s, size_t len)
{
	*dst = mem_strndup(s, len);
	return *dst ? 0 : E_NOMEM;
}

/* file relative to the kubeconfig's directory, as kubectl resolves it */
static int read_referenced(struct ctx *x, const char *where, const char *key,
			   const char *file, struct buf *out)
{
	struct buf path = BUF_INIT(4096);
	const char *slash = strrchr(x->path, '/');
	int rc = 0;

	if (file[0] != '/' && slash)
		rc = buf_add(&path, x->path, (size_t)(slash - x->path + 1));
	if (!rc)
		rc = buf_addstr(&path, file);
	if (rc) {
		buf_free(&path);
		return error(rc, "%s: %s.%s: %s", x->path, where, key, err_str(rc));
	}
	rc = file_read(path.data, REFERENCED_MAX, out);
	if (rc)
		error(E_CONFIG, "%s: %s.%s: cannot read %s", x->path, where, key, path.data);
	buf_free(&path);
	return rc ? E_CONFIG : 0;
}

/*
 * PEM text from KEY-data (base64 of PEM) or KEY (a file). *out NULL when
 * neither is set.
 */
static int get_pem(struct ctx *x, const struct node *map, const char *where,
		   const char *key, char **out, size_t *outlen)
{
	char dkey[64];
	const char *data, *file;
	struct buf b = BUF_INIT(REFERENCED_MAX);
	int rc;

	*out = NULL;
	*outlen = 0;
	snprintf(dkey, sizeof(dkey), "%s-data", key);
	if ((rc = get_str(x, map, where, dkey, &data)) ||
	    (rc = get_str(x, map, where, key, &file)))
		return rc;
	if (data && *data) {
		rc = base64_decode(&b, data, strlen(data));
		if (rc) {
			buf_free(&b);
			return error(rc == E_FORMAT ? E_CONFIG : rc, "%s: %s.%s: %s", x->path,
				     where, dkey, rc == E_FORMAT ? "not valid base64" : err_str(rc));
		}
		file = NULL;
	} else if (file && *file) {
		rc = read_referenced(x, where, key, file, &b);
		if (rc) {
			buf_free(&b);
			return rc;
		}
	} else {
		return 0;
	}
	if (!strstr(b.data, "-----BEGIN ")) {
		buf_free(&b);
		return error(E_CONFIG, "%s: %s.%s: not PEM", x->path, where,
			     file ? key : dkey);
	}
	*out = buf_detach(&b, outlen);
	if (!*out) {
		explicit_bzero(b.data, b.len);
		buf_free(&b);
		return E_NOMEM;
	}
	return 0;
}

static int refuse_key(struct ctx *x, const struct node *map, const char *where,
		      const char *key, const char *why)
{
	const struct node *n = node_map_get(map, key);

	if (!n || node_is_null(n))
		return 0;
	return error(E_CONFIG, "%s: %s.%s: %s", x->path, where, key, why);
}

/*
 * server → base URL and pin. An IP address is reached by name (mbedTLS
 * 2.28 cannot match IP SANs), the name being tls-server-name or
 * "kubernetes"; a host name is used as it is.
 */
static int parse_server(struct ctx *x, const char *where, const char *server,
			const char *sni)
{
	struct kube_config *c = x->cfg;
	const char *p = server + 8, *host, *host_end, *path;
	char hostbuf[256], portbuf[8] = "443";
	unsigned char addr[16];
	int v6 = 0, is_ip;
	size_t plen;
	struct buf b = BUF_INIT(2048);
	int rc;

	if (strncasecmp(server, "https://", 8) != 0)
		return error(E_CONFIG, "%s: %s.server: \"%s\" is not an https:// URL",
			     x->path, where, server);
	path = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(path - p)) || *path == '?' || *path == '#')
		return error(E_CONFIG, "%s: %s.server: \"%s\": user names, queries and "
			     "fragments are not supported", x->path, where, server);
	host = p;
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(p, ']', (size_t)(path - p));
		if (!host_end)
			goto bad;
		p = host_end + 1;
		v6 = 1;
	} else {
		host_end = memchr(p, ':', (size_t)(path - p));
		if (!host_end)
			host_end = path;
		p = host_end;
	}
	if (host_end == host || (size_t)(host_end - host) >= sizeof(hostbuf))
		goto bad;
	memcpy(hostbuf, host, (size_t)(host_end - host));
	hostbuf[host_end - host] = '\0';
	if (p < path) {
		char *end;
		unsigned long port;

		if (*p != ':' || p + 1 == path || path - p > 6)
			goto bad;
		port = strtoul(p + 1, &end, 10);
		if (end != path || port == 0 || port > 65535 || p[1] < '0' || p[1] > '9')
			goto bad;
		snprintf(portbuf, sizeof(portbuf), "%lu", port);
	}
	for (const char *h = hostbuf; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '.' || *h == '-' || *h == ':'))
			goto bad;
	is_ip = inet_pton(v6 ? AF_INET6 : AF_INET, hostbuf, addr) == 1;
	if (v6 && !is_ip)
		goto bad;
	/* drop trailing slashes: we append "/api/..." */
	plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	rc = buf_addf(&b, "https://%s:%s%.*s", is_ip ? (sni ? sni : DEFAULT_NAME) : hostbuf,
		      portbuf, (int)plen, path);
	if (rc || !(c->base = buf_detach(&b, NULL))) {
		buf_free(&b);
		return E_NOMEM;
	}
	if (is_ip) {
		rc = buf_addf(&b, v6 ? "%s:%s:[%s]" : "%s:%s:%s", sni ? sni : DEFAULT_NAME,
			      portbuf, hostbuf);
		if (rc || !(c->resolve = buf_detach(&b, NULL))) {
			buf_free(&b);
			return E_NOMEM;
		}
	} else if (sni && strcasecmp(sni, hostbuf) != 0) {
		return error(E_CONFIG, "%s: %s.tls-server-name: only supported with a "
			     "server given by IP address", x->path, where);
	}
	return 0;
bad:
	return error(E_CONFIG, "%s: %s.server: \"%s\" is not a valid URL", x->path, where,
		     server);
}

static int parse_cluster(struct ctx *x, const struct node *cl)
{
	struct kube_config *c = x->cfg;
	char where[300];
	const char *server, *sni;
	int skip = 0, rc;
	const struct node *n;

	snprintf(where, sizeof(where), "clusters[%s].cluster", c->cluster);
	n = node_map_get(cl, "insecure-skip-tls-verify");
	if (n && !node_is_null(n) && (node_bool(n, &skip) || skip))
		return error(E_CONFIG, "%s: %s.insecure-skip-tls-verify: refused: outpost "
			     "always verifies the API server's certificate", x->path, where);
	if ((rc = get_str(x, cl, where, "server", &server)) ||
	    (rc = get_str(x, cl, where, "tls-server-name", &sni)))
		return rc;
	if (!server || !*server)
		return error(E_CONFIG, "%s: %s.server: missing", x->path, where);
	if ((rc = refuse_key(x, cl, where, "proxy-url", "proxies are not supported")))
		return rc;
	if (set_str(&c->server, server, strlen(server)))
		return E_NOMEM;
	rc = parse_server(x, where, server, sni && *sni ? sni : NULL);
	if (rc)
		return rc;
	rc = get_pem(x, cl, where, "certificate-authority", &c->ca, &c->ca_len);
	if (rc)
		return rc;
	if (!c->ca)
		return error(E_CONFIG, "%s: %s: no certificate-authority-data or "
			     "certificate-authority: outpost never connects unverified",
			     x->path, where);
	return 0;
}

static int parse_user(struct ctx *x, const struct node *u)
{
	struct kube_config *c = x->cfg;
	char where[300];
	const char *token, *token_file;
	int rc;

	snprintf(where, sizeof(where), "users[%s].user", c->user);
	if ((rc = refuse_key(x, u, where, "exec", "exec credential plugins are not supported")) ||
	    (rc = refuse_key(x, u, where, "auth-provider", "auth providers are not supported")) ||
	    (rc = refuse_key(x, u, where, "username", "basic authentication is not supported")) ||
	    (rc = refuse_key(x, u, where, "password", "basic authentication is not supported")))
		return rc;
	if ((rc = get_pem(x, u, where, "client-certificate", &c->cert, &c->cert_len)) ||
	    (rc = get_pem(x, u, where, "client-key", &c->key, &c->key_len)))
		return rc;
	if (!c->cert != !c->key)
		return error(E_CONFIG, "%s: %s: a client certificate needs its key and "
			     "a key its certificate", x->path, where);
	if ((rc = get_str(x, u, where, "token", &token)) ||
	    (rc = get_str(x, u, where, "tokenFile", &token_file)))
		return rc;
	if (token && *token) {
		if (set_str(&c->token, token, strlen(token)))
			return E_NOMEM;
	} else if (token_file && *token_file) {
		struct buf b = BUF_INIT(REFERENCED_MAX);
		size_t n;

		rc = read_referenced(x, where, "tokenFile", token_file, &b);
		if (rc)
			return rc;
		n = b.len;
		while (n && strchr(" \t\r\n", b.data[n - 1]))
			n--;
		if (n == 0 || memchr(b.data, '\n', n) || memchr(b.data, '\r', n)) {
			explicit_bzero(b.data, b.len);
			buf_free(&b);
			return error(E_CONFIG, "%s: %s.tokenFile: not one line of text",
				     x->path, where);
		}
		rc = set_str(&c->token, b.data, n);
		explicit_bzero(b.data, b.len);
		buf_free(&b);
		if (rc)
			return rc;
	}
	if (c->token && strpbrk(c->token, "\r\n"))
		return error(E_CONFIG, "%s: %s.token: contains a line break", x->path, where);
	return 0;
}

int kube_config_parse(struct kube_config **out, const char *path,
		      const char *text, size_t len)
{
	struct ctx x = { .path = path };
	struct node *root, *cx = NULL, *cl = NULL, *u = NULL;
	const char *cur, *cluster, *user, *ns;
	char where[300];
	int rc;

	*out = NULL;
	rc = doc_load(path, text, len, &config_limits, &x.doc);
	if (rc)
		return rc == E_NOMEM ? rc : E_CONFIG;
	x.cfg = mem_zalloc(1, sizeof(*x.cfg));
	rc = E_NOMEM;
	if (!x.cfg)
		goto fail;
	root = doc_root(x.doc, 0);
	if (root->type != NODE_MAP) {
		rc = error(E_CONFIG, "%s: not a kubeconfig (expected a map)", path);
		goto fail;
	}
	if ((rc = get_str(&x, root, "kubeconfig", "current-context", &cur)))
		goto fail;
	if (!cur || !*cur) {
		rc = error(E_CONFIG, "%s: current-context: missing", path);
		goto fail;
	}
	rc = E_NOMEM;
	if (set_str(&x.cfg->context, cur, strlen(cur)))
		goto fail;
	if ((rc = find_named(&x, "contexts", "context", cur, &cx)))
		goto fail;
	snprintf(where, sizeof(where), "contexts[%s].context", cur);
	if ((rc = get_str(&x, cx, where, "cluster", &cluster)) ||
	    (rc = get_str(&x, cx, where, "user", &user)) ||
	    (rc = get_str(&x, cx, where, "namespace", &ns)))
		goto fail;
	if (!cluster || !*cluster) {
		rc = error(E_CONFIG, "%s: %s.cluster: missing", path, where);
		goto fail;
	}
	rc = E_NOMEM;
	if (set_str(&x.cfg->cluster, cluster, strlen(cluster)) ||
	    set_str(&x.cfg->user, user ? user : "", user ? strlen(user) : 0))
		goto fail;
	if (ns && *ns) {
		if (!manifest_valid_label(ns)) {
			rc = error(E_CONFIG, "%s: %s.namespace: \"%s\" is not a valid namespace",
				   path, where, ns);
			goto fail;
		}
	}
	rc = E_NOMEM;
	if (set_str(&x.cfg->namespace, ns && *ns ? ns : "default",
		    strlen(ns && *ns ? ns : "default")))
		goto fail;
	if ((rc = find_named(&x, "clusters", "cluster", cluster, &cl)) ||
	    (rc = parse_cluster(&x, cl)))
		goto fail;
	if (user && *user) {
		if ((rc = find_named(&x, "users", "user", user, &u)) ||
		    (rc = parse_user(&x, u)))
			goto fail;
	}
	doc_free(x.doc);
	*out = x.cfg;
	return 0;
fail:
	doc_free(x.doc);
	kube_config_free(x.cfg);
	return rc;
}

int kube_config_load(struct kube_config **out, const char *path)
{
	struct buf b = BUF_INIT(KUBECONFIG_MAX);
	int rc;

	*out = NULL;
	if (!path)
		path = CONFIG_KUBECONFIG;
	rc = file_read(path, KUBECONFIG_MAX, &b);
	if (rc)
		return rc == E_NOMEM ? rc : E_CONFIG;
	rc = kube_config_parse(out, path, b.data, b.len);
	/* the file holds the client key */
	explicit_bzero(b.data, b.len);
	buf_free(&b);
	return rc;
}
