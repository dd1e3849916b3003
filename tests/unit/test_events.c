/*
 * Unit tests: agent/gateway/events — which object an event is attached to, and the
 * exact Event JSON: the legacy validation rules (metadata.namespace equals
 * involvedObject.namespace, no eventTime), escaping, and the message cut to
 * 1024 bytes at a UTF-8 boundary.
 */
#include <string.h>

#include "buf.h"
#include "doc.h"
#include "events.h"
#include "tap.h"

static struct release_obj objs[] = {
	{ .api_version = "v1", .kind = "Namespace", .ns = "", .name = "web" },
	{ .api_version = "v1", .kind = "ConfigMap", .ns = "web", .name = "conf" },
	{ .api_version = "apps/v1", .kind = "Deployment", .ns = "web", .name = "api",
	  .uid = "u-1" },
	{ .api_version = "apps/v1", .kind = "Deployment", .ns = "web", .name = "worker" },
};

static void test_subject(void)
{
	struct release_set s = { .app = "web", .n = 4, .objs = objs };

	check(event_subject(NULL) == NULL);
	check(event_subject(&s) == &objs[2]);           /* the first Deployment */
	s.n = 2;
	check(event_subject(&s) == &objs[1]);           /* else the first namespaced */
	s.n = 1;
	check(event_subject(&s) == NULL);               /* cluster-scoped only */
}

static void test_json(void)
{
	struct release_set s = { .app = "web", .n = 4, .objs = objs };
	struct event e = { EVENT_FAILED, &s, "fallback", "gw-\"7\"",
			   "web sequence 3 failed:\n\"bad\"", 1700000000 };
	struct buf out = BUF_INIT(8192);

	check_int(event_json(&e, &out), ==, 0);
	check_str(out.data,
		  "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":{\"generateName\":"
		  "\"outpost-\",\"namespace\":\"web\"},\"involvedObject\":{\"apiVersion\":"
		  "\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"api\",\"uid\":\"u-1\","
		  "\"namespace\":\"web\"},\"type\":\"Warning\",\"reason\":\"ReleaseFailed\","
		  "\"message\":\"web sequence 3 failed:\\n\\\"bad\\\"\",\"source\":{"
		  "\"component\":\"outpost\"},\"firstTimestamp\":\"2023-11-14T22:13:20Z\","
		  "\"lastTimestamp\":\"2023-11-14T22:13:20Z\",\"count\":1,"
		  "\"reportingComponent\":\"outpost\",\"reportingInstance\":\"gw-\\\"7\\\"\"}");
	buf_free(&out);

	/* nothing namespaced: the app's namespace stands for the release */
	s.n = 1;
	e.reason = EVENT_APPLIED;
	check_int(event_json(&e, &out), ==, 0);
	check(strstr(out.data, "\"metadata\":{\"generateName\":\"outpost-\",\"namespace\":"
		     "\"fallback\"},\"involvedObject\":{\"apiVersion\":\"v1\",\"kind\":"
		     "\"Namespace\",\"name\":\"fallback\",\"namespace\":\"fallback\"},"
		     "\"type\":\"Normal\",\"reason\":\"ReleaseApplied\"") != NULL);
	buf_free(&out);

	e.set = NULL;
	e.reason = EVENT_ROLLED_BACK;
	check_int(event_json(&e, &out), ==, 0);
	check(strstr(out.data, "\"type\":\"Warning\",\"reason\":\"RolledBack\"") != NULL);
	buf_free(&out);

	/* out too small: an error and nothing appended */
	buf_init(&out, 64);
	check_int(buf_addstr(&out, "keep"), ==, 0);
	check(event_json(&e, &out) < 0);
	check_str(out.data, "keep");
	buf_free(&out);
}

/* The message as the API will read it back. */
static size_t message_len(const char *json)
{
	struct doc *d = NULL;
	const char *m;
	size_t n = (size_t)-1;

	if (doc_load("event", json, strlen(json), NULL, &d) == 0 &&
	    (m = node_str(node_map_get(doc_root(d, 0), "message"))))
		n = strlen(m);
	doc_free(d);
	return n;
}

static void test_long_message(void)
{
	char msg[3000];
	struct event e = { EVENT_FAILED, NULL, "web", "gw", msg, 0 };
	struct buf out = BUF_INIT(16384);

	memset(msg, 'a', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = 0;
	check_int(event_json(&e, &out), ==, 0);
	check_int(message_len(out.data), ==, EVENT_MESSAGE_MAX);
	buf_reset(&out);

	/* a 2-byte character across byte 1024 is dropped whole */
	memcpy(msg + 1023, "\xc3\xa9", 2);
	check_int(event_json(&e, &out), ==, 0);
	check_int(message_len(out.data), ==, 1023);
	buf_reset(&out);

	/* exactly 1024 bytes are kept whole */
	msg[1023] = 'a';
	msg[1024] = 0;
	check_int(event_json(&e, &out), ==, 0);
	check_int(message_len(out.data), ==, 1024);
	buf_free(&out);
}

int main(void)
{
	test_subject();
	test_json();
	test_long_message();
	return tap_done();
}
