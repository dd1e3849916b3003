/*
 * rx — the small regular expressions SOPS files record (encrypted_regex,
 * unencrypted_regex: in practice `^(data|stringData)$`), matched as Go's
 * regexp.MatchString does: anywhere in the string unless anchored.
 *
 * Accepted: literals, `.`, `^`, `$`, `|`, `( )`, `(?: )`, `[...]` with
 * ranges and `^` negation, `*`, `+`, `?`, and the escapes `\d \D \w \W \s
 * \S` and `\` before punctuation. Anything else (counted repeats `{n}`,
 * flags, backreferences, Unicode classes) is refused when compiled, so a
 * pattern is never read differently from what sops meant. Matching is a
 * Pike VM (Thompson NFA): time linear in the string, no backtracking.
 * It replaces libc's regcomp, which costs the binary about 35 KB.
 */
#ifndef OUTPOST_RX_H
#define OUTPOST_RX_H

#define RX_MAX_INSN 256
#define RX_MAX_CLASSES 16

struct rx_insn {
	unsigned char op, c;
	short x, y;
};

struct rx {
	struct rx_insn insn[RX_MAX_INSN];
	int n;
	unsigned char classes[RX_MAX_CLASSES][32];
	int nclasses;
};

/* Compile pattern into r. 0, or E_UNSUPPORTED / E_FORMAT / E_LIMIT (*why set; not logged). */
int rx_compile(struct rx *r, const char *pattern, const char **why);

/* 1 when r matches somewhere in s, 0 when not. */
int rx_match(const struct rx *r, const char *s);

#endif
