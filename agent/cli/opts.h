/*
 * opts — the commands' options as tables, parsed by one function, so every
 * command refuses a bad command line the same way and no command has its
 * own argv loop (git's parse-options is the model).
 *
 * A command describes its options:
 *
 *	static const struct opt table[] = {
 *		OPT_INT("to", 0, &to, 1, LLONG_MAX, "SEQ", "the release to go back to"),
 *		OPT_FLAG("json", 0, &json, "print JSON"),
 *		{ 0 }
 *	};
 *	struct opts o = OPTS_INIT("rollback", NULL, table, args, 1);
 *
 *	if (opts_parse(&o, argc, argv))
 *		return 2;
 *
 * What is accepted:
 *   --name VALUE, --name=VALUE, -x VALUE, -x=VALUE; a flag takes no value.
 *   Options and positional arguments may be mixed; "--" ends the options
 *   (what follows is positional even when it begins with '-'); a lone "-"
 *   (stdin, stdout) is positional.
 *   A value given as the next argument must not look like an option: one
 *   that begins with "--" or with '-' and a letter is refused as missing
 *   (`--to --json` does not eat --json). '-' and a digit is a value (a
 *   negative number, an offset "-05:30"). After '=' anything is the value.
 *   An integer is decimal, an optional sign then digits and nothing else,
 *   within the entry's min..max.
 *
 * What is refused, each with its own message through cmd_bad_usage() (exit
 * status 2): an unknown option, a missing value, a value on a flag, an
 * integer out of range or with trailing junk, a non-list option given twice,
 * more values than a list holds, more positional arguments than args holds.
 *
 * Nothing is written unless the whole command line is accepted: the
 * arguments are checked in a first pass and stored in a second, so a
 * refusal leaves every destination and args as it was.
 *
 * Values point into argv (nothing is allocated or copied).
 */
#ifndef OUTPOST_OPTS_H
#define OUTPOST_OPTS_H

#include <stddef.h>
#include <stdint.h>

enum opt_kind {
	OPT_KIND_FLAG,		/* no value: *(int *)dest = 1 */
	OPT_KIND_STRING,	/* *(const char **)dest = the value */
	OPT_KIND_INT,		/* *(long long *)dest = the value, in min..max */
	OPT_KIND_LIST,		/* ((const char **)dest)[(*count)++]; at most max values */
};

struct opt {
	const char *name;	/* the long name without "--", or NULL */
	char shrt;		/* the short name (-x), or 0 */
	enum opt_kind kind;
	void *dest;
	long long min, max;	/* INT: the range; LIST: the room in dest */
	size_t *count;		/* LIST: how many values dest holds */
	const char *arg;	/* what the value is, for help ("FILE"); NULL for a flag */
	const char *help;	/* one line for the option's help */
};

/* The conditionals check dest's type: a wrong pointer does not compile. */
#define OPT_FLAG(name, shrt, dest, help) \
	{ name, shrt, OPT_KIND_FLAG, 1 ? (dest) : (int *)0, 0, 0, NULL, NULL, help }
#define OPT_STRING(name, shrt, dest, arg, help) \
	{ name, shrt, OPT_KIND_STRING, 1 ? (dest) : (const char **)0, 0, 0, NULL, arg, help }
#define OPT_INT(name, shrt, dest, min, max, arg, help) \
	{ name, shrt, OPT_KIND_INT, 1 ? (dest) : (long long *)0, min, max, NULL, arg, help }
#define OPT_LIST(name, shrt, array, count, arg, help) \
	{ name, shrt, OPT_KIND_LIST, 1 ? (array) : (const char **)0, 0, \
	  (long long)(sizeof(array) / sizeof((array)[0])), 1 ? (count) : (size_t *)0, arg, help }

/* The most entries a table may have (the parser counts each one's uses). */
#define OPTS_MAX 32

struct opts {
	const char *cmd;	/* the command, for cmd_bad_usage(); NULL: the global
				 * options, refused with "(see outpost --help)" */
	const char *sub;	/* the subcommand ("init"): messages begin "init: " */
	const struct opt *opt;	/* the table, ended by a zeroed entry */
	const char **args;	/* the positional arguments go here (NULL: none allowed) */
	int maxargs;		/* room in args */
	int stop;		/* 1: parsing ends at the first positional argument
				 * (the global options before a command) */
	int nargs;		/* out: how many positional arguments */
	int next;		/* out: the index of the first argument not parsed */
};

/* A struct opts for command c (subcommand s, or NULL) with table t and room
 * for n positional arguments in a (NULL, 0 for none). */
#define OPTS_INIT(c, s, t, a, n) \
	{ .cmd = (c), .sub = (s), .opt = (t), .args = (a), .maxargs = (n) }

/*
 * Parse argv[1..argc-1] (argv[0] is the command's name) against o->opt.
 * Returns 0 with the destinations, o->args, o->nargs and o->next set, or
 * the exit status 2 of bad usage after saying why, with nothing written.
 */
int opts_parse(struct opts *o, int argc, char **argv);

/*
 * Refuse the command line in o's words ("CMD: SUB: why"), for what a
 * command checks after opts_parse() (a value only it can parse, an option
 * that is required). Returns the exit status 2.
 */
int opts_refuse(const struct opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * WHEN, an option's value: a UTC time (2027-01-01T00:00:00Z) or a duration
 * from now (90d, 12h, 30m, 45s; at most 100 years). 0 with *out set, or
 * E_USAGE (nothing said).
 */
int opts_when(const char *s, int64_t now, int64_t *out);

#endif
