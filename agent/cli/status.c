/* status — `outpost status` and `outpost history`: the state store read back. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent.h"
#include "buf.h"
#include "config.h"
#include "doc.h"
#include "error.h"
#include "fetch.h"
#include "meta.h"
#include "metrics.h"
#include "secrets.h"
#include "status.h"
#include "store.h"

/* s as a JSON string. The appends of this file are checked once, at the
 * end of each function (buf's error is sticky). */
static void json_str(struct buf *out, const char *s)
{
	doc_json_quote(out, s, strlen(s));
}

/* The clock floor, an expired trust root and the age recipient: after the apps. */
static int status_trust(struct store *st, int json, struct buf *out)
{
	int64_t floor = 0, expired = 0;
	char when[META_TIME_LEN + 1];
	struct buf recipient = BUF_INIT(128);
	int rc = store_clock_floor_get(st, &floor);

	if (!rc)
		rc = store_setting_get_int(st, METRICS_KEY_ROOT_EXPIRED, 0, &expired);
	if (!rc)
		rc = store_setting_get(st, SECRETS_KEY_RECIPIENT, &recipient);
	if (rc == E_NOTFOUND)
		rc = 0;
	if (rc) {
		buf_free(&recipient);
		return error(rc, "status: the state store cannot be read");
	}
	if (json) {
		buf_addf(out, "],\"clock_floor\":%lld", (long long)floor);
		if (expired)
			buf_addf(out, ",\"root_expired\":%lld", (long long)expired);
		if (recipient.len)
			buf_addstr(out, ",\"recipient\":"), json_str(out, recipient.data);
		buf_free(&recipient);
		return 0;
	}
	if (recipient.len)
		buf_addf(out, "age recipient: %s\n", recipient.data);
	buf_free(&recipient);
	meta_time_format(floor, when);
	buf_addf(out, "clock floor: %s\n", floor ? when : "none yet");
	if (expired)
		meta_time_format(expired, when), buf_addf(out, "TRUST ROOT EXPIRED at %s: "
			"every update is refused until a new root is installed\n", when);
	return 0;
}

int status_show(struct agent *a, const struct config *cfg, int json, struct buf *out)
{
	struct store *st = agent_store(a);
	struct buf doing = BUF_INIT(4096);
	int rc = 0;

	if (json)
		buf_addstr(out, "{\"apps\":[");
	for (size_t i = 0; !rc && i < cfg->napps; i++) {
		const char *app = cfg->apps[i].name, *key = cfg->apps[i].channel;
		struct store_release latest, lkg;
		int64_t lkg_id = 0, next = 0, errors = 0, now = (int64_t)time(NULL), frozen = 0;
		char fkey[128], when[META_TIME_LEN + 1];
		int have = 0, good = 0, paused;

		/* only "not found" means none: a store error is an error */
		rc = store_release_latest(st, key, &latest);
		have = rc == 0;
		if (rc == E_NOTFOUND)
			rc = 0;
		if (!rc)
			rc = store_lkg_get(st, key, &lkg_id);
		if (rc == E_NOTFOUND)
			rc = 0;
		if (!rc && lkg_id)
			rc = store_release_get_id(st, lkg_id, &lkg);
		good = !rc && lkg_id;
		if (!rc)
			rc = fetch_poll_info(st, cfg->apps[i].channel, &next, &errors);
		snprintf(fkey, sizeof(fkey), METRICS_KEY_FROZEN, cfg->apps[i].channel);
		if (!rc)
			rc = store_setting_get_int(st, fkey, 0, &frozen);
		buf_reset(&doing);
		if (!rc)
			rc = agent_paused(a, app);
		paused = rc == 1;
		if (rc == 1)
			rc = 0;
		if (!rc)
			rc = agent_describe(a, app, &doing);
		if (rc) {
			buf_free(&doing);
			return error(rc, "status %s: the state store cannot be read", app);
		}
		if (json) {
			buf_addstr(out, i ? ",{\"app\":" : "{\"app\":");
			json_str(out, app);
			if (good)
				buf_addf(out, ",\"current\":{\"sequence\":%lld,\"version\":",
					 (long long)lkg.sequence), json_str(out, lkg.version),
					buf_addch(out, '}');
			if (have) {
				buf_addf(out, ",\"latest\":{\"sequence\":%lld,\"version\":",
					 (long long)latest.sequence);
				json_str(out, latest.version);
				buf_addstr(out, ",\"state\":");
				json_str(out, store_state_name(latest.state));
				buf_addf(out, ",\"attempts\":%d,\"error\":", latest.attempts);
				json_str(out, latest.last_error);
				buf_addch(out, '}');
			}
			if (next)
				buf_addf(out, ",\"next_poll\":%lld,\"poll_errors\":%lld",
					 (long long)next, (long long)errors);
			if (frozen)
				buf_addf(out, ",\"frozen_since\":%lld", (long long)frozen);
			buf_addf(out, ",\"paused\":%s", paused ? "true" : "false");
			if (doing.len)
				buf_addstr(out, ",\"doing\":"), json_str(out, doing.data);
			buf_addch(out, '}');
			continue;
		}
		buf_addf(out, "%s: ", app);
		if (good)
			buf_addf(out, "current sequence %lld (%s)", (long long)lkg.sequence,
				 lkg.version);
		else
			buf_addstr(out, "no healthy release yet");
		if (have && (!good || latest.id != lkg.id))
			buf_addf(out, "; newest sequence %lld (%s) is %s%s%s",
				 (long long)latest.sequence, latest.version,
				 store_state_name(latest.state), *latest.last_error ? ": " : "",
				 latest.last_error);
		if (next)
			buf_addf(out, "; next poll in %llds", (long long)(next > now ? next - now : 0));
		if (next && errors)
			buf_addf(out, " after %lld error%s", (long long)errors, errors == 1 ? "" : "s");
		if (frozen)
			meta_time_format(frozen, when), buf_addf(out, "; FROZEN: the server's "
				"pointer expired at %s, nothing new is applied", when);
		if (doing.len)
			buf_addf(out, "\n  %s", doing.data);
		buf_addch(out, '\n');
	}
	buf_free(&doing);
	if (!rc)
		rc = status_trust(st, json, out);
	if (json && !rc)
		buf_addstr(out, "}\n");
	return rc ? rc : buf_error(out);
}

struct hist_ctx {
	struct buf *out;
};

static int print_history(void *ctx, const struct store_history *h)
{
	struct hist_ctx *c = ctx;
	char when[META_TIME_LEN + 1];

	meta_time_format(h->time, when);
	buf_addf(c->out, "%s %s %lld %s -> %s%s%s\n", when, h->app, (long long)h->sequence,
		 h->from < 0 ? "new" : store_state_name(h->from), store_state_name(h->to),
		 h->message && *h->message ? ": " : "", h->message ? h->message : "");
	return buf_error(c->out);      /* a full buffer stops the listing */
}

int status_history(struct store *st, const struct config *cfg, const char *app,
		   size_t limit, struct buf *out)
{
	const struct config_app *c = app ? config_app_find(cfg, app) : NULL;
	struct hist_ctx h = { out };

	/* releases are kept under the channel's name (agent.c) */
	return store_history_list(st, c ? c->channel : app, limit, print_history, &h);
}
