/*
 * cmd_agent — the gateway's commands: `run` (the daemon), `once` (one
 * cycle), `import` (side-load a bundle), `status`, `history`, `rollback`.
 * Exit status: 0 done; 1 failed (a release failed and was rolled back, or
 * an error); 2 bad usage; 3 the Kubernetes API could not be reached, so
 * the outcome is unknown (nothing was marked failed). `once`, each cycle of
 * `run`, `import` and `rollback` end by rewriting the metrics file.
 */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "cmd.h"
#include "config.h"
#include "error.h"
#include "features.h"
#include "fetch.h"
#include "log.h"
#include "meta.h"
#include "metrics.h"
#include "opts.h"
#include "pause.h"
#include "report.h"
#include "roots.h"
#include "schedule.h"
#include "sdnotify.h"
#include "status.h"
#include "upstream.h"

const char cmd_import_usage[] = "FILE [--force] [--no-apply]";
const char cmd_once_usage[] = "";
const char cmd_run_usage[] = "";
const char cmd_status_usage[] = "[--json]";
const char cmd_history_usage[] = "[APP] [-n COUNT]";
const char cmd_rollback_usage[] = "APP [--to SEQUENCE]";
const char cmd_pause_usage[] = "APP|--all [--until TIME|--for DURATION] [--reason TEXT]";
const char cmd_resume_usage[] = "APP|--all";

#define EXIT_UNKNOWN 3

static int exit_code(int rc)
{
	return rc == 0 ? 0 : rc == E_UNAVAILABLE ? EXIT_UNKNOWN : 1;
}

/* Load the configuration and open the agent; logs why not. */
static int open_agent(struct config *cfg, struct agent **a)
{
	int rc = config_load(NULL, cfg);

	if (rc)
		return rc;
	log_set_default_level((enum log_level)cfg->log_level);
	rc = agent_open(a, cfg);
	if (rc)
		config_free(cfg);
	return rc;
}

static void close_agent(struct config *cfg, struct agent *a)
{
	log_progress_end();
	agent_close(a);
	config_free(cfg);
}

/* Fold one app's outcome into the cycle's: unknown yields to failure. */
static void outcome(int *worst, int rc)
{
	if (rc == E_UNAVAILABLE && *worst != E_STATE)
		*worst = rc;
	else if (rc && rc != E_UNAVAILABLE)
		*worst = *worst ? *worst : rc;
}

/*
 * One cycle over every app: poll its channel when due (every app at once
 * when force) and store a new verified release, take one step of its
 * newest release (inside its maintenance window), correct drift; then
 * send the queued reports.
 *
 * Apps progress independently, in one thread: a step never blocks on a
 * wait (agent_advance()). A release waiting for health is looked at once
 * per cycle and says when to come back (wakes[i]; the earliest of them);
 * the loop of `run` then comes back within a second, while polls, drift,
 * reports and signals go on as before. The store's transitions stay the
 * only record of where each release is, so a step, a restart or a crash
 * all resume the same way. One thread also bounds the Kubernetes API
 * connections of all apps together: the one pool of kubernetes.parallel.
 * A paused app polls and verifies, applies nothing new, corrects no drift.
 */
/* The earliest of n wake times (0: none waits). */
static int64_t earliest(const int64_t *wakes, size_t n)
{
	int64_t t = 0;

	for (size_t i = 0; i < n; i++)
		if (wakes[i] && (!t || wakes[i] < t))
			t = wakes[i];
	return t;
}

static int cycle(struct agent *a, struct fetch *f, struct upstream *up,
		 const struct config *cfg, struct schedule_state *reports, int drift,
		 int force, int64_t wakes[CFG_APPS_MAX])
{
	size_t order[CFG_APPS_MAX];
	int worst = 0, walked = roots_walk(a, up, cfg);

	/* a newer root first: what the channels publish may need it */
	outcome(&worst, walked == E_NETWORK || walked == E_HTTP || walked > 0 ? 0 : walked);
	config_app_order(cfg, order);
	for (size_t k = 0; k < cfg->napps; k++) {
		size_t i = order[k];
		const struct config_app *app = &cfg->apps[i];
		int64_t *w = &wakes[i];
		size_t corrected;
		int rc = fetch_poll(f, app, force);

		/* an unreachable server fails nothing here: it is polled again
		 * later; what it published and was refused is a failure */
		outcome(&worst, rc == E_NETWORK || rc == E_HTTP || rc > 0 ? 0 : rc);
		*w = 0;
		rc = fetch_may_apply(f, app, (int64_t)time(NULL)) ?
		     agent_advance(a, app->name, w) : 0;
		if (!rc && !*w && drift && IS_ENABLED(CONFIG_DRIFT) && cfg->drift.interval) {
			rc = agent_paused(a, app->name);
			if (rc == 0)
				rc = agent_drift(a, app->name, &corrected);
			rc = rc == 1 ? 0 : rc;
		}
		/* one app's failure never stops the others */
		outcome(&worst, rc);
	}
	report_flush(up, agent_store(a), cfg, reports, force);
	return worst;
}

int cmd_import(int argc, char **argv)
{
	const char *path = NULL;
	int force = 0, noapply = 0, rc;
	struct config cfg;
	struct agent *a;
	char app[64];
	const struct opt table[] = {
		OPT_FLAG("force", 0, &force, "import even what is not newer"),
		OPT_FLAG("no-apply", 0, &noapply, "store the bundle, do not apply it"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("import", NULL, table, &path, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!path)
		return cmd_bad_usage("import", "which bundle FILE?", NULL);
	rc = open_agent(&cfg, &a);
	if (rc)
		return 1;
	rc = agent_import(a, path, force, app);
	if (!rc && !noapply)
		rc = agent_step(a, app);
	metrics_write(agent_store(a), &cfg);
	close_agent(&cfg, a);
	return exit_code(rc);
}

int cmd_once(int argc, char **argv)
{
	struct upstream *up = NULL;
	struct fetch *f = NULL;
	struct schedule_state reports = { 0 };
	int64_t wakes[CFG_APPS_MAX] = { 0 }, due;
	struct config cfg;
	struct agent *a;
	int rc;

	if (cmd_no_args("once", argc, argv))
		return 2;
	if (open_agent(&cfg, &a))
		return 1;
	rc = upstream_new(&up, &cfg);
	if (!rc)
		rc = fetch_new(&f, a, up, &cfg);
	/* asked for by hand: every channel is polled now, whatever its
	 * schedule; then the apps that wait are stepped until none does */
	if (!rc)
		rc = cycle(a, f, up, &cfg, &reports, 1, 1, wakes);
	while (rc != E_NOMEM && (due = earliest(wakes, cfg.napps))) {
		while ((int64_t)time(NULL) < due)
			usleep(100 * 1000);
		for (size_t i = 0; i < cfg.napps; i++)
			if (wakes[i] && wakes[i] <= (int64_t)time(NULL))
				outcome(&rc, agent_advance(a, cfg.apps[i].name, &wakes[i]));
		if (!earliest(wakes, cfg.napps))
			report_flush(up, agent_store(a), &cfg, &reports, 1);
	}
	fetch_free(f);
	upstream_free(up);
	metrics_write(agent_store(a), &cfg);
	close_agent(&cfg, a);
	return exit_code(rc);
}

static volatile sig_atomic_t stop, reload;

/* The line `systemctl status outpost` shows after each cycle. */
static void notify_status(const struct config *cfg, int rc, int64_t due)
{
	time_t now = time(NULL);
	struct tm tm;
	char at[16];

	gmtime_r(&now, &tm);
	strftime(at, sizeof(at), "%H:%M:%SZ", &tm);
	sdnotify_status("%zu app%s; last cycle %s: %s; next in %lld s", cfg->napps,
			cfg->napps == 1 ? "" : "s", at,
			rc == 0 ? "ok" : rc == E_UNAVAILABLE ? "Kubernetes API unreachable" :
			rc == E_STATE ? "a release failed and was rolled back" : err_str(rc),
			(long long)(due - (int64_t)now));
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		stop = 1;
}

int cmd_run(int argc, char **argv)
{
	struct sigaction sa;
	/* two configurations that live as long as the loop: the agent, fetch
	 * and upstream point at the running one; a reload loads into the
	 * other and the two swap only when the new one opened */
	struct config slot[2];
	struct config *cfg = &slot[0];
	struct agent *a;
	struct upstream *up = NULL;
	struct fetch *f = NULL;
	struct schedule_state reports = { 0 };  /* the report outbox's retries */
	time_t next_drift = 0;

	if (cmd_no_args("run", argc, argv))
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;     /* no SA_RESTART: sleeps end early */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (open_agent(cfg, &a))
		return 1;
	if (upstream_new(&up, cfg) || fetch_new(&f, a, up, cfg)) {
		upstream_free(up);
		close_agent(cfg, a);
		return 1;
	}
	log_info("running: %zu app%s, state in %s", cfg->napps, cfg->napps == 1 ? "" : "s",
		 cfg->state_dir);
	sdnotify_ready();
	while (!stop) {
		time_t now = time(NULL);
		int drift = cfg->drift.interval && now >= next_drift;
		int64_t due, wakes[CFG_APPS_MAX] = { 0 }, wake;
		int rc;

		sdnotify_watchdog();
		rc = cycle(a, f, up, cfg, &reports, drift, 0, wakes);
		wake = earliest(wakes, cfg->napps);
		sdnotify_watchdog();
		metrics_write(agent_store(a), cfg);
		if (drift)
			next_drift = now + cfg->drift.interval;
		/* sleep until the first thing is due: a poll (on its own schedule,
		 * kept in the store), a window opening, or drift */
		due = fetch_next_due(f, (int64_t)time(NULL));
		if (cfg->drift.interval && next_drift < due)
			due = next_drift;
		if (wake && wake < due)
			due = wake;     /* an app waits: its next look */
		if (due <= (int64_t)time(NULL))
			due = (int64_t)time(NULL) + 1;   /* never a busy loop */
		notify_status(cfg, rc, due);
		/* finishes the current step first: signals only end the wait;
		 * the watchdog is pinged while waiting too */
		while ((int64_t)time(NULL) < due && !stop && !reload) {
			sleep(1);
			sdnotify_watchdog();
		}
		if (reload && !stop) {
			struct config *fresh = cfg == &slot[0] ? &slot[1] : &slot[0];
			struct agent *b;

			reload = 0;
			sdnotify_reloading();
			if (open_agent(fresh, &b) == 0) {
				fetch_free(f);
				f = NULL;
				upstream_free(up);
				up = NULL;
				close_agent(cfg, a);
				cfg = fresh;
				a = b;
				/* the new agent with its own config: cannot fail but for memory */
				if (upstream_new(&up, cfg) || fetch_new(&f, a, up, cfg))
					break;
				log_info("configuration reloaded");
			} else {
				log_error("configuration not reloaded: keeping the running one");
			}
			sdnotify_ready();
		}
	}
	log_info("stopping");
	sdnotify_stopping();
	fetch_free(f);
	upstream_free(up);
	close_agent(cfg, a);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct buf out = BUF_INIT(1 << 20);
	struct config cfg;
	struct agent *a;
	int json = 0, rc;
	const struct opt table[] = {
		OPT_FLAG("json", 0, &json, "print JSON"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("status", NULL, table, NULL, 0);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (open_agent(&cfg, &a))
		return 1;
	rc = status_show(a, &cfg, json, &out);
	fputs(out.data, stdout);
	buf_free(&out);
	close_agent(&cfg, a);
	return exit_code(rc);
}

int cmd_history(int argc, char **argv)
{
	struct buf out = BUF_INIT(4 << 20);
	const char *app = NULL;
	long long count = 50;
	struct config cfg;
	struct agent *a;
	int rc;
	const struct opt table[] = {
		OPT_INT(NULL, 'n', &count, 1, 10000, "N", "the newest N transitions"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("history", NULL, table, &app, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (open_agent(&cfg, &a))
		return 1;
	rc = status_history(agent_store(a), &cfg, app, (size_t)count, &out);
	fputs(out.data, stdout);
	buf_free(&out);
	close_agent(&cfg, a);
	return exit_code(rc);
}

int cmd_rollback(int argc, char **argv)
{
	const char *app = NULL;
	long long to = 0;
	struct config cfg;
	struct agent *a;
	int rc;
	const struct opt table[] = {
		OPT_INT("to", 0, &to, 1, LLONG_MAX, "SEQ", "the stored release to go back to"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("rollback", NULL, table, &app, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!app)
		return cmd_bad_usage("rollback", "which APP?", NULL);
	if (open_agent(&cfg, &a))
		return 1;
	rc = agent_rollback(a, app, to);
	metrics_write(agent_store(a), &cfg);
	close_agent(&cfg, a);
	return exit_code(rc);
}

/*
 * pause and resume: the app named (or every app) in the store, where the
 * running agent finds it at its next cycle. A paused app polls and
 * verifies but applies nothing new and corrects no drift.
 */
static int pause_or_resume(const char *cmd, int argc, char **argv, int pausing)
{
	const char *app = NULL, *until = NULL, *dur = NULL, *reason = "";
	int all = 0, rc = 0, hit = 0;
	int64_t when = 0, now = (int64_t)time(NULL);
	struct config cfg;
	struct agent *a;
	const struct opt ptable[] = {
		OPT_FLAG("all", 0, &all, "every app of this gateway"),
		OPT_STRING("until", 0, &until, "TIME", "until a UTC time (2026-12-02T18:00:00Z)"),
		OPT_STRING("for", 0, &dur, "DURATION", "for a while from now (90m, 2h, 1d)"),
		OPT_STRING("reason", 0, &reason, "TEXT", "why, shown in status and reported"),
		{ 0 }
	};
	const struct opt rtable[] = {
		OPT_FLAG("all", 0, &all, "every app of this gateway"),
		{ 0 }
	};
	struct opts o = OPTS_INIT(cmd, NULL, pausing ? ptable : rtable, &app, 1);

	if (opts_parse(&o, argc, argv))
		return 2;
	if (!app == !all)
		return opts_refuse(&o, "name one APP, or --all");
	if (until && dur)
		return opts_refuse(&o, "--until and --for: one of them");
	if (until && (meta_time_parse(until, &when) || when <= now))
		return opts_refuse(&o, "--until %s: a UTC time to come (2026-12-02T18:00:00Z)",
				   until);
	if (dur && (meta_time_parse(dur, &when) == 0 || opts_when(dur, now, &when)))
		return opts_refuse(&o, "--for %s: a duration (90m, 2h, 1d)", dur);
	if (open_agent(&cfg, &a))
		return 1;
	for (size_t i = 0; !rc && i < cfg.napps; i++) {
		const struct config_app *c = &cfg.apps[i];

		if (!all && strcmp(c->name, app) != 0)
			continue;
		hit = 1;
		rc = pausing ? pause_set(agent_store(a), &cfg, c->name, when, reason) :
		     pause_clear(agent_store(a), &cfg, c->name);
	}
	if (!rc && !hit)
		rc = error(E_NOTFOUND, "%s: app '%s' is not configured on this gateway", cmd, app);
	if (!rc)
		metrics_write(agent_store(a), &cfg);
	close_agent(&cfg, a);
	return exit_code(rc);
}

int cmd_pause(int argc, char **argv)
{
	return pause_or_resume("pause", argc, argv, 1);
}

int cmd_resume(int argc, char **argv)
{
	return pause_or_resume("resume", argc, argv, 0);
}
