/* cmd — the command table and what every command shares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "error.h"
#include "log.h"
#include "store.h"
#include "version.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

const struct cmd cmds[] = {
	{ "help", cmd_help, "[COMMAND]", "show the commands, or one command's usage" },
	{ "run", cmd_run, cmd_run_usage, "run the agent: poll, apply, check health, roll back" },
	{ "once", cmd_once, cmd_once_usage, "one cycle over every app; the exit code tells the result" },
	{ "import", cmd_import, cmd_import_usage, "side-load a bundle (USB stick), verified, then apply it" },
	{ "status", cmd_status, cmd_status_usage, "each app's current and newest release" },
	{ "history", cmd_history, cmd_history_usage, "release transitions, newest first" },
	{ "rollback", cmd_rollback, cmd_rollback_usage, "roll an app back by hand to a stored release" },
	{ "pause", cmd_pause, cmd_pause_usage, "apply nothing new to an app (or all) for now" },
	{ "resume", cmd_resume, cmd_resume_usage, "end a pause" },
	{ "version", cmd_version, "", "show version, features and library versions" },
	{ "identity", cmd_identity, cmd_identity_usage,
	  "make or show the gateway's age identity, which opens encrypted Secrets" },
	{ "keygen", cmd_keygen, cmd_keygen_usage,
	  "create a P-256 signing key: NAME.key (mode 0600) and NAME.pub" },
	{ "sign", cmd_sign, cmd_sign_usage,
	  "sign FILE with a key, adding or replacing its line in FILE.sig" },
	{ "verify", cmd_verify, cmd_verify_usage,
	  "check that N of the given keys signed FILE" },
	{ "root", cmd_root, cmd_root_usage, "create, sign, rotate and check trust roots" },
	{ "bundle", cmd_bundle, cmd_bundle_usage, "pack, sign, verify and inspect release bundles" },
	{ "release", cmd_release, cmd_release_usage, "create a channel's signed release pointer" },
	{ "kube", cmd_kube, cmd_kube_usage, "a tiny kubectl: discover, apply, get, list, delete" },
	{ "check-config", cmd_check_config, cmd_check_config_usage,
	  "check the configuration file and the files it names" },
	{ NULL, NULL, NULL, NULL }
};

const struct cmd *cmd_find(const char *name)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cmd_usage(const char *name)
{
	const struct cmd *c = cmd_find(name);

	fprintf(stderr, "usage: outpost %s %s\n", name, c ? c->usage : "");
	return 2;
}

int cmd_bad_usage(const char *cmd, const char *why, const char *arg)
{
	error(E_USAGE, "%s: %s%s%s", cmd, why, arg ? " " : "", arg ? arg : "");
	return cmd_usage(cmd);
}

int cmd_no_args(const char *cmd, int argc, char **argv)
{
	if (argc < 2)
		return 0;
	if (strcmp(argv[1], "--help") == 0) {
		printf("usage: outpost %s %s\n", cmd, cmd_find(cmd) ? cmd_find(cmd)->usage : "");
		exit(0);
	}
	return cmd_bad_usage(cmd, argv[1][0] == '-' ? "unknown option" : "unexpected argument",
			     argv[1]);
}

int cmd_dispatch(const char *cmd, const struct subcmd *subs, int argc, char **argv)
{
	if (argc < 2)
		return cmd_usage(cmd);
	if (strcmp(argv[1], "--help") == 0) {   /* each subcommand's: SUB --help */
		printf("usage: outpost %s %s\n", cmd, cmd_find(cmd) ? cmd_find(cmd)->usage : "");
		return 0;
	}
	for (; subs->name; subs++)
		if (strcmp(subs->name, argv[1]) == 0)
			return subs->run(argc - 1, argv + 1);
	return cmd_bad_usage(cmd, "unknown subcommand", argv[1]);
}

void cmd_print_help(FILE *f)
{
	fputs("usage: outpost [--config FILE] [--log-level LEVEL] COMMAND [ARGS]\n"
	      "       outpost --version | --help\n\n"
	      "outpost is a pull-based GitOps agent for single-node k3s gateways:\n"
	      "it fetches signed release bundles, applies them to the local\n"
	      "cluster, checks their health and rolls back when they fail.\n\n"
	      "commands:\n", f);
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-12s %s\n", c->name, c->summary);
	fputs("\n'outpost help COMMAND' shows a command's usage.\n", f);
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		cmd_print_help(stdout);
		return 0;
	}
	if (argc > 2)
		return cmd_usage(argv[0]);
	if (strcmp(argv[1], "--help") == 0) {
		printf("usage: outpost help [COMMAND]\n");
		return 0;
	}
	c = cmd_find(argv[1]);
	if (!c) {
		error(E_USAGE, "help: no command '%s'", argv[1]);
		return 2;
	}
	printf("usage: outpost %s %s\n\n%s\n\n'outpost %s --help' shows its options.\n",
	       c->name, c->usage, c->summary, c->name);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	struct buf out = BUF_INIT(8192);
	int rc;

	if (cmd_no_args("version", argc, argv))
		return 2;
	rc = version_describe(&out, store_library_version());
	if (!rc)
		fputs(out.data, stdout);
	buf_free(&out);
	return rc ? error(rc, "version: %s", err_str(rc)), 1 : 0;
}

