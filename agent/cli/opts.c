/* opts — one parser for every command's option table (see opts.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "error.h"
#include "meta.h"
#include "opts.h"

int opts_refuse(const struct opts *o, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	int n = 0;

	if (o->sub)
		n = snprintf(why, sizeof(why), "%s: ", o->sub);
	va_start(ap, fmt);
	vsnprintf(why + n, sizeof(why) - (size_t)n, fmt, ap);
	va_end(ap);
	if (!o->cmd) {
		error(E_USAGE, "%s (see outpost --help)", why);
		return 2;
	}
	return cmd_bad_usage(o->cmd, why, NULL);
}

/*
 * The entry that argument a ("--name", "--name=V", "-x", "-x=V") names, or
 * NULL; *val is what follows '=', or NULL when there is no '='.
 */
static const struct opt *opts_find(const struct opt *t, const char *a, const char **val)
{
	const char *eq = strchr(a, '=');
	size_t n = eq ? (size_t)(eq - a) : strlen(a);

	*val = eq ? eq + 1 : NULL;
	for (; t->name || t->shrt; t++) {
		if (a[1] == '-' && t->name && n - 2 == strlen(t->name) &&
		    strncmp(a + 2, t->name, n - 2) == 0)
			return t;
		if (a[1] != '-' && t->shrt && n == 2 && a[1] == t->shrt)
			return t;
	}
	return NULL;
}

/*
 * A value that is given as the next argument but is an option itself: the
 * user forgot the value, and taking the option as it would hide that.
 * '-' and a digit is a number or an offset, a lone '-' is stdin.
 */
static int opts_looks_like_option(const char *v)
{
	return v[0] == '-' && (v[1] == '-' || isalpha((unsigned char)v[1]));
}

/* A decimal integer, an optional sign, nothing after it; 0 or -1. */
static int opts_parse_int(const char *s, long long *out)
{
	const char *d = s + (*s == '-' || *s == '+');
	char *end;

	if (*d < '0' || *d > '9')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/*
 * `outpost CMD [SUB] --help`, for a table without its own "help": the usage
 * line and each option of the table with its one line of help, on stdout;
 * then exit 0 (as git's parse-options does), nothing else having run.
 */
_Noreturn static void opts_help(const struct opts *o)
{
	const struct cmd *c = cmd_find(o->cmd);

	if (o->sub)     /* the command's usage line covers all its subcommands */
		printf("outpost %s %s\n", o->cmd, o->sub);
	else
		printf("usage: outpost %s %s\n", o->cmd, c ? c->usage : "");
	if (o->opt[0].name || o->opt[0].shrt)
		fputs("\noptions:\n", stdout);
	for (const struct opt *e = o->opt; e->name || e->shrt; e++) {
		char left[64];
		int n = 0;

		if (e->shrt)
			n = snprintf(left, sizeof(left), "-%c%s", e->shrt, e->name ? ", " : "");
		if (e->name)
			n += snprintf(left + n, sizeof(left) - (size_t)n, "--%s", e->name);
		if (e->arg)
			snprintf(left + n, sizeof(left) - (size_t)n, " %s", e->arg);
		printf("  %-24s %s%s\n", left, e->help ? e->help : "",
		       e->kind == OPT_KIND_LIST ? " (may be given more than once)" : "");
	}
	fflush(stdout);
	exit(0);
}

/*
 * One pass over argv: with store 0 it only checks (and may refuse), with
 * store 1 it writes what the checking pass accepted, so a refusal leaves
 * the destinations untouched.
 */
static int opts_pass(struct opts *o, int argc, char **argv, int store)
{
	int seen[OPTS_MAX] = { 0 }, nargs = 0, i, dashdash = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val;
		const struct opt *e;
		char name[64];
		long long n = 0;
		int j;

		if (dashdash || a[0] != '-' || a[1] == '\0') {
			if (o->stop)
				break;
			if (nargs >= o->maxargs)
				return opts_refuse(o, "unexpected argument %s", a);
			if (store)
				o->args[nargs] = a;
			nargs++;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			if (o->stop) {
				i++;
				break;
			}
			continue;
		}
		e = opts_find(o->opt, a, &val);
		if (!e && o->cmd && strcmp(a, "--help") == 0)
			opts_help(o);
		if (!e)
			return opts_refuse(o, "unknown option %s", a);
		j = (int)(e - o->opt);
		if (a[1] == '-')
			snprintf(name, sizeof(name), "--%s", e->name);
		else
			snprintf(name, sizeof(name), "-%c", e->shrt);

		if (e->kind == OPT_KIND_FLAG && val)
			return opts_refuse(o, "%s takes no value, not %s", name, val);
		if (e->kind != OPT_KIND_FLAG && !val) {
			if (i + 1 >= argc)
				return opts_refuse(o, "missing value for %s", name);
			if (opts_looks_like_option(argv[i + 1]))
				return opts_refuse(o, "missing value for %s (%s is an option)", name,
						   argv[i + 1]);
			val = argv[++i];
		}
		/* the storing pass has moved *count on by what it stored */
		if (e->kind == OPT_KIND_LIST &&
		    (long long)*e->count + (store ? 0 : seen[j]) >= e->max)
			return opts_refuse(o, "at most %lld %s", e->max, name);
		if (e->kind != OPT_KIND_LIST && seen[j])
			return opts_refuse(o, "%s given twice", name);
		if (e->kind == OPT_KIND_INT &&
		    (opts_parse_int(val, &n) || n < e->min || n > e->max)) {
			if (e->max == LLONG_MAX)
				return opts_refuse(o, "%s takes a number from %lld, not %s", name,
						   e->min, val);
			return opts_refuse(o, "%s takes %lld to %lld, not %s", name, e->min, e->max,
					   val);
		}
		seen[j]++;
		if (!store)
			continue;
		switch (e->kind) {
		case OPT_KIND_FLAG:
			*(int *)e->dest = 1;
			break;
		case OPT_KIND_STRING:
			*(const char **)e->dest = val;
			break;
		case OPT_KIND_INT:
			*(long long *)e->dest = n;
			break;
		case OPT_KIND_LIST:
			((const char **)e->dest)[(*e->count)++] = val;
			break;
		}
	}
	if (store) {
		o->nargs = nargs;
		o->next = i;
	}
	return 0;
}

int opts_parse(struct opts *o, int argc, char **argv)
{
	int n = 0, rc;

	while (o->opt[n].name || o->opt[n].shrt)
		n++;
	if (n > OPTS_MAX)
		die("opts: the table of %s has %d entries, more than %d",
		    o->cmd ? o->cmd : "outpost", n, OPTS_MAX);
	rc = opts_pass(o, argc, argv, 0);
	if (!rc)
		rc = opts_pass(o, argc, argv, 1);
	return rc;
}

int opts_when(const char *s, int64_t now, int64_t *out)
{
	char *end;
	long long n;
	int64_t unit;

	if (meta_time_parse(s, out) == 0)
		return 0;
	n = strtoll(s, &end, 10);
	if (end == s || n <= 0 || end[0] == '\0' || end[1] != '\0')
		return E_USAGE;
	unit = end[0] == 'd' ? 86400 : end[0] == 'h' ? 3600 : end[0] == 'm' ? 60 :
	       end[0] == 's' ? 1 : 0;
	if (!unit || n > (int64_t)100 * 365 * 86400 / unit)
		return E_USAGE;
	*out = now + n * unit;
	return 0;
}
