/* main — command-line entry: global options, then one subcommand. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "opts.h"
#include "upstream.h"
#include "verifier.h"

int main(int argc, char **argv)
{
	const struct cmd *c;
	const char *config = NULL, *level = NULL;
	int version = 0, help = 0, l;
	const struct opt table[] = {
		OPT_FLAG("version", 'V', &version, "show version, features and library versions"),
		OPT_FLAG("help", 'h', &help, "show the commands"),
		OPT_STRING("config", 0, &config, "FILE", "the configuration file"),
		OPT_STRING("log-level", 0, &level, "LEVEL", "error, warn, info or debug"),
		{ 0 }
	};
	/* the global options end at the command: its options are its own */
	struct opts o = OPTS_INIT(NULL, NULL, table, NULL, 0);

	o.stop = 1;
	if (opts_parse(&o, argc, argv))
		return 2;
	if (config)
		config_set_path(config);
	if (level) {
		l = log_level_parse(level);
		if (l < 0) {
			error(E_USAGE, "--log-level: '%s' is not one of error, warn, info, debug",
			      level);
			return 2;
		}
		log_set_level((enum log_level)l);
	}
	if (version)
		return cmd_find("version")->run(1, argv);
	if (help) {
		cmd_print_help(stdout);
		return 0;
	}
	if (o.next >= argc) {
		cmd_print_help(stderr);
		return 2;
	}
	/* not a command: the privilege-separated child the agent starts */
	if (IS_ENABLED(CONFIG_PRIVSEP) && strcmp(argv[o.next], VERIFIER_COMMAND) == 0)
		return upstream_child_main();
	c = cmd_find(argv[o.next]);
	if (!c) {
		error(E_USAGE, "unknown command '%s' (see outpost --help)", argv[o.next]);
		return 2;
	}
	return c->run(argc - o.next, argv + o.next);
}
