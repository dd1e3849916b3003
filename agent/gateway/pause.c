/* pause — apps held still by an operator or the site (pause.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "meta.h"
#include "pause.h"
#include "report.h"
#include "store.h"

static int key(char out[128], const char *app, const char *what)
{
	return snprintf(out, 128, "pause/%s/%s", app, what) >= 128 ? E_LIMIT : 0;
}

/* Both keys of app, and a store group begun: 0, or nothing begun. */
static int begin(struct store *st, const char *app, char k[128], char r[128])
{
	int rc = key(k, app, "until");

	if (!rc)
		rc = key(r, app, "reason");
	return rc ? rc : store_begin(st);
}

/* The group ends: committed when rc is 0, else nothing of it stays. */
static int end(struct store *st, int rc)
{
	if (!rc)
		return store_commit(st);
	store_rollback(st);
	return rc;
}

int pause_get(struct store *st, const struct config *cfg, const char *app, int64_t now,
	      struct pause *p)
{
	struct buf why = BUF_INIT(PAUSE_REASON_MAX + 1);
	char k[128];
	int64_t until = -1;
	struct stat sb;
	int rc = key(k, app, "until");

	memset(p, 0, sizeof(*p));
	if (!rc)
		rc = store_setting_get_int(st, k, -1, &until);
	if (!rc && until >= 0 && (until == 0 || until > now)) {
		p->paused = 1;
		p->until = until;
		rc = key(k, app, "reason");
		if (!rc)
			rc = store_setting_get(st, k, &why);
		if (!rc)
			snprintf(p->reason, sizeof(p->reason), "%s", why.data);
		if (rc == E_NOTFOUND)
			rc = 0;
	}
	buf_free(&why);
	if (rc)
		return error(rc, "pause %s: the state store cannot be read", app);
	if (!p->paused && cfg->pause_file && (stat(cfg->pause_file, &sb) == 0 || errno != ENOENT)) {
		p->paused = 1;
		p->by_file = 1;
		p->until = 0;
		snprintf(p->reason, sizeof(p->reason), "%s exists", cfg->pause_file);
	}
	return 0;
}

int pause_set(struct store *st, const struct config *cfg, const char *app, int64_t until,
	      const char *reason)
{
	struct buf msg = BUF_INIT(512);
	struct pause p = { 1, 0, until, "" };
	size_t n = strlen(reason);
	char k[128], r[128];
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			n = PAUSE_REASON_MAX + 1;
	if (n > PAUSE_REASON_MAX)
		return error(E_USAGE, "pause %s: the reason must be at most %d printable "
			     "characters", app, PAUSE_REASON_MAX);
	snprintf(p.reason, sizeof(p.reason), "%s", reason);
	rc = begin(st, app, k, r);
	if (rc)
		return rc;
	rc = store_setting_set_int(st, k, until);
	if (!rc)
		rc = store_setting_set(st, r, reason, strlen(reason));
	if (!rc && !pause_describe(&p, &msg))
		rc = report_queue_condition(st, cfg, config_app_find(cfg, app)->channel,
					    "paused", msg.data);
	rc = end(st, rc);
	if (!rc)
		log_info("%s: %s", app, msg.data);
	buf_free(&msg);
	return rc;
}

int pause_clear(struct store *st, const struct config *cfg, const char *app)
{
	int64_t until = -1;
	char k[128], r[128];
	int rc = begin(st, app, k, r);

	if (rc)
		return rc;
	rc = store_setting_get_int(st, k, -1, &until);
	if (!rc)
		rc = store_setting_delete(st, k);
	if (!rc)
		rc = store_setting_delete(st, r);
	if (!rc && until >= 0)
		rc = report_queue_condition(st, cfg, config_app_find(cfg, app)->channel,
					    "resumed", "resumed");
	rc = end(st, rc);
	if (!rc)
		log_info("%s: %s", app, until >= 0 ? "resumed" : "was not paused");
	return rc;
}

int pause_describe(const struct pause *p, struct buf *out)
{
	char when[META_TIME_LEN + 1];

	if (!p->paused)
		return 0;
	if (p->by_file)
		return buf_addf(out, "paused by the site: %s", p->reason);
	buf_addstr(out, "paused");
	if (p->until) {
		meta_time_format(p->until, when);
		buf_addf(out, " until %s", when);
	} else {
		buf_addstr(out, " until resumed");
	}
	if (*p->reason)
		buf_addf(out, " by \"%s\"", p->reason);
	return buf_error(out);
}
