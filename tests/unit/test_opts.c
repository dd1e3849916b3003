/* Unit tests: agent/cli/opts, the option tables every command parses with. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "opts.h"
#include "tap.h"

/* What every test parses into; reset() before each command line. */
static int json, force;
static const char *name, *files[3], *args[2];
static long long num;
static size_t nfiles;
static char said[1024];

static const struct opt table[] = {
	OPT_FLAG("json", 0, &json, "print JSON"),
	OPT_FLAG("force", 'F', &force, "do it anyway"),
	OPT_STRING("name", 'o', &name, "NAME", "a name"),
	OPT_INT("num", 'n', &num, -10, 100, "N", "a number"),
	OPT_LIST("file", 'f', files, &nfiles, "FILE", "a file, up to three"),
	{ 0 }
};

static void reset(void)
{
	json = force = 0;
	name = NULL;
	num = 7;
	nfiles = 0;
	memset(files, 0, sizeof(files));
	memset(args, 0, sizeof(args));
	said[0] = '\0';
}

/* Parse the NULL-ended argv with o; what was said on stderr goes to said. */
static int parse_with(struct opts *o, char **argv)
{
	int argc = 0, rc;

	while (argv[argc])
		argc++;
	tap_capture_begin();
	rc = opts_parse(o, argc, argv);
	snprintf(said, sizeof(said), "%s", tap_capture_end());
	return rc;
}

static int parse(char **argv)
{
	struct opts o = OPTS_INIT("history", NULL, table, args, 2);

	return parse_with(&o, argv);
}

/* Nothing was written: the destinations are as reset() left them. */
static int untouched(void)
{
	return !json && !force && !name && num == 7 && !nfiles && !files[0] && !args[0];
}

static void test_kinds(void)
{
	reset();
	check_int(parse((char *[]){ "t", "--json", "-F", "--name", "web", "-n", "42",
				   "-f", "a", "--file", "b", "--file=c", NULL }), ==, 0);
	check_int(json, ==, 1);
	check_int(force, ==, 1);
	check_str(name, "web");
	check_int(num, ==, 42);
	check_int(nfiles, ==, 3);
	check_str(files[0], "a");
	check_str(files[1], "b");
	check_str(files[2], "c");
	check_str(said, "");

	/* --x=v and -x=v are --x v */
	reset();
	check_int(parse((char *[]){ "t", "--name=db", "--num=-3", NULL }), ==, 0);
	check_str(name, "db");
	check_int(num, ==, -3);
	reset();
	check_int(parse((char *[]){ "t", "-o=x", "-n=100", NULL }), ==, 0);
	check_str(name, "x");
	check_int(num, ==, 100);

	/* after '=' anything is the value, even what looks like an option */
	reset();
	check_int(parse((char *[]){ "t", "--name=--json", NULL }), ==, 0);
	check_str(name, "--json");
	check_int(json, ==, 0);
	reset();
	check_int(parse((char *[]){ "t", "--name=", NULL }), ==, 0);
	check_str(name, "");

	/* a lone '-' (stdin) and '-' with a digit (an offset, a number) are values */
	reset();
	check_int(parse((char *[]){ "t", "--name", "-", "--file", "-05:30", "-n", "-10",
				   NULL }), ==, 0);
	check_str(name, "-");
	check_str(files[0], "-05:30");
	check_int(num, ==, -10);
}

static void test_positional(void)
{
	struct opts o = OPTS_INIT("history", NULL, table, args, 2);

	reset();
	check_int(parse_with(&o, (char *[]){ "t", "app", "--json", "-", NULL }), ==, 0);
	check_int(o.nargs, ==, 2);
	check_str(args[0], "app");
	check_str(args[1], "-");
	check_int(json, ==, 1);
	check_int(o.next, ==, 4);

	/* "--" ends the options */
	reset();
	check_int(parse_with(&o, (char *[]){ "t", "--json", "--", "--force", NULL }), ==, 0);
	check_int(o.nargs, ==, 1);
	check_str(args[0], "--force");
	check_int(force, ==, 0);
	check_int(json, ==, 1);

	/* none at all */
	reset();
	check_int(parse_with(&o, (char *[]){ "t", NULL }), ==, 0);
	check_int(o.nargs, ==, 0);
	check_int(o.next, ==, 1);
}

/* The global options: parsing ends at the command, its options are its own. */
static void test_stop(void)
{
	struct opts o = OPTS_INIT(NULL, NULL, table, NULL, 0);

	o.stop = 1;
	reset();
	check_int(parse_with(&o, (char *[]){ "outpost", "--name", "c.yaml", "status", "--json",
					    NULL }), ==, 0);
	check_str(name, "c.yaml");
	check_int(json, ==, 0);
	check_int(o.next, ==, 3);
	reset();
	check_int(parse_with(&o, (char *[]){ "outpost", "--", "--json", NULL }), ==, 0);
	check_int(o.next, ==, 2);
	check_int(json, ==, 0);
	reset();
	check_int(parse_with(&o, (char *[]){ "outpost", "--bogus", "status", NULL }), ==, 2);
	check(strstr(said, "unknown option --bogus (see outpost --help)") != NULL);
	check(strstr(said, "usage:") == NULL);
}

/* Each refusal: exit status 2, its own message, the usage, nothing written. */
static void refused(char **argv, const char *why)
{
	reset();
	check_int(parse(argv), ==, 2);
	if (!check(strstr(said, why) != NULL))
		tap_diag("wanted \"%s\" in: %s", why, said);
	check(strstr(said, "usage: outpost history") != NULL);
	check(untouched());
}

static void test_refusals(void)
{
	refused((char *[]){ "t", "--bogus", NULL }, "history: unknown option --bogus");
	refused((char *[]){ "t", "-x", NULL }, "unknown option -x");
	/* no abbreviations: a prefix is not the option */
	refused((char *[]){ "t", "--jso", NULL }, "unknown option --jso");
	refused((char *[]){ "t", "--json", "--jsonx", NULL }, "unknown option --jsonx");
	refused((char *[]){ "t", "--name", NULL }, "missing value for --name");
	refused((char *[]){ "t", "-n", NULL }, "missing value for -n");
	/* the value must not be swallowed when it is the next option */
	refused((char *[]){ "t", "--name", "--json", NULL },
		"missing value for --name (--json is an option)");
	refused((char *[]){ "t", "-n", "-F", NULL }, "missing value for -n (-F is an option)");
	refused((char *[]){ "t", "--json=yes", NULL }, "--json takes no value, not yes");
	refused((char *[]){ "t", "-n", "101", NULL }, "-n takes -10 to 100, not 101");
	refused((char *[]){ "t", "--num=-11", NULL }, "--num takes -10 to 100, not -11");
	refused((char *[]){ "t", "-n", "5x", NULL }, "-n takes -10 to 100, not 5x");
	refused((char *[]){ "t", "-n", "", NULL }, "-n takes -10 to 100, not ");
	refused((char *[]){ "t", "-n", " 5", NULL }, "-n takes -10 to 100, not  5");
	refused((char *[]){ "t", "-n", "0x10", NULL }, "not 0x10");
	refused((char *[]){ "t", "-n", "99999999999999999999", NULL },
		"not 99999999999999999999");
	refused((char *[]){ "t", "--name", "a", "-o", "b", NULL }, "-o given twice");
	refused((char *[]){ "t", "--json", "--json", NULL }, "--json given twice");
	refused((char *[]){ "t", "-n", "1", "--num=1", NULL }, "--num given twice");
	refused((char *[]){ "t", "-f", "1", "-f", "2", "-f", "3", "-f", "4", NULL },
		"at most 3 -f");
	refused((char *[]){ "t", "a", "b", "c", NULL }, "unexpected argument c");
	/* a refusal late on the line: what came before it is not written either */
	refused((char *[]){ "t", "--json", "-o", "x", "-f", "a", "app", "-n", "1000", NULL },
		"-n takes -10 to 100, not 1000");
}

static void test_words(void)
{
	const struct opt big[] = {
		OPT_INT("to", 0, &num, 1, LLONG_MAX, "SEQ", "a sequence"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("root", "init", big, NULL, 0);

	/* a subcommand's messages name it; an unbounded range says "from" */
	reset();
	check_int(parse_with(&o, (char *[]){ "init", "--to", "0", NULL }), ==, 2);
	check(strstr(said, "root: init: --to takes a number from 1, not 0") != NULL);
	check_int(num, ==, 7);
	reset();
	check_int(parse_with(&o, (char *[]){ "init", "--to", "9223372036854775807", NULL }), ==, 0);
	check_int(num, ==, LLONG_MAX);
	reset();
	check_int(parse_with(&o, (char *[]){ "init", "extra", NULL }), ==, 2);
	check(strstr(said, "root: init: unexpected argument extra") != NULL);

	/* what a command checks itself is said the same way */
	tap_capture_begin();
	check_int(opts_refuse(&o, "bad value for --expires %s", "2x"), ==, 2);
	snprintf(said, sizeof(said), "%s", tap_capture_end());
	check(strstr(said, "root: init: bad value for --expires 2x") != NULL);
	check(strstr(said, "usage: outpost root") != NULL);
}

/* A list keeps what it held: *count is where the values go on. */
static void test_list_appends(void)
{
	const char *more[2] = { "kept", NULL };
	size_t n = 1;
	const struct opt t[] = {
		OPT_LIST("key", 0, more, &n, "KEY", "a key"),
		{ 0 }
	};
	struct opts o = OPTS_INIT("history", NULL, t, NULL, 0);

	check_int(parse_with(&o, (char *[]){ "t", "--key", "k2", NULL }), ==, 0);
	check_int(n, ==, 2);
	check_str(more[0], "kept");
	check_str(more[1], "k2");
	check_int(parse_with(&o, (char *[]){ "t", "--key", "k3", NULL }), ==, 2);
	check(strstr(said, "at most 2 --key") != NULL);
	check_int(n, ==, 2);
}

int main(void)
{
	test_kinds();
	test_positional();
	test_stop();
	test_refusals();
	test_words();
	test_list_appends();
	return tap_done();
}
