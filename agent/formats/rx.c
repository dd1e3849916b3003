/* rx — see rx.h. Compiled to a program as in Thompson's construction. */
#include <string.h>

#include "error.h"
#include "rx.h"

enum { OP_CHAR, OP_ANY, OP_CLASS, OP_SPLIT, OP_JMP, OP_BOL, OP_EOL, OP_MATCH };

#define RX_DEPTH_MAX 32

struct cc {
	struct rx *r;
	const char *p;
	const char *why;
	int depth;
};

static int fail(struct cc *c, const char *why)
{
	if (!c->why)
		c->why = why;
	return -1;
}

static int emit(struct cc *c, int op, int ch, int x, int y)
{
	struct rx *r = c->r;

	if (r->n == RX_MAX_INSN)
		return fail(c, "the regular expression is too long");
	r->insn[r->n] = (struct rx_insn){ (unsigned char)op, (unsigned char)ch, (short)x, (short)y };
	return r->n++;
}

/*
 * Insert an instruction at at, moving what follows. Jumps past at move
 * with the code; a jump to at itself moves only when it comes from the
 * moved code (a loop inside it), not when it leads into it from before.
 */
static int insert(struct cc *c, int at, int op, int x, int y)
{
	struct rx *r = c->r;

	if (r->n == RX_MAX_INSN)
		return fail(c, "the regular expression is too long");
	memmove(&r->insn[at + 1], &r->insn[at], (size_t)(r->n - at) * sizeof(r->insn[0]));
	r->n++;
	for (int i = 0; i < r->n; i++) {
		struct rx_insn *in = &r->insn[i];
		int inside = i > at;

		if (i == at || (in->op != OP_SPLIT && in->op != OP_JMP))
			continue;
		if (in->x > at || (in->x == at && inside))
			in->x++;
		if (in->op == OP_SPLIT && (in->y > at || (in->y == at && inside)))
			in->y++;
	}
	r->insn[at] = (struct rx_insn){ (unsigned char)op, 0, (short)x, (short)y };
	return at;
}

static void set_bit(unsigned char *set, int ch)
{
	set[(unsigned char)ch >> 3] |= (unsigned char)(1u << (ch & 7));
}

/* \d \w \s into set; 0, or -1 when e is not one of them */
static int perl_class(unsigned char *set, char e)
{
	unsigned char tmp[32] = { 0 };
	char lower = (char)(e | 0x20);

	for (int ch = 0; ch < 256; ch++)
		if ((lower == 'd' && ch >= '0' && ch <= '9') ||
		    (lower == 'w' && ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
				      (ch >= 'A' && ch <= 'Z') || ch == '_')) ||
		    (lower == 's' && (ch == ' ' || (ch >= '\t' && ch <= '\r' && ch != '\v'))))
			set_bit(tmp, ch);
	if (lower != 'd' && lower != 'w' && lower != 's')
		return -1;
	for (int i = 0; i < 32; i++)
		set[i] |= e == lower ? tmp[i] : (unsigned char)~tmp[i];
	return 0;
}

static int is_punct(char ch)
{
	return ch && strchr("\\.+*?()|[]{}^$-/#&~:=!<>,'\"@%;`", ch) != NULL;
}

static int new_class(struct cc *c)
{
	struct rx *r = c->r;

	if (r->nclasses == RX_MAX_CLASSES)
		return fail(c, "the regular expression has too many classes");
	memset(r->classes[r->nclasses], 0, 32);
	return emit(c, OP_CLASS, r->nclasses++, 0, 0);
}

/* [...] after the '[' */
static int bracket(struct cc *c)
{
	int at = new_class(c), neg = 0, first = 1;
	unsigned char *set;

	if (at < 0)
		return -1;
	set = c->r->classes[c->r->insn[at].c];
	if (*c->p == '^')
		neg = 1, c->p++;
	while (*c->p && (*c->p != ']' || first)) {
		int lo = (unsigned char)*c->p++, hi;

		first = 0;
		if (lo == '[' && *c->p == ':')
			return fail(c, "POSIX classes [[:name:]] are not supported");
		if (lo == '\\') {
			if (perl_class(set, *c->p) == 0) {
				c->p++;
				continue;
			}
			if (!is_punct(*c->p))
				return fail(c, "an escape outpost does not read");
			lo = (unsigned char)*c->p++;
		}
		hi = lo;
		if (c->p[0] == '-' && c->p[1] && c->p[1] != ']') {
			hi = (unsigned char)c->p[1];
			c->p += 2;
			if (hi == '\\') {
				if (!is_punct(*c->p))
					return fail(c, "an escape outpost does not read");
				hi = (unsigned char)*c->p++;
			}
			if (hi < lo)
				return fail(c, "a class range is backwards");
		}
		for (int ch = lo; ch <= hi; ch++)
			set_bit(set, ch);
	}
	if (*c->p != ']')
		return fail(c, "a class without its ']'");
	c->p++;
	if (neg)
		for (int i = 0; i < 32; i++)
			set[i] = (unsigned char)~set[i];
	return at;
}

static int alt(struct cc *c);

static int atom(struct cc *c)
{
	char ch = *c->p++;
	int at;

	switch (ch) {
	case '(':
		if (c->p[0] == '?' && c->p[1] == ':')
			c->p += 2;
		else if (c->p[0] == '?')
			return fail(c, "flags and named groups are not supported");
		if (++c->depth > RX_DEPTH_MAX)
			return fail(c, "groups nested too deep");
		at = c->r->n;
		if (alt(c) < 0)
			return -1;
		c->depth--;
		if (*c->p != ')')
			return fail(c, "a group without its ')'");
		c->p++;
		return at;
	case '[':
		return bracket(c);
	case '.':
		return emit(c, OP_ANY, 0, 0, 0);
	case '^':
		return emit(c, OP_BOL, 0, 0, 0);
	case '$':
		return emit(c, OP_EOL, 0, 0, 0);
	case '*': case '+': case '?':
		return fail(c, "a repeat with nothing to repeat");
	case '{': case '}':
		return fail(c, "counted repeats {n,m} are not supported");
	case '\\':
		if (!*c->p)
			return fail(c, "a trailing backslash");
		if (strchr("dDwWsS", *c->p)) {
			at = new_class(c);
			if (at >= 0)
				perl_class(c->r->classes[c->r->insn[at].c], *c->p++);
			return at;
		}
		if (!is_punct(*c->p))
			return fail(c, "an escape outpost does not read (\\b, \\A, \\p, \\1, ...)");
		ch = *c->p++;
		/* fall through */
	default:
		return emit(c, OP_CHAR, (unsigned char)ch, 0, 0);
	}
}

/* atom, then at most one of * + ? (a lazy '?' after it changes no match) */
static int repeat(struct cc *c)
{
	int at = atom(c), j;
	char q = *c->p;

	if (at < 0 || (q != '*' && q != '+' && q != '?'))
		return at;
	c->p++;
	if (*c->p == '?')
		c->p++;
	if (*c->p == '*' || *c->p == '+' || (*c->p == '?'))
		return fail(c, "a repeat of a repeat");
	if (q == '+')
		return emit(c, OP_SPLIT, 0, at, c->r->n + 1) < 0 ? -1 : at;
	if (insert(c, at, OP_SPLIT, at + 1, 0) < 0)
		return -1;
	if (q == '*' && (j = emit(c, OP_JMP, 0, at, 0)) < 0)
		return -1;
	c->r->insn[at].y = (short)c->r->n;
	return at;
}

static int concat(struct cc *c)
{
	int start = c->r->n;

	while (*c->p && *c->p != '|' && *c->p != ')')
		if (repeat(c) < 0)
			return -1;
	return start;
}

static int alt(struct cc *c)
{
	int start = concat(c), j;

	if (start < 0 || *c->p != '|')
		return start;
	c->p++;
	if (insert(c, start, OP_SPLIT, start + 1, 0) < 0 || (j = emit(c, OP_JMP, 0, 0, 0)) < 0)
		return -1;
	c->r->insn[start].y = (short)c->r->n;
	if (alt(c) < 0)
		return -1;
	c->r->insn[j].x = (short)c->r->n;
	return start;
}

int rx_compile(struct rx *r, const char *pattern, const char **why)
{
	struct cc c = { r, pattern, NULL, 0 };

	memset(r, 0, sizeof(*r));
	if (alt(&c) < 0 || (*c.p && fail(&c, "a ')' without its group")) ||
	    emit(&c, OP_MATCH, 0, 0, 0) < 0) {
		*why = c.why;
		return E_UNSUPPORTED;
	}
	return 0;
}

struct vm {
	const struct rx *r;
	size_t len;
	unsigned short list[2][RX_MAX_INSN];
	int n[2];
	unsigned mark[RX_MAX_INSN];
	int matched;
};

static void add(struct vm *v, int l, int pc, size_t pos, unsigned gen)
{
	const struct rx_insn *in = &v->r->insn[pc];

	if (v->mark[pc] == gen)
		return;
	v->mark[pc] = gen;
	switch (in->op) {
	case OP_JMP:
		add(v, l, in->x, pos, gen);
		break;
	case OP_SPLIT:
		add(v, l, in->x, pos, gen);
		add(v, l, in->y, pos, gen);
		break;
	case OP_BOL:
		if (pos == 0)
			add(v, l, pc + 1, pos, gen);
		break;
	case OP_EOL:
		if (pos == v->len)
			add(v, l, pc + 1, pos, gen);
		break;
	case OP_MATCH:
		v->matched = 1;
		break;
	default:
		v->list[l][v->n[l]++] = (unsigned short)pc;
	}
}

int rx_match(const struct rx *r, const char *s)
{
	struct vm v = { .r = r, .len = strlen(s) };
	unsigned gen = 1;
	int cur = 0;

	add(&v, cur, 0, 0, gen);
	for (size_t pos = 0; !v.matched && pos < v.len; pos++) {
		unsigned char ch = (unsigned char)s[pos];
		int next = !cur;

		gen++;
		v.n[next] = 0;
		for (int i = 0; i < v.n[cur]; i++) {
			const struct rx_insn *in = &r->insn[v.list[cur][i]];
			int ok = in->op == OP_CHAR ? in->c == ch :
				 in->op == OP_ANY ? ch != '\n' :
				 (r->classes[in->c][ch >> 3] >> (ch & 7)) & 1;

			if (ok)
				add(&v, next, v.list[cur][i] + 1, pos + 1, gen);
		}
		/* unanchored: a match may start at every position */
		add(&v, next, 0, pos + 1, gen);
		cur = next;
	}
	return v.matched;
}
