/*
 * cmd_agent — the gateway's commands: `run` (the daemon), `once` (one
 * cycle), `import` (side-load a bundle), `status`, `history`, `rollback`.
 * Exit status: 0 done; 1 failed (a release failed and was rolled back, or
 * an error); 2 bad usage; 3 the Kubernetes API could not be reached, so
 * the outcome is unknown (nothing was marked failed).
 */
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
#include "log.h"

const char cmd_import_usage[] = "FILE [--force] [--no-apply]";
const char cmd_once_usage[] = "";
const char cmd_run_usage[] = "";
const char cmd_status_usage[] = "[--json]";
const char cmd_history_usage[] = "[APP] [-n COUNT]";
const char cmd_rollback_usage[] = "APP [--to SEQUENCE]";

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
	agent_close(a);
	config_free(cfg);
}

/* One cycle over every app: carry releases on, then correct drift. */
static int cycle(struct agent *a, const struct config *cfg, int drift)
{
	int worst = 0;

	for (size_t i = 0; i < cfg->napps; i++) {
		const char *app = cfg->apps[i].name;
		size_t corrected;
		int rc = agent_step(a, app);

		if (!rc && drift && IS_ENABLED(CONFIG_DRIFT) && cfg->drift.interval)
			rc = agent_drift(a, app, &corrected);
		/* one app's failure never stops the others */
		if (rc == E_UNAVAILABLE && worst != E_STATE)
			worst = rc;
		else if (rc && rc != E_UNAVAILABLE)
			worst = worst ? worst : rc;
	}
	return worst;
}

int cmd_import(int argc, char **argv)
{
	const char *path = NULL;
	int force = 0, apply = 1, rc;
	struct config cfg;
	struct agent *a;
	char app[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (strcmp(argv[i], "--no-apply") == 0)
			apply = 0;
		else if (!path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			return cmd_bad_usage("import", "unexpected argument", argv[i]);
	}
	if (!path)
		return cmd_bad_usage("import", "which bundle FILE?", NULL);
	rc = open_agent(&cfg, &a);
	if (rc)
		return 1;
	rc = agent_import(a, path, force, app);
	if (!rc && apply)
		rc = agent_step(a, app);
	close_agent(&cfg, a);
	return exit_code(rc);
}

int cmd_once(int argc, char **argv)
{
	struct config cfg;
	struct agent *a;
	int rc;

	if (argc > 1)
		return cmd_bad_usage("once", "unexpected argument", argv[1]);
	if (open_agent(&cfg, &a))
		return 1;
	rc = cycle(a, &cfg, 1);
	close_agent(&cfg, a);
	return exit_code(rc);
}

static volatile sig_atomic_t stop, reload;

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
	struct config cfg;
	struct agent *a;
	time_t next_drift = 0;

	if (argc > 1)
		return cmd_bad_usage("run", "unexpected argument", argv[1]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;     /* no SA_RESTART: sleeps end early */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (open_agent(&cfg, &a))
		return 1;
	log_info("running: %zu app%s, state in %s", cfg.napps, cfg.napps == 1 ? "" : "s",
		 cfg.state_dir);
	while (!stop) {
		time_t now = time(NULL);
		int drift = cfg.drift.interval && now >= next_drift;
		unsigned wait = cfg.poll.default_interval;

		cycle(a, &cfg, drift);
		if (drift)
			next_drift = now + cfg.drift.interval;
		if (cfg.drift.interval && cfg.drift.interval < wait)
			wait = cfg.drift.interval;
		/* finishes the current step first: signals only end the wait */
		for (unsigned s = 0; s < wait && !stop && !reload; s++)
			sleep(1);
		if (reload && !stop) {
			struct config fresh;
			struct agent *b;

			reload = 0;
			if (open_agent(&fresh, &b) == 0) {
				close_agent(&cfg, a);
				cfg = fresh;
				a = b;
				log_info("configuration reloaded");
			} else {
				log_error("configuration not reloaded: keeping the running one");
			}
		}
	}
	log_info("stopping");
	close_agent(&cfg, a);
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct buf out = BUF_INIT(1 << 20);
	struct config cfg;
	struct agent *a;
	int json = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return cmd_bad_usage("status", "unexpected argument", argv[i]);
	}
	if (open_agent(&cfg, &a))
		return 1;
	rc = agent_status(a, json, &out);
	fputs(out.data, stdout);
	buf_free(&out);
	close_agent(&cfg, a);
	return exit_code(rc);
}

int cmd_history(int argc, char **argv)
{
	struct buf out = BUF_INIT(4 << 20);
	const char *app = NULL, *v;
	long count = 50;
	struct config cfg;
	struct agent *a;
	int rc, o;

	for (int i = 1; i < argc; i++) {
		if ((o = cmd_opt(argc, argv, &i, "-n", &v)) > 0) {
			char *end;

			count = strtol(v, &end, 10);
			if (*end || count < 1 || count > 10000)
				return cmd_bad_usage("history", "-n takes 1 to 10000, not", v);
		} else if (o == 0 && !app && argv[i][0] != '-') {
			app = argv[i];
		} else {
			return cmd_bad_usage("history", "unexpected argument", argv[i]);
		}
	}
	if (open_agent(&cfg, &a))
		return 1;
	rc = agent_history(a, app, (size_t)count, &out);
	fputs(out.data, stdout);
	buf_free(&out);
	close_agent(&cfg, a);
	return exit_code(rc);
}

int cmd_rollback(int argc, char **argv)
{
	const char *app = NULL, *v;
	long long to = 0;
	struct config cfg;
	struct agent *a;
	int rc, o;

	for (int i = 1; i < argc; i++) {
		if ((o = cmd_opt(argc, argv, &i, "--to", &v)) > 0) {
			char *end;

			to = strtoll(v, &end, 10);
			if (*end || to < 1)
				return cmd_bad_usage("rollback", "--to takes a sequence, not", v);
		} else if (o == 0 && !app && argv[i][0] != '-') {
			app = argv[i];
		} else {
			return cmd_bad_usage("rollback", "unexpected argument", argv[i]);
		}
	}
	if (!app)
		return cmd_bad_usage("rollback", "which APP?", NULL);
	if (open_agent(&cfg, &a))
		return 1;
	rc = agent_rollback(a, app, to);
	close_agent(&cfg, a);
	return exit_code(rc);
}
