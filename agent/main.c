/* main — command-line entry: global options, then one subcommand. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "cmd.h"
#include "error.h"
#include "log.h"
#include "version.h"

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

const struct cmd cmds[] = {
	{ "help", cmd_help, "[COMMAND]", "show the commands, or one command's usage" },
	{ "version", cmd_version, "", "show version, features and library versions" },
	{ NULL, NULL, NULL, NULL }
};

static const struct cmd *cmd_find(const char *name)
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

static void help(FILE *f)
{
	fputs("usage: outpost [--log-level LEVEL] COMMAND [ARGS]\n"
	      "       outpost --version | --help\n\n"
	      "outpost is a pull-based GitOps agent for single-node k3s gateways:\n"
	      "it fetches signed release bundles, applies them to the local\n"
	      "cluster, checks their health and rolls back when they fail.\n\n"
	      "commands:\n", f);
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fputs("\n'outpost help COMMAND' shows a command's usage.\n", f);
}

static int cmd_help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc < 2) {
		help(stdout);
		return 0;
	}
	if (argc > 2)
		return cmd_usage(argv[0]);
	c = cmd_find(argv[1]);
	if (!c) {
		error(E_USAGE, "help: no command '%s'", argv[1]);
		return 2;
	}
	printf("usage: outpost %s %s\n\n%s\n", c->name, c->usage, c->summary);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	struct buf out = BUF_INIT(8192);
	int rc;

	if (argc > 1)
		return cmd_usage(argv[0]);
	rc = version_describe(&out);
	if (!rc)
		fputs(out.data, stdout);
	buf_free(&out);
	return rc ? error(rc, "version: %s", err_str(rc)), 1 : 0;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			return cmd_version(1, argv + i);
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help(stdout);
			return 0;
		} else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
			int level = log_level_parse(argv[i + 1]);

			if (level < 0) {
				error(E_USAGE, "--log-level: '%s' is not one of error, warn, info, debug",
				      argv[i + 1]);
				return 2;
			}
			log_set_level((enum log_level)level);
			i += 2;
		} else {
			error(E_USAGE, "unknown option '%s' (see outpost --help)", a);
			return 2;
		}
	}
	if (i >= argc) {
		help(stderr);
		return 2;
	}
	c = cmd_find(argv[i]);
	if (!c) {
		error(E_USAGE, "unknown command '%s' (see outpost --help)", argv[i]);
		return 2;
	}
	return c->run(argc - i, argv + i);
}
