/*
 * cmd — the subcommands of the outpost binary. Each takes the arguments
 * after its own name (argv[0] is the command name) and returns an exit
 * status: 0 success, 1 failure, 2 bad usage.
 */
#ifndef OUTPOST_CMD_H
#define OUTPOST_CMD_H

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;      /* arguments, after "outpost NAME" */
	const char *summary;    /* one line for `outpost --help` */
};

/* The table, ended by a zeroed entry. */
extern const struct cmd cmds[];

/* Print "usage: outpost NAME USAGE" on stderr and return 2. */
int cmd_usage(const char *name);

#endif
