/* pointer — parse and verify release pointers. */
#include <string.h>
#include <strings.h>

#include "doc.h"
#include "error.h"
#include "meta.h"
#include "pointer.h"

#define POINTER_MAX_SIZE (64 * 1024)

static int two_digits(const char *s, int max, int *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return E_FORMAT;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return *out > max ? E_FORMAT : 0;
}

int pointer_parse_clock(const char *s, int *minutes)
{
	int h, m;

	if (strlen(s) != 5 || s[2] != ':' || two_digits(s, 24, &h) || two_digits(s + 3, 59, &m))
		return E_FORMAT;
	if (h == 24 && m != 0)
		return E_FORMAT;
	*minutes = h * 60 + m;
	return 0;
}

int pointer_parse_offset(const char *s, int *minutes)
{
	int m;

	if ((s[0] != '+' && s[0] != '-') || pointer_parse_clock(s + 1, &m) || m > 14 * 60)
		return E_FORMAT;
	*minutes = s[0] == '-' ? -m : m;
	return 0;
}

/* Copy a checked string into a fixed field (meta_str bounded its length). */
static void copy(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static int parse_schedule(const struct doc *d, const struct node *n, struct pointer *p)
{
	static const char *const allowed[] = { "interval", "jitter", "window",
					       "utc_offset", NULL };
	const char *window = NULL, *offset = NULL;
	int rc;

	if (!n)
		return 0;
	rc = node_check_keys(d, n, allowed);
	if (!rc)
		rc = meta_int(d, n, "interval", 10, 7 * 86400, 0, &p->schedule.interval);
	if (!rc)
		rc = meta_int(d, n, "jitter", 0, 86400, 0, &p->schedule.jitter);
	if (!rc)
		rc = meta_str(d, n, "window", 11, 0, &window);
	if (!rc)
		rc = meta_str(d, n, "utc_offset", 6, 0, &offset);
	if (rc)
		return rc;
	if (window) {
		char a[6], b[6];

		if (strlen(window) != 11 || window[5] != '-')
			return doc_error(d, node_map_get(n, "window"), E_FORMAT,
					 "'window' must be HH:MM-HH:MM");
		memcpy(a, window, 5), a[5] = '\0';
		memcpy(b, window + 6, 5), b[5] = '\0';
		if (pointer_parse_clock(a, &p->schedule.start) ||
		    pointer_parse_clock(b, &p->schedule.end) ||
		    p->schedule.start == p->schedule.end)
			return doc_error(d, node_map_get(n, "window"), E_FORMAT,
					 "'window' must be HH:MM-HH:MM with different ends");
		p->schedule.window = 1;
	}
	if (offset && pointer_parse_offset(offset, &p->schedule.utc_offset))
		return doc_error(d, node_map_get(n, "utc_offset"), E_FORMAT,
				 "'utc_offset' must be +HH:MM or -HH:MM, at most 14:00");
	return 0;
}

static int parse_rollout(const struct doc *d, const struct node *n, struct pointer *p)
{
	static const char *const allowed[] = { "percent", "salt", NULL };
	int64_t percent = 100;
	const char *salt = NULL;
	int rc;

	p->rollout.percent = 100;
	if (!n)
		return 0;
	rc = node_check_keys(d, n, allowed);
	if (!rc)
		rc = meta_int(d, n, "percent", 0, 100, 1, &percent);
	if (!rc)
		rc = meta_str(d, n, "salt", 128, 0, &salt);
	if (rc)
		return rc;
	p->rollout.percent = (int)percent;
	copy(p->rollout.salt, sizeof(p->rollout.salt), salt);
	return 0;
}

/*
 * What every gateway refuses in a bundle URL, said here so that `release
 * verify` refuses it too: a scheme other than http(s) (file://, ftp:),
 * credentials in it (as `server` may not hold them), a space.
 */
static const char *url_problem(const char *u)
{
	size_t s = 0, auth, end;

	if (strchr(u, ' '))
		return "holds a space (write it as %20)";
	if ((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z')) {
		s = strcspn(u, ":/?#");
		if (u[s] != ':')
			s = 0;
	}
	if (s && !((s == 4 && strncasecmp(u, "http", 4) == 0) ||
		   (s == 5 && strncasecmp(u, "https", 5) == 0)))
		return "has a scheme other than http or https";
	if (s && strncmp(u + s, "://", 3) != 0)
		return "must be http(s)://host/... or relative";
	if (!s && strncmp(u, "//", 2) != 0)
		return NULL;
	auth = s ? s + 3 : 2;
	end = auth + strcspn(u + auth, "/?#");
	if (memchr(u + auth, '@', end - auth))
		return "holds credentials (user:password@); give them to the server, not "
		       "in a signed URL";
	return NULL;
}

int pointer_parse(const char *name, const char *data, size_t len, struct pointer *p)
{
	static const char *const allowed[] = { "outpost", "app", "sequence", "version",
		"created", "expires", "bundle", "schedule", "rollout", "health", NULL };
	static const char *const bundle_keys[] = { "url", "size", "sha256", NULL };
	static const char *const health_keys[] = { "timeout", NULL };
	const struct node *bundle, *health;
	const char *app = NULL, *version = NULL, *url = NULL;
	struct doc *d;
	struct node *root;
	int rc;

	memset(p, 0, sizeof(*p));
	rc = meta_load(name, data, len, POINTER_MAX_SIZE, "release/v1", &d, &root);
	if (rc)
		return rc;
	rc = node_check_keys(d, root, allowed);
	if (!rc)
		rc = meta_app(d, root, "app", &app);
	if (!rc)
		rc = meta_int(d, root, "sequence", 1, META_SEQUENCE_MAX, 1, &p->sequence);
	if (!rc)
		rc = meta_str(d, root, "version", 128, 1, &version);
	if (!rc)
		rc = meta_time(d, root, "created", 1, &p->created);
	if (!rc)
		rc = meta_time(d, root, "expires", 1, &p->expires);
	bundle = node_map_get(root, "bundle");
	if (!rc && (!bundle || bundle->type != NODE_MAP))
		rc = doc_error(d, bundle ? bundle : root, E_FORMAT,
			       "'bundle' must give url, size and sha256");
	if (!rc)
		rc = node_check_keys(d, bundle, bundle_keys);
	if (!rc)
		rc = meta_str(d, bundle, "url", POINTER_URL_MAX, 1, &url);
	if (!rc && url_problem(url))
		rc = doc_error(d, node_map_get(bundle, "url"), E_FORMAT, "'url' %s",
			       url_problem(url));
	if (!rc)
		rc = meta_int(d, bundle, "size", 1, (int64_t)1 << 40, 1, &p->size);
	if (!rc)
		rc = meta_sha256(d, bundle, "sha256", p->sha256);
	if (!rc)
		rc = parse_schedule(d, node_map_get(root, "schedule"), p);
	if (!rc)
		rc = parse_rollout(d, node_map_get(root, "rollout"), p);
	health = node_map_get(root, "health");
	if (!rc && health) {
		rc = node_check_keys(d, health, health_keys);
		if (!rc)
			rc = meta_int(d, health, "timeout", 1, 86400, 0, &p->health_timeout);
	}
	if (!rc && p->expires <= p->created)
		rc = doc_error(d, node_map_get(root, "expires"), E_FORMAT,
			       "'expires' must be after 'created'");
	if (!rc) {
		copy(p->app, sizeof(p->app), app);
		copy(p->version, sizeof(p->version), version);
		copy(p->url, sizeof(p->url), url);
	}
	doc_free(d);
	return rc;
}

int pointer_verify(const struct trust *t, const char *name, const char *data,
		   size_t len, const char *sig, size_t siglen,
		   const struct verify_ctx *ctx, struct pointer *p)
{
	int rc = trust_check(t, ROLE_RELEASE, name, data, len, sig, siglen);

	if (!rc)
		rc = pointer_parse(name, data, len, p);
	if (rc)
		return rc;
	if (ctx->app && strcmp(ctx->app, p->app) != 0)
		return error(E_FORMAT, "%s: for app '%s', expected '%s'", name, p->app, ctx->app);
	rc = trust_check_expiry(name, p->expires, ctx->now);
	if (!rc)
		rc = trust_check_created(name, p->created, ctx->max_created);
	if (rc)
		return rc;
	if (p->sequence < ctx->min_sequence)
		return error(E_ROLLBACK, "%s: sequence %lld is older than %lld, already "
			     "accepted for '%s'", name, (long long)p->sequence,
			     (long long)ctx->min_sequence, p->app);
	return 0;
}
