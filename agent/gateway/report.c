/* report — the report outbox: queue each transition, POST it when online. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "doc.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include "meta.h"
#include "report.h"
#include "secrets.h"
#include "schedule.h"
#include "store.h"
#include "upstream.h"
#include "version.h"

#define REPORT_MAX (16 * 1024)      /* bytes of one report */
#define FLUSH_MAX 100               /* reports sent per flush */
#define ANSWER_MAX 4096             /* bytes of the server's answer kept */
#define TIMEOUT_MS 30000L
#define KEY_PREFIX "report"        /* report/next, report/errors */

/* s as a JSON string; checked once at the end (buf's error is sticky) */
static void json_str(struct buf *out, const char *s)
{
	doc_json_quote(out, s, strlen(s));
}

/* Queue one report: (app, sequence, step) is its key, r its release or NULL. */
static int queue(struct store *st, const struct config *cfg, const char *app,
		 int64_t sequence, const char *step, const struct store_release *r,
		 const char *msg, const char *err)
{
	struct buf j = BUF_INIT(REPORT_MAX), recipient = BUF_INIT(128);
	char when[META_TIME_LEN + 1];
	int rc;

	/* the gateway's age recipient, so the operator can collect them */
	rc = store_setting_get(st, SECRETS_KEY_RECIPIENT, &recipient);
	if (rc && rc != E_NOTFOUND) {
		buf_free(&recipient);
		return error(rc, "report %s %lld %s: not queued", app, (long long)sequence, step);
	}
	meta_time_format((int64_t)time(NULL), when);
	buf_addf(&j, "{\"key\":\"%s/%lld/%s\",\"device\":", app, (long long)sequence, step);
	json_str(&j, cfg->device.id);
	buf_addstr(&j, ",\"labels\":{");
	for (size_t i = 0; i < cfg->device.nlabels; i++) {
		json_str(&j, cfg->device.labels[i].key);
		buf_addch(&j, ':');
		json_str(&j, cfg->device.labels[i].value);
		if (i + 1 < cfg->device.nlabels)
			buf_addch(&j, ',');
	}
	buf_addstr(&j, "},\"app\":");
	json_str(&j, app);
	buf_addf(&j, ",\"sequence\":%lld,\"version\":", (long long)sequence);
	json_str(&j, r ? r->version : "");
	buf_addf(&j, ",\"state\":\"%s\",\"message\":", step);
	json_str(&j, msg ? msg : "");
	buf_addstr(&j, ",\"error\":");
	json_str(&j, err);
	buf_addf(&j, ",\"time\":\"%s\",\"agent\":", when);
	json_str(&j, version_short());
	if (recipient.len) {
		buf_addstr(&j, ",\"recipient\":");
		json_str(&j, recipient.data);
	}
	buf_addch(&j, '}');
	buf_free(&recipient);
	rc = buf_error(&j);
	if (!rc)
		rc = store_outbox_add(st, app, sequence, step, j.data, j.len);
	buf_free(&j);
	if (rc < 0)
		return error(rc, "report %s %lld %s: not queued", app, (long long)sequence, step);
	return 0;
}

int report_queue(struct store *st, const struct config *cfg, const char *app,
		 int64_t sequence, int state, const char *msg)
{
	const char *step = store_state_name(state);
	struct store_release r;
	int rc;

	if (!cfg->reports.url)
		return 0;
	rc = store_release_get(st, app, sequence, &r);
	if (rc)
		return error(rc, "report %s %lld %s: the release cannot be read", app,
			     (long long)sequence, step);
	return queue(st, cfg, app, sequence, step, &r, msg,
		     store_state_quarantined(state) ? r.last_error : "");
}

int report_queue_condition(struct store *st, const struct config *cfg, const char *app,
			   const char *condition, const char *msg)
{
	struct store_release r;
	int rc;

	if (!cfg->reports.url)
		return 0;
	rc = store_release_latest(st, app, &r);
	if (rc && rc != E_NOTFOUND)
		return error(rc, "report %s %s: the releases cannot be read", app, condition);
	return queue(st, cfg, app, rc ? 0 : r.sequence, condition, rc ? NULL : &r, msg, msg);
}

/* The body to send: the stored report with the outbox's drop count. */
static int body(const struct store_report *r, int64_t dropped, struct buf *out)
{
	if (r->len < 2 || r->payload[r->len - 1] != '}')
		return error(E_FORMAT, "report %lld: not a JSON object", (long long)r->id);
	if (buf_add(out, r->payload, r->len - 1))
		return E_LIMIT;
	return buf_addf(out, ",\"dropped\":%lld,\"attempts\":%d}", (long long)dropped,
			r->attempts);
}

int report_flush(struct upstream *up, struct store *st, const struct config *cfg,
		 struct schedule_state *s, int force)
{
	struct schedule_bounds b = { cfg->poll.min_interval, cfg->poll.max_interval,
				     cfg->poll.default_interval };
	int64_t now = (int64_t)time(NULL), dropped = 0, delay = 0;
	const char *headers[] = { "Accept: application/json", NULL };
	long retry_after = -1;
	int sent = 0, rc = 0, was = 0;
	char shown[256];

	if (!cfg->reports.url)
		return 0;
	/* logs name the receiver without its query: it may carry a token */
	snprintf(shown, sizeof(shown), "%.*s", (int)strcspn(cfg->reports.url, "?"),
		 cfg->reports.url);
	schedule_state_load(s, st, KEY_PREFIX);
	if (!force && now < s->next)
		return 0;
	was = s->errors > 0;
	while (!rc && sent < FLUSH_MAX) {
		struct buf j = BUF_INIT(REPORT_MAX + 64);
		struct http_request q = { 0 };
		struct http_response resp;
		struct store_report r;

		rc = store_outbox_peek(st, &r);
		if (rc == E_NOTFOUND) {
			rc = 0;
			break;
		}
		if (!rc)
			rc = store_outbox_count(st, NULL, &dropped);
		if (rc) {
			store_report_clear(&r);
			break;
		}
		if (body(&r, dropped, &j)) {
			/* a report that cannot be sent must not block the rest; one
			 * that cannot be removed either stops the flush (else it
			 * came back at once, for ever) */
			rc = store_outbox_ack(st, r.id);
			store_report_clear(&r);
			buf_free(&j);
			continue;
		}
		q.method = "POST";
		q.url = cfg->reports.url;
		q.content_type = "application/json";
		q.headers = headers;
		q.body = j.data;
		q.body_len = j.len;
		q.max_body = ANSWER_MAX;
		q.timeout_ms = TIMEOUT_MS;
		rc = upstream_do(up, &q, &resp);
		if (!rc && resp.status >= 200 && resp.status < 300) {
			rc = store_outbox_ack(st, r.id);
			sent += !rc;
		} else if (!rc && resp.status >= 400 && resp.status < 500 &&
			   resp.status != 408 && resp.status != 429) {
			log_warn("%s: report %s/%lld/%s refused with HTTP status %ld: dropped",
				 shown, r.app, (long long)r.sequence, r.step, resp.status);
			rc = store_outbox_ack(st, r.id);
		} else {
			retry_after = !rc ? resp.retry_after : -1;
			store_outbox_retry(st, r.id);
			if (rc)
				log_warn("%s: reports not sent: %s", shown, resp.error);
			else
				log_warn("%s: reports not sent: HTTP status %ld", shown, resp.status);
			rc = rc ? rc : E_HTTP;
		}
		http_response_free(&resp);
		store_report_clear(&r);
		buf_free(&j);
	}
	/* any failure, the store's too (an ack that cannot be written would
	 * send the same report again at every cycle), backs off; a success
	 * after errors resets the schedule */
	if (rc || was) {
		uint64_t r = (uint64_t)now * 2654435761u;
		int src = rc ? schedule_state_record(s, &b, st, KEY_PREFIX, now, 1, 0, 0,
						     retry_after, r, &delay) :
			       schedule_state_reset(s, &b, st, KEY_PREFIX, now, r);

		rc = rc ? rc : src;
		if (rc)
			log_warn("%s: reports retried in %llds (%lld error%s in a row)", shown,
				 (long long)(s->next - now), (long long)s->errors,
				 s->errors == 1 ? "" : "s");
	}
	if (sent)
		log_info("%s: %d report%s sent", shown, sent, sent == 1 ? "" : "s");
	return rc ? rc : sent;
}
