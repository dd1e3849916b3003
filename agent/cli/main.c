/* main — command-line entry: global options, then one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "error.h"
#include "log.h"

int main(int argc, char **argv)
{
	const struct cmd *c;
	const char *v;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			return cmd_find("version")->run(1, argv + i);
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cmd_print_help(stdout);
			return 0;
		} else if (cmd_opt(argc, argv, &i, "--config", &v) > 0) {
			config_set_path(v);
			i++;
		} else if (cmd_opt(argc, argv, &i, "--log-level", &v) > 0) {
			int level = log_level_parse(v);

			if (level < 0) {
				error(E_USAGE, "--log-level: '%s' is not one of error, warn, info, debug",
				      v);
				return 2;
			}
			log_set_level((enum log_level)level);
			i++;
		} else {
			error(E_USAGE, "unknown option '%s' (see outpost --help)", a);
			return 2;
		}
	}
	if (i >= argc) {
		cmd_print_help(stderr);
		return 2;
	}
	c = cmd_find(argv[i]);
	if (!c) {
		error(E_USAGE, "unknown command '%s' (see outpost --help)", argv[i]);
		return 2;
	}
	return c->run(argc - i, argv + i);
}
