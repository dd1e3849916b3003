/*
 * cmd — the subcommands of the outpost binary. Each takes the arguments
 * after its own name (argv[0] is the command name) and returns an exit
 * status: 0 success, 1 failure, 2 bad usage.
 */
#ifndef OUTPOST_CMD_H
#define OUTPOST_CMD_H

#include <stdio.h>

struct cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;      /* arguments, after "outpost NAME" */
	const char *summary;    /* one line for `outpost --help` */
};

/* The table, ended by a zeroed entry. */
extern const struct cmd cmds[];

/* The command called name, or NULL. */
const struct cmd *cmd_find(const char *name);

/* The overview of `outpost --help`. */
void cmd_print_help(FILE *f);

/* Print "usage: outpost NAME USAGE" on stderr and return 2. */
int cmd_usage(const char *name);

/* For a command that takes no arguments: 0 when it has none; "--help"
 * prints its usage line and exits 0; anything else is refused (2). */
int cmd_no_args(const char *cmd, int argc, char **argv);

/* Log "CMD: why ARG" and the usage line of CMD; returns 2. */
int cmd_bad_usage(const char *cmd, const char *why, const char *arg);

/* A command with subcommands ("root init", "bundle pack"): a table of them. */
struct subcmd {
	const char *name;
	int (*run)(int argc, char **argv);
};

/* Run the subcommand argv[1] of cmd from subs (NULL-ended), with argv + 1. */
int cmd_dispatch(const char *cmd, const struct subcmd *subs, int argc, char **argv);

/*
 * agent/cli/cmd_sign.c: signing keys and detached signatures. The usage strings
 * live with the commands, which print them without the table in main.c.
 */
extern const char cmd_keygen_usage[], cmd_sign_usage[], cmd_verify_usage[];
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* agent/cli/cmd_identity.c: the gateway's age identity. */
extern const char cmd_identity_usage[];
int cmd_identity(int argc, char **argv);

/* agent/cli/cmd_publish.c: the release server's tools. */
extern const char cmd_root_usage[], cmd_bundle_usage[], cmd_release_usage[];
int cmd_root(int argc, char **argv);
int cmd_bundle(int argc, char **argv);
int cmd_release(int argc, char **argv);

/* agent/cli/cmd_kube.c: the Kubernetes API client as a command (tests, operators). */
extern const char cmd_kube_usage[];
int cmd_kube(int argc, char **argv);

/* agent/cli/cmd_config.c: load and check the agent's configuration file. */
extern const char cmd_check_config_usage[];
int cmd_check_config(int argc, char **argv);

/* agent/cli/cmd_agent.c: the gateway's commands. */
extern const char cmd_import_usage[], cmd_once_usage[], cmd_run_usage[],
	cmd_status_usage[], cmd_history_usage[], cmd_rollback_usage[],
	cmd_pause_usage[], cmd_resume_usage[];
int cmd_import(int argc, char **argv);
int cmd_once(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);

#endif
