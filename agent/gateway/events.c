/* events — core/v1 Events about releases, best effort. */
#include <string.h>

#include "doc.h"
#include "error.h"
#include "events.h"
#include "log.h"
#include "meta.h"

static const struct {
	const char *type, *reason;
} reasons[] = {
	[EVENT_APPLIED] = { "Normal", "ReleaseApplied" },
	[EVENT_FAILED] = { "Warning", "ReleaseFailed" },
	[EVENT_ROLLED_BACK] = { "Warning", "RolledBack" },
	[EVENT_FROZEN] = { "Warning", "ChannelFrozen" },
	[EVENT_ROOT_EXPIRED] = { "Warning", "TrustRootExpired" },
};

const struct release_obj *event_subject(const struct release_set *set)
{
	const struct release_obj *first = NULL;

	for (size_t i = 0; set && i < set->n; i++) {
		const struct release_obj *o = &set->objs[i];

		if (!o->ns || !*o->ns)
			continue;
		if (strcmp(o->kind, "Deployment") == 0)
			return o;
		if (!first)
			first = o;
	}
	return first;
}

/* ,"key":"value" (sep before it); checked once by the caller (sticky) */
static void json_field(struct buf *out, const char *sep, const char *key, const char *value)
{
	buf_addf(out, "%s\"%s\":", sep, key);
	doc_json_quote(out, value, strlen(value));
}

/* The length of s cut to max bytes, never inside a UTF-8 sequence. */
static size_t cut_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

int event_json(const struct event *e, struct buf *out)
{
	const struct release_obj *o = event_subject(e->set);
	const char *ns = o ? o->ns : e->ns;
	char when[META_TIME_LEN + 1];
	size_t start = out->len;
	int rc;

	meta_time_format(e->time, when);
	buf_addstr(out, "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{"
		   "\"generateName\":\"outpost-\"");
	json_field(out, ",", "namespace", ns);
	buf_addstr(out, "},\"involvedObject\":{");
	if (o) {
		json_field(out, "", "apiVersion", o->api_version);
		json_field(out, ",", "kind", o->kind);
		json_field(out, ",", "name", o->name);
		if (*o->uid)
			json_field(out, ",", "uid", o->uid);
	} else {
		buf_addstr(out, "\"apiVersion\":\"v1\",\"kind\":\"Namespace\"");
		json_field(out, ",", "name", ns);
	}
	/* the legacy rule: the event lives in its object's namespace */
	json_field(out, ",", "namespace", ns);
	json_field(out, "},", "type", reasons[e->reason].type);
	json_field(out, ",", "reason", reasons[e->reason].reason);
	buf_addstr(out, ",\"message\":");
	doc_json_quote(out, e->message, cut_utf8(e->message, EVENT_MESSAGE_MAX));
	buf_addf(out, ",\"source\":{\"component\":\"outpost\"},"
		 "\"firstTimestamp\":\"%s\",\"lastTimestamp\":\"%s\",\"count\":1,"
		 "\"reportingComponent\":\"outpost\"", when, when);
	json_field(out, ",", "reportingInstance", e->instance ? e->instance : "");
	buf_addch(out, '}');
	rc = buf_error(out);
	if (rc)
		buf_truncate(out, start);
	return rc;
}

int event_post(struct kube *k, const struct event *e)
{
	struct buf body = BUF_INIT(16384);
	struct kube_object o = { "v1", "Event", NULL, NULL, NULL, 0, NULL, NULL };
	struct kube_result r;
	const struct release_obj *subject = event_subject(e->set);
	int rc = event_json(e, &body);

	if (!rc) {
		o.namespace = subject ? subject->ns : e->ns;
		o.json = body.data;
		o.json_len = body.len;
		rc = kube_create(k, &o, 0, &r);
		kube_result_free(&r);
	}
	if (rc)
		log_warn("event %s not posted (%s); it changes nothing else",
			 reasons[e->reason].reason, err_str(rc));
	buf_free(&body);
	return rc;
}
